// The transport interface: one asynchronous SCSI initiator session (an I_T
// nexus) to one target port. The iSCSI transport (libiscsi) and the sim
// connector (in-process, to src/array) both implement it; the engine uses
// nothing else, so it does not change when a transport is added.
//
// Threading and completion guarantees (the engine relies on each):
//  - A TransportNexus is bound to one Executor. Every method is called on that
//    executor's thread, and every callback runs on it.
//  - A callback never runs inside the call that registered it (no re-entry):
//    Submit, AbortTask, LogicalUnitReset, Connect and Logout always complete
//    later, through the executor — even when they fail at once.
//  - Every submitted command completes exactly once, whatever happens to the
//    connection, unless the nexus is destroyed first (then none complete;
//    destroy only after Logout's callback or with nothing outstanding).
//  - Submit does not allocate in the steady state and does not block.
//  - Buffers (Command::data_in / data_out) must stay valid until completion.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>

#include "openmpio/status.h"
#include "scsi/cdb.h"

namespace openmpio::transport {

// Names the I_T nexus, as DsmPathId is computed from it (dsm/topology.h).
struct NexusAddress {
  std::string initiator_name;
  std::uint64_t isid = 0;  // 48 bits used
  std::string target_name;
  std::uint16_t portal_group_tag = 0;
  std::string portal;  // "127.0.0.1:3260", or "sim:<port>"
};

enum class Direction : std::uint8_t { kNone, kFromDevice, kToDevice };

struct Command {
  std::uint64_t lun = 0;
  scsi::Cdb cdb;
  Direction direction = Direction::kNone;
  std::span<std::byte> data_in;         // kFromDevice: room for the data-in
  std::span<const std::byte> data_out;  // kToDevice: the data-out
  std::uint32_t timeout_ms = 0;         // 0: the nexus's default command timeout
};

// What became of a command.
enum class Outcome : std::uint8_t {
  kCompleted,       // the target answered: status, sense and data are valid
  kConnectionLost,  // the connection failed with the command outstanding:
                    // it may still reach the target (fence writes)
  kTimeout,         // no answer in time; it may still reach the target (fence)
  kNotSent,         // refused before anything was sent (nexus down): never
                    // reached the target, safe to re-dispatch without a fence
  kAborted,         // ended by our ABORT TASK / LU reset, confirmed by the
                    // target: it did not and will not execute (a fence)
  kAbandoned,       // we stopped waiting (Abandon): it may still reach the
                    // target (fence writes); a late answer is dropped
};

const char* OutcomeName(Outcome o) noexcept;

inline constexpr std::size_t kMaxSenseLength = 252;  // SPC-4 4.5.1

struct Result {
  Outcome outcome = Outcome::kCompleted;
  scsi::ScsiStatus status = scsi::ScsiStatus::kGood;
  std::uint8_t sense_length = 0;
  std::array<std::byte, kMaxSenseLength> sense{};
  std::uint32_t data_in_length = 0;  // bytes of data-in actually transferred

  [[nodiscard]] std::span<const std::byte> sense_bytes() const {
    return {sense.data(), sense_length};
  }
};

using TaskTag = std::uint64_t;  // never 0; unique per nexus

// Called exactly once per submitted command, on the nexus's executor. A plain
// function pointer and a context, so submitting allocates nothing.
using CompletionFn = void (*)(void* context, TaskTag tag, const Result& result);

// Task management (SAM-5 7): the answer of the target, or why there is none.
enum class TmfResponse : std::uint8_t {
  kFunctionComplete,  // done: the task(s) will not execute (a fence)
  kTaskDoesNotExist,  // the target does not hold the task (it completed, or
                      // never arrived: with iSCSI RefCmdSN it is discarded on
                      // arrival, so this is a fence too — see DESIGN.md)
  kLunDoesNotExist,
  kRejected,
  kFailed,        // the target answered but could not do it
  kNotConnected,  // could not be sent: NOT a fence
  kTimeout,       // no answer: NOT a fence
};

const char* TmfResponseName(TmfResponse r) noexcept;
// True when the answer proves the referenced task(s) will never execute.
[[nodiscard]] bool IsFence(TmfResponse r) noexcept;

using TmfCallback = std::function<void(TmfResponse)>;
using StatusCallback = std::function<void(const Status&)>;

enum class NexusState : std::uint8_t {
  kDisconnected,  // never connected, or logged out
  kConnecting,
  kConnected,
  kFailed,  // the connection was lost; Connect() again to recover
};

const char* NexusStateName(NexusState s) noexcept;

// Told on the executor when the nexus state changes by itself (connection
// lost); not for changes the caller asked for and got a callback about.
using StateListener = std::function<void(NexusState)>;

class TransportNexus {
 public:
  virtual ~TransportNexus() = default;

  [[nodiscard]] virtual const NexusAddress& address() const = 0;
  [[nodiscard]] virtual NexusState state() const = 0;
  virtual void SetStateListener(StateListener listener) = 0;

  // Logs in (a new session; after a failure, session reinstatement: the old
  // session's commands that the target still held are discarded — a fence
  // for them, reported through their completions as kAborted where the
  // transport can tell, else they already completed kConnectionLost).
  virtual void Connect(StatusCallback done) = 0;
  // Logs out. New commands are refused (kNotSent) from the call on; those
  // in flight complete first — answered (kCompleted) when the target answers
  // them before the logout's bound, else kAborted or kConnectionLost.
  virtual void Logout(StatusCallback done) = 0;

  // Sends a command. Always completes through fn, later (see the file comment).
  virtual TaskTag Submit(const Command& command, CompletionFn fn, void* context) = 0;

  // ABORT TASK for tag, with the RefCmdSN semantics of RFC 7143 11.5.1.
  virtual void AbortTask(TaskTag tag, TmfCallback done) = 0;
  // LOGICAL UNIT RESET for lun: every task of that LU, from every nexus, that
  // the target has received is aborted.
  virtual void LogicalUnitReset(std::uint64_t lun, TmfCallback done) = 0;
  // Stops waiting for a command (the engine's hedge of a hung path): unless
  // it completed already, it completes soon — later, through the executor —
  // with kAbandoned, and nothing of a late answer reaches its data_in. The
  // target may still execute it: harmless for a read, a copy of unknown fate
  // for a write (the engine fences it). Nothing is sent; an unknown or
  // completed tag is ignored.
  virtual void Abandon(TaskTag tag) = 0;
};

}  // namespace openmpio::transport

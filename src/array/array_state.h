// The array's internal state and the handlers' shared vocabulary. Not a
// public header: the engine and the sim transport use array.h only.
//
// Threading: Array's public methods take `mu` and then call the handlers
// below, which touch the state freely; nothing here locks.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "array/array.h"
#include "array/storage.h"
#include "array/write_cache.h"
#include "scsi/block_commands.h"
#include "scsi/sense.h"

namespace openmpio::array {

struct GroupAlua {
  AsymmetricAccessState state = AsymmetricAccessState::kActiveOptimized;
  // An implicit transition in progress: `state` is Transitioning until
  // `deadline`, then becomes *pending.
  std::optional<AsymmetricAccessState> pending;
  TimePoint deadline{};
  std::uint8_t status_code = 0;  // RTPG STATUS CODE (SPC-4 6.36 table 168)
};

struct LuState {
  LuConfig config;
  std::uint64_t blocks = 0;  // current capacity (SetCapacity changes it)
  std::unique_ptr<BlockStore> store;
  WriteCache cache;
  std::map<std::uint16_t, GroupAlua> groups;  // every group of the target
  std::uint16_t preferred_group = 0;
  std::vector<std::byte> naa;  // 16 bytes, NAA 6 (SPC-4 7.8.6.6.5)
  std::string serial;
};

struct NexusState {
  std::uint16_t port = 0;
  std::string initiator;
  std::uint64_t isid = 0;
  // Pending unit attentions per LU, oldest first (SAM-5 5.14).
  std::map<std::uint64_t, std::deque<scsi::AscAscq>> unit_attentions;
};

struct PortState {
  std::uint16_t target_port_group = 0;
  PortCounters counters;
};

struct ActiveFault {
  FaultId id = 0;
  FaultSpec spec;
  std::uint32_t remaining = 0;  // 0 with spec.count 0: unlimited
  TimePoint deadline{};         // kTransitionStorm
};

struct Array::State {
  ArrayConfig config;
  mutable std::mutex mu;
  std::map<std::uint16_t, PortState> ports;                    // by relative target port
  std::map<std::uint16_t, std::vector<std::uint16_t>> groups;  // group -> its ports, ascending
  std::map<std::uint64_t, LuState> lus;
  std::map<ItNexusId, NexusState> nexuses;
  ItNexusId next_nexus = 1;
  std::vector<ActiveFault> faults;
  FaultId next_fault = 1;
  std::mt19937_64 rng;
};
using ArrayState = Array::State;

// One command on its way through Execute.
struct Command {
  const CommandRequest& request;
  TimePoint now;
  std::uint16_t port = 0;
  std::uint16_t group = 0;
  LuState* lu = nullptr;  // null: no such LU
  CommandResponse& response;
};

// What the ALUA enforcement of spec/scsi-alua.md groups commands into.
enum class CommandClass : std::uint8_t {
  kManagement,  // INQUIRY, REPORT LUNS, RTPG, STPG, REQUEST SENSE: every state
  kModeSense,   // MODE SENSE: also Standby (SPC-4 5.15.2.4.4)
  kMedia,       // TEST UNIT READY, READ/WRITE/WRITE SAME/UNMAP/SYNC CACHE, READ CAPACITY
  kUnknown,     // not an opcode we serve: ILLEGAL REQUEST 20/00 in every state
};
[[nodiscard]] CommandClass ClassOf(std::uint8_t opcode) noexcept;

// ---- responses (response.cpp) ------------------------------------------------------
void CheckCondition(CommandResponse& r, const scsi::SenseSpec& sense);
// ILLEGAL REQUEST with the sense-key specific field pointer (SPC-4 4.5.2.4.2)
// for 24/00 and 26/00; 20/00 and 1A/00 carry none.
void IllegalRequest(CommandResponse& r, const scsi::IllegalRequestSense& s);
void IllegalField(CommandResponse& r, std::uint8_t asc, bool in_cdb, std::uint16_t field_pointer);
// GOOD with `full` bytes of data-in of which the encoder wrote what fits in
// min(data_in, allocation length).
void GoodWithData(CommandResponse& r, std::size_t full, std::size_t room);
[[nodiscard]] std::size_t Room(const CommandRequest& req, std::uint64_t allocation_length);

// ---- ALUA (access_state.cpp) -----------------------------------------------------
// Completes implicit transitions and expires timed faults due by `now`.
void AdvanceTime(ArrayState& s, TimePoint now);
// The NOT READY code a command of this class gets in `state`, or nullopt.
[[nodiscard]] std::optional<scsi::AscAscq> AluaRefusal(AsymmetricAccessState state,
                                                       CommandClass c) noexcept;
[[nodiscard]] scsi::SupportedStates SupportedStatesOf(const ArrayConfig& c) noexcept;
void HandleRtpg(ArrayState& s, Command& cmd, const scsi::RtpgCdb& cdb);
void HandleStpg(ArrayState& s, Command& cmd, const scsi::StpgCdb& cdb);
[[nodiscard]] Status ChangeGroupState(ArrayState& s, std::uint64_t lun, std::uint16_t group,
                                      AsymmetricAccessState state, TimePoint now,
                                      bool implicit_transition);

// ---- unit attentions (unit_attention.cpp) ------------------------------------------
// Queues `code` for `lun` on every nexus except `except` (0: none). A reset
// (29/xx) replaces what is pending: SAM-5 lets it hide older conditions, and
// the engine refreshes ALUA on any 29/xx (spec/scsi-alua.md).
void QueueUnitAttention(ArrayState& s, std::uint64_t lun, scsi::AscAscq code, ItNexusId except = 0);
void QueueUnitAttention(NexusState& n, std::uint64_t lun, scsi::AscAscq code);
// Takes the oldest pending UA of (nexus, lun).
[[nodiscard]] std::optional<scsi::AscAscq> TakeUnitAttention(NexusState& n, std::uint64_t lun);

// ---- identity pages (identity.cpp) ------------------------------------------------
void HandleInquiry(ArrayState& s, Command& cmd, const scsi::InquiryCdb& cdb);
void HandleReportLuns(ArrayState& s, Command& cmd, const scsi::ReportLunsCdb& cdb);

// ---- block commands (block_io.cpp) ------------------------------------------------
void HandleRead(ArrayState& s, Command& cmd, const scsi::Read16Cdb& cdb);
void HandleWrite(ArrayState& s, Command& cmd, const scsi::Write16Cdb& cdb);
void HandleWriteSame(ArrayState& s, Command& cmd, const scsi::WriteSame16Cdb& cdb);
void HandleUnmap(ArrayState& s, Command& cmd, const scsi::UnmapCdb& cdb);
void HandleSynchronizeCache(ArrayState& s, Command& cmd, const scsi::SynchronizeCache16Cdb& cdb);
void HandleReadCapacity(ArrayState& s, Command& cmd, const scsi::ReadCapacity16Cdb& cdb);
void HandleModeSense(ArrayState& s, Command& cmd, const scsi::ModeSense10Cdb& cdb);

// ---- faults (faults.cpp) ----------------------------------------------------------
[[nodiscard]] Status ValidateFault(const ArrayState& s, const FaultSpec& f);
// A BUSY / TASK SET FULL fault that hits this command (before the task set).
[[nodiscard]] std::optional<scsi::ScsiStatus> StatusFault(ArrayState& s, const Command& cmd,
                                                          CommandClass c);
// A sense or 04/0A storm fault that hits this command (after enforcement).
[[nodiscard]] std::optional<scsi::SenseSpec> SenseFault(ArrayState& s, const Command& cmd,
                                                        CommandClass c);
// Damages the blocks of a READ that a corrupt-on-read fault covers.
void CorruptRead(ArrayState& s, const Command& cmd, std::uint64_t lba, scsi::MutableBytes data);

// ---- config (config.cpp) ----------------------------------------------------------
// CheckConfig is public (array.h).
[[nodiscard]] std::vector<std::byte> NaaDesignator(const ArrayConfig& c, std::uint64_t lun);
[[nodiscard]] std::string DefaultSerial(const ArrayConfig& c, std::uint64_t lun);

}  // namespace openmpio::array

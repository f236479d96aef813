// IscsiNexus: the TransportNexus over libiscsi 1.19 — one iSCSI session
// (one libiscsi context) to one target port, serving every LUN behind it,
// driven by its descriptor on one Executor. iscsi_nexus.cpp keeps the
// session (connect, login, logout, the descriptor, loss); iscsi_nexus_task.cpp
// the commands and task management.
//
// What we own instead of libiscsi (LAB.md "libiscsi 1.19"):
//  - Reconnection: auto-reconnect is off (it would re-issue commands on a
//    new session with a new random ISID). Connect() after a failure logs in
//    again with the same ISID: a session reinstatement, the fence for every
//    command of the old session (DESIGN.md "Write fencing").
//  - Connect + login time: one deadline (options.connect_timeout) covers a
//    blackholed SYN and a portal that accepts TCP but never answers.
//  - Command timeouts: iscsi_set_timeout is not used (it completes a task
//    locally without telling the target). Our timer sends ABORT TASK; its
//    FUNCTION COMPLETE / TASK DOES NOT EXIST answer is a fence and ends the
//    command kAborted; no answer in options.tmf_timeout ends it kTimeout and
//    drops the session (its reinstatement is then the fence).
//  - Liveness: libiscsi answers the target's NOP-Ins but pings only when
//    asked. An idle session whose target hangs (a stopped path, a dead
//    link that sends no RST) would look connected until the next command
//    timed out, so every options.nop_interval that heard nothing from the
//    target sends a NOP-Out; options.nop_missed_limit of them unanswered
//    fail the session as a lost connection.
//  - Logout drains first: the Logout Request closes the session, and the
//    target then ends every task it still holds (RFC 7143 11.14), while
//    libiscsi puts the immediate request in front of commands not yet on
//    the wire and sends nothing after it. So Logout refuses new commands
//    and sends the request only once libiscsi holds no command or TMF of
//    ours; options.logout_timeout bounds the drain and the answer together.
//  - No context-wide cancels: 1.19's LU reset / ABORT TASK SET cancel every
//    local task of the context when sent, so LogicalUnitReset is refused
//    (kRejected) while anything is outstanding.
//
// Every guarantee of transport.h holds: all methods and callbacks on the
// executor's thread; no callback inside the call that registered it (every
// completion goes through one zero-delay timer); every command completes
// exactly once unless the nexus is destroyed first.
//
// Allocation: a command lives in a Slot that embeds libiscsi's scsi_task and
// the one iovec that points at the caller's buffer (scsi_task_set_iov_in /
// _out, so libiscsi's scsi_malloc is never called on it and data-in lands in
// place). Slots are reused through a free list, so in the steady state
// Submit allocates nothing of ours; libiscsi allocates its PDUs (cached with
// iscsi_set_cache_allocations) and a sense buffer on CHECK CONDITION.
//
// Buffers: data-in lands in Command::data_in, data-out is read from
// Command::data_out, until the command completes — except after Abandon or a
// fenced abort, when the slot switches to a private scratch copy first, so a
// late answer (or a data-out PDU still queued) never touches caller memory.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <iscsi/iscsi.h>
#include <iscsi/scsi-lowlevel.h>

#include "common/executor.h"
#include "transport/transport.h"

namespace openmpio::transport::iscsi {

struct IscsiNexusOptions {
  // TCP connect + login, together.
  Duration connect_timeout = std::chrono::seconds(10);
  // For a Command with timeout_ms == 0 (DESIGN.md "Timers": command_timeout).
  Duration command_timeout = std::chrono::seconds(30);
  // How long an ABORT TASK or LU reset may go unanswered before the session
  // is dropped.
  Duration tmf_timeout = std::chrono::seconds(5);
  // Logout: the commands in flight finishing, then the Logout Response.
  Duration logout_timeout = std::chrono::seconds(5);
  // iscsi_service(ctx, 0) on this period: libiscsi does its own housekeeping
  // only there.
  Duration service_interval = std::chrono::milliseconds(250);
  // NOP-Out ping (RFC 7143 11.18) of a connected session that heard nothing
  // from the target for this long; 0: never.
  Duration nop_interval = std::chrono::seconds(5);
  // This many NOP-Outs in a row unanswered, one interval apart, fail the
  // session (so a silent target is noticed within (limit + 1) intervals).
  std::uint32_t nop_missed_limit = 3;
  // Offered at login (RFC 7143 13.1): None,CRC32C unless told.
  iscsi_header_digest header_digest = ISCSI_HEADER_DIGEST_NONE_CRC32C;
  // CHAP (MD5): ours when chap_username is set; the target's too (mutual)
  // when target_chap_username is set. Never put in a message.
  std::string chap_username;
  std::string chap_secret;
  std::string target_chap_username;
  std::string target_chap_secret;
  // Slots made at construction (more are made on demand).
  std::size_t initial_slots = 64;
};

class IscsiNexus final : public TransportNexus {
 public:
  // address.portal is "host:port"; address.isid is the 48-bit ISID sent at
  // every login (RFC 7143 10.12.5; its T bits pick libiscsi's setter).
  IscsiNexus(Executor& executor, NexusAddress address, IscsiNexusOptions options = {});
  IscsiNexus(const IscsiNexus&) = delete;
  IscsiNexus& operator=(const IscsiNexus&) = delete;
  // On the executor's thread (or after it stopped). Pending callbacks are
  // dropped (transport.h); the context is destroyed without a logout.
  ~IscsiNexus() override;

  [[nodiscard]] const NexusAddress& address() const override { return address_; }
  [[nodiscard]] NexusState state() const override { return state_; }
  void SetStateListener(StateListener listener) override;
  void Connect(StatusCallback done) override;
  void Logout(StatusCallback done) override;
  TaskTag Submit(const Command& command, CompletionFn fn, void* context) override;
  void AbortTask(TaskTag tag, TmfCallback done) override;
  void LogicalUnitReset(std::uint64_t lun, TmfCallback done) override;
  void Abandon(TaskTag tag) override;

  // Commands submitted and not yet completed to their caller.
  [[nodiscard]] std::size_t outstanding() const { return outstanding_; }
  // Why the nexus last failed or a connect last failed ("" if never).
  [[nodiscard]] const std::string& last_error() const { return last_error_; }
  // ABORT TASKs sent by our own command timeouts (for tests and metrics).
  [[nodiscard]] std::uint64_t timeout_aborts_sent() const { return timeout_aborts_sent_; }
  // NOP-Outs sent, and intervals that ended with the last one unanswered
  // (both over the nexus's life; for tests and metrics).
  [[nodiscard]] std::uint64_t nops_sent() const { return nops_sent_; }
  [[nodiscard]] std::uint64_t nops_missed() const { return nops_missed_; }

  // The LUN as libiscsi must put it in the PDU: it writes bytes 0..1 of the
  // LUN field raw, so LUN >= 256 needs SAM-5's flat space form (0x4000 | n).
  // -1 for a LUN beyond the flat space (16383).
  [[nodiscard]] static int WireLun(std::uint64_t lun);

 private:
  // One submitted command. Free when neither the caller nor libiscsi holds it.
  struct Slot {
    IscsiNexus* owner = nullptr;
    std::uint32_t index = 0;
    TaskTag tag = 0;
    Direction direction = Direction::kNone;
    scsi_task task{};  // ours, embedded: never scsi_free_scsi_task
    scsi_iovec iov{};  // the one buffer of task.iovector_in or _out
    std::span<const std::byte> caller_data_out;
    std::vector<std::byte> scratch;  // the detached buffer (capacity reused)
    CompletionFn fn = nullptr;
    void* context = nullptr;
    Executor::TimerId timer = 0;  // the command timeout
    Result result;
    bool in_use = false;
    bool decided = false;      // result is final; the completion is queued
    bool outstanding = false;  // the caller has not been told yet
    bool in_libiscsi = false;  // libiscsi holds the task (until its callback)
    bool detached = false;     // iov points at scratch
    bool quarantined = false;  // a data-out PDU may still point at it: kept
                               // until the context is destroyed
  };

  // A task management function in flight.
  struct Tmf {
    IscsiNexus* owner = nullptr;
    bool active = false;
    bool internal = false;  // sent by our own command timeout
    std::uint32_t slot = 0;
    TaskTag ref_tag = 0;  // ABORT TASK: the task; 0 for LU reset
    Executor::TimerId timer = 0;
    TmfCallback done;
  };

  enum class Op : std::uint8_t { kNone, kConnect, kLogout };

  // Session (iscsi_nexus.cpp).
  void StartConnect();
  void OnConnectDeadline();
  void FinishSessionOp(Status status);
  void ServiceFd(std::uint32_t events);
  void OnServiceTimer();
  void ArmServiceTimer();
  // Runs iscsi_service and then acts on a loss it reported.
  void Service(int revents);
  // The NOP-Out ping: armed at login, one tick per nop_interval.
  void ArmNopTimer();
  void OnNopTick();
  void UpdateWatch();
  // A loss seen inside a libiscsi callback: acted on after iscsi_service.
  void NoteLoss(std::string why);
  // Sends the Logout Request once nothing of ours is held by libiscsi.
  void MaybeSendLogout();
  void OnLogoutDeadline();
  // Commands and TMFs of ours that libiscsi holds (a walk: only Logout asks).
  [[nodiscard]] std::size_t HeldByLibiscsi() const;
  // Ends the connect or logout in progress, or fails the nexus.
  void ActOnLoss();
  // Drops the context now (never inside iscsi_service): every command and
  // TMF still held completes (commands with `outcome`), then state_ = to.
  void TearDown(NexusState to, Outcome outcome, std::string why);
  void SetState(NexusState s, bool tell_listener);
  static void OnTcpConnected(iscsi_context* ctx, int status, void* data, void* self);
  static void OnLogin(iscsi_context* ctx, int status, void* data, void* self);
  static void OnLogout(iscsi_context* ctx, int status, void* data, void* self);
  static void OnNopIn(iscsi_context* ctx, int status, void* data, void* self);

  // Commands and TMFs (iscsi_nexus_task.cpp).
  Slot& AllocSlot();
  Slot* FindSlot(TaskTag tag);
  void Decide(Slot& s, Outcome outcome);
  void MaybeFree(Slot& s);
  void DetachBuffers(Slot& s);
  void OnCommandTimeout(std::uint32_t index);
  void SendAbort(Slot& s, bool internal, TmfCallback done);
  Tmf& AllocTmf();
  void FinishTmf(Tmf& t, TmfResponse response);
  void OnTmfTimeout(Tmf* t);
  void Defer(std::function<void()> fn);
  void ArmFlush();
  void Flush();
  static void OnCommandDone(iscsi_context* ctx, int status, void* data, void* slot);
  static void OnTmfDone(iscsi_context* ctx, int status, void* data, void* tmf);

  Executor& executor_;
  const NexusAddress address_;
  const IscsiNexusOptions options_;

  iscsi_context* ctx_ = nullptr;
  NexusState state_ = NexusState::kDisconnected;
  NexusState state_before_op_ = NexusState::kDisconnected;
  StateListener listener_;
  Op op_ = Op::kNone;
  StatusCallback op_done_;
  Executor::TimerId op_timer_ = 0;  // connect deadline or logout bound
  bool logout_sent_ = false;        // Op::kLogout: drained, the request is out
  Executor::TimerId service_timer_ = 0;
  Executor::WatchId watch_ = 0;
  int watched_fd_ = -1;
  std::uint32_t interest_ = 0;
  bool in_service_ = false;
  bool destroying_ = false;     // the destructor runs: nothing more is queued
  Slot* cancelling_ = nullptr;  // iscsi_scsi_cancel_task of ours in progress
  bool lost_ = false;           // a callback saw the connection go
  std::string lost_reason_;
  std::string last_error_;

  // Liveness. heard_ counts answers from the target (command responses and
  // TMF responses; not NOP-Ins, so an idle session pings every interval).
  // A tick that finds it moved sends nothing; else the NOP-Outs sent since
  // the last answer are nops_unanswered_, the first at nops_unanswered_since_.
  Executor::TimerId nop_timer_ = 0;
  std::uint64_t heard_ = 0;
  std::uint64_t heard_at_tick_ = 0;
  std::uint32_t nops_unanswered_ = 0;
  TimePoint nops_unanswered_since_{};
  std::uint64_t nops_sent_ = 0;
  std::uint64_t nops_missed_ = 0;

  std::vector<std::unique_ptr<Slot>> slots_;  // stable addresses: libiscsi holds them
  std::vector<std::uint32_t> free_slots_;
  std::uint64_t next_seq_ = 1;
  std::size_t outstanding_ = 0;
  std::vector<std::unique_ptr<Tmf>> tmfs_;
  std::uint64_t timeout_aborts_sent_ = 0;

  // Completions waiting for the flush timer: command slots first, then the rest.
  std::vector<std::uint32_t> done_slots_;
  std::vector<std::uint32_t> flushing_slots_;
  std::vector<std::function<void()>> deferred_;
  Executor::TimerId flush_timer_ = 0;
};

}  // namespace openmpio::transport::iscsi

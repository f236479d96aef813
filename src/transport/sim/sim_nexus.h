// SimNexus: the TransportNexus of the sim transport — one initiator session
// to one target port of a SimFabric. The model and the faults are described
// in sim_fabric.h. sim_nexus.cpp keeps the initiator side, sim_nexus_link.cpp
// the two directions of its connection's link, sim_nexus_target.cpp what the
// target port does with what arrives.
//
// Every guarantee of transport.h holds:
//  - all methods on the bound executor's thread; callbacks run on it;
//  - no callback inside the call that registered it (immediate failures are
//    posted as zero-delay timers);
//  - every command completes exactly once (answer, timeout, connection loss,
//    abort, logout), unless the nexus is destroyed first;
//  - Submit copies the data-out into a per-command buffer that is reused, so
//    in the steady state (buffers and queues grown to the working set) a
//    command's whole round trip allocates nothing and nothing blocks beyond
//    the fabric's short critical sections.
//
// Buffers: data-out is copied at Submit (it is "on the wire" from then on: a
// late delivery after a timeout reads no caller memory); data-in is copied to
// Command::data_in only when the answer arrives for a still-outstanding
// command.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "common/executor.h"
#include "transport/sim/sim_fabric.h"
#include "transport/transport.h"

namespace openmpio::transport::sim {

class SimNexus final : public TransportNexus {
 public:
  SimNexus(const SimNexus&) = delete;
  SimNexus& operator=(const SimNexus&) = delete;
  // On the executor's thread. Pending callbacks are dropped (transport.h);
  // the target session, if still open, is detached.
  ~SimNexus() override;

  [[nodiscard]] const NexusAddress& address() const override { return address_; }
  [[nodiscard]] NexusState state() const override { return state_; }
  void SetStateListener(StateListener listener) override;
  void Connect(StatusCallback done) override;
  void Logout(StatusCallback done) override;
  TaskTag Submit(const Command& command, CompletionFn fn, void* context) override;
  void AbortTask(TaskTag tag, TmfCallback done) override;
  void LogicalUnitReset(std::uint64_t lun, TmfCallback done) override;
  void Abandon(TaskTag tag) override;

  // The target-side session (the DeviceServer's nexus id); 0 before the first
  // login. After a connection loss it names the session the target may still
  // hold open.
  [[nodiscard]] array::ItNexusId session() const { return session_; }
  [[nodiscard]] std::uint16_t relative_target_port() const { return rtp_; }
  // Commands submitted and not yet completed.
  [[nodiscard]] std::size_t outstanding() const { return outstanding_; }

 private:
  friend class SimFabric;

  SimNexus(SimFabric& fabric, Executor& executor, std::uint64_t id, std::uint16_t rtp,
           NexusAddress address, SimNexusOptions options);

  // In two runs: initiator -> target first, then target -> initiator
  // (QueueLocked picks the direction by kind).
  enum class MsgKind : std::uint8_t {
    // initiator -> target
    kCommand,
    kAbortTask,
    kLuReset,
    kLogin,
    kLogout,
    // target -> initiator
    kResponse,
    kTmfResponse,
    kLoginResponse,
    kLogoutResponse,
  };
  struct Message {
    MsgKind kind = MsgKind::kCommand;
    bool stranded = false;         // its connection died in a hung link: wait for Release
    std::uint32_t index = 0;       // slot or TMF entry
    std::uint64_t seq = 0;         // the tag / TMF sequence / connection it belongs to
    std::uint64_t gen = 0;         // connection generation
    std::uint64_t arg = 0;         // ABORT TASK: the referenced tag; LU RESET: the LUN;
                                   // a TMF answer: the TmfResponse
    array::ItNexusId session = 0;  // the target session it belongs to (login: the old one)
    TimePoint due{};
  };

  // One submitted command. Lives until completed AND out of the network (a
  // timed-out command may still be in the link or the target's task set).
  struct Slot {
    TaskTag tag = 0;
    std::uint64_t gen = 0;
    std::uint64_t lun = 0;
    scsi::Cdb cdb;
    std::span<std::byte> caller_data_in;
    CompletionFn fn = nullptr;
    void* context = nullptr;
    bool in_use = false;
    bool outstanding = false;          // not yet completed to the caller
    bool in_network = false;           // referenced by a message or the task set
    Executor::TimerId timer = 0;       // timeout, or the posted kNotSent completion
    Executor::TimerId exec_timer = 0;  // service time at the target
    std::vector<std::byte> data_out;   // the copy on the wire (capacity reused)
    std::vector<std::byte> data_in;    // the target's data-in (capacity reused)
    Result answer;                     // filled by the target side
  };

  struct Tmf {
    bool active = false;
    bool lu_reset = false;
    std::uint64_t seq = 0;  // ordered with command tags, like CmdSN
    std::uint64_t gen = 0;
    TaskTag ref_tag = 0;
    std::uint64_t lun = 0;
    Executor::TimerId timer = 0;
    TmfCallback done;
  };

  // Login or logout in progress (one at a time).
  struct SessionOp {
    bool active = false;
    bool logout = false;
    std::uint64_t gen = 0;
    NexusState state_before = NexusState::kDisconnected;
    Status result;  // set by the target side
    Executor::TimerId timer = 0;
    StatusCallback done;
  };

  // Initiator side.
  std::uint32_t AllocSlot();
  void MaybeFreeSlot(std::uint32_t index);
  void CompleteSlot(std::uint32_t index, Outcome outcome);
  std::uint32_t AllocTmf();
  void FinishTmf(std::uint32_t index, TmfResponse response);
  void FinishSessionOp(Status status);
  void StartTmf(bool lu_reset, TaskTag ref_tag, std::uint64_t lun, TmfCallback done);
  void StartSessionOp(bool logout, StatusCallback done);
  void OnSessionOpTimeout();
  void LeaveNetwork(std::uint32_t index);
  // Runs fn from the executor soon (immediate failures must not re-enter).
  void PostLater(std::function<void()> fn);
  void RunDeferred();
  void HandleLinkLoss(bool strand);
  void OnFabricEvent(SimFabric::Event ev);
  bool TakePendingLoss(bool* strand);

  // The link.
  void Send(MsgKind kind, std::uint32_t index, std::uint64_t seq, std::uint64_t arg,
            std::uint64_t bytes);
  // Queues a message on the link, in its kind's direction; the caller holds
  // the fabric mutex and passes the port.
  void QueueLocked(SimFabric::Port& port, MsgKind kind, std::uint32_t index, std::uint64_t seq,
                   std::uint64_t gen, std::uint64_t arg, std::uint64_t bytes);
  TimePoint DueLocked(SimFabric::Port& port, bool to_target, std::uint64_t bytes,
                      TimePoint* last_due);
  void ArmPump();
  void Pump();
  void ReleaseMessage(const Message& m);

  // Target side (run on this executor, fabric mutex taken inside).
  void ArriveAtTarget(const Message& m);
  void ExecuteAtTarget(std::uint32_t index);
  void ArriveAtInitiator(const Message& m);

  SimFabric& fabric_;
  Executor& executor_;
  const std::uint64_t id_;
  const std::uint16_t rtp_;
  const NexusAddress address_;
  const SimNexusOptions options_;

  NexusState state_ = NexusState::kDisconnected;
  StateListener listener_;
  std::uint64_t gen_ = 0;
  std::uint64_t next_seq_ = 1;  // command tags and TMF sequence numbers
  array::ItNexusId session_ = 0;
  bool logout_pending_ = false;
  bool link_up_ = false;  // a connection exists (from Connect to its loss or logout)
  std::size_t outstanding_ = 0;

  std::vector<Slot> slots_;
  std::vector<std::uint32_t> free_slots_;
  std::vector<Tmf> tmfs_;
  SessionOp session_op_;

  std::vector<Message> to_target_;  // FIFO per connection (stranded ones skipped)
  std::vector<Message> to_initiator_;
  TimePoint last_due_to_target_{};
  TimePoint last_due_to_initiator_{};
  Executor::TimerId pump_timer_ = 0;
  TimePoint pump_due_{};

  std::vector<std::function<void()>> deferred_;
  Executor::TimerId deferred_timer_ = 0;
  std::vector<std::uint32_t> scratch_;  // slots released by a target-side step
};

}  // namespace openmpio::transport::sim

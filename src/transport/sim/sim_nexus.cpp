// SimNexus (sim_nexus.h), the initiator side: construction, login and
// logout, Submit and the task management functions, command slots, the
// loss of a connection, and what arrives back at the initiator. The link
// between the two ends is in sim_nexus_link.cpp, the target side in
// sim_nexus_target.cpp.
#include "transport/sim/sim_nexus.h"

#include <algorithm>
#include <cassert>
#include <cstring>
#include <string>
#include <utility>

namespace openmpio::transport::sim {

SimNexus::SimNexus(SimFabric& fabric, Executor& executor, std::uint64_t id, std::uint16_t rtp,
                   NexusAddress address, SimNexusOptions options)
    : fabric_(fabric),
      executor_(executor),
      id_(id),
      rtp_(rtp),
      address_(std::move(address)),
      options_(std::move(options)) {
  // Room for a working set, so the steady state does not allocate.
  slots_.reserve(64);
  free_slots_.reserve(64);
  tmfs_.reserve(8);
  to_target_.reserve(128);
  to_initiator_.reserve(128);
  scratch_.reserve(64);
}

SimNexus::~SimNexus() {
  if (pump_timer_ != 0) executor_.Cancel(pump_timer_);
  if (deferred_timer_ != 0) executor_.Cancel(deferred_timer_);
  if (session_op_.timer != 0) executor_.Cancel(session_op_.timer);
  for (Slot& s : slots_) {
    if (s.timer != 0) executor_.Cancel(s.timer);
    if (s.exec_timer != 0) executor_.Cancel(s.exec_timer);
  }
  for (Tmf& t : tmfs_) {
    if (t.timer != 0) executor_.Cancel(t.timer);
  }
  std::lock_guard<std::mutex> lock(fabric_.mutex_);
  auto& recs = fabric_.nexuses_;
  recs.erase(std::remove_if(recs.begin(), recs.end(),
                            [this](const SimFabric::NexusRecord& r) { return r.id == id_; }),
             recs.end());
  auto& tasks = fabric_.task_set_;
  tasks.erase(std::remove_if(tasks.begin(), tasks.end(),
                             [this](const SimFabric::TargetTask& t) { return t.nexus_id == id_; }),
              tasks.end());
  auto& aborts = fabric_.third_party_aborts_;
  aborts.erase(
      std::remove_if(aborts.begin(), aborts.end(),
                     [this](const SimFabric::ThirdPartyAbort& a) { return a.nexus_id == id_; }),
      aborts.end());
  // The initiator is gone for good: let the device server forget the session.
  if (fabric_.SessionOpen(session_)) fabric_.CloseSession(session_, nullptr, id_);
}

void SimNexus::SetStateListener(StateListener listener) {
  listener_ = std::move(listener);
}

// ---------------------------------------------------------------------------
// Initiator side

void SimNexus::Connect(StatusCallback done) {
  assert(executor_.InExecutorThread());
  if (state_ == NexusState::kConnected || state_ == NexusState::kConnecting || session_op_.active) {
    PostLater([done = std::move(done)] {
      done(Status(NtStatus::kInvalidParameter, "sim: the nexus is already connected or busy"));
    });
    return;
  }
  bool port_known = false;
  {
    std::lock_guard<std::mutex> lock(fabric_.mutex_);
    port_known = fabric_.FindPort(rtp_) != nullptr;
    // A Drop that this nexus has not handled yet concerned the old connection,
    // which is already dead (we are not connected).
    if (SimFabric::NexusRecord* r = fabric_.FindRecord(id_)) {
      r->loss_pending = false;
      r->loss_strands = false;
    }
  }
  if (!port_known) {
    PostLater([done = std::move(done), port = rtp_] {
      done(Status(NtStatus::kNoSuchDevice,
                  "sim: no target port " + std::to_string(port) + " in the fabric"));
    });
    return;
  }
  ++gen_;  // a new connection
  link_up_ = true;
  StartSessionOp(/*logout=*/false, std::move(done));
  state_ = NexusState::kConnecting;
  // The login names the old session, if any: the target reinstates it.
  Send(MsgKind::kLogin, 0, gen_, 0, 0);
}

void SimNexus::Logout(StatusCallback done) {
  assert(executor_.InExecutorThread());
  if (session_op_.active) {
    PostLater([done = std::move(done)] {
      done(Status(NtStatus::kInvalidParameter, "sim: a login or logout is in progress"));
    });
    return;
  }
  if (state_ != NexusState::kConnected) {
    // Nothing is outstanding (a connection loss completed it all); the target
    // cannot be told, so its session, if any, stays until reinstatement.
    state_ = NexusState::kDisconnected;
    PostLater([done = std::move(done)] { done(OkStatus()); });
    return;
  }
  logout_pending_ = true;
  StartSessionOp(/*logout=*/true, std::move(done));
  Send(MsgKind::kLogout, 0, gen_, 0, 0);
}

void SimNexus::StartSessionOp(bool logout, StatusCallback done) {
  session_op_.active = true;
  session_op_.logout = logout;
  session_op_.gen = gen_;
  session_op_.state_before = state_;
  session_op_.result = OkStatus();
  session_op_.done = std::move(done);
  session_op_.timer = executor_.PostAfter(options_.tmf_timeout, [this] {
    session_op_.timer = 0;
    OnSessionOpTimeout();
  });
}

void SimNexus::OnSessionOpTimeout() {
  if (!session_op_.active) return;
  link_up_ = false;
  logout_pending_ = false;
  if (session_op_.logout) {
    // No answer: give the connection up. What is outstanding may still
    // execute at the target.
    const std::uint64_t lost_gen = gen_;
    const std::uint64_t seq_limit = next_seq_;
    state_ = NexusState::kFailed;
    for (std::uint32_t i = 0; i < slots_.size(); ++i) {
      const Slot& s = slots_[i];
      if (s.in_use && s.outstanding && s.gen == lost_gen && s.tag < seq_limit) {
        CompleteSlot(i, Outcome::kConnectionLost);
      }
    }
    FinishSessionOp(Status(NtStatus::kIoTimeout, "sim: the logout was not answered in time"));
  } else {
    state_ = session_op_.state_before;
    FinishSessionOp(Status(NtStatus::kIoTimeout, "sim: the login was not answered in time"));
  }
}

void SimNexus::FinishSessionOp(Status status) {
  if (!session_op_.active) return;
  if (session_op_.timer != 0) {
    executor_.Cancel(session_op_.timer);
    session_op_.timer = 0;
  }
  session_op_.active = false;
  StatusCallback done = std::move(session_op_.done);
  session_op_.done = nullptr;
  if (done) done(status);
}

TaskTag SimNexus::Submit(const Command& command, CompletionFn fn, void* context) {
  assert(executor_.InExecutorThread());
  const std::uint32_t index = AllocSlot();
  Slot& s = slots_[index];
  s.tag = next_seq_++;
  s.gen = gen_;
  s.lun = command.lun;
  s.cdb = command.cdb;
  s.fn = fn;
  s.context = context;
  s.outstanding = true;
  s.answer = Result{};
  s.caller_data_in =
      command.direction == Direction::kFromDevice ? command.data_in : std::span<std::byte>();
  ++outstanding_;

  if (state_ != NexusState::kConnected || logout_pending_) {
    // Refused before anything was sent; completes later, never inside Submit.
    s.timer = executor_.PostAfter(Duration::zero(), [this, index] {
      slots_[index].timer = 0;
      CompleteSlot(index, Outcome::kNotSent);
    });
    return s.tag;
  }

  // The data-out is on the wire from now on: copy it (the capacity is reused).
  if (command.direction == Direction::kToDevice) {
    s.data_out.assign(command.data_out.begin(), command.data_out.end());
  } else {
    s.data_out.clear();
  }
  s.data_in.resize(s.caller_data_in.size());
  const Duration timeout = command.timeout_ms != 0
                               ? Duration(std::chrono::milliseconds(command.timeout_ms))
                               : options_.command_timeout;
  s.timer = executor_.PostAfter(timeout, [this, index] {
    slots_[index].timer = 0;
    CompleteSlot(index, Outcome::kTimeout);
  });
  s.in_network = true;
  Send(MsgKind::kCommand, index, s.tag, 0, s.data_out.size());
  return s.tag;
}

void SimNexus::AbortTask(TaskTag tag, TmfCallback done) {
  assert(executor_.InExecutorThread());
  StartTmf(/*lu_reset=*/false, tag, 0, std::move(done));
}

void SimNexus::LogicalUnitReset(std::uint64_t lun, TmfCallback done) {
  assert(executor_.InExecutorThread());
  StartTmf(/*lu_reset=*/true, 0, lun, std::move(done));
}

void SimNexus::Abandon(TaskTag tag) {
  assert(executor_.InExecutorThread());
  // Rare (a hedge): a scan of the slots. The command stays in the network
  // (the target may still run it); CompleteSlot clears `outstanding`, so its
  // answer, if one comes, is not copied to the caller.
  for (std::uint32_t i = 0; i < slots_.size(); ++i) {
    if (!slots_[i].in_use || !slots_[i].outstanding || slots_[i].tag != tag) continue;
    PostLater([this, i, tag] {
      if (slots_[i].in_use && slots_[i].tag == tag) CompleteSlot(i, Outcome::kAbandoned);
    });
    return;
  }
}

void SimNexus::StartTmf(bool lu_reset, TaskTag ref_tag, std::uint64_t lun, TmfCallback done) {
  const std::uint32_t index = AllocTmf();
  Tmf& t = tmfs_[index];
  t.active = true;
  t.lu_reset = lu_reset;
  t.seq = next_seq_++;
  t.gen = gen_;
  t.ref_tag = ref_tag;
  t.lun = lun;
  t.done = std::move(done);
  if (state_ != NexusState::kConnected || logout_pending_) {
    t.timer = executor_.PostAfter(Duration::zero(), [this, index] {
      tmfs_[index].timer = 0;
      FinishTmf(index, TmfResponse::kNotConnected);
    });
    return;
  }
  t.timer = executor_.PostAfter(options_.tmf_timeout, [this, index] {
    tmfs_[index].timer = 0;
    FinishTmf(index, TmfResponse::kTimeout);
  });
  Send(lu_reset ? MsgKind::kLuReset : MsgKind::kAbortTask, index, t.seq, lu_reset ? lun : ref_tag,
       0);
}

std::uint32_t SimNexus::AllocSlot() {
  std::uint32_t index = 0;
  if (!free_slots_.empty()) {
    index = free_slots_.back();
    free_slots_.pop_back();
  } else {
    index = static_cast<std::uint32_t>(slots_.size());
    slots_.emplace_back();
  }
  slots_[index].in_use = true;
  return index;
}

void SimNexus::MaybeFreeSlot(std::uint32_t index) {
  Slot& s = slots_[index];
  if (!s.in_use || s.outstanding || s.in_network) return;
  s.in_use = false;
  s.fn = nullptr;
  s.context = nullptr;
  s.caller_data_in = {};
  free_slots_.push_back(index);
}

void SimNexus::LeaveNetwork(std::uint32_t index) {
  Slot& s = slots_[index];
  s.in_network = false;
  if (s.exec_timer != 0) {
    executor_.Cancel(s.exec_timer);
    s.exec_timer = 0;
  }
  MaybeFreeSlot(index);
}

void SimNexus::CompleteSlot(std::uint32_t index, Outcome outcome) {
  Slot& s = slots_[index];
  if (!s.in_use || !s.outstanding) return;  // exactly once
  s.outstanding = false;
  --outstanding_;
  if (s.timer != 0) {
    executor_.Cancel(s.timer);
    s.timer = 0;
  }
  Result result;
  if (outcome == Outcome::kCompleted) result = s.answer;
  result.outcome = outcome;
  const CompletionFn fn = s.fn;
  void* const context = s.context;
  const TaskTag tag = s.tag;
  // Free before calling: the callback may submit and reuse the slot.
  MaybeFreeSlot(index);
  if (fn != nullptr) fn(context, tag, result);
}

std::uint32_t SimNexus::AllocTmf() {
  for (std::uint32_t i = 0; i < tmfs_.size(); ++i) {
    if (!tmfs_[i].active && tmfs_[i].timer == 0) return i;
  }
  tmfs_.emplace_back();
  return static_cast<std::uint32_t>(tmfs_.size() - 1);
}

void SimNexus::FinishTmf(std::uint32_t index, TmfResponse response) {
  Tmf& t = tmfs_[index];
  if (!t.active) return;
  t.active = false;
  if (t.timer != 0) {
    executor_.Cancel(t.timer);
    t.timer = 0;
  }
  TmfCallback done = std::move(t.done);
  t.done = nullptr;
  if (done) done(response);
}

void SimNexus::PostLater(std::function<void()> fn) {
  deferred_.push_back(std::move(fn));
  if (deferred_timer_ == 0) {
    deferred_timer_ = executor_.PostAfter(Duration::zero(), [this] { RunDeferred(); });
  }
}

void SimNexus::RunDeferred() {
  deferred_timer_ = 0;
  std::vector<std::function<void()>> run;
  run.swap(deferred_);
  for (auto& fn : run) fn();
}

bool SimNexus::TakePendingLoss(bool* strand) {
  std::lock_guard<std::mutex> lock(fabric_.mutex_);
  SimFabric::NexusRecord* r = fabric_.FindRecord(id_);
  if (r == nullptr || !r->loss_pending) return false;
  *strand = r->loss_strands;
  r->loss_pending = false;
  r->loss_strands = false;
  return true;
}

void SimNexus::HandleLinkLoss(bool strand) {
  if (!link_up_) return;  // no live connection to lose
  const std::uint64_t lost_gen = gen_;
  const std::uint64_t seq_limit = next_seq_;
  const NexusState before = state_;

  // What the dead connection carried: lost, or stranded in the hung link.
  for (std::size_t i = 0; i < to_target_.size();) {
    Message& m = to_target_[i];
    if (m.gen == lost_gen && strand) {
      m.stranded = true;
      ++i;
    } else if (m.gen == lost_gen) {
      const Message gone = m;
      to_target_.erase(to_target_.begin() + static_cast<std::ptrdiff_t>(i));
      ReleaseMessage(gone);
    } else {
      ++i;
    }
  }
  for (std::size_t i = 0; i < to_initiator_.size();) {
    if (to_initiator_[i].gen == lost_gen) {
      const Message gone = to_initiator_[i];
      to_initiator_.erase(to_initiator_.begin() + static_cast<std::ptrdiff_t>(i));
      ReleaseMessage(gone);
    } else {
      ++i;
    }
  }

  link_up_ = false;
  logout_pending_ = false;
  state_ = NexusState::kFailed;
  // Callbacks below may submit or reconnect: only what existed before the
  // loss is completed here (seq_limit), and by index (slots_ may grow).
  for (std::uint32_t i = 0; i < slots_.size(); ++i) {
    const Slot& s = slots_[i];
    if (s.in_use && s.outstanding && s.gen == lost_gen && s.tag < seq_limit) {
      CompleteSlot(i, Outcome::kConnectionLost);
    }
  }
  for (std::uint32_t i = 0; i < tmfs_.size(); ++i) {
    const Tmf& t = tmfs_[i];
    // Sent but not answered: not a fence.
    if (t.active && t.gen == lost_gen && t.seq < seq_limit)
      FinishTmf(i, TmfResponse::kNotConnected);
  }
  if (session_op_.active && session_op_.gen == lost_gen) {
    FinishSessionOp(Status(NtStatus::kDeviceNotReady,
                           session_op_.logout
                               ? "sim: the connection was lost before the logout was answered"
                               : "sim: the connection was lost during login"));
  } else if (before == NexusState::kConnected && listener_) {
    listener_(NexusState::kFailed);
  }
}

void SimNexus::OnFabricEvent(SimFabric::Event ev) {
  switch (ev) {
    case SimFabric::Event::kLinkLoss: {
      bool strand = false;
      if (TakePendingLoss(&strand)) HandleLinkLoss(strand);
      ArmPump();
      break;
    }
    case SimFabric::Event::kRelease:
    case SimFabric::Event::kReleaseStranded: {
      // What the link held arrives now, in order; with kReleaseStranded only
      // what dead connections left in it (the live ones were never held).
      const bool all = ev == SimFabric::Event::kRelease;
      const TimePoint now = executor_.Now();
      for (Message& m : to_target_) {
        if (!all && !m.stranded) continue;
        m.stranded = false;
        if (m.due > now) m.due = now;
      }
      if (all) {
        for (Message& m : to_initiator_) {
          if (m.due > now) m.due = now;
        }
      }
      Pump();
      break;
    }
    case SimFabric::Event::kThirdPartyAborts: {
      std::lock_guard<std::mutex> lock(fabric_.mutex_);
      SimFabric::Port* port = fabric_.FindPort(rtp_);
      auto& aborts = fabric_.third_party_aborts_;
      for (std::size_t i = 0; i < aborts.size();) {
        const SimFabric::ThirdPartyAbort a = aborts[i];
        if (a.nexus_id != id_) {
          ++i;
          continue;
        }
        aborts.erase(aborts.begin() + static_cast<std::ptrdiff_t>(i));
        Slot& s = slots_[a.slot];
        if (!s.in_use || !s.in_network || s.tag != a.tag || port == nullptr) continue;
        if (s.exec_timer != 0) {
          executor_.Cancel(s.exec_timer);
          s.exec_timer = 0;
        }
        // TAS=1 (SPC-4 7.5.7): a task aborted by another I_T nexus ends with
        // status TASK ABORTED, sent back through this nexus's own link.
        s.answer = Result{};
        s.answer.status = scsi::ScsiStatus::kTaskAborted;
        QueueLocked(*port, MsgKind::kResponse, a.slot, s.tag, s.gen, 0, 0);
      }
      break;
    }
  }
  if (ev == SimFabric::Event::kThirdPartyAborts) ArmPump();
}

// ---------------------------------------------------------------------------
// Answers arriving at the initiator

void SimNexus::ArriveAtInitiator(const Message& m) {
  // Answers on a dead connection reach nobody.
  const bool live = link_up_ && m.gen == gen_;
  switch (m.kind) {
    case MsgKind::kResponse: {
      Slot& s = slots_[m.index];
      const bool deliver = live && s.in_use && s.outstanding && s.tag == m.seq;
      if (deliver) {
        const std::size_t n =
            std::min<std::size_t>(s.answer.data_in_length, s.caller_data_in.size());
        if (n != 0) std::memcpy(s.caller_data_in.data(), s.data_in.data(), n);
        s.answer.data_in_length = static_cast<std::uint32_t>(n);
      }
      s.in_network = false;
      if (deliver) {
        CompleteSlot(m.index, Outcome::kCompleted);
      } else {
        MaybeFreeSlot(m.index);
      }
      break;
    }
    case MsgKind::kTmfResponse: {
      if (!live) break;
      const Tmf& t = tmfs_[m.index];
      if (!t.active || t.seq != m.seq) break;  // it timed out already
      const auto response = static_cast<TmfResponse>(m.arg);
      if (response == TmfResponse::kFunctionComplete) {
        // The target confirmed: these did not and will not execute. Anything
        // they answered before travelled ahead of this answer (FIFO).
        const bool lu_reset = t.lu_reset;
        const TaskTag ref_tag = t.ref_tag;
        const std::uint64_t lun = t.lun;
        const std::uint64_t seq = t.seq;
        for (std::uint32_t i = 0; i < slots_.size(); ++i) {
          const Slot& s = slots_[i];
          if (!s.in_use || !s.outstanding || s.gen != m.gen) continue;
          const bool hit = lu_reset ? (s.lun == lun && s.tag < seq) : s.tag == ref_tag;
          if (hit) CompleteSlot(i, Outcome::kAborted);
        }
      }
      FinishTmf(m.index, response);
      break;
    }
    case MsgKind::kLoginResponse: {
      if (!live || !session_op_.active || session_op_.logout || session_op_.gen != m.gen) break;
      Status result = session_op_.result;
      if (result.ok()) {
        state_ = NexusState::kConnected;
      } else {
        state_ = session_op_.state_before;
        link_up_ = false;
      }
      FinishSessionOp(std::move(result));
      break;
    }
    case MsgKind::kLogoutResponse: {
      if (!live || !session_op_.active || !session_op_.logout || session_op_.gen != m.gen) break;
      // The target ended the session: what it still held will never execute.
      const std::uint64_t seq_limit = next_seq_;
      link_up_ = false;
      logout_pending_ = false;
      state_ = NexusState::kDisconnected;
      for (std::uint32_t i = 0; i < slots_.size(); ++i) {
        const Slot& s = slots_[i];
        if (s.in_use && s.outstanding && s.gen == m.gen && s.tag < seq_limit) {
          CompleteSlot(i, Outcome::kAborted);
        }
      }
      for (std::uint32_t i = 0; i < tmfs_.size(); ++i) {
        if (tmfs_[i].active && tmfs_[i].gen == m.gen) FinishTmf(i, TmfResponse::kNotConnected);
      }
      FinishSessionOp(OkStatus());
      break;
    }
    default:
      break;
  }
}

}  // namespace openmpio::transport::sim

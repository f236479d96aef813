// IscsiNexus (iscsi_nexus.h), commands and task management: Submit into a
// reused slot, completion from libiscsi's callback into a transport::Result,
// our own command timeout → ABORT TASK → kAborted / kTimeout, AbortTask,
// LogicalUnitReset, Abandon, and the one flush timer that runs callbacks.
#include "transport/iscsi/iscsi_nexus.h"

#include <algorithm>
#include <cassert>
#include <cstdlib>
#include <cstring>
#include <string>
#include <utility>

namespace openmpio::transport::iscsi {
namespace {

constexpr unsigned kIndexBits = 20;  // a tag is (sequence << 20) | slot index
constexpr TaskTag kIndexMask = (TaskTag{1} << kIndexBits) - 1;

std::string TagText(TaskTag tag) {
  return std::to_string(tag >> kIndexBits) + "/" + std::to_string(tag & kIndexMask);
}

// RFC 7143 11.6.1: the Response field of a Task Management Function Response.
TmfResponse FromIscsiTmfResponse(std::uint32_t r) {
  switch (r) {
    case 0:
      return TmfResponse::kFunctionComplete;
    case 1:
      return TmfResponse::kTaskDoesNotExist;
    case 2:
      return TmfResponse::kLunDoesNotExist;
    case 255:
      return TmfResponse::kRejected;
    default:  // 3 still allegiant, 4 reassignment, 5 not supported, 6 authorization
      return TmfResponse::kFailed;
  }
}

}  // namespace

int IscsiNexus::WireLun(std::uint64_t lun) {
  if (lun < 256) return static_cast<int>(lun);               // peripheral device addressing, bus 0
  if (lun <= 0x3fff) return static_cast<int>(0x4000 | lun);  // SAM-5 4.7.7.3 flat space
  return -1;
}

// ---------------------------------------------------------------------------
// Slots

IscsiNexus::Slot& IscsiNexus::AllocSlot() {
  if (free_slots_.empty()) {
    // Beyond the working set: grows once, then reused.
    auto s = std::make_unique<Slot>();
    s->owner = this;
    s->index = static_cast<std::uint32_t>(slots_.size());
    assert(s->index <= kIndexMask);
    free_slots_.push_back(s->index);
    slots_.push_back(std::move(s));
  }
  Slot& s = *slots_[free_slots_.back()];
  free_slots_.pop_back();
  s.in_use = true;
  s.tag = (next_seq_++ << kIndexBits) | s.index;
  s.decided = false;
  s.outstanding = true;
  s.in_libiscsi = false;
  s.detached = false;
  s.quarantined = false;
  s.result = Result{};
  ++outstanding_;
  return s;
}

IscsiNexus::Slot* IscsiNexus::FindSlot(TaskTag tag) {
  const TaskTag index = tag & kIndexMask;
  if (index >= slots_.size()) return nullptr;
  Slot& s = *slots_[index];
  return (s.in_use && s.tag == tag) ? &s : nullptr;
}

void IscsiNexus::Decide(Slot& s, Outcome outcome) {
  if (s.decided) return;
  s.decided = true;
  s.result.outcome = outcome;
  done_slots_.push_back(s.index);
  ArmFlush();
}

void IscsiNexus::MaybeFree(Slot& s) {
  if (!s.in_use || s.outstanding || s.in_libiscsi || s.quarantined) return;
  if (s.timer != 0) executor_.Cancel(s.timer);
  s.timer = 0;
  s.in_use = false;
  s.fn = nullptr;
  s.context = nullptr;
  s.caller_data_out = {};
  s.iov = {};
  free_slots_.push_back(s.index);
}

// From now on libiscsi reads and writes a private copy: the caller may reuse
// its buffers once told, while an answer or a queued data-out may still come.
void IscsiNexus::DetachBuffers(Slot& s) {
  if (s.detached || s.iov.iov_len == 0) return;
  s.scratch.resize(s.iov.iov_len);
  if (s.direction == Direction::kToDevice) {
    std::memcpy(s.scratch.data(), s.caller_data_out.data(), s.iov.iov_len);
  }
  s.iov.iov_base = s.scratch.data();
  s.detached = true;
}

// ---------------------------------------------------------------------------
// Submit and completion

TaskTag IscsiNexus::Submit(const Command& command, CompletionFn fn, void* context) {
  assert(executor_.InExecutorThread());
  Slot& s = AllocSlot();
  s.fn = fn;
  s.context = context;
  s.direction = command.direction;
  const int lun = WireLun(command.lun);
  const std::size_t length = command.direction == Direction::kFromDevice ? command.data_in.size()
                             : command.direction == Direction::kToDevice ? command.data_out.size()
                                                                         : 0;
  if (state_ != NexusState::kConnected || op_ != Op::kNone || ctx_ == nullptr || lun < 0 ||
      command.cdb.length == 0 || command.cdb.length > SCSI_CDB_MAX_SIZE || length > 0x7fffffffu) {
    Decide(s, Outcome::kNotSent);
    return s.tag;
  }

  std::memset(&s.task, 0, sizeof s.task);
  std::memcpy(s.task.cdb, command.cdb.bytes.data(), command.cdb.length);
  s.task.cdb_size = command.cdb.length;
  s.task.expxferlen = static_cast<int>(length);
  s.iov = {};
  switch (command.direction) {
    case Direction::kNone:
      s.task.xfer_dir = SCSI_XFER_NONE;
      break;
    case Direction::kFromDevice:
      s.task.xfer_dir = SCSI_XFER_READ;
      if (length != 0) {
        // Data-in lands in place: libiscsi readv()s into this iovec.
        s.iov = {command.data_in.data(), length};
        scsi_task_set_iov_in(&s.task, &s.iov, 1);
      }
      break;
    case Direction::kToDevice:
      s.task.xfer_dir = SCSI_XFER_WRITE;
      s.caller_data_out = command.data_out;
      if (length != 0) {
        s.iov = {const_cast<std::byte*>(command.data_out.data()), length};
        scsi_task_set_iov_out(&s.task, &s.iov, 1);
      }
      break;
  }

  s.in_libiscsi = true;  // before the call: a send error may call back inside it
  if (iscsi_scsi_command_async(ctx_, lun, &s.task, &IscsiNexus::OnCommandDone, nullptr, &s) != 0) {
    s.in_libiscsi = false;
    last_error_ = "command not queued: " + std::string(iscsi_get_error(ctx_));
    Decide(s, Outcome::kNotSent);
    return s.tag;
  }
  const Duration timeout = command.timeout_ms != 0
                               ? Duration(std::chrono::milliseconds(command.timeout_ms))
                               : options_.command_timeout;
  // Two words of capture: std::function keeps it inline (no allocation).
  s.timer = executor_.PostAfter(timeout, [this, index = s.index] { OnCommandTimeout(index); });
  const TaskTag tag = s.tag;
  UpdateWatch();  // now wants POLLOUT
  return tag;
}

void IscsiNexus::OnCommandDone(iscsi_context* /*ctx*/, int status, void* /*data*/, void* slot) {
  Slot& s = *static_cast<Slot*>(slot);
  IscsiNexus& n = *s.owner;
  s.in_libiscsi = false;
  if (s.timer != 0) n.executor_.Cancel(s.timer);
  s.timer = 0;
  scsi_task& t = s.task;
  if (status >= 0 && status <= 0xff) ++n.heard_;  // a SCSI status: the target answered
  if (status == SCSI_STATUS_CANCELLED) {
    if (n.cancelling_ == &s) {
      n.Decide(s, Outcome::kAborted);  // after a fence from the target
    } else {
      // 1.19 with no auto-reconnect: a dropped connection cancels every PDU
      // (iscsi_defer_reconnect) and iscsi_service still returns 0.
      n.NoteLoss("connection to " + n.address_.portal + " lost (libiscsi cancelled tag " +
                 TagText(s.tag) + ")");
      n.Decide(s, Outcome::kConnectionLost);
    }
  } else if (status == SCSI_STATUS_ERROR || status == SCSI_STATUS_TIMEOUT || status < 0 ||
             status > 0xff) {
    // A reject or a malformed answer: libiscsi drops the connection after
    // most; we drop it after all, so that the reinstatement fences.
    n.NoteLoss("command tag " + TagText(s.tag) +
               " failed in libiscsi: " + std::string(iscsi_get_error(n.ctx_)));
    n.Decide(s, Outcome::kConnectionLost);
  } else if (!s.decided) {
    Result& r = s.result;
    r.status = static_cast<scsi::ScsiStatus>(status);  // libiscsi uses the SAM values
    if (status == SCSI_STATUS_CHECK_CONDITION) {
      // 1.19 iscsi_process_scsi_reply: datain is the data segment, a 2-byte
      // SenseLength then the sense (RFC 7143 11.4.7.2).
      if (t.datain.data != nullptr && t.datain.size >= 2) {
        const std::size_t claimed =
            (std::size_t{t.datain.data[0]} << 8) | std::size_t{t.datain.data[1]};
        std::size_t len = std::min(claimed, static_cast<std::size_t>(t.datain.size) - 2);
        len = std::min(len, kMaxSenseLength);
        std::memcpy(r.sense.data(), t.datain.data + 2, len);
        r.sense_length = static_cast<std::uint8_t>(len);
      }
    } else if (s.direction == Direction::kFromDevice) {
      const auto expected = static_cast<std::size_t>(t.expxferlen);
      std::size_t got = expected;
      if (t.residual_status == SCSI_RESIDUAL_UNDERFLOW) got -= std::min(t.residual, expected);
      r.data_in_length = static_cast<std::uint32_t>(got);
    }
    n.Decide(s, Outcome::kCompleted);
  }
  // libiscsi malloc()s the sense (and data-in without an iovec) onto the task
  // and leaves it to scsi_free_scsi_task, which we never call on our own task.
  std::free(t.datain.data);
  t.datain.data = nullptr;
  t.datain.size = 0;
  n.MaybeFree(s);
}

void IscsiNexus::Abandon(TaskTag tag) {
  assert(executor_.InExecutorThread());
  Slot* s = FindSlot(tag);
  if (s == nullptr || s->decided) return;
  // Nothing is sent (transport.h): the task stays with libiscsi, pointed at
  // a private copy, until its answer, our timeout's ABORT TASK, or the end of
  // the connection.
  if (s->in_libiscsi) DetachBuffers(*s);
  Decide(*s, Outcome::kAbandoned);
}

// ---------------------------------------------------------------------------
// Our command timeout

void IscsiNexus::OnCommandTimeout(std::uint32_t index) {
  Slot& s = *slots_[index];
  s.timer = 0;
  if (!s.in_use || !s.in_libiscsi) return;
  if (ctx_ == nullptr || state_ != NexusState::kConnected) {
    Decide(s, Outcome::kTimeout);
    return;
  }
  ++timeout_aborts_sent_;
  SendAbort(s, true, nullptr);
}

IscsiNexus::Tmf& IscsiNexus::AllocTmf() {
  for (auto& t : tmfs_) {
    if (!t->active) {
      t->active = true;
      return *t;
    }
  }
  auto t = std::make_unique<Tmf>();
  t->owner = this;
  t->active = true;
  tmfs_.push_back(std::move(t));
  return *tmfs_.back();
}

void IscsiNexus::SendAbort(Slot& s, bool internal, TmfCallback done) {
  Tmf& t = AllocTmf();
  t.internal = internal;
  t.slot = s.index;
  t.ref_tag = s.tag;
  t.done = std::move(done);
  // ABORT TASK (RFC 7143 11.5.1) with the task's ITT and CmdSN as RefCmdSN.
  if (iscsi_task_mgmt_abort_task_async(ctx_, &s.task, &IscsiNexus::OnTmfDone, &t) != 0) {
    FinishTmf(t, TmfResponse::kNotConnected);
    NoteLoss("ABORT TASK for tag " + TagText(s.tag) +
             " could not be sent: " + std::string(iscsi_get_error(ctx_)));
    return;
  }
  t.timer = executor_.PostAfter(options_.tmf_timeout, [this, tp = &t] { OnTmfTimeout(tp); });
  UpdateWatch();
}

void IscsiNexus::OnTmfTimeout(Tmf* t) {
  t->timer = 0;
  if (!t->active) return;
  const std::string what = t->ref_tag != 0 ? "ABORT TASK for tag " + TagText(t->ref_tag)
                                           : std::string("LOGICAL UNIT RESET");
  FinishTmf(*t, TmfResponse::kTimeout);
  // A session that does not answer a TMF is hung: drop it; the reinstatement
  // at the next Connect is the fence.
  NoteLoss(
      what + " not answered within " +
      std::to_string(
          std::chrono::duration_cast<std::chrono::milliseconds>(options_.tmf_timeout).count()) +
      " ms");
}

void IscsiNexus::OnTmfDone(iscsi_context* /*ctx*/, int status, void* data, void* tmf) {
  Tmf& t = *static_cast<Tmf*>(tmf);
  IscsiNexus& n = *t.owner;
  TmfResponse response = TmfResponse::kFailed;
  if (status == SCSI_STATUS_GOOD && data != nullptr) {
    ++n.heard_;
    response = FromIscsiTmfResponse(*static_cast<const std::uint32_t*>(data));
  } else if (status == SCSI_STATUS_CANCELLED) {
    response = TmfResponse::kNotConnected;  // dropped with the connection: never a fence
    n.NoteLoss("connection to " + n.address_.portal + " lost with a TMF outstanding");
  } else {
    n.NoteLoss("TMF failed in libiscsi: " + std::string(iscsi_get_error(n.ctx_)));
  }
  n.FinishTmf(t, response);
}

void IscsiNexus::FinishTmf(Tmf& t, TmfResponse response) {
  if (!t.active) return;
  t.active = false;
  if (t.timer != 0) executor_.Cancel(t.timer);
  t.timer = 0;
  Slot* s = t.ref_tag != 0 ? FindSlot(t.ref_tag) : nullptr;
  if (s != nullptr && IsFence(response) && s->in_libiscsi && ctx_ != nullptr) {
    // The target will not execute it (1.19's abort_task does not cancel the
    // local task: we do, as libiscsi's own tests do). A data-out PDU of it
    // may still sit in libiscsi's queue pointing at the task, so a write's
    // slot is kept, on a private copy, until the context goes.
    if (s->direction == Direction::kToDevice) {
      DetachBuffers(*s);
      s->quarantined = true;
    }
    cancelling_ = s;
    const int rc = iscsi_scsi_cancel_task(ctx_, &s->task);  // calls OnCommandDone inside
    cancelling_ = nullptr;
    if (rc != 0) {
      s->in_libiscsi = false;
      Decide(*s, Outcome::kAborted);
    }
  } else if (s != nullptr && t.internal && !IsFence(response) && !s->decided) {
    Decide(*s, Outcome::kTimeout);
    if (response != TmfResponse::kNotConnected && response != TmfResponse::kTimeout) {
      NoteLoss("ABORT TASK for tag " + TagText(t.ref_tag) + " answered '" +
               TmfResponseName(response) + "': not a fence, dropping the session");
    }
  }
  if (t.done) {
    Defer([done = std::move(t.done), response] { done(response); });
  }
  t.done = nullptr;
  t.internal = false;
  t.ref_tag = 0;
}

// ---------------------------------------------------------------------------
// Task management asked for by the engine

void IscsiNexus::AbortTask(TaskTag tag, TmfCallback done) {
  assert(executor_.InExecutorThread());
  if (state_ != NexusState::kConnected || ctx_ == nullptr || op_ != Op::kNone) {
    Defer([done = std::move(done)] { done(TmfResponse::kNotConnected); });
    return;
  }
  Slot* s = FindSlot(tag);
  if (s == nullptr || !s->in_libiscsi) {
    // Not held by this session: it was answered by the target (done), or it
    // belonged to a session since reinstated by our login with the same ISID
    // (discarded by the target). Either way it will not execute.
    Defer([done = std::move(done)] { done(TmfResponse::kTaskDoesNotExist); });
    return;
  }
  SendAbort(*s, false, std::move(done));
}

void IscsiNexus::LogicalUnitReset(std::uint64_t lun, TmfCallback done) {
  assert(executor_.InExecutorThread());
  if (state_ != NexusState::kConnected || ctx_ == nullptr || op_ != Op::kNone) {
    Defer([done = std::move(done)] { done(TmfResponse::kNotConnected); });
    return;
  }
  const int wire = WireLun(lun);
  bool busy = false;
  for (const auto& s : slots_) busy = busy || s->in_libiscsi;
  for (const auto& t : tmfs_) busy = busy || t->active;
  if (wire < 0 || busy) {
    // libiscsi 1.19's iscsi_task_mgmt_lun_reset_async cancels every local
    // task of the context (all LUNs) when it is sent; the target would then
    // answer commands the context forgot, and libiscsi drops the session.
    // So never with anything outstanding: fence with ABORT TASK instead.
    Defer([done = std::move(done)] { done(TmfResponse::kRejected); });
    return;
  }
  Tmf& t = AllocTmf();
  t.internal = false;
  t.ref_tag = 0;
  t.done = std::move(done);
  if (iscsi_task_mgmt_lun_reset_async(ctx_, static_cast<std::uint32_t>(wire),
                                      &IscsiNexus::OnTmfDone, &t) != 0) {
    FinishTmf(t, TmfResponse::kNotConnected);
    return;
  }
  t.timer = executor_.PostAfter(options_.tmf_timeout, [this, tp = &t] { OnTmfTimeout(tp); });
  UpdateWatch();
}

// ---------------------------------------------------------------------------
// Callbacks run from one zero-delay timer, never inside the registering call

void IscsiNexus::Defer(std::function<void()> fn) {
  if (destroying_) return;
  deferred_.push_back(std::move(fn));
  ArmFlush();
}

void IscsiNexus::ArmFlush() {
  if (flush_timer_ != 0 || destroying_) return;
  flush_timer_ = executor_.PostAfter(Duration::zero(), [this] { Flush(); });
}

void IscsiNexus::Flush() {
  flush_timer_ = 0;
  std::swap(done_slots_, flushing_slots_);
  for (const std::uint32_t index : flushing_slots_) {
    Slot& s = *slots_[index];
    s.outstanding = false;
    --outstanding_;
    if (s.fn != nullptr) s.fn(s.context, s.tag, s.result);
    MaybeFree(s);
  }
  flushing_slots_.clear();
  if (!deferred_.empty()) {
    std::vector<std::function<void()>> run;
    run.swap(deferred_);
    for (auto& fn : run) fn();
  }
}

}  // namespace openmpio::transport::iscsi

// IscsiNexus (iscsi_nexus.h), the session: connect and login under one
// deadline, the descriptor and the service timer, logout, and the loss of
// the connection. Commands and task management are in iscsi_nexus_task.cpp.
#include "transport/iscsi/iscsi_nexus.h"

#include <poll.h>

#include <algorithm>
#include <cassert>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>

namespace openmpio::transport::iscsi {
namespace {

std::string LibiscsiError(iscsi_context* ctx) {
  const char* e = ctx != nullptr ? iscsi_get_error(ctx) : nullptr;
  return (e != nullptr && e[0] != '\0') ? e : "no detail from libiscsi";
}

long long Millis(Duration d) {
  return static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(d).count());
}

// The ISID through libiscsi 1.19's setters (RFC 7143 10.12.5: the top two
// bits of byte A are its type). False when the setters cannot express it
// (they force the low 6 bits of byte A to 0 for the EN and random types).
bool SetIsid(iscsi_context* ctx, std::uint64_t isid) {
  const auto byte = [isid](int i) {
    return static_cast<std::uint32_t>((isid >> (40 - 8 * i)) & 0xff);
  };
  const std::uint32_t a = byte(0);
  switch (a >> 6) {
    case 0:  // OUI: A[5..0]+B+C = OUI (22 bits), D = qualifier (24 bits)
      return iscsi_set_isid_oui(ctx, (a << 16) | (byte(1) << 8) | byte(2),
                                (byte(3) << 16) | (byte(4) << 8) | byte(5)) == 0;
    case 1:  // EN: B+C = IANA enterprise number, D = qualifier
      if ((a & 0x3f) != 0) return false;
      return iscsi_set_isid_en(ctx, (byte(1) << 16) | (byte(2) << 8) | byte(3),
                               (byte(4) << 8) | byte(5)) == 0;
    case 2:  // random
      if ((a & 0x3f) != 0) return false;
      return iscsi_set_isid_random(ctx, (byte(1) << 16) | (byte(2) << 8) | byte(3),
                                   (byte(4) << 8) | byte(5)) == 0;
    default:  // reserved: libiscsi sends 0xc0 and zeros
      return (isid & 0xffffffffffffULL) == 0xc00000000000ULL && iscsi_set_isid_reserved(ctx) == 0;
  }
}

}  // namespace

IscsiNexus::IscsiNexus(Executor& executor, NexusAddress address, IscsiNexusOptions options)
    : executor_(executor), address_(std::move(address)), options_(options) {
  slots_.reserve(options_.initial_slots);
  free_slots_.reserve(options_.initial_slots);
  for (std::size_t i = 0; i < options_.initial_slots; ++i) {
    auto s = std::make_unique<Slot>();
    s->owner = this;
    s->index = static_cast<std::uint32_t>(i);
    slots_.push_back(std::move(s));
    free_slots_.push_back(static_cast<std::uint32_t>(options_.initial_slots - 1 - i));
  }
  done_slots_.reserve(options_.initial_slots);
  flushing_slots_.reserve(options_.initial_slots);
  tmfs_.reserve(8);
}

IscsiNexus::~IscsiNexus() {
  destroying_ = true;
  if (flush_timer_ != 0) executor_.Cancel(flush_timer_);
  if (op_timer_ != 0) executor_.Cancel(op_timer_);
  if (service_timer_ != 0) executor_.Cancel(service_timer_);
  if (nop_timer_ != 0) executor_.Cancel(nop_timer_);
  for (auto& s : slots_) {
    if (s->timer != 0) executor_.Cancel(s->timer);
    s->fn = nullptr;  // nothing is told after destruction (transport.h)
  }
  for (auto& t : tmfs_) {
    if (t->timer != 0) executor_.Cancel(t->timer);
    t->done = nullptr;
  }
  if (watch_ != 0) executor_.Unwatch(watch_);
  watch_ = 0;
  if (ctx_ != nullptr) {
    // Callbacks still run here (CANCELLED); they find nothing to tell.
    in_service_ = true;
    iscsi_destroy_context(ctx_);
    ctx_ = nullptr;
  }
  for (auto& s : slots_) {
    if (s->task.datain.data != nullptr) free(s->task.datain.data);  // NOLINT: libiscsi's malloc
    s->task.datain.data = nullptr;
  }
}

void IscsiNexus::SetStateListener(StateListener listener) {
  listener_ = std::move(listener);
}

void IscsiNexus::SetState(NexusState s, bool tell_listener) {
  if (state_ == s) return;
  state_ = s;
  if (tell_listener && listener_) {
    Defer([this, s] {
      if (listener_) listener_(s);
    });
  }
}

// ---------------------------------------------------------------------------
// Connect and login

void IscsiNexus::Connect(StatusCallback done) {
  assert(executor_.InExecutorThread());
  if (op_ != Op::kNone || state_ == NexusState::kConnected || state_ == NexusState::kConnecting) {
    Defer([done = std::move(done), s = state_] {
      done(Status(NtStatus::kInvalidParameter,
                  std::string("iscsi: Connect while the nexus is ") + NexusStateName(s)));
    });
    return;
  }
  op_ = Op::kConnect;
  op_done_ = std::move(done);
  state_before_op_ = state_;
  SetState(NexusState::kConnecting, false);
  StartConnect();
}

void IscsiNexus::StartConnect() {
  ctx_ = iscsi_create_context(address_.initiator_name.c_str());
  if (ctx_ == nullptr) {
    FinishSessionOp(Status(
        NtStatus::kInsufficientResources,
        "iscsi: iscsi_create_context failed for initiator '" + address_.initiator_name + "'"));
    return;
  }
  // Our own cache of PDUs; reconnection and timeouts are ours (see the header).
  iscsi_set_cache_allocations(ctx_, 1);
  iscsi_set_noautoreconnect(ctx_, 1);
  std::string bad;
  if (iscsi_set_targetname(ctx_, address_.target_name.c_str()) != 0) {
    bad = "target name '" + address_.target_name + "': " + LibiscsiError(ctx_);
  } else if (iscsi_set_session_type(ctx_, ISCSI_SESSION_NORMAL) != 0) {
    bad = "session type: " + LibiscsiError(ctx_);
  } else if (iscsi_set_header_digest(ctx_, options_.header_digest) != 0) {
    bad = "header digest: " + LibiscsiError(ctx_);
  } else if (!options_.chap_username.empty() &&
             iscsi_set_initiator_username_pwd(ctx_, options_.chap_username.c_str(),
                                              options_.chap_secret.c_str()) != 0) {
    bad = "CHAP user '" + options_.chap_username + "' refused by libiscsi";
  } else if (!options_.target_chap_username.empty() &&
             iscsi_set_target_username_pwd(ctx_, options_.target_chap_username.c_str(),
                                           options_.target_chap_secret.c_str()) != 0) {
    bad = "mutual CHAP user '" + options_.target_chap_username + "' refused by libiscsi";
  } else if (!SetIsid(ctx_, address_.isid)) {
    bad = "ISID 0x" + [this] {
      char buf[20];
      std::snprintf(buf, sizeof buf, "%012llx", static_cast<unsigned long long>(address_.isid));
      return std::string(buf);
    }() + " cannot be sent by libiscsi 1.19 (EN/random types need byte A's low bits 0)";
  } else if (iscsi_connect_async(ctx_, address_.portal.c_str(), &IscsiNexus::OnTcpConnected,
                                 this) != 0) {
    bad = "connect to " + address_.portal + ": " + LibiscsiError(ctx_);
  }
  if (!bad.empty()) {
    TearDown(
        state_before_op_ == NexusState::kFailed ? NexusState::kFailed : NexusState::kDisconnected,
        Outcome::kConnectionLost, bad);
    FinishSessionOp(Status(NtStatus::kInvalidParameter, "iscsi: " + bad));
    return;
  }
  op_timer_ = executor_.PostAfter(options_.connect_timeout, [this] {
    op_timer_ = 0;
    OnConnectDeadline();
  });
  UpdateWatch();
  if (ctx_ != nullptr) ArmServiceTimer();
}

void IscsiNexus::OnConnectDeadline() {
  if (op_ != Op::kConnect) return;
  const std::string why = "connect and login to " + address_.portal + " (" + address_.target_name +
                          ") not done within " + std::to_string(Millis(options_.connect_timeout)) +
                          " ms";
  TearDown(
      state_before_op_ == NexusState::kFailed ? NexusState::kFailed : NexusState::kDisconnected,
      Outcome::kConnectionLost, why);
  FinishSessionOp(Status(NtStatus::kIoTimeout, "iscsi: " + why));
}

void IscsiNexus::OnTcpConnected(iscsi_context* ctx, int status, void* /*data*/, void* self) {
  auto* n = static_cast<IscsiNexus*>(self);
  if (n->op_ != Op::kConnect) return;
  if (status != SCSI_STATUS_GOOD) {
    n->NoteLoss("TCP connect to " + n->address_.portal + " failed: " + LibiscsiError(ctx));
    return;
  }
  if (iscsi_login_async(ctx, &IscsiNexus::OnLogin, n) != 0) {
    n->NoteLoss("login to " + n->address_.target_name +
                " could not be sent: " + LibiscsiError(ctx));
  }
}

void IscsiNexus::OnLogin(iscsi_context* ctx, int status, void* /*data*/, void* self) {
  auto* n = static_cast<IscsiNexus*>(self);
  if (n->op_ != Op::kConnect) return;
  if (status != SCSI_STATUS_GOOD) {
    n->NoteLoss("login to " + n->address_.target_name + " at " + n->address_.portal +
                " refused: " + LibiscsiError(ctx));
    return;
  }
  if (n->op_timer_ != 0) n->executor_.Cancel(n->op_timer_);
  n->op_timer_ = 0;
  n->SetState(NexusState::kConnected, false);
  n->nops_unanswered_ = 0;
  n->heard_at_tick_ = n->heard_;
  n->ArmNopTimer();
  n->FinishSessionOp(OkStatus());
}

void IscsiNexus::FinishSessionOp(Status status) {
  op_ = Op::kNone;
  if (op_timer_ != 0) executor_.Cancel(op_timer_);
  op_timer_ = 0;
  if (!status.ok()) last_error_ = status.message();
  if (op_done_) {
    Defer([done = std::move(op_done_), st = std::move(status)] { done(st); });
  }
  op_done_ = nullptr;
}

// ---------------------------------------------------------------------------
// Logout

void IscsiNexus::Logout(StatusCallback done) {
  assert(executor_.InExecutorThread());
  if (op_ != Op::kNone || state_ != NexusState::kConnected) {
    if (op_ == Op::kNone && state_ != NexusState::kConnecting) {
      // Nothing to log out of; a failed nexus just forgets its old session.
      SetState(NexusState::kDisconnected, false);
      Defer([done = std::move(done)] { done(OkStatus()); });
      return;
    }
    Defer([done = std::move(done)] {
      done(Status(NtStatus::kInvalidParameter, "iscsi: Logout while a connect or logout runs"));
    });
    return;
  }
  // From here Submit refuses (op_), and the commands in flight may finish.
  op_ = Op::kLogout;
  op_done_ = std::move(done);
  logout_sent_ = false;
  op_timer_ = executor_.PostAfter(options_.logout_timeout, [this] {
    op_timer_ = 0;
    OnLogoutDeadline();
  });
  MaybeSendLogout();
}

std::size_t IscsiNexus::HeldByLibiscsi() const {
  std::size_t held = 0;
  for (const auto& s : slots_) {
    if (s->in_libiscsi) ++held;
  }
  for (const auto& t : tmfs_) {
    if (t->active) ++held;
  }
  return held;
}

// Never inside iscsi_service (it may tear the context down): from Logout,
// and from Service once libiscsi returned.
void IscsiNexus::MaybeSendLogout() {
  if (op_ != Op::kLogout || logout_sent_ || HeldByLibiscsi() != 0) return;
  logout_sent_ = true;
  if (iscsi_logout_async(ctx_, &IscsiNexus::OnLogout, this) != 0) {
    const std::string why = "logout could not be sent: " + LibiscsiError(ctx_);
    TearDown(NexusState::kDisconnected, Outcome::kConnectionLost, why);
    FinishSessionOp(Status(NtStatus::kIoDeviceError, "iscsi: " + why));
    return;
  }
  UpdateWatch();
}

void IscsiNexus::OnLogoutDeadline() {
  if (op_ != Op::kLogout) return;
  const std::string bound = std::to_string(Millis(options_.logout_timeout)) + " ms";
  const std::string why = logout_sent_ ? "logout not answered within " + bound
                                       : "logout: " + std::to_string(HeldByLibiscsi()) +
                                             " commands or TMFs still unanswered after " + bound;
  // Whatever is still outstanding may yet reach the target: kConnectionLost.
  TearDown(NexusState::kDisconnected, Outcome::kConnectionLost, why);
  FinishSessionOp(Status(NtStatus::kIoTimeout, "iscsi: " + why));
}

void IscsiNexus::OnLogout(iscsi_context* /*ctx*/, int status, void* /*data*/, void* self) {
  auto* n = static_cast<IscsiNexus*>(self);
  if (n->op_ != Op::kLogout) return;
  // Acted on after iscsi_service returns (the context cannot go inside it).
  if (status == SCSI_STATUS_GOOD) {
    n->lost_ = true;
    n->lost_reason_.clear();  // an answered logout: not a failure
  } else {
    n->NoteLoss("logout failed: " + LibiscsiError(n->ctx_));
  }
}

// ---------------------------------------------------------------------------
// The descriptor and the service timer

void IscsiNexus::UpdateWatch() {
  if (ctx_ == nullptr) return;
  const int fd = iscsi_get_fd(ctx_);
  const int ev = iscsi_which_events(ctx_);
  std::uint32_t interest = 0;
  if ((ev & POLLIN) != 0) interest |= Executor::kFdReadable;
  if ((ev & POLLOUT) != 0) interest |= Executor::kFdWritable;
  if (fd != watched_fd_ || watch_ == 0) {
    if (watch_ != 0) executor_.Unwatch(watch_);
    watch_ = 0;
    watched_fd_ = fd;
    if (fd < 0) return;
    watch_ = executor_.Watch(fd, interest, [this](std::uint32_t events) { ServiceFd(events); });
    interest_ = interest;
    if (watch_ == 0) NoteLoss("descriptor " + std::to_string(fd) + " cannot be watched");
    return;
  }
  if (interest != interest_) {
    executor_.Modify(watch_, interest);
    interest_ = interest;
  }
}

void IscsiNexus::ServiceFd(std::uint32_t events) {
  int revents = 0;
  if ((events & Executor::kFdReadable) != 0) revents |= POLLIN;
  if ((events & Executor::kFdWritable) != 0) revents |= POLLOUT;
  if ((events & Executor::kFdError) != 0) revents |= POLLERR;
  Service(revents);
}

void IscsiNexus::ArmServiceTimer() {
  if (service_timer_ != 0) return;
  service_timer_ = executor_.PostAfter(options_.service_interval, [this] {
    service_timer_ = 0;
    OnServiceTimer();
  });
}

void IscsiNexus::OnServiceTimer() {
  if (ctx_ == nullptr) return;
  Service(0);
  if (ctx_ != nullptr) ArmServiceTimer();
}

// ---------------------------------------------------------------------------
// Liveness: the NOP-Out ping

void IscsiNexus::ArmNopTimer() {
  if (options_.nop_interval <= Duration::zero() || nop_timer_ != 0 ||
      state_ != NexusState::kConnected) {
    return;
  }
  nop_timer_ = executor_.PostAfter(options_.nop_interval, [this] {
    nop_timer_ = 0;
    OnNopTick();
  });
}

void IscsiNexus::OnNopTick() {
  // A logout has its own bound, and libiscsi corks the connection once the
  // Logout Request is out: no more pings (TearDown follows).
  if (state_ != NexusState::kConnected || op_ != Op::kNone) return;
  if (heard_ != heard_at_tick_) {
    // The target answered something this interval: alive, no ping needed.
    heard_at_tick_ = heard_;
    nops_unanswered_ = 0;
    ArmNopTimer();
    return;
  }
  if (nops_unanswered_ > 0) ++nops_missed_;
  // A limit of 0 would fail a healthy session at its first tick.
  if (nops_unanswered_ >= std::max<std::uint32_t>(options_.nop_missed_limit, 1)) {
    NoteLoss("connection to " + address_.portal + ": " + std::to_string(nops_unanswered_) +
             " NOP-Outs unanswered over " +
             std::to_string(Millis(executor_.Now() - nops_unanswered_since_)) + " ms");
    return;
  }
  // 1.19 returns 0 without queuing anything while it reconnects (never
  // here: auto-reconnect is off); such a ping just counts as unanswered.
  if (iscsi_nop_out_async(ctx_, &IscsiNexus::OnNopIn, nullptr, 0, this) != 0) {
    NoteLoss("NOP-Out to " + address_.portal + " could not be sent: " + LibiscsiError(ctx_));
    return;
  }
  if (nops_unanswered_++ == 0) nops_unanswered_since_ = executor_.Now();
  ++nops_sent_;
  UpdateWatch();  // now wants POLLOUT; may note a loss itself
  ArmNopTimer();
}

void IscsiNexus::OnNopIn(iscsi_context* /*ctx*/, int status, void* /*data*/, void* self) {
  auto* n = static_cast<IscsiNexus*>(self);
  if (status == SCSI_STATUS_GOOD) {
    n->nops_unanswered_ = 0;  // an answer to any of them: the target lives
    return;
  }
  // 1.19 with no auto-reconnect calls back only with CANCELLED: the
  // connection dropped (iscsi_defer_reconnect), or TearDown destroys the
  // context (then the loss noted here is forgotten).
  n->NoteLoss("connection to " + n->address_.portal + " lost (libiscsi cancelled a NOP-Out)");
}

void IscsiNexus::Service(int revents) {
  if (ctx_ == nullptr) return;
  in_service_ = true;
  const int rc = iscsi_service(ctx_, revents);
  in_service_ = false;
  // An error or hang-up on the socket is always the end of the connection,
  // but 1.19 without auto-reconnect returns 0 for it once logged in: it only
  // cancels what it holds (iscsi_defer_reconnect), so an idle session would
  // hear nothing — and the executor parks the watch after an error.
  if ((rc < 0 || (revents & POLLERR) != 0) && !lost_) {
    NoteLoss("connection to " + address_.portal + " lost: " + LibiscsiError(ctx_));
  }
  if (!lost_) UpdateWatch();  // may note a loss itself
  if (lost_) {
    ActOnLoss();
  } else if (op_ == Op::kLogout) {
    MaybeSendLogout();  // the last command in flight may have just finished
  }
}

void IscsiNexus::ActOnLoss() {
  lost_ = false;
  const std::string why = std::move(lost_reason_);
  lost_reason_.clear();
  switch (op_) {
    case Op::kConnect:
      TearDown(
          state_before_op_ == NexusState::kFailed ? NexusState::kFailed : NexusState::kDisconnected,
          Outcome::kConnectionLost, why);
      FinishSessionOp(Status(NtStatus::kDeviceNotReady, "iscsi: " + why));
      return;
    case Op::kLogout:
      // Answered: the target ended the session, so what it still held will
      // not execute (a fence: kAborted). Lost instead: kConnectionLost.
      TearDown(NexusState::kDisconnected,
               why.empty() ? Outcome::kAborted : Outcome::kConnectionLost, why);
      FinishSessionOp(why.empty() ? OkStatus() : Status(NtStatus::kIoDeviceError, "iscsi: " + why));
      return;
    case Op::kNone:
      TearDown(NexusState::kFailed, Outcome::kConnectionLost, why);
      return;
  }
}

void IscsiNexus::NoteLoss(std::string why) {
  if (lost_) return;  // the first reason is the one that matters
  lost_ = true;
  lost_reason_ = std::move(why);
  // Seen outside iscsi_service (a failed send from Submit or a timer): the
  // context can go at once. Inside, Service() acts once libiscsi returns.
  if (!in_service_) ActOnLoss();
}

void IscsiNexus::TearDown(NexusState to, Outcome outcome, std::string why) {
  assert(!in_service_);
  if (!why.empty()) last_error_ = why;
  if (watch_ != 0) executor_.Unwatch(watch_);
  watch_ = 0;
  watched_fd_ = -1;
  interest_ = 0;
  if (service_timer_ != 0) executor_.Cancel(service_timer_);
  service_timer_ = 0;
  if (nop_timer_ != 0) executor_.Cancel(nop_timer_);
  nop_timer_ = 0;
  if (ctx_ != nullptr) {
    // iscsi_cancel_pdus calls our callbacks (CANCELLED) only while libiscsi
    // thinks it is logged in; the sweep below covers the rest.
    in_service_ = true;
    iscsi_destroy_context(ctx_);
    in_service_ = false;
    ctx_ = nullptr;
  }
  lost_ = false;
  lost_reason_.clear();
  for (auto& sp : slots_) {
    Slot& s = *sp;
    if (!s.in_use) continue;
    s.in_libiscsi = false;
    s.quarantined = false;                                        // its PDUs went with the context
    if (s.task.datain.data != nullptr) free(s.task.datain.data);  // NOLINT: libiscsi's malloc
    s.task.datain.data = nullptr;
    if (!s.decided) Decide(s, outcome);
    MaybeFree(s);
  }
  for (auto& t : tmfs_) {
    if (t->active) FinishTmf(*t, TmfResponse::kNotConnected);
  }
  // The listener hears only of changes nobody asked for (transport.h).
  SetState(to, op_ == Op::kNone);
}

}  // namespace openmpio::transport::iscsi

// Path failure, recovery and verification (DESIGN.md "Timers"):
//  - A transport failure (connection lost, timeout, not sent) fails every
//    path of the nexus (MSDSM: all devices on one path id fail over
//    together); a SCSI answer that the error table calls a path fault fails
//    that one path. Either publishes new snapshots at once; re-dispatch is
//    immediate (request.cpp).
//  - A nexus with a failed path is probed with back-off from RetryInterval
//    up to PathRecoveryInterval — but every RetryInterval while one of its
//    disks has no usable path, so a path that returns within the no-path time
//    is found in time. A probe logs in again if the session is down (session
//    reinstatement), sends TEST UNIT READY to each LU — GOOD, or NOT READY
//    04/0A / 04/0B / 04/0C (alive but not active) verifies the path — then
//    refreshes ALUA and reinstates it. Failback is the policy's: the snapshot
//    built after reinstatement puts a returning A/O path back in the set (FOO
//    only to its preferred path, path_state.h rule 7).
//  - Path verification (PathVerifyEnabled): every PathVerificationPeriod a
//    TEST UNIT READY on every online path; a failure fails it.
// Everything here runs on the control executor; the commands on the nexus's.
//  - Marginal paths (EngineConfig::marginal_path_*): every failure of a
//    nexus (FailNexus, or FailPath of one of its paths) is timed; at the
//    reinstatement that follows the Nth within the window the nexus is held
//    out instead, probed again when the hold ends — unless one of its disks
//    has no other usable path.
#include <algorithm>
#include <memory>
#include <string>
#include <utility>

#include "dsm/policy.h"
#include "engine/engine_impl.h"
#include "scsi/block_commands.h"
#include "scsi/sense.h"

namespace openmpio::engine {
namespace {

enum class Verdict : std::uint8_t { kAlive, kPathFault, kTransportFault };

Verdict Classify(const transport::Result& r) {
  if (r.outcome != transport::Outcome::kCompleted) return Verdict::kTransportFault;
  if (r.status == scsi::ScsiStatus::kGood) return Verdict::kAlive;
  if (r.status == scsi::ScsiStatus::kCheckCondition) {
    if (auto s = scsi::ParseSense(r.sense_bytes())) {
      // spec/scsi-alua.md: a TUR answered 04/0B or 04/0C means alive, not
      // failed; 04/0A (transitioning) likewise — the group is changing.
      if (s->key == scsi::SenseKey::kNotReady && s->asc == 0x04 &&
          (s->ascq == 0x0A || s->ascq == 0x0B || s->ascq == 0x0C)) {
        return Verdict::kAlive;
      }
    }
  }
  return Verdict::kPathFault;
}

}  // namespace

void Engine::Impl::FailNexus(NexusRuntime& n, const std::string& why) {
  if (n.failed) return;
  n.failed = true;
  n.backoff = timers.retry_interval();
  n.stats.path_failures.fetch_add(1, std::memory_order_relaxed);
  NoteFailure(n);
  for (const auto& lu : n.lus) {
    lu.disk->disk->SetVerification(n.nexus->id, dsm::PathVerification::kFailed).IgnoreError();
    RecordEvent(lu.disk, "path " + dsm::PathIdText(n.nexus->id) + " failed: " + why);
    Publish(*lu.disk);
  }
  ScheduleProbe(n);
}

void Engine::Impl::FailPath(DiskRuntime& d, std::uint32_t path_index, const std::string& why) {
  if (path_index >= d.disk->paths.size()) return;
  dsm::Path& p = d.disk->paths[path_index];
  NexusRuntime* n = d.path_nexus[path_index].load(std::memory_order_acquire);
  if (p.verification != dsm::PathVerification::kFailed) {
    p.verification = dsm::PathVerification::kFailed;
    if (n != nullptr) {
      n->stats.path_failures.fetch_add(1, std::memory_order_relaxed);
      NoteFailure(*n);
    }
    RecordEvent(&d, "path " + dsm::PathIdText(p.id()) + " failed: " + why);
    Publish(d);
  }
  if (n != nullptr) ScheduleProbe(*n);
}

// "Without path": none that can serve I/O — paths left only in Standby or
// Unavailable groups (awaiting activation) do not count.
bool Engine::Impl::AnyDiskWithoutPath(const NexusRuntime& n) const {
  for (const auto& lu : n.lus) {
    if (!ServesIo(lu.disk->snapshot.current())) return true;
  }
  return false;
}

void Engine::Impl::NoteFailure(NexusRuntime& n) {
  if (config.marginal_path_failures == 0) return;
  const TimePoint now = control.Now();
  n.failure_times.push_back(now);
  while (!n.failure_times.empty() && now - n.failure_times.front() > config.marginal_path_window) {
    n.failure_times.pop_front();
  }
}

bool Engine::Impl::HoldAsMarginal(NexusRuntime& n) {
  if (config.marginal_path_failures == 0 || AnyDiskWithoutPath(n)) return false;
  const TimePoint now = control.Now();
  if (now < n.held_until) return true;
  while (!n.failure_times.empty() && now - n.failure_times.front() > config.marginal_path_window) {
    n.failure_times.pop_front();
  }
  if (n.failure_times.size() < config.marginal_path_failures) return false;
  n.failure_times.clear();  // a fresh count after the hold
  n.held_until = now + config.marginal_path_hold;
  n.stats.marginal_holds.fetch_add(1, std::memory_order_relaxed);
  return true;
}

void Engine::Impl::ScheduleProbe(NexusRuntime& n, bool at_once) {
  if (shutting_down || n.probing) return;
  const bool starving = AnyDiskWithoutPath(n);
  Duration delay = starving ? timers.retry_interval() : n.backoff;
  if (!starving && n.held_until > control.Now()) delay = n.held_until - control.Now();
  if (at_once) delay = Duration{0};
  const TimePoint due = control.Now() + delay;
  if (n.probe_timer != 0) {
    if (n.probe_due <= due) return;
    control.Cancel(n.probe_timer);  // a disk lost its last path: probe sooner
  }
  n.probe_due = due;
  NexusRuntime* np = &n;
  n.probe_timer = control.PostAfter(delay, [this, np]() {
    np->probe_timer = 0;
    Probe(*np);
  });
}

void Engine::Impl::Probe(NexusRuntime& n) {
  n.probing = true;
  n.stats.probes.fetch_add(1, std::memory_order_relaxed);
  NexusRuntime* np = &n;
  std::weak_ptr<bool> token = alive;
  auto after_login = [this, np](const Status& s) {
    np->last_state = np->transport->state();
    if (!s.ok()) {
      NoteLoginFailure(*np, s);
      np->probing = false;
      np->backoff = std::min<Duration>(np->backoff * 2, config.path_recovery_interval);
      ScheduleProbe(*np);
      return;
    }
    if (np->lus.empty()) {
      // Its first discovery failed at login: discover now.
      np->probing = false;
      np->failed = false;
      np->discovered = false;
      StartDiscoveryAfterLogin(*np);
      return;
    }
    VerifyLus(*np, 0, /*reinstate=*/true);
  };
  // The transport's state is read on its own executor.
  n.executor->Post([this, np, token, after_login]() {
    if (token.expired()) return;
    if (np->transport->state() == transport::NexusState::kConnected) {
      control.Post([token, after_login]() {
        if (!token.expired()) after_login(OkStatus());
      });
      return;
    }
    np->transport->Connect([this, np, token, after_login](const Status& s) {
      // Session reinstatement: the target ended the old session, a fence for
      // every copy sent on it (fence.cpp).
      if (s.ok()) np->session.fetch_add(1, std::memory_order_relaxed);
      control.Post([this, np, token, after_login, s]() {
        if (token.expired()) return;
        if (s.ok()) OnSessionEstablished(*np);
        after_login(s);
      });
    });
  });
}

// TEST UNIT READY on each LU of the nexus, one after the other; then
// reinstate (probe) or fail what did not answer (verification).
void Engine::Impl::VerifyLus(NexusRuntime& n, std::size_t i, bool reinstate) {
  struct Run {
    std::vector<Verdict> verdicts;
  };
  auto run = std::make_shared<Run>();
  auto step = std::make_shared<std::function<void(std::size_t)>>();
  NexusRuntime* np = &n;
  *step = [this, np, run, step, reinstate](std::size_t k) {
    const bool transport_fault =
        !run->verdicts.empty() && run->verdicts.back() == Verdict::kTransportFault;
    if (k >= np->lus.size() || transport_fault) {
      control.Post([step]() { *step = nullptr; });
      if (transport_fault) {
        if (reinstate) {
          np->probing = false;
          np->backoff = std::min<Duration>(np->backoff * 2, config.path_recovery_interval);
          ScheduleProbe(*np);
        } else {
          FailNexus(*np, "path verification: transport failure");
        }
        return;
      }
      if (reinstate && HoldAsMarginal(*np)) {
        np->probing = false;
        ScheduleProbe(*np);  // when the hold ends
        return;
      }
      // Before RefreshAlua picks its path: a reinstated nexus may be the only one.
      if (reinstate) np->failed = false;
      bool all_alive = true;
      for (std::size_t j = 0; j < np->lus.size(); ++j) {
        DiskRuntime& d = *np->lus[j].disk;
        const auto idx = d.disk->IndexOf(np->nexus->id);
        if (!idx) continue;
        dsm::Path& p = d.disk->paths[*idx];
        if (run->verdicts[j] == Verdict::kAlive) {
          if (reinstate && !p.online()) {
            p.verification = dsm::PathVerification::kOnline;
            np->stats.reinstatements.fetch_add(1, std::memory_order_relaxed);
            DiskRuntime* dp = &d;
            if (dsm::HasAlua(d.disk->alua)) {
              // Publishes with fresh group states (and once more if no RTPG answered).
              RefreshAlua(d, [this, dp]() { Publish(*dp); });
            } else {
              Publish(*dp);
            }
          }
        } else {
          all_alive = false;
          if (p.online()) FailPath(d, static_cast<std::uint32_t>(*idx), "TEST UNIT READY failed");
        }
      }
      if (reinstate) {
        np->probing = false;
        np->failed = false;
        np->backoff = timers.retry_interval();
        if (!all_alive) ScheduleProbe(*np);
        // The nexus answers again: ask ABORT TASK for fence entries whose
        // timer retries ended with their no-path time (fence.cpp).
        for (const auto& lu : np->lus) {
          if (lu.disk->unknown_fate_count() != 0) StartFences(*lu.disk);
        }
      }
      return;
    }
    IssueCommand(*np, np->lus[k].lun, scsi::BuildTestUnitReadyCdb(), 0,
                 [run, step, k](const transport::Result& r, std::span<const std::byte>) {
                   run->verdicts.push_back(Classify(r));
                   if (*step) (*step)(k + 1);
                 });
  };
  (*step)(i);
}

// A login that fails (refused, timed out, CHAP rejected) is told once per
// reason, not at every probe: the operator sees why a path is missing.
void Engine::Impl::NoteLoginFailure(NexusRuntime& n, const Status& s) {
  if (s.message() == n.last_login_error) return;
  n.last_login_error = s.message();
  const transport::NexusAddress& a = n.transport->address();
  RecordEvent(nullptr, "path " + dsm::PathIdText(n.nexus->id) + " (" + a.portal + ", " +
                           a.target_name + "): login failed: " + s.ToString());
}

void Engine::Impl::OnNexusState(NexusRuntime& n, transport::NexusState s) {
  n.last_state = s;
  if (s == transport::NexusState::kFailed && n.discovered) FailNexus(n, "connection lost");
}

void Engine::Impl::ScheduleVerification() {
  verify_timer = control.PostAfter(config.path_verification_period, [this]() {
    verify_timer = 0;
    for (auto& n : nexuses) {
      if (!n->failed && !n->probing && n->discovered && !n->lus.empty()) {
        VerifyLus(*n, 0, /*reinstate=*/false);
      }
    }
    ScheduleVerification();
  });
}

}  // namespace openmpio::engine

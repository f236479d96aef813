// ALUA refresh (spec/scsi-alua.md RTPG; DESIGN.md "Layers": refreshes are
// coalesced, at most one RTPG in flight per LU, one answer for every group).
// Requests that asked while an RTPG was in flight wait for the next one: the
// unit attention that sent them may report a change newer than the RTPG in
// flight. RTPG is asked through any path whose nexus is up (every access state
// answers it), online paths first; a path whose RTPG fails is skipped.
//
// An answer longer than the allocation is asked again with the length the
// target claimed (rtpg.h's re-issue contract). Explicit failover and
// management STPGs are explicit_alua.cpp.
//
// No path can serve (issue 13): a disk whose paths answer but whose groups
// are all Standby, Unavailable, Transitioning or Offline hears of a change
// only through a command, and with nothing to send on it would never ask
// again. So while that lasts — whether requests wait or not — the states are
// re-read every RetryInterval (UpdateAluaPoll); each answer publishes, and
// the publication stops the re-reads once a path can serve, sends the
// explicit failover's STPG (explicit_alua.cpp) or releases the no-path queue.
// Paths that do not answer are the path monitor's: it probes them every
// RetryInterval while the disk has no usable path and re-reads on reinstatement.
#include <algorithm>
#include <chrono>
#include <string>
#include <utility>

#include "engine/engine_impl.h"
#include "scsi/rtpg.h"

namespace openmpio::engine {

void Engine::Impl::RefreshAlua(DiskRuntime& d, std::function<void()> then) {
  if (d.failover_stpg.in_flight()) {
    // Answered by the RTPG after the explicit-failover STPG (explicit_alua.cpp).
    d.failover_waiters.push_back(std::move(then));
    return;
  }
  if (d.refresh.Ask(std::move(then))) StartRefresh(d, 0);
}

void Engine::Impl::StartRefresh(DiskRuntime& d, std::size_t attempt) {
  StartRefreshWith(d, attempt, scsi::kRtpgInitialAllocation);
}

namespace {

// "group 1 Standby, group 2 Transitioning" for events.
std::string GroupsText(const dsm::Disk& disk) {
  std::string text;
  for (const dsm::LuGroupState& g : disk.groups) {
    if (!text.empty()) text += ", ";
    text += "group " + std::to_string(g.tpg_id) + " " + scsi::AccessStateName(g.state);
  }
  return text.empty() ? "no group reported" : text;
}

// rtpg.h's re-issue contract: a truncated answer is asked again with the
// length the target claimed (RETURN DATA LENGTH + 4), bounded here so a
// lying header cannot make us allocate without limit (SPC-4 6.36: the
// ALLOCATION LENGTH field is 32 bits; 1 MiB holds thousands of groups).
constexpr std::uint64_t kRtpgMaxAllocation = 1U << 20;

Status RtpgStatus(const transport::Result& r, const char* what) {
  std::string msg = std::string("REPORT TARGET PORT GROUPS: ") + what;
  if (r.outcome != transport::Outcome::kCompleted) {
    msg += std::string(" (") + transport::OutcomeName(r.outcome) + ")";
  }
  return Status(NtStatus::kIoDeviceError, std::move(msg));
}

}  // namespace

void Engine::Impl::StartRefreshWith(DiskRuntime& d, std::size_t attempt, std::uint32_t allocation) {
  // Candidates: online paths first, then any other path whose nexus is up.
  std::vector<std::uint32_t> order;
  for (int pass = 0; pass < 2; ++pass) {
    for (std::size_t i = 0; i < d.disk->paths.size(); ++i) {
      NexusRuntime* n = d.path_nexus[i].load(std::memory_order_acquire);
      if (n == nullptr || n->failed) continue;
      if ((pass == 0) != d.disk->paths[i].online()) continue;
      order.push_back(static_cast<std::uint32_t>(i));
    }
  }
  DiskRuntime* dp = &d;
  auto finish = [this, dp](bool ok) {
    dp->refresh_ok = ok;
    if (ok) dp->refresh_status = OkStatus();
    for (auto& w : dp->refresh.Finish()) w();
    if (dp->refresh.StartNext()) StartRefresh(*dp, 0);
  };
  if (attempt >= order.size()) {
    if (order.empty()) {
      dp->refresh_status =
          Status(NtStatus::kDeviceNotReady,
                 "REPORT TARGET PORT GROUPS: no path of disk " + d.name + " can carry commands");
    }
    finish(false);  // nobody answered: the waiters re-dispatch on what we know
    return;
  }
  const std::uint32_t idx = order[attempt];
  NexusRuntime& n = *d.path_nexus[idx].load(std::memory_order_acquire);
  const std::uint64_t lun = d.path_lun[idx].load(std::memory_order_relaxed);
  scsi::RtpgCdb rc;
  rc.format = scsi::RtpgFormat::kExtended;
  rc.allocation_length = allocation;
  IssueCommand(n, lun, scsi::BuildRtpgCdb(rc), allocation,
               [this, dp, attempt, allocation, finish](const transport::Result& r,
                                                       std::span<const std::byte> data) {
                 const bool good = r.outcome == transport::Outcome::kCompleted &&
                                   r.status == scsi::ScsiStatus::kGood;
                 auto parsed = good ? scsi::ParseRtpg(data, allocation)
                                    : scsi::ParseResult<scsi::RtpgData>(
                                          scsi::Fail(scsi::ParseErrc::kEmpty, 0, "RTPG failed"));
                 if (parsed && parsed->truncated) {
                   const std::uint64_t want = parsed->required_allocation_length;
                   if (want > allocation && want <= kRtpgMaxAllocation) {
                     StartRefreshWith(*dp, attempt, static_cast<std::uint32_t>(want));
                   } else {
                     dp->refresh_status =
                         RtpgStatus(r, "answer longer than it claims or than 1 MiB");
                     StartRefreshWith(*dp, attempt + 1, scsi::kRtpgInitialAllocation);
                   }
                   return;
                 }
                 if (!parsed) {
                   dp->refresh_status = RtpgStatus(r, good ? "answer not understood" : "failed");
                   StartRefreshWith(*dp, attempt + 1, scsi::kRtpgInitialAllocation);
                   return;
                 }
                 std::vector<dsm::LuGroupState> states;
                 for (const scsi::TargetPortGroupDescriptor& g : parsed->groups) {
                   dsm::LuGroupState s;
                   s.tpg_id = g.target_port_group;
                   s.state = g.state;
                   s.preferred = g.pref;
                   s.supported = g.supported;
                   states.push_back(s);
                   // Group membership is the target device's (topology.h); paths that
                   // reported no group in VPD 0x83 take it from RTPG.
                   auto& groups = dp->disk->device->groups;
                   dsm::TargetPortGroup* tg = nullptr;
                   for (auto& existing : groups) {
                     if (existing.id == g.target_port_group) tg = &existing;
                   }
                   if (tg == nullptr) {
                     groups.push_back(dsm::TargetPortGroup{g.target_port_group, {}});
                     tg = &groups.back();
                   }
                   tg->relative_target_ports = g.relative_target_ports;
                   for (dsm::Path& p : dp->disk->paths) {
                     if (p.tpg_id) continue;
                     for (std::uint16_t port : g.relative_target_ports) {
                       if (port == p.relative_target_port) p.tpg_id = g.target_port_group;
                     }
                   }
                 }
                 // ALUA change per (LU, group) (DESIGN.md "Events").
                 for (const dsm::LuGroupState& g : states) {
                   const dsm::LuGroupState* old = dp->disk->GroupState(g.tpg_id);
                   if (old != nullptr && old->state != g.state) {
                     RecordEvent(dp, "ALUA: target port group " + std::to_string(g.tpg_id) + " " +
                                         scsi::AccessStateName(old->state) + " -> " +
                                         scsi::AccessStateName(g.state));
                   }
                 }
                 dp->disk->UpdateGroups(states, parsed->implicit_transition_time, NowMs());
                 Publish(*dp);
                 finish(true);
               });
}

bool Engine::Impl::NeedsAluaPoll(const DiskRuntime& d) const {
  if (shutting_down || !dsm::HasAlua(d.disk->alua) || d.removed.load(std::memory_order_relaxed)) {
    return false;
  }
  if (ServesIo(d.snapshot.current())) return false;
  for (std::size_t i = 0; i < d.disk->paths.size(); ++i) {
    const NexusRuntime* n = d.path_nexus[i].load(std::memory_order_acquire);
    if (d.disk->paths[i].online() && n != nullptr && !n->failed) return true;
  }
  return false;
}

void Engine::Impl::UpdateAluaPoll(DiskRuntime& d) {
  if (!NeedsAluaPoll(d)) {
    if (d.alua_poll_timer != 0) {
      control.Cancel(d.alua_poll_timer);
      d.alua_poll_timer = 0;
    }
    if (d.alua_polling) {
      d.alua_polling = false;
      RecordEvent(&d, ServesIo(d.snapshot.current())
                          ? "a path can serve I/O again (" + GroupsText(*d.disk) +
                                "): ALUA re-reads stopped"
                          : std::string("ALUA re-reads stopped: no path answers (the path "
                                        "monitor probes them)"));
    }
    return;
  }
  // RetryInterval is at least 1 s (dsm/settings.h): no floor of our own.
  const Duration every = timers.retry_interval();
  if (!d.alua_polling) {
    d.alua_polling = true;
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(every).count();
    RecordEvent(&d, "no usable path (" + GroupsText(*d.disk) +
                        "): re-reading ALUA state every RetryInterval (" + std::to_string(ms) +
                        " ms)");
  }
  if (d.alua_poll_timer != 0) return;
  DiskRuntime* dp = &d;
  d.alua_poll_timer = control.PostAfter(every, [this, dp]() {
    dp->alua_poll_timer = 0;
    // An RTPG (or the failover's STPG) still in flight publishes when it
    // answers; only the next turn is due now.
    if (!NeedsAluaPoll(*dp) || dp->refresh.in_flight() || dp->failover_stpg.in_flight()) {
      UpdateAluaPoll(*dp);
      return;
    }
    // A refresh that no path answered publishes nothing: the next turn is
    // armed here (after a publication, UpdateAluaPoll finds it armed).
    RefreshAlua(*dp, [this, dp]() { UpdateAluaPoll(*dp); });
  });
}

}  // namespace openmpio::engine

// ALUA refresh (spec/scsi-alua.md RTPG; DESIGN.md "Layers": refreshes are
// coalesced, at most one RTPG in flight per LU, one answer for every group).
// Requests that asked while an RTPG was in flight wait for the next one: the
// unit attention that sent them may report a change newer than the RTPG in
// flight. RTPG is asked through any path whose nexus is up (every access state
// answers it), online paths first; a path whose RTPG fails is skipped.
//
// Later step: explicit failover — PathStateResult::groups_to_activate names
// the groups to move to A/O with STPG; the engine will issue it here, after
// the refresh that showed no active group.
#include <utility>

#include "engine/engine_impl.h"
#include "scsi/rtpg.h"

namespace openmpio::engine {

void Engine::Impl::RefreshAlua(DiskRuntime& d, std::function<void()> then) {
  d.refresh_waiters.push_back(std::move(then));
  if (d.refresh_in_flight) return;
  d.refresh_in_flight = true;
  d.current_waiters = std::move(d.refresh_waiters);
  d.refresh_waiters.clear();
  StartRefresh(d, 0);
}

void Engine::Impl::StartRefresh(DiskRuntime& d, std::size_t attempt) {
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
  auto finish = [this, dp]() {
    dp->refresh_in_flight = false;
    std::vector<std::function<void()>> batch = std::move(dp->current_waiters);
    dp->current_waiters.clear();
    for (auto& w : batch) w();
    if (!dp->refresh_waiters.empty() && !dp->refresh_in_flight) {
      dp->refresh_in_flight = true;
      dp->current_waiters = std::move(dp->refresh_waiters);
      dp->refresh_waiters.clear();
      StartRefresh(*dp, 0);
    }
  };
  if (attempt >= order.size()) {
    finish();  // nobody answered: the waiters re-dispatch on what we know
    return;
  }
  const std::uint32_t idx = order[attempt];
  NexusRuntime& n = *d.path_nexus[idx].load(std::memory_order_acquire);
  const std::uint64_t lun = d.path_lun[idx].load(std::memory_order_relaxed);
  scsi::RtpgCdb rc;
  rc.format = scsi::RtpgFormat::kExtended;
  rc.allocation_length = scsi::kRtpgInitialAllocation;
  IssueCommand(
      n, lun, scsi::BuildRtpgCdb(rc), scsi::kRtpgInitialAllocation,
      [this, dp, attempt, finish](const transport::Result& r, std::span<const std::byte> data) {
        const bool good = r.outcome == transport::Outcome::kCompleted &&
                          r.status == scsi::ScsiStatus::kGood;
        auto parsed = good ? scsi::ParseRtpg(data, scsi::kRtpgInitialAllocation)
                           : scsi::ParseResult<scsi::RtpgData>(
                                 scsi::Fail(scsi::ParseErrc::kEmpty, 0, "RTPG failed"));
        if (!parsed || parsed->truncated) {
          // [C] 4 KiB holds 100+ groups; a longer answer is treated as a
          // failure of this path's RTPG rather than re-issued in this step.
          StartRefresh(*dp, attempt + 1);
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
        dp->disk->UpdateGroups(states, parsed->implicit_transition_time, NowMs());
        Publish(*dp);
        finish();
      });
}

}  // namespace openmpio::engine

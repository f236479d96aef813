// Explicit ALUA: SET TARGET PORT GROUPS (SPC-4 6.44) for
//  - explicit failover (DESIGN.md "Layers", the Engine issue: "where no AO
//    path is usable and the storage allows explicit transitions: STPG to make
//    the chosen group active for that LU, once, coordinated among concurrent
//    requests"). The DSM says when: a snapshot in failover mode whose usable
//    paths sit in groups that are not active names them in
//    PathStateResult::groups_to_activate (explicit ALUA only). Publish calls
//    MaybeExplicitFailover; one STPG per LU is in flight, and ALUA refreshes
//    asked meanwhile (requests that met 04/0B on a standby path) wait for it
//    and are answered by the RTPG that follows it — so they are released
//    onto the group the STPG activated. An STPG that did not make the group
//    active is not repeated for PathRecoveryInterval (the array refused it;
//    the requests keep their no-path / retry bounds).
//  - a management set (spec/msdsm.md §4 step 14): STPG down the path that
//    was AO before the call, RTPG, then CommitSetPolicy; a failure of either
//    command is the set's Status and the previous policy stays.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <optional>
#include <string>
#include <utility>

#include "engine/engine_impl.h"
#include "scsi/sense.h"
#include "scsi/stpg.h"

namespace openmpio::engine {
namespace {

// The STPG's answer: as data in the Status (status.h) and as text.
Status StpgStatus(const transport::Result& r) {
  std::string msg = "SET TARGET PORT GROUPS: ";
  std::optional<SenseCode> sense;
  if (r.outcome != transport::Outcome::kCompleted) {
    msg += transport::OutcomeName(r.outcome);
  } else if (r.status == scsi::ScsiStatus::kCheckCondition) {
    msg += "CHECK CONDITION";
    sense = SenseOf(r);
    if (sense) msg += SenseSuffix(*sense);
  } else {
    char buf[32];
    std::snprintf(buf, sizeof buf, "status 0x%02X", static_cast<unsigned>(r.status));
    msg += buf;
  }
  Status st(NtStatus::kIoDeviceError, std::move(msg));
  if (sense) st.SetSense(*sense);
  if (r.outcome == transport::Outcome::kCompleted &&
      r.status == scsi::ScsiStatus::kReservationConflict) {
    st.SetReservationConflict();
  }
  return st;
}

// A path of `d` whose nexus can carry commands now.
bool CanCarry(const DiskRuntime& d, std::size_t i) {
  const NexusRuntime* n = d.path_nexus[i].load(std::memory_order_acquire);
  return n != nullptr && !n->failed;
}

}  // namespace

void Engine::Impl::SendStpg(DiskRuntime& d, std::uint32_t path_index,
                            std::vector<std::uint16_t> tpgs,
                            std::function<void(const Status&)> done) {
  NexusRuntime& n = *d.path_nexus[path_index].load(std::memory_order_acquire);
  const std::uint64_t lun = d.path_lun[path_index].load(std::memory_order_relaxed);
  std::vector<scsi::StpgDescriptor> descs;
  descs.reserve(tpgs.size());
  for (std::uint16_t g : tpgs) {
    descs.push_back(scsi::StpgDescriptor{scsi::AsymmetricAccessState::kActiveOptimized, g});
  }
  std::vector<std::byte> list(scsi::StpgParameterListLength(descs.size()));
  scsi::BuildStpgParameterList(descs, scsi::MutableBytes(list));
  scsi::StpgCdb cdb;
  cdb.parameter_list_length = static_cast<std::uint32_t>(list.size());
  // A unit attention (the STPG of another initiator, a reset) is asked again
  // by IssueCommand's retry; anything else is the answer.
  IssueCommandOut(n, lun, scsi::BuildStpgCdb(cdb), std::move(list),
                  [done = std::move(done)](const transport::Result& r, std::span<const std::byte>) {
                    const bool good = r.outcome == transport::Outcome::kCompleted &&
                                      r.status == scsi::ScsiStatus::kGood;
                    done(good ? OkStatus() : StpgStatus(r));
                  });
}

void Engine::Impl::MaybeExplicitFailover(DiskRuntime& d) {
  if (shutting_down || d.failover_stpg.in_flight()) return;
  if (!dsm::HasExplicitAlua(d.disk->alua)) return;
  const dsm::SelectionSnapshot* s = d.snapshot.current();
  if (s == nullptr || s->states().groups_to_activate.empty()) return;
  if (control.Now() < d.failover_retry_after) return;
  // Through a promoted path (a standby port answers STPG, SPC-4 5.15.2.4).
  std::optional<std::uint32_t> via;
  for (const dsm::SnapshotEntry& e : s->usable()) {
    if (CanCarry(d, e.path_index)) {
      via = e.path_index;
      break;
    }
  }
  if (!via) return;
  std::vector<std::uint16_t> groups = s->states().groups_to_activate;
  std::string what = "SET TARGET PORT GROUPS: group";
  for (std::uint16_t g : groups) what += " " + std::to_string(g);
  what += " to Active/Optimized";
  const dsm::Path& p = d.disk->paths[*via];
  RecordEvent(&d, "explicit failover: " + what + " through relative target port " +
                      std::to_string(p.relative_target_port) + " (no active group left)");
  if (!d.failover_stpg.TryStart()) return;
  d.failover_stpgs.fetch_add(1, std::memory_order_relaxed);
  DiskRuntime* dp = &d;
  SendStpg(d, *via, std::move(groups), [this, dp, what](const Status& st) {
    (void)dp->failover_stpg.Finish();  // never asked again: the next publication decides
    RecordEvent(dp, st.ok() ? what + ": GOOD" : what + " failed: " + st.ToString());
    std::vector<std::function<void()>> waiters = std::move(dp->failover_waiters);
    dp->failover_waiters.clear();
    // Not asked again before the re-read says whether it worked: the
    // publication of that re-read would otherwise send the next STPG at once.
    dp->failover_retry_after = control.Now() + config.path_recovery_interval;
    // One RTPG after the STPG answers them all (RefreshAlua coalesces).
    RefreshAlua(*dp, [this, dp, st, what]() {
      const dsm::SelectionSnapshot* now = dp->snapshot.current();
      if (st.ok() && (now == nullptr || now->states().groups_to_activate.empty())) {
        dp->failover_retry_after = TimePoint{};  // it worked: a later failover may ask at once
        return;
      }
      const auto secs =
          std::chrono::duration_cast<std::chrono::seconds>(config.path_recovery_interval).count();
      RecordEvent(dp, what + " did not make the group active; not asked again for " +
                          std::to_string(secs) + " s (PathRecoveryInterval)");
    });
    for (auto& w : waiters) RefreshAlua(*dp, std::move(w));
  });
}

void Engine::Impl::ExecutePlan(DiskRuntime& d, dsm::SetPolicyPlan plan,
                               std::function<void(Status)> done) {
  for (const dsm::PlannedPath& pp : plan.paths) {
    if (pp.index >= d.disk->paths.size() || d.disk->paths[pp.index].id() != pp.id) {
      done(InvalidParameter("the LUN's paths changed since the checks"));
      return;
    }
  }
  if (!plan.stpg) {
    Status st = dsm::CommitSetPolicy(*d.disk, plan);
    if (st.ok()) Publish(d);
    done(std::move(st));
    return;
  }
  // Down the path that was AO before the call; if its nexus cannot carry
  // commands now, any path whose can ([C]: STPG is served by every port).
  std::optional<std::uint32_t> via;
  if (auto i = d.disk->IndexOf(plan.stpg->via); i && CanCarry(d, *i)) {
    via = static_cast<std::uint32_t>(*i);
  }
  for (std::size_t i = 0; i < d.disk->paths.size() && !via; ++i) {
    if (d.disk->paths[i].online() && CanCarry(d, i)) via = static_cast<std::uint32_t>(i);
  }
  for (std::size_t i = 0; i < d.disk->paths.size() && !via; ++i) {
    if (CanCarry(d, i)) via = static_cast<std::uint32_t>(i);
  }
  if (!via) {
    done(Status(NtStatus::kDeviceNotReady,
                "disk " + d.name + ": no path can carry SET TARGET PORT GROUPS"));
    return;
  }
  d.policy_stpgs.fetch_add(1, std::memory_order_relaxed);
  DiskRuntime* dp = &d;
  std::vector<std::uint16_t> tpgs = plan.stpg->tpg_ids;
  auto shared_plan = std::make_shared<dsm::SetPolicyPlan>(std::move(plan));
  SendStpg(d, *via, std::move(tpgs),
           [this, dp, shared_plan, done = std::move(done)](const Status& st) mutable {
             // Then RTPG, also after a failed STPG: the disk takes the
             // states the re-read shows (RefreshAlua publishes them).
             RefreshAlua(*dp, [this, dp, shared_plan, st, done = std::move(done)]() {
               if (!st.ok()) {
                 done(st);
                 return;
               }
               if (!dp->refresh_ok) {
                 done(dp->refresh_status.ok()
                          ? Status(NtStatus::kIoDeviceError,
                                   "REPORT TARGET PORT GROUPS after the STPG failed")
                          : dp->refresh_status);
                 return;
               }
               Status c = dsm::CommitSetPolicy(*dp->disk, *shared_plan);
               if (c.ok()) Publish(*dp);
               done(std::move(c));
             });
           });
}

// ---- Engine ----------------------------------------------------------------------

void Engine::ExecuteSetPolicyPlan(std::size_t disk, dsm::SetPolicyPlan plan,
                                  std::function<void(Status)> done) {
  if (disk >= impl_->disks.size()) {
    done(Status(NtStatus::kNoSuchDevice, "no such disk"));
    return;
  }
  impl_->ExecutePlan(*impl_->disks[disk], std::move(plan), std::move(done));
}

Expected<dsm::SetPolicyPlan> Engine::CheckSetLoadBalancePolicy(
    std::size_t disk, const dsm::SetPolicyInput& in) const {
  if (disk >= impl_->disks.size()) {
    return MakeUnexpected(Status(NtStatus::kNoSuchDevice, "no such disk"));
  }
  return dsm::CheckSetLoadBalancePolicy(*impl_->disks[disk]->disk, in, impl_->options);
}

dsm::QueriedPolicy Engine::QueryLoadBalancePolicy(std::size_t disk) const {
  if (disk >= impl_->disks.size()) return dsm::QueriedPolicy{};
  return dsm::QueryLoadBalancePolicy(*impl_->disks[disk]->disk, impl_->options);
}

}  // namespace openmpio::engine

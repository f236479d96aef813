// Engine: construction, nexus registration, snapshot publication and
// reclamation, reports, and the DiskHandle entry points.
#include "engine/engine.h"

#include <algorithm>
#include <chrono>
#include <utility>

#include "engine/engine_impl.h"
#include "scsi/vpd.h"

namespace openmpio::engine {

Engine::Impl::Impl(EngineConfig c, Executor& ctl) : config(std::move(c)), control(ctl) {
  options.strict_msdsm = config.strict_msdsm;
  if (config.path_verify_enabled) ScheduleVerification();
}

Engine::Impl::~Impl() {
  shutting_down = true;
  alive.reset();  // callbacks already posted elsewhere see it and do nothing
  if (reclaim_timer != 0) control.Cancel(reclaim_timer);
  if (verify_timer != 0) control.Cancel(verify_timer);
  for (auto& n : nexuses) {
    if (n->probe_timer != 0) control.Cancel(n->probe_timer);
    // The nexus's own executor: stopped by now (runtime.h's stop order), or
    // the one virtual-time executor of a test.
    if (n->hedge_timer != 0) n->executor->Cancel(n->hedge_timer);
  }
  for (auto& d : disks) {
    if (d->expiry_timer != 0) control.Cancel(d->expiry_timer);
    if (d->alua_poll_timer != 0) control.Cancel(d->alua_poll_timer);
    if (d->fences.expiry_timer != 0) control.Cancel(d->fences.expiry_timer);
    if (d->fences.retry_timer != 0) control.Cancel(d->fences.retry_timer);
  }
}

std::uint64_t Engine::Impl::NowMs() const {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(control.Now().time_since_epoch())
          .count());
}

DiskRuntime& Engine::Impl::RuntimeFor(dsm::Disk* disk, const std::string& vendor,
                                      const std::string& product) {
  for (auto& d : disks) {
    if (d->disk == disk) return *d;
  }
  auto d = std::make_unique<DiskRuntime>();
  d->engine = this;
  d->index = disks.size();
  d->disk = disk;
  d->name = scsi::DesignatorText(disk->lu_designator);
  d->vendor = vendor;
  d->product = product;
  if (config.default_policy != dsm::LoadBalancePolicy::kNone && !disk->settings.explicit_policy) {
    disk->settings.policy = config.default_policy;
  }
  disks.push_back(std::move(d));
  return *disks.back();
}

void Engine::Impl::Publish(DiskRuntime& d) {
  auto snap = dsm::BuildSnapshot(*d.disk, d.selector, d.snapshot.current(), options, NowMs());
  // Paths in Standby / Unavailable groups only (awaiting activation): the
  // queue waits for the STPG or the array, not for 04/0B from them.
  const bool serves = ServesIo(snap.get());
  d.transition_window_ms.store(d.disk->TransitionWindowMs(), std::memory_order_relaxed);
  d.snapshot.Publish(std::move(snap));
  ScheduleReclaim();
  MaybeExplicitFailover(d);
  UpdateAluaPoll(d);
  if (serves) {
    DrainNoPath(d);
    ReadCapacity(d);
  }
}

void Engine::Impl::RecordEvent(const DiskRuntime* d, std::string text) {
  if (events.size() >= Engine::kMaxEvents) events.pop_front();
  events.push_back(
      EngineEvent{control.Now(), d != nullptr ? d->name : std::string(), std::move(text)});
}

void Engine::Impl::ScheduleReclaim() {
  if (reclaim_timer != 0) return;
  bool any = false;
  for (auto& d : disks) any = d->snapshot.Reclaim() || any;
  if (!any) return;
  // A reader holds a pin for a few instructions: try again shortly.
  reclaim_timer = control.PostAfter(std::chrono::milliseconds(10), [this]() {
    reclaim_timer = 0;
    ScheduleReclaim();
  });
}

// ---- Engine -----------------------------------------------------------------------

Engine::Engine(EngineConfig config, Executor& control)
    : impl_(std::make_unique<Impl>(std::move(config), control)) {}

Engine::~Engine() = default;

void Engine::AddNexus(std::unique_ptr<transport::TransportNexus> nexus, Executor& executor,
                      NexusOptions options) {
  auto n = std::make_unique<NexusRuntime>();
  n->only_luns = std::move(options.luns);
  n->alua = options.alua;
  n->command_timeout = options.command_timeout;
  const transport::NexusAddress& a = nexus->address();
  n->nexus = impl_->topology.AddNexus(
      dsm::NexusIdentity{a.initiator_name, a.isid, a.target_name, a.portal_group_tag, a.portal});
  n->transport = std::move(nexus);
  n->executor = &executor;
  n->backoff = impl_->timers.retry_interval();
  NexusRuntime* np = n.get();
  impl_->nexuses.push_back(std::move(n));
  Impl* impl = impl_.get();
  std::weak_ptr<bool> token = impl->alive;
  executor.Post([impl, np, token]() {
    if (token.expired()) return;
    np->transport->SetStateListener([impl, np, token](transport::NexusState s) {
      impl->control.Post([impl, np, token, s]() {
        if (!token.expired()) impl->OnNexusState(*np, s);
      });
    });
  });
  impl_->StartDiscovery(*np);
}

std::vector<DiskInfo> Engine::Disks() const {
  std::vector<DiskInfo> out;
  for (const auto& dp : impl_->disks) {
    const DiskRuntime& d = *dp;
    DiskInfo info;
    info.index = d.index;
    info.name = d.name;
    info.vendor = d.vendor;
    info.product = d.product;
    info.ready = d.ready.load(std::memory_order_acquire);
    info.blocks = d.blocks.load(std::memory_order_relaxed);
    info.block_size = d.block_size;
    info.max_transfer_blocks = d.max_transfer_blocks.load(std::memory_order_relaxed);
    info.lbpme = d.lbpme;
    info.lbprz = d.lbprz;
    info.lbpu = d.lbpu;
    info.lbpws = d.lbpws.load(std::memory_order_relaxed);
    info.caching_known = d.caching_known;
    info.wce = d.wce;
    info.dpofua = d.dpofua.load(std::memory_order_relaxed);
    info.optimal_transfer_blocks = d.optimal_transfer_blocks;
    info.physical_block_exponent = d.physical_block_exponent;
    info.alua = d.disk->alua;
    const dsm::SelectionSnapshot* s = d.snapshot.current();
    info.policy = s ? s->policy() : dsm::EffectivePolicy(*d.disk, impl_->options);
    for (std::size_t i = 0; i < d.disk->paths.size(); ++i) {
      const dsm::Path& p = d.disk->paths[i];
      PathInfo pi;
      pi.id = p.id();
      pi.relative_target_port = p.relative_target_port;
      pi.tpg_id = p.tpg_id;
      pi.online = p.online();
      if (s && i < s->states().paths.size()) {
        pi.state = s->states().paths[i].state;
        pi.usable = s->states().paths[i].usable;
      }
      pi.commands = d.path_stats[i].commands.load(std::memory_order_relaxed);
      pi.errors = d.path_stats[i].errors.load(std::memory_order_relaxed);
      info.paths.push_back(pi);
    }
    for (const dsm::LuGroupState& g : d.disk->groups) {
      info.groups.push_back(GroupInfo{g.tpg_id, g.state, g.preferred});
    }
    {
      std::lock_guard<std::mutex> lock(d.queue_mutex);
      info.queued = d.no_path_queue.size();
    }
    info.unknown_fate_writes = d.unknown_fate_count();
    info.fence_waiters = d.fence_waiter_count();
    info.fences_recorded = d.fences.recorded.load(std::memory_order_relaxed);
    info.fences_lifted = d.fences.fenced.load(std::memory_order_relaxed);
    info.fence_held_writes = d.fences.held.load(std::memory_order_relaxed);
    info.fence_failed_writes = d.fences.failed.load(std::memory_order_relaxed);
    info.fence_aborts = d.fences.aborts.load(std::memory_order_relaxed);
    info.deferred_errors = d.deferred_errors.load(std::memory_order_relaxed);
    info.failover_stpgs = d.failover_stpgs.load(std::memory_order_relaxed);
    info.policy_stpgs = d.policy_stpgs.load(std::memory_order_relaxed);
    info.alua_polling = d.alua_polling;
    out.push_back(std::move(info));
  }
  return out;
}

std::vector<NexusInfo> Engine::Nexuses() const {
  std::vector<NexusInfo> out;
  for (const auto& n : impl_->nexuses) {
    NexusInfo i;
    i.id = n->nexus->id;
    i.portal = n->transport->address().portal;
    i.state = n->last_state;
    i.failed = n->failed;
    i.discovered = n->discovered;
    i.commands = n->stats.commands.load(std::memory_order_relaxed);
    i.completions = n->stats.completions.load(std::memory_order_relaxed);
    i.transport_errors = n->stats.transport_errors.load(std::memory_order_relaxed);
    i.retries = n->stats.retries.load(std::memory_order_relaxed);
    i.path_failures = n->stats.path_failures.load(std::memory_order_relaxed);
    i.probes = n->stats.probes.load(std::memory_order_relaxed);
    i.reinstatements = n->stats.reinstatements.load(std::memory_order_relaxed);
    i.marginal_holds = n->stats.marginal_holds.load(std::memory_order_relaxed);
    i.held = n->held_until > impl_->control.Now();
    out.push_back(std::move(i));
  }
  return out;
}

std::vector<EngineEvent> Engine::Events() const {
  return std::vector<EngineEvent>(impl_->events.begin(), impl_->events.end());
}

DiskHandle Engine::Disk(std::size_t index) const {
  if (index >= impl_->disks.size()) return DiskHandle();
  return DiskHandle(impl_->disks[index].get());
}

bool Engine::DiscoveryIdle() const {
  if (impl_->discovering != 0) return false;
  for (const auto& n : impl_->nexuses) {
    if (!n->discovered) return false;
  }
  for (const auto& d : impl_->disks) {
    if (!d->ready.load(std::memory_order_acquire)) return false;
  }
  return true;
}

Status Engine::SetLoadBalancePolicy(std::size_t disk, dsm::LoadBalancePolicy policy,
                                    dsm::DsmPathId preferred_path) {
  if (disk >= impl_->disks.size()) return Status(NtStatus::kNoSuchDevice, "no such disk");
  if (!dsm::IsSelectablePolicy(policy, impl_->options.strict_msdsm)) {
    return InvalidParameter("not a selectable load-balance policy");
  }
  DiskRuntime& d = *impl_->disks[disk];
  d.disk->settings.policy = policy;
  d.disk->settings.explicit_policy = true;
  d.disk->settings.preferred_path = preferred_path;
  impl_->Publish(d);
  return OkStatus();
}

void Engine::ResetLogicalUnit(std::size_t disk, std::function<void(const Status&)> done) {
  if (disk >= impl_->disks.size()) {
    done(Status(NtStatus::kNoSuchDevice, "no such disk"));
    return;
  }
  DiskRuntime& d = *impl_->disks[disk];
  const dsm::SelectionSnapshot* s = d.snapshot.current();
  if (s == nullptr || s->usable().empty()) {
    done(Status(NtStatus::kDeviceNotReady, "disk " + d.name + ": no usable path for the reset"));
    return;
  }
  const std::uint32_t idx = s->usable().front().path_index;
  NexusRuntime* n = d.path_nexus[idx].load(std::memory_order_acquire);
  const std::uint64_t lun = d.path_lun[idx].load(std::memory_order_relaxed);
  Impl* impl = impl_.get();
  std::weak_ptr<bool> token = impl->alive;
  n->executor->Post([impl, n, lun, token, done = std::move(done)]() mutable {
    if (token.expired()) return;
    n->transport->LogicalUnitReset(
        lun, [impl, token, done = std::move(done)](transport::TmfResponse r) mutable {
          impl->control.Post([token, done = std::move(done), r]() {
            if (token.expired()) return;
            if (r == transport::TmfResponse::kFunctionComplete) {
              done(OkStatus());
            } else {
              done(Status(NtStatus::kIoDeviceError,
                          std::string("LOGICAL UNIT RESET: ") + transport::TmfResponseName(r)));
            }
          });
        });
  });
}

// ---- DiskHandle -----------------------------------------------------------------------

std::uint32_t DiskHandle::block_size() const noexcept {
  return disk_ && disk_->ready.load(std::memory_order_acquire) ? disk_->block_size : 0;
}

std::uint64_t DiskHandle::size_bytes() const noexcept {
  return disk_ && disk_->ready.load(std::memory_order_acquire)
             ? disk_->blocks.load(std::memory_order_relaxed) * disk_->block_size
             : 0;
}

void DiskHandle::Read(std::uint64_t offset, std::span<std::byte> buffer, IoCallback done) const {
  disk_->engine->Submit(*disk_, IoOp::kRead, offset, buffer.size(), buffer, {}, std::move(done));
}

void DiskHandle::Write(std::uint64_t offset, std::span<const std::byte> data,
                       IoCallback done) const {
  disk_->engine->Submit(*disk_, IoOp::kWrite, offset, data.size(), {}, data, std::move(done));
}

void DiskHandle::Write(std::uint64_t offset, std::span<const std::byte> data, bool fua,
                       IoCallback done) const {
  if (!fua) {
    Write(offset, data, std::move(done));
    return;
  }
  if (disk_->dpofua.load(std::memory_order_relaxed)) {
    disk_->engine->Submit(*disk_, IoOp::kWrite, offset, data.size(), {}, data, std::move(done),
                          kIoFua);
    return;
  }
  // No DPOFUA: the write, then SYNCHRONIZE CACHE; either failure is the request's.
  DiskRuntime* d = disk_;
  d->engine->Submit(*d, IoOp::kWrite, offset, data.size(), {}, data,
                    [d, done = std::move(done)](const Status& s) mutable {
                      if (!s.ok()) {
                        done(s);
                        return;
                      }
                      d->engine->Submit(*d, IoOp::kFlush, 0, 0, {}, {}, std::move(done));
                    });
}

void DiskHandle::Flush(IoCallback done) const {
  disk_->engine->Submit(*disk_, IoOp::kFlush, 0, 0, {}, {}, std::move(done));
}

void DiskHandle::Unmap(std::uint64_t offset, std::uint64_t length, IoCallback done) const {
  disk_->engine->Submit(*disk_, IoOp::kUnmap, offset, length, {}, {}, std::move(done));
}

void DiskHandle::WriteZeroes(std::uint64_t offset, std::uint64_t length, IoCallback done) const {
  disk_->engine->Submit(*disk_, IoOp::kWriteSame, offset, length, {}, {}, std::move(done));
}

void DiskHandle::WriteZeroes(std::uint64_t offset, std::uint64_t length, bool may_unmap,
                             IoCallback done) const {
  const bool unmap = may_unmap && disk_->lbpws.load(std::memory_order_relaxed);
  disk_->engine->Submit(*disk_, IoOp::kWriteSame, offset, length, {}, {}, std::move(done),
                        unmap ? kIoUnmap : std::uint8_t{0});
}

}  // namespace openmpio::engine

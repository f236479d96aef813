// Engine access for the management backend (mgmt_access.h). Control executor
// only, like the rest of Engine::Impl's control-side state.
#include "engine/mgmt_access.h"

#include <chrono>
#include <memory>
#include <utility>

#include "common/fnv1a.h"
#include "dsm/policy.h"
#include "engine/engine_impl.h"
#include "scsi/vpd.h"

namespace openmpio::engine {
namespace {

Engine::Impl& ImplOf(Engine& e) {
  return e.impl();
}
const Engine::Impl& ImplOf(const Engine& e) {
  return e.impl();
}

// FNV-1a over the fields a set's checks read, each as 8 bytes.
class Hasher {
 public:
  void Add(std::uint64_t v) { h_.Int(v); }
  [[nodiscard]] std::uint64_t value() const { return h_.value(); }

 private:
  Fnv1a64 h_;
};

std::string Pad(std::string s, std::size_t n) {
  if (s.size() > n) s.resize(n);
  s.append(n - s.size(), ' ');
  return s;
}

}  // namespace

std::string HardwareId(const std::string& vendor, const std::string& product) {
  return Pad(vendor, 8) + Pad(product, 16);
}

std::uint64_t Fingerprint(const dsm::Disk& disk) {
  Hasher h;
  h.Add(static_cast<std::uint64_t>(disk.alua));
  h.Add(disk.symmetric_access ? 1 : 0);
  h.Add(disk.paths.size());
  for (const dsm::Path& p : disk.paths) {
    h.Add(p.id());
    h.Add(p.relative_target_port);
    h.Add(p.tpg_id ? 0x10000U + *p.tpg_id : 0);
    h.Add(static_cast<std::uint64_t>(p.verification));
    h.Add(p.weight);
    h.Add(p.requested_state ? 0x100U + static_cast<std::uint64_t>(*p.requested_state) : 0);
  }
  h.Add(disk.groups.size());
  for (const dsm::LuGroupState& g : disk.groups) {
    h.Add(g.tpg_id);
    h.Add(g.state.raw);
    h.Add(g.preferred ? 1 : 0);
  }
  h.Add(static_cast<std::uint64_t>(disk.settings.policy));
  h.Add(disk.settings.explicit_policy ? 1 : 0);
  h.Add(disk.settings.preferred_path);
  return h.value();
}

std::size_t DiskCount(const Engine& engine) {
  return ImplOf(engine).disks.size();
}

Expected<DiskCopy> CopyDisk(const Engine& engine, std::size_t index) {
  const Engine::Impl& impl = ImplOf(engine);
  if (index >= impl.disks.size()) {
    return MakeUnexpected(Status(NtStatus::kNoSuchDevice, "no such disk"));
  }
  const DiskRuntime& d = *impl.disks[index];
  DiskCopy c;
  c.designator = d.name;
  c.vendor = d.vendor;
  c.product = d.product;
  c.disk = *d.disk;
  // The engine's RTPG handling rewrites the device's groups on this thread
  // while the copy is read on another: the copy gets its own device.
  c.disk.device = std::make_shared<dsm::TargetDevice>(*d.disk->device);
  const dsm::SelectionSnapshot* s = d.snapshot.current();
  if (s != nullptr && s->states().paths.size() == d.disk->paths.size()) {
    c.selection = s->states();
    c.selection.policy_status = s->policy_impl().StatusLine(*s, d.selector);
  } else {
    c.selection = dsm::ComputePathStates(*d.disk, dsm::EffectivePolicy(*d.disk, impl.options), 0,
                                         impl.NowMs());
  }
  c.fingerprint = Fingerprint(*d.disk);
  return c;
}

void RefreshAlua(Engine& engine, std::size_t index, std::function<void(Status)> then) {
  Engine::Impl& impl = ImplOf(engine);
  if (index >= impl.disks.size()) {
    then(Status(NtStatus::kNoSuchDevice, "no such disk"));
    return;
  }
  DiskRuntime* dp = impl.disks[index].get();
  impl.RefreshAlua(*dp, [dp, then = std::move(then)]() {
    if (dp->refresh_ok) {
      then(OkStatus());
    } else if (!dp->refresh_status.ok()) {
      then(dp->refresh_status);
    } else {
      then(Status(NtStatus::kIoDeviceError,
                  "disk " + dp->name + ": no path answered REPORT TARGET PORT GROUPS"));
    }
  });
}

void ExecutePlan(Engine& engine, std::size_t index, dsm::SetPolicyPlan plan,
                 const dsm::PolicyDefaults& defaults, std::function<void(Status)> done) {
  Engine::Impl& impl = ImplOf(engine);
  if (index >= impl.disks.size()) {
    done(Status(NtStatus::kNoSuchDevice, "no such disk"));
    return;
  }
  Engine::Impl* ip = &impl;
  DiskRuntime* dp = impl.disks[index].get();
  const bool clear = plan.clear;
  engine.ExecuteSetPolicyPlan(index, std::move(plan),
                              [ip, dp, clear, &defaults, done = std::move(done)](Status s) {
                                if (s.ok() && clear) {
                                  // Check 3: the LUN falls back to the defaults' precedence.
                                  defaults.ApplyTo(*dp->disk, HardwareId(dp->vendor, dp->product));
                                  ip->Publish(*dp);
                                }
                                done(std::move(s));
                              });
}

void ApplyDefaults(Engine& engine, const dsm::PolicyDefaults& defaults) {
  Engine::Impl& impl = ImplOf(engine);
  for (auto& dp : impl.disks) {
    DiskRuntime& d = *dp;
    if (d.disk->settings.explicit_policy) continue;
    const dsm::PolicySettings before = d.disk->settings;
    defaults.ApplyTo(*d.disk, HardwareId(d.vendor, d.product));
    const dsm::PolicySettings& after = d.disk->settings;
    if (before.policy != after.policy || before.preferred_path != after.preferred_path) {
      impl.Publish(d);
    }
  }
}

Status ApplyPathSettings(Engine& engine, std::size_t index,
                         const std::vector<PathSettingValue>& settings) {
  Engine::Impl& impl = ImplOf(engine);
  if (index >= impl.disks.size()) return Status(NtStatus::kNoSuchDevice, "no such disk");
  DiskRuntime& d = *impl.disks[index];
  bool changed = false;
  for (const PathSettingValue& v : settings) {
    dsm::Path* p = d.disk->FindPath(v.id);
    if (p == nullptr) continue;
    if (v.weight) p->weight = *v.weight;
    if (v.requested_state) p->requested_state = v.requested_state;
    changed = true;
  }
  if (changed) impl.Publish(d);
  return OkStatus();
}

std::vector<PathCounters> PerfOf(const Engine& engine, std::size_t index) {
  const Engine::Impl& impl = ImplOf(engine);
  std::vector<PathCounters> out;
  if (index >= impl.disks.size()) return out;
  const DiskRuntime& d = *impl.disks[index];
  for (std::size_t i = 0; i < d.disk->paths.size() && i < d.path_stats.size(); ++i) {
    PathCounters c;
    c.id = d.disk->paths[i].id();
    const PathStats& ps = d.path_stats[i];
    c.commands = ps.commands.load(std::memory_order_relaxed);
    c.errors = ps.errors.load(std::memory_order_relaxed);
    c.reads = ps.reads.load(std::memory_order_relaxed);
    c.writes = ps.writes.load(std::memory_order_relaxed);
    c.bytes_read = ps.bytes_read.load(std::memory_order_relaxed);
    c.bytes_written = ps.bytes_written.load(std::memory_order_relaxed);
    c.retries = ps.retries.load(std::memory_order_relaxed);
    for (std::size_t k = 0; k < kLatencyBuckets; ++k) {
      c.latency[k] = ps.latency[k].load(std::memory_order_relaxed);
    }
    out.push_back(c);
  }
  return out;
}

void ApplyTimers(Engine& engine, const dsm::MpioTimers& timers) {
  Engine::Impl& impl = ImplOf(engine);
  // RetryCount, RetryInterval and PDORemovePeriod: live. Every reader, on
  // any thread, reads them through Impl::timers (relaxed atomics); the
  // config's fields are only their initial values.
  impl.timers.Set(timers.retry_count, std::chrono::seconds(timers.retry_interval),
                  std::chrono::seconds(timers.pdo_remove_period));

  // Path verification: the control thread's alone; the timer is restarted.
  const Duration period = std::chrono::seconds(timers.path_verification_period);
  const bool enabled = timers.path_verify_enabled != 0;
  if (enabled == impl.config.path_verify_enabled &&
      period == impl.config.path_verification_period) {
    return;
  }
  impl.config.path_verify_enabled = enabled;
  impl.config.path_verification_period = period;
  if (impl.verify_timer != 0) {
    impl.control.Cancel(impl.verify_timer);
    impl.verify_timer = 0;
  }
  if (enabled && !impl.shutting_down) impl.ScheduleVerification();
}

}  // namespace openmpio::engine

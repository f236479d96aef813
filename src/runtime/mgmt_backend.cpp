// EngineBackend (mgmt_backend.h): every method posts to the control executor.
#include "runtime/mgmt_backend.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <system_error>
#include <utility>

#include "dsm/lb_management.h"
#include "dsm/policy.h"
#include "engine/mgmt_access.h"
#include "runtime/from_config.h"
#include "runtime/policy_request.h"
#include "runtime/runtime.h"

namespace openmpio::runtime {
namespace {

std::string TrimRight(std::string s) {
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

// A PreferredPath of the global classes as the file keeps it: 0 and
// kNoPreferredPath are "none" (the file's path ids are non-zero).
std::optional<dsm::DsmPathId> StoredPreferred(dsm::DsmPathId id) {
  if (id == 0 || id == dsm::kNoPreferredPath) return std::nullopt;
  return id;
}

bool HasPort(const config::SimConfig& sim, std::uint16_t rtp) {
  return std::any_of(sim.ports.begin(), sim.ports.end(), [rtp](const config::SimPortConfig& p) {
    return p.relative_target_port == rtp;
  });
}

}  // namespace

// ---- SimControlImpl ----------------------------------------------------------------

void SimControlImpl::Execute(const mgmt::SimRequest& request, mgmt::StatusCallback done) {
  control_.Post([this, request, done = std::move(done)]() { done(Run(request)); });
}

Status SimControlImpl::Run(const mgmt::SimRequest& r) {
  if (r.action == mgmt::SimAction::kFailPort || r.action == mgmt::SimAction::kHangPort ||
      r.action == mgmt::SimAction::kRestorePort) {
    if (!HasPort(sim_, r.relative_target_port)) {
      return InvalidParameter("the embedded array has no target port " +
                              std::to_string(r.relative_target_port));
    }
  }
  switch (r.action) {
    case mgmt::SimAction::kFailPort:
      // "drops its connections and refuses new ones": refuse first, so the
      // engine's immediate reconnect after the drop is refused too.
      fabric_.RefuseReconnect(r.relative_target_port, true);
      fabric_.Drop(r.relative_target_port);
      return OkStatus();
    case mgmt::SimAction::kHangPort:
      fabric_.Hang(r.relative_target_port);
      return OkStatus();
    case mgmt::SimAction::kRestorePort:
      fabric_.Restore(r.relative_target_port);
      return OkStatus();
    case mgmt::SimAction::kSetState: {
      if (!array_.LogicalUnit(r.lun)) {
        return InvalidParameter("the embedded array has no LUN " + std::to_string(r.lun));
      }
      const bool group =
          std::any_of(sim_.ports.begin(), sim_.ports.end(), [&](const config::SimPortConfig& p) {
            return p.target_port_group == r.target_port_group;
          });
      if (!group) {
        return InvalidParameter("the embedded array has no target port group " +
                                std::to_string(r.target_port_group));
      }
      // As the array itself would change it (the demo): through
      // Transitioning for the implicit transition time, with unit attentions.
      return array_.SetAccessState(r.lun, r.target_port_group, r.state, control_.Now(),
                                   /*implicit_transition=*/true);
    }
    case mgmt::SimAction::kCorruptRead: {
      const std::optional<array::LuConfig> lu = array_.LogicalUnit(r.lun);
      if (!lu) return InvalidParameter("the embedded array has no LUN " + std::to_string(r.lun));
      // The array clips a range past the end silently; a caller asking for
      // blocks the LU does not have has made a mistake, so say so.
      const std::uint64_t blocks = lu->blocks;
      if (r.block_count == 0 || r.first_lba >= blocks || r.block_count > blocks - r.first_lba) {
        return InvalidParameter("corrupt-on-read of " + std::to_string(r.block_count) +
                                " blocks at LBA " + std::to_string(r.first_lba) + ": LUN " +
                                std::to_string(r.lun) + " has blocks 0.." +
                                std::to_string(blocks == 0 ? 0 : blocks - 1));
      }
      array::FaultSpec fault;
      fault.scope = array::FaultScope::kLogicalUnit;
      fault.lun = r.lun;
      fault.kind = array::FaultKind::kCorruptRead;
      fault.first_lba = r.first_lba;
      fault.block_count = r.block_count;
      fault.count = 0;  // every read until cleared
      fault.probability = 1.0;
      auto id = array_.InjectFault(fault, control_.Now());
      if (!id) return std::move(id).error();
      return OkStatus();
    }
    case mgmt::SimAction::kClearFaults:
      array_.ClearFaults();
      return OkStatus();
    case mgmt::SimAction::kAddLu: {
      config::SimLuConfig lu;
      lu.lun = r.lun;
      lu.block_size = 512;
      if (r.block_count > (std::uint64_t{1} << 48)) {
        return InvalidParameter("BlockCount: " + std::to_string(r.block_count) +
                                " blocks; at most 2^48");
      }
      lu.size_bytes = r.block_count * lu.block_size;
      lu.provisioning = r.thick ? config::SimProvisioning::kThick : config::SimProvisioning::kThin;
      if (r.owner_group != 0) {
        const bool group = std::any_of(
            sim_.ports.begin(), sim_.ports.end(),
            [&](const config::SimPortConfig& p) { return p.target_port_group == r.owner_group; });
        if (!group) {
          return InvalidParameter("the embedded array has no target port group " +
                                  std::to_string(r.owner_group));
        }
        lu.owner_group = r.owner_group;
      } else if (!sim_.ports.empty()) {
        lu.owner_group = sim_.ports.front().target_port_group;
      }
      return array_.AddLogicalUnit(ToArrayLu(sim_, lu));
    }
    case mgmt::SimAction::kRemoveLu:
      return array_.RemoveLogicalUnit(r.lun);
    case mgmt::SimAction::kResizeLu:
      return array_.SetCapacity(r.lun, r.block_count);
  }
  return InvalidParameter("unknown SimControl action");
}

// ---- EngineBackend -----------------------------------------------------------------

EngineBackend::EngineBackend(Executor& control, engine::Engine& engine, config::Config config,
                             std::string config_path, array::Array* array,
                             transport::sim::SimFabric* fabric)
    : control_(control),
      engine_(engine),
      options_(config::ToDsmOptions(config)),
      config_path_(std::move(config_path)),
      config_(std::move(config)) {
  if (array != nullptr && fabric != nullptr && config_.sim) {
    sim_ = std::make_unique<SimControlImpl>(control, *array, *fabric, *config_.sim);
  }
}

Status EngineBackend::Initialize() {
  Status warning;
  const config::DefaultsConfig& d = config_.defaults;
  if (d.load_balance_policy != dsm::LoadBalancePolicy::kNone) {
    Status s = defaults_.SetMsdsmDefault(static_cast<std::uint32_t>(d.load_balance_policy),
                                         d.preferred_path.value_or(0), options_);
    if (!s.ok()) warning = s;
  }
  for (const config::TargetDefaultConfig& t : config_.target_defaults) {
    Status s =
        defaults_.SetTargetDefault(config::HardwareId(t), static_cast<std::uint32_t>(t.policy),
                                   t.preferred_path.value_or(0), options_);
    if (!s.ok()) warning = s;
  }
  if (Status s = defaults_.SetTimers(ToMpioTimers(config_.timers)); !s.ok()) warning = s;
  engine::ApplyDefaults(engine_, defaults_);

  // Generations start at 1 for every disk present now.
  for (std::size_t i = 0; i < engine::DiskCount(engine_); ++i) {
    if (auto c = engine::CopyDisk(engine_, i)) GenerationOf(c->designator, c->fingerprint);
  }
  return warning;
}

void EngineBackend::ApplyDiskConfig(mgmt::StatusCallback done) {
  ApplyDiskConfigFrom(0, std::move(done));
}

void EngineBackend::ApplyDiskConfigFrom(std::size_t i, mgmt::StatusCallback done) {
  for (; i < config_.disks.size(); ++i) {
    const config::DiskConfig& dc = config_.disks[i];
    const std::string table = dc.origins.Of("", "[[disk]] " + dc.designator);
    if (dc.designator.empty()) continue;  // an alias-only entry names no disk yet
    const auto index = IndexOf(dc.designator);
    if (!index) {
      std::fprintf(stderr, "openmpio: %s: no disk %s at start; its settings are not applied\n",
                   table.c_str(), dc.designator.c_str());
      continue;
    }
    if (dc.policy == dsm::LoadBalancePolicy::kNone) {
      // Without a policy only weights are kept (a cleared disk keeps its
      // paths' weights, spec/msdsm.md §4 check 3); a state or a preferred
      // path is a policy's, and would be silently lost.
      if (dc.preferred_path) {
        done(InvalidParameter(dc.origins.Of("preferred_path", table) +
                              ": a preferred path needs an explicit policy in this [[disk]]"));
        return;
      }
      std::vector<engine::PathSettingValue> weights;
      for (const auto& [id, ps] : dc.paths) {
        if (ps.requested_state) {
          done(InvalidParameter(dc.origins.Of("paths." + dsm::PathIdText(id), table) +
                                ": a path state needs an explicit policy in this [[disk]]"));
          return;
        }
        weights.push_back(engine::PathSettingValue{id, ps.weight, std::nullopt});
      }
      if (Status s = engine::ApplyPathSettings(engine_, *index, weights); !s.ok()) {
        done(InvalidParameter(table + ": " + s.message()));
        return;
      }
      continue;
    }
    // As DsmSetLoadBalancePolicyALUA would take it: checks 1-13, then step 14.
    PolicyRequest request{dc.policy, dc.preferred_path, dc.paths};
    const std::string where = dc.origins.Of("policy", table);
    SetPolicyChecked(
        engine_, *index, request, [this, i, where, done = std::move(done)](Status s) mutable {
          if (!s.ok()) {
            done(Status::FromCode(s.code(), where +
                                                ": refused as DsmSetLoadBalancePolicyALUA "
                                                "refuses it: " +
                                                s.message()));
            return;
          }
          ApplyDiskConfigFrom(i + 1, std::move(done));
        });
    return;
  }
  done(OkStatus());
}

void EngineBackend::ReadEvents(std::function<void(std::vector<mgmt::Event>)> done) {
  control_.Post([this, done = std::move(done)]() {
    // The engine's clock is steady; an operator reads wall time: each event
    // is placed that long before the wall clock's now.
    const TimePoint now = control_.Now();
    const auto wall_now = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::system_clock::now().time_since_epoch());
    std::vector<mgmt::Event> out;
    for (const engine::EngineEvent& e : engine_.Events()) {
      const auto ago = std::chrono::duration_cast<std::chrono::milliseconds>(now - e.when);
      const auto at = std::max<std::int64_t>(0, (wall_now - ago).count());
      out.push_back(mgmt::Event{static_cast<std::uint64_t>(at), e.disk, e.text});
    }
    done(std::move(out));
  });
}

std::optional<std::size_t> EngineBackend::IndexOf(const std::string& designator) const {
  for (const engine::DiskInfo& d : engine_.Disks()) {
    if (d.name == designator) return d.index;
  }
  return std::nullopt;
}

std::uint64_t EngineBackend::GenerationOf(const std::string& designator,
                                          std::uint64_t fingerprint) {
  DiskState& s = disks_[designator];
  if (s.generation == 0 || s.fingerprint != fingerprint) {
    s.fingerprint = fingerprint;
    ++s.generation;
  }
  return s.generation;
}

Expected<mgmt::DiskSnapshot> EngineBackend::Snapshot(std::size_t index) {
  auto copy = engine::CopyDisk(engine_, index);
  if (!copy) return MakeUnexpected(copy.error());
  mgmt::DiskSnapshot s;
  s.name.designator = copy->designator;
  const std::string alias = DiskName(config_, copy->designator);
  if (alias != copy->designator) s.name.alias = alias;
  s.hardware_id = engine::HardwareId(copy->vendor, copy->product);
  s.selection = std::move(copy->selection);
  s.generation = GenerationOf(copy->designator, copy->fingerprint);
  const DiskState& state = disks_[copy->designator];
  // MSDSM_DEVICEPATH_PERF (and retries, the latency buckets that are not
  // empty) from the engine's per-path counts (PerfOf), less the baseline of
  // the last MSDsmClearCounters. NumberReads / NumberWrites
  // are ULONGs: they saturate rather than wrap.
  for (const engine::PathCounters& c : engine::PerfOf(engine_, index)) {
    mgmt::PathPerf p;
    p.path_id = c.id;
    const auto it = state.counter_base.find(c.id);
    const engine::PathCounters base =
        it == state.counter_base.end() ? engine::PathCounters{} : it->second;
    auto since = [](std::uint64_t now, std::uint64_t from) { return now >= from ? now - from : 0; };
    auto ulong = [](std::uint64_t n) {
      return n > 0xFFFFFFFFULL ? 0xFFFFFFFFU : static_cast<std::uint32_t>(n);
    };
    p.number_reads = ulong(since(c.reads, base.reads));
    p.number_writes = ulong(since(c.writes, base.writes));
    p.bytes_read = since(c.bytes_read, base.bytes_read);
    p.bytes_written = since(c.bytes_written, base.bytes_written);
    p.retries = since(c.retries, base.retries);
    for (std::size_t k = 0; k < engine::kLatencyBuckets; ++k) {
      const std::uint64_t n = since(c.latency[k], base.latency[k]);
      if (n == 0) continue;
      p.latency.push_back(mgmt::LatencyBucket{
          engine::LatencyBucketFloorUs(k),
          k + 1 < engine::kLatencyBuckets ? engine::LatencyBucketFloorUs(k + 1) : 0, n});
    }
    s.perf.push_back(std::move(p));
  }
  s.disk = std::move(copy->disk);
  return s;
}

void EngineBackend::ListDisks(std::function<void(std::vector<mgmt::DiskName>)> done) {
  control_.Post([this, done = std::move(done)]() {
    std::vector<mgmt::DiskName> names;
    for (const engine::DiskInfo& d : engine_.Disks()) {
      mgmt::DiskName n;
      n.designator = d.name;
      const std::string alias = DiskName(config_, d.name);
      if (alias != d.name) n.alias = alias;
      names.push_back(std::move(n));
    }
    done(std::move(names));
  });
}

void EngineBackend::ReadDisk(const std::string& designator, bool refresh_alua,
                             std::function<void(Expected<mgmt::DiskSnapshot>)> done) {
  control_.Post([this, designator, refresh_alua, done = std::move(done)]() {
    const auto index = IndexOf(designator);
    if (!index) {
      done(MakeUnexpected(Status(NtStatus::kNoSuchDevice, "no disk " + designator)));
      return;
    }
    bool refresh = false;
    if (refresh_alua) {
      auto copy = engine::CopyDisk(engine_, *index);
      refresh = copy && dsm::QueryNeedsAluaRefresh(copy->disk);
    }
    if (!refresh) {
      done(Snapshot(*index));
      return;
    }
    // The engine's coalesced RTPG, then the copy, filled either way; a
    // failed RTPG is reported in `refresh` (spec §4 "Query").
    const std::size_t i = *index;
    engine::RefreshAlua(engine_, i, [this, i, done](Status refreshed) {
      auto s = Snapshot(i);
      if (s) s->refresh = std::move(refreshed);
      done(std::move(s));
    });
  });
}

void EngineBackend::ExecuteSetPolicy(const std::string& designator, std::uint64_t generation,
                                     dsm::SetPolicyPlan plan, mgmt::StatusCallback done) {
  control_.Post(
      [this, designator, generation, plan = std::move(plan), done = std::move(done)]() mutable {
        const auto index = IndexOf(designator);
        if (!index) {
          done(Status(NtStatus::kNoSuchDevice, "no disk " + designator));
          return;
        }
        auto copy = engine::CopyDisk(engine_, *index);
        if (!copy) {
          done(copy.error());
          return;
        }
        if (GenerationOf(designator, copy->fingerprint) != generation) {
          // The checks ran on a state that is gone (a path failed, a group
          // changed, another set won): the caller reads again and re-checks.
          done(InvalidParameter("disk " + designator + " changed since it was read (generation " +
                                std::to_string(generation) + "); read it again"));
          return;
        }
        // Step 14 included; done on the control executor, maybe after the
        // STPG and RTPG. A failure commits nothing.
        engine::ExecutePlan(engine_, *index, std::move(plan), defaults_, std::move(done));
      });
}

void EngineBackend::ReadDefaults(std::function<void(dsm::PolicyDefaults)> done) {
  control_.Post([this, done = std::move(done)]() { done(defaults_); });
}

void EngineBackend::UpdateDefaults(DefaultsEdit edit, mgmt::StatusCallback done) {
  control_.Post([this, edit = std::move(edit), done = std::move(done)]() {
    Status s = edit(defaults_, options_);
    // A refused edit changed nothing, but a partial one (MSDSM_TARGETS: bad
    // entries skipped, the others applied) did: re-applying is idempotent.
    engine::ApplyDefaults(engine_, defaults_);
    engine::ApplyTimers(engine_, defaults_.timers());
    done(std::move(s));
  });
}

void EngineBackend::ClearCounters(const std::string& designator, mgmt::StatusCallback done) {
  control_.Post([this, designator, done = std::move(done)]() {
    const auto index = IndexOf(designator);
    if (!index) {
      done(Status(NtStatus::kNoSuchDevice, "no disk " + designator));
      return;
    }
    // A baseline, not a reset of the engine's own counters (they feed its
    // reports, DiskInfo::paths).
    DiskState& state = disks_[designator];
    for (const engine::PathCounters& c : engine::PerfOf(engine_, *index)) {
      state.counter_base[c.id] = c;
    }
    done(OkStatus());
  });
}

config::Config EngineBackend::RunningConfig() {
  config::Config c = config_;
  if (auto m = defaults_.MsdsmDefault()) {
    c.defaults.load_balance_policy = m->policy;
    c.defaults.preferred_path = StoredPreferred(m->preferred_path);
  } else {
    c.defaults.load_balance_policy = dsm::LoadBalancePolicy::kNone;
    c.defaults.preferred_path.reset();
  }
  c.target_defaults.clear();
  for (const dsm::TargetDefaultPolicy& t : defaults_.target_defaults()) {
    config::TargetDefaultConfig tc;
    tc.vendor = TrimRight(t.hardware_id.substr(0, config::kMaxVendorChars));
    tc.product = TrimRight(t.hardware_id.size() > config::kMaxVendorChars
                               ? t.hardware_id.substr(config::kMaxVendorChars)
                               : std::string());
    tc.policy = t.policy.policy;
    tc.preferred_path = StoredPreferred(t.policy.preferred_path);
    c.target_defaults.push_back(std::move(tc));
  }
  const dsm::MpioTimers& t = defaults_.timers();
  c.timers.path_verify_enabled = t.path_verify_enabled != 0;
  c.timers.path_verification_period = t.path_verification_period;
  c.timers.pdo_remove_period = t.pdo_remove_period;
  c.timers.retry_count = t.retry_count;
  c.timers.retry_interval = t.retry_interval;

  for (std::size_t i = 0; i < engine::DiskCount(engine_); ++i) {
    auto copy = engine::CopyDisk(engine_, i);
    if (!copy) continue;
    const dsm::Disk& disk = copy->disk;
    auto it = std::find_if(c.disks.begin(), c.disks.end(), [&](const config::DiskConfig& dc) {
      return dc.designator == copy->designator;
    });
    config::DiskConfig fresh;
    config::DiskConfig& dc = it != c.disks.end() ? *it : fresh;
    dc.designator = copy->designator;
    dc.policy =
        disk.settings.explicit_policy ? disk.settings.policy : dsm::LoadBalancePolicy::kNone;
    // A preferred path without an explicit policy is a default's: not saved.
    dc.preferred_path = disk.settings.explicit_policy
                            ? StoredPreferred(disk.settings.preferred_path)
                            : std::nullopt;
    dc.paths.clear();
    for (const dsm::Path& p : disk.paths) {
      config::PathSetting ps;
      if (p.weight != 0) ps.weight = p.weight;
      ps.requested_state = p.requested_state;
      if (ps.weight || ps.requested_state) dc.paths[p.id()] = ps;
    }
    if (&dc == &fresh &&
        (dc.policy != dsm::LoadBalancePolicy::kNone || dc.preferred_path || !dc.paths.empty())) {
      c.disks.push_back(std::move(fresh));
    }
  }
  return c;
}

namespace {

// The folder a path names, resolved (symlinks, "..") ; empty when it does
// not exist.
std::string RealFolder(const std::string& path) {
  const auto slash = path.rfind('/');
  const std::string dir =
      slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
  std::error_code ec;
  const auto real = std::filesystem::canonical(dir, ec);
  return ec ? std::string() : real.string();
}

}  // namespace

Status SaveTargetAllowed(const std::string& config_path, const std::string& requested) {
  if (config_path.empty()) {
    return InvalidParameter(
        "the engine runs without a configuration file (demo or library): nothing to save to; "
        "start it with config=FILE");
  }
  if (requested == config_path) return OkStatus();
  if (requested.empty() || requested.front() != '/') {
    return InvalidParameter(
        "SaveConfig writes only into the folder of the configuration file "
        "the engine was started with, named by an absolute path; not " +
        requested);
  }
  // Only the started-with file's folder: a management client must not make
  // the engine (often root) write an arbitrary file.
  const std::string allowed = RealFolder(config_path);
  const std::string folder = RealFolder(requested);
  if (folder.empty() || folder != allowed || requested.back() == '/') {
    return InvalidParameter(
        "SaveConfig writes only into " + (allowed.empty() ? config_path : allowed) +
        ", the folder of the configuration file the engine was started with; not " + requested);
  }
  return OkStatus();
}

void EngineBackend::SaveConfig(std::optional<std::string> path, mgmt::StatusCallback done) {
  control_.Post([this, path = std::move(path), done = std::move(done)]() {
    const std::string target = path.value_or(config_path_);
    if (Status s = SaveTargetAllowed(config_path_, target); !s.ok()) {
      done(std::move(s));
      return;
    }
    // A small file written on the control thread (fsync included): a
    // management call, rare, and the data path does not run here.
    done(config::SaveConfig(target, RunningConfig()));
  });
}

}  // namespace openmpio::runtime

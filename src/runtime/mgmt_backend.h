// EngineBackend: mgmt::Backend on a running engine (DESIGN.md "Management",
// "Processes"). Owned by the Runtime, which serves it on the management
// socket (mgmt::Server) when the configuration enables it.
//
// Threading:
//  - Backend methods are called on the server's thread (backend.h). Each one
//    posts its work to the engine's control executor and returns; the
//    callback is called there. Nothing here blocks the caller.
//  - Everything below "control state" is read and written on the control
//    executor only: the PolicyDefaults, the per-disk generations and counter
//    baselines, and the aliases/settings kept for SaveConfig.
//  - Lifetime: the Runtime stops the server first (no new calls), then
//    destroys the engine on the control executor (work posted before runs
//    first; a refresh still pending is dropped with the engine, its callback
//    uncalled, as backend.h allows), then stops the control executor (tasks
//    still queued are dropped) and only then destroys this object.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "array/array.h"
#include "common/executor.h"
#include "config/config.h"
#include "dsm/lb_defaults.h"
#include "engine/engine.h"
#include "engine/mgmt_access.h"
#include "mgmt/backend.h"
#include "transport/sim/sim_fabric.h"

namespace openmpio::runtime {

// The embedded array's control (mgmt::SimControl) on the SimFabric (port
// faults) and the Array (ALUA states). Port numbers are checked against the
// configuration's [sim] ports (the fabric ignores unknown ports silently).
class SimControlImpl : public mgmt::SimControl {
 public:
  SimControlImpl(Executor& control, array::Array& array, transport::sim::SimFabric& fabric,
                 const config::SimConfig& sim)
      : control_(control), array_(array), fabric_(fabric), sim_(sim) {}
  void Execute(const mgmt::SimRequest& request, mgmt::StatusCallback done) override;

 private:
  [[nodiscard]] Status Run(const mgmt::SimRequest& request);
  Executor& control_;
  array::Array& array_;
  transport::sim::SimFabric& fabric_;
  config::SimConfig sim_;  // the shape it started with: ports and groups (LUs: ask array_)
};

// Where SaveConfig may write: the configuration file the engine was started
// with (`config_path`), or another file in the same folder (resolved, so
// "../" and symlinked folders do not lead out of it). Without a file: none.
// STATUS_INVALID_PARAMETER says why not.
[[nodiscard]] Status SaveTargetAllowed(const std::string& config_path,
                                       const std::string& requested);

class EngineBackend : public mgmt::Backend {
 public:
  // `engine` is used on `control` only. `config` is the running configuration
  // (aliases, settings to save); `config_path` the file SaveConfig writes when
  // no path is given (empty: none). array/fabric: the embedded array, or null.
  // Construct on any thread; call Initialize() on the control executor before
  // serving.
  EngineBackend(Executor& control, engine::Engine& engine, config::Config config,
                std::string config_path, array::Array* array, transport::sim::SimFabric* fabric);

  // Control executor: the defaults of the configuration ([defaults],
  // [[target_defaults]], [timers]) into PolicyDefaults, applied to every disk
  // without an explicit policy. Warnings (a bad entry) are returned.
  [[nodiscard]] Status Initialize();
  // Control executor, after Initialize: the [[disk]] settings of the
  // configuration on the disks found, each through the checks of
  // DsmSetLoadBalancePolicyALUA and its STPG (policy_request.h), in file
  // order. The first refusal ends it: `done` gets it, prefixed with the
  // "FILE:LINE:COL: disk[I].KEY" of the setting, and the disks after it are
  // left as the defaults made them. A designator not found is reported on
  // stderr and skipped (its disk may come later).
  void ApplyDiskConfig(mgmt::StatusCallback done);

  [[nodiscard]] dsm::DsmOptions options() const override { return options_; }
  void ListDisks(std::function<void(std::vector<mgmt::DiskName>)> done) override;
  void ReadDisk(const std::string& designator, bool refresh_alua,
                std::function<void(Expected<mgmt::DiskSnapshot>)> done) override;
  void ExecuteSetPolicy(const std::string& designator, std::uint64_t generation,
                        dsm::SetPolicyPlan plan, mgmt::StatusCallback done) override;
  void ReadDefaults(std::function<void(dsm::PolicyDefaults)> done) override;
  void UpdateDefaults(DefaultsEdit edit, mgmt::StatusCallback done) override;
  void ClearCounters(const std::string& designator, mgmt::StatusCallback done) override;
  void SaveConfig(std::optional<std::string> path, mgmt::StatusCallback done) override;
  void ReadEvents(std::function<void(std::vector<mgmt::Event>)> done) override;
  [[nodiscard]] mgmt::SimControl* sim() override { return sim_.get(); }

  // Control executor: the configuration the running settings make (what
  // SaveConfig writes).
  [[nodiscard]] config::Config RunningConfig();

 private:
  struct DiskState {
    std::uint64_t fingerprint = 0;
    std::uint64_t generation = 0;
    // ClearCounters: the engine's counts at the last clear, per path.
    // The engine's counters at the last MSDsmClearCounters, per path.
    std::map<dsm::DsmPathId, engine::PathCounters> counter_base;
  };
  // Control executor: the engine index of a designator, or nullopt.
  [[nodiscard]] std::optional<std::size_t> IndexOf(const std::string& designator) const;
  // Control executor: the generation of the disk's current state (bumped
  // whenever its fingerprint changed since the last look).
  std::uint64_t GenerationOf(const std::string& designator, std::uint64_t fingerprint);
  [[nodiscard]] Expected<mgmt::DiskSnapshot> Snapshot(std::size_t index);
  void ApplyDiskConfigFrom(std::size_t i, mgmt::StatusCallback done);

  Executor& control_;
  engine::Engine& engine_;
  const dsm::DsmOptions options_;
  const std::string config_path_;
  std::unique_ptr<SimControlImpl> sim_;

  // ---- control state ----
  config::Config config_;
  dsm::PolicyDefaults defaults_;
  std::map<std::string, DiskState> disks_;  // by designator
};

}  // namespace openmpio::runtime

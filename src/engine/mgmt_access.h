// What the management backend (runtime/mgmt_backend.h) needs of the engine
// that engine.h does not offer: copies of a disk's DSM state, committing a
// checked dsm::SetPolicyPlan and publishing the new snapshot the way the
// engine itself does (Engine::Impl::Publish), per-path counters, the ALUA
// refresh entry point, and the timers a management set may change.
//
// Threading: every function here runs ON THE CONTROL EXECUTOR ONLY (the one
// Engine was constructed with), like Engine's own methods: the dsm::Disk,
// the snapshot cell and the engine's config are the control thread's.
// `index` is the engine's disk index (DiskInfo::index); a bad index is
// STATUS_NO_SUCH_DEVICE (or an empty answer), never undefined behaviour.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "dsm/lb_defaults.h"
#include "dsm/lb_management.h"
#include "dsm/path_state.h"
#include "dsm/topology.h"
#include "dsm/types.h"
#include "engine/disk_runtime.h"
#include "engine/engine.h"
#include "openmpio/expected.h"
#include "openmpio/status.h"

namespace openmpio::engine {

// A deep copy of one disk as the control thread sees it now. The TargetDevice
// is copied too (the engine's refresh rewrites its groups); the Nexus objects
// stay shared (their counters are atomics).
struct DiskCopy {
  std::string designator;       // DesignatorText of the LU designator
  std::string vendor, product;  // INQUIRY, as discovery stored them
  dsm::Disk disk;
  // The selection the published snapshot was built from; when nothing was
  // published yet, ComputePathStates of the effective policy.
  dsm::PathStateResult selection;
  // A fingerprint of everything a set's checks read (paths, their states and
  // settings, groups, ALUA support, the policy settings): equal fingerprints
  // mean a plan made on one copy still fits the disk.
  std::uint64_t fingerprint = 0;
};

[[nodiscard]] std::size_t DiskCount(const Engine& engine);
[[nodiscard]] Expected<DiskCopy> CopyDisk(const Engine& engine, std::size_t index);
[[nodiscard]] std::uint64_t Fingerprint(const dsm::Disk& disk);

// Runs `then` on the control executor after a coalesced RTPG of the disk
// (Engine::Impl::RefreshAlua) with the RTPG's status: OK when one answered,
// else the last failure (STATUS_IO_DEVICE_ERROR when no path could be
// asked). `then` is dropped without a call when the engine is destroyed first.
void RefreshAlua(Engine& engine, std::size_t index, std::function<void(Status)> then);

// MSDSM HardwareId: INQUIRY vendor space-padded to 8, product to 16.
[[nodiscard]] std::string HardwareId(const std::string& vendor, const std::string& product);

// Executes a checked plan: Engine::ExecuteSetPolicyPlan (step 14 when
// plan.stpg: STPG, RTPG; then CommitSetPolicy and the engine's snapshot
// publication; nothing committed on a failure), then for a clear
// (plan.clear) defaults.ApplyTo with the disk's HardwareId and a new
// snapshot. `done` on the control executor, possibly later (step 14).
// `defaults` must live until `done` (the backend's own).
void ExecutePlan(Engine& engine, std::size_t index, dsm::SetPolicyPlan plan,
                 const dsm::PolicyDefaults& defaults, std::function<void(Status)> done);

// defaults.ApplyTo every disk without an explicit policy, and republish the
// disks whose settings changed.
void ApplyDefaults(Engine& engine, const dsm::PolicyDefaults& defaults);

// Path settings persisted in the configuration ([[disk]].path): weight and
// requested state, by DsmPathId; unknown ids are ignored. Republishes.
struct PathSettingValue {
  dsm::DsmPathId id = 0;
  std::optional<std::uint32_t> weight;
  std::optional<dsm::PathState> requested_state;
};
[[nodiscard]] Status ApplyPathSettings(Engine& engine, std::size_t index,
                                       const std::vector<PathSettingValue>& settings);

// The counters of each path (Disk::paths order), since start (disk_runtime.h
// PathStats): commands sent, errors seen; reads and writes that completed and
// the bytes they carried (MSDSM_DEVICEPATH_PERF's NumberReads, NumberWrites,
// BytesRead, BytesWritten before the management baseline); attempts retried;
// and every completion by service time, power-of-two microsecond buckets
// (latency[k] counts [LatencyBucketFloorUs(k), LatencyBucketFloorUs(k + 1))
// us; the last bucket has no ceiling).
struct PathCounters {
  dsm::DsmPathId id = 0;
  std::uint64_t commands = 0;
  std::uint64_t errors = 0;
  std::uint64_t reads = 0;
  std::uint64_t writes = 0;
  std::uint64_t bytes_read = 0;
  std::uint64_t bytes_written = 0;
  std::uint64_t retries = 0;
  std::array<std::uint64_t, kLatencyBuckets> latency{};
};
[[nodiscard]] std::vector<PathCounters> PerfOf(const Engine& engine, std::size_t index);

// MPIO_TIMERS_COUNTERS applied to the running engine: PathVerifyEnabled and
// PathVerificationPeriod (the verification timer is restarted), PDORemovePeriod
// (the no-path time of requests queued from now on), RetryCount, RetryInterval.
void ApplyTimers(Engine& engine, const dsm::MpioTimers& timers);

}  // namespace openmpio::engine

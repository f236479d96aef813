// The seam between the management layer (mgmt/) and whatever owns the DSM
// state (the engine, or a test's fake). mgmt/ decodes a request, runs the pure
// dsm/ checks on a copy of the disk that the backend hands over, and asks the
// backend to execute the result; the backend never sees JSON.
//
// Threading (who calls what):
//  - Every Backend method is called on the management server's thread (or the
//    caller's thread when JsonApi is used without a server). It must return
//    quickly: the engine posts the work to its control executor and returns.
//  - Each callback is called exactly once, from any thread (the engine's
//    control executor, or synchronously inside the call). mgmt/ never holds a
//    lock while calling the backend, so a synchronous callback is fine.
//    A callback must not be dropped: a request whose callback never comes
//    leaves that client waiting (other clients are not affected).
//  - The backend must outlive the JsonApi and the Server that use it, and must
//    run or drop (without calling) every pending callback before it is
//    destroyed. Server::Stop() may leave callbacks pending: their replies are
//    then discarded.
//
// Names: a disk's InstanceName in the JSON API is its designator text
// (scsi::DesignatorText: "naa.6001405..."), or the alias the configuration
// gives it. mgmt/ resolves either through ListDisks and calls the per-disk
// methods with the designator (DiskName::designator).
#pragma once

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
#include "openmpio/expected.h"
#include "openmpio/status.h"
#include "scsi/alua.h"

namespace openmpio::mgmt {

using StatusCallback = std::function<void(Status)>;

struct DiskName {
  std::string designator;  // DesignatorText of the LU designator: the canonical InstanceName
  std::string alias;       // from the configuration; empty when none
};

// MSDSM_DEVICEPATH_PERF of one path (spec/msdsm.md §2), counted since the
// last MSDsmClearCounters.
// Completions whose service time was in [from_us, to_us) microseconds;
// to_us 0: no upper bound (the last bucket).
struct LatencyBucket {
  std::uint64_t from_us = 0;
  std::uint64_t to_us = 0;
  std::uint64_t count = 0;
};

struct PathPerf {
  dsm::DsmPathId path_id = 0;  // PathId
  std::uint32_t number_reads = 0;
  std::uint32_t number_writes = 0;
  std::uint64_t bytes_read = 0;
  std::uint64_t bytes_written = 0;
  // Beyond MSDSM_DEVICEPATH_PERF (reported by Show, not by the MSDSM class):
  // attempts retried on this path, and every completion by service time.
  std::uint64_t retries = 0;
  std::vector<LatencyBucket> latency;
};

// A copy of one disk as the engine's control thread saw it at one instant.
// Owned by the receiver; the Nexus objects are shared (their counters are
// atomics and may move on while the copy is read).
struct DiskSnapshot {
  DiskName name;
  dsm::Disk disk;
  // INQUIRY VID (8) + PID (16), space padded: the MSDSM_TARGETS key.
  std::string hardware_id;
  // The selection in force now (what the engine's snapshot publishes):
  // ComputePathStates of the effective policy. paths[i] matches disk.paths[i].
  dsm::PathStateResult selection;
  // One per disk.paths entry, same order.
  std::vector<PathPerf> perf;
  // Incremented by the engine on every change of the disk's paths, groups or
  // settings; ExecuteSetPolicy gets it back to detect a change in between.
  std::uint64_t generation = 0;
  // When ReadDisk was asked for an ALUA refresh and the disk needed one
  // (dsm::QueryNeedsAluaRefresh): the RTPG's status; OK otherwise. The rest
  // of the snapshot is filled either way (spec §4 "Query").
  Status refresh;
};

// The embedded array's control methods (the demo and the tests). Absent
// (Backend::sim() == nullptr) when the engine runs against real targets.
enum class SimAction : std::uint8_t {
  kFailPort,     // the port drops its connections and refuses new ones
  kHangPort,     // the port accepts commands and never answers
  kRestorePort,  // back to normal
  kSetState,     // set the ALUA state of (LU, target port group)
  // Every READ of blocks [first_lba, first_lba + block_count) of the LU
  // returns them damaged (array::FaultKind::kCorruptRead) until cleared; the
  // stored data stays intact. Through every port.
  kCorruptRead,
  kClearFaults,  // removes every array fault (kCorruptRead); ports: kRestorePort
  // The LU inventory, as the array's administrator changes it (UA 3F/0E /
  // 2A/09 on the nexuses, which the engine follows):
  kAddLu,     // a new LU `lun` of block_count 512-byte blocks, A/O through
              // owner_group (0: the first group), A/N through the others
  kRemoveLu,  // LU `lun` leaves the array, with its data
  kResizeLu,  // LU `lun` now has block_count blocks (of its block size)
};

struct SimRequest {
  SimAction action = SimAction::kRestorePort;
  std::uint16_t relative_target_port = 0;  // port actions
  std::uint64_t lun = 0;                   // kSetState, kCorruptRead
  std::uint16_t target_port_group = 0;     // kSetState
  scsi::AsymmetricAccessState state = scsi::AsymmetricAccessState::kActiveOptimized;
  std::uint64_t first_lba = 0;    // kCorruptRead
  std::uint64_t block_count = 0;  // kCorruptRead, kAddLu, kResizeLu: at least 1
  std::uint16_t owner_group = 0;  // kAddLu
  bool thick = false;             // kAddLu: fully provisioned (no UNMAP)
};

class SimControl {
 public:
  virtual ~SimControl() = default;
  virtual void Execute(const SimRequest& request, StatusCallback done) = 0;
};

// One state change the engine recorded (a path failed and why, an ALUA
// change, a hedge): engine.h EngineEvent.
struct Event {
  std::uint64_t time_ms = 0;  // wall clock, ms since the Unix epoch
  std::string disk;           // the disk's name; empty for the engine as a whole
  std::string text;
};

class Backend {
 public:
  virtual ~Backend() = default;

  // Options the dsm/ checks run with. Fixed for the backend's life: read from
  // any thread.
  [[nodiscard]] virtual dsm::DsmOptions options() const = 0;

  // Every claimed disk, in the engine's order.
  virtual void ListDisks(std::function<void(std::vector<DiskName>)> done) = 0;

  // A copy of one disk (by designator). STATUS_NO_SUCH_DEVICE when gone.
  // refresh_alua: do the RTPG that DSM_QueryLBPolicy_V2 needs first when
  // dsm::QueryNeedsAluaRefresh(disk) says so, and report it in `refresh`.
  virtual void ReadDisk(const std::string& designator, bool refresh_alua,
                        std::function<void(Expected<DiskSnapshot>)> done) = 0;

  // Executes a plan of dsm::CheckSetLoadBalancePolicy made on the snapshot of
  // `generation`: the engine re-runs the check when the disk changed since
  // (or fails with STATUS_INVALID_PARAMETER, "disk changed"), performs step 14
  // (STPG, then RTPG) when plan.stpg is set, CommitSetPolicy, for a clear
  // (plan.clear) PolicyDefaults::ApplyTo, persists, and publishes a new
  // selection snapshot. done gets the method's Status.
  virtual void ExecuteSetPolicy(const std::string& designator, std::uint64_t generation,
                                dsm::SetPolicyPlan plan, StatusCallback done) = 0;

  // A copy of the global settings (MSDSM_DEFAULT_..., MSDSM_TARGETS_...,
  // MPIO_TIMERS_COUNTERS).
  virtual void ReadDefaults(std::function<void(dsm::PolicyDefaults)> done) = 0;
  // Runs `edit` on the engine's PolicyDefaults (on its control thread) and,
  // when edit returns OK or changed anything, re-applies the defaults to the
  // disks without an explicit policy and applies new timers. edit is one of
  // PolicyDefaults' own setters (their checks are the spec's); done gets
  // edit's Status.
  using DefaultsEdit = std::function<Status(dsm::PolicyDefaults&, const dsm::DsmOptions&)>;
  virtual void UpdateDefaults(DefaultsEdit edit, StatusCallback done) = 0;

  // MSDsmClearCounters: zeroes the disk's PathPerf counters.
  virtual void ClearCounters(const std::string& designator, StatusCallback done) = 0;

  // Writes the running configuration (defaults, timers, explicit per-disk
  // policies) back to the configuration file, or to `path` when given.
  virtual void SaveConfig(std::optional<std::string> path, StatusCallback done) = 0;

  // The engine's recent events, oldest first (a bounded ring: the newest
  // Engine::kMaxEvents).
  virtual void ReadEvents(std::function<void(std::vector<Event>)> done) = 0;

  // nullptr when there is no embedded array. Stable for the backend's life.
  [[nodiscard]] virtual SimControl* sim() = 0;
};

}  // namespace openmpio::mgmt

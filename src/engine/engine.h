// The engine (DESIGN.md "Layers"): multipath I/O over transport nexuses.
// AddNexus logs in and discovers what is behind a nexus (REPORT LUNS, INQUIRY,
// the VPD pages page 0x00 lists, RTPG, READ CAPACITY(16)); paths are grouped
// into disks by the DSM's claim rule; caller I/O on a DiskHandle is split to
// the LU's maximum transfer length, dispatched through the disk's selection
// snapshot, and every completion goes through the DSM error table (retry,
// ALUA refresh and re-dispatch, path failure and re-dispatch, fail to caller).
// Failed paths are probed and reinstated (path_monitor.cpp); with no usable
// path requests wait in a bounded queue for the no-path time, then fail with
// STATUS_DEVICE_NOT_READY.
//
// Threading (the SPDK model, transport.h):
//  - `control` (the constructor's executor) owns the DSM Topology, discovery,
//    ALUA refresh, path monitoring and snapshot publication. Every Engine
//    method except the DiskHandle I/O calls is called on it.
//  - Each nexus is bound to its own executor (a reactor thread); the engine
//    calls its transport only there.
//  - DiskHandle I/O may be called from any thread. The data path reads the
//    disk's snapshot through one atomic pointer (disk_runtime.h) and takes no
//    global lock; only a request that finds no usable path touches the disk's
//    no-path queue mutex.
//  - Completion callbacks run on the nexus executor that completed the last
//    piece of the request (or on the control executor for failures decided
//    there). They must not block.
//
// Write fencing (DESIGN.md "Write fencing") is fence.cpp.
// Explicit ALUA (explicit_alua.cpp): a failover onto groups that are not
// active sends one STPG per LU making them A/O (DESIGN.md "Management" and
// the Engine issue), and a management set executes spec §4 step 14
// (ExecuteSetPolicyPlan).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/executor.h"
#include "dsm/lb_management.h"
#include "dsm/types.h"
#include "openmpio/expected.h"
#include "openmpio/status.h"
#include "scsi/alua.h"
#include "transport/transport.h"

namespace openmpio::engine {

// Timers: MSDSM's defaults (spec/msdsm.md §5) unless DESIGN.md "Timers" says
// otherwise. Every value is the engine's own clock (Executor::Now), so tests
// run them in virtual time.
// How the engine uses one nexus (AddNexus).
struct NexusOptions {
  std::vector<std::uint64_t> luns;  // the LUs to claim; empty: every one listed
  // ALUA of its LUs: as INQUIRY's TPGS says; forced on (implicit and
  // explicit) where TPGS says none but VPD 0x83 names the port's target port
  // group; or off.
  enum class Alua : std::uint8_t { kAsReported, kForce, kOff } alua = Alua::kAsReported;
  // The command timeout of this nexus's commands; unset: EngineConfig's.
  std::optional<Duration> command_timeout;
};

struct EngineConfig {
  // Our own command timeout (DESIGN.md "Timers"; Microsoft's advice for
  // DiskTimeoutValue). Passed to the transport on every command.
  Duration command_timeout = std::chrono::seconds(30);
  // PDORemovePeriod: how long requests wait while a disk has no usable path.
  Duration no_path_time = std::chrono::seconds(20);
  // RetryCount / RetryInterval (MPIO_TIMERS_COUNTERS). Every duration here
  // is positive and within the ranges of dsm/settings.h (the runtime builds
  // this from a checked Config): the engine adds no floors of its own, and a
  // zero interval would re-probe and re-read ALUA without pause.
  std::uint32_t retry_count = 3;
  Duration retry_interval = std::chrono::seconds(1);
  // PathVerifyEnabled / PathVerificationPeriod: TEST UNIT READY on every
  // online path. Off by default, as in MSDSM.
  bool path_verify_enabled = false;
  Duration path_verification_period = std::chrono::seconds(30);
  // A failed path is probed with back-off from retry_interval up to this
  // (PathRecoveryInterval, MSDSM's custom default 40 s); while a disk of it
  // has no usable path, every retry_interval.
  Duration path_recovery_interval = std::chrono::seconds(40);
  // 04/0A: the pause between retries while a group is transitioning; the
  // total is bounded by the implicit transition time, else this default.
  Duration transition_pause = std::chrono::milliseconds(200);
  Duration default_transition_time = std::chrono::seconds(60);
  // Marginal paths (DESIGN.md "Timers"; multipath-tools' marginal_path_*):
  // a nexus that failed this many times within marginal_path_window is not
  // reinstated when it next answers, but held out for marginal_path_hold
  // (then probed and reinstated as usual). 0 = off, the default. [C] A held
  // nexus is reinstated anyway while one of its disks has no other usable
  // path: availability first.
  std::uint32_t marginal_path_failures = 0;
  Duration marginal_path_window = std::chrono::seconds(60);
  Duration marginal_path_hold = std::chrono::seconds(120);
  // Hedging (issue 13 item 7): a command outstanding longer than
  // hedge_multiplier x its nexus's recent peak service time, and at least
  // hedge_floor, is abandoned while another nexus can serve its disk, and
  // re-dispatched there (a write under the fencing rules); its nexus is
  // failed as suspected hung and probed at once, so a hiccup costs
  // milliseconds of one path and a hung port costs about hedge_floor.
  // hedge_floor 0: off (a hung path then costs command_timeout).
  Duration hedge_floor = std::chrono::milliseconds(20);
  std::uint32_t hedge_multiplier = 4;
  // Requests a disk holds while it has no usable path; more fail at once.
  std::size_t no_path_queue_limit = 4096;
  // Used when a disk's VPD 0xB0 reports no maximum transfer length.
  std::uint32_t default_max_transfer_bytes = 1U << 20;
  // The policy of new disks (kNone: MSDSM's default, RR / RRWS).
  dsm::LoadBalancePolicy default_policy = dsm::LoadBalancePolicy::kNone;
  bool strict_msdsm = false;
};

// One caller request's outcome. OK, or a Status saying why.
using IoCallback = std::function<void(const Status&)>;

class Engine;
struct DiskRuntime;

// A multipath disk's I/O interface. Cheap to copy; valid while the Engine is.
// Offsets and lengths are in bytes and must be multiples of the block size.
class DiskHandle {
 public:
  DiskHandle() = default;
  [[nodiscard]] bool valid() const noexcept { return disk_ != nullptr; }
  [[nodiscard]] std::uint32_t block_size() const noexcept;
  [[nodiscard]] std::uint64_t size_bytes() const noexcept;

  // Buffers stay valid (and unchanged, for writes) until the callback.
  void Read(std::uint64_t offset, std::span<std::byte> buffer, IoCallback done) const;
  void Write(std::uint64_t offset, std::span<const std::byte> data, IoCallback done) const;
  // fua: the data is on stable media when `done` says OK — FUA in WRITE(16)
  // where the LU reports DPOFUA (SBC-3 5.40), else the write and then
  // SYNCHRONIZE CACHE (whose failure is the request's).
  void Write(std::uint64_t offset, std::span<const std::byte> data, bool fua,
             IoCallback done) const;
  void Flush(IoCallback done) const;
  void Unmap(std::uint64_t offset, std::uint64_t length, IoCallback done) const;
  void WriteZeroes(std::uint64_t offset, std::uint64_t length, IoCallback done) const;
  // may_unmap: WRITE SAME(16) with UNMAP (SBC-3 5.42) where the LU reports
  // LBPWS; the blocks read back as zeros either way.
  void WriteZeroes(std::uint64_t offset, std::uint64_t length, bool may_unmap,
                   IoCallback done) const;

 private:
  friend class Engine;
  explicit DiskHandle(DiskRuntime* d) : disk_(d) {}
  DiskRuntime* disk_ = nullptr;
};

// ---- what the engine reports (control executor) ------------------------------

struct PathInfo {
  dsm::DsmPathId id = 0;
  std::uint16_t relative_target_port = 0;
  std::optional<std::uint16_t> tpg_id;
  bool online = false;  // PathVerification::kOnline
  dsm::PathState state = dsm::PathState::kUnavailable;
  bool usable = false;         // carries I/O in the current snapshot
  std::uint64_t commands = 0;  // sent on this path
  std::uint64_t errors = 0;    // completions other than GOOD
};

struct GroupInfo {
  std::uint16_t tpg_id = 0;
  scsi::AccessStateField state;
  bool preferred = false;
};

struct DiskInfo {
  std::size_t index = 0;
  std::string name;  // DesignatorText of the LU designator ("naa.6...")
  std::string vendor, product;
  bool ready = false;  // capacity known: I/O accepted
  std::uint64_t blocks = 0;
  std::uint32_t block_size = 0;
  std::uint32_t max_transfer_blocks = 0;
  // Capabilities from discovery. READ CAPACITY(16) (SBC-3 5.16.2): LBPME,
  // LBPRZ, LOGICAL BLOCKS PER PHYSICAL BLOCK EXPONENT. VPD 0xB2 (SBC-3
  // 6.6.6): LBPU, LBPWS. VPD 0xB0: OPTIMAL TRANSFER LENGTH (blocks, 0 = not
  // reported). MODE SENSE(10) (optional: false when it did not answer,
  // caching_known says which): WCE of the caching page (SBC-3 6.4.5), DPOFUA
  // of the device-specific parameter (SBC-3 6.4.1).
  bool lbpme = false, lbprz = false, lbpu = false, lbpws = false;
  bool caching_known = false, wce = false, dpofua = false;
  std::uint32_t optimal_transfer_blocks = 0;
  std::uint8_t physical_block_exponent = 0;
  dsm::LoadBalancePolicy policy = dsm::LoadBalancePolicy::kNone;
  dsm::AluaSupport alua = dsm::AluaSupport::kNotSupported;
  std::vector<PathInfo> paths;
  std::vector<GroupInfo> groups;
  std::size_t queued = 0;  // in the no-path queue
  // Write fencing (DESIGN.md "Write fencing"): copies of unknown fate not
  // yet fenced, writes waiting on them, and totals since start.
  std::size_t unknown_fate_writes = 0;
  std::size_t fence_waiters = 0;
  std::uint64_t fences_recorded = 0, fences_lifted = 0;
  std::uint64_t fence_held_writes = 0, fence_failed_writes = 0;
  std::uint64_t fence_aborts = 0;  // ABORT TASKs asked for fence entries
  std::uint64_t deferred_errors = 0;
  // SET TARGET PORT GROUPS sent for this LU: by explicit failover, and by
  // management sets (spec §4 step 14).
  std::uint64_t failover_stpgs = 0, policy_stpgs = 0;
  // No path can serve I/O and the engine re-reads ALUA every RetryInterval.
  bool alua_polling = false;
};

// A state change an operator cares about (DESIGN.md "Events, logs,
// metrics"): what changed and why, for which disk.
struct EngineEvent {
  TimePoint when{};  // the engine's clock
  std::string disk;  // DiskInfo::name; empty for the engine as a whole
  std::string text;
};

struct NexusInfo {
  dsm::DsmPathId id = 0;
  std::string portal;
  transport::NexusState state = transport::NexusState::kDisconnected;
  bool failed = false;  // the engine considers it failed (probing it)
  bool discovered = false;
  std::uint64_t commands = 0, completions = 0, transport_errors = 0, retries = 0, path_failures = 0,
                probes = 0, reinstatements = 0;
  std::uint64_t marginal_holds = 0;  // times held out as marginal
  bool held = false;                 // held out as marginal now
};

class Engine {
 public:
  Engine(EngineConfig config, Executor& control);
  // On the control executor, with no request outstanding and every nexus's
  // executor idle (transport.h: nexuses are destroyed with nothing pending).
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Takes the nexus (bound to `executor`), logs in and discovers its LUs —
  // those REPORT LUNS lists, or only those of them that options.luns names.
  void AddNexus(std::unique_ptr<transport::TransportNexus> nexus, Executor& executor,
                NexusOptions options = {});

  [[nodiscard]] std::vector<DiskInfo> Disks() const;
  [[nodiscard]] std::vector<NexusInfo> Nexuses() const;
  // The last kMaxEvents events, oldest first (on control, like Disks; not
  // yet served by management — the operator's-view issue).
  static constexpr std::size_t kMaxEvents = 256;
  [[nodiscard]] std::vector<EngineEvent> Events() const;
  [[nodiscard]] DiskHandle Disk(std::size_t index) const;
  // True when every added nexus finished discovery and every disk is ready.
  [[nodiscard]] bool DiscoveryIdle() const;

  // The execution seam of DsmSetLoadBalancePolicy (mgmt step): sets the
  // disk's policy and publishes a new snapshot. No spec §4 checks here.
  [[nodiscard]] Status SetLoadBalancePolicy(std::size_t disk, dsm::LoadBalancePolicy policy,
                                            dsm::DsmPathId preferred_path = dsm::kNoPreferredPath);

  // Spec/msdsm.md §4 step 14 and "On success": executes a plan that
  // dsm::CheckSetLoadBalancePolicy(Buffer) returned for this disk (checks
  // 1-13 passed). Control executor; `done` runs there, possibly later.
  //  - Without plan.stpg: CommitSetPolicy and a new snapshot, at once.
  //  - With plan.stpg: SET TARGET PORT GROUPS (each listed group to A/O) down
  //    path plan.stpg->via (the path that was AO before the call; if it
  //    cannot carry commands now, another path whose nexus is up), then an
  //    RTPG. Both good: CommitSetPolicy — a path asked AO whose group ended
  //    non-AO takes the group state — and a new snapshot; OK.
  //    STPG failed: its Status (STATUS_IO_DEVICE_ERROR naming the sense);
  //    RTPG failed: its Status. Either way the disk keeps its previous
  //    policy and takes the group states an RTPG re-read shows.
  // Unknown disk: STATUS_NO_SUCH_DEVICE; a plan for other paths than the
  // disk's now: STATUS_INVALID_PARAMETER (CommitSetPolicy), nothing written.
  void ExecuteSetPolicyPlan(std::size_t disk, dsm::SetPolicyPlan plan,
                            std::function<void(Status)> done);
  // Checks 1-13 against the disk as the engine has it now (control executor).
  [[nodiscard]] Expected<dsm::SetPolicyPlan> CheckSetLoadBalancePolicy(
      std::size_t disk, const dsm::SetPolicyInput& in) const;
  // DSM_QueryLBPolicy_V2 from the states the engine has now (no RTPG first:
  // the caller refreshes where dsm::QueryNeedsAluaRefresh says so). An unknown
  // disk gives an empty query.
  [[nodiscard]] dsm::QueriedPolicy QueryLoadBalancePolicy(std::size_t disk) const;

  // LOGICAL UNIT RESET of the disk's LU through one usable path (`done` on
  // the control executor with the TMF's answer). Every command of the LU in
  // flight is aborted by the target and re-dispatched by the engine (ours
  // complete kAborted, other sessions' TASK ABORTED); 29/03 is retried.
  void ResetLogicalUnit(std::size_t disk, std::function<void(const Status&)> done);

  struct Impl;
  // For the engine's own files (src/engine/*.cpp, e.g. mgmt_access.cpp):
  // the inside, engine_impl.h. Control executor only. Not a public API.
  [[nodiscard]] Impl& impl() noexcept { return *impl_; }
  [[nodiscard]] const Impl& impl() const noexcept { return *impl_; }

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace openmpio::engine

// The engine's inside, shared by its files (small files by responsibility):
//   engine.cpp        construction, AddNexus, reports, publication, events, DiskHandle
//   disk_runtime.cpp  snapshot cell (epoch reclamation), fence-set counts
//   fence.cpp         write fencing: the fence set, its gate, ABORT TASK, reinstatement
//   control_command.cpp  one internal command on a nexus, answered on control
//   discovery.cpp     login and discovery of a nexus's LUs, claim, capacity, and
//                     the error table's follow-ups (rescan after 3F/0E)
//   request.cpp       the request state machine (dispatch, completion, queue)
//   hedge.cpp         the hedge of a hung path (in-flight lists, the sweep)
//   alua_refresh.cpp  coalesced RTPG per LU; ALUA re-reads while no path serves
//   explicit_alua.cpp STPG: explicit failover, DsmSetLoadBalancePolicy's step 14
//   path_monitor.cpp  failing paths, probing, reinstatement, verification
//   mgmt_access.cpp   what the management backend reads and sets (mgmt_access.h)
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "dsm/error_table.h"
#include "dsm/lb_management.h"
#include "dsm/policy.h"
#include "dsm/snapshot.h"
#include "dsm/topology.h"
#include "engine/disk_runtime.h"
#include "engine/engine.h"
#include "scsi/cdb.h"
#include "scsi/report_luns.h"
#include "transport/transport.h"

namespace openmpio::engine {

enum class IoOp : std::uint8_t { kRead, kWrite, kFlush, kUnmap, kWriteSame, kReadCapacity };

// Request flags (Submit): FUA in WRITE(16); UNMAP in WRITE SAME(16).
inline constexpr std::uint8_t kIoFua = 0x01;
inline constexpr std::uint8_t kIoUnmap = 0x02;

// One command's worth of a caller request (split to the maximum transfer
// length). Lives until its parent completes. Its fields are touched by one
// thread at a time: the dispatcher, then the nexus executor it was sent to,
// then (on a path failure or ALUA refresh) the control executor.
struct IoChunk {
  IoParent* parent = nullptr;
  DiskRuntime* disk = nullptr;
  IoOp op = IoOp::kRead;
  std::uint64_t lba = 0;
  std::uint32_t blocks = 0;
  std::span<std::byte> data_in;
  std::span<const std::byte> data_out;
  std::vector<std::byte> owned;  // UNMAP parameter list / WRITE SAME block
  std::uint8_t flags = 0;        // kIoFua / kIoUnmap
  dsm::IoHint hint;

  // The current attempt.
  dsm::SnapshotEntry entry;
  const dsm::Policy* policy = nullptr;
  NexusRuntime* nexus = nullptr;
  transport::Command command;
  transport::TaskTag tag = 0;
  TimePoint started{};
  std::uint32_t retries = 0;
  std::optional<TimePoint> first_transition;  // first 04/0A
  std::optional<TimePoint> no_path_deadline;  // while queued for a path
  std::uint64_t session = 0;                  // the nexus session the current attempt went on
  bool gated = false;                         // passed the fence gate (first dispatch only)
  // In its nexus's in-flight list (hedge.cpp), and its neighbours there.
  bool in_flight = false;
  IoChunk* flight_prev = nullptr;
  IoChunk* flight_next = nullptr;
  Duration abandoned_age{0};  // how long it had been out when the hedge gave up on it

  [[nodiscard]] bool IsWrite() const noexcept {
    return op == IoOp::kWrite || op == IoOp::kUnmap || op == IoOp::kWriteSame;
  }
  // Back to a fresh chunk for a pooled parent, keeping `owned`'s capacity.
  void Reset() noexcept {
    std::vector<std::byte> keep = std::move(owned);
    *this = IoChunk{};
    owned = std::move(keep);
    owned.clear();
  }
};

// The caller's request: completes when every chunk has.
//
// Caller requests take their parent from the disk's IoParentPool
// (disk_runtime.h) and give it back when they complete, so the steady state
// allocates nothing: the first chunk is inline (a request of one command
// needs no second object), further chunks are kept in `chunks` with their
// buffers' capacity. Internal users (discovery.cpp's READ CAPACITY) may
// instead `new` a parent with `pool == nullptr` and their one chunk in
// `chunks`: FinishChunk deletes such a parent after its callback.
struct IoParent {
  IoCallback done;
  std::atomic<std::uint32_t> remaining{0};
  std::mutex mutex;  // guards status (first error wins)
  Status status;
  IoChunk first;
  // Pooled: chunks 2.. of the request, kept across uses (Submit uses as
  // many as it needs). Not pooled: the parent's chunks.
  std::vector<std::unique_ptr<IoChunk>> chunks;
  // kReadCapacity: where the 32 bytes go (owned here).
  std::vector<std::byte> scratch;
  IoParentPool* pool = nullptr;  // the pool it returns to; nullptr: deleted
};

// An internal command's answer, on the control executor.
// The error of a request to a disk whose LU left every path (DropLu).
[[nodiscard]] Status Removed(const DiskRuntime& d);

// The snapshot can serve media access: some path carries I/O, and not only
// paths whose groups are all Standby / Unavailable (path_state.h rule 8,
// awaiting_activation: media access there gets 04/0B / 04/0C). Any thread.
[[nodiscard]] inline bool ServesIo(const dsm::SelectionSnapshot* s) noexcept {
  return s != nullptr && !s->usable().empty() && !s->states().awaiting_activation;
}

using CommandDone = std::function<void(const transport::Result&, std::span<const std::byte> data)>;

// The sense of a CHECK CONDITION answer, as the Status data (status.h);
// nullopt for any other answer or sense that does not parse (request.cpp).
[[nodiscard]] std::optional<SenseCode> SenseOf(const transport::Result& r);
// " (sense K/AA/QQ)", for messages.
[[nodiscard]] std::string SenseSuffix(const SenseCode& s);

// The MPIO_TIMERS_COUNTERS values a management set changes while requests
// run (mgmt_access.cpp ApplyTimers): RetryCount, RetryInterval and
// PDORemovePeriod (the no-path time). Written on the control executor, read
// by any thread (reactors completing requests, callers queueing them) with
// relaxed loads: each read takes whichever value is current, and a request
// uses the values of the moment it reads them (a queued request keeps the
// no-path deadline it was given).
struct LiveTimers {
  explicit LiveTimers(const EngineConfig& c) {
    Set(c.retry_count, c.retry_interval, c.no_path_time);
  }
  void Set(std::uint32_t count, Duration interval, Duration no_path) noexcept {
    retry_count_.store(count, std::memory_order_relaxed);
    retry_interval_ns_.store(interval.count(), std::memory_order_relaxed);
    no_path_time_ns_.store(no_path.count(), std::memory_order_relaxed);
  }
  [[nodiscard]] std::uint32_t retry_count() const noexcept {
    return retry_count_.load(std::memory_order_relaxed);
  }
  [[nodiscard]] Duration retry_interval() const noexcept {
    return Duration(retry_interval_ns_.load(std::memory_order_relaxed));
  }
  [[nodiscard]] Duration no_path_time() const noexcept {
    return Duration(no_path_time_ns_.load(std::memory_order_relaxed));
  }

 private:
  std::atomic<std::uint32_t> retry_count_{0};
  std::atomic<Duration::rep> retry_interval_ns_{0};
  std::atomic<Duration::rep> no_path_time_ns_{0};
};

struct Engine::Impl {
  Impl(EngineConfig c, Executor& ctl);
  ~Impl();

  // Control executor only for the fields LiveTimers mirrors (retry_count,
  // retry_interval, no_path_time): other threads read `timers`.
  EngineConfig config;
  LiveTimers timers{config};
  Executor& control;
  dsm::DsmOptions options;
  dsm::Topology topology;
  std::vector<std::unique_ptr<NexusRuntime>> nexuses;
  std::vector<std::unique_ptr<DiskRuntime>> disks;
  // The bounded event ring (DESIGN.md "Events, logs, metrics"), oldest first.
  std::deque<EngineEvent> events;
  Executor::TimerId reclaim_timer = 0;
  Executor::TimerId verify_timer = 0;
  bool shutting_down = false;
  // Liveness token for callbacks posted to other executors (they check it).
  std::shared_ptr<bool> alive = std::make_shared<bool>(true);

  [[nodiscard]] std::uint64_t NowMs() const;

  // engine.cpp
  void Publish(DiskRuntime& d);
  // A state change an operator cares about, into `events` (control only).
  void RecordEvent(const DiskRuntime* d, std::string text);
  void ScheduleReclaim();
  DiskRuntime& RuntimeFor(dsm::Disk* disk, const std::string& vendor, const std::string& product);

  // control_command.cpp: runs `cdb` on nexus `n` for `lun`; `done` on control.
  // Retries unit attentions and BUSY a few times (discovery must not fail on
  // the power-on UA of a new session).
  void IssueCommand(NexusRuntime& n, std::uint64_t lun, const scsi::Cdb& cdb,
                    std::size_t allocation, CommandDone done, int attempts_left = 6);
  void ConnectNexus(NexusRuntime& n, std::function<void(const Status&)> done);
  // The same with a data-out buffer (SET TARGET PORT GROUPS' parameter list).
  void IssueCommandOut(NexusRuntime& n, std::uint64_t lun, const scsi::Cdb& cdb,
                       std::vector<std::byte> data_out, CommandDone done, int attempts_left = 6);

  // discovery.cpp
  void StartDiscovery(NexusRuntime& n);
  void StartDiscoveryAfterLogin(NexusRuntime& n);
  // Probes and claims each of `luns` in turn (MSDSM's path order; one method
  // per step in discovery.cpp's LunScan), then `done`.
  void DiscoverLuns(NexusRuntime& n, std::vector<std::uint64_t> luns, std::function<void()> done);
  // READ CAPACITY(16) through the disk's policy; once per disk until it is
  // ready, or again (after 2A/09) with `again`: the new size is taken live.
  void ReadCapacity(DiskRuntime& d, bool again = false);
  std::size_t discovering = 0;

  // The error table's side effects (dsm::follow_up) of a completion on n's
  // executor; they run on control, beside the request's own action.
  void StartFollowUps(NexusRuntime& n, DiskRuntime& d, std::uint8_t follow_ups);
  // REPORT LUNS on n (one in flight per nexus): LUs that left are taken out
  // of their disks, new ones are discovered and claimed.
  // REPORT LUNS on the nexus: the LUNs it may claim (NexusOptions::luns), or
  // nullopt without a whole answer; asked again with the length the first
  // answer's header asks for (discovery.cpp).
  void ReportLuns(NexusRuntime& n,
                  std::function<void(std::optional<std::vector<std::uint64_t>>)> done,
                  std::uint32_t allocation = scsi::kReportLunsInitialAllocation);
  void RescanLuns(NexusRuntime& n, std::uint32_t attempt = 0);
  void DropLu(NexusRuntime& n, std::size_t i);

  // alua_refresh.cpp: RTPG for the disk (coalesced); `then` runs on control
  // after the new snapshot is published (or the refresh failed).
  void RefreshAlua(DiskRuntime& d, std::function<void()> then);
  void StartRefresh(DiskRuntime& d, std::size_t attempt);
  // Re-issues one path's RTPG with the length the target claimed (rtpg.h).
  void StartRefreshWith(DiskRuntime& d, std::size_t attempt, std::uint32_t allocation);
  // While the disk's paths answer but none can serve I/O (ServesIo false on
  // ALUA storage: every group Standby, Unavailable or Transitioning), an RTPG
  // every RetryInterval; stops once a path can serve. Publish calls it.
  void UpdateAluaPoll(DiskRuntime& d);
  [[nodiscard]] bool NeedsAluaPoll(const DiskRuntime& d) const;

  // explicit_alua.cpp: SET TARGET PORT GROUPS (SPC-4 6.44).
  // STPG moving `tpgs` to Active/Optimized, sent through path `path_index`
  // of `d`; `done` on control with OK or the command's Status.
  void SendStpg(DiskRuntime& d, std::uint32_t path_index, std::vector<std::uint16_t> tpgs,
                std::function<void(const Status&)> done);
  // Explicit failover (DESIGN.md): the snapshot just published promotes
  // paths of groups that are not active; one STPG (coalesced) makes them
  // A/O, then an RTPG publishes the result.
  void MaybeExplicitFailover(DiskRuntime& d);
  // Spec §4 step 14 (Engine::ExecuteSetPolicyPlan).
  void ExecutePlan(DiskRuntime& d, dsm::SetPolicyPlan plan, std::function<void(Status)> done);

  // path_monitor.cpp
  // Both record an event per disk naming the path and `why`.
  void FailNexus(NexusRuntime& n, const std::string& why);
  void FailPath(DiskRuntime& d, std::uint32_t path_index, const std::string& why);
  // at_once: probe now (a suspected hang), not after the back-off.
  void ScheduleProbe(NexusRuntime& n, bool at_once = false);
  void Probe(NexusRuntime& n);
  void VerifyLus(NexusRuntime& n, std::size_t i, bool reinstate);
  void Reinstate(NexusRuntime& n);
  void OnNexusState(NexusRuntime& n, transport::NexusState s);
  void NoteLoginFailure(NexusRuntime& n, const Status& s);
  void ScheduleVerification();
  [[nodiscard]] bool AnyDiskWithoutPath(const NexusRuntime& n) const;
  // Marginal paths: a failure of `n` now; whether `n` must stay out now.
  void NoteFailure(NexusRuntime& n);
  [[nodiscard]] bool HoldAsMarginal(NexusRuntime& n);

  // fence.cpp (DESIGN.md "Write fencing")
  // The gate, on the first dispatch of a write: true when `c` was held (or
  // failed for want of a fence) and must not be sent now.
  bool FenceGate(IoChunk* c);
  // A copy of `c` may still reach the target: record it (any thread).
  void RecordFence(IoChunk* c, TimePoint now);
  // Control: ABORT TASK for every entry not fenced and not being aborted.
  void StartFences(DiskRuntime& d);
  void OnAbortAnswer(DiskRuntime& d, std::uint64_t entry_id, transport::TmfResponse r);
  // Control: nexus `n` logged in again; copies sent on older sessions are fenced.
  void OnSessionEstablished(NexusRuntime& n);
  // Removes entries (ids) and lets waiters go / fail; any thread.
  // `how`: what fenced them, for the event.
  void LiftFences(DiskRuntime& d, const std::vector<std::uint64_t>& ids, const std::string& how);
  void ReleaseFenceWaiters(DiskRuntime& d);
  void ArmFenceExpiry(DiskRuntime& d);
  void ExpireFences(DiskRuntime& d);

  // request.cpp
  void Submit(DiskRuntime& d, IoOp op, std::uint64_t offset, std::uint64_t length,
              std::span<std::byte> in, std::span<const std::byte> out, IoCallback done,
              std::uint8_t flags = 0);
  void Dispatch(IoChunk* c);
  static void SendPosted(void* chunk);  // Executor::RawFn: SendOnNexus
  void SendOnNexus(IoChunk* c);
  static void OnCommandComplete(void* context, transport::TaskTag tag,
                                const transport::Result& result);
  // The attempt is over: the policy's EndIo, completion and latency counters;
  // returns the service time in ns.
  std::uint64_t EndAttempt(IoChunk* c, TimePoint now);
  void CompleteGood(IoChunk* c);
  void CountRetry(IoChunk* c);
  void HandleCompletion(IoChunk* c, const transport::Result& r);
  void RetryAborted(IoChunk* c);
  void RetrySamePath(IoChunk* c, dsm::RetryDelay delay);
  void RefreshAndRedispatch(IoChunk* c, dsm::RetryDelay delay, TimePoint now);
  void FailPathAndRedispatch(IoChunk* c, const dsm::ErrorDecision& dec, bool transport_level,
                             TimePoint now);
  void FinishChunk(IoChunk* c, Status s);

  // hedge.cpp (issue 13 item 7): a command outstanding past its nexus's
  // hedge threshold, while another nexus can serve its disk, is abandoned
  // and re-dispatched there; its nexus is failed as suspected hung and
  // probed at once. Nexus executor, except SuspectAndRedispatch's control
  // half.
  void LinkInflight(NexusRuntime& n, IoChunk* c);
  void UnlinkInflight(NexusRuntime& n, IoChunk* c);
  [[nodiscard]] Duration HedgeThreshold(const NexusRuntime& n) const;
  void HedgeSweep(NexusRuntime& n);
  void SuspectAndRedispatch(IoChunk* c, TimePoint now);
  void EnqueueNoPath(IoChunk* c);
  void DrainNoPath(DiskRuntime& d);
  void ExpireNoPath(DiskRuntime& d);
  void ArmExpiry(DiskRuntime& d);
};

}  // namespace openmpio::engine

// Per-disk and per-nexus runtime state of the engine: the published selection
// snapshot and its reclamation, the SelectorState, the path → nexus table the
// data path dispatches with, the no-path queue, the write-fence set, and counters.
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/executor.h"
#include "common/mpmc_ring.h"
#include "dsm/snapshot.h"
#include "dsm/topology.h"
#include "dsm/types.h"
#include "engine/coalesce.h"
#include "engine/engine.h"
#include "openmpio/status.h"
#include "transport/transport.h"

namespace openmpio::engine {

struct IoChunk;
struct IoParent;

// ---- snapshot publication --------------------------------------------------------
//
// One atomic pointer to the current SelectionSnapshot; readers pin it with a
// two-slot epoch scheme in the manner of Linux SRCU:
//   reader: e = epoch; readers[e & 1]++; if epoch != e: undo and retry;
//           p = current; ... use p ...; readers[e & 1]--.
//   writer (control executor only): Publish swaps the pointer and retires the
//   old snapshot to `pending`. Reclaim() flips the epoch when nothing waits on
//   the other slot (pending → waiting, remembering the old slot); once that
//   slot's reader count is observed 0, every reader that could have loaded a
//   waiting snapshot has left, and they are freed. Readers that register after
//   the flip count in the new slot and load the new pointer (every operation
//   is seq_cst, so "registered before the flip" and "loaded after the swap"
//   cannot both miss).
// A pin is held only across Select + StartIo (never across a command): a
// request keeps a copy of its SnapshotEntry; the nexus counters it points at
// live as long as the Topology (the engine never removes a nexus). So a grace
// period is a few instructions long, and reclamation never waits for I/O.
// Cost on the hot path: two seq_cst read-modify-writes on a per-disk counter
// (per-thread counters or liburcu can replace it without changing callers).
class SnapshotCell {
 public:
  class Pin {
   public:
    Pin(const Pin&) = delete;
    Pin& operator=(const Pin&) = delete;
    ~Pin() { slot_->fetch_sub(1, std::memory_order_seq_cst); }
    [[nodiscard]] const dsm::SelectionSnapshot* get() const noexcept { return snap_; }

   private:
    friend class SnapshotCell;
    Pin(std::atomic<std::int64_t>* slot, const dsm::SelectionSnapshot* s) : slot_(slot), snap_(s) {}
    std::atomic<std::int64_t>* slot_;
    const dsm::SelectionSnapshot* snap_;
  };

  SnapshotCell() = default;
  SnapshotCell(const SnapshotCell&) = delete;
  SnapshotCell& operator=(const SnapshotCell&) = delete;

  // Any thread.
  [[nodiscard]] Pin Acquire() const noexcept;
  // Control executor only.
  void Publish(std::unique_ptr<const dsm::SelectionSnapshot> next);
  [[nodiscard]] const dsm::SelectionSnapshot* current() const noexcept { return owned_.get(); }
  // Advances reclamation; true while retired snapshots remain.
  bool Reclaim();
  [[nodiscard]] std::size_t retired() const noexcept { return pending_.size() + waiting_.size(); }

 private:
  std::atomic<const dsm::SelectionSnapshot*> ptr_{nullptr};
  mutable std::atomic<std::uint64_t> epoch_{0};
  mutable std::array<std::atomic<std::int64_t>, 2> readers_{};
  // Writer-only.
  std::unique_ptr<const dsm::SelectionSnapshot> owned_;
  std::vector<std::unique_ptr<const dsm::SelectionSnapshot>> pending_;
  std::vector<std::unique_ptr<const dsm::SelectionSnapshot>> waiting_;
  std::size_t waiting_slot_ = 0;
};

// ---- nexus ---------------------------------------------------------------------------

// Counters of one nexus. Written by its executor (and the control executor for
// path_failures / probes / reinstatements) with relaxed atomics; read anywhere.
struct NexusStats {
  std::atomic<std::uint64_t> commands{0};
  std::atomic<std::uint64_t> completions{0};
  std::atomic<std::uint64_t> transport_errors{0};
  std::atomic<std::uint64_t> retries{0};
  std::atomic<std::uint64_t> path_failures{0};
  std::atomic<std::uint64_t> probes{0};
  std::atomic<std::uint64_t> reinstatements{0};
  std::atomic<std::uint64_t> marginal_holds{0};
  std::atomic<std::uint64_t> hedges{0};  // commands abandoned as hung (hedge.cpp)
};

struct DiskRuntime;

// One I_T nexus as the engine runs it.
//  - transport: used only on *executor (transport.h).
//  - everything under "control" is read and written on the control executor.
//  - stats: see NexusStats.
struct NexusRuntime {
  std::unique_ptr<transport::TransportNexus> transport;
  Executor* executor = nullptr;
  std::shared_ptr<dsm::Nexus> nexus;  // the DSM's (id, identity, counters)
  NexusStats stats;
  // The LUs to claim behind it (NexusOptions::luns); empty: every one.
  std::vector<std::uint64_t> only_luns;
  NexusOptions::Alua alua = NexusOptions::Alua::kAsReported;
  std::optional<Duration> command_timeout;  // NexusOptions::command_timeout
  // Bumped on the nexus's executor by every successful login: a copy sent on
  // an older session is fenced once a newer one exists (the target ended the
  // old session and discards what it still held or receives from it).
  std::atomic<std::uint64_t> session{0};

  // control
  bool discovered = false;  // discovery finished (successfully or not)
  OneInFlight rescan;       // REPORT LUNS after 3F/0E (discovery.cpp RescanLuns)
  bool failed = false;      // failed by the engine; the monitor probes it
  bool probing = false;     // a probe is in flight
  Executor::TimerId probe_timer = 0;
  TimePoint probe_due{};
  Duration backoff{0};  // next probe delay (back-off)
  transport::NexusState last_state = transport::NexusState::kDisconnected;  // seen via control
  std::string last_login_error;  // the last failed login's reason, told once
  // Marginal paths (path_monitor.cpp): failure times within the window, and
  // the end of a hold.
  std::deque<TimePoint> failure_times;
  TimePoint held_until{};
  struct Lu {
    DiskRuntime* disk = nullptr;
    std::uint64_t lun = 0;
  };
  std::vector<Lu> lus;  // the paths this nexus carries

  // Hedging (hedge.cpp), the nexus's executor only: its I/O commands in
  // flight, oldest first (an intrusive list through IoChunk); the sweep's
  // timer; the recent peak service time of answered commands (decays by
  // 1/1024 per answer).
  IoChunk* inflight_head = nullptr;
  IoChunk* inflight_tail = nullptr;
  Executor::TimerId hedge_timer = 0;
  std::uint64_t peak_ns = 0;
};

// ---- disk ------------------------------------------------------------------------------

// Write fencing (DESIGN.md "Write fencing", fence.cpp). A write, UNMAP or
// WRITE SAME whose fate is unknown (it timed out or lost its connection and
// may still reach the target) is re-dispatched at once (rule 1); its first
// copy becomes a FenceEntry until something the target confirmed fences it:
// ABORT TASK answered FUNCTION COMPLETE / TASK DOES NOT EXIST on the same
// session, or a new session on the same nexus (session reinstatement: the
// target discards the old session's commands). Until then later writes that
// overlap it wait (rule 2); past `deadline` (the no-path time) they fail.
struct FenceEntry {
  std::uint64_t id = 0;  // unique per disk
  std::uint64_t lba = 0;
  std::uint64_t blocks = 0;
  NexusRuntime* nexus = nullptr;
  dsm::DsmPathId path = 0;
  transport::TaskTag tag = 0;
  std::uint64_t session = 0;  // NexusRuntime::session the copy was sent on
  TimePoint recorded{};
  TimePoint deadline{};
  bool abort_in_flight = false;  // control
  bool expired = false;          // no fence within the no-path time
};

// The per-disk fence set. `active` counts entries + waiters: the data path's
// common case (nothing fenced) is one relaxed load of it. Everything else is
// under `mutex`; the timers are the control executor's.
struct FenceSet {
  std::atomic<std::uint32_t> active{0};
  mutable std::mutex mutex;
  std::vector<FenceEntry> entries;  // an interval list; short (writes in flight on a lost path)
  std::deque<IoChunk*> waiters;     // held writes, in submission order
  std::uint64_t next_id = 1;
  // control
  Executor::TimerId expiry_timer = 0;
  Executor::TimerId retry_timer = 0;
  // counters (relaxed)
  std::atomic<std::uint64_t> recorded{0};
  std::atomic<std::uint64_t> fenced{0};
  std::atomic<std::uint64_t> held{0};    // writes that waited
  std::atomic<std::uint64_t> failed{0};  // writes failed for want of a fence
  std::atomic<std::uint64_t> aborts{0};  // ABORT TASKs asked for (StartFences)
};

// Free IoParents of one disk (request.cpp), so that dispatch allocates
// nothing in the steady state. A parent is taken on the submitting thread and
// given back on the thread that completes its last chunk (a nexus executor,
// or control), so per-thread caches would drain one thread into another; a
// small lock-free ring (mpmc_ring.h) holds them instead — no lock between the
// caller and the reactor, and no ABA problem (a ring of tickets, not a
// linked stack). At most kMaxFree parents are kept; a request beyond that
// peak in flight allocates its parent and frees it after (nbdkit's thread
// count bounds what one export has in flight, far below it).
class IoParentPool {
 public:
  static constexpr std::size_t kMaxFree = 128;
  IoParentPool() : free_(kMaxFree) {}
  IoParentPool(const IoParentPool&) = delete;
  IoParentPool& operator=(const IoParentPool&) = delete;
  ~IoParentPool();  // request.cpp: deletes the free parents

  // A parent with no chunk in use, status OK and pool == this (any thread).
  IoParent* Get();
  // `p` came from Get and is finished: its callback moved out (any thread).
  void Put(IoParent* p);

 private:
  MpmcRing<IoParent*> free_;
};

// Service-time histogram buckets (per path): power-of-two microseconds.
// Bucket 0 is < 16 us; bucket k in 1..16 is [2^(k+3), 2^(k+4)) us; the last
// bucket is >= 2^20 us (1.05 s).
inline constexpr std::size_t kLatencyBuckets = 18;
[[nodiscard]] constexpr std::size_t LatencyBucket(std::uint64_t us) noexcept {
  if (us < 16) return 0;
  return std::min<std::size_t>(static_cast<std::size_t>(std::bit_width(us)) - 4,
                               kLatencyBuckets - 1);
}
// The lower bound of bucket k in microseconds (0 for bucket 0).
[[nodiscard]] constexpr std::uint64_t LatencyBucketFloorUs(std::size_t k) noexcept {
  return k == 0 ? 0 : std::uint64_t{1} << (k + 3);
}

// Counters of one path (disk, path index): relaxed atomics, written on the
// nexus executor that completes the path's commands (retries also on the
// control executor), read anywhere. Fixed arrays: updating them never
// allocates.
//  - commands: sent on the path; errors: completions other than success.
//  - reads / writes (WRITE and WRITE SAME) and their bytes: commands that
//    completed successfully, the bytes they carried (MSDSM_DEVICEPATH_PERF).
//  - retries: attempts on this path that ended in a retry (same path after
//    RetryInterval, ALUA refresh, or our own task management's abort).
//  - latency: every completion on the path, by service time (send to
//    answer); the buckets sum to the path's completions.
struct PathStats {
  std::atomic<std::uint64_t> commands{0};
  std::atomic<std::uint64_t> errors{0};
  std::atomic<std::uint64_t> reads{0};
  std::atomic<std::uint64_t> writes{0};
  std::atomic<std::uint64_t> bytes_read{0};
  std::atomic<std::uint64_t> bytes_written{0};
  std::atomic<std::uint64_t> retries{0};
  std::array<std::atomic<std::uint64_t>, kLatencyBuckets> latency{};
};

// One multipath disk.
//  - disk (the DSM's), refresh_* and capacity_*: control executor only.
//  - snapshot, selector, path_nexus/path_lun, geometry after `ready`: any
//    thread (path_nexus/path_lun entries are written before the snapshot that
//    first names their index is published, and never change afterwards:
//    Disk::paths only grows).
//  - no_path_queue: under queue_mutex. fences: see FenceSet.
struct DiskRuntime {
  Engine::Impl* engine = nullptr;
  std::size_t index = 0;
  dsm::Disk* disk = nullptr;
  std::string name;
  std::string vendor, product;

  SnapshotCell snapshot;
  dsm::SelectorState selector;
  std::array<std::atomic<NexusRuntime*>, dsm::kMaxPathsPerDisk> path_nexus{};
  std::array<std::atomic<std::uint64_t>, dsm::kMaxPathsPerDisk> path_lun{};
  std::array<PathStats, dsm::kMaxPathsPerDisk> path_stats{};

  // Geometry: written on the control executor before `ready` is set (release).
  // blocks may change later (2A/09: ReadCapacity again), hence atomic.
  std::atomic<bool> ready{false};
  std::atomic<std::uint64_t> blocks{0};
  std::uint32_t block_size = 0;
  // Limits: discovery of a later path may lower them while I/O reads them,
  // so they are atomics (relaxed: any value seen is one some path accepts
  // or the default; a chunk is split once, with the values it read).
  std::atomic<std::uint32_t> max_transfer_blocks{0};  // what a READ/WRITE may carry
  std::atomic<std::uint32_t> max_unmap_blocks{0};     // per UNMAP descriptor / command
  std::atomic<std::uint32_t> max_write_same_blocks{0};
  std::atomic<std::uint64_t> transition_window_ms{60'000};

  // Capabilities (discovery.cpp). The two the data path reads are atomics;
  // the rest are control-only and reported by Engine::Disks.
  std::atomic<bool> dpofua{false};            // MODE SENSE(10) header byte 3 bit 4
  std::atomic<bool> lbpws{false};             // VPD 0xB2 byte 5 bit 6
  bool lbpme = false, lbprz = false;          // READ CAPACITY(16) byte 14
  bool lbpu = false;                          // VPD 0xB2 byte 5 bit 7
  bool wce = false;                           // caching mode page byte 2 bit 2
  bool caching_known = false;                 // the MODE SENSE answered
  std::uint32_t optimal_transfer_blocks = 0;  // VPD 0xB0 bytes 12..15
  std::uint8_t physical_block_exponent = 0;   // READ CAPACITY(16) byte 13 bits 3..0

  // Deferred errors (SPC-4 4.5.5): the next flush fails.
  std::atomic<std::uint64_t> deferred_errors{0};
  std::atomic<bool> deferred_pending{false};

  // No usable path: requests wait here (bounded).
  mutable std::mutex queue_mutex;
  // Every path's LU left the target (discovery.cpp DropLu): requests fail at
  // once instead of waiting. Written under queue_mutex.
  std::atomic<bool> removed{false};
  std::deque<IoChunk*> no_path_queue;
  Executor::TimerId expiry_timer = 0;  // control

  FenceSet fences;

  IoParentPool io_pool;  // caller requests' parents (request.cpp)

  // ALUA refresh coalescing (control): one RTPG in flight per LU.
  WaiterCoalescer<std::function<void()>> refresh;

  // Whether the last RTPG that ended answered (set before its waiters run).
  bool refresh_ok = false;
  Status refresh_status;

  // No path can serve (alua_refresh.cpp UpdateAluaPoll, control): the
  // states are re-read every RetryInterval while `alua_polling`.
  bool alua_polling = false;
  Executor::TimerId alua_poll_timer = 0;

  // Explicit failover (explicit_alua.cpp, control): one STPG in flight per
  // LU; after one that did not make a group active, none before retry_after.
  OneInFlight failover_stpg;
  TimePoint failover_retry_after{};
  std::vector<std::function<void()>> failover_waiters;  // refreshes asked meanwhile
  std::atomic<std::uint64_t> failover_stpgs{0};         // sent (counter)
  std::atomic<std::uint64_t> policy_stpgs{0};           // step-14 STPGs sent

  OneInFlight capacity;  // READ CAPACITY(16); again after a 2A/09 during one
  // The LU was removed and is back (maybe re-created at another size): the
  // next publication with a usable path reads its capacity again.
  bool capacity_stale = false;

  // Entries of the fence set (writes of unknown fate not yet fenced).
  [[nodiscard]] std::size_t unknown_fate_count() const;
  [[nodiscard]] std::size_t fence_waiter_count() const;
};

}  // namespace openmpio::engine

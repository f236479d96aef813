// The immutable selection snapshot of one Disk, and the small mutable
// per-disk SelectorState that selection updates.
//
// Threading (DESIGN.md "Layers"): the engine owns one atomic pointer per disk
// to the current SelectionSnapshot and reclaims old ones after a grace period
// (RCU). A snapshot never changes after BuildSnapshot returns: any number of
// I/O threads may Select on it at once, without a lock and without allocating.
// The SelectorState outlives snapshots (one per disk); its atomics are written
// by Select on any I/O thread with relaxed order: they steer load balance,
// they guard nothing, and a race costs at most a slightly different choice.
// Publishing a new snapshot therefore never waits for a selector.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "dsm/path_state.h"
#include "dsm/topology.h"
#include "dsm/types.h"

namespace openmpio::dsm {

class Policy;

// One usable path, as selection needs it.
struct SnapshotEntry {
  NexusCounters* counters = nullptr;  // the nexus's in-flight counters (kept alive by the snapshot)
  std::uint32_t weight = 0;           // Weighted Paths
  std::uint32_t path_index = 0;       // index into Disk::paths when the snapshot was built
  DsmPathId id = 0;
};

// Selection state a policy keeps for itself (dm's pscontext, per disk): a
// fixed block of atomic words, zero at first, so that no policy allocates or
// locks for it. The policy in force gives the words their meaning (Least
// Blocks' sticky run: policy_lb.cpp). A policy change leaves the previous
// policy's values behind, so a policy checks what it reads (Least Blocks tags
// its words with the snapshot generation).
struct PolicyContext {
  static constexpr std::size_t kWords = 4;
  std::array<std::atomic<std::uint64_t>, kWords> words{};
};

// Mutable per-disk selection state. One per Disk, owned by the engine, never
// replaced when snapshots are (see the threading note above).
struct alignas(64) SelectorState {
  // RR/RRWS: index of the next entry to use (reset to 0 when out of range).
  std::atomic<std::uint32_t> rr_cursor{0};
  // LQD/LB/ST: DsmPathId of the last selected path (0: none); read by the next
  // BuildSnapshot for the transition-window reuse (path_state.h rule 5).
  std::atomic<DsmPathId> last_path{0};
  // The policy in force's own state.
  PolicyContext context;
};

class SelectionSnapshot {
 public:
  SelectionSnapshot(const SelectionSnapshot&) = delete;
  SelectionSnapshot& operator=(const SelectionSnapshot&) = delete;

  [[nodiscard]] LoadBalancePolicy policy() const noexcept { return kind_; }
  [[nodiscard]] SelectionMode mode() const noexcept { return mode_; }
  [[nodiscard]] std::uint32_t generation() const noexcept { return generation_; }
  // The paths that carry I/O now, in path order.
  [[nodiscard]] std::span<const SnapshotEntry> usable() const noexcept { return entries_; }
  // FOO's one path, WP's lowest-weight path (precomputed); nullptr otherwise.
  [[nodiscard]] const SnapshotEntry* fixed() const noexcept { return fixed_; }
  // The path-state computation this snapshot was built from (for queries/tests).
  [[nodiscard]] const PathStateResult& states() const noexcept { return states_; }
  [[nodiscard]] const Policy& policy_impl() const noexcept { return *impl_; }

  // The hot path: the entry for one request, nullptr when no path is usable.
  // Lock-free and allocation-free; O(1) for FOO/RR/RRWS/WP, O(usable) otherwise.
  [[nodiscard]] const SnapshotEntry* Select(SelectorState& state, const IoHint& hint) const noexcept;
  // Count the request on the chosen path's nexus (before sending it) and
  // uncount it on completion; service_ns is the measured service time.
  void StartIo(const SnapshotEntry& e, const IoHint& hint) const noexcept;
  void EndIo(const SnapshotEntry& e, const IoHint& hint, std::uint64_t service_ns) const noexcept;

 private:
  friend std::unique_ptr<const SelectionSnapshot> BuildSnapshot(const Disk&, const SelectorState&,
                                                                const SelectionSnapshot*,
                                                                const DsmOptions&, std::uint64_t);
  SelectionSnapshot() = default;

  LoadBalancePolicy kind_ = LoadBalancePolicy::kNone;
  SelectionMode mode_ = SelectionMode::kNoPath;
  std::uint32_t generation_ = 0;
  const Policy* impl_ = nullptr;
  std::vector<SnapshotEntry> entries_;  // sized once at build, never resized
  const SnapshotEntry* fixed_ = nullptr;
  PathStateResult states_;
  std::vector<std::shared_ptr<Nexus>> keep_alive_;  // the nexuses entries_ point into
};

// Builds the snapshot for the disk as it is now: EffectivePolicy, then
// ComputePathStates with the policy's PreviousPath, then the usable entries and the
// policy's precomputed choice. generation = previous's + 1 (1 without one).
// Allocates; not for the hot path. Called by the single topology writer.
[[nodiscard]] std::unique_ptr<const SelectionSnapshot> BuildSnapshot(
    const Disk& disk, const SelectorState& state, const SelectionSnapshot* previous,
    const DsmOptions& options, std::uint64_t now_ms);

}  // namespace openmpio::dsm

// The load-balance policy interface, in the spirit of Linux dm-multipath's path
// selectors (dm-path-selector.h). One small file per policy (policy_<name>.cpp).
//
// dm's add_path / fail_path / reinstate_path move a path between lists under a
// lock; here every such change (Topology::Claim, Disk::SetVerification, an
// ALUA update, a policy set) rebuilds the immutable SelectionSnapshot, and the
// policy's part of that rebuild is Precompute. select_path / start_io / end_io
// are Select / StartIo / EndIo and run on I/O threads: no lock, no allocation,
// no clock (the measured service time is a parameter).
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <span>

#include "dsm/path_state.h"
#include "dsm/snapshot.h"
#include "dsm/types.h"

namespace openmpio::dsm {

class Policy {
 public:
  virtual ~Policy() = default;
  [[nodiscard]] virtual LoadBalancePolicy kind() const noexcept = 0;

  // Build time: the index into `usable` of a choice that does not depend on
  // load (FOO's path, WP's lowest weight), or nullopt.
  [[nodiscard]] virtual std::optional<std::size_t> Precompute(
      std::span<const SnapshotEntry> usable, const PathStateResult& states) const {
    (void)usable;
    (void)states;
    return std::nullopt;
  }
  // The entry for one request; nullptr when snap has no usable path.
  [[nodiscard]] virtual const SnapshotEntry* Select(const SelectionSnapshot& snap,
                                                    SelectorState& state,
                                                    const IoHint& hint) const noexcept = 0;
  // Every policy keeps the nexus counters: LQD/LB of another LU on the same
  // nexus read them (MSDSM counts per path over all LUs).
  virtual void StartIo(const SnapshotEntry& e, const IoHint& hint) const noexcept {
    e.counters->StartIo(hint.bytes);
  }
  virtual void EndIo(const SnapshotEntry& e, const IoHint& hint,
                     std::uint64_t service_ns) const noexcept {
    (void)service_ns;
    e.counters->EndIo(hint.bytes);
  }
};

// The implementation of a policy number; kNone and unknown values give Round
// Robin with Subset's (callers pass EffectivePolicy).
[[nodiscard]] const Policy& PolicyFor(LoadBalancePolicy p) noexcept;

// Per-policy singletons (stateless; all state is in snapshots and SelectorState).
const Policy& FailOverOnlyPolicy() noexcept;
const Policy& RoundRobinPolicy() noexcept;
const Policy& RoundRobinWithSubsetPolicy() noexcept;
const Policy& LeastQueueDepthPolicy() noexcept;
const Policy& WeightedPathsPolicy() noexcept;
const Policy& LeastBlocksPolicy() noexcept;
const Policy& ServiceTimePolicy() noexcept;

// Shared by RR and RRWS: the entry at the cursor, advancing it by one. A CAS
// loop rather than fetch_add + modulo: exact rotation (each success owns one
// slot) and no division; a cursor left out of range by a smaller snapshot
// restarts at 0.
inline const SnapshotEntry* RotateCursor(std::span<const SnapshotEntry> usable,
                                         std::atomic<std::uint32_t>& cursor) noexcept {
  const auto n = static_cast<std::uint32_t>(usable.size());
  if (n <= 1) return n == 0 ? nullptr : &usable[0];
  std::uint32_t cur = cursor.load(std::memory_order_relaxed);
  std::uint32_t idx;
  do {
    idx = cur < n ? cur : 0;
  } while (!cursor.compare_exchange_weak(cur, idx + 1 == n ? 0 : idx + 1,
                                         std::memory_order_relaxed));
  return &usable[idx];
}

// LQD/LB/ST remember their last path for the transition-window reuse; the
// store is skipped when unchanged so a steady choice does not bounce the line.
inline void RememberLastPath(SelectorState& state, DsmPathId id) noexcept {
  if (state.last_path.load(std::memory_order_relaxed) != id) {
    state.last_path.store(id, std::memory_order_relaxed);
  }
}

}  // namespace openmpio::dsm

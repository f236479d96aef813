// The load-balance policy interface, in the spirit of Linux dm-multipath's path
// selectors (dm-path-selector.h). One small file per policy (policy_<name>.cpp)
// holds all of a policy's rules: which paths it may use, its part of the
// path-state computation, its selection, its own state and its status line.
//
// dm's add_path / fail_path / reinstate_path move a path between lists under a
// lock; here every such change (Topology::Claim, Disk::SetVerification, an
// ALUA update, a policy set) rebuilds the immutable SelectionSnapshot, and the
// policy's part of that rebuild is Eligible, ReusesPathInTransition,
// ChooseSingle (path_state.h rules 3, 5, 7) and Precompute. select_path /
// start_io / end_io are Select / StartIo / EndIo and run on I/O threads: no
// lock, no allocation, no clock (the measured service time is a parameter).
// dm's status is StatusLine, for `mpioctl why`.
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "dsm/path_state.h"
#include "dsm/snapshot.h"
#include "dsm/topology.h"
#include "dsm/types.h"

namespace openmpio::dsm {

class Policy {
 public:
  virtual ~Policy() = default;
  [[nodiscard]] virtual LoadBalancePolicy kind() const noexcept = 0;

  // ---- Build time (path_state.h, BuildSnapshot) ----

  // Rule 3: whether the policy may ever send I/O down this path; a path it
  // refuses is not eligible at all (Weighted Paths: weight 0xFFFFFFFF).
  [[nodiscard]] virtual bool Eligible(const Path& path) const noexcept {
    (void)path;
    return true;
  }
  // Rule 5: with no AO path, keep the previous path while its group
  // transitions (LQD, LB, service time: spec §3 "LQD/LB reuse the previous path").
  [[nodiscard]] virtual bool ReusesPathInTransition() const noexcept { return false; }
  // Rule 7: a policy that carries I/O on exactly one path returns its index
  // into Disk::paths and why; nullopt (every other policy) spreads I/O over
  // the usable set. Called only when some path is eligible; best is the best
  // eligible state, previous the index of PreviousPath's path.
  struct SingleChoice {
    std::size_t index = 0;
    const char* why = "";  // a string literal, for StatusLine
  };
  [[nodiscard]] virtual std::optional<SingleChoice> ChooseSingle(
      const Disk& disk, std::span<const PathView> paths, PathState best,
      std::optional<std::size_t> previous) const {
    (void)disk;
    (void)paths;
    (void)best;
    (void)previous;
    return std::nullopt;
  }
  // The previous choice the next computation starts from: the last path
  // LQD/LB/ST selected (SelectorState::last_path) unless the policy says
  // otherwise (FOO: its path in the previous snapshot).
  [[nodiscard]] virtual DsmPathId PreviousPath(const SelectionSnapshot* previous,
                                               const SelectorState& state) const noexcept {
    (void)previous;
    return state.last_path.load(std::memory_order_relaxed);
  }
  // The index into `usable` of a choice that does not depend on load (FOO's
  // path, WP's lowest weight), or nullopt.
  [[nodiscard]] virtual std::optional<std::size_t> Precompute(
      std::span<const SnapshotEntry> usable, const PathStateResult& states) const {
    (void)usable;
    (void)states;
    return std::nullopt;
  }

  // ---- I/O threads ----

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

  // ---- Management ----

  // One line on what the policy sees now and would choose from (dm's status),
  // for `mpioctl why`. Reads the counters; allocates; not for the hot path.
  [[nodiscard]] virtual std::string StatusLine(const SelectionSnapshot& snap,
                                               const SelectorState& state) const = 0;
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

// RR/RRWS's StatusLine: the entry the cursor points at, next.
[[nodiscard]] std::string RotationLine(std::span<const SnapshotEntry> usable,
                                       const std::atomic<std::uint32_t>& cursor);

// RR and RRWS select alike, one usable path after the other; they differ in
// which paths are usable (path_state.h), not here. Each file names its kind.
template <LoadBalancePolicy Kind>
class RotatingPolicy final : public Policy {
 public:
  LoadBalancePolicy kind() const noexcept override { return Kind; }
  const SnapshotEntry* Select(const SelectionSnapshot& snap, SelectorState& state,
                              const IoHint&) const noexcept override {
    return RotateCursor(snap.usable(), state.rr_cursor);
  }
  std::string StatusLine(const SelectionSnapshot& snap, const SelectorState& state) const override {
    return RotationLine(snap.usable(), state.rr_cursor);
  }
};

// LQD/LB/ST remember their last path for the transition-window reuse; the
// store is skipped when unchanged so a steady choice does not bounce the line.
inline void RememberLastPath(SelectorState& state, DsmPathId id) noexcept {
  if (state.last_path.load(std::memory_order_relaxed) != id) {
    state.last_path.store(id, std::memory_order_relaxed);
  }
}

// ---- StatusLine helpers (policy.cpp) ----

// A DsmPathId as the management API writes it: "0x" + 16 hex digits.
[[nodiscard]] std::string PathIdText(DsmPathId id);
// "<what> <id>=<value>, <id>=<value>" over the usable entries, or
// "no usable path"; value(entry) gives each entry's number.
template <typename Value>
[[nodiscard]] std::string PerPathLine(std::string_view what, std::span<const SnapshotEntry> usable,
                                      Value value) {
  if (usable.empty()) return "no usable path";
  std::string line(what);
  for (std::size_t i = 0; i < usable.size(); ++i) {
    line += i == 0 ? " " : ", ";
    line += PathIdText(usable[i].id) + "=" + std::to_string(value(usable[i]));
  }
  return line;
}

}  // namespace openmpio::dsm

// Least Blocks (spec/msdsm.md §3 row 6): the usable path whose nexus has the
// fewest bytes in flight, over all LUs ("blocks" in the docs, bytes in the
// sample). Ties go to the first in path order. Failover and the transition
// window as LQD.
//
// Sequential stickiness (MSDSM: on by default, 1 MiB, DsmUseCacheForLeastBlocks):
// a read or write that starts where the previous one on this disk ended stays
// on the previous path until the run has moved 1 MiB, then the least-bytes
// rule picks again ([I]: the 1 MiB bounds one sticky run). A request that is
// neither read nor write (flush, unmap, ...) reuses the last path.
//
// The last choice is kept as (snapshot generation, entry index), so it is
// reused only within the snapshot that made it; the three atomics of the
// sticky run are updated separately, which under concurrency can at worst
// end or extend a run early.
#include "dsm/policy.h"

namespace openmpio::dsm {
namespace {

constexpr std::uint64_t kStickyRunBytes = std::uint64_t{1} << 20;

// The first entry with the fewest bytes in flight. Branch-free on purpose:
// byte counts vary request by request, so a compare-and-branch mispredicts on
// most new minima. Two running minima (even and odd entries) halve the
// compare-and-select chain of one; each keeps its first on ties, and the
// merge prefers the lower index.
const SnapshotEntry* LeastBytes(std::span<const SnapshotEntry> usable) noexcept {
  const std::size_t n = usable.size();
  std::size_t best_a = 0;
  std::uint64_t bytes_a = usable[0].counters->outstanding_bytes();
  std::size_t best_b = n;
  std::uint64_t bytes_b = ~std::uint64_t{0};  // above every count
  std::size_t i = 1;
  for (; i + 1 < n; i += 2) {
    const std::uint64_t b1 = usable[i].counters->outstanding_bytes();
    const std::uint64_t b2 = usable[i + 1].counters->outstanding_bytes();
    const bool less_a = b1 < bytes_a;
    bytes_a = less_a ? b1 : bytes_a;
    best_a = less_a ? i : best_a;
    const bool less_b = b2 < bytes_b;
    bytes_b = less_b ? b2 : bytes_b;
    best_b = less_b ? i + 1 : best_b;
  }
  if (i < n) {
    const std::uint64_t b1 = usable[i].counters->outstanding_bytes();
    const bool less_a = b1 < bytes_a;
    bytes_a = less_a ? b1 : bytes_a;
    best_a = less_a ? i : best_a;
  }
  const bool b_wins = bytes_b < bytes_a || (bytes_b == bytes_a && best_b < best_a);
  return &usable[b_wins ? best_b : best_a];
}

class LeastBlocks final : public Policy {
 public:
  LoadBalancePolicy kind() const noexcept override { return LoadBalancePolicy::kLeastBlocks; }
  const SnapshotEntry* Select(const SelectionSnapshot& snap, SelectorState& state,
                              const IoHint& hint) const noexcept override {
    const std::span<const SnapshotEntry> usable = snap.usable();
    if (usable.empty()) return nullptr;
    const std::uint64_t gen = snap.generation();
    const std::uint64_t slot = state.last_slot.load(std::memory_order_relaxed);
    const SnapshotEntry* last = nullptr;
    if ((slot >> 32) == gen && (slot & 0xFFFF'FFFFULL) < usable.size()) {
      last = &usable[slot & 0xFFFF'FFFFULL];
    }
    if (hint.kind == IoKind::kOther) {
      if (last) return last;
      return Remember(snap, state, LeastBytes(usable));
    }
    const std::uint64_t end = hint.lba + hint.blocks;
    if (last && hint.lba == state.next_lba.load(std::memory_order_relaxed)) {
      const std::uint64_t run = state.run_bytes.load(std::memory_order_relaxed) + hint.bytes;
      if (run <= kStickyRunBytes) {
        state.run_bytes.store(run, std::memory_order_relaxed);
        state.next_lba.store(end, std::memory_order_relaxed);
        return last;
      }
    }
    const SnapshotEntry* pick = LeastBytes(usable);
    state.run_bytes.store(hint.bytes, std::memory_order_relaxed);
    state.next_lba.store(end, std::memory_order_relaxed);
    return Remember(snap, state, pick);
  }

 private:
  static const SnapshotEntry* Remember(const SelectionSnapshot& snap, SelectorState& state,
                                       const SnapshotEntry* e) noexcept {
    const auto index = static_cast<std::uint64_t>(e - snap.usable().data());
    state.last_slot.store((std::uint64_t{snap.generation()} << 32) | index,
                          std::memory_order_relaxed);
    RememberLastPath(state, e->id);
    return e;
  }
};

}  // namespace

const Policy& LeastBlocksPolicy() noexcept {
  static const LeastBlocks policy;
  return policy;
}

}  // namespace openmpio::dsm

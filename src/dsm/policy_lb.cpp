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
// Its state is its own, in the disk's SelectorState::context (three words).
// The last choice is kept as (snapshot generation, entry index), so it is
// reused only within the snapshot that made it (words another policy left
// behind count only if they happen to name it); the three atomics of the
// sticky run are updated separately, which under concurrency can at worst end
// or extend a run early.
#include "dsm/policy.h"

namespace openmpio::dsm {
namespace {

constexpr std::uint64_t kStickyRunBytes = std::uint64_t{1} << 20;

// Least Blocks' words of the context:
//  - kLastSlot: the last choice, generation << 32 | entry index. The words
//    start at 0, generation 0, which a snapshot has only after 2^32 rebuilds
//    (BuildSnapshot starts at 1): as unlikely as meeting any stale slot again;
//  - kNextLba: the LBA that would continue the sequential run;
//  - kRunBytes: the bytes sent sequentially on the run so far.
enum LbWord : std::size_t { kLastSlot, kNextLba, kRunBytes };
static_assert(PolicyContext::kWords > kRunBytes);

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
  bool ReusesPathInTransition() const noexcept override { return true; }
  const SnapshotEntry* Select(const SelectionSnapshot& snap, SelectorState& state,
                              const IoHint& hint) const noexcept override {
    const std::span<const SnapshotEntry> usable = snap.usable();
    if (usable.empty()) return nullptr;
    auto& words = state.context.words;
    const std::uint64_t slot = words[kLastSlot].load(std::memory_order_relaxed);
    const SnapshotEntry* last = nullptr;
    if (Names(slot, snap.generation(), usable.size())) last = &usable[slot & 0xFFFF'FFFFULL];
    if (hint.kind == IoKind::kOther) {
      if (last) return last;
      return Remember(snap, state, LeastBytes(usable));
    }
    const std::uint64_t end = hint.lba + hint.blocks;
    if (last && hint.lba == words[kNextLba].load(std::memory_order_relaxed)) {
      const std::uint64_t run = words[kRunBytes].load(std::memory_order_relaxed) + hint.bytes;
      if (run <= kStickyRunBytes) {
        words[kRunBytes].store(run, std::memory_order_relaxed);
        words[kNextLba].store(end, std::memory_order_relaxed);
        return last;
      }
    }
    const SnapshotEntry* pick = LeastBytes(usable);
    words[kRunBytes].store(hint.bytes, std::memory_order_relaxed);
    words[kNextLba].store(end, std::memory_order_relaxed);
    return Remember(snap, state, pick);
  }
  std::string StatusLine(const SelectionSnapshot& snap, const SelectorState& state) const override {
    std::string line = PerPathLine("bytes in flight", snap.usable(), [](const SnapshotEntry& e) {
      return e.counters->outstanding_bytes();
    });
    const auto& words = state.context.words;
    const std::uint64_t slot = words[kLastSlot].load(std::memory_order_relaxed);
    if (Names(slot, snap.generation(), snap.usable().size())) {
      line += "; sequential run on " + PathIdText(snap.usable()[slot & 0xFFFF'FFFFULL].id) + ": " +
              std::to_string(words[kRunBytes].load(std::memory_order_relaxed)) + " of " +
              std::to_string(kStickyRunBytes) + " bytes, next LBA " +
              std::to_string(words[kNextLba].load(std::memory_order_relaxed));
    }
    return line;
  }

 private:
  // Whether a slot is entry (slot & 0xFFFFFFFF) of the snapshot of this
  // generation with `usable` entries: only that snapshot's choice is reused.
  static bool Names(std::uint64_t slot, std::uint64_t generation, std::size_t usable) noexcept {
    return (slot >> 32) == generation && (slot & 0xFFFF'FFFFULL) < usable;
  }
  static const SnapshotEntry* Remember(const SelectionSnapshot& snap, SelectorState& state,
                                       const SnapshotEntry* e) noexcept {
    const auto index = static_cast<std::uint64_t>(e - snap.usable().data());
    state.context.words[kLastSlot].store((std::uint64_t{snap.generation()} << 32) | index,
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

// Least Queue Depth (spec/msdsm.md §3 row 4): the usable path whose nexus has
// the fewest requests in flight, counted per I_T nexus over all LUs (MSDSM
// counts per path, and a DsmPathId is a nexus). Ties go to the first in path
// order. Failover as RRWS; in a transition window the snapshot holds only the
// previous path (ReusesPathInTransition, path_state.h rule 5), which is why
// the last choice is kept.
#include "dsm/policy.h"

namespace openmpio::dsm {
namespace {

class LeastQueueDepth final : public Policy {
 public:
  LoadBalancePolicy kind() const noexcept override {
    return LoadBalancePolicy::kLeastQueueDepth;
  }
  bool ReusesPathInTransition() const noexcept override { return true; }
  const SnapshotEntry* Select(const SelectionSnapshot& snap, SelectorState& state,
                              const IoHint&) const noexcept override {
    const std::span<const SnapshotEntry> usable = snap.usable();
    if (usable.empty()) return nullptr;
    const SnapshotEntry* best = &usable[0];
    std::uint32_t best_q = best->counters->outstanding_requests();
    for (std::size_t i = 1; i < usable.size() && best_q != 0; ++i) {
      const std::uint32_t q = usable[i].counters->outstanding_requests();
      if (q < best_q) {
        best = &usable[i];
        best_q = q;
      }
    }
    RememberLastPath(state, best->id);
    return best;
  }
  std::string StatusLine(const SelectionSnapshot& snap, const SelectorState&) const override {
    return PerPathLine("requests in flight", snap.usable(),
                       [](const SnapshotEntry& e) { return e.counters->outstanding_requests(); });
  }
};

}  // namespace

const Policy& LeastQueueDepthPolicy() noexcept {
  static const LeastQueueDepth policy;
  return policy;
}

}  // namespace openmpio::dsm

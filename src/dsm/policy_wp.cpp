// Weighted Paths (spec/msdsm.md §3 row 5): the usable path with the lowest
// PathWeight (a larger weight is a lower priority); ties go to the first in
// path order; weight 0xFFFFFFFF is never chosen (Eligible refuses such paths,
// so they are not in the snapshot: path_state.h rule 3). Weights change only
// through a set, which rebuilds the snapshot, so the choice is precomputed and
// Select is one load.
#include "dsm/policy.h"

namespace openmpio::dsm {
namespace {

class WeightedPaths final : public Policy {
 public:
  LoadBalancePolicy kind() const noexcept override { return LoadBalancePolicy::kWeightedPaths; }
  bool Eligible(const Path& path) const noexcept override {
    return path.weight != kWeightNeverChosen;
  }
  std::optional<std::size_t> Precompute(std::span<const SnapshotEntry> usable,
                                        const PathStateResult&) const override {
    std::optional<std::size_t> best;
    for (std::size_t i = 0; i < usable.size(); ++i) {
      if (!best || usable[i].weight < usable[*best].weight) best = i;  // strict: first wins ties
    }
    return best;
  }
  const SnapshotEntry* Select(const SelectionSnapshot& snap, SelectorState&,
                              const IoHint&) const noexcept override {
    return snap.fixed();
  }
  std::string StatusLine(const SelectionSnapshot& snap, const SelectorState&) const override {
    std::string line =
        PerPathLine("PathWeight", snap.usable(), [](const SnapshotEntry& e) { return e.weight; });
    if (const SnapshotEntry* e = snap.fixed()) line += "; lowest " + PathIdText(e->id);
    return line;
  }
};

}  // namespace

const Policy& WeightedPathsPolicy() noexcept {
  static const WeightedPaths policy;
  return policy;
}

}  // namespace openmpio::dsm

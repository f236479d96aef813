// Fail Over Only (spec/msdsm.md §3 row 1): exactly one path carries all I/O.
// Which one (stickiness, failback only to the preferred path, AU > SB > UA
// with controller affinity) is decided when the snapshot is built
// (path_state.h rule 7), so Select is one load.
#include "dsm/policy.h"

namespace openmpio::dsm {
namespace {

class FailOverOnly final : public Policy {
 public:
  LoadBalancePolicy kind() const noexcept override { return LoadBalancePolicy::kFailOverOnly; }
  std::optional<std::size_t> Precompute(std::span<const SnapshotEntry> usable,
                                        const PathStateResult& states) const override {
    if (!states.foo_path) return std::nullopt;
    for (std::size_t i = 0; i < usable.size(); ++i) {
      if (usable[i].path_index == *states.foo_path) return i;
    }
    return std::nullopt;
  }
  const SnapshotEntry* Select(const SelectionSnapshot& snap, SelectorState&,
                              const IoHint&) const noexcept override {
    return snap.fixed();
  }
};

}  // namespace

const Policy& FailOverOnlyPolicy() noexcept {
  static const FailOverOnly policy;
  return policy;
}

}  // namespace openmpio::dsm

// Round Robin (spec/msdsm.md §3 row 2): rotate over all AO paths in path
// order, one per request; failed paths are not in the snapshot. Offered only
// on symmetric access (topology.h SupportedPolicies).
#include "dsm/policy.h"

namespace openmpio::dsm {
namespace {

class RoundRobin final : public Policy {
 public:
  LoadBalancePolicy kind() const noexcept override { return LoadBalancePolicy::kRoundRobin; }
  const SnapshotEntry* Select(const SelectionSnapshot& snap, SelectorState& state,
                              const IoHint&) const noexcept override {
    return RotateCursor(snap.usable(), state.rr_cursor);
  }
  std::string StatusLine(const SelectionSnapshot& snap, const SelectorState& state) const override {
    return RotationLine(snap.usable(), state.rr_cursor);
  }
};

}  // namespace

const Policy& RoundRobinPolicy() noexcept {
  static const RoundRobin policy;
  return policy;
}

}  // namespace openmpio::dsm

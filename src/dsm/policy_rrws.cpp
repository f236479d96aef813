// Round Robin with Subset (spec/msdsm.md §3 row 3): rotate over the primary
// (AO) paths; AU paths stay unused while any AO path is usable. When every
// primary has failed the snapshot holds the failover subset instead (a standby
// on non-ALUA storage, the AU/SB/UA subset on ALUA: path_state.h rule 6), and a
// returning primary displaces it at the next rebuild.
#include "dsm/policy.h"

namespace openmpio::dsm {
namespace {

class RoundRobinWithSubset final : public Policy {
 public:
  LoadBalancePolicy kind() const noexcept override {
    return LoadBalancePolicy::kRoundRobinWithSubset;
  }
  const SnapshotEntry* Select(const SelectionSnapshot& snap, SelectorState& state,
                              const IoHint&) const noexcept override {
    return RotateCursor(snap.usable(), state.rr_cursor);
  }
  std::string StatusLine(const SelectionSnapshot& snap, const SelectorState& state) const override {
    return RotationLine(snap.usable(), state.rr_cursor);
  }
};

}  // namespace

const Policy& RoundRobinWithSubsetPolicy() noexcept {
  static const RoundRobinWithSubset policy;
  return policy;
}

}  // namespace openmpio::dsm

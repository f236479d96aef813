// Round Robin (spec/msdsm.md §3 row 2): rotate over all AO paths in path
// order, one per request; failed paths are not in the snapshot. Offered only
// on symmetric access (topology.h SupportedPolicies).
#include "dsm/policy.h"

namespace openmpio::dsm {

const Policy& RoundRobinPolicy() noexcept {
  static const RotatingPolicy<LoadBalancePolicy::kRoundRobin> policy;
  return policy;
}

}  // namespace openmpio::dsm

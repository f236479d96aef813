#include "dsm/policy.h"

namespace openmpio::dsm {

const Policy& PolicyFor(LoadBalancePolicy p) noexcept {
  switch (p) {
    case LoadBalancePolicy::kFailOverOnly: return FailOverOnlyPolicy();
    case LoadBalancePolicy::kRoundRobin: return RoundRobinPolicy();
    case LoadBalancePolicy::kRoundRobinWithSubset: return RoundRobinWithSubsetPolicy();
    case LoadBalancePolicy::kLeastQueueDepth: return LeastQueueDepthPolicy();
    case LoadBalancePolicy::kWeightedPaths: return WeightedPathsPolicy();
    case LoadBalancePolicy::kLeastBlocks: return LeastBlocksPolicy();
    case LoadBalancePolicy::kServiceTime: return ServiceTimePolicy();
    case LoadBalancePolicy::kNone: break;
  }
  return RoundRobinWithSubsetPolicy();
}

}  // namespace openmpio::dsm

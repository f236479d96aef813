#include "dsm/policy.h"

#include <cstdio>

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

std::string PathIdText(DsmPathId id) {
  char buf[19];
  std::snprintf(buf, sizeof buf, "0x%016llx", static_cast<unsigned long long>(id));
  return buf;
}

std::string RotationLine(std::span<const SnapshotEntry> usable,
                         const std::atomic<std::uint32_t>& cursor) {
  if (usable.empty()) return "no usable path";
  const std::uint32_t at = cursor.load(std::memory_order_relaxed);
  const std::size_t next = at < usable.size() ? at : 0;  // RotateCursor's restart
  return "next " + PathIdText(usable[next].id) + " (" + std::to_string(next + 1) + " of " +
         std::to_string(usable.size()) + " in rotation)";
}

}  // namespace openmpio::dsm

// A policy set through the checks of DsmSetLoadBalancePolicyALUA
// (policy_request.h).
#include "runtime/policy_request.h"

#include <utility>

namespace openmpio::runtime {

dsm::SetPolicyInput MakeSetPolicyInput(const dsm::QueriedPolicy& now,
                                       const PolicyRequest& request) {
  dsm::SetPolicyInput in;
  in.version = 2;
  in.policy = static_cast<std::uint32_t>(request.policy);
  for (const dsm::QueriedPath& q : now.paths) {
    dsm::SetPathEntry e{q.dsm_path_id, q.path_weight, q.primary_path, q.optimized_path, 0};
    if (q.dsm_path_id != 0) {
      e.preferred = request.preferred_path == q.dsm_path_id ? 1 : 0;
      if (const auto it = request.paths.find(q.dsm_path_id); it != request.paths.end()) {
        if (it->second.weight) e.weight = *it->second.weight;
        if (it->second.requested_state) {
          const dsm::PathFlags f = dsm::ToFlags(*it->second.requested_state);
          e.primary = f.primary ? 1 : 0;
          e.optimized = f.optimized ? 1 : 0;
        }
      }
    }
    in.paths.push_back(e);
  }
  in.path_count = static_cast<std::uint32_t>(in.paths.size());
  return in;
}

void SetPolicyChecked(engine::Engine& engine, std::size_t disk, const PolicyRequest& request,
                      std::function<void(Status)> done) {
  if (request.policy == dsm::LoadBalancePolicy::kNone) {
    done(InvalidParameter("no load-balance policy given"));
    return;
  }
  const dsm::SetPolicyInput in = MakeSetPolicyInput(engine.QueryLoadBalancePolicy(disk), request);
  auto plan = engine.CheckSetLoadBalancePolicy(disk, in);
  if (!plan) {
    done(plan.error());
    return;
  }
  engine.ExecuteSetPolicyPlan(disk, std::move(*plan), std::move(done));
}

}  // namespace openmpio::runtime

// A load-balance policy set made as a client of DsmSetLoadBalancePolicyALUA
// makes it (spec/msdsm.md §4): the disk's DSM_QueryLBPolicy_V2 sent back with
// the policy, the preferred path and some paths' weights and states changed,
// through checks 1-13 and step 14 (the STPG). The [[disk]] settings of the
// configuration file at start and the library API's SetLoadBalancePolicy go
// this way, so neither applies what the management method would refuse
// (issue 13 item 2: Round Robin on an asymmetric ALUA disk, check 10).
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <optional>

#include "config/config.h"
#include "dsm/lb_management.h"
#include "engine/engine.h"
#include "openmpio/status.h"

namespace openmpio::runtime {

struct PolicyRequest {
  dsm::LoadBalancePolicy policy = dsm::LoadBalancePolicy::kNone;  // 1..7, never kNone
  std::optional<dsm::DsmPathId> preferred_path;
  // By DsmPathId; a path the disk does not have now is not asked for (it may
  // be down at start), the others keep their weight and state.
  std::map<dsm::DsmPathId, config::PathSetting> paths;
};

// The set's input: `now` (a query of the disk) with the request's changes.
// Failed paths stay in as id 0, as a query sent straight back has them.
[[nodiscard]] dsm::SetPolicyInput MakeSetPolicyInput(const dsm::QueriedPolicy& now,
                                                     const PolicyRequest& request);

// Control executor: checks the request against the disk as the engine has it
// now and executes the plan (maybe an STPG, then an RTPG). `done` runs on the
// control executor, maybe later; a refusal commits nothing.
void SetPolicyChecked(engine::Engine& engine, std::size_t disk, const PolicyRequest& request,
                      std::function<void(Status)> done);

}  // namespace openmpio::runtime

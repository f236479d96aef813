// The words users see for the DSM model's enums, one table per enum in the
// layer that owns it (issue 12 item 5): every context's spelling side by
// side, so the management JSON, the configuration file, mpioctl and the
// library API cannot drift apart. The spellings themselves stay what users
// already type and read.
#pragma once

#include <optional>
#include <string_view>

#include "dsm/types.h"

namespace openmpio::dsm {

// Where a name is read or written.
enum class Spelling : std::uint8_t {
  kJson,    // the management API and mpioctl: "AO"
  kConfig,  // the configuration file: "ao"
  kApi,     // the library API (include/openmpio/openmpio.h): "active/optimized"
};

struct PathStateName {
  PathState state;
  std::string_view json, config, api;
};

// MSDSM's four path states (spec/msdsm.md §2).
inline constexpr PathStateName kPathStateNames[] = {
    {PathState::kActiveOptimized, "AO", "ao", "active/optimized"},
    {PathState::kActiveUnoptimized, "AU", "au", "active/unoptimized"},
    {PathState::kStandby, "SB", "sb", "standby"},
    {PathState::kUnavailable, "UA", "ua", "unavailable"},
};

[[nodiscard]] constexpr std::string_view NameIn(const PathStateName& n, Spelling s) noexcept {
  switch (s) {
    case Spelling::kJson: return n.json;
    case Spelling::kConfig: return n.config;
    case Spelling::kApi: return n.api;
  }
  return n.json;
}

// The state's name in context `s` (every state has one).
[[nodiscard]] constexpr std::string_view NameOf(PathState state, Spelling s) noexcept {
  for (const PathStateName& n : kPathStateNames) {
    if (n.state == state) return NameIn(n, s);
  }
  return NameIn(kPathStateNames[3], s);  // not reached: the table is complete
}

// The state a name of context `s` spells, exactly (case included), or nullopt.
[[nodiscard]] constexpr std::optional<PathState> PathStateFromName(std::string_view name,
                                                                   Spelling s) noexcept {
  for (const PathStateName& n : kPathStateNames) {
    if (NameIn(n, s) == name) return n.state;
  }
  return std::nullopt;
}

struct PolicyName {
  LoadBalancePolicy policy;
  std::string_view short_name;  // as mpclaim / PowerShell abbreviate it (spec/msdsm.md §3)
};

// The seven policies; "st" is openmpio's service time (policy 7,
// DSM_LB_VENDOR_SPECIFIC). kNone has no name here: each context says what
// "no policy" is called there ("none", "clear", or nothing).
inline constexpr PolicyName kPolicyNames[] = {
    {LoadBalancePolicy::kFailOverOnly, "foo"},
    {LoadBalancePolicy::kRoundRobin, "rr"},
    {LoadBalancePolicy::kRoundRobinWithSubset, "rrws"},
    {LoadBalancePolicy::kLeastQueueDepth, "lqd"},
    {LoadBalancePolicy::kWeightedPaths, "wp"},
    {LoadBalancePolicy::kLeastBlocks, "lb"},
    {LoadBalancePolicy::kServiceTime, "st"},
};

// The short name of a policy, or an empty view for kNone and unknown values.
[[nodiscard]] constexpr std::string_view ShortName(LoadBalancePolicy p) noexcept {
  for (const PolicyName& n : kPolicyNames) {
    if (n.policy == p) return n.short_name;
  }
  return {};
}

// The policy a short name spells, or nullopt.
[[nodiscard]] constexpr std::optional<LoadBalancePolicy> PolicyFromShortName(
    std::string_view name) noexcept {
  for (const PolicyName& n : kPolicyNames) {
    if (n.short_name == name) return n.policy;
  }
  return std::nullopt;
}

}  // namespace openmpio::dsm

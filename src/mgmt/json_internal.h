// The pieces of the JSON management API (json_api.h) that its three files
// share; nothing outside src/mgmt includes this.
//   json_decode.cpp  field readers and request decoding: every check of a
//                    request's fields, before anything reaches the backend
//   json_api.cpp     the method table, dispatch, and the calls into dsm/
//                    and the backend
//   json_encode.cpp  the replies: the classes' fields, names, Status
// Every function here may throw what nlohmann-json throws; json_api.cpp's
// Guarded turns that into the reply's Status.
#pragma once

#include <array>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dsm/lb_defaults.h"
#include "dsm/lb_management.h"
#include "dsm/path_state.h"
#include "mgmt/backend.h"
#include "mgmt/json_api.h"
#include "openmpio/expected.h"
#include "openmpio/status.h"

namespace openmpio::mgmt::detail {

using Json = nlohmann::json;

// ---- encoding (json_encode.cpp) ---------------------------------------------------

// Compact text; invalid UTF-8 echoed from a request is replaced, never thrown.
[[nodiscard]] std::string Dump(const Json& j);
// A request value quoted back in an error message: scalars as JSON (long
// strings cut), containers by their type only.
[[nodiscard]] std::string Echo(const Json& v);
// {"Status", "StatusName", "Message" when non-empty}.
[[nodiscard]] Json StatusJson(const Status& s);
// `body`'s fields after the Status fields.
[[nodiscard]] Json WithStatus(Json body, const Status& s = Status());

// The bodies of the replies, one per class (without the Status fields).
[[nodiscard]] Json QueriedPolicyJson(const dsm::QueriedPolicy& q);  // DSM_Load_Balance_Policy_V2
[[nodiscard]] Json SupportedPoliciesJson(const std::string& instance,
                                         const std::vector<dsm::LoadBalancePolicy>& policies);
[[nodiscard]] Json UniqueIdJson(const DiskSnapshot& s);
[[nodiscard]] Json PolicyDefaultJson(const dsm::PolicyDefault& d);
[[nodiscard]] Json TargetDefaultsJson(const dsm::PolicyDefaults& d);
[[nodiscard]] Json TimersJson(const dsm::MpioTimers& t);
[[nodiscard]] Json DevicePerfJson(const DiskSnapshot& s);
[[nodiscard]] Json DiskListJson(const std::vector<DiskName>& names);
// One disk of Show: groups, paths, their states, counters.
[[nodiscard]] Json DiskTreeJson(const DiskSnapshot& s, const dsm::DsmOptions& options);
// Why: per path, whether it carries I/O and the reason in words; and
// PolicyStatus, the policy's own line (dsm::Policy::StatusLine).
[[nodiscard]] Json WhyJson(const DiskSnapshot& s, const dsm::DsmOptions& options);

// ---- decoding (json_decode.cpp) ---------------------------------------------------

// The width of an unsigned field as mpiodisk.h types it.
enum class Width : std::uint8_t { kUchar, kUshort, kUlong, kUlonglong };

// The unsigned field `name` of `obj` (`where` prefixes the message's field
// name); nullopt when absent and not required.
[[nodiscard]] Expected<std::optional<std::uint64_t>> ReadUnsigned(const Json& obj,
                                                                  std::string_view name,
                                                                  const std::string& where, Width w,
                                                                  bool required);
[[nodiscard]] Expected<std::optional<std::string>> ReadString(const Json& obj,
                                                              std::string_view name,
                                                              const std::string& where,
                                                              bool required);
// A required, non-empty "InstanceName".
[[nodiscard]] Expected<std::string> RequireInstanceName(const Json& req);
// The "Set" object of a data class; nullopt when the request is a read.
[[nodiscard]] Expected<std::optional<const Json*>> OptionalSet(const Json& req);

// DsmSetLoadBalancePolicy (v2 false) / DsmSetLoadBalancePolicyALUA (v2 true).
[[nodiscard]] Expected<dsm::SetPolicyInput> DecodeSetPolicy(const Json& req, bool v2);

// MSDSM_DEFAULT_LOAD_BALANCE_POLICY's "Set".
struct GlobalDefaultSet {
  std::uint32_t policy = 0;
  std::uint64_t preferred = 0;
};
[[nodiscard]] Expected<GlobalDefaultSet> DecodeGlobalDefaultSet(const Json& set);

// MSDSM_TARGETS_DEFAULT_LOAD_BALANCE_POLICY's "Set": its entries, checked
// for type and count only (the DSM judges each entry).
struct TargetEntry {
  std::string hardware_id;
  std::uint32_t policy = 0;
  std::uint64_t preferred = 0;
};
[[nodiscard]] Expected<std::vector<TargetEntry>> DecodeTargetDefaultsSet(const Json& set);

// MPIO_TIMERS_COUNTERS's "Set", in kTimerNames order; at least one is given.
inline constexpr std::array<const char*, 5> kTimerNames = {
    "PathVerifyEnabled", "PathVerificationPeriod", "PDORemovePeriod", "RetryCount",
    "RetryInterval"};
using TimerValues = std::array<std::optional<std::uint32_t>, kTimerNames.size()>;
[[nodiscard]] Expected<TimerValues> DecodeTimersSet(const Json& set);

// SimControl's Action and the fields that action needs.
[[nodiscard]] Expected<SimRequest> DecodeSimRequest(const Json& req);

}  // namespace openmpio::mgmt::detail

// The JSON management API (json_api.h): decoding and field checks, the calls
// into dsm/ checks and the backend, and the reply encoding.
#include "mgmt/json_api.h"

#include <atomic>
#include <charconv>
#include <cstdio>
#include <exception>
#include <limits>
#include <memory>
#include <new>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "dsm/lb_defaults.h"
#include "dsm/lb_management.h"
#include "dsm/path_state.h"
#include "scsi/vpd.h"

namespace openmpio::mgmt {
namespace {

using Json = nlohmann::json;

std::string Dump(const Json& j) {
  // Strings echoed from a request may hold invalid UTF-8: replace, never throw.
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

// A request value quoted back in an error message: scalars as JSON (long
// strings cut), containers by their type only — serializing a client's value
// recurses once per nesting level, and a 1 MiB line of '[' would overflow the
// stack (found by fuzz/mgmt/json_api.cpp).
std::string Echo(const Json& v) {
  if (v.is_structured()) return std::string("<") + v.type_name() + ">";
  std::string text = Dump(v);
  constexpr std::size_t kMaxEcho = 80;
  if (text.size() > kMaxEcho) text = text.substr(0, kMaxEcho) + "...";
  return text;
}

Json StatusJson(const Status& s) {
  Json j = Json::object();
  j["Status"] = s.code();
  j["StatusName"] = s.Name();
  if (!s.message().empty()) j["Message"] = s.message();
  return j;
}

// ---- one reply per request -------------------------------------------------------

// Sends the reply at most once, whichever thread completes the request.
class Replier {
 public:
  explicit Replier(ReplyCallback cb) : state_(std::make_shared<State>()) {
    state_->cb = std::move(cb);
  }
  void Send(const Json& reply) const { SendText(Dump(reply)); }
  void Fail(const Status& s) const { Send(StatusJson(s)); }
  void SendText(std::string text) const {
    if (state_->sent.exchange(true)) return;
    state_->cb(std::move(text));
  }

 private:
  struct State {
    ReplyCallback cb;
    std::atomic<bool> sent{false};
  };
  std::shared_ptr<State> state_;
};

// Runs one step of a request; an exception (nlohmann's, bad_alloc) becomes the
// reply's Status instead of leaving this layer.
template <typename Fn>
void Guarded(const Replier& r, Fn&& fn) {
  try {
    fn();
  } catch (const std::bad_alloc&) {
    r.Fail(Status(NtStatus::kInsufficientResources, "out of memory"));
  } catch (const std::exception& e) {
    r.Fail(InvalidParameter(std::string("request failed: ") + e.what()));
  }
}

// ---- field readers ------------------------------------------------------------------

enum class Width : std::uint8_t { kUchar, kUshort, kUlong, kUlonglong };

std::uint64_t MaxOf(Width w) {
  switch (w) {
    case Width::kUchar: return 0xFF;
    case Width::kUshort: return 0xFFFF;
    case Width::kUlong: return 0xFFFFFFFFULL;
    case Width::kUlonglong: return ~std::uint64_t{0};
  }
  return 0;
}

const char* NameOf(Width w) {
  switch (w) {
    case Width::kUchar: return "UCHAR";
    case Width::kUshort: return "USHORT";
    case Width::kUlong: return "ULONG";
    case Width::kUlonglong: return "ULONGLONG";
  }
  return "?";
}

std::string Join(const std::string& where, std::string_view name) {
  if (where.empty()) return std::string(name);
  return where + "." + std::string(name);
}

Expected<std::uint64_t> UnsignedValue(const Json& v, const std::string& field, Width w) {
  std::uint64_t x = 0;
  if (v.is_number_unsigned()) {
    x = v.get<std::uint64_t>();
  } else if (v.is_number_integer()) {
    return MakeUnexpected(InvalidParameter(field + ": " + Echo(v) + " is negative; " +
                                           NameOf(w) + " is unsigned"));
  } else if (v.is_number_float()) {
    return MakeUnexpected(InvalidParameter(field + ": " + Echo(v) + " is not an integer in the " +
                                           NameOf(w) + " range"));
  } else if (v.is_string() && w == Width::kUlonglong) {
    const auto parsed = ParseIdText(v.get_ref<const std::string&>());
    if (!parsed) {
      return MakeUnexpected(InvalidParameter(field + ": " + Echo(v) +
                                             " is not a ULONGLONG (\"0x\" hex or decimal digits)"));
    }
    x = *parsed;
  } else {
    const char* want = w == Width::kUlonglong ? "a number or a \"0x...\" string" : "a number";
    return MakeUnexpected(InvalidParameter(field + ": expected " + want + " (" + NameOf(w) +
                                           "), got " + v.type_name()));
  }
  if (x > MaxOf(w)) {
    return MakeUnexpected(
        InvalidParameter(field + ": " + std::to_string(x) + " out of range for " + NameOf(w)));
  }
  return x;
}

// The unsigned field `name` of `obj`; nullopt when absent and optional.
Expected<std::optional<std::uint64_t>> ReadUnsigned(const Json& obj, std::string_view name,
                                                    const std::string& where, Width w,
                                                    bool required) {
  const std::string field = Join(where, name);
  const auto it = obj.find(name);
  if (it == obj.end()) {
    if (required) return MakeUnexpected(InvalidParameter(field + ": missing"));
    return std::optional<std::uint64_t>();
  }
  auto v = UnsignedValue(*it, field, w);
  if (!v) return MakeUnexpected(std::move(v).error());
  return std::optional<std::uint64_t>(*v);
}

// A required ULONG.
Expected<std::uint32_t> RequireU32(const Json& obj, std::string_view name, const std::string& where) {
  auto v = ReadUnsigned(obj, name, where, Width::kUlong, true);
  if (!v) return MakeUnexpected(std::move(v).error());
  return static_cast<std::uint32_t>(**v);
}

Expected<std::optional<std::string>> ReadString(const Json& obj, std::string_view name,
                                                const std::string& where, bool required) {
  const std::string field = Join(where, name);
  const auto it = obj.find(name);
  if (it == obj.end()) {
    if (required) return MakeUnexpected(InvalidParameter(field + ": missing"));
    return std::optional<std::string>();
  }
  if (!it->is_string()) {
    return MakeUnexpected(
        InvalidParameter(field + ": expected a string, got " + std::string(it->type_name())));
  }
  return std::optional<std::string>(it->get<std::string>());
}

Expected<const Json*> RequireObject(const Json& obj, std::string_view name, const std::string& where,
                                    const char* what) {
  const std::string field = Join(where, name);
  const auto it = obj.find(name);
  if (it == obj.end()) return MakeUnexpected(InvalidParameter(field + ": missing"));
  if (!it->is_object()) {
    return MakeUnexpected(InvalidParameter(field + ": expected an object (" + what + "), got " +
                                           it->type_name()));
  }
  return &*it;
}

Expected<std::string> RequireInstanceName(const Json& req) {
  auto name = ReadString(req, "InstanceName", "", true);
  if (!name) return MakeUnexpected(std::move(name).error());
  if ((*name)->empty()) return MakeUnexpected(InvalidParameter("InstanceName: empty"));
  return **name;
}

// ---- names ---------------------------------------------------------------------------

const char* PathStateName(dsm::PathState s) {
  switch (s) {
    case dsm::PathState::kActiveOptimized: return "AO";
    case dsm::PathState::kActiveUnoptimized: return "AU";
    case dsm::PathState::kStandby: return "SB";
    case dsm::PathState::kUnavailable: return "UA";
  }
  return "?";
}

const char* VerificationName(dsm::PathVerification v) {
  switch (v) {
    case dsm::PathVerification::kInitializing: return "Initializing";
    case dsm::PathVerification::kOnline: return "Online";
    case dsm::PathVerification::kFailed: return "Failed";
  }
  return "?";
}

const char* ModeName(dsm::SelectionMode m) {
  switch (m) {
    case dsm::SelectionMode::kNoPath: return "NoPath";
    case dsm::SelectionMode::kActiveOptimized: return "ActiveOptimized";
    case dsm::SelectionMode::kFailover: return "Failover";
    case dsm::SelectionMode::kTransitionReuse: return "TransitionReuse";
  }
  return "?";
}

std::optional<scsi::AsymmetricAccessState> ParseAccessState(const Json& v) {
  using S = scsi::AsymmetricAccessState;
  if (v.is_number_unsigned()) {
    const auto x = v.get<std::uint64_t>();
    if (x > 0xF || !scsi::IsDefinedAccessState(static_cast<std::uint8_t>(x))) return std::nullopt;
    return static_cast<S>(x);
  }
  if (!v.is_string()) return std::nullopt;
  const auto& s = v.get_ref<const std::string&>();
  if (s == "AO" || s == "A/O") return S::kActiveOptimized;
  if (s == "AN" || s == "AU" || s == "A/N") return S::kActiveNonOptimized;
  if (s == "SB" || s == "S") return S::kStandby;
  if (s == "UA" || s == "U") return S::kUnavailable;
  if (s == "LBD") return S::kLogicalBlockDependent;
  if (s == "O" || s == "Offline") return S::kOffline;
  if (s == "T" || s == "Transitioning") return S::kTransitioning;
  return std::nullopt;
}

// ---- method table ---------------------------------------------------------------------

enum class Method : std::uint8_t {
  kSetPolicyV1,
  kSetPolicyAlua,
  kQueryLbPolicyV2,
  kQuerySupported,
  kQueryUniqueId,
  kMsdsmDefault,
  kTargetsDefault,
  kTimers,
  kDevicePerf,
  kClearCounters,
  kListDisks,
  kShow,
  kWhy,
  kSimControl,
  kSaveConfig,
};

struct MethodEntry {
  const char* name;
  const char* wmi_class;  // the class a request's optional "class" must name
  Method method;
  bool writable_class;  // a data class that takes "Set"
};

constexpr MethodEntry kMethods[] = {
    {"DsmSetLoadBalancePolicy", "DSM_LB_Operations", Method::kSetPolicyV1, false},
    {"DsmSetLoadBalancePolicyALUA", "DSM_LB_Operations", Method::kSetPolicyAlua, false},
    {"DSM_QueryLBPolicy_V2", "DSM_QueryLBPolicy_V2", Method::kQueryLbPolicyV2, false},
    {"DSM_QuerySupportedLBPolicies_V2", "DSM_QuerySupportedLBPolicies_V2", Method::kQuerySupported,
     false},
    {"DSM_QueryUniqueId", "DSM_QueryUniqueId", Method::kQueryUniqueId, false},
    {"MSDSM_DEFAULT_LOAD_BALANCE_POLICY", "MSDSM_DEFAULT_LOAD_BALANCE_POLICY",
     Method::kMsdsmDefault, true},
    {"MSDSM_TARGETS_DEFAULT_LOAD_BALANCE_POLICY", "MSDSM_TARGETS_DEFAULT_LOAD_BALANCE_POLICY",
     Method::kTargetsDefault, true},
    {"MPIO_TIMERS_COUNTERS", "MPIO_TIMERS_COUNTERS", Method::kTimers, true},
    {"MSDSM_DEVICE_PERF", "MSDSM_DEVICE_PERF", Method::kDevicePerf, false},
    {"MSDsmClearCounters", "MSDSM_WMI_METHODS", Method::kClearCounters, false},
    {"ListDisks", "openmpio", Method::kListDisks, false},
    {"Show", "openmpio", Method::kShow, false},
    {"Why", "openmpio", Method::kWhy, false},
    {"SimControl", "openmpio", Method::kSimControl, false},
    {"SaveConfig", "openmpio", Method::kSaveConfig, false},
};

bool KnownClass(std::string_view c) {
  for (const MethodEntry& m : kMethods) {
    if (c == m.wmi_class) return true;
  }
  return false;
}

// ---- replies of the classes --------------------------------------------------------

Json QueriedPolicyJson(const dsm::QueriedPolicy& q) {
  Json lbp = Json::object();
  lbp["Version"] = q.version;
  lbp["LoadBalancePolicy"] = q.policy;
  lbp["DSMPathCount"] = q.paths.size();
  lbp["Reserved"] = 0;
  Json paths = Json::array();
  for (const dsm::QueriedPath& p : q.paths) {
    Json e = Json::object();
    e["DsmPathId"] = FormatId(p.dsm_path_id);
    e["Reserved"] = p.reserved;
    e["PathWeight"] = p.path_weight;
    e["PrimaryPath"] = p.primary_path;
    e["OptimizedPath"] = p.optimized_path;
    e["PreferredPath"] = p.preferred_path;
    e["FailedPath"] = p.failed_path;
    e["TargetPortGroup_State"] = p.tpg_state;
    e["ALUASupport"] = p.alua_support;
    e["SymmetricLUA"] = p.symmetric_lua;
    e["TargetPortGroup_Preferred"] = p.tpg_preferred;
    e["TargetPortGroup_Identifier"] = p.tpg_identifier;
    e["TargetPort_Identifier"] = p.target_port_identifier;
    e["Reserved32"] = 0;
    e["Reserved64"] = 0;
    paths.push_back(std::move(e));
  }
  lbp["DSM_Paths"] = std::move(paths);
  return lbp;
}

Json PolicyDefaultJson(const dsm::PolicyDefault& d) {
  Json j = Json::object();
  j["LoadBalancePolicy"] = static_cast<std::uint32_t>(d.policy);
  j["Reserved"] = 0;
  j["PreferredPath"] = FormatId(d.preferred_path);
  return j;
}

Json TimersJson(const dsm::MpioTimers& t) {
  Json j = Json::object();
  j["PathVerifyEnabled"] = t.path_verify_enabled;
  j["PathVerificationPeriod"] = t.path_verification_period;
  j["PDORemovePeriod"] = t.pdo_remove_period;
  j["RetryCount"] = t.retry_count;
  j["RetryInterval"] = t.retry_interval;
  return j;
}

// Why a path does or does not carry I/O now, in words.
std::string Explain(const DiskSnapshot& s, std::size_t i) {
  const dsm::Disk& d = s.disk;
  const dsm::Path& p = d.paths[i];
  const dsm::PathStateResult& r = s.selection;
  if (i >= r.paths.size()) return "no selection data for this path";
  const dsm::PathView& v = r.paths[i];
  std::string masked;
  if (p.requested_state && d.GroupStateOf(p) != nullptr) {
    masked = std::string(" (a set requested ") + PathStateName(*p.requested_state) + ")";
  }
  if (v.usable) {
    if (r.mode == dsm::SelectionMode::kTransitionReuse) {
      return "carries I/O: the previous path, reused while its group transitions";
    }
    if (v.promoted) {
      return std::string("carries I/O: promoted from ") + PathStateName(v.state) +
             " because no path is AO (failover)";
    }
    if (r.foo_path && *r.foo_path == i) {
      return p.id() == d.settings.preferred_path
                 ? "carries I/O: the Fail Over Only path (the preferred path)"
                 : "carries I/O: the Fail Over Only path";
    }
    return "carries I/O: AO";
  }
  if (p.verification == dsm::PathVerification::kFailed) return "out: the path failed";
  if (p.verification == dsm::PathVerification::kInitializing) {
    return "out: initializing (discovery not finished)";
  }
  if (!v.eligible) {
    if (r.policy == dsm::LoadBalancePolicy::kWeightedPaths && p.weight == dsm::kWeightNeverChosen) {
      return "out: PathWeight 0xFFFFFFFF is never chosen by Weighted Paths";
    }
    if (const dsm::LuGroupState* g = d.GroupStateOf(p)) {
      return "out: target port group " + std::to_string(g->tpg_id) + " is " +
             scsi::AccessStateName(g->state) + ", which cannot carry I/O";
    }
    return "out: cannot carry I/O";
  }
  if (r.mode == dsm::SelectionMode::kNoPath) return "out: no path can carry I/O";
  if (r.foo_path) {
    return "out: Fail Over Only uses one path (" + FormatId(d.paths[*r.foo_path].id()) + ")" +
           masked;
  }
  if (r.mode == dsm::SelectionMode::kTransitionReuse) {
    return "out: the previous path is reused while its group transitions";
  }
  return std::string("out: ") + PathStateName(v.state) + masked + "; the policy uses the " +
         PathStateName(r.tier) + " paths while any is usable";
}

Json DiskTreeJson(const DiskSnapshot& s, const dsm::DsmOptions& options) {
  const dsm::Disk& d = s.disk;
  Json j = Json::object();
  j["InstanceName"] = s.name.designator;
  j["Alias"] = s.name.alias;
  j["HardwareId"] = s.hardware_id;
  const auto policy = static_cast<std::uint32_t>(dsm::EffectivePolicy(d, options));
  j["LoadBalancePolicy"] = policy;
  j["PolicyName"] = PolicyShortName(policy);
  j["ExplicitPolicy"] = d.settings.explicit_policy;
  j["PreferredPath"] = FormatId(d.settings.preferred_path);
  j["ALUASupport"] = static_cast<std::uint32_t>(d.alua);
  j["SymmetricLUA"] = d.symmetric_access ? 1 : 0;
  j["SelectionMode"] = ModeName(s.selection.mode);
  Json groups = Json::array();
  for (const dsm::LuGroupState& g : d.groups) {
    Json e = Json::object();
    e["TargetPortGroup_Identifier"] = g.tpg_id;
    e["AsymmetricAccessState"] = g.state.raw;
    e["State"] = scsi::AccessStateName(g.state);
    e["TargetPortGroup_Preferred"] = g.preferred ? 1 : 0;
    groups.push_back(std::move(e));
  }
  j["TargetPortGroups"] = std::move(groups);
  Json paths = Json::array();
  for (std::size_t i = 0; i < d.paths.size(); ++i) {
    const dsm::Path& p = d.paths[i];
    Json e = Json::object();
    e["DsmPathId"] = FormatId(p.id());
    e["Portal"] = p.nexus->identity.portal;
    e["TargetName"] = p.nexus->identity.target_name;
    e["TargetPort_Identifier"] = p.relative_target_port;
    e["TargetPortGroup_Identifier"] = p.tpg_id ? Json(*p.tpg_id) : Json(nullptr);
    e["Verification"] = VerificationName(p.verification);
    e["PathWeight"] = p.weight;
    e["PreferredPath"] = p.id() == d.settings.preferred_path ? 1 : 0;
    if (i < s.selection.paths.size()) {
      const dsm::PathView& v = s.selection.paths[i];
      e["State"] = PathStateName(v.state);
      e["Usable"] = v.usable;
      e["Promoted"] = v.promoted;
    }
    e["OutstandingRequests"] = p.nexus->counters.outstanding_requests();
    e["OutstandingBytes"] = p.nexus->counters.outstanding_bytes();
    if (i < s.perf.size()) {
      e["NumberReads"] = s.perf[i].number_reads;
      e["NumberWrites"] = s.perf[i].number_writes;
      e["BytesRead"] = s.perf[i].bytes_read;
      e["BytesWritten"] = s.perf[i].bytes_written;
    }
    paths.push_back(std::move(e));
  }
  j["Paths"] = std::move(paths);
  return j;
}

Json WhyJson(const DiskSnapshot& s, const dsm::DsmOptions& options) {
  Json j = Json::object();
  j["InstanceName"] = s.name.designator;
  const auto policy = static_cast<std::uint32_t>(dsm::EffectivePolicy(s.disk, options));
  j["LoadBalancePolicy"] = policy;
  j["PolicyName"] = PolicyShortName(policy);
  j["SelectionMode"] = ModeName(s.selection.mode);
  Json paths = Json::array();
  for (std::size_t i = 0; i < s.disk.paths.size(); ++i) {
    Json e = Json::object();
    e["DsmPathId"] = FormatId(s.disk.paths[i].id());
    e["Used"] = i < s.selection.paths.size() && s.selection.paths[i].usable;
    e["Reason"] = Explain(s, i);
    paths.push_back(std::move(e));
  }
  j["Paths"] = std::move(paths);
  return j;
}

Json WithStatus(Json body, const Status& s = Status()) {
  Json j = StatusJson(s);
  for (auto it = body.begin(); it != body.end(); ++it) j[it.key()] = it.value();
  return j;
}

// ---- request decoding ---------------------------------------------------------------

// The optional fields of MPIO_DSM_Path_V2 that a set ignores are still checked
// for type and range, so a query's answer is a valid set input and a typo is
// caught.
constexpr std::pair<const char*, Width> kIgnoredPathFields[] = {
    {"Reserved", Width::kUlonglong},
    {"FailedPath", Width::kUlong},
    {"TargetPortGroup_State", Width::kUlong},
    {"ALUASupport", Width::kUlong},
    {"SymmetricLUA", Width::kUchar},
    {"TargetPortGroup_Preferred", Width::kUchar},
    {"TargetPortGroup_Identifier", Width::kUshort},
    {"TargetPort_Identifier", Width::kUlong},
    {"Reserved32", Width::kUlong},
    {"Reserved64", Width::kUlonglong},
};

Expected<dsm::SetPathEntry> DecodePathEntry(const Json& e, const std::string& where, bool v2) {
  if (!e.is_object()) {
    return MakeUnexpected(InvalidParameter(where + ": expected an object (" +
                                           (v2 ? "MPIO_DSM_Path_V2" : "MPIO_DSM_Path") +
                                           "), got " + e.type_name()));
  }
  dsm::SetPathEntry out;
  auto id = ReadUnsigned(e, "DsmPathId", where, Width::kUlonglong, true);
  if (!id) return MakeUnexpected(std::move(id).error());
  out.id = **id;
  auto weight = RequireU32(e, "PathWeight", where);
  if (!weight) return MakeUnexpected(std::move(weight).error());
  out.weight = *weight;
  auto primary = RequireU32(e, "PrimaryPath", where);
  if (!primary) return MakeUnexpected(std::move(primary).error());
  if (v2) {
    auto optimized = RequireU32(e, "OptimizedPath", where);
    if (!optimized) return MakeUnexpected(std::move(optimized).error());
    auto preferred = RequireU32(e, "PreferredPath", where);
    if (!preferred) return MakeUnexpected(std::move(preferred).error());
    out.primary = *primary;
    out.optimized = *optimized;
    out.preferred = *preferred;
    for (const auto& [name, width] : kIgnoredPathFields) {
      auto v = ReadUnsigned(e, name, where, width, false);
      if (!v) return MakeUnexpected(std::move(v).error());
    }
  } else {
    // V1 (spec §4): PrimaryPath 1 -> AO, 0 -> SB; no preferred path.
    out.primary = *primary != 0 ? 1 : 0;
    out.optimized = 1;
    out.preferred = 0;
    auto reserved = ReadUnsigned(e, "Reserved", where, Width::kUlonglong, false);
    if (!reserved) return MakeUnexpected(std::move(reserved).error());
  }
  return out;
}

Expected<dsm::SetPolicyInput> DecodeSetPolicy(const Json& req, bool v2) {
  const std::string top = "LoadBalancePolicy";
  auto lbp_or = RequireObject(req, top, "",
                              v2 ? "DSM_Load_Balance_Policy_V2" : "DSM_Load_Balance_Policy");
  if (!lbp_or) return MakeUnexpected(std::move(lbp_or).error());
  const Json& lbp = **lbp_or;
  dsm::SetPolicyInput in;
  auto policy = RequireU32(lbp, "LoadBalancePolicy", top);
  if (!policy) return MakeUnexpected(std::move(policy).error());
  in.policy = *policy;
  // Policy 0 clears (spec §4 check 3): the other fields are not needed, but
  // those present must still be well-formed.
  const bool clear = in.policy == 0;
  auto version = ReadUnsigned(lbp, "Version", top, Width::kUlong, !clear);
  if (!version) return MakeUnexpected(std::move(version).error());
  in.version = version->has_value() ? static_cast<std::uint32_t>(**version) : (v2 ? 2U : 1U);
  auto count = ReadUnsigned(lbp, "DSMPathCount", top, Width::kUlong, !clear);
  if (!count) return MakeUnexpected(std::move(count).error());
  in.path_count = count->has_value() ? static_cast<std::uint32_t>(**count) : 0U;
  auto reserved = ReadUnsigned(lbp, "Reserved", top, Width::kUlong, false);
  if (!reserved) return MakeUnexpected(std::move(reserved).error());
  const auto it = lbp.find("DSM_Paths");
  if (it == lbp.end()) {
    if (!clear) return MakeUnexpected(InvalidParameter(top + ".DSM_Paths: missing"));
    return in;
  }
  if (!it->is_array()) {
    return MakeUnexpected(InvalidParameter(top + ".DSM_Paths: expected an array, got " +
                                           std::string(it->type_name())));
  }
  for (std::size_t i = 0; i < it->size(); ++i) {
    auto e = DecodePathEntry((*it)[i], top + ".DSM_Paths[" + std::to_string(i) + "]", v2);
    if (!e) return MakeUnexpected(std::move(e).error());
    in.paths.push_back(*e);
  }
  return in;
}

Expected<std::optional<const Json*>> OptionalSet(const Json& req) {
  const auto it = req.find("Set");
  if (it == req.end()) return std::optional<const Json*>();
  if (!it->is_object()) {
    return MakeUnexpected(
        InvalidParameter("Set: expected an object, got " + std::string(it->type_name())));
  }
  return std::optional<const Json*>(&*it);
}

// ---- the per-disk plumbing ---------------------------------------------------------------

const DiskName* Resolve(const std::vector<DiskName>& names, const std::string& instance) {
  for (const DiskName& n : names) {
    if (n.designator == instance) return &n;
  }
  for (const DiskName& n : names) {
    if (!n.alias.empty() && n.alias == instance) return &n;
  }
  return nullptr;
}

Status NoSuchDisk(const std::string& instance) {
  return Status(NtStatus::kNoSuchDevice, "InstanceName: no disk named \"" + instance + "\"");
}

// Resolves the InstanceName, then hands the designator to `then`.
void WithName(Backend& b, const std::string& instance, const Replier& r,
              std::function<void(const DiskName&)> then) {
  b.ListDisks([instance, r, then = std::move(then)](std::vector<DiskName> names) {
    Guarded(r, [&] {
      const DiskName* n = Resolve(names, instance);
      if (n == nullptr) {
        r.Fail(NoSuchDisk(instance));
        return;
      }
      then(*n);
    });
  });
}

void WithDisk(Backend& b, const std::string& instance, bool refresh, const Replier& r,
              std::function<void(DiskSnapshot&)> then) {
  Backend* bp = &b;
  WithName(b, instance, r, [bp, refresh, r, then = std::move(then)](const DiskName& n) {
    bp->ReadDisk(n.designator, refresh, [r, then](Expected<DiskSnapshot> snap) {
      Guarded(r, [&] {
        if (!snap) {
          r.Fail(snap.error());
          return;
        }
        then(*snap);
      });
    });
  });
}

// Show over every disk: reads them one after the other.
struct ShowAll {
  Backend* backend;
  dsm::DsmOptions options;
  Replier reply;
  std::vector<DiskName> names;
  std::size_t next = 0;
  Json disks = Json::array();

  static void Step(const std::shared_ptr<ShowAll>& self) {
    if (self->next >= self->names.size()) {
      Json body = Json::object();
      body["Disks"] = std::move(self->disks);
      self->reply.Send(WithStatus(std::move(body)));
      return;
    }
    const std::string designator = self->names[self->next++].designator;
    self->backend->ReadDisk(designator, false, [self](Expected<DiskSnapshot> snap) {
      Guarded(self->reply, [&] {
        // A disk that went away between the list and the read is skipped.
        if (snap) self->disks.push_back(DiskTreeJson(*snap, self->options));
        Step(self);
      });
    });
  }
};

// ---- the methods ---------------------------------------------------------------------------

void SetPolicy(Backend& b, const Json& req, bool v2, const Replier& r) {
  auto instance = RequireInstanceName(req);
  if (!instance) return r.Fail(instance.error());
  auto input = DecodeSetPolicy(req, v2);
  if (!input) return r.Fail(input.error());
  Backend* bp = &b;
  WithDisk(b, *instance, false, r, [bp, in = std::move(*input), r](DiskSnapshot& s) {
    auto plan = dsm::CheckSetLoadBalancePolicy(s.disk, in, bp->options());
    if (!plan) return r.Fail(plan.error());
    bp->ExecuteSetPolicy(s.name.designator, s.generation, std::move(*plan),
                         [r](Status st) { r.Fail(st); });
  });
}

void GlobalDefault(Backend& b, const Json& req, const Replier& r) {
  auto set = OptionalSet(req);
  if (!set) return r.Fail(set.error());
  if (!set->has_value()) {
    b.ReadDefaults([r](dsm::PolicyDefaults d) {
      Guarded(r, [&] {
        auto def = d.MsdsmDefault();
        if (!def) return r.Fail(def.error());
        r.Send(WithStatus(PolicyDefaultJson(*def)));
      });
    });
    return;
  }
  const Json& s = ***set;
  auto policy = RequireU32(s, "LoadBalancePolicy", "Set");
  if (!policy) return r.Fail(policy.error());
  auto preferred = ReadUnsigned(s, "PreferredPath", "Set", Width::kUlonglong, false);
  if (!preferred) return r.Fail(preferred.error());
  auto reserved = ReadUnsigned(s, "Reserved", "Set", Width::kUlong, false);
  if (!reserved) return r.Fail(reserved.error());
  const std::uint32_t p = *policy;
  const std::uint64_t pref = preferred->value_or(0);
  b.UpdateDefaults(
      [p, pref](dsm::PolicyDefaults& d, const dsm::DsmOptions& o) {
        return d.SetMsdsmDefault(p, pref, o);
      },
      [r](Status st) { r.Fail(st); });
}

struct TargetEntry {
  std::string hardware_id;
  std::uint32_t policy = 0;
  std::uint64_t preferred = 0;
};

void TargetsDefault(Backend& b, const Json& req, const Replier& r) {
  auto set = OptionalSet(req);
  if (!set) return r.Fail(set.error());
  if (!set->has_value()) {
    b.ReadDefaults([r](dsm::PolicyDefaults d) {
      Guarded(r, [&] {
        Json body = Json::object();
        body["NumberDevices"] = d.target_defaults().size();
        body["Reserved"] = 0;
        Json list = Json::array();
        for (const dsm::TargetDefaultPolicy& t : d.target_defaults()) {
          Json e = PolicyDefaultJson(t.policy);
          e["HardwareId"] = t.hardware_id;
          list.push_back(std::move(e));
        }
        body["TargetDefaultPolicyInfo"] = std::move(list);
        r.Send(WithStatus(std::move(body)));
      });
    });
    return;
  }
  const Json& s = ***set;
  auto number = RequireU32(s, "NumberDevices", "Set");
  if (!number) return r.Fail(number.error());
  auto reserved = ReadUnsigned(s, "Reserved", "Set", Width::kUlong, false);
  if (!reserved) return r.Fail(reserved.error());
  // [C] spec §4 "Global sets": NumberDevices 0 is INVALID (the sample's status
  // is never assigned).
  if (*number == 0) return r.Fail(InvalidParameter("Set.NumberDevices: 0 (no entries)"));
  const auto it = s.find("TargetDefaultPolicyInfo");
  if (it == s.end()) return r.Fail(InvalidParameter("Set.TargetDefaultPolicyInfo: missing"));
  if (!it->is_array()) {
    return r.Fail(InvalidParameter("Set.TargetDefaultPolicyInfo: expected an array, got " +
                                   std::string(it->type_name())));
  }
  if (it->size() != *number) {
    return r.Fail(InvalidParameter("Set.NumberDevices: " + std::to_string(*number) +
                                   " but TargetDefaultPolicyInfo has " +
                                   std::to_string(it->size()) + " entries"));
  }
  std::vector<TargetEntry> entries;
  for (std::size_t i = 0; i < it->size(); ++i) {
    const std::string where = "Set.TargetDefaultPolicyInfo[" + std::to_string(i) + "]";
    const Json& e = (*it)[i];
    if (!e.is_object()) {
      return r.Fail(InvalidParameter(where + ": expected an object, got " +
                                     std::string(e.type_name())));
    }
    auto hw = ReadString(e, "HardwareId", where, true);
    if (!hw) return r.Fail(hw.error());
    auto policy = RequireU32(e, "LoadBalancePolicy", where);
    if (!policy) return r.Fail(policy.error());
    auto pref = ReadUnsigned(e, "PreferredPath", where, Width::kUlonglong, false);
    if (!pref) return r.Fail(pref.error());
    auto res = ReadUnsigned(e, "Reserved", where, Width::kUlong, false);
    if (!res) return r.Fail(res.error());
    entries.push_back(TargetEntry{**hw, *policy, pref->value_or(0)});
  }
  // As MSDSM (spec §4): a bad entry (HardwareId not 24 characters, policy out
  // of range) is skipped, the others applied, the last error returned.
  b.UpdateDefaults(
      [entries = std::move(entries)](dsm::PolicyDefaults& d, const dsm::DsmOptions& o) {
        Status last;
        for (const TargetEntry& e : entries) {
          Status st = d.SetTargetDefault(e.hardware_id, e.policy, e.preferred, o);
          if (!st.ok()) last = std::move(st);
        }
        return last;
      },
      [r](Status st) { r.Fail(st); });
}

void Timers(Backend& b, const Json& req, const Replier& r) {
  auto set = OptionalSet(req);
  if (!set) return r.Fail(set.error());
  if (!set->has_value()) {
    b.ReadDefaults([r](dsm::PolicyDefaults d) {
      Guarded(r, [&] { r.Send(WithStatus(TimersJson(d.timers()))); });
    });
    return;
  }
  const Json& s = ***set;
  // A partial set: fields left out keep their values.
  static constexpr const char* kNames[] = {"PathVerifyEnabled", "PathVerificationPeriod",
                                           "PDORemovePeriod", "RetryCount", "RetryInterval"};
  std::optional<std::uint32_t> values[5];
  bool any = false;
  for (std::size_t i = 0; i < 5; ++i) {
    auto v = ReadUnsigned(s, kNames[i], "Set", Width::kUlong, false);
    if (!v) return r.Fail(v.error());
    if (v->has_value()) {
      values[i] = static_cast<std::uint32_t>(**v);
      any = true;
    }
  }
  if (!any) return r.Fail(InvalidParameter("Set: no MPIO_TIMERS_COUNTERS field given"));
  std::vector<std::optional<std::uint32_t>> v(std::begin(values), std::end(values));
  b.UpdateDefaults(
      [v](dsm::PolicyDefaults& d, const dsm::DsmOptions&) {
        dsm::MpioTimers t = d.timers();
        if (v[0]) t.path_verify_enabled = *v[0];
        if (v[1]) t.path_verification_period = *v[1];
        if (v[2]) t.pdo_remove_period = *v[2];
        if (v[3]) t.retry_count = *v[3];
        if (v[4]) t.retry_interval = *v[4];
        return d.SetTimers(t);
      },
      [r](Status st) { r.Fail(st); });
}

void SimControlMethod(Backend& b, const Json& req, const Replier& r) {
  SimControl* sim = b.sim();
  if (sim == nullptr) {
    return r.Fail(Status(NtStatus::kNotSupported, "SimControl: no embedded array"));
  }
  auto action = ReadString(req, "Action", "", true);
  if (!action) return r.Fail(action.error());
  SimRequest sr;
  const std::string& a = **action;
  if (a == "FailPort") {
    sr.action = SimAction::kFailPort;
  } else if (a == "HangPort") {
    sr.action = SimAction::kHangPort;
  } else if (a == "RestorePort") {
    sr.action = SimAction::kRestorePort;
  } else if (a == "SetState") {
    sr.action = SimAction::kSetState;
  } else if (a == "CorruptRead") {
    sr.action = SimAction::kCorruptRead;
  } else if (a == "ClearFaults") {
    sr.action = SimAction::kClearFaults;
  } else {
    return r.Fail(InvalidParameter("Action: \"" + a +
                                   "\" is not FailPort, HangPort, RestorePort, SetState, "
                                   "CorruptRead or ClearFaults"));
  }
  if (sr.action == SimAction::kClearFaults) {
    // No fields: it clears every array fault.
  } else if (sr.action == SimAction::kCorruptRead) {
    auto lun = ReadUnsigned(req, "LUN", "", Width::kUlonglong, true);
    if (!lun) return r.Fail(lun.error());
    auto lba = ReadUnsigned(req, "FirstLBA", "", Width::kUlonglong, true);
    if (!lba) return r.Fail(lba.error());
    auto count = ReadUnsigned(req, "BlockCount", "", Width::kUlonglong, true);
    if (!count) return r.Fail(count.error());
    if (**count == 0) return r.Fail(InvalidParameter("BlockCount: 0; at least 1 block"));
    // The range must be expressible (the backend checks it against the LU's
    // size): its last LBA, FirstLBA + BlockCount - 1, must be a ULONGLONG.
    if (**count - 1 > std::numeric_limits<std::uint64_t>::max() - **lba) {
      return r.Fail(InvalidParameter("BlockCount: " + std::to_string(**count) + " blocks from " +
                                     std::to_string(**lba) + " pass the last ULONGLONG LBA"));
    }
    sr.lun = **lun;
    sr.first_lba = **lba;
    sr.block_count = **count;
  } else if (sr.action == SimAction::kSetState) {
    auto lun = ReadUnsigned(req, "LUN", "", Width::kUlonglong, true);
    if (!lun) return r.Fail(lun.error());
    auto tpg = ReadUnsigned(req, "TargetPortGroup_Identifier", "", Width::kUshort, true);
    if (!tpg) return r.Fail(tpg.error());
    const auto st = req.find("State");
    if (st == req.end()) return r.Fail(InvalidParameter("State: missing"));
    const auto state = ParseAccessState(*st);
    if (!state) {
      return r.Fail(InvalidParameter("State: " + Echo(*st) +
                                     " is not AO, AN, SB, UA, LBD, Offline, Transitioning"));
    }
    sr.lun = **lun;
    sr.target_port_group = static_cast<std::uint16_t>(**tpg);
    sr.state = *state;
  } else {
    auto port = ReadUnsigned(req, "TargetPort_Identifier", "", Width::kUshort, true);
    if (!port) return r.Fail(port.error());
    sr.relative_target_port = static_cast<std::uint16_t>(**port);
  }
  sim->Execute(sr, [r](Status st) { r.Fail(st); });
}

void Dispatch(Backend& b, std::string_view text, const Replier& r) {
  if (text.size() > kMaxRequestBytes) {
    return r.Fail(InvalidParameter("request longer than " + std::to_string(kMaxRequestBytes) +
                                   " bytes"));
  }
  Json req = Json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (req.is_discarded()) return r.Fail(InvalidParameter("request: not JSON"));
  if (!req.is_object()) {
    return r.Fail(InvalidParameter("request: expected a JSON object, got " +
                                   std::string(req.type_name())));
  }
  auto method = ReadString(req, "method", "", true);
  if (!method) return r.Fail(method.error());
  auto cls = ReadString(req, "class", "", false);
  if (!cls) return r.Fail(cls.error());
  if (cls->has_value() && !KnownClass(**cls)) {
    return r.Fail(Status(NtStatus::kWmiGuidNotFound, "class: unknown class \"" + **cls + "\""));
  }
  const MethodEntry* entry = nullptr;
  for (const MethodEntry& m : kMethods) {
    if (**method == m.name) entry = &m;
  }
  if (entry == nullptr || (cls->has_value() && **cls != entry->wmi_class)) {
    return r.Fail(Status(NtStatus::kWmiItemIdNotFound, "method: unknown method \"" + **method +
                                                           "\"" +
                                                           (cls->has_value() ? " of " + **cls : "")));
  }
  if (!entry->writable_class && req.contains("Set")) {
    return r.Fail(Status(NtStatus::kInvalidDeviceRequest,
                         std::string("Set: ") + entry->name + " is read-only"));
  }
  const dsm::DsmOptions options = b.options();
  Backend* bp = &b;
  switch (entry->method) {
    case Method::kSetPolicyV1: return SetPolicy(b, req, false, r);
    case Method::kSetPolicyAlua: return SetPolicy(b, req, true, r);
    case Method::kQueryLbPolicyV2: {
      auto instance = RequireInstanceName(req);
      if (!instance) return r.Fail(instance.error());
      return WithDisk(b, *instance, true, r, [r, options](DiskSnapshot& s) {
        Json body = Json::object();
        body["InstanceName"] = s.name.designator;
        body["LoadBalancePolicy"] =
            QueriedPolicyJson(dsm::QueryLoadBalancePolicy(s.disk, options));
        // The RTPG refresh's status, with the data filled either way (spec §4).
        r.Send(WithStatus(std::move(body), s.refresh));
      });
    }
    case Method::kQuerySupported: {
      auto instance = RequireInstanceName(req);
      if (!instance) return r.Fail(instance.error());
      return WithDisk(b, *instance, false, r, [r, options](DiskSnapshot& s) {
        const auto policies = dsm::SupportedPolicies(s.disk, options);
        Json body = Json::object();
        body["InstanceName"] = s.name.designator;
        body["SupportedLBPoliciesCount"] = policies.size();
        body["Reserved"] = 0;
        Json list = Json::array();
        for (const dsm::LoadBalancePolicy p : policies) {
          // Bare headers, DSMPathCount 0, as MSDSM writes them [S].
          Json e = Json::object();
          e["Version"] = 2;
          e["LoadBalancePolicy"] = static_cast<std::uint32_t>(p);
          e["DSMPathCount"] = 0;
          e["Reserved"] = 0;
          list.push_back(std::move(e));
        }
        body["Supported_LB_Policies"] = std::move(list);
        r.Send(WithStatus(std::move(body)));
      });
    }
    case Method::kQueryUniqueId: {
      auto instance = RequireInstanceName(req);
      if (!instance) return r.Fail(instance.error());
      return WithDisk(b, *instance, false, r, [r](DiskSnapshot& s) {
        Json body = Json::object();
        body["InstanceName"] = s.name.designator;
        body["DsmUniqueId"] = FormatId(DsmUniqueId(s.disk.lu_designator));
        r.Send(WithStatus(std::move(body)));
      });
    }
    case Method::kMsdsmDefault: return GlobalDefault(b, req, r);
    case Method::kTargetsDefault: return TargetsDefault(b, req, r);
    case Method::kTimers: return Timers(b, req, r);
    case Method::kDevicePerf: {
      auto instance = RequireInstanceName(req);
      if (!instance) return r.Fail(instance.error());
      return WithDisk(b, *instance, false, r, [r](DiskSnapshot& s) {
        Json body = Json::object();
        body["InstanceName"] = s.name.designator;
        body["NumberPaths"] = s.perf.size();
        Json list = Json::array();
        for (const PathPerf& p : s.perf) {
          Json e = Json::object();
          e["PathId"] = FormatId(p.path_id);
          e["NumberReads"] = p.number_reads;
          e["NumberWrites"] = p.number_writes;
          e["BytesRead"] = p.bytes_read;
          e["BytesWritten"] = p.bytes_written;
          list.push_back(std::move(e));
        }
        body["PerfInfo"] = std::move(list);
        r.Send(WithStatus(std::move(body)));
      });
    }
    case Method::kClearCounters: {
      auto instance = RequireInstanceName(req);
      if (!instance) return r.Fail(instance.error());
      return WithName(b, *instance, r, [bp, r](const DiskName& n) {
        bp->ClearCounters(n.designator, [r](Status st) { r.Fail(st); });
      });
    }
    case Method::kListDisks:
      return b.ListDisks([r](std::vector<DiskName> names) {
        Guarded(r, [&] {
          Json list = Json::array();
          for (const DiskName& n : names) {
            Json e = Json::object();
            e["InstanceName"] = n.designator;
            e["Alias"] = n.alias;
            list.push_back(std::move(e));
          }
          Json body = Json::object();
          body["Disks"] = std::move(list);
          r.Send(WithStatus(std::move(body)));
        });
      });
    case Method::kShow: {
      auto instance = ReadString(req, "InstanceName", "", false);
      if (!instance) return r.Fail(instance.error());
      if (instance->has_value()) {
        return WithDisk(b, **instance, false, r, [r, options](DiskSnapshot& s) {
          Json body = Json::object();
          body["Disks"] = Json::array({DiskTreeJson(s, options)});
          r.Send(WithStatus(std::move(body)));
        });
      }
      return b.ListDisks([bp, r, options](std::vector<DiskName> names) {
        Guarded(r, [&] {
          auto all = std::make_shared<ShowAll>(ShowAll{bp, options, r, std::move(names)});
          ShowAll::Step(all);
        });
      });
    }
    case Method::kWhy: {
      auto instance = RequireInstanceName(req);
      if (!instance) return r.Fail(instance.error());
      return WithDisk(b, *instance, false, r,
                      [r, options](DiskSnapshot& s) { r.Send(WithStatus(WhyJson(s, options))); });
    }
    case Method::kSimControl: return SimControlMethod(b, req, r);
    case Method::kSaveConfig: {
      auto path = ReadString(req, "Path", "", false);
      if (!path) return r.Fail(path.error());
      return b.SaveConfig(*path, [r](Status st) { r.Fail(st); });
    }
  }
  r.Fail(Status(NtStatus::kWmiItemIdNotFound, "method: not handled"));
}

}  // namespace

void JsonApi::Handle(std::string_view request, ReplyCallback done) {
  Replier r(std::move(done));
  Guarded(r, [&] { Dispatch(backend_, request, r); });
}

std::string EncodeStatusReply(const Status& status) { return Dump(StatusJson(status)); }

std::string FormatId(std::uint64_t id) {
  char buf[19];
  std::snprintf(buf, sizeof buf, "0x%016llx", static_cast<unsigned long long>(id));
  return std::string(buf);
}

std::optional<std::uint64_t> ParseIdText(std::string_view text) {
  int base = 10;
  if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
    text.remove_prefix(2);
    base = 16;
  }
  if (text.empty()) return std::nullopt;
  std::uint64_t v = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, v, base);
  if (ec != std::errc() || ptr != end) return std::nullopt;
  return v;
}

std::optional<std::uint32_t> ParsePolicyName(std::string_view text) {
  static constexpr std::pair<std::string_view, std::uint32_t> kNames[] = {
      {"none", 0}, {"clear", 0}, {"foo", 1}, {"rr", 2}, {"rrws", 3},
      {"lqd", 4},  {"wp", 5},    {"lb", 6},  {"st", 7},
  };
  for (const auto& [name, value] : kNames) {
    if (text == name) return value;
  }
  if (text.size() == 1 && text[0] >= '0' && text[0] <= '7') {
    return static_cast<std::uint32_t>(text[0] - '0');
  }
  return std::nullopt;
}

const char* PolicyShortName(std::uint32_t policy) noexcept {
  switch (policy) {
    case 0: return "none";
    case 1: return "foo";
    case 2: return "rr";
    case 3: return "rrws";
    case 4: return "lqd";
    case 5: return "wp";
    case 6: return "lb";
    case 7: return "st";
    default: return "unknown";
  }
}

std::uint64_t DsmUniqueId(const scsi::Designator& lu) noexcept {
  std::uint64_t h = 0xcbf29ce484222325ULL;  // FNV-1a 64 offset basis
  const auto mix = [&h](std::uint8_t b) {
    h ^= b;
    h *= 0x100000001b3ULL;  // FNV-1a 64 prime
  };
  mix(static_cast<std::uint8_t>(lu.association));
  mix(static_cast<std::uint8_t>(lu.type));
  for (const std::byte b : lu.value) mix(static_cast<std::uint8_t>(b));
  return h;
}

}  // namespace openmpio::mgmt

// Reply encoding of the JSON management API (json_internal.h): the Status
// fields, each class's fields as mpiodisk.h names them, ULONGLONG
// identifiers as "0x" + 16 hex digits, and the words of Show and Why.
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "common/fnv1a.h"
#include "dsm/names.h"
#include "dsm/policy.h"
#include "mgmt/json_internal.h"
#include "scsi/vpd.h"

namespace openmpio::mgmt {
namespace detail {
namespace {

// The JSON spelling of dsm/names.h ("AO"); its literals end in NUL.
const char* PathStateName(dsm::PathState s) {
  return dsm::NameOf(s, dsm::Spelling::kJson).data();
}

const char* VerificationName(dsm::PathVerification v) {
  switch (v) {
    case dsm::PathVerification::kInitializing:
      return "Initializing";
    case dsm::PathVerification::kOnline:
      return "Online";
    case dsm::PathVerification::kFailed:
      return "Failed";
  }
  return "?";
}

const char* ModeName(dsm::SelectionMode m) {
  switch (m) {
    case dsm::SelectionMode::kNoPath:
      return "NoPath";
    case dsm::SelectionMode::kActiveOptimized:
      return "ActiveOptimized";
    case dsm::SelectionMode::kFailover:
      return "Failover";
    case dsm::SelectionMode::kTransitionReuse:
      return "TransitionReuse";
  }
  return "?";
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

}  // namespace

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

Json WithStatus(Json body, const Status& s) {
  Json j = StatusJson(s);
  for (auto it = body.begin(); it != body.end(); ++it) j[it.key()] = it.value();
  return j;
}

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

Json SupportedPoliciesJson(const std::string& instance,
                           const std::vector<dsm::LoadBalancePolicy>& policies) {
  Json body = Json::object();
  body["InstanceName"] = instance;
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
  return body;
}

Json UniqueIdJson(const DiskSnapshot& s) {
  Json body = Json::object();
  body["InstanceName"] = s.name.designator;
  body["DsmUniqueId"] = FormatId(DsmUniqueId(s.disk.lu_designator));
  return body;
}

Json PolicyDefaultJson(const dsm::PolicyDefault& d) {
  Json j = Json::object();
  j["LoadBalancePolicy"] = static_cast<std::uint32_t>(d.policy);
  j["Reserved"] = 0;
  j["PreferredPath"] = FormatId(d.preferred_path);
  return j;
}

Json TargetDefaultsJson(const dsm::PolicyDefaults& d) {
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
  return body;
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

Json DevicePerfJson(const DiskSnapshot& s) {
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
  return body;
}

Json DiskListJson(const std::vector<DiskName>& names) {
  Json list = Json::array();
  for (const DiskName& n : names) {
    Json e = Json::object();
    e["InstanceName"] = n.designator;
    e["Alias"] = n.alias;
    list.push_back(std::move(e));
  }
  Json body = Json::object();
  body["Disks"] = std::move(list);
  return body;
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
    // The I_T nexus (RFC 7143): who we are to the target, and which port.
    const dsm::NexusIdentity& nid = p.nexus->identity;
    e["Portal"] = nid.portal;
    e["TargetName"] = nid.target_name;
    e["InitiatorName"] = nid.initiator_name;
    char isid[16];
    std::snprintf(isid, sizeof isid, "0x%012llx", static_cast<unsigned long long>(nid.isid));
    e["Isid"] = isid;
    // 0: not known (libiscsi 1.19 does not report a login's tag; SendTargets does).
    e["PortalGroupTag"] = nid.portal_group_tag != 0 ? Json(nid.portal_group_tag) : Json(nullptr);
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
      e["Retries"] = s.perf[i].retries;
      Json lat = Json::array();
      for (const LatencyBucket& b : s.perf[i].latency) {
        lat.push_back(Json{{"FromUs", b.from_us},
                           {"ToUs", b.to_us == 0 ? Json(nullptr) : Json(b.to_us)},
                           {"Count", b.count}});
      }
      e["LatencyUs"] = std::move(lat);
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
  // What the policy sees now (dsm::Policy::StatusLine); absent before the
  // engine has published a selection.
  if (!s.selection.policy_status.empty()) j["PolicyStatus"] = s.selection.policy_status;
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

}  // namespace detail

std::string EncodeStatusReply(const Status& status) {
  return detail::Dump(detail::StatusJson(status));
}

std::string FormatId(std::uint64_t id) {
  return dsm::PathIdText(id);
}

const char* PolicyShortName(std::uint32_t policy) noexcept {
  if (policy == 0) return "none";
  const std::string_view name = dsm::ShortName(static_cast<dsm::LoadBalancePolicy>(policy));
  return name.empty() ? "unknown" : name.data();  // dsm/names.h: NUL-terminated literals
}

std::uint64_t DsmUniqueId(const scsi::Designator& lu) noexcept {
  Fnv1a64 h;
  h.Byte(static_cast<std::uint8_t>(lu.association));
  h.Byte(static_cast<std::uint8_t>(lu.type));
  h.Bytes(lu.value);
  return h.value();
}

}  // namespace openmpio::mgmt

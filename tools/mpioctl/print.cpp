// The printers of mpioctl (print.h).
#include "print.h"

#include <cstdio>
#include <ctime>
#include <iostream>

#include "dsm/names.h"
#include "failure.h"
#include "mgmt/json_api.h"

namespace openmpio::mpioctl {

namespace {

constexpr const char* kLacks = "the engine's reply lacks a field this command reads: ";

std::string StatusLine(const json& r) {
  char hex[16];
  std::snprintf(hex, sizeof hex, "0x%08X", StatusCode(r));
  std::string s = r.value("StatusName", std::string("NTSTATUS")) + " (" + hex + ")";
  if (const json& message = FieldOrNull(r, "Message"); message.is_string()) {
    s += ": " + message.get<std::string>();
  }
  return s;
}

// One path of the tree: its state, verification and counters.
void PrintTreePath(const json& p, const char* indent) {
  std::cout << indent << "|- " << Str(p, "DsmPathId") << " " << Str(p, "Portal") << " port "
            << Str(p, "TargetPort_Identifier") << "  " << Str(p, "State") << " "
            << (p.value("Usable", false) ? "active" : "idle") << " " << Str(p, "Verification");
  if (p.value("PreferredPath", 0) != 0) std::cout << " preferred";
  if (p.value("Promoted", false)) std::cout << " promoted";
  std::cout << " weight=" << Str(p, "PathWeight") << " inflight=" << Str(p, "OutstandingRequests")
            << " reads=" << Str(p, "NumberReads") << " writes=" << Str(p, "NumberWrites");
  if (p.contains("Retries")) std::cout << " retries=" << Str(p, "Retries");
  // The I_T nexus beyond the portal, where the server gives it: our ISID and
  // the iSCSI portal group tag (null when the login did not tell it).
  if (const json& isid = FieldOrNull(p, "Isid"); isid.is_string()) {
    std::cout << " isid=" << isid.get<std::string>();
  }
  if (const json& tag = FieldOrNull(p, "PortalGroupTag"); tag.is_number_unsigned()) {
    std::cout << " tpgt=" << tag.get<unsigned>();
  }
  std::cout << "\n";
}

void PrintDiskTree(const json& d) {
  // The lists first, so a disk the reply leaves without them prints nothing.
  const json& groups = List(d, "TargetPortGroups");
  const json& paths = List(d, "Paths");
  const std::string alias = Str(d, "Alias");
  std::cout << (alias.empty() || alias == "-" ? Str(d, "InstanceName") : alias) << " ("
            << Str(d, "InstanceName") << ") " << Str(d, "HardwareId") << "\n";
  std::cout << "policy=" << Str(d, "PolicyName") << " (" << Str(d, "LoadBalancePolicy") << ")"
            << (d.value("ExplicitPolicy", false) ? " explicit" : " default")
            << " alua=" << Str(d, "ALUASupport") << " symmetric=" << Str(d, "SymmetricLUA")
            << " mode=" << Str(d, "SelectionMode") << "\n";
  if (groups.empty()) {
    std::cout << "`-+- no ALUA\n";
    for (const json& p : paths) PrintTreePath(p, "  ");
    return;
  }
  for (std::size_t g = 0; g < groups.size(); ++g) {
    const json& grp = groups[g];
    const json& id = Field(grp, "TargetPortGroup_Identifier");
    std::cout << (g + 1 == groups.size() ? "`-+- " : "|-+- ") << "tpg "
              << Str(grp, "TargetPortGroup_Identifier") << " " << Str(grp, "State")
              << (grp.value("TargetPortGroup_Preferred", 0) != 0 ? " pref" : "") << "\n";
    for (const json& p : paths) {
      if (FieldOrNull(p, "TargetPortGroup_Identifier") == id) {
        PrintTreePath(p, g + 1 == groups.size() ? "  " : "| ");
      }
    }
  }
  for (const json& p : paths) {
    if (FieldOrNull(p, "TargetPortGroup_Identifier").is_null()) PrintTreePath(p, "  ");
  }
}

}  // namespace

const json& Field(const json& j, const char* key) {
  const auto it = j.find(key);  // end() also when j is not an object
  if (it == j.end()) throw Failure{std::string(kLacks) + "\"" + key + "\""};
  return *it;
}

const json& List(const json& j, const char* key) {
  const json& v = Field(j, key);
  if (!v.is_array()) {
    throw Failure{std::string(kLacks) + "\"" + key + "\" as a list (it is of type " +
                  v.type_name() + ")"};
  }
  return v;
}

const json& FieldOrNull(const json& j, const char* key) {
  static const json kNull;
  const auto it = j.find(key);
  return it == j.end() ? kNull : *it;
}

std::string Str(const json& j, const char* key) {
  const auto it = j.find(key);
  if (it == j.end()) return "-";
  if (it->is_string()) return it->get<std::string>();
  return it->dump();
}

std::uint32_t StatusCode(const json& reply) {
  return reply.at("Status").get<std::uint32_t>();
}

int PrintSetResult(const json& reply, bool as_json) {
  if (as_json) {
    std::cout << reply.dump(2) << "\n";
  } else {
    std::cout << StatusLine(reply) << "\n";
  }
  return StatusCode(reply) == 0 ? kExitOk : kExitStatus;
}

int ReadFailed(const json& reply, bool as_json) {
  if (as_json) std::cout << reply.dump(2) << "\n";
  std::cerr << "mpioctl: " << StatusLine(reply) << "\n";
  return kExitStatus;
}

int PrintRead(const json& reply, bool as_json, const std::function<void(const json&)>& text) {
  if (StatusCode(reply) != 0) return ReadFailed(reply, as_json);
  if (as_json) {
    std::cout << reply.dump(2) << "\n";
  } else {
    text(reply);
  }
  return kExitOk;
}

void PrintShow(const json& reply) {
  for (const json& d : List(reply, "Disks")) PrintDiskTree(d);
}

void PrintPolicy(const json& reply) {
  const json& lbp = Field(reply, "LoadBalancePolicy");
  const json& paths = List(lbp, "DSM_Paths");
  const std::uint32_t policy = lbp.value("LoadBalancePolicy", 0U);
  std::cout << Str(reply, "InstanceName") << ": policy " << mgmt::PolicyShortName(policy) << " ("
            << policy << "), " << Str(lbp, "DSMPathCount") << " paths\n";
  for (const json& p : paths) {
    const dsm::PathState state =
        dsm::FromFlags(p.value("PrimaryPath", 0U), p.value("OptimizedPath", 0U));
    std::cout << "  " << Str(p, "DsmPathId") << " " << dsm::NameOf(state, dsm::Spelling::kJson)
              << " weight=" << Str(p, "PathWeight")
              << " tpg=" << Str(p, "TargetPortGroup_Identifier")
              << " tpg_state=" << Str(p, "TargetPortGroup_State")
              << (p.value("PreferredPath", 0U) != 0 ? " preferred" : "")
              << (p.value("FailedPath", 0U) != 0 ? " FAILED" : "") << "\n";
  }
}

void PrintWhy(const json& reply) {
  const json& paths = List(reply, "Paths");
  std::cout << Str(reply, "InstanceName") << ": policy " << Str(reply, "PolicyName") << ", "
            << Str(reply, "SelectionMode") << "\n";
  // The policy's own account (its status hook); older engines send none.
  if (const auto s = reply.find("PolicyStatus"); s != reply.end() && s->is_string()) {
    std::cout << "  " << s->get<std::string>() << "\n";
  }
  for (const json& p : paths) {
    std::cout << "  " << Str(p, "DsmPathId") << " " << Str(p, "Reason") << "\n";
  }
}

void PrintEvents(const json& reply) {
  for (const json& e : List(reply, "Events")) {
    const std::uint64_t ms = e.value("TimeMs", std::uint64_t{0});
    const auto secs = static_cast<std::time_t>(ms / 1000);
    std::tm utc{};
    ::gmtime_r(&secs, &utc);
    char day[32];
    std::strftime(day, sizeof day, "%F %T", &utc);
    char when[48];
    std::snprintf(when, sizeof when, "%s.%03u UTC", day, static_cast<unsigned>(ms % 1000));
    const std::string disk = e.value("Disk", std::string());
    std::cout << when << "  " << (disk.empty() ? std::string("-") : disk) << "  "
              << e.value("Text", std::string()) << "\n";
  }
}

void PrintTimers(const json& reply) {
  for (const char* n : kTimerNames) std::cout << n << " " << Str(reply, n) << "\n";
}

void PrintMsdsmDefault(const json& reply) {
  const std::uint32_t p = reply.value("LoadBalancePolicy", 0U);
  std::cout << "MSDSM default: " << mgmt::PolicyShortName(p) << " (" << p << ") preferred "
            << Str(reply, "PreferredPath") << "\n";
}

void PrintTargetDefault(const json& reply, const std::string& hardware_id) {
  for (const json& e : List(reply, "TargetDefaultPolicyInfo")) {
    if (e.value("HardwareId", std::string()) != hardware_id) continue;
    const std::uint32_t p = e.value("LoadBalancePolicy", 0U);
    std::cout << "\"" << hardware_id << "\": " << mgmt::PolicyShortName(p) << " (" << p
              << ") preferred " << Str(e, "PreferredPath") << "\n";
  }
}

void PrintPerf(const std::string& disk, const json& perf, const json& shown) {
  const json& perf_info = List(perf, "PerfInfo");
  // The Show entry of path `id`, or null when `shown` has none.
  auto extras = [&shown](const json& id) -> const json* {
    const json& disks = FieldOrNull(shown, "Disks");
    if (StatusCode(shown) != 0 || !disks.is_array() || disks.empty()) return nullptr;
    const json& paths = FieldOrNull(disks[0], "Paths");
    if (!paths.is_array()) return nullptr;
    for (const json& sp : paths) {
      if (FieldOrNull(sp, "DsmPathId") == id) return &sp;
    }
    return nullptr;
  };
  std::cout << disk << "\n";
  for (const json& p : perf_info) {
    const json& id = Field(p, "PathId");
    std::cout << "  " << Str(p, "PathId") << " reads=" << Str(p, "NumberReads")
              << " writes=" << Str(p, "NumberWrites") << " bytes_read=" << Str(p, "BytesRead")
              << " bytes_written=" << Str(p, "BytesWritten");
    if (const json* x = extras(id); x != nullptr && x->contains("Retries")) {
      std::cout << " retries=" << Str(*x, "Retries") << "\n    latency";
      for (const json& b : x->value("LatencyUs", json::array())) {
        std::cout << " " << Str(b, "FromUs") << "-"
                  << (FieldOrNull(b, "ToUs").is_null() ? std::string("") : Str(b, "ToUs"))
                  << "us:" << Str(b, "Count");
      }
    }
    std::cout << "\n";
  }
}

}  // namespace openmpio::mpioctl

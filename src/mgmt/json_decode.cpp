// Request decoding of the JSON management API (json_internal.h): the field
// readers with their type and range checks (mpiodisk.h widths), and one
// decoder per request body. A decoder returns the structured input or the
// STATUS_INVALID_PARAMETER that names the first bad field; it never calls
// the backend.
#include <charconv>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "dsm/names.h"
#include "mgmt/json_internal.h"

namespace openmpio::mgmt {
namespace detail {
namespace {

std::uint64_t MaxOf(Width w) {
  switch (w) {
    case Width::kUchar:
      return 0xFF;
    case Width::kUshort:
      return 0xFFFF;
    case Width::kUlong:
      return 0xFFFFFFFFULL;
    case Width::kUlonglong:
      return ~std::uint64_t{0};
  }
  return 0;
}

const char* NameOf(Width w) {
  switch (w) {
    case Width::kUchar:
      return "UCHAR";
    case Width::kUshort:
      return "USHORT";
    case Width::kUlong:
      return "ULONG";
    case Width::kUlonglong:
      return "ULONGLONG";
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
    return MakeUnexpected(
        InvalidParameter(field + ": " + Echo(v) + " is negative; " + NameOf(w) + " is unsigned"));
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

// A required ULONG.
Expected<std::uint32_t> RequireU32(const Json& obj, std::string_view name,
                                   const std::string& where) {
  auto v = ReadUnsigned(obj, name, where, Width::kUlong, true);
  if (!v) return MakeUnexpected(std::move(v).error());
  return static_cast<std::uint32_t>(**v);
}

Expected<const Json*> RequireObject(const Json& obj, std::string_view name,
                                    const std::string& where, const char* what) {
  const std::string field = Join(where, name);
  const auto it = obj.find(name);
  if (it == obj.end()) return MakeUnexpected(InvalidParameter(field + ": missing"));
  if (!it->is_object()) {
    return MakeUnexpected(
        InvalidParameter(field + ": expected an object (" + what + "), got " + it->type_name()));
  }
  return &*it;
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
                                           (v2 ? "MPIO_DSM_Path_V2" : "MPIO_DSM_Path") + "), got " +
                                           e.type_name()));
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

}  // namespace

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

Expected<std::string> RequireInstanceName(const Json& req) {
  auto name = ReadString(req, "InstanceName", "", true);
  if (!name) return MakeUnexpected(std::move(name).error());
  if ((*name)->empty()) return MakeUnexpected(InvalidParameter("InstanceName: empty"));
  return **name;
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

Expected<dsm::SetPolicyInput> DecodeSetPolicy(const Json& req, bool v2) {
  const std::string top = "LoadBalancePolicy";
  auto lbp_or =
      RequireObject(req, top, "", v2 ? "DSM_Load_Balance_Policy_V2" : "DSM_Load_Balance_Policy");
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

Expected<GlobalDefaultSet> DecodeGlobalDefaultSet(const Json& set) {
  auto policy = RequireU32(set, "LoadBalancePolicy", "Set");
  if (!policy) return MakeUnexpected(std::move(policy).error());
  auto preferred = ReadUnsigned(set, "PreferredPath", "Set", Width::kUlonglong, false);
  if (!preferred) return MakeUnexpected(std::move(preferred).error());
  auto reserved = ReadUnsigned(set, "Reserved", "Set", Width::kUlong, false);
  if (!reserved) return MakeUnexpected(std::move(reserved).error());
  return GlobalDefaultSet{*policy, preferred->value_or(0)};
}

Expected<std::vector<TargetEntry>> DecodeTargetDefaultsSet(const Json& set) {
  auto number = RequireU32(set, "NumberDevices", "Set");
  if (!number) return MakeUnexpected(std::move(number).error());
  auto reserved = ReadUnsigned(set, "Reserved", "Set", Width::kUlong, false);
  if (!reserved) return MakeUnexpected(std::move(reserved).error());
  // [C] spec §4 "Global sets": NumberDevices 0 is INVALID (the sample's status
  // is never assigned).
  if (*number == 0) return MakeUnexpected(InvalidParameter("Set.NumberDevices: 0 (no entries)"));
  const auto it = set.find("TargetDefaultPolicyInfo");
  if (it == set.end()) {
    return MakeUnexpected(InvalidParameter("Set.TargetDefaultPolicyInfo: missing"));
  }
  if (!it->is_array()) {
    return MakeUnexpected(InvalidParameter("Set.TargetDefaultPolicyInfo: expected an array, got " +
                                           std::string(it->type_name())));
  }
  if (it->size() != *number) {
    return MakeUnexpected(InvalidParameter("Set.NumberDevices: " + std::to_string(*number) +
                                           " but TargetDefaultPolicyInfo has " +
                                           std::to_string(it->size()) + " entries"));
  }
  std::vector<TargetEntry> entries;
  for (std::size_t i = 0; i < it->size(); ++i) {
    const std::string where = "Set.TargetDefaultPolicyInfo[" + std::to_string(i) + "]";
    const Json& e = (*it)[i];
    if (!e.is_object()) {
      return MakeUnexpected(
          InvalidParameter(where + ": expected an object, got " + std::string(e.type_name())));
    }
    auto hw = ReadString(e, "HardwareId", where, true);
    if (!hw) return MakeUnexpected(std::move(hw).error());
    auto policy = RequireU32(e, "LoadBalancePolicy", where);
    if (!policy) return MakeUnexpected(std::move(policy).error());
    auto pref = ReadUnsigned(e, "PreferredPath", where, Width::kUlonglong, false);
    if (!pref) return MakeUnexpected(std::move(pref).error());
    auto res = ReadUnsigned(e, "Reserved", where, Width::kUlong, false);
    if (!res) return MakeUnexpected(std::move(res).error());
    entries.push_back(TargetEntry{**hw, *policy, pref->value_or(0)});
  }
  return entries;
}

Expected<TimerValues> DecodeTimersSet(const Json& set) {
  // A partial set: fields left out keep their values.
  TimerValues values;
  bool any = false;
  for (std::size_t i = 0; i < kTimerNames.size(); ++i) {
    auto v = ReadUnsigned(set, kTimerNames[i], "Set", Width::kUlong, false);
    if (!v) return MakeUnexpected(std::move(v).error());
    if (v->has_value()) {
      values[i] = static_cast<std::uint32_t>(**v);
      any = true;
    }
  }
  if (!any) return MakeUnexpected(InvalidParameter("Set: no MPIO_TIMERS_COUNTERS field given"));
  return values;
}

Expected<SimRequest> DecodeSimRequest(const Json& req) {
  auto action = ReadString(req, "Action", "", true);
  if (!action) return MakeUnexpected(std::move(action).error());
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
  } else if (a == "AddLu") {
    sr.action = SimAction::kAddLu;
  } else if (a == "RemoveLu") {
    sr.action = SimAction::kRemoveLu;
  } else if (a == "ResizeLu") {
    sr.action = SimAction::kResizeLu;
  } else {
    return MakeUnexpected(InvalidParameter("Action: \"" + a +
                                           "\" is not FailPort, HangPort, RestorePort, SetState, "
                                           "CorruptRead, ClearFaults, AddLu, RemoveLu or ResizeLu"));
  }
  if (sr.action == SimAction::kClearFaults) {
    // No fields: it clears every array fault.
  } else if (sr.action == SimAction::kAddLu || sr.action == SimAction::kRemoveLu ||
             sr.action == SimAction::kResizeLu) {
    auto lun = ReadUnsigned(req, "LUN", "", Width::kUlonglong, true);
    if (!lun) return MakeUnexpected(std::move(lun).error());
    sr.lun = **lun;
    if (sr.action != SimAction::kRemoveLu) {
      auto count = ReadUnsigned(req, "BlockCount", "", Width::kUlonglong, true);
      if (!count) return MakeUnexpected(std::move(count).error());
      if (**count == 0) return MakeUnexpected(InvalidParameter("BlockCount: 0; at least 1 block"));
      sr.block_count = **count;
    }
    if (sr.action == SimAction::kAddLu) {
      auto owner = ReadUnsigned(req, "OwnerGroup", "", Width::kUshort, false);
      if (!owner) return MakeUnexpected(std::move(owner).error());
      sr.owner_group = static_cast<std::uint16_t>(owner->value_or(0));
      auto prov = ReadString(req, "Provisioning", "", false);
      if (!prov) return MakeUnexpected(std::move(prov).error());
      const std::string kind = prov->value_or("thin");
      if (kind != "thin" && kind != "thick") {
        return MakeUnexpected(InvalidParameter("Provisioning: \"" + kind + "\" is not thin or thick"));
      }
      sr.thick = kind == "thick";
    }
  } else if (sr.action == SimAction::kCorruptRead) {
    auto lun = ReadUnsigned(req, "LUN", "", Width::kUlonglong, true);
    if (!lun) return MakeUnexpected(std::move(lun).error());
    auto lba = ReadUnsigned(req, "FirstLBA", "", Width::kUlonglong, true);
    if (!lba) return MakeUnexpected(std::move(lba).error());
    auto count = ReadUnsigned(req, "BlockCount", "", Width::kUlonglong, true);
    if (!count) return MakeUnexpected(std::move(count).error());
    if (**count == 0) return MakeUnexpected(InvalidParameter("BlockCount: 0; at least 1 block"));
    // The range must be expressible (the backend checks it against the LU's
    // size): its last LBA, FirstLBA + BlockCount - 1, must be a ULONGLONG.
    if (**count - 1 > std::numeric_limits<std::uint64_t>::max() - **lba) {
      return MakeUnexpected(InvalidParameter("BlockCount: " + std::to_string(**count) +
                                             " blocks from " + std::to_string(**lba) +
                                             " pass the last ULONGLONG LBA"));
    }
    sr.lun = **lun;
    sr.first_lba = **lba;
    sr.block_count = **count;
  } else if (sr.action == SimAction::kSetState) {
    auto lun = ReadUnsigned(req, "LUN", "", Width::kUlonglong, true);
    if (!lun) return MakeUnexpected(std::move(lun).error());
    auto tpg = ReadUnsigned(req, "TargetPortGroup_Identifier", "", Width::kUshort, true);
    if (!tpg) return MakeUnexpected(std::move(tpg).error());
    const auto st = req.find("State");
    if (st == req.end()) return MakeUnexpected(InvalidParameter("State: missing"));
    const auto state = ParseAccessState(*st);
    if (!state) {
      return MakeUnexpected(
          InvalidParameter("State: " + Echo(*st) + " is not AO, AN, SB, UA, LBD, Offline"));
    }
    if (*state == scsi::AsymmetricAccessState::kTransitioning) {
      return MakeUnexpected(InvalidParameter(
          "State: Transitioning is not a state to set: every change passes through it for "
          "the LU's implicit transition time"));
    }
    sr.lun = **lun;
    sr.target_port_group = static_cast<std::uint16_t>(**tpg);
    sr.state = *state;
  } else {
    auto port = ReadUnsigned(req, "TargetPort_Identifier", "", Width::kUshort, true);
    if (!port) return MakeUnexpected(std::move(port).error());
    sr.relative_target_port = static_cast<std::uint16_t>(**port);
  }
  return sr;
}

}  // namespace detail

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
  if (text == "none" || text == "clear") return 0;  // a set's "no policy"
  if (auto p = dsm::PolicyFromShortName(text)) return static_cast<std::uint32_t>(*p);
  if (text.size() == 1 && text[0] >= '0' && text[0] <= '7') {
    return static_cast<std::uint32_t>(text[0] - '0');
  }
  return std::nullopt;
}

}  // namespace openmpio::mgmt

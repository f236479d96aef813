// The embedded array's sections (walker.h): [sim] with its identity, TPGS
// and seed, [[sim.port]] (ports, groups, link delays) and [[sim.lu]] (size,
// block size, provisioning, the groups' initial ALUA states). Ports come
// first: an LU may name only groups that have a port.
#include <algorithm>
#include <limits>
#include <set>

#include "config/walker.h"

namespace openmpio::config {

namespace {

// A simulated link's delays: a minute at most. Beyond that no test means it,
// and 2^63-1 µs wrapped to nothing in the engine's nanosecond clock.
constexpr std::int64_t kMaxSimDelayUs = 60'000'000;

// "1073741824", "1GiB", "512MiB", "4KiB", "2TiB" — binary units only.
std::optional<std::uint64_t> ParseSize(std::string_view s) {
  std::uint64_t mult = 1;
  const std::pair<std::string_view, std::uint64_t> suffixes[] = {
      {"KiB", 1ULL << 10}, {"MiB", 1ULL << 20}, {"GiB", 1ULL << 30}, {"TiB", 1ULL << 40}};
  for (const auto& [suffix, m] : suffixes) {
    if (s.size() > suffix.size() && s.substr(s.size() - suffix.size()) == suffix) {
      mult = m;
      s.remove_suffix(suffix.size());
      break;
    }
  }
  if (s.empty() || s.size() > 20) return std::nullopt;
  std::uint64_t v = 0;
  for (const char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    const auto d = static_cast<std::uint64_t>(c - '0');
    if (v > (std::numeric_limits<std::uint64_t>::max() - d) / 10) return std::nullopt;
    v = v * 10 + d;
  }
  if (v > std::numeric_limits<std::uint64_t>::max() / mult) return std::nullopt;
  return v * mult;
}

std::optional<scsi::AsymmetricAccessState> SimStateFromName(std::string_view s) {
  using S = scsi::AsymmetricAccessState;
  if (s == "ao") return S::kActiveOptimized;
  if (s == "an") return S::kActiveNonOptimized;
  if (s == "standby") return S::kStandby;
  if (s == "unavailable") return S::kUnavailable;
  if (s == "offline") return S::kOffline;
  return std::nullopt;
}

std::optional<scsi::Tpgs> TpgsFromName(std::string_view s) {
  if (s == "none") return scsi::Tpgs::kNone;
  if (s == "implicit") return scsi::Tpgs::kImplicit;
  if (s == "explicit") return scsi::Tpgs::kExplicit;
  if (s == "both") return scsi::Tpgs::kBoth;
  return std::nullopt;
}

std::optional<SimProvisioning> ProvisioningFromName(std::string_view s) {
  if (s == "thin") return SimProvisioning::kThin;
  if (s == "thick") return SimProvisioning::kThick;
  return std::nullopt;
}

bool ParseSimLu(Walker& w, const toml::table& t, const std::string& p,
                const std::set<std::uint16_t>& groups, scsi::Tpgs tpgs, SimLuConfig* lu) {
  if (!w.CheckKeys(t, p,
                   {"lun", "size", "block_size", "provisioning", "owner_group", "states",
                    "preferred_group"}) ||
      !w.Required(t, p, "lun") || !w.Unsigned(t, p, "lun", &lu->lun, 0, 16383) ||
      !w.Unsigned(t, p, "block_size", &lu->block_size, 512, 4096)) {
    return false;
  }
  if (lu->block_size != 512 && lu->block_size != 1024 && lu->block_size != 2048 &&
      lu->block_size != 4096) {
    return w.Fail(*t.get("block_size"), Dotted(p, "block_size"),
                  std::to_string(lu->block_size) + " is not 512, 1024, 2048 or 4096");
  }
  if (!w.Named(t, p, "provisioning", ProvisioningFromName, "thin or thick", &lu->provisioning) ||
      !w.Required(t, p, "size")) {
    return false;
  }
  const toml::node& sn = *t.get("size");
  if (const auto* ss = sn.as_string()) {
    const auto v = ParseSize(ss->get());
    if (!v) {
      return w.Fail(sn, Dotted(p, "size"),
                    Quoted(ss->get()) + " is not a size (bytes, or a number with KiB/MiB/GiB/TiB)");
    }
    lu->size_bytes = *v;
  } else if (!sn.is_integer()) {
    return w.WrongType(sn, Dotted(p, "size"), "a size (integer or string)");
  } else if (!w.Unsigned(t, p, "size", &lu->size_bytes, 1)) {
    return false;
  }
  if (lu->size_bytes == 0 || lu->size_bytes % lu->block_size != 0) {
    return w.Fail(sn, Dotted(p, "size"),
                  std::to_string(lu->size_bytes) +
                      " bytes is not a positive multiple of the block size " +
                      std::to_string(lu->block_size));
  }
  const auto group_key = [&](std::string_view key, std::optional<std::uint16_t>* out) {
    if (!w.OptUnsigned(t, p, key, out, 1)) return false;
    if (*out && groups.count(**out) == 0) {
      return w.Fail(*t.get(key), Dotted(p, key),
                    "group " + std::to_string(**out) + " has no port in sim.port");
    }
    return true;
  };
  if (!group_key("owner_group", &lu->owner_group) ||
      !group_key("preferred_group", &lu->preferred_group)) {
    return false;
  }
  if (const auto* stn = t.get("states")) {
    const toml::table* st = nullptr;
    const std::string sp = Dotted(p, "states");
    if (!w.Table(*stn, sp, &st)) return false;
    for (auto&& [k, v] : *st) {
      const std::string kp = Dotted(sp, k.str());
      std::uint32_t g = 0;
      bool digits = !k.str().empty() && k.str().size() <= 5;
      for (const char c : k.str()) {
        digits = digits && c >= '0' && c <= '9';
        if (digits) g = g * 10 + static_cast<std::uint32_t>(c - '0');
      }
      if (!digits || g == 0 || g > 65535 || groups.count(static_cast<std::uint16_t>(g)) == 0) {
        return w.Fail(k.source(), kp,
                      "not a target port group of sim.port (keys are group numbers)");
      }
      SimGroupState state{static_cast<std::uint16_t>(g)};
      if (!w.NamedValue(v, kp, "a state name", SimStateFromName,
                        "an initial state (ao, an, standby, unavailable, offline)", &state.state)) {
        return false;
      }
      lu->states.push_back(state);
    }
    // toml++ orders keys as strings ("10" < "2"); keep the groups in number order.
    std::sort(lu->states.begin(), lu->states.end(),
              [](const SimGroupState& a, const SimGroupState& b) {
                return a.target_port_group < b.target_port_group;
              });
  }
  if (tpgs == scsi::Tpgs::kNone) {
    if (lu->owner_group || !lu->states.empty()) {
      return w.Fail(t, p, "owner_group and states need ALUA (sim.tpgs is \"none\")");
    }
  } else if (!lu->owner_group) {
    // Without an owner every group must be named.
    for (const auto g : groups) {
      bool named = false;
      for (const auto& s : lu->states) named = named || s.target_port_group == g;
      if (!named) {
        return w.Fail(t, p,
                      "group " + std::to_string(g) + " has no state: set owner_group or states");
      }
    }
  }
  return true;
}

}  // namespace

bool ParseSim(Walker& w, const toml::table& t, SimConfig* sim) {
  constexpr std::string_view p = "sim";
  if (!w.CheckKeys(t, p,
                   {"target_name", "vendor", "product", "tpgs", "implicit_transition_time", "seed",
                    "port", "lu"}) ||
      !w.String(t, p, "target_name", &sim->target_name, 223, false, true) ||
      !w.String(t, p, "vendor", &sim->vendor, kMaxVendorChars, false, true) ||
      !w.String(t, p, "product", &sim->product, kMaxProductChars, false, true) ||
      !w.Unsigned(t, p, "implicit_transition_time", &sim->implicit_transition_time, 0, 255) ||
      !w.Unsigned(t, p, "seed", &sim->seed)) {
    return false;
  }
  if (sim->target_name.empty() || sim->vendor.empty() || sim->product.empty()) {
    return w.Fail(t, p, "target_name, vendor and product must not be empty");
  }
  if (!w.Named(t, p, "tpgs", TpgsFromName, "none, implicit, explicit or both", &sim->tpgs)) {
    return false;
  }
  // [[sim.port]] and [[sim.lu]]: at least one of each.
  const auto at_least_one = [&](std::string_view key, std::string_view one,
                                std::vector<const toml::table*>* out) {
    const std::string dotted = Dotted(p, key);
    const toml::node* n = t.get(key);
    if (n == nullptr) {
      return w.Fail(t, dotted, "missing: the array needs at least one [[" + dotted + "]]");
    }
    if (!w.Tables(*n, dotted, out)) return false;
    if (!out->empty()) return true;
    std::string what = "the array needs at least one ";
    what += one;
    return w.Fail(*n, dotted, what);
  };
  std::vector<const toml::table*> ports;
  if (!at_least_one("port", "port", &ports)) return false;
  std::set<std::uint16_t> rtps;
  std::set<std::uint16_t> groups;
  for (std::size_t i = 0; i < ports.size(); ++i) {
    const toml::table& pt = *ports[i];
    const std::string pp = Indexed("sim.port", i);
    SimPortConfig port;
    // SPC-4 7.8.6.7 / 7.8.6.8: relative port and group 0 are reserved.
    if (!w.CheckKeys(pt, pp,
                     {"relative_target_port", "target_port_group", "latency_us",
                      "bandwidth_bytes_per_second", "service_time_us"}) ||
        !w.Required(pt, pp, "relative_target_port") ||
        !w.Unsigned(pt, pp, "relative_target_port", &port.relative_target_port, 1) ||
        !w.Unsigned(pt, pp, "target_port_group", &port.target_port_group, 1) ||
        !w.Unsigned(pt, pp, "latency_us", &port.latency_us, 0, kMaxSimDelayUs) ||
        !w.Unsigned(pt, pp, "bandwidth_bytes_per_second", &port.bandwidth_bytes_per_second) ||
        !w.Unsigned(pt, pp, "service_time_us", &port.service_time_us, 0, kMaxSimDelayUs)) {
      return false;
    }
    if (!rtps.insert(port.relative_target_port).second) {
      return w.Fail(*pt.get("relative_target_port"), Dotted(pp, "relative_target_port"),
                    "duplicate port " + std::to_string(port.relative_target_port));
    }
    groups.insert(port.target_port_group);
    sim->ports.push_back(port);
  }
  std::vector<const toml::table*> lus;
  if (!at_least_one("lu", "LU", &lus)) return false;
  std::set<std::uint64_t> luns;
  for (std::size_t i = 0; i < lus.size(); ++i) {
    SimLuConfig lu;
    const std::string lp = Indexed("sim.lu", i);
    if (!ParseSimLu(w, *lus[i], lp, groups, sim->tpgs, &lu)) return false;
    if (!luns.insert(lu.lun).second) {
      return w.Fail(*lus[i]->get("lun"), Dotted(lp, "lun"),
                    "duplicate LUN " + std::to_string(lu.lun));
    }
    sim->lus.push_back(std::move(lu));
  }
  return true;
}

}  // namespace openmpio::config

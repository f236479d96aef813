// Load-balance policies: a disk's (policy get|set|set-alua) and the defaults
// for disks without one (default-policy get|set).
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "commands.h"
#include "dsm/names.h"
#include "failure.h"
#include "mgmt/json_api.h"
#include "print.h"

namespace openmpio::mpioctl {

namespace {

std::uint32_t PolicyArg(const std::string& text) {
  const auto p = mgmt::ParsePolicyName(text);
  if (!p) throw Failure{"unknown policy \"" + text + "\" (foo rr rrws lqd wp lb st, or 0..7)"};
  return *p;
}

std::uint64_t PathArg(const std::string& text) {
  const auto id = mgmt::ParseIdText(text);
  if (!id) throw Failure{"not a path id: \"" + text + "\" (0x... hex or decimal)"};
  return *id;
}

// The entry of path `id` in the DSM_Paths of `lbp`, or null.
json* FindPath(json& lbp, std::uint64_t id) {
  for (json& p : lbp.at("DSM_Paths")) {
    const json& text = FieldOrNull(p, "DsmPathId");
    const auto pid = text.is_string() ? mgmt::ParseIdText(text.get<std::string>())
                                      : std::optional<std::uint64_t>();
    if (pid && *pid == id) return &p;
  }
  return nullptr;
}

// The entry of the path given as `text` (an argument of `disk`); Failure when
// `lbp` has none.
json& PathOf(json& lbp, const std::string& text, const std::string& disk) {
  json* path = FindPath(lbp, PathArg(text));
  if (path == nullptr) throw Failure{"no path " + text + " on " + disk};
  return *path;
}

json QueryRequest(const std::string& disk) {
  return {{"method", "DSM_QueryLBPolicy_V2"}, {"InstanceName", disk}};
}

// The policy of a DSM_QueryLBPolicy_V2 reply, to change and send back.
json PolicyToChange(const json& query_reply) {
  json lbp = Field(query_reply, "LoadBalancePolicy");
  List(lbp, "DSM_Paths");  // what FindPath() walks
  return lbp;
}

// Makes `preferred` (when given) the one PreferredPath of `lbp`.
void SetPreferred(json& lbp, const std::string& preferred, const std::string& disk) {
  if (preferred.empty()) return;
  json& chosen = PathOf(lbp, preferred, disk);
  for (json& e : lbp.at("DSM_Paths")) e["PreferredPath"] = 0;
  chosen["PreferredPath"] = 1;
}

int SetPolicy(Client& c, const std::string& disk, const json& lbp, bool as_json) {
  return PrintSetResult(c.Call({{"method", "DsmSetLoadBalancePolicyALUA"},
                                {"InstanceName", disk},
                                {"LoadBalancePolicy", lbp}}),
                        as_json);
}

// VID (8 characters) and PID (16), each cut or padded with spaces.
std::string HardwareId(const std::string& vendor, const std::string& product) {
  auto pad = [](const std::string& s, std::size_t n) {
    std::string out = s.substr(0, n);
    out.resize(n, ' ');
    return out;
  };
  return pad(vendor, 8) + pad(product, 16);
}

}  // namespace

void AddPolicy(Cli& cli) {
  struct Args {
    std::string disk, policy, preferred;
    std::vector<std::string> weights, path_states;
  };
  auto a = std::make_shared<Args>();
  auto* policy = cli.app.add_subcommand("policy", "a disk's load-balance policy");
  policy->require_subcommand(1);

  auto* get = policy->add_subcommand("get", "DSM_QueryLBPolicy_V2");
  get->add_option("disk", a->disk)->required();
  OnChosen(get, cli, [&cli, a](Client& c) {
    return PrintRead(c.Call(QueryRequest(a->disk)), cli.as_json, PrintPolicy);
  });

  auto* set =
      policy->add_subcommand("set", "DsmSetLoadBalancePolicyALUA with the current path states");
  set->add_option("disk", a->disk)->required();
  set->add_option("policy", a->policy, "foo rr rrws lqd wp lb st, 0..7 (0 clears)")->required();
  set->add_option("--weight", a->weights, "PATH=W (Weighted Paths)");
  set->add_option("--preferred", a->preferred, "PATH (Fail Over Only failback target)");
  OnChosen(set, cli, [&cli, a](Client& c) {
    const std::uint32_t p = PolicyArg(a->policy);
    if (p == 0) {
      return SetPolicy(
          c, a->disk,
          {{"Version", 2}, {"LoadBalancePolicy", 0}, {"DSMPathCount", 0}, {"Reserved", 0}},
          cli.as_json);
    }
    const json q = c.Call(QueryRequest(a->disk));
    if (StatusCode(q) != 0) return ReadFailed(q, cli.as_json);
    json lbp = PolicyToChange(q);
    lbp["LoadBalancePolicy"] = p;
    for (const std::string& w : a->weights) {
      const auto eq = w.find('=');
      if (eq == std::string::npos) throw Failure{"--weight wants PATH=W, got " + w};
      json& path = PathOf(lbp, w.substr(0, eq), a->disk);
      const auto weight = mgmt::ParseIdText(w.substr(eq + 1));
      if (!weight || *weight > 0xFFFFFFFFULL) throw Failure{"bad weight in " + w};
      path["PathWeight"] = *weight;
    }
    SetPreferred(lbp, a->preferred, a->disk);
    return SetPolicy(c, a->disk, lbp, cli.as_json);
  });

  auto* alua = policy->add_subcommand("set-alua", "DsmSetLoadBalancePolicyALUA: per-path states");
  alua->add_option("disk", a->disk)->required();
  alua->add_option("--path", a->path_states, "ID=AO|AU|SB|UA")->required();
  alua->add_option("--preferred", a->preferred, "ID");
  alua->add_option("--policy", a->policy, "policy (default: the current one)");
  OnChosen(alua, cli, [&cli, a](Client& c) {
    const json q = c.Call(QueryRequest(a->disk));
    if (StatusCode(q) != 0) return ReadFailed(q, cli.as_json);
    json lbp = PolicyToChange(q);
    if (!a->policy.empty()) lbp["LoadBalancePolicy"] = PolicyArg(a->policy);
    // The state table of spec §2: (PrimaryPath, OptimizedPath).
    for (const std::string& ps : a->path_states) {
      const auto eq = ps.find('=');
      const auto state = eq == std::string::npos
                             ? std::nullopt
                             : dsm::PathStateFromName(std::string_view(ps).substr(eq + 1),
                                                      dsm::Spelling::kJson);
      if (!state) throw Failure{"--path wants ID=AO|AU|SB|UA, got " + ps};
      json& path = PathOf(lbp, ps.substr(0, eq), a->disk);
      const dsm::PathFlags flags = dsm::ToFlags(*state);
      path["PrimaryPath"] = flags.primary ? 1 : 0;
      path["OptimizedPath"] = flags.optimized ? 1 : 0;
    }
    SetPreferred(lbp, a->preferred, a->disk);
    return SetPolicy(c, a->disk, lbp, cli.as_json);
  });
}

void AddDefaultPolicy(Cli& cli) {
  struct Args {
    std::string vendor, product, policy, preferred;
  };
  auto a = std::make_shared<Args>();
  auto* defp = cli.app.add_subcommand("default-policy", "MSDSM-wide or VID/PID default policy");
  defp->require_subcommand(1);
  auto* get = defp->add_subcommand("get");
  auto* set = defp->add_subcommand("set");
  for (auto* sc : {get, set}) {
    sc->add_option("--vendor", a->vendor, "VID (8 characters, padded)");
    sc->add_option("--product", a->product, "PID (16 characters, padded)");
  }
  set->add_option("policy", a->policy, "foo rr rrws lqd wp lb st, 0..7 (0 deletes)")->required();
  set->add_option("--preferred", a->preferred, "PreferredPath");
  OnChosen(get, cli, [&cli, a](Client& c) {
    const bool targets = !a->vendor.empty() || !a->product.empty();
    const json r = c.Call({{"method", targets ? "MSDSM_TARGETS_DEFAULT_LOAD_BALANCE_POLICY"
                                              : "MSDSM_DEFAULT_LOAD_BALANCE_POLICY"}});
    if (!targets) return PrintRead(r, cli.as_json, PrintMsdsmDefault);
    const std::string hw = HardwareId(a->vendor, a->product);
    return PrintRead(r, cli.as_json, [&hw](const json& reply) { PrintTargetDefault(reply, hw); });
  });
  OnChosenSet(set, cli, [a] {
    const std::uint32_t p = PolicyArg(a->policy);
    const std::string preferred =
        mgmt::FormatId(PathArg(a->preferred.empty() ? std::string("0") : a->preferred));
    if (a->vendor.empty() && a->product.empty()) {
      return json{{"method", "MSDSM_DEFAULT_LOAD_BALANCE_POLICY"},
                  {"Set", {{"LoadBalancePolicy", p}, {"PreferredPath", preferred}}}};
    }
    const json entry = {{"HardwareId", HardwareId(a->vendor, a->product)},
                        {"LoadBalancePolicy", p},
                        {"PreferredPath", preferred}};
    return json{{"method", "MSDSM_TARGETS_DEFAULT_LOAD_BALANCE_POLICY"},
                {"Set", {{"NumberDevices", 1}, {"TargetDefaultPolicyInfo", json::array({entry})}}}};
  });
}

}  // namespace openmpio::mpioctl

#include "runtime/from_config.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <climits>
#include <set>

#include "common/fnv1a.h"

namespace openmpio::runtime {

using config::SimConfig;
using config::SimLuConfig;
using config::SimProvisioning;
using config::TimersConfig;

array::ArrayConfig ToArrayConfig(const SimConfig& sim) {
  array::ArrayConfig a;
  a.target_name = sim.target_name;
  a.vendor = sim.vendor;
  a.product = sim.product;
  a.tpgs = sim.tpgs;
  a.implicit_transition_time = std::chrono::seconds(sim.implicit_transition_time);
  a.seed = sim.seed;
  for (const auto& p : sim.ports) a.ports.push_back({p.relative_target_port, p.target_port_group});
  for (const auto& lu : sim.lus) a.lus.push_back(ToArrayLu(sim, lu));
  return a;
}

array::LuConfig ToArrayLu(const SimConfig& sim, const SimLuConfig& lu) {
  std::set<std::uint16_t> groups;
  for (const auto& p : sim.ports) groups.insert(p.target_port_group);
  array::LuConfig l;
  l.lun = lu.lun;
  l.block_size = lu.block_size;
  l.blocks = lu.size_bytes / lu.block_size;
  l.thin = lu.provisioning == SimProvisioning::kThin;
  l.preferred_group = lu.preferred_group;
  if (sim.tpgs != scsi::Tpgs::kNone) {
    for (const auto g : groups) {
      array::GroupStateConfig s;
      s.target_port_group = g;
      s.state = lu.owner_group && *lu.owner_group == g
                    ? scsi::AsymmetricAccessState::kActiveOptimized
                    : scsi::AsymmetricAccessState::kActiveNonOptimized;
      for (const auto& explicit_state : lu.states) {
        if (explicit_state.target_port_group == g) s.state = explicit_state.state;
      }
      l.initial_states.push_back(s);
    }
  }
  return l;
}

std::vector<std::pair<std::uint16_t, transport::sim::LinkModel>> ToLinkModels(
    const SimConfig& sim) {
  std::vector<std::pair<std::uint16_t, transport::sim::LinkModel>> out;
  for (const auto& p : sim.ports) {
    transport::sim::LinkModel m;
    m.latency = std::chrono::microseconds(p.latency_us);
    m.bandwidth_bytes_per_second = p.bandwidth_bytes_per_second;
    m.service_time = std::chrono::microseconds(p.service_time_us);
    out.emplace_back(p.relative_target_port, m);
  }
  return out;
}

dsm::MpioTimers ToMpioTimers(const TimersConfig& timers) {
  dsm::MpioTimers m;
  m.path_verify_enabled = timers.path_verify_enabled ? 1U : 0U;
  m.path_verification_period = timers.path_verification_period;
  m.pdo_remove_period = timers.pdo_remove_period;
  m.retry_count = timers.retry_count;
  m.retry_interval = timers.retry_interval;
  return m;
}

}  // namespace openmpio::runtime

namespace openmpio::runtime {

std::string DefaultInitiatorName() {
  char host[HOST_NAME_MAX + 1] = {};
  std::string name = "iqn.2024-01.org.openmpio:";
  if (gethostname(host, sizeof host - 1) != 0 || host[0] == '\0') return name + "localhost";
  for (const char* c = host; *c != '\0'; ++c) {
    const auto u = static_cast<unsigned char>(*c);
    name +=
        std::isalnum(u) != 0 || *c == '.' || *c == '-' ? static_cast<char>(std::tolower(u)) : '-';
  }
  return name;
}

std::uint64_t PathIsid(const std::string& initiator, const std::string& target,
                       const std::string& portal) {
  Fnv1a64 h;
  h.Str(initiator);
  h.Str(target);
  h.Str(portal);
  constexpr std::uint64_t kRandomFormat = 0x80'0000'0000'00ULL;  // T = 10b, A = 0
  return kRandomFormat | (h.value() & 0xFF'FFFF'FFFFULL);        // B, C and D
}

namespace {

iscsi_header_digest ToHeaderDigest(config::HeaderDigest d) {
  switch (d) {
    case config::HeaderDigest::kNone:
      return ISCSI_HEADER_DIGEST_NONE;
    case config::HeaderDigest::kCrc32c:
      return ISCSI_HEADER_DIGEST_CRC32C;
    case config::HeaderDigest::kPreferCrc32c:
      return ISCSI_HEADER_DIGEST_CRC32C_NONE;
  }
  return ISCSI_HEADER_DIGEST_NONE;
}

std::string InitiatorOf(const config::IscsiTargetConfig& t) {
  return t.initiator_name.empty() ? DefaultInitiatorName() : t.initiator_name;
}

}  // namespace

DiscoveredPortals DiscoverPortals(const config::Config& config,
                                  std::vector<std::string>* problems) {
  DiscoveredPortals found;
  for (const config::IscsiTargetConfig& t : config.targets) {
    if (!t.sendtargets) continue;
    for (const std::string& portal : t.portals) {
      transport::iscsi::SendTargetsRequest r;
      r.portal = portal;
      r.initiator_name = InitiatorOf(t);
      r.deadline = std::chrono::seconds(t.login_timeout);
      r.chap_username = t.chap_username;
      r.chap_secret = t.chap_secret;
      auto targets = transport::iscsi::SendTargets(r);
      if (!targets) {
        problems->push_back(t.name + ": " + targets.error().ToString());
        continue;
      }
      const auto it = std::find_if(targets->begin(), targets->end(),
                                   [&t](const auto& d) { return d.name == t.name; });
      if (it == targets->end() || it->portals.empty()) {
        problems->push_back(t.name + ": SendTargets at " + portal + " does not report it");
        continue;
      }
      found[t.name] = it->portals;
      break;
    }
  }
  return found;
}

std::vector<IscsiPath> ToIscsiPaths(const config::Config& config, Duration command_timeout,
                                    const DiscoveredPortals& discovered) {
  std::vector<IscsiPath> paths;
  for (const config::IscsiTargetConfig& t : config.targets) {
    const std::string initiator = InitiatorOf(t);
    std::vector<transport::iscsi::TargetPortal> portals;
    if (t.sendtargets) {
      if (const auto it = discovered.find(t.name); it != discovered.end()) portals = it->second;
    } else {
      for (const std::string& portal : t.portals) portals.push_back({portal, 0});
    }
    for (const auto& [portal, tag] : portals) {
      IscsiPath p;
      p.address.initiator_name = initiator;
      p.address.isid = PathIsid(initiator, t.name, portal);
      p.address.target_name = t.name;
      p.address.portal_group_tag = tag;
      p.address.portal = portal;
      p.options.connect_timeout = std::chrono::seconds(t.login_timeout);
      p.options.command_timeout = command_timeout;
      if (t.command_timeout != 0) {
        p.use.command_timeout = std::chrono::seconds(t.command_timeout);
        p.options.command_timeout = *p.use.command_timeout;
      }
      p.options.nop_interval = std::chrono::seconds(t.nop_interval);
      p.options.nop_missed_limit = t.nop_missed;
      p.options.header_digest = ToHeaderDigest(t.header_digest);
      p.options.chap_username = t.chap_username;
      p.options.chap_secret = t.chap_secret;
      p.options.target_chap_username = t.target_chap_username;
      p.options.target_chap_secret = t.target_chap_secret;
      p.use.luns = t.luns;
      p.use.alua = t.alua == config::AluaMode::kForce ? engine::NexusOptions::Alua::kForce
                   : t.alua == config::AluaMode::kOff ? engine::NexusOptions::Alua::kOff
                                                      : engine::NexusOptions::Alua::kAsReported;
      paths.push_back(std::move(p));
    }
  }
  return paths;
}

}  // namespace openmpio::runtime

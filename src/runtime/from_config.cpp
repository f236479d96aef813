#include "runtime/from_config.h"

#include <chrono>
#include <set>

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

// The runtime's conversions of the configuration (runtime/from_config.h):
// the demo's [sim] is array::DemoArrayConfig's shape, owner groups and
// explicit states become initial ALUA states, ports become link models.
#include <gtest/gtest.h>

#include "array/array.h"
#include "config/config.h"
#include "runtime/from_config.h"

namespace openmpio::runtime {
namespace {

using config::Config;
using config::DemoConfig;
using config::SimConfig;
using config::SimLuConfig;
using config::SimProvisioning;
using config::TimersConfig;

TEST(ConfigDemo, DemoConfigIsTheArrayDemoShape) {
  const Config c = DemoConfig();
  ASSERT_TRUE(c.sim.has_value());
  EXPECT_EQ(c.timers, TimersConfig{});  // MSDSM's defaults
  const array::ArrayConfig a = ToArrayConfig(*c.sim);
  const array::ArrayConfig want = array::DemoArrayConfig();
  EXPECT_EQ(a.target_name, want.target_name);
  EXPECT_EQ(a.tpgs, want.tpgs);
  ASSERT_EQ(a.ports.size(), want.ports.size());
  for (std::size_t i = 0; i < a.ports.size(); ++i) {
    EXPECT_EQ(a.ports[i].relative_target_port, want.ports[i].relative_target_port);
    EXPECT_EQ(a.ports[i].target_port_group, want.ports[i].target_port_group);
  }
  ASSERT_EQ(a.lus.size(), want.lus.size());
  for (std::size_t i = 0; i < a.lus.size(); ++i) {
    EXPECT_EQ(a.lus[i].lun, want.lus[i].lun);
    EXPECT_EQ(a.lus[i].blocks, want.lus[i].blocks);
    EXPECT_EQ(a.lus[i].block_size, want.lus[i].block_size);
    ASSERT_EQ(a.lus[i].initial_states.size(), want.lus[i].initial_states.size());
    for (std::size_t j = 0; j < a.lus[i].initial_states.size(); ++j) {
      EXPECT_EQ(a.lus[i].initial_states[j].target_port_group,
                want.lus[i].initial_states[j].target_port_group);
      EXPECT_EQ(a.lus[i].initial_states[j].state, want.lus[i].initial_states[j].state);
    }
  }
  // The array accepts it.
  auto array = array::Array::Create(a);
  EXPECT_TRUE(array.has_value()) << array.error().message();
}

TEST(ConfigConvert, OwnerGroupAndExplicitStates) {
  SimConfig s;
  s.tpgs = scsi::Tpgs::kImplicit;
  s.implicit_transition_time = 5;
  s.ports = {{1, 1, 250, 1000, 10}, {2, 2, 0, 0, 0}, {3, 3, 0, 0, 0}};
  SimLuConfig lu;
  lu.lun = 7;
  lu.size_bytes = 4096 * 10;
  lu.block_size = 4096;
  lu.owner_group = 2;
  lu.states = {{3, scsi::AsymmetricAccessState::kStandby}};
  s.lus = {lu};
  const array::ArrayConfig a = ToArrayConfig(s);
  EXPECT_EQ(a.implicit_transition_time, std::chrono::seconds(5));
  ASSERT_EQ(a.lus.size(), 1U);
  EXPECT_EQ(a.lus[0].blocks, 10U);
  EXPECT_TRUE(a.lus[0].thin);  // provisioning absent: thin
  ASSERT_EQ(a.lus[0].initial_states.size(), 3U);
  EXPECT_EQ(a.lus[0].initial_states[0].state, scsi::AsymmetricAccessState::kActiveNonOptimized);
  EXPECT_EQ(a.lus[0].initial_states[1].state, scsi::AsymmetricAccessState::kActiveOptimized);
  EXPECT_EQ(a.lus[0].initial_states[2].state, scsi::AsymmetricAccessState::kStandby);
  s.lus[0].provisioning = SimProvisioning::kThick;
  EXPECT_FALSE(ToArrayConfig(s).lus[0].thin);
  const auto links = ToLinkModels(s);
  ASSERT_EQ(links.size(), 3U);
  EXPECT_EQ(links[0].first, 1);
  EXPECT_EQ(links[0].second.latency, std::chrono::microseconds(250));
  EXPECT_EQ(links[0].second.bandwidth_bytes_per_second, 1000U);
  EXPECT_EQ(links[0].second.service_time, std::chrono::microseconds(10));
  TimersConfig t;
  t.path_verify_enabled = true;
  t.retry_count = 9;
  const dsm::MpioTimers m = ToMpioTimers(t);
  EXPECT_EQ(m.path_verify_enabled, 1U);
  EXPECT_EQ(m.retry_count, 9U);
  EXPECT_EQ(m.pdo_remove_period, 20U);
}

}  // namespace
}  // namespace openmpio::runtime

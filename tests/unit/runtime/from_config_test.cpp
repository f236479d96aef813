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

// A path's ISID: RFC 7143 10.12.5's random format (T = 10b, A = 0), the
// same at every start, different for every portal of a target.
TEST(IscsiPaths, IsidIsRandomFormatStableAndPerPortal) {
  const std::uint64_t a = PathIsid("iqn.i", "iqn.t", "10.0.0.1:3260");
  EXPECT_EQ(a >> 40, 0x80U);  // byte A: T = 10b, the rest 0
  EXPECT_LT(a, std::uint64_t{1} << 48);
  EXPECT_EQ(a, PathIsid("iqn.i", "iqn.t", "10.0.0.1:3260"));
  EXPECT_NE(a, PathIsid("iqn.i", "iqn.t", "10.0.0.2:3260"));
  EXPECT_NE(a, PathIsid("iqn.j", "iqn.t", "10.0.0.1:3260"));
  EXPECT_EQ(DefaultInitiatorName().rfind("iqn.2024-01.org.openmpio:", 0), 0U);
}

// Every portal a path, each with the target's settings; with sendtargets the
// portals (and their tags) come from discovery, none when it found nothing.
TEST(IscsiPaths, EveryPortalIsAPathWithItsTargetsSettings) {
  Config c;
  config::IscsiTargetConfig t;
  t.name = "iqn.t";
  t.portals = {"10.0.0.1:3260", "10.0.0.2:3260"};
  t.initiator_name = "iqn.i";
  t.luns = {3};
  t.login_timeout = 7;
  t.command_timeout = 4;
  t.nop_interval = 2;
  t.nop_missed = 5;
  t.alua = config::AluaMode::kForce;
  t.header_digest = config::HeaderDigest::kCrc32c;
  t.chap_username = "u";
  t.chap_secret = "s";
  c.targets.push_back(t);
  t.name = "iqn.found";
  t.sendtargets = true;
  t.command_timeout = 0;
  c.targets.push_back(t);

  auto paths = ToIscsiPaths(c, std::chrono::seconds(30));
  ASSERT_EQ(paths.size(), 2U);  // iqn.found: not discovered, no path
  const IscsiPath& p = paths[1];
  EXPECT_EQ(p.address.portal, "10.0.0.2:3260");
  EXPECT_EQ(p.address.initiator_name, "iqn.i");
  EXPECT_EQ(p.address.isid, PathIsid("iqn.i", "iqn.t", "10.0.0.2:3260"));
  EXPECT_EQ(p.address.portal_group_tag, 0U);
  EXPECT_EQ(p.options.connect_timeout, std::chrono::seconds(7));
  EXPECT_EQ(p.options.command_timeout, std::chrono::seconds(4));
  EXPECT_EQ(p.use.command_timeout, std::optional<Duration>(std::chrono::seconds(4)));
  EXPECT_EQ(p.options.nop_interval, std::chrono::seconds(2));
  EXPECT_EQ(p.options.nop_missed_limit, 5U);
  EXPECT_EQ(p.options.header_digest, ISCSI_HEADER_DIGEST_CRC32C);
  EXPECT_EQ(p.options.chap_username, "u");
  EXPECT_EQ(p.use.luns, std::vector<std::uint64_t>{3});
  EXPECT_EQ(p.use.alua, engine::NexusOptions::Alua::kForce);

  DiscoveredPortals found;
  found["iqn.found"] = {{"10.0.1.1:3260", 1}, {"10.0.1.2:3260", 2}};
  paths = ToIscsiPaths(c, std::chrono::seconds(30), found);
  ASSERT_EQ(paths.size(), 4U);
  EXPECT_EQ(paths[3].address.target_name, "iqn.found");
  EXPECT_EQ(paths[3].address.portal, "10.0.1.2:3260");
  EXPECT_EQ(paths[3].address.portal_group_tag, 2U);
  EXPECT_EQ(paths[3].options.command_timeout, std::chrono::seconds(30));  // [timers]'
  EXPECT_FALSE(paths[3].use.command_timeout.has_value());
}

}  // namespace
}  // namespace openmpio::runtime

// FormatConfig -> ParseConfig gives back an equal Config, over random valid
// configurations (rapidcheck); the demo and the shipped examples parse; the
// conversions to the array's structs; ParseConfig never crashes on
// arbitrary text.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <set>
#include <string>

#include "config/config.h"
#include "dsm/lb_defaults.h"
#include "dsm/settings.h"

namespace openmpio::config {
namespace {

using dsm::LoadBalancePolicy;

std::string ExampleDir() {
  return std::string(OPENMPIO_TEST_DATA_DIR) + "/../../examples/";
}

// Printable ASCII and the escapes TOML needs (quote, backslash, tab, newline).
std::string GenText(std::size_t min_len, std::size_t max_len) {
  const auto len = *rc::gen::inRange(min_len, max_len + 1);
  std::string s;
  for (std::size_t i = 0; i < len; ++i) {
    s.push_back(*rc::gen::element<char>('a', 'Z', '0', ' ', '"', '\\', '\t', '\n', '.', ':', '#',
                                        '=', '[', '\x01', '\x7f'));
  }
  return s;
}

std::string GenAscii(std::size_t min_len, std::size_t max_len) {
  const auto len = *rc::gen::inRange(min_len, max_len + 1);
  std::string s;
  for (std::size_t i = 0; i < len; ++i) {
    s.push_back(static_cast<char>(*rc::gen::inRange(0x20, 0x7f)));
  }
  return s;
}

LoadBalancePolicy GenPolicy(bool strict) {
  return static_cast<LoadBalancePolicy>(*rc::gen::inRange<std::uint32_t>(1, strict ? 7 : 8));
}

std::optional<dsm::DsmPathId> GenOptId() {
  if (*rc::gen::arbitrary<bool>()) return std::nullopt;
  return *rc::gen::suchThat(rc::gen::arbitrary<std::uint64_t>(),
                            [](std::uint64_t v) { return v != 0; });
}

std::uint32_t GenU32(std::uint32_t min = 0, std::uint32_t max = 0xFFFFFFFFU) {
  return *rc::gen::inRange<std::uint64_t>(min, std::uint64_t{max} + 1) & 0xFFFFFFFFU;
}

// Anywhere in the setting's range (dsm/settings.h), bounds included.
std::uint32_t GenSetting(dsm::Setting s) {
  const dsm::SettingRange& r = dsm::RangeOf(s);
  return GenU32(r.min, r.max);
}

Config GenConfig() {
  Config c;
  c.management.enabled = *rc::gen::arbitrary<bool>();
  if (*rc::gen::arbitrary<bool>()) c.management.socket = "/" + GenText(1, 40);
  c.defaults.strict_msdsm = *rc::gen::arbitrary<bool>();
  const bool strict = c.defaults.strict_msdsm;
  if (*rc::gen::arbitrary<bool>()) c.defaults.load_balance_policy = GenPolicy(strict);
  c.defaults.preferred_path = GenOptId();
  TimersConfig& t = c.timers;
  t.path_verify_enabled = *rc::gen::arbitrary<bool>();
  t.path_verification_period = GenSetting(dsm::Setting::kPathVerificationPeriod);
  t.pdo_remove_period = GenSetting(dsm::Setting::kPdoRemovePeriod);
  t.retry_count = GenSetting(dsm::Setting::kRetryCount);
  t.retry_interval = GenSetting(dsm::Setting::kRetryInterval);
  t.use_custom_path_recovery_interval = *rc::gen::arbitrary<bool>();
  t.path_recovery_interval = GenSetting(dsm::Setting::kPathRecoveryInterval);
  t.command_timeout = GenSetting(dsm::Setting::kCommandTimeout);
  t.marginal_path_window = GenSetting(dsm::Setting::kMarginalPathWindow);
  t.marginal_path_failures = GenSetting(dsm::Setting::kMarginalPathFailures);
  t.marginal_path_hold = GenSetting(dsm::Setting::kMarginalPathHold);
  t.hedge_floor_ms = GenSetting(dsm::Setting::kHedgeFloorMs);
  t.hedge_multiplier = GenSetting(dsm::Setting::kHedgeMultiplier);

  std::set<std::string> hwids;
  for (int i = *rc::gen::inRange(0, 3); i > 0; --i) {
    TargetDefaultConfig d{GenAscii(1, kMaxVendorChars), GenAscii(1, kMaxProductChars),
                          GenPolicy(strict), GenOptId()};
    if (hwids.insert(HardwareId(d)).second) c.target_defaults.push_back(d);
  }
  for (int i = *rc::gen::inRange(0, 3); i > 0; --i) {
    c.claim.push_back({GenAscii(1, 8), GenAscii(1, 16)});
  }
  for (int i = *rc::gen::inRange(0, 2); i > 0; --i) {
    MergeRule m{GenText(1, 30), {"iqn.a", "iqn.b." + GenText(0, 10)}};
    c.merge.push_back(m);
  }
  std::set<std::string> aliases;
  std::set<std::string> designators;
  for (int i = *rc::gen::inRange(0, 4); i > 0; --i) {
    DiskConfig d;
    if (*rc::gen::arbitrary<bool>()) d.designator = "naa." + GenAscii(1, 32);
    d.alias = "disk" + std::to_string(i);
    if (!designators.insert(d.designator).second) d.designator.clear();
    if (*rc::gen::arbitrary<bool>()) d.policy = GenPolicy(strict);
    d.preferred_path = GenOptId();
    for (int j = *rc::gen::inRange(0, 4); j > 0; --j) {
      PathSetting s;
      if (*rc::gen::arbitrary<bool>()) s.weight = GenU32();
      if (*rc::gen::arbitrary<bool>()) {
        s.requested_state = static_cast<dsm::PathState>(*rc::gen::inRange(0, 4));
      }
      const auto id = GenOptId();
      if (id) d.paths[*id] = s;
    }
    aliases.insert(d.alias);
    c.disks.push_back(d);
  }
  // Targets, the embedded array, or both.
  const int arrays = *rc::gen::inRange(0, 3);
  if (arrays != 1) {
    for (int i = *rc::gen::inRange(1, 3); i > 0; --i) {
      IscsiTargetConfig tg;
      tg.name = "iqn.2024-01.test:t" + std::to_string(i);
      const int portals = *rc::gen::inRange(1, 4);
      for (int j = 0; j < portals; ++j)
        tg.portals.push_back("10.0.0." + std::to_string(j) + ":3260");
      if (*rc::gen::arbitrary<bool>()) tg.initiator_name = "iqn.2024-01.test:init";
      std::set<std::uint64_t> luns;
      for (int j = *rc::gen::inRange(0, 4); j > 0; --j) {
        const auto lun = *rc::gen::inRange<std::uint64_t>(0, 16384);
        if (luns.insert(lun).second) tg.luns.push_back(lun);
      }
      tg.login_timeout = GenU32(1, dsm::kMaxSettingSeconds);
      tg.nop_interval = GenU32(0, dsm::kMaxSettingSeconds);
      tg.nop_missed = GenU32(1, 100);
      tg.header_digest = static_cast<HeaderDigest>(*rc::gen::inRange(0, 3));
      tg.alua = static_cast<AluaMode>(*rc::gen::inRange(0, 3));
      tg.sendtargets = *rc::gen::arbitrary<bool>();
      if (*rc::gen::arbitrary<bool>()) tg.command_timeout = GenU32(1, dsm::kMaxSettingSeconds);
      if (*rc::gen::arbitrary<bool>()) {
        tg.chap_username = "u" + GenAscii(1, 20);
        tg.chap_secret = GenAscii(1, 40);
        if (*rc::gen::arbitrary<bool>()) {
          tg.target_chap_username = "t" + GenAscii(1, 20);
          tg.target_chap_secret = GenAscii(1, 40);
        }
      }
      c.targets.push_back(tg);
    }
  }
  if (arrays != 0) {
    SimConfig s;
    s.target_name = "iqn.x:" + GenAscii(1, 20);
    s.vendor = GenAscii(1, 8);
    s.product = GenAscii(1, 16);
    s.tpgs = static_cast<scsi::Tpgs>(*rc::gen::inRange(0, 4));
    s.implicit_transition_time = GenU32(0, 255);
    s.seed = *rc::gen::inRange<std::uint64_t>(0, std::uint64_t{1} << 62);
    std::set<std::uint16_t> groups;
    const int ports = *rc::gen::inRange(1, 5);
    for (int i = 1; i <= ports; ++i) {
      SimPortConfig p;
      p.relative_target_port = static_cast<std::uint16_t>(i);
      p.target_port_group = *rc::gen::inRange<std::uint16_t>(1, 20);
      p.latency_us = *rc::gen::inRange<std::uint64_t>(0, 1000000);
      p.bandwidth_bytes_per_second = *rc::gen::inRange<std::uint64_t>(0, 1ULL << 40);
      p.service_time_us = *rc::gen::inRange<std::uint64_t>(0, 1000);
      groups.insert(p.target_port_group);
      s.ports.push_back(p);
    }
    const int lus = *rc::gen::inRange(1, 4);
    for (int i = 0; i < lus; ++i) {
      SimLuConfig lu;
      lu.lun = static_cast<std::uint64_t>(i);
      lu.block_size = *rc::gen::element<std::uint32_t>(512, 1024, 2048, 4096);
      lu.size_bytes = lu.block_size * *rc::gen::inRange<std::uint64_t>(1, 1ULL << 30);
      lu.provisioning = *rc::gen::element(SimProvisioning::kThin, SimProvisioning::kThick);
      if (s.tpgs != scsi::Tpgs::kNone) {
        // Either an owner, or every group named (sorted by number, as parsed).
        if (*rc::gen::arbitrary<bool>()) {
          lu.owner_group =
              *rc::gen::elementOf(std::vector<std::uint16_t>(groups.begin(), groups.end()));
        } else {
          for (const auto g : groups) {
            lu.states.push_back(
                {g, *rc::gen::element(scsi::AsymmetricAccessState::kActiveOptimized,
                                      scsi::AsymmetricAccessState::kActiveNonOptimized,
                                      scsi::AsymmetricAccessState::kStandby,
                                      scsi::AsymmetricAccessState::kUnavailable,
                                      scsi::AsymmetricAccessState::kOffline)});
          }
        }
        if (*rc::gen::arbitrary<bool>()) {
          lu.preferred_group =
              *rc::gen::elementOf(std::vector<std::uint16_t>(groups.begin(), groups.end()));
        }
      }
      s.lus.push_back(lu);
    }
    c.sim = s;
  }
  return c;
}

RC_GTEST_PROP(ConfigRoundTrip, FormatThenParseIsIdentity, ()) {
  const Config c = GenConfig();
  const std::string text = FormatConfig(c);
  auto back = ParseConfig(text, "gen.toml");
  RC_ASSERT(back.has_value());
  RC_ASSERT(*back == c);
  // And formatting is stable.
  RC_ASSERT(FormatConfig(*back) == text);
}

// Issue 13 item 2: whatever the management set of MPIO_TIMERS_COUNTERS
// accepts is saved and loads again as the same values, and what it refuses
// the file refuses too (one range table, dsm/settings.h). Values are drawn
// near the bounds and anywhere in 32 bits.
std::uint32_t GenTimerValue() {
  return *rc::gen::oneOf(
      rc::gen::inRange<std::uint32_t>(0, 3), rc::gen::inRange<std::uint32_t>(498, 503),
      rc::gen::inRange<std::uint32_t>(604798, 604803), rc::gen::arbitrary<std::uint32_t>());
}

RC_GTEST_PROP(ConfigRoundTrip, WhatManagementAcceptsSavesAndLoadsAgain, ()) {
  const dsm::MpioTimers t{GenTimerValue(), GenTimerValue(), GenTimerValue(), GenTimerValue(),
                          GenTimerValue()};
  dsm::PolicyDefaults defaults;
  const bool accepted = defaults.SetTimers(t).ok();
  // As the backend saves the running settings (mgmt_backend RunningConfig);
  // PathVerifyEnabled is a boolean in the file, written from 0 / non-zero.
  const std::string text =
      "[timers]\nPathVerifyEnabled = " + std::to_string(t.path_verify_enabled) +
      "\nPathVerificationPeriod = " + std::to_string(t.path_verification_period) +
      "\nPDORemovePeriod = " + std::to_string(t.pdo_remove_period) +
      "\nRetryCount = " + std::to_string(t.retry_count) +
      "\nRetryInterval = " + std::to_string(t.retry_interval) +
      "\n[sim]\n[[sim.port]]\nrelative_target_port = 1\n[[sim.lu]]\nlun = 0\nsize = "
      "1048576\nowner_group = 1\n";
  auto parsed = ParseConfig(text, "t.toml");
  RC_ASSERT(parsed.has_value() == accepted);
  if (!accepted) return;
  Config c = *parsed;
  auto back = ParseConfig(FormatConfig(c), "saved.toml");
  RC_ASSERT(back.has_value());
  RC_ASSERT(back->timers.path_verify_enabled == (t.path_verify_enabled != 0));
  RC_ASSERT(back->timers.path_verification_period == t.path_verification_period);
  RC_ASSERT(back->timers.pdo_remove_period == t.pdo_remove_period);
  RC_ASSERT(back->timers.retry_count == t.retry_count);
  RC_ASSERT(back->timers.retry_interval == t.retry_interval);
}

RC_GTEST_PROP(ConfigRoundTrip, NeverCrashesOnArbitraryText, (const std::string& junk)) {
  auto r = ParseConfig(junk, "junk.toml");
  if (!r.has_value()) RC_ASSERT(r.error().Is(NtStatus::kInvalidParameter));
}

RC_GTEST_PROP(ConfigRoundTrip, NeverCrashesOnMutatedValidText, ()) {
  std::string text = FormatConfig(GenConfig());
  const auto edits = *rc::gen::inRange(1, 6);
  for (int i = 0; i < edits && !text.empty(); ++i) {
    const auto at = *rc::gen::inRange<std::size_t>(0, text.size());
    text[at] = *rc::gen::element<char>('"', '=', '[', ']', '\n', '0', 'x', '-', '9', ' ');
  }
  auto r = ParseConfig(text, "mutated.toml");
  if (!r.has_value()) {
    RC_ASSERT(r.error().Is(NtStatus::kInvalidParameter));
    RC_ASSERT(r.error().message().rfind("mutated.toml:", 0) == 0U);
  }
}

TEST(ConfigExamples, DemoTomlIsDemoConfig) {
  auto c = LoadConfig(ExampleDir() + "demo.toml");
  ASSERT_TRUE(c.has_value()) << c.error().message();
  EXPECT_EQ(*c, DemoConfig());
}

TEST(ConfigExamples, IstgtTomlParses) {
  auto c = LoadConfig(ExampleDir() + "iscsi-istgt.toml");
  ASSERT_TRUE(c.has_value()) << c.error().message();
  ASSERT_EQ(c->targets.size(), 1U);
  EXPECT_EQ(c->targets[0].name, "iqn.2024-01.test:disk1");  // LAB.md
  EXPECT_EQ(c->targets[0].portals, (std::vector<std::string>{"127.0.0.1:3262"}));
  EXPECT_TRUE(c->targets[0].sendtargets);  // the other portal group comes from SendTargets
  EXPECT_EQ(c->targets[0].alua, AluaMode::kForce);
  EXPECT_EQ(c->defaults.load_balance_policy, LoadBalancePolicy::kRoundRobinWithSubset);
  EXPECT_TRUE(IsClaimed(*c, "FreeBSD ", "iSCSI DISK      "));  // istgt's INQUIRY
  EXPECT_FALSE(c->sim.has_value());
}

TEST(ConfigExamples, MissingFileNamesThePath) {
  auto c = LoadConfig("/nonexistent/openmpio.toml");
  ASSERT_FALSE(c.has_value());
  EXPECT_EQ(c.error().message(),
            "/nonexistent/openmpio.toml: cannot open: No such file or directory");
}

// Issue 13 item 8: a directory opens as an empty file; it is named as what it is.
TEST(ConfigExamples, ADirectoryIsRefusedAsOne) {
  auto c = LoadConfig(ExampleDir());
  ASSERT_FALSE(c.has_value());
  EXPECT_NE(c.error().message().find("is a directory, not a configuration file"), std::string::npos)
      << c.error().message();
  EXPECT_EQ(c.error().nt(), NtStatus::kInvalidParameter);
}

}  // namespace
}  // namespace openmpio::config

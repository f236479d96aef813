// ParseConfig: the defaults of spec/msdsm.md §5 when a section is absent,
// every accepted form, and every kind of mistake with its exact message
// ("FILE:LINE:COL: dotted.key: what").
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "config/config.h"
#include "dsm/lb_defaults.h"
#include "dsm/policy.h"

namespace openmpio::config {
namespace {

using dsm::LoadBalancePolicy;

// The smallest valid file: the sim with one port and one LU.
constexpr const char* kSim = R"(
[sim]
[[sim.port]]
relative_target_port = 1
[[sim.lu]]
lun = 0
size = 1048576
owner_group = 1
)";

std::string ErrorOf(const std::string& text, const char* name = "t.toml") {
  auto r = ParseConfig(text, name);
  if (r.has_value()) return "<parsed>";
  EXPECT_TRUE(r.error().Is(NtStatus::kInvalidParameter));
  return r.error().message();
}

TEST(ConfigDefaults, AbsentSectionsGiveMsdsmDefaults) {
  auto c = ParseConfig(kSim, "t.toml");
  ASSERT_TRUE(c.has_value()) << c.error().message();
  // spec/msdsm.md §5 table, seconds.
  EXPECT_FALSE(c->timers.path_verify_enabled);
  EXPECT_EQ(c->timers.path_verification_period, 30U);
  EXPECT_EQ(c->timers.pdo_remove_period, 20U);
  EXPECT_EQ(c->timers.retry_count, 3U);
  EXPECT_EQ(c->timers.retry_interval, 1U);
  EXPECT_FALSE(c->timers.use_custom_path_recovery_interval);
  EXPECT_EQ(c->timers.path_recovery_interval, 40U);
  // DESIGN.md "Timers": command_timeout 30 s; marginal detection off.
  EXPECT_EQ(c->timers.command_timeout, 30U);
  EXPECT_EQ(c->timers.marginal_path_failures, 0U);
  EXPECT_EQ(c->timers.marginal_path_window, 60U);
  EXPECT_EQ(c->timers.marginal_path_hold, 300U);
  // No MSDSM-wide default stored: precedence falls to RR / RRWS (spec §3).
  EXPECT_EQ(c->defaults.load_balance_policy, LoadBalancePolicy::kNone);
  EXPECT_FALSE(c->defaults.preferred_path.has_value());
  EXPECT_FALSE(c->defaults.strict_msdsm);
  EXPECT_TRUE(c->management.enabled);
  EXPECT_EQ(c->management.socket, "");
  EXPECT_TRUE(c->claim.empty());
  EXPECT_TRUE(c->targets.empty());
  ASSERT_TRUE(c->sim.has_value());
  EXPECT_EQ(c->sim->tpgs, scsi::Tpgs::kBoth);
  EXPECT_EQ(c->sim->implicit_transition_time, 2U);
  ASSERT_EQ(c->sim->lus.size(), 1U);
  EXPECT_EQ(c->sim->lus[0].size_bytes, 1048576U);
  EXPECT_EQ(c->sim->lus[0].block_size, 512U);
  // The MpioTimers of dsm/ have the same defaults.
  const dsm::MpioTimers m;
  EXPECT_EQ(m.path_verification_period, c->timers.path_verification_period);
  EXPECT_EQ(m.pdo_remove_period, c->timers.pdo_remove_period);
  EXPECT_EQ(m.retry_count, c->timers.retry_count);
  EXPECT_EQ(m.retry_interval, c->timers.retry_interval);
}

TEST(ConfigParse, TimersWithMsdsmNames) {
  auto c = ParseConfig(std::string(R"(
[timers]
PathVerifyEnabled = 1
PathVerificationPeriod = 5
PDORemovePeriod = 0
RetryCount = 500
RetryInterval = 2
UseCustomPathRecoveryInterval = true
PathRecoveryInterval = 7
command_timeout = 2
marginal_path_window = 10
marginal_path_failures = 3
marginal_path_hold = 20
)") + kSim,
                       "t.toml");
  ASSERT_TRUE(c.has_value()) << c.error().message();
  EXPECT_TRUE(c->timers.path_verify_enabled);  // 0/1 as MSDSM's registry takes it
  EXPECT_EQ(c->timers.path_verification_period, 5U);
  EXPECT_EQ(c->timers.pdo_remove_period, 0U);
  EXPECT_EQ(c->timers.retry_count, 500U);  // the maximum itself is accepted
  EXPECT_EQ(c->timers.retry_interval, 2U);
  EXPECT_TRUE(c->timers.use_custom_path_recovery_interval);
  EXPECT_EQ(c->timers.path_recovery_interval, 7U);
  EXPECT_EQ(c->timers.command_timeout, 2U);
  EXPECT_EQ(c->timers.marginal_path_window, 10U);
  EXPECT_EQ(c->timers.marginal_path_failures, 3U);
  EXPECT_EQ(c->timers.marginal_path_hold, 20U);
}

TEST(ConfigParse, PolicyNamesAndNumbersAreTheSame) {
  const std::pair<const char*, LoadBalancePolicy> cases[] = {
      {"\"foo\"", LoadBalancePolicy::kFailOverOnly},
      {"1", LoadBalancePolicy::kFailOverOnly},
      {"\"rr\"", LoadBalancePolicy::kRoundRobin},
      {"2", LoadBalancePolicy::kRoundRobin},
      {"\"rrws\"", LoadBalancePolicy::kRoundRobinWithSubset},
      {"3", LoadBalancePolicy::kRoundRobinWithSubset},
      {"\"lqd\"", LoadBalancePolicy::kLeastQueueDepth},
      {"4", LoadBalancePolicy::kLeastQueueDepth},
      {"\"wp\"", LoadBalancePolicy::kWeightedPaths},
      {"5", LoadBalancePolicy::kWeightedPaths},
      {"\"lb\"", LoadBalancePolicy::kLeastBlocks},
      {"6", LoadBalancePolicy::kLeastBlocks},
      {"\"st\"", LoadBalancePolicy::kServiceTime},
      {"7", LoadBalancePolicy::kServiceTime},
      {"\"4\"", LoadBalancePolicy::kLeastQueueDepth},
  };
  for (const auto& [text, policy] : cases) {
    auto c = ParseConfig(std::string("[defaults]\nload_balance_policy = ") + text + "\n" + kSim,
                         "t.toml");
    ASSERT_TRUE(c.has_value()) << text << ": " << c.error().message();
    EXPECT_EQ(c->defaults.load_balance_policy, policy) << text;
  }
}

TEST(ConfigParse, DisksTargetDefaultsClaimsMerges) {
  auto c = ParseConfig(std::string(R"(
[defaults]
preferred_path = "0xA"
[[target_defaults]]
vendor = "NETAPP"
product = "LUN C-Mode"
policy = "wp"
preferred_path = "0x0000000000000002"
[[claim]]
vendor = "NETAPP"
[[merge]]
designator = "naa.60014050000000000000000000000001"
targets = ["iqn.a", "iqn.b"]
[[disk]]
designator = "naa.60014050000000000000000000000001"
alias = "db-01"
policy = "foo"
preferred_path = "0x1"
[disk.paths]
"0x1" = { weight = 10, state = "ao" }
"0xFFFFFFFFFFFFFFFF" = { state = "sb" }
)") + kSim,
                       "t.toml");
  ASSERT_TRUE(c.has_value()) << c.error().message();
  EXPECT_EQ(c->defaults.preferred_path, 0xAU);
  ASSERT_EQ(c->target_defaults.size(), 1U);
  EXPECT_EQ(c->target_defaults[0].policy, LoadBalancePolicy::kWeightedPaths);
  EXPECT_EQ(c->target_defaults[0].preferred_path, 2U);
  EXPECT_EQ(HardwareId(c->target_defaults[0]), "NETAPP  LUN C-Mode      ");
  ASSERT_EQ(c->claim.size(), 1U);
  EXPECT_EQ(c->claim[0].product, "*");  // absent pattern = everything
  ASSERT_EQ(c->merge.size(), 1U);
  EXPECT_EQ(c->merge[0].targets.size(), 2U);
  ASSERT_EQ(c->disks.size(), 1U);
  const DiskConfig& d = c->disks[0];
  EXPECT_EQ(d.alias, "db-01");
  EXPECT_EQ(d.policy, LoadBalancePolicy::kFailOverOnly);
  EXPECT_EQ(d.preferred_path, 1U);
  ASSERT_EQ(d.paths.size(), 2U);
  EXPECT_EQ(d.paths.at(1).weight, 10U);
  EXPECT_EQ(d.paths.at(1).requested_state, dsm::PathState::kActiveOptimized);
  // A full u64 id, beyond what a TOML integer holds.
  EXPECT_FALSE(d.paths.at(0xFFFFFFFFFFFFFFFFULL).weight.has_value());
  EXPECT_EQ(d.paths.at(0xFFFFFFFFFFFFFFFFULL).requested_state, dsm::PathState::kStandby);
}

TEST(ConfigParse, IscsiTargets) {
  auto c = ParseConfig(R"([[target]]
name = "iqn.2024-01.test:disk1"
portals = ["127.0.0.1:3262", "127.0.0.1", "[::1]:3263"]
luns = [0, 3]
)",
                       "t.toml");
  ASSERT_TRUE(c.has_value()) << c.error().message();
  ASSERT_EQ(c->targets.size(), 1U);
  // Kept as the transport connects: host:port, 3260 when the port is omitted.
  EXPECT_EQ(c->targets[0].portals,
            (std::vector<std::string>{"127.0.0.1:3262", "127.0.0.1:3260", "[::1]:3263"}));
  EXPECT_EQ(c->targets[0].login_timeout, 15U);
  EXPECT_EQ(c->targets[0].nop_interval, 5U);
  EXPECT_EQ(c->targets[0].nop_missed, 3U);
  EXPECT_EQ(c->targets[0].luns, (std::vector<std::uint64_t>{0, 3}));
  EXPECT_FALSE(c->sim.has_value());
}

// Real storage is not hung at 20 ms: unless the file says otherwise, a
// configuration of [[target]]s hedges at 1 s; [sim] keeps 20 ms.
TEST(ConfigParse, TargetsHedgeLaterUnlessTheFileSaysOtherwise) {
  const std::string target =
      "[[target]]\nname = \"iqn.2024-01.test:d\"\nportals = [\"127.0.0.1\"]\n";
  auto c = ParseConfig(target, "t.toml");
  ASSERT_TRUE(c.has_value()) << c.error().message();
  EXPECT_EQ(c->timers.hedge_floor_ms, kTargetHedgeFloorMs);
  auto set = ParseConfig("[timers]\nhedge_floor_ms = 20\n" + target, "t.toml");
  ASSERT_TRUE(set.has_value()) << set.error().message();
  EXPECT_EQ(set->timers.hedge_floor_ms, 20U);
  auto sim = ParseConfig(kSim, "t.toml");
  ASSERT_TRUE(sim.has_value()) << sim.error().message();
  EXPECT_EQ(sim->timers.hedge_floor_ms, 20U);
}

TEST(ConfigParse, IscsiChapAndHeaderDigest) {
  const std::string head =
      "[[target]]\nname = \"iqn.2024-01.test:disk1\"\nportals = [\"127.0.0.1\"]\n";
  auto c = ParseConfig(head +
                           "chap_username = \"me\"\nchap_secret = \"abcdefghijkl\"\n"
                           "target_chap_username = \"it\"\ntarget_chap_secret = \"mnopqrstuvwx\"\n"
                           "header_digest = \"prefer-crc32c\"\n",
                       "t.toml");
  ASSERT_TRUE(c.has_value()) << c.error().message();
  EXPECT_EQ(c->targets[0].chap_username, "me");
  EXPECT_EQ(c->targets[0].target_chap_secret, "mnopqrstuvwx");
  EXPECT_EQ(c->targets[0].header_digest, HeaderDigest::kPreferCrc32c);
  EXPECT_EQ(ParseConfig(head, "t.toml")->targets[0].header_digest, HeaderDigest::kNone);

  EXPECT_EQ(
      ErrorOf(head + "chap_username = \"me\"\n"),
      "t.toml:1:1: target[0].chap_secret: missing: chap_username and chap_secret go together");
  EXPECT_EQ(ErrorOf(head + "chap_secret = \"abcdefghijkl\"\n"),
            "t.toml:1:1: target[0].chap_username: missing: chap_username and chap_secret go "
            "together");
  EXPECT_EQ(ErrorOf(head + "target_chap_username = \"it\"\ntarget_chap_secret = \"x\"\n"),
            "t.toml:1:1: target[0].chap_username: missing: mutual CHAP (target_chap_*) needs "
            "chap_username and chap_secret");
  // A secret is never quoted back, whatever is wrong with it.
  const std::string long_secret(300, 'q');
  const std::string e =
      ErrorOf(head + "chap_username = \"me\"\nchap_secret = \"" + long_secret + "\"\n");
  EXPECT_NE(e.find("target[0].chap_secret: a secret of 1..255 characters is needed"),
            std::string::npos)
      << e;
  EXPECT_EQ(e.find("qqqq"), std::string::npos) << e;
  EXPECT_EQ(ErrorOf(head + "header_digest = \"md5\"\n"),
            "t.toml:4:17: target[0].header_digest: \"md5\" is not one of none, crc32c, "
            "prefer-crc32c");
}

// libiscsi's URL forms: a portal URL in portals, a full URL standing for
// name, portal and LUN.
TEST(ConfigParse, IscsiUrls) {
  auto c = ParseConfig(R"([[target]]
url = "iscsi://127.0.0.1:3262/iqn.2024-01.test:disk1/0"
[[target]]
url = "iscsi://[::1]/iqn.2024-01.test:disk2"
[[target]]
name = "iqn.2024-01.test:disk3"
portals = ["iscsi://192.0.2.1:3261/", "iscsi://192.0.2.2"]
)",
                       "t.toml");
  ASSERT_TRUE(c.has_value()) << c.error().message();
  ASSERT_EQ(c->targets.size(), 3U);
  EXPECT_EQ(c->targets[0].name, "iqn.2024-01.test:disk1");
  EXPECT_EQ(c->targets[0].portals, (std::vector<std::string>{"127.0.0.1:3262"}));
  EXPECT_EQ(c->targets[0].luns, (std::vector<std::uint64_t>{0}));
  EXPECT_EQ(c->targets[1].portals, (std::vector<std::string>{"[::1]:3260"}));
  EXPECT_TRUE(c->targets[1].luns.empty());
  EXPECT_EQ(c->targets[2].portals, (std::vector<std::string>{"192.0.2.1:3261", "192.0.2.2:3260"}));

  const std::string head = "[[target]]\nurl = ";
  EXPECT_EQ(ErrorOf(head + "\"iscsi://127.0.0.1/iqn.a/0\"\nname = \"iqn.b\"\n"),
            "t.toml:2:7: target[0].url: url stands for name, portals and luns: drop name");
  EXPECT_EQ(ErrorOf(head + "\"iscsi://me%pw@127.0.0.1/iqn.a/0\"\n"),
            "t.toml:2:7: target[0].url: \"iscsi://me%pw@127.0.0.1/iqn.a/0\" is not "
            "iscsi://host[:port]/target[/lun]: credentials do not go in the URL (chap_username, "
            "chap_secret)");
  EXPECT_EQ(ErrorOf(head + "\"iscsi://127.0.0.1/iqn.a/16384\"\n"),
            "t.toml:2:7: target[0].url: \"iscsi://127.0.0.1/iqn.a/16384\" is not "
            "iscsi://host[:port]/target[/lun]: the LUN is not 0..16383");
  EXPECT_EQ(ErrorOf(head + "\"http://127.0.0.1/iqn.a\"\n"),
            "t.toml:2:7: target[0].url: \"http://127.0.0.1/iqn.a\" is not "
            "iscsi://host[:port]/target[/lun]: no iscsi:// scheme");
  EXPECT_FALSE(ParseConfig("[[target]]\nname = \"iqn.a\"\nportals = [\"iscsi://h/x\"]\n", "t.toml")
                   .has_value());
}

TEST(ConfigParse, IscsiLivenessSettingsAndTheirRanges) {
  const std::string head =
      "[[target]]\nname = \"iqn.2024-01.test:disk1\"\nportals = [\"127.0.0.1\"]\n";
  auto c = ParseConfig(head + "nop_interval = 0\nnop_missed = 100\n", "t.toml");
  ASSERT_TRUE(c.has_value()) << c.error().message();
  EXPECT_EQ(c->targets[0].nop_interval, 0U);  // off
  EXPECT_EQ(c->targets[0].nop_missed, 100U);
  auto zero = ParseConfig(head + "nop_missed = 0\n", "t.toml");
  ASSERT_FALSE(zero.has_value());
  EXPECT_NE(zero.error().message().find("target[0].nop_missed"), std::string::npos)
      << zero.error().message();
  EXPECT_FALSE(ParseConfig(head + "nop_missed = 101\n", "t.toml").has_value());
  EXPECT_FALSE(ParseConfig(head + "nop_interval = -1\n", "t.toml").has_value());
}

TEST(ConfigParse, SimSizesAndStates) {
  auto c = ParseConfig(R"([sim]
tpgs = "explicit"
[[sim.port]]
relative_target_port = 1
target_port_group = 10
latency_us = 100
[[sim.port]]
relative_target_port = 2
target_port_group = 2
[[sim.lu]]
lun = 5
size = "2MiB"
block_size = 4096
states = { "10" = "standby", "2" = "ao" }
preferred_group = 2
)",
                       "t.toml");
  ASSERT_TRUE(c.has_value()) << c.error().message();
  const SimLuConfig& lu = c->sim->lus[0];
  EXPECT_EQ(lu.size_bytes, 2U * 1024 * 1024);
  EXPECT_EQ(lu.block_size, 4096U);
  ASSERT_EQ(lu.states.size(), 2U);
  // Sorted by group number, not by the key text.
  EXPECT_EQ(lu.states[0].target_port_group, 2);
  EXPECT_EQ(lu.states[0].state, scsi::AsymmetricAccessState::kActiveOptimized);
  EXPECT_EQ(lu.states[1].target_port_group, 10);
  EXPECT_EQ(lu.states[1].state, scsi::AsymmetricAccessState::kStandby);
  EXPECT_EQ(c->sim->ports[0].latency_us, 100U);
}

TEST(ConfigParse, SimProvisioningThinByDefaultOrThick) {
  auto c = ParseConfig(std::string(kSim) + R"([[sim.lu]]
lun = 1
size = 1048576
owner_group = 1
provisioning = "thick"
[[sim.lu]]
lun = 2
size = 1048576
owner_group = 1
provisioning = "thin"
)",
                       "t.toml");
  ASSERT_TRUE(c.has_value()) << c.error().message();
  ASSERT_EQ(c->sim->lus.size(), 3U);
  EXPECT_EQ(c->sim->lus[0].provisioning, SimProvisioning::kThin);  // absent: thin, as before
  EXPECT_EQ(c->sim->lus[1].provisioning, SimProvisioning::kThick);
  EXPECT_EQ(c->sim->lus[2].provisioning, SimProvisioning::kThin);
}

// ---- errors: one test per kind, the exact message ----

TEST(ConfigErrors, BadProvisioning) {
  EXPECT_EQ(ErrorOf(std::string(kSim) + "provisioning = \"thik\"\n"),
            "t.toml:9:16: sim.lu[0].provisioning: \"thik\" is not thin or thick");
  EXPECT_EQ(ErrorOf(std::string(kSim) + "provisioning = true\n"),
            "t.toml:9:16: sim.lu[0].provisioning: expected a string, got a boolean");
  EXPECT_EQ(ErrorOf(std::string(kSim) + "provisionning = \"thin\"\n"),
            "t.toml:9:1: sim.lu[0].provisionning: unknown key; did you mean provisioning?");
}

TEST(ConfigErrors, RangeAbove) {
  EXPECT_EQ(ErrorOf(std::string("[timers]\nRetryCount = 900\n") + kSim, "demo.toml"),
            "demo.toml:2:14: timers.RetryCount: 900 is above the maximum 500");
}

TEST(ConfigErrors, RangeBelow) {
  EXPECT_EQ(ErrorOf(std::string("[timers]\nRetryInterval = -1\n") + kSim),
            "t.toml:2:17: timers.RetryInterval: -1 is below the minimum 1 seconds");
  EXPECT_EQ(ErrorOf(std::string("[timers]\ncommand_timeout = 0\n") + kSim),
            "t.toml:2:19: timers.command_timeout: 0 is below the minimum 1 seconds");
  // Issue 13 item 2: an interval of 0 probed and polled without pause while
  // no path was usable (the management set refuses it in the same words).
  EXPECT_EQ(ErrorOf(std::string("[timers]\nRetryInterval = 0\n") + kSim),
            "t.toml:2:17: timers.RetryInterval: 0 is below the minimum 1 seconds");
}

// Issue 13 item 3: every duration has an upper bound, a week (dsm/settings.h).
TEST(ConfigErrors, U32Overflow) {
  EXPECT_EQ(ErrorOf(std::string("[timers]\nPDORemovePeriod = 4294967296\n") + kSim),
            "t.toml:2:19: timers.PDORemovePeriod: 4294967296 is above the maximum 604800 seconds");
  EXPECT_EQ(ErrorOf(std::string("[timers]\nPDORemovePeriod = 604801\n") + kSim),
            "t.toml:2:19: timers.PDORemovePeriod: 604801 is above the maximum 604800 seconds");
  EXPECT_EQ(ErrorOf(std::string("[timers]\nmarginal_path_hold = 604801\n") + kSim),
            "t.toml:2:22: timers.marginal_path_hold: 604801 is above the maximum 604800 seconds");
  auto c = config::ParseConfig(std::string("[timers]\nPDORemovePeriod = 604800\n") + kSim, "t");
  ASSERT_TRUE(c.has_value()) << c.error().ToString();
  EXPECT_EQ(c->timers.pdo_remove_period, 604800U);
}

TEST(ConfigErrors, SimDelaysHaveAnUpperBound) {
  const std::string sim = std::string(kSim) + "[[sim.port]]\nrelative_target_port = 9\n";
  EXPECT_EQ(ErrorOf(sim + "latency_us = 9223372036854775807\n"),
            "t.toml:11:14: sim.port[1].latency_us: 9223372036854775807 is above the maximum "
            "60000000");
  EXPECT_EQ(ErrorOf(sim + "service_time_us = 60000001\n"),
            "t.toml:11:19: sim.port[1].service_time_us: 60000001 is above the maximum 60000000");
}

TEST(ConfigErrors, UnknownKeyWithSuggestion) {
  EXPECT_EQ(ErrorOf(std::string("[timers]\nRetryCont = 3\n") + kSim),
            "t.toml:2:1: timers.RetryCont: unknown key; did you mean RetryCount?");
  EXPECT_EQ(ErrorOf(std::string("[timers]\nretrycount = 3\n") + kSim),
            "t.toml:2:1: timers.retrycount: unknown key; did you mean RetryCount?");
}

TEST(ConfigErrors, UnknownKeyWithoutSuggestion) {
  EXPECT_EQ(ErrorOf(std::string("[management]\ncolour = \"red\"\n") + kSim),
            "t.toml:2:1: management.colour: unknown key (known keys: enabled socket)");
  EXPECT_EQ(ErrorOf(std::string("[timer]\n") + kSim),
            "t.toml:1:2: timer: unknown key; did you mean timers?");
}

TEST(ConfigErrors, TypeErrors) {
  EXPECT_EQ(ErrorOf(std::string("[timers]\nRetryCount = \"3\"\n") + kSim),
            "t.toml:2:14: timers.RetryCount: expected an integer, got a string");
  EXPECT_EQ(ErrorOf(std::string("[timers]\nPathVerifyEnabled = 2\n") + kSim),
            "t.toml:2:21: timers.PathVerifyEnabled: 2 is above the maximum 1");
  EXPECT_EQ(ErrorOf(std::string("[defaults]\nstrict_msdsm = 1\n") + kSim),
            "t.toml:2:16: defaults.strict_msdsm: expected a boolean, got an integer");
  EXPECT_EQ(ErrorOf(std::string("timers = 3\n") + kSim),
            "t.toml:1:10: timers: expected a table, got an integer");
  EXPECT_EQ(ErrorOf(std::string("[claim]\nvendor = \"X\"\n") + kSim),
            "t.toml:1:1: claim: expected an array of tables ([[claim]]), got a table");
}

TEST(ConfigErrors, SyntaxError) {
  const std::string m = ErrorOf("[timers\n");
  EXPECT_EQ(m.rfind("t.toml:1:", 0), 0U) << m;
}

TEST(ConfigErrors, BadPolicy) {
  EXPECT_EQ(ErrorOf(std::string("[defaults]\nload_balance_policy = \"fastest\"\n") + kSim),
            "t.toml:2:23: defaults.load_balance_policy: \"fastest\" is not a policy (foo, rr, "
            "rrws, lqd, wp, lb, st or 1-7)");
  EXPECT_EQ(ErrorOf(std::string("[defaults]\nload_balance_policy = 8\n") + kSim),
            "t.toml:2:23: defaults.load_balance_policy: 8 is above the maximum 7");
  EXPECT_EQ(ErrorOf(std::string("[defaults]\nload_balance_policy = 0\n") + kSim),
            "t.toml:2:23: defaults.load_balance_policy: 0 is below the minimum 1");
}

TEST(ConfigErrors, ServiceTimeRefusedWhenStrict) {
  EXPECT_EQ(ErrorOf(std::string("[defaults]\nstrict_msdsm = true\nload_balance_policy = \"st\"\n") +
                    kSim),
            "t.toml:3:23: defaults.load_balance_policy: policy 7 (st) is not accepted with "
            "defaults.strict_msdsm = true");
}

TEST(ConfigErrors, BadHexIds) {
  EXPECT_EQ(ErrorOf(std::string("[defaults]\npreferred_path = \"12\"\n") + kSim),
            "t.toml:2:18: defaults.preferred_path: \"12\" is not a DsmPathId (\"0x\" and 1-16 "
            "hex digits, non-zero)");
  EXPECT_EQ(ErrorOf(std::string("[defaults]\npreferred_path = \"0x0\"\n") + kSim),
            "t.toml:2:18: defaults.preferred_path: \"0x0\" is not a DsmPathId (\"0x\" and 1-16 "
            "hex digits, non-zero)");
  EXPECT_EQ(ErrorOf(std::string("[defaults]\npreferred_path = 5\n") + kSim),
            "t.toml:2:18: defaults.preferred_path: expected a DsmPathId as a hex string "
            "\"0x...\", got an integer");
  EXPECT_EQ(ErrorOf(std::string("[[disk]]\nalias = \"a\"\n[disk.paths]\n\"0x10000000000000000\" = "
                                "{ weight = 1 }\n") +
                    kSim),
            "t.toml:4:1: disk[0].paths.0x10000000000000000: \"0x10000000000000000\" is not a "
            "DsmPathId (\"0x\" and 1-16 hex digits, non-zero)");
  EXPECT_EQ(ErrorOf(std::string("[[disk]]\nalias = \"a\"\n[disk.paths]\n\"0x1\" = {}\n\"0x01\" = "
                                "{}\n") +
                    kSim),
            "t.toml:5:1: disk[0].paths.0x01: duplicate DsmPathId 0x0000000000000001");
}

TEST(ConfigErrors, DuplicateAlias) {
  EXPECT_EQ(ErrorOf(std::string("[[disk]]\nalias = \"db\"\n[[disk]]\nalias = \"db\"\n") + kSim),
            "t.toml:4:9: disk[1].alias: duplicate alias \"db\"");
  EXPECT_EQ(ErrorOf(std::string("[[disk]]\nalias = \"a b\"\n") + kSim),
            "t.toml:2:9: disk[0].alias: \"a b\" is not an alias (1-64 of A-Z a-z 0-9 . _ -)");
  EXPECT_EQ(ErrorOf(std::string("[[disk]]\npolicy = \"rr\"\n") + kSim),
            "t.toml:1:1: disk[0]: a disk needs a designator or an alias");
}

TEST(ConfigErrors, DuplicatePortal) {
  // "127.0.0.1" is 127.0.0.1:3260 (RFC 7143 13.7 well-known port).
  EXPECT_EQ(
      ErrorOf("[[target]]\nname = \"iqn.a\"\nportals = [\"127.0.0.1:3260\", \"127.0.0.1\"]\n"),
      "t.toml:3:30: target[0].portals[1]: duplicate portal \"127.0.0.1:3260\"");
  EXPECT_EQ(ErrorOf("[[target]]\nname = \"iqn.a\"\nportals = [\"::1:3260\"]\n"),
            "t.toml:3:12: target[0].portals[0]: \"::1:3260\" is not a portal (host:port, "
            "[ipv6]:port)");
  EXPECT_EQ(ErrorOf("[[target]]\nname = \"iqn.a\"\nportals = [\"h:70000\"]\n"),
            "t.toml:3:12: target[0].portals[0]: \"h:70000\" is not a portal (host:port, "
            "[ipv6]:port)");
  EXPECT_EQ(ErrorOf("[[target]]\nname = \"iqn.a\"\nportals = [\"h\"]\n[[target]]\nname = "
                    "\"iqn.a\"\nportals = [\"h\"]\n"),
            "t.toml:5:8: target[1].name: duplicate target \"iqn.a\"");
}

TEST(ConfigErrors, MissingRequired) {
  EXPECT_EQ(ErrorOf("[[target]]\nportals = [\"h\"]\n"),
            "t.toml:1:1: target[0].name: missing (required)");
  EXPECT_EQ(ErrorOf("[[target]]\nname = \"iqn.a\"\n"),
            "t.toml:1:1: target[0].portals: a target needs at least one portal");
  EXPECT_EQ(ErrorOf(std::string("[[target_defaults]]\nvendor = \"A\"\nproduct = \"B\"\n") + kSim),
            "t.toml:1:1: target_defaults[0].policy: missing (required)");
}

TEST(ConfigErrors, SimTargetOrBothButNotNeither) {
  auto both = ParseConfig(std::string("[[target]]\nname = \"iqn.a\"\nportals = [\"h\"]\n") + kSim,
                          "t.toml");
  ASSERT_TRUE(both.has_value()) << both.error().message();
  EXPECT_EQ(both->targets.size(), 1U);
  EXPECT_TRUE(both->sim.has_value());
  EXPECT_EQ(ErrorOf("[timers]\n"),
            "t.toml:1:1: neither [sim] nor [[target]]: say which array to use");
}

TEST(ConfigErrors, VendorProductLengths) {
  EXPECT_EQ(ErrorOf(std::string("[[target_defaults]]\nvendor = \"NINECHARS\"\nproduct = "
                                "\"P\"\npolicy = 1\n") +
                    kSim),
            "t.toml:2:10: target_defaults[0].vendor: \"NINECHARS\" is longer than 8 characters");
  EXPECT_EQ(ErrorOf(std::string("[[target_defaults]]\nvendor = \"V\"\nproduct = "
                                "\"SEVENTEEN CHARSXX\"\npolicy = 1\n") +
                    kSim),
            "t.toml:3:11: target_defaults[0].product: \"SEVENTEEN CHARSXX\" is longer than 16 "
            "characters");
  EXPECT_EQ(ErrorOf(std::string("[[target_defaults]]\nvendor = \"V\"\nproduct = \"P\"\npolicy = "
                                "1\n[[target_defaults]]\nvendor = \"V\"\nproduct = \"P\"\npolicy = "
                                "2\n") +
                    kSim),
            "t.toml:5:1: target_defaults[1]: duplicate entry for vendor \"V\" product \"P\"");
}

TEST(ConfigErrors, SimShape) {
  EXPECT_EQ(ErrorOf("[sim]\n[[sim.port]]\nrelative_target_port = 0\n[[sim.lu]]\nlun = 0\nsize = "
                    "512\n"),
            "t.toml:3:24: sim.port[0].relative_target_port: 0 is below the minimum 1");
  EXPECT_EQ(ErrorOf("[sim]\n[[sim.port]]\nrelative_target_port = 1\n[[sim.port]]\n"
                    "relative_target_port = 1\n[[sim.lu]]\nlun = 0\nsize = 512\nowner_group = 1\n"),
            "t.toml:5:24: sim.port[1].relative_target_port: duplicate port 1");
  EXPECT_EQ(ErrorOf("[sim]\n[[sim.port]]\nrelative_target_port = 1\n[[sim.lu]]\nlun = 0\nsize = "
                    "1000\nowner_group = 1\n"),
            "t.toml:6:8: sim.lu[0].size: 1000 bytes is not a positive multiple of the block size "
            "512");
  EXPECT_EQ(ErrorOf("[sim]\n[[sim.port]]\nrelative_target_port = 1\n[[sim.lu]]\nlun = 0\nsize = "
                    "512\nowner_group = 2\n"),
            "t.toml:7:15: sim.lu[0].owner_group: group 2 has no port in sim.port");
  EXPECT_EQ(ErrorOf("[sim]\n[[sim.port]]\nrelative_target_port = 1\n[[sim.lu]]\nlun = 0\nsize = "
                    "512\n"),
            "t.toml:4:1: sim.lu[0]: group 1 has no state: set owner_group or states");
  EXPECT_EQ(ErrorOf("[sim]\ntpgs = \"sometimes\"\n"),
            "t.toml:2:8: sim.tpgs: \"sometimes\" is not none, implicit, explicit or both");
  EXPECT_EQ(ErrorOf("[sim]\n[[sim.port]]\nrelative_target_port = 1\n[[sim.lu]]\nlun = 0\nsize = "
                    "\"1 GB\"\nowner_group = 1\n"),
            "t.toml:6:8: sim.lu[0].size: \"1 GB\" is not a size (bytes, or a number with "
            "KiB/MiB/GiB/TiB)");
  EXPECT_EQ(ErrorOf("[sim]\n[[sim.port]]\nrelative_target_port = 1\n[[sim.lu]]\nlun = 0\nsize = "
                    "512\nstates = { \"1\" = \"transitioning\" }\n"),
            "t.toml:7:18: sim.lu[0].states.1: \"transitioning\" is not an initial state (ao, an, "
            "standby, unavailable, offline)");
}

TEST(ConfigErrors, AllOrNothing) {
  // A good [timers] before a bad key: no Config at all comes back.
  auto r = ParseConfig(std::string("[timers]\nRetryCount = 7\n[defaults]\nbogus = 1\n") + kSim,
                       "t.toml");
  EXPECT_FALSE(r.has_value());
}

TEST(ConfigHelpers, PathIds) {
  EXPECT_EQ(dsm::PathIdText(0x1234), "0x0000000000001234");
  EXPECT_EQ(ParsePathId("0xDEADbeef"), 0xDEADBEEFU);
  EXPECT_EQ(ParsePathId("0xffffffffffffffff"), 0xFFFFFFFFFFFFFFFFULL);
  EXPECT_FALSE(ParsePathId("0x").has_value());
  EXPECT_FALSE(ParsePathId("0x0000").has_value());
  EXPECT_FALSE(ParsePathId("0x1g").has_value());
  EXPECT_FALSE(ParsePathId("1234").has_value());
}

TEST(ConfigHelpers, SocketPathDefaults) {
  EXPECT_EQ(DefaultSocketPath(0, "/run/user/0"), "/run/openmpio/mgmt.sock");
  EXPECT_EQ(DefaultSocketPath(1000, "/run/user/1000"), "/run/user/1000/openmpio.sock");
  EXPECT_EQ(DefaultSocketPath(1000, nullptr), "/tmp/openmpio-1000.sock");
  ManagementConfig m;
  m.socket = "/x/y.sock";
  EXPECT_EQ(SocketPath(m), "/x/y.sock");
}

TEST(ConfigHelpers, ClaimRules) {
  Config c;
  EXPECT_TRUE(IsClaimed(c, "ANY", "THING"));  // no rule: everything (of type 0)
  c.claim = {{"NETAPP", "LUN*"}, {"FreeBSD", "iSCSI DISK"}};
  EXPECT_TRUE(IsClaimed(c, "NETAPP  ", "LUN C-Mode      "));  // INQUIRY pads with spaces
  EXPECT_TRUE(IsClaimed(c, "FreeBSD ", "iSCSI DISK      "));
  EXPECT_FALSE(IsClaimed(c, "IET", "VIRTUAL-DISK"));
  EXPECT_FALSE(IsClaimed(c, "NETAPP", "DISK"));
  EXPECT_TRUE(GlobMatch("a?c*", "abcdef"));
  EXPECT_FALSE(GlobMatch("a?c", "ac"));
  EXPECT_TRUE(GlobMatch("*", ""));
}

}  // namespace
}  // namespace openmpio::config

// mpioctl (tools/mpioctl) run as a subprocess against a real management
// server with the fake engine: every command, its exit code, --json parsable.
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "fake_backend.h"
#include "mgmt/server.h"
#include "mpioctl_runner.h"
#include "socket_helpers.h"

namespace openmpio::mgmt {
namespace {

using nlohmann::json;
using testing::FakeBackend;
using testing::Populate;

using testing::MpioctlPath;
using RunResult = testing::CommandResult;

RunResult RunCommand(const std::string& cmd) {
  return testing::RunShell(cmd);
}

class MpioctlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    exe = MpioctlPath();
    if (exe.empty() || ::access(exe.c_str(), X_OK) != 0) {
      GTEST_SKIP() << "mpioctl not built at " << exe;
    }
    Populate(backend);
    path = dir.path + "/mgmt.sock";
    ASSERT_TRUE(server.Start(path).ok());
  }

  // Runs mpioctl with `args`; stdout captured, stderr dropped.
  RunResult Mpioctl(const std::string& args) {
    return RunCommand(exe + " --socket " + path + " " + args + " 2>/dev/null");
  }
  json MpioctlJson(const std::string& args, int want_exit = 0) {
    const RunResult r = Mpioctl(args);
    EXPECT_EQ(r.exit_code, want_exit) << args << "\n" << r.out;
    json j = json::parse(r.out, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << args << "\n" << r.out;
    return j;
  }
  std::string Id(std::size_t disk, std::size_t path_index) {
    return FormatId(backend.disks[disk].disk.paths[path_index].id());
  }

  std::string exe;
  testing::sock::TempDir dir;
  std::string path;
  FakeBackend backend;
  Server server{backend};
};

TEST_F(MpioctlTest, ShowPrintsATreeAndJson) {
  const RunResult r = Mpioctl("show");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("data (naa.6001405011223301)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("tpg 1 Active/Optimized pref"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("tpg 2 Standby"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(Id(0, 2) + " 192.0.2.3:3260 port 3  SB idle Online"), std::string::npos)
      << r.out;
  // Its I_T nexus (dsm_fixture.h MakeNexus(2)).
  EXPECT_NE(r.out.find("isid=0x23d000000002 tpgt=3\n"), std::string::npos) << r.out;
  const json j = MpioctlJson("show --json");
  EXPECT_EQ(j["Disks"].size(), 2U);
  EXPECT_EQ(MpioctlJson("show logs --json")["Disks"].size(), 1U);
}

TEST_F(MpioctlTest, PolicyGetHumanAndJson) {
  const RunResult r = Mpioctl("policy get data");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("policy rrws (3), 4 paths"), std::string::npos) << r.out;
  const json j = MpioctlJson("policy get data --json");
  EXPECT_EQ(j["LoadBalancePolicy"]["DSMPathCount"], 4);
}

TEST_F(MpioctlTest, PolicySetPrintsTheStatusAndExitsByIt) {
  RunResult r = Mpioctl("policy set logs lqd");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, "STATUS_SUCCESS (0x00000000)\n");
  EXPECT_EQ(backend.disks[1].disk.settings.policy, dsm::LoadBalancePolicy::kLeastQueueDepth);
  r = Mpioctl("policy set logs 5 --weight " + Id(1, 0) + "=7 --weight " + Id(1, 1) + "=2");
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(backend.disks[1].disk.paths[0].weight, 7U);
  EXPECT_EQ(backend.disks[1].disk.paths[1].weight, 2U);
  // Round Robin on non-symmetric access: refused by the DSM (spec §4 check 10).
  r = Mpioctl("policy set data rr");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out.rfind("STATUS_INVALID_PARAMETER (0xC000000D)", 0), 0U) << r.out;
  r = Mpioctl("policy set nosuchdisk lqd");
  EXPECT_EQ(r.exit_code, 1);  // STATUS_NO_SUCH_DEVICE from the query
  r = Mpioctl("policy set logs bogus");
  EXPECT_EQ(r.exit_code, 2);
  const json j = MpioctlJson("policy set logs 0 --json");
  EXPECT_EQ(j["StatusName"], "STATUS_SUCCESS");
  EXPECT_FALSE(backend.disks[1].disk.settings.explicit_policy);
}

TEST_F(MpioctlTest, PolicySetFooWithPreferredPath) {
  const RunResult r = Mpioctl("policy set-alua logs --policy foo --path " + Id(1, 1) +
                              "=SB --preferred " + Id(1, 1));
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(backend.disks[1].disk.settings.policy, dsm::LoadBalancePolicy::kFailOverOnly);
  EXPECT_EQ(backend.disks[1].disk.settings.preferred_path, backend.disks[1].disk.paths[1].id());
}

TEST_F(MpioctlTest, SetAluaActivatesAStandbyGroup) {
  // Explicit ALUA: AO on the Standby group's paths plans an STPG (spec §4 step 14).
  const RunResult r =
      Mpioctl("policy set-alua data --path " + Id(0, 2) + "=AO --path " + Id(0, 3) + "=AO");
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(backend.disks[0].disk.groups[1].state.raw, 0);  // now A/O
  EXPECT_EQ(Mpioctl("policy set-alua data --path " + Id(0, 2) + "=XX").exit_code, 2);
}

TEST_F(MpioctlTest, DefaultPolicyGetSetMsdsmAndTargets) {
  EXPECT_EQ(Mpioctl("default-policy get").exit_code, 1);  // none stored yet
  EXPECT_EQ(Mpioctl("default-policy set lqd").exit_code, 0);
  RunResult r = Mpioctl("default-policy get");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("MSDSM default: lqd (4)"), std::string::npos) << r.out;
  EXPECT_EQ(MpioctlJson("default-policy get --json")["LoadBalancePolicy"], 4);
  EXPECT_EQ(Mpioctl("default-policy set wp --vendor OPENMPIO --product SIMDISK").exit_code, 0);
  ASSERT_EQ(backend.defaults.target_defaults().size(), 1U);
  EXPECT_EQ(backend.defaults.target_defaults()[0].hardware_id, "OPENMPIOSIMDISK         ");
  r = Mpioctl("default-policy get --vendor OPENMPIO --product SIMDISK");
  EXPECT_NE(r.out.find("wp (5)"), std::string::npos) << r.out;
  EXPECT_EQ(Mpioctl("default-policy set 9").exit_code, 2);
}

TEST_F(MpioctlTest, TimersGetSet) {
  EXPECT_EQ(Mpioctl("timers set --retry-count 9 --pdo-remove-period 40").exit_code, 0);
  const json j = MpioctlJson("timers get --json");
  EXPECT_EQ(j["RetryCount"], 9);
  EXPECT_EQ(j["PDORemovePeriod"], 40);
  EXPECT_EQ(j["RetryInterval"], 1);
  const RunResult r = Mpioctl("timers set --retry-count 501");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out.rfind("STATUS_INVALID_PARAMETER (0xC000000D)", 0), 0U);
  EXPECT_NE(Mpioctl("timers get").out.find("RetryCount 9"), std::string::npos);
}

TEST_F(MpioctlTest, StatsWhySimAndConfigSave) {
  json j = MpioctlJson("stats logs --json");
  EXPECT_EQ(j["PerfInfo"][0]["NumberReads"], 10);
  j = MpioctlJson("stats --json");
  EXPECT_EQ(j.size(), 2U);
  EXPECT_EQ(Mpioctl("stats logs --clear").exit_code, 0);
  EXPECT_EQ(backend.clear_calls, 1);
  const RunResult why = Mpioctl("why data");
  EXPECT_EQ(why.exit_code, 0);
  EXPECT_NE(why.out.find(Id(0, 2) + " out: SB; the policy uses the AO paths"), std::string::npos)
      << why.out;
  EXPECT_EQ(MpioctlJson("why data --json")["Paths"].size(), 4U);
  EXPECT_EQ(Mpioctl("sim fail-port 3").exit_code, 0);
  EXPECT_EQ(Mpioctl("sim set-state 0 2 SB").exit_code, 0);
  ASSERT_EQ(backend.fake_sim.requests.size(), 2U);
  EXPECT_EQ(backend.fake_sim.requests[0].action, SimAction::kFailPort);
  EXPECT_EQ(backend.fake_sim.requests[1].state, scsi::AsymmetricAccessState::kStandby);
  EXPECT_EQ(Mpioctl("sim set-state 0 2 ZZ").exit_code, 1);
  // corrupt-read LUN LBA COUNT and clear-faults: the fields as given.
  EXPECT_EQ(Mpioctl("sim corrupt-read 1 32768 256").exit_code, 0);
  EXPECT_EQ(Mpioctl("sim clear-faults").exit_code, 0);
  ASSERT_EQ(backend.fake_sim.requests.size(), 4U);
  EXPECT_EQ(backend.fake_sim.requests[2].action, SimAction::kCorruptRead);
  EXPECT_EQ(backend.fake_sim.requests[2].lun, 1U);
  EXPECT_EQ(backend.fake_sim.requests[2].first_lba, 32768U);
  EXPECT_EQ(backend.fake_sim.requests[2].block_count, 256U);
  EXPECT_EQ(backend.fake_sim.requests[3].action, SimAction::kClearFaults);
  // The engine refuses 0 blocks (exit 1, the Status printed); a missing
  // argument is a usage error (exit 2) and sends nothing.
  const RunResult zero = Mpioctl("sim corrupt-read 0 0 0");
  EXPECT_EQ(zero.exit_code, 1);
  EXPECT_EQ(zero.out.rfind("STATUS_INVALID_PARAMETER (0xC000000D)", 0), 0U) << zero.out;
  EXPECT_NE(zero.out.find("BlockCount"), std::string::npos) << zero.out;
  EXPECT_EQ(Mpioctl("sim corrupt-read 0 32768").exit_code, 2);
  EXPECT_EQ(backend.fake_sim.requests.size(), 4U);
  EXPECT_EQ(Mpioctl("config save --path /tmp/saved.toml").exit_code, 0);
  EXPECT_EQ(backend.saved_path, "/tmp/saved.toml");
}

// The lines of `text`, without their '\n'.
std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::size_t at = 0;
  while (at < text.size()) {
    const std::size_t nl = text.find('\n', at);
    const std::size_t end = nl == std::string::npos ? text.size() : nl;
    out.push_back(text.substr(at, end - at));
    at = end + 1;
  }
  return out;
}

// `stats --watch S --count N`: N refreshes, each headed "-- refresh K", with
// the counters of that moment (the fake adds reads before every query).
TEST_F(MpioctlTest, StatsWatchPrintsCountRefreshesWithChangingCounters) {
  backend.reads_per_read_disk = 3;
  const RunResult r = Mpioctl("stats logs --watch 0.05 --count 3");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  std::vector<std::string> headers;
  std::vector<std::uint64_t> reads;  // path 0 of "logs", one per refresh
  const std::string path0 = "  " + Id(1, 0) + " reads=";
  for (const std::string& line : Lines(r.out)) {
    if (line.rfind("-- refresh ", 0) == 0) headers.push_back(line);
    if (line.rfind(path0, 0) == 0) reads.push_back(std::stoull(line.substr(path0.size())));
  }
  EXPECT_EQ(headers, (std::vector<std::string>{"-- refresh 1", "-- refresh 2", "-- refresh 3"}))
      << r.out;
  ASSERT_EQ(reads.size(), 3U) << r.out;
  EXPECT_GT(reads[0], 10U);  // the fake starts every path at 10 reads
  EXPECT_LT(reads[0], reads[1]);
  EXPECT_LT(reads[1], reads[2]);
}

// The text of `stats` adds each path's retries and latency buckets (from Show).
TEST_F(MpioctlTest, StatsPrintsRetriesAndLatencyBuckets) {
  const RunResult r = Mpioctl("stats data");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const std::vector<std::string> lines = Lines(r.out);
  const std::string path0 = "  " + Id(0, 0) + " reads=";
  auto at = std::find_if(lines.begin(), lines.end(),
                         [&](const std::string& l) { return l.rfind(path0, 0) == 0; });
  ASSERT_NE(at, lines.end()) << r.out;
  EXPECT_NE(at->find(" retries=2"), std::string::npos) << *at;
  ASSERT_NE(at + 1, lines.end());
  EXPECT_EQ(*(at + 1), "    latency 128-256us:12 1048576-us:1") << r.out;
}

// `--json` with `--watch`: one compact document per refresh, one per line,
// each shaped as the `stats --json` reply (an array for every disk).
TEST_F(MpioctlTest, StatsWatchJsonIsOneDocumentPerLine) {
  backend.reads_per_read_disk = 1;
  const RunResult r = Mpioctl("stats --watch 0.05 --count 2 --json");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const std::vector<std::string> lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 2U) << r.out;
  std::vector<std::uint64_t> reads;
  for (const std::string& line : lines) {
    const json j = json::parse(line, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << line;
    ASSERT_TRUE(j.is_array()) << line;
    ASSERT_EQ(j.size(), 2U) << line;  // both disks
    EXPECT_EQ(j[0]["StatusName"], "STATUS_SUCCESS");
    reads.push_back(j[1]["PerfInfo"][0]["NumberReads"].get<std::uint64_t>());
  }
  EXPECT_LT(reads[0], reads[1]);
  // One disk: one object per line.
  const RunResult one = Mpioctl("stats data --watch 0.05 --count 1 --json");
  ASSERT_EQ(one.exit_code, 0) << one.out;
  ASSERT_EQ(Lines(one.out).size(), 1U) << one.out;
  EXPECT_TRUE(json::parse(one.out)["PerfInfo"].is_array());
}

// --count needs --watch and is at least 1; --clear does not repeat. Usage
// errors (exit 2), and nothing is cleared.
TEST_F(MpioctlTest, StatsWatchUsageErrors) {
  EXPECT_EQ(Mpioctl("stats logs --count 2").exit_code, 2);
  EXPECT_EQ(Mpioctl("stats logs --watch 0.05 --count 0").exit_code, 2);
  EXPECT_EQ(Mpioctl("stats logs --watch 0.05 --clear").exit_code, 2);
  EXPECT_EQ(backend.clear_calls, 0);
}

// The server closes a connection idle for its idle timeout, here between two
// refreshes: mpioctl connects again instead of failing.
TEST_F(MpioctlTest, StatsWatchOutlivesTheServersIdleTimeout) {
  ServerOptions options;
  options.idle_timeout = std::chrono::milliseconds(100);
  Server impatient(backend, options);
  const std::string impatient_path = dir.path + "/impatient.sock";
  ASSERT_TRUE(impatient.Start(impatient_path).ok());
  const RunResult r =
      RunCommand(exe + " --socket " + impatient_path + " stats logs --watch 0.5 --count 2 2>&1");
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("-- refresh 2"), std::string::npos) << r.out;
  EXPECT_GE(impatient.counters().closed_idle, 1U);
}

TEST_F(MpioctlTest, NoServerIsExitTwo) {
  const std::string cmd = exe + " --socket " + dir.path + "/none.sock show 2>/dev/null";
  const int st = std::system(cmd.c_str());
  EXPECT_TRUE(WIFEXITED(st));
  EXPECT_EQ(WEXITSTATUS(st), 2);
}

// mpioctl against peers that are not a working engine (issue 13 item 4): a
// fake server in a temporary folder. Each run ends with exit 2 and one line
// on stderr that says what happened, never a library's exception text.
class MpioctlReplyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    exe = MpioctlPath();
    if (exe.empty() || ::access(exe.c_str(), X_OK) != 0) {
      GTEST_SKIP() << "mpioctl not built at " << exe;
    }
    path = dir.path + "/fake.sock";
  }

  // Only stderr is captured. `timeout 60` ends an mpioctl that hangs (exit
  // 124), so the test fails instead of hanging.
  RunResult Run(const std::string& args) {
    return RunCommand("timeout 60 " + exe + " --socket " + path + " " + args + " 2>&1 >/dev/null");
  }

  static void ExpectOneClearLine(const RunResult& r, const std::string& what) {
    EXPECT_EQ(r.exit_code, 2) << r.out;
    EXPECT_EQ(r.out.rfind("mpioctl: ", 0), 0U) << r.out;
    EXPECT_NE(r.out.find(what), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find("json.exception"), std::string::npos) << r.out;
    EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << r.out;
  }

  // A FakeServer that writes `reply` after the request, then closes.
  std::unique_ptr<testing::sock::FakeServer> Replying(std::string reply) {
    auto s = std::make_unique<testing::sock::FakeServer>(
        path, [reply = std::move(reply)](int fd, const std::atomic<bool>& stop) {
          testing::sock::SendUnlessStopped(fd, reply, stop);
        });
    EXPECT_TRUE(s->ok());
    return s;
  }

  std::string exe;
  testing::sock::TempDir dir;
  std::string path;
};

// Waits until the peer closes or `stop` is set.
void SayNothing(int fd, const std::atomic<bool>& stop) {
  while (!stop.load()) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 20) <= 0) continue;
    char buf[4096];
    if (::recv(fd, buf, sizeof buf, 0) <= 0) return;
  }
}

TEST_F(MpioctlReplyTest, NoReplyWithinTheTimeout) {
  testing::sock::FakeServer server(path, SayNothing);
  ASSERT_TRUE(server.ok());
  const RunResult r = Run("--timeout 1 timers get");
  ExpectOneClearLine(r, "no reply from " + path + " within 1 s");
  EXPECT_EQ(server.requests(), 1);
}

TEST_F(MpioctlReplyTest, AReplyThatIsNotJson) {
  const auto server = Replying("this is not json\n");
  ExpectOneClearLine(Run("--timeout 1 timers get"), "is not valid JSON");
}

TEST_F(MpioctlReplyTest, AReplyLongerThanTheLimit) {
  // 16 MiB and one byte, no end of line.
  const auto server = Replying(std::string((std::size_t{16} << 20) + 1, 'x'));
  ExpectOneClearLine(Run("--timeout 1 timers get"), "is longer than 16777216 bytes");
}

TEST_F(MpioctlReplyTest, AReplyCutOffInTheMiddleOfTheLine) {
  const auto server = Replying("{\"Status\":0,\"RetryCo");
  ExpectOneClearLine(Run("--timeout 1 timers get"),
                     "closed the connection in the middle of a reply (20 bytes, no end of line)");
}

TEST_F(MpioctlReplyTest, TheConnectionClosedBeforeAnyReply) {
  const auto server = Replying("");
  ExpectOneClearLine(Run("--timeout 1 timers get"), "closed the connection without a reply");
}

TEST_F(MpioctlReplyTest, JsonThatIsNotAStatusObject) {
  {
    const auto server = Replying("[1,2,3]\n");
    ExpectOneClearLine(Run("--timeout 1 timers get"), "is JSON but not a status object");
  }
  const auto server = Replying("{\"Status\":\"zero\"}\n");
  ExpectOneClearLine(Run("--timeout 1 timers get"), "is JSON but not a status object");
}

// A status object whose fields have other types than the command reads.
TEST_F(MpioctlReplyTest, AStatusObjectOfTheWrongShape) {
  const auto server = Replying("{\"Status\":0,\"Disks\":\"x\"}\n");
  ExpectOneClearLine(Run("--timeout 1 show"), "the engine's reply lacks a field");
}

TEST_F(MpioctlReplyTest, TheTimeoutIsRangeChecked) {
  testing::sock::FakeServer server(path, SayNothing);
  ASSERT_TRUE(server.ok());
  for (const char* bad : {"0", "0.01", "3601", "nan", "-1", "ten"}) {
    const RunResult r = Run(std::string("--timeout ") + bad + " timers get");
    EXPECT_EQ(r.exit_code, 2) << bad << "\n" << r.out;
    EXPECT_NE(r.out.find("--timeout"), std::string::npos) << bad << "\n" << r.out;
  }
  EXPECT_EQ(server.requests(), 0);  // nothing was sent
}

}  // namespace
}  // namespace openmpio::mgmt

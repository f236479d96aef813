// The management socket of a running engine, end to end: nbdkit with our
// plugin and a config whose [management] socket is in a temp folder, the real
// mpioctl against it, and an NBD client (qemu-io) writing and verifying data
// the whole time. Proves that the socket is 0600; that show / policy get /
// policy set / set-alua / default-policy / timers / stats / why / sim /
// config save reach the engine and change what it does (policy get and show
// read the change back; the saved file parses and carries it); that bad
// requests answer their spec/msdsm.md §4 Status and change nothing; and that
// I/O never fails across any of it, port failure included.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "config/config.h"
#include "nbd_harness.h"

namespace openmpio::nbdtest {
namespace {

using nlohmann::json;

const std::string kMpioctl = std::string(OPENMPIO_BINARY_DIR) + "/tools/mpioctl/mpioctl";

// Ports 1, 2 in group 1; ports 3, 4 in group 2. LU 0 ("alpha") owned by
// group 1, LU 1 by group 2. TPGS implicit + explicit (the sim's default), so
// access is never symmetric: Round Robin is refused (spec §4 check 10).
std::string MgmtConfig(const TempDir& dir) {
  return "[management]\nsocket = \"" + (dir / "run/mgmt.sock") +
         "\"\n\n[timers]\ncommand_timeout = 5\n\n[sim]\nimplicit_transition_time = 1\n" +
         SimPort(1, 1) + SimPort(2, 1) + SimPort(3, 2) + SimPort(4, 2) + "\n" +
         SimLu(0, "16MiB", 1) + "\n" + SimLu(1, "16MiB", 2) + "\n" + AlphaDisk();
}

// One engine with its management socket, and a qemu-io loop on "alpha" that
// writes a pattern and reads it back until stopped, counting rounds and
// failures.
class MgmtE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!HaveProgram("nbdkit") || !HaveProgram("qemu-io")) {
      GTEST_SKIP() << "nbdkit or qemu-io is not installed";
    }
    server_ = std::make_unique<Server>(dir_, MgmtConfig(dir_));
    ASSERT_TRUE(server_->ready()) << server_->Log();
    sock_ = dir_ / "run/mgmt.sock";
    ASSERT_TRUE(WaitSocket()) << server_->Log();
  }
  // The socket is opened in .after_fork, with the engine (bounded wait:
  // nbdkit -f may write its pid file first).
  bool WaitSocket() {
    struct stat st {};
    for (int i = 0; i < 300 && ::stat(sock_.c_str(), &st) != 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return ::stat(sock_.c_str(), &st) == 0;
  }
  void TearDown() override {
    StopIo();
    if (server_) {
      EXPECT_TRUE(server_->Stop()) << "nbdkit did not end on SIGTERM";
      struct stat st {};
      EXPECT_NE(::stat(sock_.c_str(), &st), 0) << "the management socket was left behind";
    }
  }

  void StartIo() {
    const std::string uri = server_->Uri("alpha");
    const std::string d = dir_.path();
    // Each round: 1 MiB of 0x5a at a rotating offset, read back with -P
    // (qemu-io prints "Pattern verification failed" on a mismatch). The
    // count is replaced by a rename: `echo > file` truncates first, and a
    // reader between the two would see no count at all.
    const std::string loop =
        "n=0; while [ ! -e " + d +
        "/io.stop ]; do off=$(( (n % 8) * 1048576 )); "
        "out=$(qemu-io -f raw -c \"write -P 0x5a $off 1M\" -c \"read -P 0x5a $off 1M\" \"" +
        uri + "\" 2>&1); case \"$out\" in *ail*|*rror*) echo \"$out\" >> " + d +
        "/io.fail;; esac; n=$((n+1)); echo $n > " + d + "/io.count.new; mv " + d +
        "/io.count.new " + d + "/io.count; done";
    io_ = std::make_unique<Process>(std::vector<std::string>{"sh", "-c", loop}, dir_ / "io.log");
    WaitRounds(2);
  }
  // Waits until the loop finished `more` further rounds (bounded).
  void WaitRounds(int more) {
    const int start = Rounds();
    const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (Rounds() < start + more && std::chrono::steady_clock::now() < end) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    EXPECT_GE(Rounds(), start + more) << "the I/O loop stalled";
  }
  int Rounds() {
    const std::string t = ReadFile(dir_ / "io.count");
    return t.empty() ? 0 : std::atoi(t.c_str());
  }
  void StopIo() {
    if (!io_) return;
    WriteFile(dir_ / "io.stop", "");
    io_->WaitExit(std::chrono::seconds(20));
    io_.reset();
    EXPECT_EQ(ReadFile(dir_ / "io.fail"), "") << "NBD I/O failed during management calls";
  }

  RunResult Ctl(const std::string& args) {
    return Sh(kMpioctl + " --socket " + sock_ + " " + args, 50);
  }
  json CtlJson(const std::string& args) {
    RunResult r = Ctl("--json " + args);
    json j = json::parse(r.output, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << args << ": " << r.output;
    return j;
  }
  // The LoadBalancePolicy part of DSM_QueryLBPolicy_V2 for a disk.
  json PolicyOf(const std::string& disk) {
    RunResult r = Ctl("--json policy get " + disk);
    EXPECT_EQ(r.exit_code, 0) << r.output;
    json j = json::parse(r.output, nullptr, false);
    return j.is_discarded() ? json() : j["LoadBalancePolicy"];
  }
  // DsmPathId text by TargetPort_Identifier (relative target port).
  std::map<unsigned, std::string> PathIds(const json& lbp) {
    std::map<unsigned, std::string> ids;
    for (const json& p : lbp["DSM_Paths"]) {
      ids[p.value("TargetPort_Identifier", 0U)] = p.value("DsmPathId", std::string());
    }
    return ids;
  }
  static const json* PathWithPort(const json& lbp, unsigned port) {
    for (const json& p : lbp["DSM_Paths"]) {
      if (p.value("TargetPort_Identifier", 0U) == port) return &p;
    }
    return nullptr;
  }
  // One raw request line, one reply (for requests mpioctl would not send).
  json Raw(const std::string& line) {
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::memcpy(a.sun_path, sock_.data(), sock_.size());
    EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    const std::string out = line + "\n";
    EXPECT_EQ(::send(fd, out.data(), out.size(), MSG_NOSIGNAL), static_cast<ssize_t>(out.size()));
    std::string reply;
    char buf[4096];
    while (reply.find('\n') == std::string::npos) {
      const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) break;
      reply.append(buf, static_cast<std::size_t>(n));
    }
    ::close(fd);
    json j = json::parse(reply.substr(0, reply.find('\n')), nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << reply;
    return j;
  }

  TempDir dir_;
  std::unique_ptr<Server> server_;
  std::string sock_;
  std::unique_ptr<Process> io_;
};

constexpr std::uint32_t kInvalidParameter = 0xC000000D;
constexpr std::uint32_t kNotSupported = 0xC00000BB;
constexpr std::uint32_t kNoSuchDevice = 0xC000000E;

TEST_F(MgmtE2E, SocketIsPrivateAndShowListsTheEngineDisks) {
  struct stat st {};
  ASSERT_EQ(::stat(sock_.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0600U);
  EXPECT_EQ(st.st_uid, ::getuid());

  RunResult show = Ctl("show");
  ASSERT_EQ(show.exit_code, 0) << show.output;
  EXPECT_NE(show.output.find("alpha (" + kLu0 + ")"), std::string::npos) << show.output;
  EXPECT_NE(show.output.find(kLu1), std::string::npos) << show.output;

  json j = CtlJson("show alpha");
  ASSERT_EQ(j.value("Status", 1U), 0U) << j.dump();
  ASSERT_EQ(j["Disks"].size(), 1U);
  const json& d = j["Disks"][0];
  EXPECT_EQ(d.value("InstanceName", ""), kLu0);
  // INQUIRY of the sim array: VID "OPENMPIO", PID "SIM ARRAY", padded.
  EXPECT_EQ(d.value("HardwareId", ""), "OPENMPIOSIM ARRAY       ");
  // Default precedence on ALUA storage: Round Robin with Subset (spec §3).
  EXPECT_EQ(d.value("PolicyName", ""), "rrws") << d.dump();

  // An unknown disk is STATUS_NO_SUCH_DEVICE (spec §4 table, [C]).
  RunResult none = Ctl("policy get nosuchdisk");
  EXPECT_EQ(none.exit_code, 1);
  json r = Raw(R"({"method":"DSM_QueryLBPolicy_V2","InstanceName":"nosuchdisk"})");
  EXPECT_EQ(r.value("Status", 0U), kNoSuchDevice) << r.dump();
}

TEST_F(MgmtE2E, PolicySetsChangeTheEngineWhileIoRunsAndBadOnesChangeNothing) {
  REQUIRE_PROGRAM("qemu-io");
  StartIo();
  const json before = PolicyOf("alpha");
  ASSERT_EQ(before["DSM_Paths"].size(), 4U) << before.dump();
  EXPECT_EQ(before.value("LoadBalancePolicy", 0U), 3U);  // RRWS
  auto ids = PathIds(before);
  ASSERT_EQ(ids.size(), 4U);

  // RR on non-symmetric access: check 10, STATUS_INVALID_PARAMETER, nothing changed.
  RunResult rr = Ctl("policy set alpha rr");
  EXPECT_EQ(rr.exit_code, 1) << rr.output;
  EXPECT_NE(rr.output.find("STATUS_INVALID_PARAMETER"), std::string::npos) << rr.output;
  EXPECT_EQ(PolicyOf("alpha"), before);

  // Least Queue Depth.
  RunResult lqd = Ctl("policy set alpha lqd");
  ASSERT_EQ(lqd.exit_code, 0) << lqd.output;
  EXPECT_EQ(PolicyOf("alpha").value("LoadBalancePolicy", 0U), 4U);
  WaitRounds(1);

  // Weighted Paths with weights: the query reads them back (PathWeight is
  // copied only for WP, spec §4 "On success").
  RunResult wp = Ctl("policy set alpha wp --weight " + ids[1] + "=10 --weight " + ids[2] +
                     "=20 --weight " + ids[3] + "=30 --weight " + ids[4] + "=40");
  ASSERT_EQ(wp.exit_code, 0) << wp.output;
  json after_wp = PolicyOf("alpha");
  EXPECT_EQ(after_wp.value("LoadBalancePolicy", 0U), 5U);
  for (unsigned port = 1; port <= 4; ++port) {
    const json* p = PathWithPort(after_wp, port);
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(p->value("PathWeight", 0U), port * 10) << after_wp.dump();
  }
  WaitRounds(1);

  // Fail Over Only keeps one AO path: the query sent back as is (two AO
  // paths) is refused (check 12) ...
  RunResult foo_bad = Ctl("policy set alpha foo --preferred " + ids[2]);
  EXPECT_EQ(foo_bad.exit_code, 1) << foo_bad.output;
  EXPECT_EQ(PolicyOf("alpha"), after_wp);
  // ... and with per-path states it is taken, with its preferred path.
  RunResult foo = Ctl("policy set-alua alpha --policy foo --path " + ids[1] + "=SB --path " +
                      ids[2] + "=AO --preferred " + ids[2]);
  ASSERT_EQ(foo.exit_code, 0) << foo.output;
  json after_foo = PolicyOf("alpha");
  EXPECT_EQ(after_foo.value("LoadBalancePolicy", 0U), 1U);
  const json* p2 = PathWithPort(after_foo, 2);
  const json* p1 = PathWithPort(after_foo, 1);
  ASSERT_TRUE(p1 != nullptr && p2 != nullptr);
  EXPECT_EQ(p2->value("PreferredPath", 0U), 1U) << after_foo.dump();
  EXPECT_EQ(p2->value("PrimaryPath", 0U), 1U);
  EXPECT_EQ(p2->value("OptimizedPath", 0U), 1U);
  EXPECT_EQ(p1->value("PrimaryPath", 1U), 0U);  // SB: (0, 1)
  EXPECT_EQ(p1->value("OptimizedPath", 0U), 1U);
  // why: FOO's one path is port 2's.
  RunResult why = Ctl("why alpha");
  ASSERT_EQ(why.exit_code, 0) << why.output;
  EXPECT_NE(why.output.find("foo"), std::string::npos) << why.output;
  WaitRounds(1);

  // Bad requests, field by field: their Status, and nothing changed.
  const std::string lbp_base =
      R"({"method":"DsmSetLoadBalancePolicyALUA","InstanceName":"alpha","LoadBalancePolicy":)";
  json q = after_foo;
  q["Version"] = 3;  // check 5
  EXPECT_EQ(Raw(lbp_base + q.dump() + "}").value("Status", 0U), kNotSupported);
  q = after_foo;
  q["LoadBalancePolicy"] = 9;  // check 6
  EXPECT_EQ(Raw(lbp_base + q.dump() + "}").value("Status", 0U), kInvalidParameter);
  q = after_foo;
  q["DSM_Paths"][0]["DsmPathId"] = q["DSM_Paths"][1]["DsmPathId"];  // check 8: duplicate
  EXPECT_EQ(Raw(lbp_base + q.dump() + "}").value("Status", 0U), kInvalidParameter);
  q = after_foo;
  q["DSM_Paths"][0]["PathWeight"] = "heavy";  // not a ULONG
  EXPECT_EQ(Raw(lbp_base + q.dump() + "}").value("Status", 0U), kInvalidParameter);
  EXPECT_EQ(PolicyOf("alpha"), after_foo);

  // policy 0 clears the explicit setting: back to the default (RRWS).
  RunResult clear = Ctl("policy set alpha 0");
  ASSERT_EQ(clear.exit_code, 0) << clear.output;
  EXPECT_EQ(PolicyOf("alpha").value("LoadBalancePolicy", 0U), 3U);

  // Step 14 (spec §4): AO asked on LU 1's group 1 (Active/Non-optimized) is
  // a SET TARGET PORT GROUPS, then an RTPG: the array's state changes.
  const json lu1 = PolicyOf(kLu1);
  const json* g1 = PathWithPort(lu1, 1);
  ASSERT_NE(g1, nullptr);
  EXPECT_EQ(g1->value("TargetPortGroup_State", 99U), 1U);  // STATE_ACTIVE_UNOPTIMIZED
  auto lu1_ids = PathIds(lu1);
  RunResult stpg =
      Ctl("policy set-alua " + kLu1 + " --policy lqd --path " + lu1_ids[1] + "=AO --path " +
          lu1_ids[2] + "=AO --path " + lu1_ids[3] + "=AO --path " + lu1_ids[4] + "=AO");
  ASSERT_EQ(stpg.exit_code, 0) << stpg.output;
  const json lu1_after = PolicyOf(kLu1);
  for (unsigned port = 1; port <= 4; ++port) {
    const json* p = PathWithPort(lu1_after, port);
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(p->value("TargetPortGroup_State", 99U), 0U) << lu1_after.dump();
    EXPECT_EQ(p->value("PrimaryPath", 0U), 1U);
    EXPECT_EQ(p->value("OptimizedPath", 0U), 1U);
  }
  WaitRounds(1);
  StopIo();
}

TEST_F(MgmtE2E, DefaultsTimersStatsAndSimControlReachTheEngine) {
  REQUIRE_PROGRAM("qemu-io");
  StartIo();

  // MSDSM-wide default: unset, then LQD — disks without an explicit policy follow.
  RunResult unset = Ctl("default-policy get");
  EXPECT_EQ(unset.exit_code, 1) << unset.output;  // STATUS_OBJECT_NAME_NOT_FOUND
  EXPECT_NE(unset.output.find("STATUS_OBJECT_NAME_NOT_FOUND"), std::string::npos) << unset.output;
  ASSERT_EQ(Ctl("default-policy set lqd").exit_code, 0);
  RunResult got = Ctl("default-policy get");
  EXPECT_EQ(got.exit_code, 0);
  EXPECT_NE(got.output.find("lqd (4)"), std::string::npos) << got.output;
  EXPECT_EQ(PolicyOf(kLu1).value("LoadBalancePolicy", 0U), 4U);
  // A bad one: policy 9 is refused, the default stays.
  json bad = Raw(
      R"({"method":"MSDSM_DEFAULT_LOAD_BALANCE_POLICY","Set":{"LoadBalancePolicy":9,"PreferredPath":0}})");
  EXPECT_EQ(bad.value("Status", 0U), kInvalidParameter) << bad.dump();
  EXPECT_NE(Ctl("default-policy get").output.find("lqd (4)"), std::string::npos);

  // Timers.
  ASSERT_EQ(Ctl("timers set --retry-count 7 --pdo-remove-period 25").exit_code, 0);
  json t = CtlJson("timers get");
  EXPECT_EQ(t.value("RetryCount", 0U), 7U) << t.dump();
  EXPECT_EQ(t.value("PDORemovePeriod", 0U), 25U);
  RunResult badt = Ctl("timers set --retry-count 501");  // max 500 (spec §5)
  EXPECT_EQ(badt.exit_code, 1) << badt.output;
  EXPECT_EQ(CtlJson("timers get").value("RetryCount", 0U), 7U);

  // Stats move with the I/O (checked again, cleared, once the I/O stops).
  WaitRounds(1);
  json perf = CtlJson("stats alpha");
  std::uint64_t total = 0;
  for (const json& p : perf["PerfInfo"]) total += p.value("NumberReads", 0ULL);
  EXPECT_GT(total, 0U) << perf.dump();

  // Sim: fail port 1 (an AO path of alpha) while I/O runs; the engine shows
  // the path failed and I/O goes on over port 2.
  ASSERT_EQ(Ctl("sim fail-port 1").exit_code, 0);
  WaitRounds(2);
  bool failed_seen = false;
  for (int i = 0; i < 100 && !failed_seen; ++i) {
    const json q = PolicyOf("alpha");
    const json* p1 = PathWithPort(q, 1);
    failed_seen = p1 != nullptr && p1->value("FailedPath", 0U) == 1U;
    if (!failed_seen) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_TRUE(failed_seen) << Ctl("show alpha").output;
  ASSERT_EQ(Ctl("sim restore-port 1").exit_code, 0);
  EXPECT_EQ(Ctl("sim fail-port 99").exit_code, 1);  // no such port: refused

  // Sim: group 2 of LU 0 becomes Active/Optimized (through Transitioning);
  // the engine learns it from the unit attention the I/O meets.
  ASSERT_EQ(Ctl("sim set-state 0 2 AO").exit_code, 0);
  bool ao_seen = false;
  for (int i = 0; i < 150 && !ao_seen; ++i) {
    const json q = PolicyOf("alpha");
    const json* p3 = PathWithPort(q, 3);
    ao_seen =
        p3 != nullptr && p3->value("TargetPortGroup_State", 99U) == 0U;  // STATE_ACTIVE_OPTIMIZED
    if (!ao_seen) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_TRUE(ao_seen) << Ctl("show alpha").output;
  WaitRounds(2);
  StopIo();

  // MSDsmClearCounters: with no I/O running, every counter reads 0 after it.
  ASSERT_EQ(Ctl("stats alpha --clear").exit_code, 0);
  perf = CtlJson("stats alpha");
  ASSERT_EQ(perf["PerfInfo"].size(), 4U) << perf.dump();
  for (const json& p : perf["PerfInfo"]) EXPECT_EQ(p.value("NumberReads", 1ULL), 0U) << perf.dump();
}

TEST_F(MgmtE2E, ConfigSaveWritesTheRunningSettings) {
  ASSERT_EQ(Ctl("policy set alpha lqd").exit_code, 0);
  const auto ids = PathIds(PolicyOf("alpha"));
  ASSERT_EQ(Ctl("policy set " + kLu1 + " wp --weight " + ids.at(3) + "=5").exit_code, 0);
  ASSERT_EQ(Ctl("default-policy set wp").exit_code, 0);
  ASSERT_EQ(Ctl("default-policy set --vendor OPENMPIO --product \"SIM ARRAY\" lqd").exit_code, 0);
  ASSERT_EQ(Ctl("timers set --retry-interval 2").exit_code, 0);

  // To the file nbdkit was started with, and to another one.
  RunResult save = Ctl("config save");
  ASSERT_EQ(save.exit_code, 0) << save.output;
  RunResult save2 = Ctl("config save --path " + (dir_ / "other.toml"));
  ASSERT_EQ(save2.exit_code, 0) << save2.output;
  struct stat st {};
  ASSERT_EQ(::stat((dir_ / "other.toml").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600U);

  for (const std::string& file : {dir_ / "openmpio.toml", dir_ / "other.toml"}) {
    auto c = config::LoadConfig(file);
    ASSERT_TRUE(c.has_value()) << c.error().ToString() << "\n" << ReadFile(file);
    EXPECT_EQ(c->defaults.load_balance_policy, dsm::LoadBalancePolicy::kWeightedPaths);
    ASSERT_EQ(c->target_defaults.size(), 1U);
    EXPECT_EQ(c->target_defaults[0].vendor, "OPENMPIO");
    EXPECT_EQ(c->target_defaults[0].product, "SIM ARRAY");
    EXPECT_EQ(c->target_defaults[0].policy, dsm::LoadBalancePolicy::kLeastQueueDepth);
    EXPECT_EQ(c->timers.retry_interval, 2U);
    EXPECT_EQ(c->management.socket, sock_);  // the rest of the file is kept
    ASSERT_TRUE(c->sim.has_value());
    EXPECT_EQ(c->sim->ports.size(), 4U);
    const config::DiskConfig* alpha = nullptr;
    const config::DiskConfig* lu1 = nullptr;
    for (const config::DiskConfig& d : c->disks) {
      if (d.designator == kLu0) alpha = &d;
      if (d.designator == kLu1) lu1 = &d;
    }
    ASSERT_NE(alpha, nullptr) << ReadFile(file);
    EXPECT_EQ(alpha->alias, "alpha");
    EXPECT_EQ(alpha->policy, dsm::LoadBalancePolicy::kLeastQueueDepth);
    ASSERT_NE(lu1, nullptr) << ReadFile(file);
    EXPECT_EQ(lu1->policy, dsm::LoadBalancePolicy::kWeightedPaths);
    const auto id3 = config::ParsePathId(ids.at(3));
    ASSERT_TRUE(id3.has_value());
    ASSERT_EQ(lu1->paths.count(*id3), 1U) << ReadFile(file);
    EXPECT_EQ(lu1->paths.at(*id3).weight, 5U);
  }

  // Outside the folder of the file nbdkit was started with: refused, nothing
  // written (issue 13 item 4: never an arbitrary file).
  RunResult bad = Ctl("config save --path /nonexistent-dir/x.toml");
  EXPECT_EQ(bad.exit_code, 1) << bad.output;
  nbdtest::TempDir elsewhere;
  for (const std::string& path :
       {elsewhere / "x.toml", dir_ / "../escaped.toml", std::string("relative.toml")}) {
    RunResult out = Ctl("config save --path " + path);
    EXPECT_EQ(out.exit_code, 1) << path << ": " << out.output;
    EXPECT_NE(out.output.find("SaveConfig writes only into"), std::string::npos) << out.output;
  }
  EXPECT_TRUE(std::filesystem::is_empty(elsewhere.path()));
  EXPECT_FALSE(std::filesystem::exists(dir_ / "../escaped.toml"));
}

// An operator sees what happened: a port that drops its connections leaves
// "path ... failed: connection lost" in `mpioctl events`, with the disk.
TEST_F(MgmtE2E, EventsShowAPathThatFailedAndWhy) {
  ASSERT_EQ(Ctl("sim fail-port 3").exit_code, 0);
  RunResult events;
  for (int i = 0; i < 100; ++i) {
    events = Ctl("events");
    if (events.output.find("failed: connection lost") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(events.exit_code, 0) << events.output;
  EXPECT_NE(events.output.find("failed: connection lost"), std::string::npos) << events.output;
  EXPECT_NE(events.output.find(kLu1), std::string::npos) << "the disk is named\n" << events.output;
  RunResult as_json = Ctl("--json events");
  EXPECT_EQ(as_json.exit_code, 0);
  EXPECT_NE(as_json.output.find("\"Text\""), std::string::npos) << as_json.output;
  ASSERT_EQ(Ctl("sim restore-port 3").exit_code, 0);
}

TEST_F(MgmtE2E, SavedSettingsApplyAtTheNextStart) {
  ASSERT_EQ(Ctl("policy set alpha lqd").exit_code, 0);
  const auto ids = PathIds(PolicyOf(kLu1));
  ASSERT_EQ(Ctl("policy set " + kLu1 + " wp --weight " + ids.at(4) + "=7").exit_code, 0);
  ASSERT_EQ(Ctl("config save").exit_code, 0);
  ASSERT_TRUE(server_->Stop());
  server_.reset();
  // Same folder, same (saved) file.
  const std::string saved = ReadFile(dir_ / "openmpio.toml");
  std::filesystem::remove(dir_ / "nbdkit.pid");
  std::filesystem::remove(dir_ / "sock");
  server_ = std::make_unique<Server>(dir_, saved);
  ASSERT_TRUE(server_->ready()) << server_->Log();
  ASSERT_TRUE(WaitSocket()) << server_->Log();
  EXPECT_EQ(PolicyOf("alpha").value("LoadBalancePolicy", 0U), 4U);
  const json lu1 = PolicyOf(kLu1);
  EXPECT_EQ(lu1.value("LoadBalancePolicy", 0U), 5U);
  const json* p4 = PathWithPort(lu1, 4);
  ASSERT_NE(p4, nullptr);
  EXPECT_EQ(p4->value("PathWeight", 0U), 7U) << lu1.dump();
}

}  // namespace
}  // namespace openmpio::nbdtest

// Everything is checked before nbdkit forks (issue 13 item 3): a config the
// engine cannot serve makes `nbdkit ... openmpio config=FILE` exit non-zero
// in the foreground, with the plugin's message on stderr and no socket or
// pid file left — with -f and, the case that used to exit 0 and die in the
// background, as a daemon with --pidfile. A config at the limits still
// serves as a daemon.
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "config/config.h"
#include "nbd_harness.h"
#include "openmpio/status.h"
#include "runtime/preflight.h"
#include "runtime/runtime.h"

namespace openmpio::nbdtest {
namespace {

constexpr std::uint64_t kMaxLuBlocks = std::uint64_t{1} << 48;

// One group of `ports` ports and `lus` LUs of `blocks` 512-byte blocks.
std::string SimText(unsigned ports, unsigned lus, std::uint64_t blocks) {
  std::string t = "[management]\nenabled = false\n\n[sim]\n";
  for (unsigned p = 1; p <= ports; ++p) t += SimPort(p, 1);
  for (unsigned l = 0; l < lus; ++l) {
    t += "[[sim.lu]]\nlun = " + std::to_string(l) + "\nsize = " + std::to_string(blocks * 512) +
         "\nowner_group = 1\n";
  }
  return t;
}

// Running (a zombie waiting for a reaper that may never come is not).
bool Alive(pid_t pid) {
  if (::kill(pid, 0) != 0) return false;
  const std::string stat = ReadFile("/proc/" + std::to_string(pid) + "/stat");
  const std::size_t close = stat.rfind(')');
  return close == std::string::npos || stat.compare(close, 3, ") Z") != 0;
}

// A daemon nbdkit is not our child: stop it by the PID its pid file names.
void StopDaemon(const std::string& pidfile) {
  const std::string text = ReadFile(pidfile);
  const pid_t pid = text.empty() ? 0 : static_cast<pid_t>(std::stol(text));
  if (pid <= 1) return;
  ::kill(pid, SIGTERM);
  for (int i = 0; i < 500 && Alive(pid); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (Alive(pid)) ::kill(pid, SIGKILL);
}

struct Refusal {
  const char* name;
  std::string config;
  std::vector<const char*> words;  // in the message on stderr
};

std::vector<Refusal> Refusals() {
  return {
      {"a LU of 2^48 + 1 blocks",
       SimText(2, 1, kMaxLuBlocks + 1),
       {"[sim]: array config: LU 0: 281474976710657 blocks of 512 bytes; at most 2^48"}},
      {"65 ports", SimText(65, 1, 2048), {"[sim]: 65 ports", "at most 64 paths"}},
  };
}

// Runs nbdkit on `refusal` (daemon: no -f) and checks it refused before
// forking: non-zero exit, the words on stderr, no socket, no pid file.
void ExpectRefusedBeforeFork(const Refusal& refusal, bool daemon) {
  SCOPED_TRACE(std::string(refusal.name) + (daemon ? ", daemon" : ", foreground"));
  TempDir dir;
  WriteFile(dir / "bad.toml", refusal.config);
  const std::string sock = dir / "sock";
  const std::string pidfile = dir / "nbdkit.pid";
  const RunResult r = Sh(std::string("nbdkit ") + (daemon ? "" : "-f ") + "-U " + sock + " -P " +
                             pidfile + " " + kPlugin + " config=" + (dir / "bad.toml"),
                         30);
  // A daemon forked by code that checks too late dies by itself later; give
  // it the time to, then make sure nothing outlives the test.
  std::this_thread::sleep_for(std::chrono::milliseconds(daemon ? 300 : 0));
  const bool socket_left = std::filesystem::exists(sock);
  const bool pidfile_left = std::filesystem::exists(pidfile);
  StopDaemon(pidfile);
  EXPECT_NE(r.exit_code, 0) << r.output;
  for (const char* w : refusal.words) {
    EXPECT_NE(r.output.find(w), std::string::npos) << "missing \"" << w << "\" in:\n" << r.output;
  }
  // Refused in .config_complete, not when the engine started.
  EXPECT_EQ(r.output.find("starting the engine"), std::string::npos) << r.output;
  EXPECT_FALSE(socket_left);
  EXPECT_FALSE(pidfile_left);
}

// ---- runtime::Preflight, called directly -----------------------------------------

config::Config Parsed(const std::string& text) {
  auto c = config::ParseConfig(text, "test.toml");
  EXPECT_TRUE(c.has_value()) << c.error().ToString();
  return c ? *c : config::Config{};
}

TEST(Preflight, AcceptsTheDemoAndEveryLimitItself) {
  EXPECT_TRUE(runtime::Preflight(config::DemoConfig()).ok());
  // 2048 LUs: more than one 16 KiB REPORT LUNS answer once held (discovery
  // asks again with the length the target says).
  const Status at_limits = runtime::Preflight(Parsed(SimText(64, 2048, 1)));
  EXPECT_TRUE(at_limits.ok()) << at_limits.ToString();
  const Status largest = runtime::Preflight(Parsed(SimText(1, 1, kMaxLuBlocks)));
  EXPECT_TRUE(largest.ok()) << largest.ToString();
}

TEST(Preflight, RefusesWhatTheEngineCannotServeByName) {
  for (const Refusal& r : Refusals()) {
    SCOPED_TRACE(r.name);
    const Status s = runtime::Preflight(Parsed(r.config));
    ASSERT_FALSE(s.ok());
    EXPECT_TRUE(s.Is(NtStatus::kInvalidParameter)) << s.ToString();
    for (const char* w : r.words) EXPECT_NE(s.message().find(w), std::string::npos) << s.message();
  }
  // What Runtime::Start refuses first, in its words.
  config::Config iscsi;
  config::IscsiTargetConfig target;
  target.name = "iqn.2024-01.org.example:disk";
  target.portals = {"127.0.0.1:3260"};
  iscsi.targets.push_back(target);
  EXPECT_TRUE(runtime::Preflight(iscsi).ok()) << runtime::Preflight(iscsi).ToString();
  for (int p = 1; p < 65; ++p)
    iscsi.targets[0].portals.push_back("127.0.0.1:" + std::to_string(20000 + p));
  const Status paths = runtime::Preflight(iscsi);
  EXPECT_TRUE(paths.Is(NtStatus::kInvalidParameter)) << paths.ToString();
  EXPECT_NE(paths.message().find("65 portals"), std::string::npos) << paths.message();
  EXPECT_NE(runtime::Preflight(config::Config{}).message().find("neither [sim] nor [[target]]"),
            std::string::npos);
  // A Config built in code skips the parser's checks: a size that is no
  // multiple of the block size, a delay the clock cannot hold.
  config::Config odd = config::DemoConfig();
  odd.sim->lus[0].size_bytes += 100;
  EXPECT_NE(runtime::Preflight(odd).message().find("not a multiple of the block size"),
            std::string::npos);
  config::Config slow = config::DemoConfig();
  slow.sim->ports[0].latency_us = UINT64_MAX;
  EXPECT_NE(runtime::Preflight(slow).message().find("latency_us"), std::string::npos);
}

// Preflight and Runtime::Start agree on the array: what one refuses the
// other does, with the same words.
TEST(Preflight, RefusesTheLuRuntimeStartWouldRefuse) {
  const config::Config c = Parsed(SimText(2, 1, kMaxLuBlocks + 1));
  const Status pre = runtime::Preflight(c);
  runtime::RuntimeOptions o;
  o.management = false;
  o.reactors = 1;
  auto rt = runtime::Runtime::Start(c, o);
  ASSERT_FALSE(rt.has_value());
  ASSERT_FALSE(pre.ok());
  EXPECT_EQ(rt.error().message(), pre.message());  // Start runs Preflight first
}

// ---- nbdkit -----------------------------------------------------------------------

#define REQUIRE_NBDKIT()                                                              \
  do {                                                                                \
    if (!HaveProgram("nbdkit")) GTEST_SKIP() << "nbdkit is not installed";            \
    ASSERT_TRUE(std::filesystem::exists(kPlugin)) << "plugin not built: " << kPlugin; \
  } while (0)

TEST(NbdkitPreflight, RefusesInTheForegroundWithoutServing) {
  REQUIRE_NBDKIT();
  for (const Refusal& r : Refusals()) ExpectRefusedBeforeFork(r, false);
}

TEST(NbdkitPreflight, RefusesAsADaemonBeforeForking) {
  REQUIRE_NBDKIT();
  for (const Refusal& r : Refusals()) ExpectRefusedBeforeFork(r, true);
}

// At the limits (2^48 blocks, 64 ports) the daemon starts, exits 0 and
// serves the whole 2^57 bytes.
TEST(NbdkitPreflight, ServesTheLargestLuAsADaemon) {
  REQUIRE_NBDKIT();
  if (!HaveProgram("nbdinfo")) GTEST_SKIP() << "nbdinfo is not installed";
  TempDir dir;
  WriteFile(dir / "max.toml", SimText(64, 1, kMaxLuBlocks));
  const std::string sock = dir / "sock";
  const std::string pidfile = dir / "nbdkit.pid";
  const RunResult r = Sh(
      "nbdkit -U " + sock + " -P " + pidfile + " " + kPlugin + " config=" + (dir / "max.toml"), 30);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  const RunResult size = Sh("nbdinfo --size \"nbd+unix:///?socket=" + sock + "\"", 30);
  StopDaemon(pidfile);
  EXPECT_EQ(size.exit_code, 0) << size.output;
  EXPECT_EQ(size.output, std::to_string(kMaxLuBlocks * 512) + "\n");
}

// What only the running engine can refuse (a [[disk]] policy the method
// refuses: Round Robin on asymmetric ALUA, check 10) fails after the fork.
// nbdkit's parent used to exit 0 at the fork; it now waits for the child's
// verdict and exits non-zero, while the foreground exits 1 as before.
TEST(NbdkitPreflight, AStartUpFailureAfterTheForkIsANonZeroExitAsADaemonToo) {
  REQUIRE_NBDKIT();
  for (const bool daemon : {true, false}) {
    SCOPED_TRACE(daemon ? "daemon" : "foreground");
    TempDir dir;
    WriteFile(dir / "rr.toml", "[management]\nenabled = false\n[sim]\n" + SimPort(1, 1) +
                                   SimPort(2, 2) + SimLu(0, "8MiB", 1) +
                                   "[[disk]]\ndesignator = \"" + kLu0 + "\"\npolicy = \"rr\"\n");
    const std::string pidfile = dir / "nbdkit.pid";
    const RunResult r = Sh(std::string("nbdkit ") + (daemon ? "" : "-f ") + "-U " + (dir / "sock") +
                               " -P " + pidfile + " " + kPlugin + " config=" + (dir / "rr.toml"),
                           60);
    StopDaemon(pidfile);
    EXPECT_NE(r.exit_code, 0) << r.output;
    if (daemon) {
      EXPECT_NE(r.output.find("the engine did not start"), std::string::npos) << r.output;
    } else {
      EXPECT_NE(r.output.find("check 10"), std::string::npos) << r.output;
    }
  }
  // And a daemon that starts still exits 0 (ServesTheLargestLuAsADaemon).
}

}  // namespace
}  // namespace openmpio::nbdtest

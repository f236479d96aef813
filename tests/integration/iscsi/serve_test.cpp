// openmpio serving a real iSCSI LU to a real client: nbdkit with our plugin,
// a [[target]] of two portals (socat proxies in front of one tgtd), and fio
// writing with crc32c verification while one path is killed and restored
// and the other hung (SIGSTOP) and resumed. Every fio run must pass: no I/O
// error reaches the client and no block reads back other than written. The
// engine's events (printed by the plugin with -v when it unloads) show the
// path failures and what fenced the hung path's writes.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "../nbd/nbd_harness.h"
#include "iscsi_harness.h"

namespace openmpio::transport::iscsi {
namespace {

using namespace std::chrono_literals;
using nbdtest::RunResult;
using nbdtest::Server;
using nbdtest::Sh;
using testing::Proxy;
using testing::Tgt;

std::size_t Count(const std::string& haystack, const std::string& needle) {
  std::size_t n = 0;
  for (auto at = haystack.find(needle); at != std::string::npos;
       at = haystack.find(needle, at + needle.size())) {
    ++n;
  }
  return n;
}

TEST(IscsiServe, FioVerifiesThroughNbdkitWhileOnePathIsKilledAndTheOtherHung) {
  if (const std::string why = testing::TgtUnavailable(); !why.empty()) GTEST_SKIP() << why;
  if (!testing::HaveTool("fio") || !testing::HaveTool("nbdkit")) {
    GTEST_SKIP() << "fio or nbdkit not installed";
  }
  Tgt tgt;
  ASSERT_EQ(tgt.Start(), "");
  Proxy a(tgt.port(), (tgt.dir() / "socat-a.log").string());
  Proxy b(tgt.port(), (tgt.dir() / "socat-b.log").string());
  ASSERT_TRUE(a.Start());
  ASSERT_TRUE(b.Start());

  nbdtest::TempDir dir;
  const std::string config =
      "[management]\nenabled = false\n\n[timers]\ncommand_timeout = 3\nRetryInterval = 1\n\n"
      "[[target]]\nname = \"" +
      std::string(Tgt::kTarget) + "\"\nportals = [\"" + a.portal() + "\", \"" + b.portal() +
      "\"]\nluns = [300]\nlogin_timeout = 2\n";
  Server server(dir, config, {"-v"});
  ASSERT_TRUE(server.ready()) << server.Log();

  // fio again and again until told to stop; each run writes the first half
  // of the LU (16 MiB) at queue depth 16, verifying as it goes
  // (verify_backlog) and at the end. Beside it, a second connection only
  // writes the other half for the whole schedule, so that writes are in
  // flight whenever a path is cut (the verify runs spend part of their time
  // reading).
  std::atomic<bool> stop{false};
  std::vector<RunResult> runs;
  std::thread client([&] {
    while (!stop.load()) {
      runs.push_back(Sh("fio --name=verify --ioengine=nbd --uri=\"" + server.Uri("") +
                            "\" --rw=randwrite --bs=4k --size=16M --iodepth=16"
                            " --verify=crc32c --verify_state_save=0 --do_verify=1"
                            " --verify_backlog=256 --output-format=terse",
                        60));
    }
  });
  RunResult load;
  std::thread writer([&] {
    load = Sh("fio --name=load --ioengine=nbd --uri=\"" + server.Uri("") +
                  "\" --rw=randwrite --bs=4k --offset=16M --size=16M --iodepth=16"
                  " --time_based --runtime=13 --output-format=terse",
              60);
  });
  std::this_thread::sleep_for(1s);
  const int port_a = a.port();
  a.Kill();  // connection reset
  std::this_thread::sleep_for(2s);
  ASSERT_TRUE(a.Start(port_a));
  std::this_thread::sleep_for(3s);  // a is reinstated (RetryInterval 1 s)
  b.Signal(SIGSTOP);                // a hang, commands in flight
  std::this_thread::sleep_for(3s);
  b.Signal(SIGCONT);
  std::this_thread::sleep_for(3s);
  stop.store(true);
  client.join();
  writer.join();
  EXPECT_EQ(load.exit_code, 0) << load.output;

  ASSERT_GE(runs.size(), 2u);
  for (std::size_t i = 0; i < runs.size(); ++i) {
    EXPECT_EQ(runs[i].exit_code, 0) << "fio run " << i << ":\n" << runs[i].output;
    EXPECT_EQ(runs[i].output.find("verify:"), std::string::npos) << runs[i].output;
    EXPECT_EQ(runs[i].output.find("error"), std::string::npos) << runs[i].output;
  }
  EXPECT_TRUE(server.Stop());
  // nbdkit -v logs every request too: keep the engine's events only.
  std::string log;
  {
    std::istringstream all(server.Log());
    for (std::string line; std::getline(all, line);) {
      if (line.find("openmpio: event:") != std::string::npos) log += line + "\n";
    }
  }
  EXPECT_GE(Count(log, "connection lost"), 1u) << log;
  // The hung path: its writes in flight were re-sent elsewhere and fenced,
  // by the answer to our ABORT TASK or by the reinstated session.
  const std::size_t unknown = Count(log, "has an unknown fate");
  EXPECT_GE(unknown, 1u) << log;
  EXPECT_GE(
      Count(log, "fenced by ABORT TASK answered") + Count(log, "fenced by session reinstatement"),
      1u)
      << log;
  EXPECT_EQ(Count(log, "not fenced within the no-path time"), 0u) << log;
  std::cout << "fio runs: " << runs.size() << ", writes of unknown fate: " << unknown << "\n";
}

}  // namespace
}  // namespace openmpio::transport::iscsi

// mpioctl against a peer whose replies lack fields a command reads (an older
// or broken engine): each read ends in exit 2 and one line on stderr that
// names the field, prints nothing on stdout, and sends no set. Before
// print.h's Field()/List(), such a reply was read through const
// json::operator[], which is undefined on a missing key (`why` printed
// garbage and exited 0).
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <string_view>

#include "mpioctl_runner.h"
#include "socket_helpers.h"

namespace openmpio::mgmt {
namespace {

using testing::CommandResult;

class MpioctlFieldTest : public ::testing::Test {
 protected:
  void SetUp() override {
    exe = testing::MpioctlPath();
    if (exe.empty() || ::access(exe.c_str(), X_OK) != 0) {
      GTEST_SKIP() << "mpioctl not built at " << exe;
    }
    path = dir.path + "/fake.sock";
  }

  // A peer that answers every request line with `reply` (and a newline),
  // on one connection as the engine does; `requests` counts the lines.
  void Serve(const std::string& reply) {
    server = std::make_unique<testing::sock::FakeServer>(
        path, [this, line = reply + "\n"](int fd, const std::atomic<bool>& stop) {
          ++requests;  // the first line, read by FakeServer
          testing::sock::SendUnlessStopped(fd, line, stop);
          while (!stop.load()) {
            pollfd p{fd, POLLIN, 0};
            if (::poll(&p, 1, 20) <= 0) continue;
            char buf[4096];
            const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
            if (n <= 0) return;
            for (const char c : std::string_view(buf, static_cast<std::size_t>(n))) {
              if (c != '\n') continue;
              ++requests;
              testing::sock::SendUnlessStopped(fd, line, stop);
            }
          }
        });
    ASSERT_TRUE(server->ok());
  }

  // mpioctl `args`: its stderr in `out`, its stdout in `stdout_text`.
  // `timeout 60` ends an mpioctl that hangs (exit 124).
  CommandResult Run(const std::string& args) {
    const std::string out_file = dir.path + "/stdout";
    CommandResult r = testing::RunShell("timeout 60 " + exe + " --socket " + path +
                                        " --timeout 5 " + args + " 2>&1 >" + out_file);
    std::ifstream in(out_file);
    stdout_text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    return r;
  }

  // Exit 2, one line on stderr naming `field`, nothing on stdout.
  void ExpectLacks(const std::string& args, const std::string& field) {
    const CommandResult r = Run(args);
    EXPECT_EQ(r.exit_code, 2) << args << "\n" << r.out;
    EXPECT_EQ(r.out,
              "mpioctl: the engine's reply lacks a field this command reads: \"" + field + "\"\n")
        << args;
    EXPECT_EQ(stdout_text, "") << args;
  }

  std::string exe;
  testing::sock::TempDir dir;
  std::string path;
  std::atomic<int> requests{0};
  std::unique_ptr<testing::sock::FakeServer> server;  // after `requests`, which it counts
  std::string stdout_text;
};

// A bare status object: every read names the list or object it walks.
TEST_F(MpioctlFieldTest, EachReadNamesTheFieldABareStatusLacks) {
  Serve(R"({"Status":0})");
  ExpectLacks("show", "Disks");
  ExpectLacks("show data", "Disks");
  ExpectLacks("policy get data", "LoadBalancePolicy");
  ExpectLacks("why data", "Paths");
  ExpectLacks("events", "Events");
  ExpectLacks("stats", "Disks");  // ListDisks
  ExpectLacks("stats data", "PerfInfo");
  ExpectLacks("default-policy get --vendor OPENMPIO", "TargetDefaultPolicyInfo");
}

// The sets that change the disk's current policy send nothing when its
// query reply lacks the paths they change: one request (the query) per run.
TEST_F(MpioctlFieldTest, APolicySetSendsNothingWithoutThePolicyItChanges) {
  Serve(R"({"Status":0,"LoadBalancePolicy":{"Version":2,"LoadBalancePolicy":3}})");
  ExpectLacks("policy set data lqd", "DSM_Paths");
  EXPECT_EQ(requests.load(), 1);
  ExpectLacks("policy set-alua data --path 0x1=AO", "DSM_Paths");
  EXPECT_EQ(requests.load(), 2);
  ExpectLacks("policy get data", "DSM_Paths");
}

// Inside a disk of Show: its lists, and the identifier that files its paths
// under a group. Nothing of the disk is printed.
TEST_F(MpioctlFieldTest, ADiskOfShowWithoutItsListsOrGroupIdentifier) {
  Serve(R"({"Status":0,"Disks":[{"InstanceName":"naa.1","Paths":[]}]})");
  ExpectLacks("show", "TargetPortGroups");
  server.reset();
  Serve(R"({"Status":0,"Disks":[{"InstanceName":"naa.1","TargetPortGroups":[]}]})");
  ExpectLacks("show", "Paths");
  server.reset();
  Serve(R"({"Status":0,"Disks":[{"InstanceName":"naa.1","TargetPortGroups":[{"State":"Standby"}],)"
        R"("Paths":[]}]})");
  const CommandResult r = Run("show");
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_EQ(r.out,
            "mpioctl: the engine's reply lacks a field this command reads: "
            "\"TargetPortGroup_Identifier\"\n");
}

// A list of another type is said as such, with the type it has.
TEST_F(MpioctlFieldTest, AListOfAnotherType) {
  Serve(R"({"Status":0,"Events":{"TimeMs":1}})");
  const CommandResult r = Run("events");
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_EQ(r.out,
            "mpioctl: the engine's reply lacks a field this command reads: \"Events\" as a list "
            "(it is of type object)\n");
  EXPECT_EQ(stdout_text, "");
}

// What a command only prints may be missing: "-" in its place. Retries and
// latency come from Show, best effort: a Show reply without them (here the
// same reply as the counters') prints the counters alone.
TEST_F(MpioctlFieldTest, FieldsOnlyPrintedMayBeMissing) {
  Serve(R"({"Status":0,"PerfInfo":[{"PathId":"0x1","NumberReads":3,"BytesRead":5}]})");
  CommandResult r = Run("stats data");
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(stdout_text, "data\n  0x1 reads=3 writes=- bytes_read=5 bytes_written=-\n");
  server.reset();
  Serve(R"({"Status":0,"Paths":[{"DsmPathId":"0x1"}]})");
  r = Run("why data");
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(stdout_text, "-: policy -, -\n  0x1 -\n");
}

}  // namespace
}  // namespace openmpio::mgmt

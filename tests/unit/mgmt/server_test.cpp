// The management socket server (src/mgmt/server.cpp) over real unix sockets
// in a temporary folder, with the fake engine of fake_backend.h.
#include "mgmt/server.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>

#include "fake_backend.h"
#include "socket_helpers.h"

namespace openmpio::mgmt {
namespace {

using nlohmann::json;
using testing::FakeBackend;
using testing::Populate;
using namespace testing::sock;

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Populate(backend);
    path = dir.path + "/mgmt.sock";
  }
  TempDir dir;
  std::string path;
  FakeBackend backend;
};

TEST_F(ServerTest, AnswersOverTheSocketWhichIsMode0600) {
  Server server(backend);
  ASSERT_TRUE(server.Start(path).ok());
  struct stat st;
  ASSERT_EQ(::lstat(path.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0600U);
  Fd c = Connect(path);
  ASSERT_TRUE(c.ok());
  SendAll(c, "{\"method\":\"ListDisks\"}\n");
  const auto line = ReadLine(c, 2000);
  ASSERT_TRUE(line);
  const json r = json::parse(*line);
  EXPECT_EQ(r["Status"], 0);
  EXPECT_EQ(r["Disks"].size(), 2U);
}

TEST_F(ServerTest, PipelinedRequestsAreAnsweredInOrderOneLineEach) {
  Server server(backend);
  ASSERT_TRUE(server.Start(path).ok());
  Fd c = Connect(path);
  SendAll(c, "{\"method\":\"ListDisks\"}\r\n\nnot json\n{\"method\":\"MPIO_TIMERS_COUNTERS\"}\n");
  const auto a = ReadLine(c, 2000);
  const auto b = ReadLine(c, 2000);
  const auto d = ReadLine(c, 2000);
  ASSERT_TRUE(a && b && d);
  EXPECT_TRUE(json::parse(*a).contains("Disks"));
  EXPECT_EQ(json::parse(*b)["Status"], 0xC000000DU);
  EXPECT_EQ(json::parse(*d)["RetryCount"], 3);
}

TEST_F(ServerTest, StaleSocketFileIsReplaced) {
  {
    // A socket file left behind by a dead server: bound, never unlinked.
    Fd s(::socket(AF_UNIX, SOCK_STREAM, 0));
    sockaddr_un addr = Address(path);
    ASSERT_EQ(::bind(s.fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  }
  Server server(backend);
  const Status st = server.Start(path);
  ASSERT_TRUE(st.ok()) << st.ToString();
  Fd c = Connect(path);
  SendAll(c, "{\"method\":\"ListDisks\"}\n");
  EXPECT_TRUE(ReadLine(c, 2000));
}

TEST_F(ServerTest, RefusesAPathWhereALiveServerListensOrAFileIs) {
  Server first(backend);
  ASSERT_TRUE(first.Start(path).ok());
  Server second(backend);
  const Status st = second.Start(path);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("already listening"), std::string::npos) << st.ToString();
  // The first one still serves, and its file is still there.
  Fd c = Connect(path);
  SendAll(c, "{\"method\":\"ListDisks\"}\n");
  EXPECT_TRUE(ReadLine(c, 2000));
  const std::string file = dir.path + "/plain";
  { std::FILE* f = std::fopen(file.c_str(), "w"); std::fclose(f); }
  Server third(backend);
  EXPECT_FALSE(third.Start(file).ok());
  EXPECT_EQ(::access(file.c_str(), F_OK), 0);  // not removed
}

TEST_F(ServerTest, AClientSendingHalfALineDoesNotBlockAnother) {
  Server server(backend);
  ASSERT_TRUE(server.Start(path).ok());
  Fd slow = Connect(path);
  SendAll(slow, "{\"method\":\"List");
  Fd quick = Connect(path);
  SendAll(quick, "{\"method\":\"MPIO_TIMERS_COUNTERS\"}\n");
  const auto r = ReadLine(quick, 2000);
  ASSERT_TRUE(r);
  EXPECT_EQ(json::parse(*r)["Status"], 0);
  EXPECT_FALSE(ReadLine(slow, 100));  // nothing for the half line yet
  SendAll(slow, "Disks\"}\n");
  const auto s = ReadLine(slow, 2000);
  ASSERT_TRUE(s);
  EXPECT_TRUE(json::parse(*s).contains("Disks"));
}

TEST_F(ServerTest, ASlowBackendAnswerBlocksNeitherTheLoopNorOtherClients) {
  backend.defer.insert("ListDisks");
  Server server(backend);
  ASSERT_TRUE(server.Start(path).ok());
  Fd waiting = Connect(path);
  SendAll(waiting, "{\"method\":\"ListDisks\"}\n");
  Fd other = Connect(path);
  SendAll(other, "{\"method\":\"MPIO_TIMERS_COUNTERS\"}\n");
  const auto r = ReadLine(other, 2000);
  ASSERT_TRUE(r);
  EXPECT_EQ(json::parse(*r)["RetryCount"], 3);
  EXPECT_FALSE(ReadLine(waiting, 100));
  // The engine answers later, from another thread.
  for (int i = 0; i < 200 && backend.DeferredCount() == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  std::thread engine([&] { backend.RunDeferred(); });
  engine.join();
  const auto w = ReadLine(waiting, 2000);
  ASSERT_TRUE(w);
  EXPECT_EQ(json::parse(*w)["Disks"].size(), 2U);
}

TEST_F(ServerTest, OversizeLineGetsAStatusAndTheConnectionCloses) {
  Server server(backend);
  ASSERT_TRUE(server.Start(path).ok());
  Fd c = Connect(path);
  std::string big(kMaxRequestBytes + 10, 'x');
  // The server stops reading after the limit: send from a thread.
  std::thread sender([&] { SendAll(c, big); });
  const auto r = ReadLine(c, 5000);
  sender.join();
  ASSERT_TRUE(r);
  const json j = json::parse(*r);
  EXPECT_EQ(j["Status"], 0xC000000DU);
  EXPECT_NE(j["Message"].get<std::string>().find("longer than 1048576"), std::string::npos);
  EXPECT_TRUE(WaitClosed(c, 2000));
  // Others are still served.
  Fd d = Connect(path);
  SendAll(d, "{\"method\":\"ListDisks\"}\n");
  EXPECT_TRUE(ReadLine(d, 2000));
}

TEST_F(ServerTest, ALineOfExactlyTheLimitIsAccepted) {
  Server server(backend);
  ASSERT_TRUE(server.Start(path).ok());
  std::string line = "{\"method\":\"ListDisks\",\"pad\":\"";
  line.append(kMaxRequestBytes - line.size() - 2, 'x');
  line += "\"}";
  ASSERT_EQ(line.size(), kMaxRequestBytes);
  Fd c = Connect(path);
  std::thread sender([&] { SendAll(c, line + "\n"); });
  const auto r = ReadLine(c, 5000);
  sender.join();
  ASSERT_TRUE(r);
  EXPECT_EQ(json::parse(*r)["Status"], 0);
}

TEST_F(ServerTest, StopClosesConnectionsUnlinksAndDropsLateAnswers) {
  backend.defer.insert("ListDisks");
  auto server = std::make_unique<Server>(backend);
  ASSERT_TRUE(server->Start(path).ok());
  Fd c = Connect(path);
  SendAll(c, "{\"method\":\"ListDisks\"}\n");
  for (int i = 0; i < 200 && backend.DeferredCount() == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  server->Stop();
  EXPECT_NE(::access(path.c_str(), F_OK), 0);
  EXPECT_TRUE(WaitClosed(c, 2000));
  EXPECT_EQ(backend.RunDeferred(), 1U);  // the late answer goes nowhere
  server.reset();
  // The path is free for a new server.
  Server again(backend);
  EXPECT_TRUE(again.Start(path).ok());
}

TEST(DefaultSocketPathTest, XdgRuntimeDirForUsersRunForRoot) {
  const std::string p = DefaultSocketPath();
  if (::geteuid() == 0) {
    EXPECT_EQ(p, "/run/openmpio/mgmt.sock");
  } else if (const char* x = std::getenv("XDG_RUNTIME_DIR"); x != nullptr && *x != '\0') {
    EXPECT_EQ(p, std::string(x) + "/openmpio.sock");
  }
}

}  // namespace
}  // namespace openmpio::mgmt

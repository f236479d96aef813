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
#include <vector>

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
  {
    std::FILE* f = std::fopen(file.c_str(), "w");
    std::fclose(f);
  }
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

// True once `done()` holds, polled for up to timeout_ms.
template <typename F>
bool Eventually(F done, int timeout_ms = 5000) {
  for (int waited = 0; waited < timeout_ms; waited += 5) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return done();
}

// Issue 13 item 4: max_clients connections left open and idle (the default
// options: 64, and an idle timeout far away) do not lock the operator out.
// Accepting one into the last free slot closes the longest-idle first.
TEST_F(ServerTest, ANewClientGetsInWhenMaxClientsConnectionsAreIdle) {
  Server server(backend);
  ASSERT_TRUE(server.Start(path).ok());
  const std::size_t max_clients = ServerOptions{}.max_clients;
  std::vector<Fd> idle;
  for (std::size_t i = 0; i < max_clients; ++i) {
    idle.push_back(Connect(path));
    ASSERT_TRUE(idle.back().ok()) << i;
    // One at a time, so "longest idle" is the order of connecting.
    ASSERT_TRUE(Eventually([&] { return server.counters().accepted == i + 1; })) << i;
  }
  Fd op = Connect(path);
  ASSERT_TRUE(op.ok());
  SendAll(op, "{\"method\":\"MPIO_TIMERS_COUNTERS\"}\n");
  const auto r = ReadLine(op, 5000);
  ASSERT_TRUE(r);
  EXPECT_EQ(json::parse(*r)["RetryCount"], 3);
  // The 64th and the operator's each closed the longest-idle: the first two.
  EXPECT_TRUE(WaitClosed(idle[0], 2000));
  EXPECT_TRUE(WaitClosed(idle[1], 2000));
  const ServerCounters n = server.counters();
  EXPECT_EQ(n.accepted, max_clients + 1);
  EXPECT_EQ(n.closed_for_room, 2U);
  EXPECT_EQ(n.refused, 0U);
  EXPECT_EQ(n.closed_idle, 0U);
  // The third is still served.
  SendAll(idle[2], "{\"method\":\"ListDisks\"}\n");
  EXPECT_TRUE(ReadLine(idle[2], 2000));
}

// Idle: connected and silent, half a line sent, or answered and then
// silent. A connection whose request is with the backend is not idle.
TEST_F(ServerTest, IdleConnectionsAreClosedAfterTheIdleTimeoutBusyOnesAreNot) {
  backend.defer.insert("ListDisks");
  ServerOptions options;
  options.idle_timeout = std::chrono::milliseconds(200);
  Server server(backend, options);
  ASSERT_TRUE(server.Start(path).ok());
  Fd busy = Connect(path);
  SendAll(busy, "{\"method\":\"ListDisks\"}\n");
  ASSERT_TRUE(Eventually([&] { return backend.DeferredCount() == 1; }));
  Fd silent = Connect(path);
  Fd half = Connect(path);
  SendAll(half, "{\"method\":\"List");
  Fd answered = Connect(path);
  SendAll(answered, "{\"method\":\"MPIO_TIMERS_COUNTERS\"}\n");
  ASSERT_TRUE(ReadLine(answered, 2000));
  EXPECT_TRUE(WaitClosed(silent, 5000));
  EXPECT_TRUE(WaitClosed(half, 5000));
  EXPECT_TRUE(WaitClosed(answered, 5000));
  EXPECT_EQ(server.counters().closed_idle, 3U);
  // Well past its timeout, the busy one still gets its answer.
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  EXPECT_EQ(backend.RunDeferred(), 1U);
  const auto r = ReadLine(busy, 2000);
  ASSERT_TRUE(r);
  EXPECT_EQ(json::parse(*r)["Disks"].size(), 2U);
  // Then it is idle like the others.
  EXPECT_TRUE(WaitClosed(busy, 5000));
  EXPECT_EQ(server.counters().closed_idle, 4U);
}

// A client that sends requests but never reads the replies holds its slot
// only for the idle timeout once its socket buffer is full.
TEST_F(ServerTest, AClientThatDoesNotReadItsRepliesIsClosedAfterTheIdleTimeout) {
  ServerOptions options;
  options.idle_timeout = std::chrono::milliseconds(200);
  Server server(backend, options);
  ASSERT_TRUE(server.Start(path).ok());
  Fd c = Connect(path);
  std::string requests;
  for (int i = 0; i < 5000; ++i) requests += "{\"method\":\"Show\"}\n";
  // The server stops reading while its replies wait: send from a thread
  // (it ends when the server closes the connection).
  std::thread sender([&] { SendAll(c, requests); });
  EXPECT_TRUE(Eventually([&] { return server.counters().closed_idle == 1; }, 10000));
  sender.join();
  EXPECT_TRUE(WaitClosed(c, 5000));
}

// When every connection has a request at the backend there is none to close
// for room: the new one is refused, and the others are still answered.
TEST_F(ServerTest, WhenEverySlotIsBusyANewClientIsRefused) {
  backend.defer.insert("ListDisks");
  ServerOptions options;
  options.max_clients = 2;
  Server server(backend, options);
  ASSERT_TRUE(server.Start(path).ok());
  Fd a = Connect(path);
  SendAll(a, "{\"method\":\"ListDisks\"}\n");
  ASSERT_TRUE(Eventually([&] { return backend.DeferredCount() == 1; }));
  Fd b = Connect(path);
  SendAll(b, "{\"method\":\"ListDisks\"}\n");
  ASSERT_TRUE(Eventually([&] { return backend.DeferredCount() == 2; }));
  Fd c = Connect(path);
  EXPECT_TRUE(WaitClosed(c, 2000));
  EXPECT_EQ(server.counters().refused, 1U);
  EXPECT_EQ(server.counters().closed_for_room, 0U);
  EXPECT_EQ(backend.RunDeferred(), 2U);
  EXPECT_TRUE(ReadLine(a, 2000));
  EXPECT_TRUE(ReadLine(b, 2000));
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

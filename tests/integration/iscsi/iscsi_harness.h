// What the iscsi integration tests share: a tgtd on 127.0.0.1 with a private
// control port and a free iSCSI port (LAB.md "Targets"), a socat proxy per
// path cut by signalling its process group (LAB.md "Cutting paths"), and
// helpers to drive an IscsiNexus on a real Reactor from the test thread.
// Every process is stopped by its PID; nothing outlives the test.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/reactor.h"
#include "test_io.h"
#include "transport/iscsi/iscsi_nexus.h"

extern char** environ;

namespace openmpio::transport::iscsi::testing {

inline bool HaveTool(const std::string& name) {
  return openmpio::testing::RunTool("command -v " + name).exit_code == 0;
}

// Why the tests that start tgtd cannot run here ("" when they can).
inline std::string TgtUnavailable() {
  for (const char* tool : {"tgtd", "tgtadm", "socat"}) {
    if (!HaveTool(tool)) return std::string(tool) + " is not installed";
  }
  if (geteuid() != 0) return "tgtd needs root";
  return "";
}

// A port nobody listens on right now (the kernel's pick).
inline int FreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof a;
  int port = -1;
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
    port = ntohs(a.sin_port);
  }
  close(fd);
  return port;
}

inline bool PortAccepts(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  const bool ok = connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  close(fd);
  return ok;
}

inline bool WaitPort(int port, std::chrono::milliseconds bound) {
  const auto end = std::chrono::steady_clock::now() + bound;
  while (std::chrono::steady_clock::now() < end) {
    if (PortAccepts(port)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

// Starts argv[0] with argv; in its own session (process group) when asked.
inline pid_t Spawn(const std::vector<std::string>& args, const std::string& log, bool setsid) {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  if (setsid) posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID);
  pid_t pid = -1;
  if (posix_spawnp(&pid, argv[0], &fa, &attr, argv.data(), environ) != 0) pid = -1;
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  return pid;
}

inline bool WaitExit(pid_t pid, std::chrono::milliseconds bound) {
  const auto end = std::chrono::steady_clock::now() + bound;
  while (std::chrono::steady_clock::now() < end) {
    if (waitpid(pid, nullptr, WNOHANG) == pid) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

// tgtd with one target: LUN 1 (16 MiB) and LUN 300 (32 MiB), file-backed.
class Tgt {
 public:
  static constexpr const char* kTarget = "iqn.2024-01.test:openmpio-iscsi";
  static constexpr std::uint64_t kLun1Bytes = 16ull << 20;
  static constexpr std::uint64_t kLun300Bytes = 32ull << 20;

  Tgt() : dir_("openmpio-iscsi") {}
  ~Tgt() { Stop(); }

  // "" when started; else why not.
  std::string Start() {
    port_ = FreePort();
    ctl_ = 1000 + port_ % 30000;  // a private control socket (tgtd takes < 32768)
    const std::string d = dir_.path().string();
    if (openmpio::testing::RunTool("truncate -s " + std::to_string(kLun1Bytes) + " " + d +
                                   "/lun1.img && truncate -s " + std::to_string(kLun300Bytes) +
                                   " " + d + "/lun300.img")
            .exit_code != 0) {
      return "cannot make the backing files";
    }
    pid_ = Spawn({"tgtd", "-f", "-C", std::to_string(ctl_), "--iscsi",
                  "portal=127.0.0.1:" + std::to_string(port_)},
                 d + "/tgtd.log", false);
    if (pid_ <= 0) return "cannot start tgtd";
    if (!WaitPort(port_, std::chrono::seconds(5))) return "tgtd does not listen";
    const std::string adm = "tgtadm -C " + std::to_string(ctl_) + " --lld iscsi ";
    for (const std::string& cmd :
         {adm + "--op new --mode target --tid 1 -T " + kTarget,
          adm + "--op new --mode logicalunit --tid 1 --lun 1 -b " + d + "/lun1.img",
          adm + "--op new --mode logicalunit --tid 1 --lun 300 -b " + d + "/lun300.img",
          adm + "--op bind --mode target --tid 1 -I ALL"}) {
      const auto r = openmpio::testing::RunTool(cmd);
      if (r.exit_code != 0) return cmd + ": " + r.output;
    }
    return "";
  }

  // Adds LUN `lun` of `bytes` (a new backing file) to the running target,
  // or removes it, as an administrator would; "" when done, else why not.
  // tgt then raises REPORTED LUNS DATA HAS CHANGED (3F/0E) on every LU of
  // every I_T nexus.
  std::string AddLu(int lun, std::uint64_t bytes) {
    const std::string file = dir_.path().string() + "/lun" + std::to_string(lun) + ".img";
    return Admin("truncate -s " + std::to_string(bytes) + " " + file + " && tgtadm -C " +
                 std::to_string(ctl_) + " --lld iscsi --op new --mode logicalunit --tid 1 --lun " +
                 std::to_string(lun) + " -b " + file);
  }
  // CHAP on target 1: initiators must log in as user/secret; with a
  // target_user, the target answers the initiator's challenge as that one
  // (mutual). "" when done.
  std::string RequireChap(const std::string& user, const std::string& secret,
                          const std::string& target_user = "",
                          const std::string& target_secret = "") {
    const std::string adm = "tgtadm -C " + std::to_string(ctl_) + " --lld iscsi ";
    std::string why =
        Admin(adm + "--op new --mode account --user " + user + " --password " + secret + " && " +
              adm + "--op bind --mode account --tid 1 --user " + user);
    if (why.empty() && !target_user.empty()) {
      why = Admin(adm + "--op new --mode account --user " + target_user + " --password " +
                  target_secret + " && " + adm +
                  "--op bind --mode account --tid 1 --outgoing --user " + target_user);
    }
    return why;
  }
  // A second portal of tgtd's (both are one target port, tag 1: LAB.md).
  std::string AddPortal(int port) {
    return Admin(
        "tgtadm -C " + std::to_string(ctl_) +
        " --lld iscsi --op new --mode portal --param portal=127.0.0.1:" + std::to_string(port));
  }
  std::string RemoveLu(int lun) {
    return Admin("tgtadm -C " + std::to_string(ctl_) +
                 " --lld iscsi --op delete --mode logicalunit --tid 1 --lun " +
                 std::to_string(lun));
  }

  void Stop() {
    if (pid_ <= 0) return;
    // tgtd ignores SIGTERM while it has targets (LAB.md).
    const std::string ctl = std::to_string(ctl_);
    openmpio::testing::RunTool("timeout 10 tgtadm -C " + ctl +
                               " --lld iscsi --op delete --mode target --tid 1 --force");
    openmpio::testing::RunTool("timeout 10 tgtadm -C " + ctl + " --op delete --mode system");
    if (!WaitExit(pid_, std::chrono::seconds(5))) {
      kill(pid_, SIGKILL);
      WaitExit(pid_, std::chrono::seconds(5));
    }
    pid_ = -1;
    std::error_code ec;  // tgtd leaves its control socket behind
    std::filesystem::remove("/var/run/tgtd/socket." + ctl, ec);
    std::filesystem::remove("/var/run/tgtd/socket." + ctl + ".lock", ec);
  }

  [[nodiscard]] int port() const { return port_; }
  [[nodiscard]] std::string portal() const { return "127.0.0.1:" + std::to_string(port_); }
  [[nodiscard]] const std::filesystem::path& dir() const { return dir_.path(); }

 private:
  static std::string Admin(const std::string& cmd) {
    const auto r = openmpio::testing::RunTool(cmd);
    return r.exit_code == 0 ? "" : cmd + ": " + r.output;
  }

  openmpio::testing::TempDir dir_;
  pid_t pid_ = -1;
  int port_ = -1;
  int ctl_ = -1;
};

// istgt (LAB.md "Targets"): one LU (LUN 0, 64 MiB, file-backed) mapped to
// two portal groups on free ports, which istgt makes two target ports in two
// target port groups (VPD 0x83 names them; RTPG answers every group A/O,
// STPG takes A/O and A/N; INQUIRY's TPGS is 0).
class Istgt {
 public:
  static constexpr const char* kTarget = "iqn.2024-01.test:disk1";
  static constexpr std::uint64_t kLuBytes = 64ull << 20;

  Istgt() : dir_("openmpio-istgt") {}
  ~Istgt() { Stop(); }
  Istgt(const Istgt&) = delete;
  Istgt& operator=(const Istgt&) = delete;

  std::string Start() {
    const std::string d = dir_.path().string();
    ports_ = {FreePort(), FreePort()};
    const int control = FreePort();
    const std::string conf =
        "[Global]\n  NodeBase \"iqn.2024-01.test\"\n  PidFile " + d + "/istgt.pid\n  AuthFile " +
        d + "/auth.conf\n  MediaDirectory " + d +
        "\n  LogFacility \"local7\"\n  Timeout 30\n  NopInInterval 20\n"
        "  DiscoveryAuthMethod None\n  MaxSessions 16\n  MaxConnections 4\n"
        "[UnitControl]\n  AuthMethod None\n  Portal UC1 127.0.0.1:" +
        std::to_string(control) +
        "\n  Netmask 127.0.0.1\n"
        "[PortalGroup1]\n  Portal DA1 127.0.0.1:" +
        std::to_string(ports_[0]) +
        "\n[PortalGroup2]\n  Portal DB1 127.0.0.1:" + std::to_string(ports_[1]) +
        "\n[InitiatorGroup1]\n  InitiatorName \"ALL\"\n  Netmask 127.0.0.0/8\n"
        "[LogicalUnit1]\n  TargetName disk1\n  Mapping PortalGroup1 InitiatorGroup1\n"
        "  Mapping PortalGroup2 InitiatorGroup1\n  AuthMethod None\n  UseDigest Auto\n"
        "  UnitType Disk\n  LUN0 Storage " +
        d + "/disk1.img Auto\n";
    {
      std::ofstream(d + "/istgt.conf") << conf;
      std::ofstream(d + "/auth.conf") << "";
    }
    if (openmpio::testing::RunTool("truncate -s " + std::to_string(kLuBytes) + " " + d +
                                   "/disk1.img")
            .exit_code != 0) {
      return "cannot make the backing file";
    }
    pid_ = Spawn({"istgt", "-c", d + "/istgt.conf", "-D"}, d + "/istgt.log", false);
    if (pid_ <= 0) return "cannot start istgt";
    for (const int p : ports_) {
      if (!WaitPort(p, std::chrono::seconds(5)))
        return "istgt does not listen on " + std::to_string(p);
    }
    return "";
  }
  void Stop() {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);  // istgt stops on SIGTERM (LAB.md)
    if (!WaitExit(pid_, std::chrono::seconds(5))) {
      kill(pid_, SIGKILL);
      WaitExit(pid_, std::chrono::seconds(5));
    }
    pid_ = -1;
  }
  // The port of portal group 1 or 2.
  [[nodiscard]] int port(int group) const { return ports_.at(static_cast<std::size_t>(group - 1)); }
  [[nodiscard]] const std::filesystem::path& dir() const { return dir_.path(); }

 private:
  openmpio::testing::TempDir dir_;
  std::vector<int> ports_;
  pid_t pid_ = -1;
};

// setsid socat TCP-LISTEN:P,fork TCP:127.0.0.1:target — one path.
class Proxy {
 public:
  enum class OnKill : std::uint8_t {
    kFin,    // the kernel closes the killed proxy's connections (FIN)
    kReset,  // they end with a TCP RST (SO_LINGER 0, inherited by the
             // accepted sockets): a peer that resets the connection
  };
  explicit Proxy(int target_port, std::string log, OnKill on_kill = OnKill::kFin)
      : target_(target_port), log_(std::move(log)), on_kill_(on_kill) {}
  ~Proxy() { Kill(); }
  Proxy(const Proxy&) = delete;
  Proxy& operator=(const Proxy&) = delete;

  bool Start(int port = 0) {
    port_ = port != 0 ? port : FreePort();
    // nodelay on both sides: without it Nagle holds the data of a WRITE
    // (libiscsi sends header and data apart) until tgt's delayed ACK, and
    // every write through the proxy takes ~23 ms instead of ~0.2 ms.
    pid_ = Spawn({"socat",
                  "TCP-LISTEN:" + std::to_string(port_) + ",bind=127.0.0.1,reuseaddr,fork,nodelay" +
                      (on_kill_ == OnKill::kReset ? ",linger=0" : ""),
                  "TCP:127.0.0.1:" + std::to_string(target_) + ",nodelay"},
                 log_, true);
    return pid_ > 0 && WaitPort(port_, std::chrono::seconds(5));
  }
  // The whole group: the listener and every connection's child.
  void Signal(int sig) const {
    if (pid_ > 0) kill(-pid_, sig);
  }
  // SIGKILL alone: it ends a stopped process too, and a SIGCONT first would
  // let a stopped child forward what it holds before it dies (a test that
  // cuts a hung path would then see commands complete).
  void Kill() {
    if (pid_ <= 0) return;
    Signal(SIGKILL);
    WaitExit(pid_, std::chrono::seconds(5));
    pid_ = -1;
  }
  [[nodiscard]] int port() const { return port_; }
  [[nodiscard]] std::string portal() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  int target_;
  std::string log_;
  OnKill on_kill_;
  pid_t pid_ = -1;
  int port_ = -1;
};

// A private nftables table that drops every SYN to one port on lo (LAB.md
// "Cutting paths"): a portal that never answers a connect. The table is
// named after this process and deleted by Remove() or the destructor, so a
// failed test leaves no rule behind.
class SynDrop {
 public:
  SynDrop() = default;
  SynDrop(const SynDrop&) = delete;
  SynDrop& operator=(const SynDrop&) = delete;
  ~SynDrop() { Remove(); }

  // "" when the rule is in place; else why not.
  std::string Start(int port) {
    table_ = "openmpio_test_" + std::to_string(getpid());
    for (const std::string& cmd :
         {"nft add table inet " + table_,
          "nft add chain inet " + table_ +
              " input '{ type filter hook input priority 0; policy accept; }'",
          "nft add rule inet " + table_ + " input iif lo tcp dport " + std::to_string(port) +
              " drop"}) {
      const auto r = openmpio::testing::RunTool(cmd);
      if (r.exit_code != 0) return cmd + ": " + r.output;
    }
    return "";
  }
  void Remove() {
    if (table_.empty()) return;
    openmpio::testing::RunTool("nft delete table inet " + table_);
    table_.clear();
  }

 private:
  std::string table_;
};

// Runs fn on the reactor and waits for its value.
template <typename F>
auto OnReactor(Reactor& r, F fn) -> decltype(fn()) {
  std::promise<decltype(fn())> p;
  auto f = p.get_future();
  r.Post([&] {
    if constexpr (std::is_void_v<decltype(fn())>) {
      fn();
      p.set_value();
    } else {
      p.set_value(fn());
    }
  });
  return f.get();
}

// Runs an asynchronous call with a callback on the reactor; waits for its value.
template <typename T, typename Start>
T AwaitOnReactor(Reactor& r, Start start,
                 std::chrono::milliseconds bound = std::chrono::seconds(20)) {
  auto p = std::make_shared<std::promise<T>>();
  auto f = p->get_future();
  r.Post([p, start] { start([p](T v) { p->set_value(std::move(v)); }); });
  if (f.wait_for(bound) != std::future_status::ready) {
    ADD_FAILURE() << "no callback within " << bound.count() << " ms";
    return T{};
  }
  return f.get();
}

// Collects completions (called on the reactor; read from the test thread).
struct Completions {
  struct Entry {
    TaskTag tag = 0;
    Result result;
    std::chrono::steady_clock::time_point at;
  };
  std::mutex mu;
  std::condition_variable cv;
  std::vector<Entry> entries;

  static void Fn(void* self, TaskTag tag, const Result& result) {
    auto* c = static_cast<Completions*>(self);
    std::lock_guard<std::mutex> lock(c->mu);
    c->entries.push_back({tag, result, std::chrono::steady_clock::now()});
    c->cv.notify_all();
  }
  bool WaitFor(std::size_t n, std::chrono::milliseconds bound) {
    std::unique_lock<std::mutex> lock(mu);
    return cv.wait_for(lock, bound, [&] { return entries.size() >= n; });
  }
  std::size_t size() {
    std::lock_guard<std::mutex> lock(mu);
    return entries.size();
  }
};

}  // namespace openmpio::transport::iscsi::testing

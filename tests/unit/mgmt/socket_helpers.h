// Small blocking-client helpers for the management socket tests.
#pragma once

#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

namespace openmpio::mgmt::testing::sock {

struct Fd {
  int fd = -1;
  Fd() = default;
  explicit Fd(int f) : fd(f) {}
  Fd(Fd&& o) noexcept : fd(o.fd), pending(std::move(o.pending)) { o.fd = -1; }
  Fd& operator=(Fd&&) = delete;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
  [[nodiscard]] bool ok() const { return fd >= 0; }
  operator int() const { return fd; }  // NOLINT
  std::string pending;                 // read past the last returned line
};

struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/openmpio-mgmt-XXXXXX";
    const char* p = ::mkdtemp(tmpl);
    path = p != nullptr ? p : "/tmp";
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

inline sockaddr_un Address(const std::string& path) {
  sockaddr_un addr;
  std::memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.data(), path.size());
  return addr;
}

inline Fd Connect(const std::string& path) {
  Fd f(::socket(AF_UNIX, SOCK_STREAM, 0));
  sockaddr_un addr = Address(path);
  if (::connect(f.fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(f.fd);
    f.fd = -1;
  }
  return f;
}

inline void SendAll(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) {
      if (n < 0 && errno == EINTR) continue;
      return;
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
}

// One line (without the newline), or nullopt after timeout_ms or at EOF.
inline std::optional<std::string> ReadLine(Fd& f, int timeout_ms) {
  for (;;) {
    const auto nl = f.pending.find('\n');
    if (nl != std::string::npos) {
      std::string line = f.pending.substr(0, nl);
      f.pending.erase(0, nl + 1);
      return line;
    }
    pollfd p{f.fd, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) <= 0) return std::nullopt;
    char buf[65536];
    const ssize_t n = ::recv(f.fd, buf, sizeof buf, 0);
    if (n <= 0) return std::nullopt;
    f.pending.append(buf, static_cast<std::size_t>(n));
  }
}

// True when the peer closed (recv returns 0 or an error) within timeout_ms.
inline bool WaitClosed(Fd& f, int timeout_ms) {
  for (;;) {
    pollfd p{f.fd, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) <= 0) return false;
    char buf[4096];
    const ssize_t n = ::recv(f.fd, buf, sizeof buf, 0);
    if (n <= 0) return true;
  }
}

// Sends `data` unless `stop` is set first or the peer goes away; never
// blocks for long, so a test can always end the thread that calls it.
inline void SendUnlessStopped(int fd, std::string_view data, const std::atomic<bool>& stop) {
  while (!data.empty() && !stop.load()) {
    const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      data.remove_prefix(static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
      pollfd p{fd, POLLOUT, 0};
      ::poll(&p, 1, 20);
      continue;
    }
    return;
  }
}

// A unix socket server that is not openmpio, for testing clients against
// misbehaving peers: one connection at a time, its first line read, then
// `respond(fd, stop)` does what the test wants (reply garbage, say nothing,
// ...) and the connection is closed. `respond` must return soon once `stop`
// is set (the destructor sets it and joins).
class FakeServer {
 public:
  using Respond = std::function<void(int fd, const std::atomic<bool>& stop)>;

  FakeServer(std::string path, Respond respond) : path_(std::move(path)) {
    listen_fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr = Address(path_);
    if (listen_fd_ < 0 ||
        ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(listen_fd_, 4) != 0) {
      return;
    }
    ok_ = true;
    thread_ = std::thread([this, respond = std::move(respond)] { Serve(respond); });
  }
  ~FakeServer() {
    stop_.store(true);
    if (thread_.joinable()) thread_.join();
    if (listen_fd_ >= 0) ::close(listen_fd_);
    ::unlink(path_.c_str());
  }
  FakeServer(const FakeServer&) = delete;
  FakeServer& operator=(const FakeServer&) = delete;

  [[nodiscard]] bool ok() const { return ok_; }
  [[nodiscard]] int requests() const { return requests_.load(); }  // first lines read

 private:
  void Serve(const Respond& respond) {
    while (!stop_.load()) {
      pollfd p{listen_fd_, POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) continue;
      Fd c(::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC));
      if (!c.ok()) continue;
      bool line = false;
      while (!stop_.load() && !line) {
        pollfd q{c.fd, POLLIN, 0};
        if (::poll(&q, 1, 20) <= 0) continue;
        char buf[4096];
        const ssize_t n = ::recv(c.fd, buf, sizeof buf, 0);
        if (n <= 0) break;
        line =
            std::string_view(buf, static_cast<std::size_t>(n)).find('\n') != std::string_view::npos;
      }
      if (!line) continue;
      requests_.fetch_add(1);
      respond(c.fd, stop_);
    }
  }

  std::string path_;
  int listen_fd_ = -1;
  bool ok_ = false;
  std::atomic<bool> stop_{false};
  std::atomic<int> requests_{0};
  std::thread thread_;
};

}  // namespace openmpio::mgmt::testing::sock

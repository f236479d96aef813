// Small blocking-client helpers for the management socket tests.
#pragma once

#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

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

}  // namespace openmpio::mgmt::testing::sock

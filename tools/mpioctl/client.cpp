// The management socket client (client.h): a unix stream socket, one
// request line out and one reply line in, each call within its deadline.
#include "client.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string_view>

#include "failure.h"

namespace openmpio::mpioctl {

json Client::Call(const json& request) {
  // The server closes a connection idle for its idle timeout (between
  // `stats --watch` refreshes, say): connect again rather than fail.
  if (fd_ >= 0 && PeerClosed()) Close();
  const auto deadline = Clock::now() + timeout_;
  if (fd_ < 0) Open();
  Send(request.dump() + "\n", deadline);
  const std::string reply = ReadLine(deadline);
  json j = json::parse(reply, nullptr, false);
  if (j.is_discarded()) {
    throw Failure{"the reply from " + path_ + " is not valid JSON (" +
                  std::to_string(reply.size()) + " bytes)"};
  }
  const auto status = j.is_object() ? j.find("Status") : j.end();
  if (status == j.end() || !status->is_number_unsigned() ||
      status->get<std::uint64_t>() > 0xFFFFFFFFU) {
    throw Failure{"the reply from " + path_ +
                  " is JSON but not a status object (no 32-bit \"Status\")"};
  }
  return j;
}

void Client::Open() {
  sockaddr_un addr;
  std::memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  if (path_.empty() || path_.size() >= sizeof addr.sun_path) {
    throw Failure{"socket path too long: " + path_};
  }
  std::memcpy(addr.sun_path, path_.data(), path_.size());
  fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) throw Failure{std::string("socket: ") + std::strerror(errno)};
  // A unix connect waits while the listener's backlog is full, as long as
  // the send timeout.
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(timeout_.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((timeout_.count() % 1000) * 1000);
  [[maybe_unused]] const int rc = ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    const int err = errno;
    Close();
    if (err == EAGAIN || err == EINPROGRESS) {
      throw Failure{"cannot connect to " + path_ + ": not accepted within " + Seconds()};
    }
    throw Failure{"cannot connect to " + path_ + ": " + std::strerror(err)};
  }
}

void Client::Close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  pending_.clear();
}

// True when the peer closed the connection (or it failed) while we were
// not waiting for a reply: the server never writes unasked.
bool Client::PeerClosed() {
  pollfd p{fd_, POLLIN, 0};
  if (::poll(&p, 1, 0) <= 0) return false;
  char byte = 0;
  const ssize_t n = ::recv(fd_, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}

std::string Client::Seconds() const {
  char text[32];
  std::snprintf(text, sizeof text, "%g s", static_cast<double>(timeout_.count()) / 1000);
  return text;
}

// Waits until fd_ is ready for `events`; throws Failure `what` + " within
// <timeout>" + `hint` at the deadline.
void Client::WaitFor(short events, Clock::time_point deadline, const std::string& what,
                     const char* hint) {
  for (;;) {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) throw Failure{what + " within " + Seconds() + hint};
    pollfd p{fd_, events, 0};
    const int n = ::poll(&p, 1, static_cast<int>(left.count()));
    if (n > 0) return;
    if (n < 0 && errno != EINTR) {
      throw Failure{"poll on " + path_ + ": " + std::strerror(errno)};
    }
  }
}

void Client::Send(const std::string& line, Clock::time_point deadline) {
  std::string_view rest = line;
  while (!rest.empty()) {
    const ssize_t n = ::send(fd_, rest.data(), rest.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      rest.remove_prefix(static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      WaitFor(POLLOUT, deadline, path_ + " took no request", "");
      continue;
    }
    throw Failure{"send to " + path_ + ": " + std::strerror(errno)};
  }
}

// The next reply line, without its '\n'.
std::string Client::ReadLine(Clock::time_point deadline) {
  std::size_t scanned = 0;  // pending_[0, scanned) holds no '\n'
  for (;;) {
    const auto nl = pending_.find('\n', scanned);
    if (nl != std::string::npos && nl <= kMaxReplyBytes) {
      std::string reply = pending_.substr(0, nl);
      pending_.erase(0, nl + 1);
      return reply;
    }
    if (pending_.size() > kMaxReplyBytes) {
      throw Failure{"the reply from " + path_ + " is longer than " +
                    std::to_string(kMaxReplyBytes) + " bytes"};
    }
    scanned = pending_.size();
    WaitFor(POLLIN, deadline, "no reply from " + path_,
            " (--timeout; a change may still take effect)");
    char buf[65536];
    const ssize_t n = ::recv(fd_, buf, sizeof buf, MSG_DONTWAIT);
    if (n > 0) {
      pending_.append(buf, static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)) continue;
    if (n < 0) throw Failure{"receive from " + path_ + ": " + std::strerror(errno)};
    if (pending_.empty()) throw Failure{path_ + " closed the connection without a reply"};
    throw Failure{path_ + " closed the connection in the middle of a reply (" +
                  std::to_string(pending_.size()) + " bytes, no end of line)"};
  }
}

}  // namespace openmpio::mpioctl

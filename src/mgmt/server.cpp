// The management socket server (server.h): a poll() loop on its own thread.
#include "mgmt/server.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string_view>
#include <utility>
#include <vector>

namespace openmpio::mgmt {

struct Server::Mailbox {
  std::mutex mu;
  bool closed = false;  // after Stop: replies are dropped
  int wake_fd = -1;     // eventfd; valid while !closed
  std::vector<std::pair<std::uint64_t, std::string>> replies;

  void Post(std::uint64_t client, std::string reply) {
    std::lock_guard<std::mutex> lock(mu);
    if (closed) return;
    replies.emplace_back(client, std::move(reply));
    const std::uint64_t one = 1;
    // A full counter (never in practice) still leaves the loop woken.
    [[maybe_unused]] const ssize_t n = ::write(wake_fd, &one, sizeof one);
  }
};

using Clock = std::chrono::steady_clock;

struct Server::Client {
  std::uint64_t id = 0;
  int fd = -1;
  Clock::time_point progress;  // the last progress (ServerOptions::idle_timeout)
  std::string in;              // bytes received, not yet a whole handled line
  std::string out;             // reply bytes not yet written
  bool busy = false;           // a request is with the backend
  bool closing = false;        // close once `out` is written
  bool eof = false;            // the peer shut down its side
};

namespace {

Status Errno(const std::string& what) {
  return Status(NtStatus::kIoDeviceError, what + ": " + std::strerror(errno));
}

bool FillAddress(const std::string& path, sockaddr_un* addr) {
  std::memset(addr, 0, sizeof *addr);
  addr->sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof addr->sun_path) return false;
  std::memcpy(addr->sun_path, path.data(), path.size());
  return true;
}

sockaddr* AsSockaddr(sockaddr_un* a) {
  return reinterpret_cast<sockaddr*>(a);
}

// True when a server accepts connections at path.
bool LiveServerAt(const std::string& path) {
  sockaddr_un addr;
  if (!FillAddress(path, &addr)) return false;
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  const int rc = ::connect(fd, AsSockaddr(&addr), sizeof addr);
  // EAGAIN: a listener whose backlog is full is still alive.
  const bool live = rc == 0 || errno == EAGAIN;
  ::close(fd);
  return live;
}

}  // namespace

std::string DefaultSocketPath() {
  if (::geteuid() == 0) return "/run/openmpio/mgmt.sock";
  if (const char* xdg = std::getenv("XDG_RUNTIME_DIR"); xdg != nullptr && *xdg != '\0') {
    return std::string(xdg) + "/openmpio.sock";
  }
  return "/tmp/openmpio-" + std::to_string(::geteuid()) + ".sock";
}

ServerCounters Server::counters() const noexcept {
  ServerCounters c;
  c.accepted = accepted_.load(std::memory_order_relaxed);
  c.refused = refused_.load(std::memory_order_relaxed);
  c.closed_idle = closed_idle_.load(std::memory_order_relaxed);
  c.closed_for_room = closed_for_room_.load(std::memory_order_relaxed);
  return c;
}

Server::Server(Backend& backend, ServerOptions options)
    : api_(backend), options_(options), mailbox_(std::make_shared<Mailbox>()) {}

Server::~Server() {
  Stop();
}

Status Server::Start(const std::string& path) {
  if (thread_.joinable()) return Status(NtStatus::kInvalidDeviceRequest, "server already started");
  sockaddr_un addr;
  if (!FillAddress(path, &addr)) {
    return InvalidParameter("socket path \"" + path + "\": empty or longer than " +
                            std::to_string(sizeof addr.sun_path - 1) + " bytes");
  }
  // The parent folder (e.g. /run/openmpio), private to the engine's user.
  if (const auto slash = path.rfind('/'); slash != std::string::npos && slash > 0) {
    const std::string dir = path.substr(0, slash);
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) return Errno("mkdir " + dir);
  }
  struct stat st;
  if (::lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      return Status(NtStatus::kInvalidDeviceRequest, path + " exists and is not a socket");
    }
    if (LiveServerAt(path)) {
      return Status(NtStatus::kInvalidDeviceRequest, "a server is already listening on " + path);
    }
    if (::unlink(path.c_str()) != 0) return Errno("unlink stale socket " + path);
  }
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return Errno("socket");
  if (::bind(fd, AsSockaddr(&addr), sizeof addr) != 0) {
    Status s = Errno("bind " + path);
    ::close(fd);
    return s;
  }
  // Before listen(): until then a connect is refused, so the umask's mode of
  // the new file never lets anyone in.
  if (::chmod(path.c_str(), 0600) != 0 || ::lstat(path.c_str(), &st) != 0 ||
      ::listen(fd, 16) != 0) {
    Status s = Errno("chmod/listen " + path);
    ::close(fd);
    ::unlink(path.c_str());
    return s;
  }
  const int wake = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake < 0) {
    Status s = Errno("eventfd");
    ::close(fd);
    ::unlink(path.c_str());
    return s;
  }
  listen_fd_ = fd;
  wake_fd_ = wake;
  socket_inode_ = st.st_ino;
  path_ = path;
  mailbox_ = std::make_shared<Mailbox>();
  mailbox_->wake_fd = wake;
  stop_.store(false);
  thread_ = std::thread([this] { Run(); });
  return Status();
}

void Server::Stop() {
  if (!thread_.joinable()) return;
  stop_.store(true);
  const std::uint64_t one = 1;
  [[maybe_unused]] const ssize_t n = ::write(wake_fd_, &one, sizeof one);
  thread_.join();
  {
    std::lock_guard<std::mutex> lock(mailbox_->mu);
    mailbox_->closed = true;
    mailbox_->replies.clear();
  }
  for (auto& [id, c] : clients_) ::close(c->fd);
  clients_.clear();
  ::close(listen_fd_);
  ::close(wake_fd_);
  listen_fd_ = wake_fd_ = -1;
  // Only our own file: a later server may have replaced it.
  struct stat st;
  if (::lstat(path_.c_str(), &st) == 0 && st.st_ino == socket_inode_) ::unlink(path_.c_str());
}

void Server::Run() {
  std::vector<pollfd> fds;
  std::vector<std::uint64_t> ids;
  while (!stop_.load()) {
    fds.clear();
    ids.clear();
    fds.push_back(pollfd{listen_fd_, POLLIN, 0});
    fds.push_back(pollfd{wake_fd_, POLLIN, 0});
    for (auto& [id, c] : clients_) {
      short events = 0;
      if (!c->busy && !c->closing && !c->eof && c->out.empty()) events |= POLLIN;
      if (!c->out.empty()) events |= POLLOUT;
      fds.push_back(pollfd{c->fd, events, 0});
      ids.push_back(id);
    }
    if (::poll(fds.data(), fds.size(), IdleWaitMs(Clock::now())) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if ((fds[1].revents & POLLIN) != 0) {
      std::uint64_t count = 0;
      [[maybe_unused]] const ssize_t n = ::read(wake_fd_, &count, sizeof count);
    }
    if (stop_.load()) break;
    DrainMailbox();
    for (std::size_t i = 0; i < ids.size(); ++i) {
      const auto it = clients_.find(ids[i]);
      if (it == clients_.end()) continue;
      Client& c = *it->second;
      const short re = fds[i + 2].revents;
      if ((re & (POLLERR | POLLNVAL)) != 0) {
        CloseClient(ids[i]);
        continue;
      }
      if ((re & POLLOUT) != 0) WriteTo(c);
      if ((re & (POLLIN | POLLHUP)) != 0 && (fds[i + 2].events & POLLIN) != 0) {
        ReadFrom(c);
      } else if ((re & POLLHUP) != 0 && c.out.empty() && !c.busy) {
        c.eof = true;
      }
      // Done with this client: everything answered and the peer gone, or an
      // oversize line answered.
      if ((c.closing || (c.eof && !c.busy)) && c.out.empty()) CloseClient(ids[i]);
    }
    CloseIdle(Clock::now());
    if ((fds[0].revents & POLLIN) != 0) Accept();
  }
}

void Server::Accept() {
  for (;;) {
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;  // EAGAIN, or a transient error: poll tells us again
    const auto now = Clock::now();
    // Keep the last slot free: the next operator gets in even when every
    // other connection was left open and idle.
    if (clients_.size() + 1 >= options_.max_clients && !clients_.empty()) CloseLongestIdle(now);
    if (clients_.size() >= options_.max_clients) {
      // Counted, not logged: a flood of connections would flood the log.
      refused_.fetch_add(1, std::memory_order_relaxed);
      ::close(fd);
      continue;
    }
    auto c = std::make_unique<Client>();
    c->id = next_id_++;
    c->fd = fd;
    c->progress = now;
    clients_.emplace(c->id, std::move(c));
    accepted_.fetch_add(1, std::memory_order_relaxed);
  }
}

int Server::IdleWaitMs(Clock::time_point now) const {
  if (options_.idle_timeout.count() <= 0) return -1;
  bool any = false;
  Clock::time_point first = Clock::time_point::max();
  for (const auto& [id, c] : clients_) {
    if (c->busy) continue;
    any = true;
    first = std::min(first, c->progress + options_.idle_timeout);
  }
  if (!any) return -1;
  if (first <= now) return 0;
  // Rounded up: waking early would only loop.
  const auto ms = std::chrono::ceil<std::chrono::milliseconds>(first - now).count();
  return static_cast<int>(std::min<std::int64_t>(ms, 24 * 3600 * 1000));
}

void Server::CloseIdle(Clock::time_point now) {
  if (options_.idle_timeout.count() <= 0) return;
  std::vector<std::uint64_t> idle;
  for (const auto& [id, c] : clients_) {
    if (!c->busy && now - c->progress >= options_.idle_timeout) idle.push_back(id);
  }
  for (const std::uint64_t id : idle) {
    closed_idle_.fetch_add(1, std::memory_order_relaxed);  // counted before the peer sees it
    CloseClient(id);
  }
  if (!idle.empty()) {
    std::fprintf(
        stderr, "openmpio: management: closed %zu connection(s) idle for %lld ms (%zu open)\n",
        idle.size(), static_cast<long long>(options_.idle_timeout.count()), clients_.size());
  }
}

void Server::CloseLongestIdle(Clock::time_point now) {
  const Client* oldest = nullptr;
  for (const auto& [id, c] : clients_) {
    if (!c->busy && (oldest == nullptr || c->progress < oldest->progress)) oldest = c.get();
  }
  if (oldest == nullptr) return;
  const auto idle_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now - oldest->progress).count();
  closed_for_room_.fetch_add(1, std::memory_order_relaxed);  // counted before the peer sees it
  CloseClient(oldest->id);
  std::fprintf(stderr,
               "openmpio: management: %zu of %zu connection slots taken: closed the longest "
               "idle (%lld ms) to keep one free\n",
               clients_.size() + 1, options_.max_clients, static_cast<long long>(idle_ms));
}

void Server::ReadFrom(Client& c) {
  char buf[65536];
  for (;;) {
    const ssize_t n = ::recv(c.fd, buf, sizeof buf, 0);
    if (n > 0) {
      c.in.append(buf, static_cast<std::size_t>(n));
      if (c.in.size() > options_.max_line + 1) break;  // bounded; NextRequest answers
      continue;
    }
    if (n == 0)
      c.eof = true;
    else if (errno == EINTR)
      continue;
    else if (errno != EAGAIN && errno != EWOULDBLOCK)
      c.eof = true;
    break;
  }
  NextRequest(c);
}

void Server::NextRequest(Client& c) {
  // One refusal, then the connection closes: what follows cannot be framed.
  auto refuse_long_line = [this, &c]() {
    c.out = EncodeStatusReply(InvalidParameter("request line longer than " +
                                               std::to_string(options_.max_line) + " bytes")) +
            "\n";
    c.in.clear();
    c.closing = true;
    WriteTo(c);
  };
  while (!c.busy && !c.closing && c.out.empty()) {
    const auto nl = c.in.find('\n');
    if (nl == std::string::npos) {
      if (c.in.size() > options_.max_line) refuse_long_line();
      return;
    }
    std::string line = c.in.substr(0, nl);
    c.in.erase(0, nl + 1);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) continue;  // blank line
    if (line.size() > options_.max_line) {
      refuse_long_line();
      return;
    }
    c.busy = true;
    c.progress = Clock::now();
    const std::uint64_t id = c.id;
    std::weak_ptr<Mailbox> box = mailbox_;
    api_.Handle(line, [box, id](std::string reply) {
      if (auto m = box.lock()) m->Post(id, std::move(reply));
    });
  }
}

void Server::WriteTo(Client& c) {
  while (!c.out.empty()) {
    const ssize_t n = ::send(c.fd, c.out.data(), c.out.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      c.out.erase(0, static_cast<std::size_t>(n));
      c.progress = Clock::now();
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    // The peer is gone: drop what is left.
    c.out.clear();
    c.in.clear();
    c.closing = true;
    return;
  }
  if (!c.closing) NextRequest(c);
}

void Server::DrainMailbox() {
  std::vector<std::pair<std::uint64_t, std::string>> replies;
  {
    std::lock_guard<std::mutex> lock(mailbox_->mu);
    replies.swap(mailbox_->replies);
  }
  for (auto& [id, reply] : replies) {
    const auto it = clients_.find(id);
    if (it == clients_.end()) continue;  // the client left meanwhile
    Client& c = *it->second;
    c.busy = false;
    c.progress = Clock::now();
    c.out += reply;
    c.out += '\n';
    WriteTo(c);
  }
}

void Server::CloseClient(std::uint64_t id) {
  const auto it = clients_.find(id);
  if (it == clients_.end()) return;
  ::close(it->second->fd);
  clients_.erase(it);
}

}  // namespace openmpio::mgmt

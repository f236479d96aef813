// The management endpoint: a unix stream socket speaking newline-delimited
// JSON (json_api.h), one request per line, at most kMaxRequestBytes a line.
//
// Threading: the server owns one thread that runs a poll() loop over the
// listening socket, every client socket (all non-blocking) and an eventfd.
// Requests are handed to JsonApi (and so to the Backend) on that thread; the
// backend answers on its own thread, and the reply is queued and the loop
// woken through the eventfd, so a slow backend answer blocks neither the loop
// nor other clients. Start() and Stop() are called by the owner (one thread).
//
// Per client: one request at a time (the next line is not read until the
// reply is written out), so a client's memory is bounded by one line plus one
// reply; a line over the limit gets a STATUS_INVALID_PARAMETER reply and the
// connection is closed; a client that stops reading only stalls itself
// (until the idle timeout below closes it).
//
// Idle connections cannot lock the operator out (issue 13 item 4): a
// connection that makes no progress for ServerOptions::idle_timeout while no
// request of it is with the backend is closed, and a new connection never
// takes the last free slot: accepting it first closes the longest-idle
// connection. Only when every other connection has a request at the backend
// is a new one refused. Every close for idleness or room is counted
// (counters()) and reported on stderr, as the runtime reports; refusals are
// only counted.
//
// The socket file is mode 0600 (chmod before listen, so nobody can connect
// while it has the umask's mode). Start refuses a path where a live server
// answers (a connect test) and replaces a stale socket file. Stop joins the
// thread, closes every connection and unlinks the file it created.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "mgmt/backend.h"
#include "mgmt/json_api.h"
#include "openmpio/status.h"

namespace openmpio::mgmt {

// /run/openmpio/mgmt.sock as root; $XDG_RUNTIME_DIR/openmpio.sock otherwise
// (/tmp/openmpio-<uid>.sock when XDG_RUNTIME_DIR is unset).
[[nodiscard]] std::string DefaultSocketPath();

struct ServerOptions {
  std::size_t max_line = kMaxRequestBytes;  // bytes of one request line
  // Open connections at most. Accepting one that would fill the last slot
  // first closes the longest-idle connection, so one slot stays free for the
  // next operator; a connection is refused (accepted and closed at once) only
  // when all the others have a request at the backend.
  std::size_t max_clients = 64;
  // A connection is idle while it has no request at the backend and makes no
  // progress: since it was accepted, its last whole request was received, its
  // reply came from the backend or a reply byte was written. Partial lines
  // and blank lines are not progress; nor is a reply the peer does not read.
  // Idle this long, it is closed. Zero: never.
  std::chrono::milliseconds idle_timeout = std::chrono::seconds(60);
};

// What the server did to its connections since it was constructed. Written
// by the server thread, read by any thread (each counter on its own; the set
// is not one snapshot).
struct ServerCounters {
  std::uint64_t accepted = 0;
  std::uint64_t refused = 0;          // every slot taken, none idle: closed at once
  std::uint64_t closed_idle = 0;      // idle for idle_timeout
  std::uint64_t closed_for_room = 0;  // the longest-idle, to keep a slot free
};

class Server {
 public:
  explicit Server(Backend& backend, ServerOptions options = {});
  ~Server();  // Stop()
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds `path` and starts the thread. The parent directory is created
  // (mode 0700) when missing.
  [[nodiscard]] Status Start(const std::string& path);
  // Idempotent. Pending backend answers are discarded when they arrive.
  void Stop();

  [[nodiscard]] const std::string& path() const noexcept { return path_; }
  [[nodiscard]] ServerCounters counters() const noexcept;

  struct Mailbox;  // replies from backend threads (server.cpp)

 private:
  struct Client;
  void Run();
  void Accept();
  void ReadFrom(Client& c);
  void WriteTo(Client& c);
  void NextRequest(Client& c);
  void DrainMailbox();
  void CloseClient(std::uint64_t id);
  // Milliseconds until the first idle connection is due, or -1 (none).
  [[nodiscard]] int IdleWaitMs(std::chrono::steady_clock::time_point now) const;
  void CloseIdle(std::chrono::steady_clock::time_point now);
  // Closes the longest-idle connection, if one has no request at the backend.
  void CloseLongestIdle(std::chrono::steady_clock::time_point now);

  JsonApi api_;
  ServerOptions options_;
  std::string path_;
  int listen_fd_ = -1;
  int wake_fd_ = -1;
  std::uint64_t socket_inode_ = 0;  // of the file we bound, to unlink only ours
  std::shared_ptr<Mailbox> mailbox_;
  std::map<std::uint64_t, std::unique_ptr<Client>> clients_;  // server thread only
  std::uint64_t next_id_ = 1;
  std::atomic<std::uint64_t> accepted_{0};  // the counters: server thread writes
  std::atomic<std::uint64_t> refused_{0};
  std::atomic<std::uint64_t> closed_idle_{0};
  std::atomic<std::uint64_t> closed_for_room_{0};
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace openmpio::mgmt

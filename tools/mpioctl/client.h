// The client of the engine's management socket: one JSON request line, one
// reply line (src/mgmt/json_api.h), each call bounded by --timeout.
#pragma once

#include <chrono>
#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>

namespace openmpio::mpioctl {

using nlohmann::json;

// The longest reply line read. Replies are far smaller (Show of every disk
// is tens of KiB); the bound keeps a runaway or hostile peer from growing
// mpioctl without end. 16 times the server's own request limit.
constexpr std::size_t kMaxReplyBytes = std::size_t{16} << 20;
// Above the engine's default command timeout (30 s): a set that sends an
// STPG through a hung port is answered only after that command times out.
constexpr double kDefaultTimeoutSeconds = 60;
constexpr double kMinTimeoutSeconds = 0.1;
constexpr double kMaxTimeoutSeconds = 3600;

class Client {
 public:
  using Clock = std::chrono::steady_clock;

  // `timeout` bounds each call: connecting, sending the request and reading
  // the whole reply line.
  Client(std::string path, std::chrono::milliseconds timeout)
      : path_(std::move(path)), timeout_(timeout) {}
  ~Client() { Close(); }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // One request, one reply: a JSON object with a 32-bit "Status". Throws
  // Failure when there is no usable answer.
  json Call(const json& request);

 private:
  void Open();
  void Close();
  bool PeerClosed();
  std::string Seconds() const;
  void WaitFor(short events, Clock::time_point deadline, const std::string& what, const char* hint);
  void Send(const std::string& line, Clock::time_point deadline);
  std::string ReadLine(Clock::time_point deadline);

  std::string path_;
  std::chrono::milliseconds timeout_;
  int fd_ = -1;
  std::string pending_;  // received past the last reply line
};

}  // namespace openmpio::mpioctl

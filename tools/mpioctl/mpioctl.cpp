// mpioctl: the management CLI of openmpio, a client of the engine's
// management socket only (DESIGN.md "Processes"); it holds no engine state.
// Every command sends JSON requests of src/mgmt/json_api.h, one per line.
//
// Exit codes: 0 success; 1 the engine answered with a Status other than
// STATUS_SUCCESS (printed by name and hex); 2 usage error, or no usable answer
// (cannot connect; no reply within --timeout; the connection closed before or
// in the middle of a reply; a reply over kMaxReplyBytes, not JSON, or not a
// status object), each said in one line on stderr.
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "mgmt/json_api.h"
#include "mgmt/server.h"
#include "openmpio/status.h"

namespace {

using nlohmann::json;
using openmpio::mgmt::FormatId;
using openmpio::mgmt::ParseIdText;
using openmpio::mgmt::ParsePolicyName;

constexpr int kExitOk = 0;
constexpr int kExitStatus = 1;
constexpr int kExitUsage = 2;

// The longest reply line read. Replies are far smaller (Show of every disk
// is tens of KiB); the bound keeps a runaway or hostile peer from growing
// mpioctl without end. 16 times the server's own request limit.
constexpr std::size_t kMaxReplyBytes = std::size_t{16} << 20;
// Above the engine's default command timeout (30 s): a set that sends an
// STPG through a hung port is answered only after that command times out.
constexpr double kDefaultTimeoutSeconds = 60;
constexpr double kMinTimeoutSeconds = 0.1;
constexpr double kMaxTimeoutSeconds = 3600;

struct Failure {
  std::string what;
};

// ---- the socket client ------------------------------------------------------------

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

  // One request, one reply. Throws Failure when there is no usable answer.
  json Call(const json& request) {
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

 private:
  void Open() {
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

  void Close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    pending_.clear();
  }

  // True when the peer closed the connection (or it failed) while we were
  // not waiting for a reply: the server never writes unasked.
  bool PeerClosed() {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, 0) <= 0) return false;
    char byte = 0;
    const ssize_t n = ::recv(fd_, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
  }

  std::string Seconds() const {
    char text[32];
    std::snprintf(text, sizeof text, "%g s", static_cast<double>(timeout_.count()) / 1000);
    return text;
  }

  // Waits until fd_ is ready for `events`; throws Failure `what` + " within
  // <timeout>" + `hint` at the deadline.
  void WaitFor(short events, Clock::time_point deadline, const std::string& what,
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

  void Send(const std::string& line, Clock::time_point deadline) {
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
  std::string ReadLine(Clock::time_point deadline) {
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

  std::string path_;
  std::chrono::milliseconds timeout_;
  int fd_ = -1;
  std::string pending_;
};

// ---- output -------------------------------------------------------------------------

std::uint32_t StatusCode(const json& r) {
  return r.at("Status").get<std::uint32_t>();
}

std::string StatusLine(const json& r) {
  char hex[16];
  std::snprintf(hex, sizeof hex, "0x%08X", StatusCode(r));
  std::string s = r.value("StatusName", std::string("NTSTATUS")) + " (" + hex + ")";
  if (r.contains("Message") && r["Message"].is_string())
    s += ": " + r["Message"].get<std::string>();
  return s;
}

// A set: the Status by name and hex; non-zero exit unless STATUS_SUCCESS.
int PrintSetResult(const json& r, bool as_json) {
  if (as_json) {
    std::cout << r.dump(2) << "\n";
  } else {
    std::cout << StatusLine(r) << "\n";
  }
  return StatusCode(r) == 0 ? kExitOk : kExitStatus;
}

// A read that failed: the Status on stderr (and the reply with --json).
int ReadFailed(const json& r, bool as_json) {
  if (as_json) std::cout << r.dump(2) << "\n";
  std::cerr << "mpioctl: " << StatusLine(r) << "\n";
  return kExitStatus;
}

std::string Str(const json& j, const char* key) {
  const auto it = j.find(key);
  if (it == j.end()) return "-";
  if (it->is_string()) return it->get<std::string>();
  return it->dump();
}

void PrintDiskTree(const json& d) {
  const std::string alias = Str(d, "Alias");
  std::cout << (alias.empty() || alias == "-" ? Str(d, "InstanceName") : alias) << " ("
            << Str(d, "InstanceName") << ") " << Str(d, "HardwareId") << "\n";
  std::cout << "policy=" << Str(d, "PolicyName") << " (" << Str(d, "LoadBalancePolicy") << ")"
            << (d.value("ExplicitPolicy", false) ? " explicit" : " default")
            << " alua=" << Str(d, "ALUASupport") << " symmetric=" << Str(d, "SymmetricLUA")
            << " mode=" << Str(d, "SelectionMode") << "\n";
  const json& groups = d["TargetPortGroups"];
  const json& paths = d["Paths"];
  auto print_path = [](const json& p, const char* indent) {
    std::cout << indent << "|- " << Str(p, "DsmPathId") << " " << Str(p, "Portal") << " port "
              << Str(p, "TargetPort_Identifier") << "  " << Str(p, "State") << " "
              << (p.value("Usable", false) ? "active" : "idle") << " " << Str(p, "Verification");
    if (p.value("PreferredPath", 0) != 0) std::cout << " preferred";
    if (p.value("Promoted", false)) std::cout << " promoted";
    std::cout << " weight=" << Str(p, "PathWeight") << " inflight=" << Str(p, "OutstandingRequests")
              << " reads=" << Str(p, "NumberReads") << " writes=" << Str(p, "NumberWrites");
    if (p.contains("Retries")) std::cout << " retries=" << Str(p, "Retries");
    std::cout << "\n";
  };
  if (groups.empty()) {
    std::cout << "`-+- no ALUA\n";
    for (const json& p : paths) print_path(p, "  ");
    return;
  }
  for (std::size_t g = 0; g < groups.size(); ++g) {
    const json& grp = groups[g];
    std::cout << (g + 1 == groups.size() ? "`-+- " : "|-+- ") << "tpg "
              << Str(grp, "TargetPortGroup_Identifier") << " " << Str(grp, "State")
              << (grp.value("TargetPortGroup_Preferred", 0) != 0 ? " pref" : "") << "\n";
    for (const json& p : paths) {
      if (p["TargetPortGroup_Identifier"] == grp["TargetPortGroup_Identifier"]) {
        print_path(p, g + 1 == groups.size() ? "  " : "| ");
      }
    }
  }
  for (const json& p : paths) {
    if (p["TargetPortGroup_Identifier"].is_null()) print_path(p, "  ");
  }
}

void PrintPolicy(const json& r) {
  const json& lbp = r["LoadBalancePolicy"];
  const std::uint32_t policy = lbp.value("LoadBalancePolicy", 0U);
  std::cout << Str(r, "InstanceName") << ": policy " << openmpio::mgmt::PolicyShortName(policy)
            << " (" << policy << "), " << Str(lbp, "DSMPathCount") << " paths\n";
  for (const json& p : lbp["DSM_Paths"]) {
    static const char* kStates[] = {"UA", "SB", "AU", "AO"};
    const int idx =
        (p.value("PrimaryPath", 0U) != 0 ? 2 : 0) + (p.value("OptimizedPath", 0U) != 0 ? 1 : 0);
    std::cout << "  " << Str(p, "DsmPathId") << " " << kStates[idx]
              << " weight=" << Str(p, "PathWeight")
              << " tpg=" << Str(p, "TargetPortGroup_Identifier")
              << " tpg_state=" << Str(p, "TargetPortGroup_State")
              << (p.value("PreferredPath", 0U) != 0 ? " preferred" : "")
              << (p.value("FailedPath", 0U) != 0 ? " FAILED" : "") << "\n";
  }
}

// ---- helpers for sets ------------------------------------------------------------------

std::uint32_t PolicyArg(const std::string& text) {
  const auto p = ParsePolicyName(text);
  if (!p) throw Failure{"unknown policy \"" + text + "\" (foo rr rrws lqd wp lb st, or 0..7)"};
  return *p;
}

std::uint64_t PathArg(const std::string& text) {
  const auto id = ParseIdText(text);
  if (!id) throw Failure{"not a path id: \"" + text + "\" (0x... hex or decimal)"};
  return *id;
}

json* FindPath(json& lbp, std::uint64_t id) {
  for (json& p : lbp["DSM_Paths"]) {
    const auto pid = p["DsmPathId"].is_string() ? ParseIdText(p["DsmPathId"].get<std::string>())
                                                : std::optional<std::uint64_t>();
    if (pid && *pid == id) return &p;
  }
  return nullptr;
}

std::string Pad(const std::string& s, std::size_t n) {
  std::string out = s.substr(0, n);
  out.resize(n, ' ');
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"mpioctl: manage openmpio over its management socket"};
  app.require_subcommand(1);
  app.fallthrough();
  std::string socket_path = openmpio::mgmt::DefaultSocketPath();
  bool as_json = false;
  double timeout_seconds = kDefaultTimeoutSeconds;
  app.add_option("--socket", socket_path, "management socket path")->capture_default_str();
  app.add_option("--timeout", timeout_seconds, "seconds to wait for each reply of the engine")
      ->check(CLI::Range(kMinTimeoutSeconds, kMaxTimeoutSeconds))
      ->capture_default_str();
  app.add_flag("--json", as_json, "print the engine's JSON reply");

  std::function<int(Client&)> action;

  // show
  std::string disk;
  auto* show = app.add_subcommand("show", "disks, target port groups, paths and counters");
  show->add_option("disk", disk, "InstanceName or alias");
  show->callback([&] {
    action = [&](Client& c) {
      json req = {{"method", "Show"}};
      if (!disk.empty()) req["InstanceName"] = disk;
      const json r = c.Call(req);
      if (StatusCode(r) != 0) return ReadFailed(r, as_json);
      if (as_json) {
        std::cout << r.dump(2) << "\n";
      } else {
        for (const json& d : r["Disks"]) PrintDiskTree(d);
      }
      return kExitOk;
    };
  });

  // policy get|set|set-alua
  auto* policy = app.add_subcommand("policy", "a disk's load-balance policy");
  policy->require_subcommand(1);
  auto* pget = policy->add_subcommand("get", "DSM_QueryLBPolicy_V2");
  pget->add_option("disk", disk)->required();
  pget->callback([&] {
    action = [&](Client& c) {
      const json r = c.Call({{"method", "DSM_QueryLBPolicy_V2"}, {"InstanceName", disk}});
      if (StatusCode(r) != 0) return ReadFailed(r, as_json);
      if (as_json)
        std::cout << r.dump(2) << "\n";
      else
        PrintPolicy(r);
      return kExitOk;
    };
  });
  std::string policy_name;
  std::vector<std::string> weights;
  std::string preferred;
  auto* pset =
      policy->add_subcommand("set", "DsmSetLoadBalancePolicyALUA with the current path states");
  pset->add_option("disk", disk)->required();
  pset->add_option("policy", policy_name, "foo rr rrws lqd wp lb st, 0..7 (0 clears)")->required();
  pset->add_option("--weight", weights, "PATH=W (Weighted Paths)");
  pset->add_option("--preferred", preferred, "PATH (Fail Over Only failback target)");
  pset->callback([&] {
    action = [&](Client& c) {
      const std::uint32_t p = PolicyArg(policy_name);
      json lbp;
      if (p == 0) {
        lbp = {{"Version", 2}, {"LoadBalancePolicy", 0}, {"DSMPathCount", 0}, {"Reserved", 0}};
      } else {
        const json q = c.Call({{"method", "DSM_QueryLBPolicy_V2"}, {"InstanceName", disk}});
        if (StatusCode(q) != 0) return ReadFailed(q, as_json);
        lbp = q["LoadBalancePolicy"];
        lbp["LoadBalancePolicy"] = p;
        for (const std::string& w : weights) {
          const auto eq = w.find('=');
          if (eq == std::string::npos) throw Failure{"--weight wants PATH=W, got " + w};
          json* path = FindPath(lbp, PathArg(w.substr(0, eq)));
          if (path == nullptr) throw Failure{"no path " + w.substr(0, eq) + " on " + disk};
          const auto weight = ParseIdText(w.substr(eq + 1));
          if (!weight || *weight > 0xFFFFFFFFULL) throw Failure{"bad weight in " + w};
          (*path)["PathWeight"] = *weight;
        }
        if (!preferred.empty()) {
          const std::uint64_t id = PathArg(preferred);
          if (FindPath(lbp, id) == nullptr) throw Failure{"no path " + preferred + " on " + disk};
          for (json& e : lbp["DSM_Paths"]) e["PreferredPath"] = 0;
          (*FindPath(lbp, id))["PreferredPath"] = 1;
        }
      }
      const json r = c.Call({{"method", "DsmSetLoadBalancePolicyALUA"},
                             {"InstanceName", disk},
                             {"LoadBalancePolicy", lbp}});
      return PrintSetResult(r, as_json);
    };
  });
  std::vector<std::string> path_states;
  auto* palua = policy->add_subcommand("set-alua", "DsmSetLoadBalancePolicyALUA: per-path states");
  palua->add_option("disk", disk)->required();
  palua->add_option("--path", path_states, "ID=AO|AU|SB|UA")->required();
  palua->add_option("--preferred", preferred, "ID");
  palua->add_option("--policy", policy_name, "policy (default: the current one)");
  palua->callback([&] {
    action = [&](Client& c) {
      const json q = c.Call({{"method", "DSM_QueryLBPolicy_V2"}, {"InstanceName", disk}});
      if (StatusCode(q) != 0) return ReadFailed(q, as_json);
      json lbp = q["LoadBalancePolicy"];
      if (!policy_name.empty()) lbp["LoadBalancePolicy"] = PolicyArg(policy_name);
      // The state table of spec §2: (PrimaryPath, OptimizedPath).
      static const std::map<std::string, std::pair<int, int>> kFlags = {
          {"AO", {1, 1}}, {"AU", {1, 0}}, {"SB", {0, 1}}, {"UA", {0, 0}}};
      for (const std::string& ps : path_states) {
        const auto eq = ps.find('=');
        const auto f = eq == std::string::npos ? kFlags.end() : kFlags.find(ps.substr(eq + 1));
        if (f == kFlags.end()) throw Failure{"--path wants ID=AO|AU|SB|UA, got " + ps};
        json* path = FindPath(lbp, PathArg(ps.substr(0, eq)));
        if (path == nullptr) throw Failure{"no path " + ps.substr(0, eq) + " on " + disk};
        (*path)["PrimaryPath"] = f->second.first;
        (*path)["OptimizedPath"] = f->second.second;
      }
      if (!preferred.empty()) {
        const std::uint64_t id = PathArg(preferred);
        if (FindPath(lbp, id) == nullptr) throw Failure{"no path " + preferred + " on " + disk};
        for (json& e : lbp["DSM_Paths"]) e["PreferredPath"] = 0;
        (*FindPath(lbp, id))["PreferredPath"] = 1;
      }
      const json r = c.Call({{"method", "DsmSetLoadBalancePolicyALUA"},
                             {"InstanceName", disk},
                             {"LoadBalancePolicy", lbp}});
      return PrintSetResult(r, as_json);
    };
  });

  // default-policy get|set
  std::string vendor, product;
  auto* defp = app.add_subcommand("default-policy", "MSDSM-wide or VID/PID default policy");
  defp->require_subcommand(1);
  auto* dget = defp->add_subcommand("get");
  auto* dset = defp->add_subcommand("set");
  for (auto* sc : {dget, dset}) {
    sc->add_option("--vendor", vendor, "VID (8 characters, padded)");
    sc->add_option("--product", product, "PID (16 characters, padded)");
  }
  dset->add_option("policy", policy_name, "foo rr rrws lqd wp lb st, 0..7 (0 deletes)")->required();
  dset->add_option("--preferred", preferred, "PreferredPath");
  dget->callback([&] {
    action = [&](Client& c) {
      const bool targets = !vendor.empty() || !product.empty();
      const json r = c.Call({{"method", targets ? "MSDSM_TARGETS_DEFAULT_LOAD_BALANCE_POLICY"
                                                : "MSDSM_DEFAULT_LOAD_BALANCE_POLICY"}});
      if (StatusCode(r) != 0) return ReadFailed(r, as_json);
      if (as_json) {
        std::cout << r.dump(2) << "\n";
      } else if (!targets) {
        const std::uint32_t p = r.value("LoadBalancePolicy", 0U);
        std::cout << "MSDSM default: " << openmpio::mgmt::PolicyShortName(p) << " (" << p
                  << ") preferred " << Str(r, "PreferredPath") << "\n";
      } else {
        const std::string hw = Pad(vendor, 8) + Pad(product, 16);
        for (const json& e : r["TargetDefaultPolicyInfo"]) {
          if (e.value("HardwareId", std::string()) != hw) continue;
          const std::uint32_t p = e.value("LoadBalancePolicy", 0U);
          std::cout << "\"" << hw << "\": " << openmpio::mgmt::PolicyShortName(p) << " (" << p
                    << ") preferred " << Str(e, "PreferredPath") << "\n";
        }
      }
      return kExitOk;
    };
  });
  dset->callback([&] {
    action = [&](Client& c) {
      const std::uint32_t p = PolicyArg(policy_name);
      const std::string pref = preferred.empty() ? std::string("0") : preferred;
      json r;
      if (vendor.empty() && product.empty()) {
        r = c.Call(
            {{"method", "MSDSM_DEFAULT_LOAD_BALANCE_POLICY"},
             {"Set", {{"LoadBalancePolicy", p}, {"PreferredPath", FormatId(PathArg(pref))}}}});
      } else {
        const json entry = {{"HardwareId", Pad(vendor, 8) + Pad(product, 16)},
                            {"LoadBalancePolicy", p},
                            {"PreferredPath", FormatId(PathArg(pref))}};
        r = c.Call(
            {{"method", "MSDSM_TARGETS_DEFAULT_LOAD_BALANCE_POLICY"},
             {"Set", {{"NumberDevices", 1}, {"TargetDefaultPolicyInfo", json::array({entry})}}}});
      }
      return PrintSetResult(r, as_json);
    };
  });

  // timers get|set
  auto* timers = app.add_subcommand("timers", "MPIO_TIMERS_COUNTERS");
  timers->require_subcommand(1);
  auto* tget = timers->add_subcommand("get");
  auto* tset = timers->add_subcommand("set");
  static const char* kTimerNames[] = {"PathVerifyEnabled", "PathVerificationPeriod",
                                      "PDORemovePeriod", "RetryCount", "RetryInterval"};
  static const char* kTimerOptions[] = {"--path-verify-enabled", "--path-verification-period",
                                        "--pdo-remove-period", "--retry-count", "--retry-interval"};
  std::optional<std::uint32_t> timer_values[5];
  for (std::size_t i = 0; i < 5; ++i)
    tset->add_option(kTimerOptions[i], timer_values[i], kTimerNames[i]);
  tget->callback([&] {
    action = [&](Client& c) {
      const json r = c.Call({{"method", "MPIO_TIMERS_COUNTERS"}});
      if (StatusCode(r) != 0) return ReadFailed(r, as_json);
      if (as_json) {
        std::cout << r.dump(2) << "\n";
      } else {
        for (const char* n : kTimerNames) std::cout << n << " " << Str(r, n) << "\n";
      }
      return kExitOk;
    };
  });
  tset->callback([&] {
    action = [&](Client& c) {
      json set = json::object();
      for (std::size_t i = 0; i < 5; ++i) {
        if (timer_values[i]) set[kTimerNames[i]] = *timer_values[i];
      }
      if (set.empty()) throw Failure{"timers set: give at least one of --retry-count ..."};
      return PrintSetResult(c.Call({{"method", "MPIO_TIMERS_COUNTERS"}, {"Set", set}}), as_json);
    };
  });

  // stats [DISK] [--watch [S] [--count N]] [--clear]
  // --watch repeats every S seconds (default 2) until interrupted, or N times
  // with --count. Text: each refresh starts with "-- refresh K". --json with
  // --watch: one compact JSON document per refresh, one per line (JSON Lines),
  // each the same shape as one `stats --json` reply, so a reader parses line
  // by line; without --watch --json prints one indented document as ever.
  double watch = 0;
  std::uint32_t refreshes = 0;
  bool clear = false;
  auto* stats = app.add_subcommand("stats", "MSDSM_DEVICE_PERF per path");
  stats->add_option("disk", disk);
  auto* watch_opt =
      stats
          ->add_option("--watch", watch,
                       "repeat every S seconds; with --json one JSON document per line")
          ->expected(0, 1)
          ->default_str("2");
  stats->add_option("--count", refreshes, "with --watch: stop after N refreshes")
      ->needs(watch_opt)
      ->check(CLI::PositiveNumber);
  stats->add_flag("--clear", clear, "MSDsmClearCounters")->excludes(watch_opt);
  stats->callback([&] {
    const bool watching = stats->count("--watch") > 0;
    if (watching && watch <= 0) watch = 2;
    action = [&, watching](Client& c) {
      std::vector<std::string> names;
      if (!disk.empty()) {
        names.push_back(disk);
      } else {
        const json l = c.Call({{"method", "ListDisks"}});
        if (StatusCode(l) != 0) return ReadFailed(l, as_json);
        for (const json& d : l["Disks"]) names.push_back(d["InstanceName"]);
      }
      if (clear) {
        int rc = kExitOk;
        for (const std::string& n : names) {
          const json r = c.Call({{"method", "MSDsmClearCounters"}, {"InstanceName", n}});
          if (PrintSetResult(r, as_json) != kExitOk) rc = kExitStatus;
        }
        return rc;
      }
      for (std::uint32_t done = 1;; ++done) {
        if (watching && !as_json) std::cout << "-- refresh " << done << "\n";
        json all = json::array();
        for (const std::string& n : names) {
          const json r = c.Call({{"method", "MSDSM_DEVICE_PERF"}, {"InstanceName", n}});
          if (StatusCode(r) != 0) return ReadFailed(r, as_json);
          if (as_json) {
            all.push_back(r);
            continue;
          }
          // Retries and service times are openmpio's, beside the MSDSM class:
          // from Show (best effort: an older server without them prints none).
          const json shown = c.Call({{"method", "Show"}, {"InstanceName", n}});
          auto extras = [&shown](const json& id) -> const json* {
            if (StatusCode(shown) != 0 || !shown.contains("Disks") || shown["Disks"].empty() ||
                !shown["Disks"][0].contains("Paths")) {
              return nullptr;
            }
            for (const json& sp : shown["Disks"][0]["Paths"]) {
              if (sp.value("DsmPathId", json()) == id) return &sp;
            }
            return nullptr;
          };
          std::cout << n << "\n";
          for (const json& p : r["PerfInfo"]) {
            std::cout << "  " << Str(p, "PathId") << " reads=" << Str(p, "NumberReads")
                      << " writes=" << Str(p, "NumberWrites")
                      << " bytes_read=" << Str(p, "BytesRead")
                      << " bytes_written=" << Str(p, "BytesWritten");
            if (const json* x = extras(p["PathId"]); x != nullptr && x->contains("Retries")) {
              std::cout << " retries=" << Str(*x, "Retries") << "\n    latency";
              for (const json& b : x->value("LatencyUs", json::array())) {
                std::cout << " " << Str(b, "FromUs") << "-"
                          << (b["ToUs"].is_null() ? std::string("") : Str(b, "ToUs"))
                          << "us:" << Str(b, "Count");
              }
            }
            std::cout << "\n";
          }
        }
        if (as_json) {
          const json& doc = names.size() == 1 ? all[0] : all;
          std::cout << (watching ? doc.dump() : doc.dump(2)) << "\n";
        }
        std::cout.flush();
        if (!watching || (refreshes != 0 && done >= refreshes)) return kExitOk;
        std::this_thread::sleep_for(std::chrono::milliseconds(static_cast<long>(watch * 1000)));
      }
    };
  });

  // why DISK
  auto* why = app.add_subcommand("why", "which paths the policy uses now, and why not the others");
  why->add_option("disk", disk)->required();
  why->callback([&] {
    action = [&](Client& c) {
      const json r = c.Call({{"method", "Why"}, {"InstanceName", disk}});
      if (StatusCode(r) != 0) return ReadFailed(r, as_json);
      if (as_json) {
        std::cout << r.dump(2) << "\n";
      } else {
        std::cout << Str(r, "InstanceName") << ": policy " << Str(r, "PolicyName") << ", "
                  << Str(r, "SelectionMode") << "\n";
        for (const json& p : r["Paths"]) {
          std::cout << "  " << Str(p, "DsmPathId") << " " << Str(p, "Reason") << "\n";
        }
      }
      return kExitOk;
    };
  });

  // events
  auto* events = app.add_subcommand(
      "events", "the engine's recent state changes: paths failed and why, ALUA changes, hedges");
  events->callback([&] {
    action = [&](Client& c) {
      const json r = c.Call({{"method", "Events"}});
      if (StatusCode(r) != 0) return ReadFailed(r, as_json);
      if (as_json) {
        std::cout << r.dump(2) << "\n";
        return kExitOk;
      }
      for (const json& e : r["Events"]) {
        const std::uint64_t ms = e.value("TimeMs", std::uint64_t{0});
        const auto secs = static_cast<std::time_t>(ms / 1000);
        std::tm utc{};
        ::gmtime_r(&secs, &utc);
        char day[32];
        std::strftime(day, sizeof day, "%F %T", &utc);
        char when[48];
        std::snprintf(when, sizeof when, "%s.%03u UTC", day, static_cast<unsigned>(ms % 1000));
        const std::string event_disk = e.value("Disk", std::string());
        std::cout << when << "  " << (event_disk.empty() ? std::string("-") : event_disk) << "  "
                  << e.value("Text", std::string()) << "\n";
      }
      return kExitOk;
    };
  });

  // sim
  std::uint32_t port = 0, tpg = 0;
  std::uint64_t lun = 0;
  std::string state;
  auto* sim = app.add_subcommand("sim", "control the embedded array (demo, tests)");
  sim->require_subcommand(1);
  for (const auto& [name, act] : std::vector<std::pair<const char*, const char*>>{
           {"fail-port", "FailPort"}, {"hang-port", "HangPort"}, {"restore-port", "RestorePort"}}) {
    auto* sc = sim->add_subcommand(name, std::string(act) + " a target port");
    sc->add_option("port", port, "relative target port")->required();
    const std::string a = act;
    sc->callback([&, a] {
      action = [&, a](Client& c) {
        return PrintSetResult(
            c.Call({{"method", "SimControl"}, {"Action", a}, {"TargetPort_Identifier", port}}),
            as_json);
      };
    });
  }
  auto* sst = sim->add_subcommand("set-state", "set the ALUA state of (LU, target port group)");
  sst->add_option("lun", lun)->required();
  sst->add_option("tpg", tpg)->required();
  sst->add_option("state", state,
                  "AO AN SB UA LBD Offline (the change passes through Transitioning)")
      ->required();
  sst->callback([&] {
    action = [&](Client& c) {
      return PrintSetResult(c.Call({{"method", "SimControl"},
                                    {"Action", "SetState"},
                                    {"LUN", lun},
                                    {"TargetPortGroup_Identifier", tpg},
                                    {"State", state}}),
                            as_json);
    };
  });
  std::uint64_t first_lba = 0, block_count = 0;
  auto* scr = sim->add_subcommand(
      "corrupt-read", "every READ of the LU's blocks [lba, lba+count) returns them damaged");
  scr->add_option("lun", lun)->required();
  scr->add_option("lba", first_lba, "first logical block")->required();
  scr->add_option("count", block_count, "blocks (at least 1)")->required();
  scr->callback([&] {
    action = [&](Client& c) {
      return PrintSetResult(c.Call({{"method", "SimControl"},
                                    {"Action", "CorruptRead"},
                                    {"LUN", lun},
                                    {"FirstLBA", first_lba},
                                    {"BlockCount", block_count}}),
                            as_json);
    };
  });
  // The LU inventory (the engine follows through UA 3F/0E and 2A/09).
  std::uint32_t owner = 0;
  bool thick = false;
  auto* sal = sim->add_subcommand("add-lu", "a new LU of BLOCKS 512-byte blocks");
  sal->add_option("lun", lun)->required();
  sal->add_option("blocks", block_count, "capacity in 512-byte blocks (at least 1)")->required();
  sal->add_option("--owner", owner, "the target port group it is A/O through (default: the first)");
  sal->add_flag("--thick", thick, "fully provisioned: no UNMAP");
  sal->callback([&] {
    action = [&](Client& c) {
      json req = {{"method", "SimControl"},
                  {"Action", "AddLu"},
                  {"LUN", lun},
                  {"BlockCount", block_count},
                  {"Provisioning", thick ? "thick" : "thin"}};
      if (owner != 0) req["OwnerGroup"] = owner;
      return PrintSetResult(c.Call(req), as_json);
    };
  });
  auto* srl = sim->add_subcommand("remove-lu", "the LU leaves the array, with its data");
  srl->add_option("lun", lun)->required();
  srl->callback([&] {
    action = [&](Client& c) {
      return PrintSetResult(
          c.Call({{"method", "SimControl"}, {"Action", "RemoveLu"}, {"LUN", lun}}), as_json);
    };
  });
  auto* srs = sim->add_subcommand("resize-lu", "the LU's new capacity in its blocks");
  srs->add_option("lun", lun)->required();
  srs->add_option("blocks", block_count, "capacity in blocks (at least 1)")->required();
  srs->callback([&] {
    action = [&](Client& c) {
      return PrintSetResult(c.Call({{"method", "SimControl"},
                                    {"Action", "ResizeLu"},
                                    {"LUN", lun},
                                    {"BlockCount", block_count}}),
                            as_json);
    };
  });
  auto* scf = sim->add_subcommand("clear-faults", "remove every array fault (corrupt-read)");
  scf->callback([&] {
    action = [&](Client& c) {
      return PrintSetResult(c.Call({{"method", "SimControl"}, {"Action", "ClearFaults"}}), as_json);
    };
  });

  // config save
  std::string config_path;
  auto* config = app.add_subcommand("config", "the configuration file");
  config->require_subcommand(1);
  auto* save = config->add_subcommand("save", "write the running settings back");
  save->add_option("--path", config_path, "another file");
  save->callback([&] {
    action = [&](Client& c) {
      json req = {{"method", "SaveConfig"}};
      if (!config_path.empty()) req["Path"] = config_path;
      return PrintSetResult(c.Call(req), as_json);
    };
  });

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? kExitOk : kExitUsage;
  }
  if (!action) return kExitUsage;
  // CLI::Range lets NaN through.
  if (!std::isfinite(timeout_seconds) || timeout_seconds < kMinTimeoutSeconds ||
      timeout_seconds > kMaxTimeoutSeconds) {
    std::cerr << "mpioctl: --timeout: not a number of seconds in [" << kMinTimeoutSeconds << ", "
              << kMaxTimeoutSeconds << "]\n";
    return kExitUsage;
  }
  try {
    Client client(socket_path, std::chrono::milliseconds(std::llround(timeout_seconds * 1000)));
    return action(client);
  } catch (const Failure& f) {
    std::cerr << "mpioctl: " << f.what << "\n";
    return kExitUsage;
  } catch (const json::exception&) {
    // A status object without a field this command reads, or with another
    // type: say so, not the library's text.
    std::cerr << "mpioctl: the engine's reply lacks a field this command reads, or has it in "
                 "another type\n";
    return kExitUsage;
  } catch (const std::exception& e) {
    std::cerr << "mpioctl: " << e.what() << "\n";
    return kExitUsage;
  }
}

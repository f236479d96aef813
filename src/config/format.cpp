// FormatConfig / SaveConfig: `mpioctl config save` writes the run-time
// settings back (spec/msdsm.md §4 "persisted"). The text is generated from the
// Config alone, in a fixed order, so comments and layout of the file the
// Config was read from are not preserved; ParseConfig reads it back to an
// equal Config (tests/unit/config/round_trip_test.cpp).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <limits>
#include <string>

#include "config/config.h"
#include "dsm/names.h"
#include "dsm/policy.h"

namespace openmpio::config {

namespace {

// A TOML basic string (TOML 1.0 "String"): escapes for '"', '\\' and every
// control character; other bytes (UTF-8) as they are.
std::string Str(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out = "\"";
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (u < 0x20 || u == 0x7f) {
          out += "\\u00";
          out += kHex[u >> 4U];
          out += kHex[u & 0xFU];
        } else {
          out += c;
        }
    }
  }
  out += '"';
  return out;
}

std::string Num(std::uint64_t v) {
  // TOML integers are signed 64-bit; larger values only occur for sizes,
  // which ParseConfig also takes as a decimal string.
  if (v > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
    return Str(std::to_string(v));
  }
  return std::to_string(v);
}

const char* Bool(bool b) {
  return b ? "true" : "false";
}

std::string Policy(dsm::LoadBalancePolicy p) {
  const char* name = PolicyName(p);
  return name != nullptr ? Str(name) : std::to_string(static_cast<std::uint32_t>(p));
}

const char* SimStateName(scsi::AsymmetricAccessState s) {
  using S = scsi::AsymmetricAccessState;
  switch (s) {
    case S::kActiveOptimized:
      return "ao";
    case S::kActiveNonOptimized:
      return "an";
    case S::kStandby:
      return "standby";
    case S::kUnavailable:
      return "unavailable";
    case S::kOffline:
      return "offline";
    case S::kLogicalBlockDependent:
    case S::kTransitioning:
      break;  // not initial states; ParseConfig never yields them
  }
  return "unavailable";
}

const char* TpgsName(scsi::Tpgs t) {
  switch (t) {
    case scsi::Tpgs::kNone:
      return "none";
    case scsi::Tpgs::kImplicit:
      return "implicit";
    case scsi::Tpgs::kExplicit:
      return "explicit";
    case scsi::Tpgs::kBoth:
      return "both";
  }
  return "both";
}

const char* ProvisioningName(SimProvisioning p) {
  return p == SimProvisioning::kThick ? "thick" : "thin";
}

Status IoError(const std::string& what, const std::string& path, int err) {
  return Status(NtStatus::kIoDeviceError, path + ": " + what + ": " + std::strerror(err));
}

}  // namespace

std::string FormatConfig(const Config& c) {
  std::string o = "# openmpio configuration (written by openmpio; comments are not kept)\n\n";

  o += "[management]\n";
  o += "enabled = " + std::string(Bool(c.management.enabled)) + "\n";
  if (!c.management.socket.empty()) o += "socket = " + Str(c.management.socket) + "\n";

  o += "\n[defaults]\n";
  if (c.defaults.load_balance_policy != dsm::LoadBalancePolicy::kNone) {
    o += "load_balance_policy = " + Policy(c.defaults.load_balance_policy) + "\n";
  }
  if (c.defaults.preferred_path) {
    o += "preferred_path = " + Str(dsm::PathIdText(*c.defaults.preferred_path)) + "\n";
  }
  o += "strict_msdsm = " + std::string(Bool(c.defaults.strict_msdsm)) + "\n";

  const TimersConfig& t = c.timers;
  o += "\n[timers]  # seconds\n";
  o += "PathVerifyEnabled = " + std::string(Bool(t.path_verify_enabled)) + "\n";
  o += "PathVerificationPeriod = " + Num(t.path_verification_period) + "\n";
  o += "PDORemovePeriod = " + Num(t.pdo_remove_period) + "\n";
  o += "RetryCount = " + Num(t.retry_count) + "\n";
  o += "RetryInterval = " + Num(t.retry_interval) + "\n";
  o += "UseCustomPathRecoveryInterval = " + std::string(Bool(t.use_custom_path_recovery_interval)) +
       "\n";
  o += "PathRecoveryInterval = " + Num(t.path_recovery_interval) + "\n";
  o += "command_timeout = " + Num(t.command_timeout) + "\n";
  o += "marginal_path_window = " + Num(t.marginal_path_window) + "\n";
  o += "marginal_path_failures = " + Num(t.marginal_path_failures) + "\n";
  o += "marginal_path_hold = " + Num(t.marginal_path_hold) + "\n";
  o += "hedge_floor_ms = " + Num(t.hedge_floor_ms) + "\n";
  o += "hedge_multiplier = " + Num(t.hedge_multiplier) + "\n";

  for (const auto& d : c.target_defaults) {
    o += "\n[[target_defaults]]\n";
    o += "vendor = " + Str(d.vendor) + "\n";
    o += "product = " + Str(d.product) + "\n";
    o += "policy = " + Policy(d.policy) + "\n";
    if (d.preferred_path) o += "preferred_path = " + Str(dsm::PathIdText(*d.preferred_path)) + "\n";
  }
  for (const auto& r : c.claim) {
    o += "\n[[claim]]\nvendor = " + Str(r.vendor) + "\nproduct = " + Str(r.product) + "\n";
  }
  for (const auto& m : c.merge) {
    o += "\n[[merge]]\ndesignator = " + Str(m.designator) + "\ntargets = [";
    for (std::size_t i = 0; i < m.targets.size(); ++i) {
      o += (i == 0 ? "" : ", ") + Str(m.targets[i]);
    }
    o += "]\n";
  }
  for (const auto& d : c.disks) {
    o += "\n[[disk]]\n";
    if (!d.designator.empty()) o += "designator = " + Str(d.designator) + "\n";
    if (!d.alias.empty()) o += "alias = " + Str(d.alias) + "\n";
    if (d.policy != dsm::LoadBalancePolicy::kNone) o += "policy = " + Policy(d.policy) + "\n";
    if (d.preferred_path) o += "preferred_path = " + Str(dsm::PathIdText(*d.preferred_path)) + "\n";
    if (!d.paths.empty()) {
      o += "[disk.paths]\n";
      for (const auto& [id, s] : d.paths) {
        o += Str(dsm::PathIdText(id)) + " = {";
        std::string sep = " ";
        if (s.weight) {
          o += sep + "weight = " + Num(*s.weight);
          sep = ", ";
        }
        if (s.requested_state)
          o += sep + "state = " + Str(dsm::NameOf(*s.requested_state, dsm::Spelling::kConfig));
        o += " }\n";
      }
    }
  }
  for (const auto& tg : c.targets) {
    o += "\n[[target]]\nname = " + Str(tg.name) + "\nportals = [";
    for (std::size_t i = 0; i < tg.portals.size(); ++i) {
      o += (i == 0 ? "" : ", ") + Str(tg.portals[i]);
    }
    o += "]\n";
    if (!tg.initiator_name.empty()) o += "initiator_name = " + Str(tg.initiator_name) + "\n";
    if (!tg.luns.empty()) {
      o += "luns = [";
      for (std::size_t i = 0; i < tg.luns.size(); ++i) {
        o += (i == 0 ? "" : ", ") + Num(tg.luns[i]);
      }
      o += "]\n";
    }
    o += "login_timeout = " + Num(tg.login_timeout) + "\n";
    o += "nop_interval = " + Num(tg.nop_interval) + "\n";
    o += "nop_missed = " + Num(tg.nop_missed) + "\n";
    o += "header_digest = " + Str(HeaderDigestName(tg.header_digest)) + "\n";
    o += "alua = " + Str(AluaModeName(tg.alua)) + "\n";
    o += "sendtargets = " + std::string(Bool(tg.sendtargets)) + "\n";
    if (tg.command_timeout != 0) o += "command_timeout = " + Num(tg.command_timeout) + "\n";
    // Written back as they were: the file is made with mode 0600 (below).
    if (!tg.chap_username.empty()) {
      o += "chap_username = " + Str(tg.chap_username) + "\n";
      o += "chap_secret = " + Str(tg.chap_secret) + "\n";
    }
    if (!tg.target_chap_username.empty()) {
      o += "target_chap_username = " + Str(tg.target_chap_username) + "\n";
      o += "target_chap_secret = " + Str(tg.target_chap_secret) + "\n";
    }
  }
  if (c.sim) {
    const SimConfig& s = *c.sim;
    o += "\n[sim]\n";
    o += "target_name = " + Str(s.target_name) + "\n";
    o += "vendor = " + Str(s.vendor) + "\n";
    o += "product = " + Str(s.product) + "\n";
    o += "tpgs = " + Str(TpgsName(s.tpgs)) + "\n";
    o += "implicit_transition_time = " + Num(s.implicit_transition_time) + "\n";
    o += "seed = " + Num(s.seed) + "\n";
    for (const auto& p : s.ports) {
      o += "\n[[sim.port]]\n";
      o += "relative_target_port = " + Num(p.relative_target_port) + "\n";
      o += "target_port_group = " + Num(p.target_port_group) + "\n";
      o += "latency_us = " + Num(p.latency_us) + "\n";
      o += "bandwidth_bytes_per_second = " + Num(p.bandwidth_bytes_per_second) + "\n";
      o += "service_time_us = " + Num(p.service_time_us) + "\n";
    }
    for (const auto& lu : s.lus) {
      o += "\n[[sim.lu]]\n";
      o += "lun = " + Num(lu.lun) + "\n";
      o += "size = " + Num(lu.size_bytes) + "\n";
      o += "block_size = " + Num(lu.block_size) + "\n";
      o += "provisioning = " + Str(ProvisioningName(lu.provisioning)) + "\n";
      if (lu.owner_group) o += "owner_group = " + Num(*lu.owner_group) + "\n";
      if (lu.preferred_group) o += "preferred_group = " + Num(*lu.preferred_group) + "\n";
      if (!lu.states.empty()) {
        o += "states = {";
        std::string sep = " ";
        for (const auto& g : lu.states) {
          o += sep + Str(std::to_string(g.target_port_group)) + " = " + Str(SimStateName(g.state));
          sep = ", ";
        }
        o += " }\n";
      }
    }
  }
  return o;
}

Status SaveConfig(const std::string& path, const Config& config) {
  const std::string text = FormatConfig(config);
  // Never write a file the next start would refuse: the service would not
  // come back (issue 13 item 2). The settings' ranges make this unreachable
  // from management; this is the last guard, and the old file stays.
  if (auto back = ParseConfig(text, path); !back) {
    return InvalidParameter("not saved to " + path +
                            ": the file would not load again: " + back.error().message());
  }
  const auto slash = path.rfind('/');
  const std::string dir =
      slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
  std::string tmp = path + ".tmp.XXXXXX";
  // mkstemp creates the file with mode 0600 in the target's folder, so the
  // rename below stays within one file system and is atomic.
  const int fd = ::mkstemp(tmp.data());
  if (fd < 0) return IoError("cannot create a temporary file", path, errno);
  const auto fail = [&](const char* what) {
    const int err = errno;
    ::close(fd);
    ::unlink(tmp.c_str());
    return IoError(what, path, err);
  };
  if (::fchmod(fd, S_IRUSR | S_IWUSR) != 0) return fail("cannot set mode 0600");
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail("cannot write");
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) return fail("cannot fsync");
  if (::close(fd) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    return IoError("cannot close", path, err);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    return IoError("cannot rename the temporary file over it", path, err);
  }
  // The rename is durable only once the folder is synced.
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return OkStatus();
}

}  // namespace openmpio::config

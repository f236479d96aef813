// Helpers around a Config that need no parser: policy names, path ids, the
// socket path, claim rules, the demo configuration.
#include "config/config.h"

#include <cstdio>
#include <cstdlib>

#include <unistd.h>

#include "common/hex.h"
#include "dsm/names.h"

namespace openmpio::config {

namespace {

std::string_view TrimTrailingSpaces(std::string_view s) noexcept {
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

std::string PadTo(std::string_view s, std::size_t n) {
  std::string out(s.substr(0, n));
  out.resize(n, ' ');
  return out;
}

}  // namespace

// The names are dsm's (dsm/names.h); the table's literals end in NUL.
const char* PolicyName(dsm::LoadBalancePolicy policy) noexcept {
  const std::string_view name = dsm::ShortName(policy);
  return name.empty() ? nullptr : name.data();
}

std::optional<dsm::LoadBalancePolicy> PolicyFromName(std::string_view name) {
  if (auto p = dsm::PolicyFromShortName(name)) return p;
  if (name.size() == 1 && name[0] >= '1' && name[0] <= '7') {
    return static_cast<dsm::LoadBalancePolicy>(static_cast<std::uint32_t>(name[0] - '0'));
  }
  return std::nullopt;
}

std::optional<dsm::DsmPathId> ParsePathId(std::string_view text) {
  if (text.size() < 3 || text[0] != '0' || (text[1] != 'x' && text[1] != 'X')) return std::nullopt;
  const std::string_view digits = text.substr(2);
  if (digits.size() > 16) return std::nullopt;
  dsm::DsmPathId id = 0;
  for (const char c : digits) {
    const int d = HexDigitValue(c);
    if (d < 0) return std::nullopt;
    id = (id << 4U) | static_cast<dsm::DsmPathId>(d);
  }
  if (id == 0) return std::nullopt;  // DsmPathId is never zero (DESIGN.md "Identity")
  return id;
}

std::string DefaultSocketPath(unsigned uid, const char* xdg_runtime_dir) {
  if (uid == 0) return "/run/openmpio/mgmt.sock";
  if (xdg_runtime_dir != nullptr && xdg_runtime_dir[0] != '\0') {
    return std::string(xdg_runtime_dir) + "/openmpio.sock";
  }
  // No runtime folder (a bare su, cron): a per-user name in /tmp; the socket
  // itself is mode 0600, so another user cannot use it.
  return "/tmp/openmpio-" + std::to_string(uid) + ".sock";
}

std::string SocketPath(const ManagementConfig& management) {
  if (!management.socket.empty()) return management.socket;
  return DefaultSocketPath(static_cast<unsigned>(::geteuid()), std::getenv("XDG_RUNTIME_DIR"));
}

bool GlobMatch(std::string_view pattern, std::string_view text) noexcept {
  // Iterative '*' backtracking: O(|p| * |t|) worst case, no recursion.
  std::size_t p = 0;
  std::size_t t = 0;
  std::size_t star = std::string_view::npos;
  std::size_t star_t = 0;
  while (t < text.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == text[t])) {
      ++p;
      ++t;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      star_t = t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++star_t;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

bool IsClaimed(const Config& config, std::string_view vendor, std::string_view product) {
  if (config.claim.empty()) return true;
  const std::string_view v = TrimTrailingSpaces(vendor);
  const std::string_view p = TrimTrailingSpaces(product);
  for (const auto& rule : config.claim) {
    if (GlobMatch(rule.vendor, v) && GlobMatch(rule.product, p)) return true;
  }
  return false;
}

std::string HardwareId(const TargetDefaultConfig& target_default) {
  return PadTo(target_default.vendor, kMaxVendorChars) +
         PadTo(target_default.product, kMaxProductChars);
}

dsm::DsmOptions ToDsmOptions(const Config& config) {
  dsm::DsmOptions o;
  o.strict_msdsm = config.defaults.strict_msdsm;
  return o;
}

Config DemoConfig() {
  Config c;
  SimConfig sim;  // target name, vendor, product, TPGS both, 2 s transition, seed 1
  sim.ports = {{1, 1, 0, 0, 0}, {2, 1, 0, 0, 0}, {3, 2, 0, 0, 0}, {4, 2, 0, 0, 0}};
  constexpr std::uint64_t kGiB = 1024ULL * 1024ULL * 1024ULL;
  SimLuConfig a;
  a.lun = 0;
  a.size_bytes = kGiB;
  a.owner_group = 1;
  SimLuConfig b = a;
  b.lun = 1;
  b.owner_group = 2;
  sim.lus = {a, b};
  c.sim = sim;
  return c;
}

std::optional<HeaderDigest> HeaderDigestFromName(std::string_view name) {
  for (const HeaderDigest d :
       {HeaderDigest::kNone, HeaderDigest::kCrc32c, HeaderDigest::kPreferCrc32c}) {
    if (name == HeaderDigestName(d)) return d;
  }
  return std::nullopt;
}

const char* HeaderDigestName(HeaderDigest d) noexcept {
  switch (d) {
    case HeaderDigest::kNone:
      return "none";
    case HeaderDigest::kCrc32c:
      return "crc32c";
    case HeaderDigest::kPreferCrc32c:
      return "prefer-crc32c";
  }
  return "none";
}

std::optional<AluaMode> AluaModeFromName(std::string_view name) {
  for (const AluaMode m : {AluaMode::kAuto, AluaMode::kForce, AluaMode::kOff}) {
    if (name == AluaModeName(m)) return m;
  }
  return std::nullopt;
}

const char* AluaModeName(AluaMode m) noexcept {
  switch (m) {
    case AluaMode::kAuto:
      return "auto";
    case AluaMode::kForce:
      return "force";
    case AluaMode::kOff:
      return "off";
  }
  return "auto";
}

}  // namespace openmpio::config

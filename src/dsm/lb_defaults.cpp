// spec/msdsm.md §4 "Global sets" and §3 precedence.
#include "dsm/lb_defaults.h"

#include <algorithm>
#include <utility>

#include "dsm/settings.h"
#include "scsi/bytes.h"

namespace openmpio::dsm {
namespace {

using scsi::Le16;
using scsi::Le32;
using scsi::Le64;
using scsi::PutLe16;
using scsi::PutLe32;
using scsi::PutLe64;

constexpr std::size_t kDefaultSize = 16;      // MSDSM_DEFAULT_LOAD_BALANCE_POLICY
constexpr std::size_t kTargetsHeader = 8;     // NumberDevices, Reserved
constexpr std::size_t kTargetEntrySize = 80;  // MSDSM_TARGET_DEFAULT_POLICY_INFO
constexpr std::size_t kHardwareIdBytes = 64;  // WCHAR HardwareId[32]
constexpr std::size_t kTimersSize = 20;       // MPIO_TIMERS_COUNTERS

bool DefaultPolicyInRange(std::uint32_t policy, const DsmOptions& options) {
  return IsSelectablePolicy(static_cast<LoadBalancePolicy>(policy), options.strict_msdsm);
}

std::string Num(std::uint64_t v) {
  return std::to_string(v);
}

}  // namespace

std::optional<std::string> DecodeHardwareId(std::span<const std::byte> field) {
  if (field.size() < kHardwareIdBytes) return std::nullopt;
  // WCHAR 0 = byte count (62 as MSDSM writes it); [C] not checked on set, the
  // characters decide. Characters 1..24, then a NUL.
  std::string id;
  for (std::size_t i = 1; i <= kHardwareIdChars; ++i) {
    const std::uint16_t c = Le16(field, 2 * i);
    if (c == 0 || c > 0x7E) return std::nullopt;  // [C] printable ASCII only (INQUIRY is ASCII)
    id.push_back(static_cast<char>(c));
  }
  if (Le16(field, 2 * (kHardwareIdChars + 1)) != 0) return std::nullopt;
  return id;
}

Status PolicyDefaults::SetMsdsmDefault(std::uint32_t policy, DsmPathId preferred_path,
                                       const DsmOptions& options) {
  if (policy == 0) {
    if (!msdsm_) return Status(NtStatus::kObjectNameNotFound, "no MSDSM-wide default stored");
    msdsm_.reset();
    return OkStatus();
  }
  if (!DefaultPolicyInRange(policy, options)) {
    return InvalidParameter("LoadBalancePolicy " + Num(policy) + " out of range");
  }
  msdsm_ = PolicyDefault{static_cast<LoadBalancePolicy>(policy), preferred_path};
  return OkStatus();
}

Expected<PolicyDefault> PolicyDefaults::MsdsmDefault() const {
  if (!msdsm_) {
    return MakeUnexpected(Status(NtStatus::kObjectNameNotFound, "no MSDSM-wide default stored"));
  }
  return *msdsm_;
}

Status PolicyDefaults::SetTargetDefault(std::string_view hardware_id, std::uint32_t policy,
                                        DsmPathId preferred_path, const DsmOptions& options) {
  if (hardware_id.size() != kHardwareIdChars) {
    return InvalidParameter("HardwareId must be VID (8) + PID (16) characters");
  }
  auto it = std::find_if(targets_.begin(), targets_.end(), [&](const TargetDefaultPolicy& t) {
    return t.hardware_id == hardware_id;
  });
  if (policy == 0) {
    if (it == targets_.end()) {
      return Status(NtStatus::kObjectNameNotFound, "no default for " + std::string(hardware_id));
    }
    targets_.erase(it);
    return OkStatus();
  }
  if (!DefaultPolicyInRange(policy, options)) {
    return InvalidParameter("LoadBalancePolicy " + Num(policy) + " out of range");
  }
  const PolicyDefault p{static_cast<LoadBalancePolicy>(policy), preferred_path};
  if (it != targets_.end()) {
    it->policy = p;
  } else {
    targets_.push_back(TargetDefaultPolicy{std::string(hardware_id), p});
  }
  return OkStatus();
}

Status PolicyDefaults::SetMsdsmDefaultBuffer(std::span<const std::byte> in,
                                             const DsmOptions& options) {
  if (in.size() < kDefaultSize) return BufferTooSmall("MSDSM_DEFAULT_LOAD_BALANCE_POLICY < 16");
  // 0 LoadBalancePolicy, 4 Reserved, 8 PreferredPath.
  return SetMsdsmDefault(Le32(in, 0), Le64(in, 8), options);
}

Status PolicyDefaults::SetTargetDefaultsBuffer(std::span<const std::byte> in,
                                               const DsmOptions& options) {
  if (in.size() < kTargetsHeader) return BufferTooSmall("MSDSM_TARGETS... < 8 bytes");
  const std::uint32_t n = Le32(in, 0);
  if (in.size() < kTargetsHeader + kTargetEntrySize * std::size_t{n}) {
    return BufferTooSmall("MSDSM_TARGETS...: " + Num(n) + " entries need " +
                          Num(kTargetsHeader + kTargetEntrySize * std::size_t{n}) + " bytes");
  }
  if (n == 0) return InvalidParameter("NumberDevices 0");
  Status last;
  for (std::size_t i = 0; i < n; ++i) {
    const auto e = in.subspan(kTargetsHeader + i * kTargetEntrySize, kTargetEntrySize);
    // 0 HardwareId[32], 64 LoadBalancePolicy, 68 Reserved, 72 PreferredPath.
    const std::optional<std::string> id = DecodeHardwareId(e.first(kHardwareIdBytes));
    Status s = id ? SetTargetDefault(*id, Le32(e, 64), Le64(e, 72), options)
                  : InvalidParameter("entry " + Num(i) + ": HardwareId not 24 characters");
    if (!s.ok()) last = std::move(s);  // skipped; the others still apply
  }
  return last;
}

Status PolicyDefaults::QueryMsdsmDefaultBuffer(std::span<std::byte> out,
                                               std::size_t* needed) const {
  *needed = kDefaultSize;
  if (!msdsm_) return Status(NtStatus::kObjectNameNotFound, "no MSDSM-wide default stored");
  if (out.size() < kDefaultSize) return BufferTooSmall("MSDSM_DEFAULT needs 16 bytes");
  PutLe32(out, 0, static_cast<std::uint32_t>(msdsm_->policy));
  PutLe32(out, 4, 0);
  PutLe64(out, 8, msdsm_->preferred_path);
  return OkStatus();
}

Status PolicyDefaults::QueryTargetDefaultsBuffer(std::span<std::byte> out,
                                                 std::size_t* needed) const {
  const std::size_t size = kTargetsHeader + kTargetEntrySize * targets_.size();
  *needed = size;
  if (out.size() < size) return BufferTooSmall("MSDSM_TARGETS needs " + Num(size) + " bytes");
  std::fill(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(size), std::byte{0});
  PutLe32(out, 0, static_cast<std::uint32_t>(targets_.size()));
  for (std::size_t i = 0; i < targets_.size(); ++i) {
    const std::size_t o = kTargetsHeader + i * kTargetEntrySize;
    PutLe16(out, o, static_cast<std::uint16_t>(kHardwareIdBytes - 2));  // counted string: 62
    for (std::size_t c = 0; c < targets_[i].hardware_id.size(); ++c) {
      PutLe16(out, o + 2 * (c + 1),
              static_cast<std::uint16_t>(static_cast<unsigned char>(targets_[i].hardware_id[c])));
    }
    PutLe32(out, o + 64, static_cast<std::uint32_t>(targets_[i].policy.policy));
    PutLe64(out, o + 72, targets_[i].policy.preferred_path);
  }
  return OkStatus();
}

Status PolicyDefaults::SetTimers(const MpioTimers& t) {
  // The ranges of settings.h, which the configuration file checks too: what
  // management accepts saves and loads again. All or nothing.
  const std::pair<Setting, std::uint32_t> fields[] = {
      {Setting::kPathVerifyEnabled, t.path_verify_enabled},
      {Setting::kPathVerificationPeriod, t.path_verification_period},
      {Setting::kPdoRemovePeriod, t.pdo_remove_period},
      {Setting::kRetryCount, t.retry_count},
      {Setting::kRetryInterval, t.retry_interval},
  };
  for (const auto& [setting, value] : fields) {
    if (Status s = CheckSetting(setting, value); !s.ok()) return s;
  }
  timers_ = t;
  return OkStatus();
}

Status PolicyDefaults::SetTimersBuffer(std::span<const std::byte> in) {
  if (in.size() < kTimersSize) return BufferTooSmall("MPIO_TIMERS_COUNTERS < 20 bytes");
  return SetTimers(MpioTimers{Le32(in, 0), Le32(in, 4), Le32(in, 8), Le32(in, 12), Le32(in, 16)});
}

Status PolicyDefaults::QueryTimersBuffer(std::span<std::byte> out, std::size_t* needed) const {
  *needed = kTimersSize;
  if (out.size() < kTimersSize) return BufferTooSmall("MPIO_TIMERS_COUNTERS needs 20 bytes");
  PutLe32(out, 0, timers_.path_verify_enabled);
  PutLe32(out, 4, timers_.path_verification_period);
  PutLe32(out, 8, timers_.pdo_remove_period);
  PutLe32(out, 12, timers_.retry_count);
  PutLe32(out, 16, timers_.retry_interval);
  return OkStatus();
}

PolicyDefault PolicyDefaults::Resolve(const Disk& disk, std::string_view hardware_id) const {
  std::optional<PolicyDefault> found;
  for (const TargetDefaultPolicy& t : targets_) {
    if (t.hardware_id == hardware_id) found = t.policy;
  }
  if (!found) found = msdsm_;
  if (!found) return PolicyDefault{DefaultPolicy(disk), kNoPreferredPath};
  if (found->policy == LoadBalancePolicy::kRoundRobin && HasAlua(disk.alua)) {
    found->policy = LoadBalancePolicy::kRoundRobinWithSubset;
  }
  return *found;
}

void PolicyDefaults::ApplyTo(Disk& disk, std::string_view hardware_id) const {
  if (disk.settings.explicit_policy) return;
  const PolicyDefault p = Resolve(disk, hardware_id);
  disk.settings.policy = p.policy;
  // PreferredPath 0 names no path (DsmPathIds are never 0).
  disk.settings.preferred_path = p.preferred_path == 0 ? kNoPreferredPath : p.preferred_path;
}

}  // namespace openmpio::dsm

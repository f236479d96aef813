// The global management classes (spec/msdsm.md §1, §4 "Global sets", §5):
// MSDSM_DEFAULT_LOAD_BALANCE_POLICY (MSDSM-wide default), MSDSM_TARGETS_
// DEFAULT_LOAD_BALANCE_POLICY (per VID/PID) and MPIO_TIMERS_COUNTERS, held in
// memory, plus the policy precedence of spec §3: LUN explicit > VID/PID >
// MSDSM-wide > RR (non-ALUA) / RRWS (ALUA); a default RR becomes RRWS on ALUA.
//
// Binary forms take the buffers as WMI does (little-endian, real lengths).
// Policy 7 (service time) is accepted as a default unless strict_msdsm, so the
// sets' "policy >= 7 -> INVALID" is ">= 8" by default.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "dsm/topology.h"
#include "dsm/types.h"
#include "openmpio/expected.h"
#include "openmpio/status.h"

namespace openmpio::dsm {

struct PolicyDefault {
  LoadBalancePolicy policy = LoadBalancePolicy::kNone;
  DsmPathId preferred_path = 0;  // PreferredPath as given
  friend bool operator==(const PolicyDefault&, const PolicyDefault&) = default;
};

// One MSDSM_TARGET_DEFAULT_POLICY_INFO: HardwareId = VID (8) + PID (16).
struct TargetDefaultPolicy {
  std::string hardware_id;  // exactly 24 characters
  PolicyDefault policy;
};

// MPIO_TIMERS_COUNTERS (spec §5 defaults). Seconds.
struct MpioTimers {
  std::uint32_t path_verify_enabled = 0;
  std::uint32_t path_verification_period = 30;
  std::uint32_t pdo_remove_period = 20;
  std::uint32_t retry_count = 3;  // ranges: dsm/settings.h
  std::uint32_t retry_interval = 1;
  friend bool operator==(const MpioTimers&, const MpioTimers&) = default;
};

inline constexpr std::size_t kHardwareIdChars = 24;  // VID 8 + PID 16

// In-memory settings of the global classes. Single writer (management).
class PolicyDefaults {
 public:
  // MSDSM_DEFAULT_LOAD_BALANCE_POLICY. policy 0 deletes (OBJECT_NAME_NOT_FOUND
  // when none is stored); >= 7 (>= 8 unless strict) INVALID.
  [[nodiscard]] Status SetMsdsmDefault(std::uint32_t policy, DsmPathId preferred_path,
                                       const DsmOptions& options);
  // OBJECT_NAME_NOT_FOUND when unset.
  [[nodiscard]] Expected<PolicyDefault> MsdsmDefault() const;

  // One MSDSM_TARGETS entry: hardware id not 24 characters or policy out of
  // range INVALID; policy 0 deletes (OBJECT_NAME_NOT_FOUND when missing).
  [[nodiscard]] Status SetTargetDefault(std::string_view hardware_id, std::uint32_t policy,
                                        DsmPathId preferred_path, const DsmOptions& options);
  [[nodiscard]] const std::vector<TargetDefaultPolicy>& target_defaults() const noexcept {
    return targets_;
  }

  // Binary sets. MSDSM_DEFAULT: < 16 bytes BUFFER_TOO_SMALL. MSDSM_TARGETS:
  // < 8 or < 8 + 80 n BUFFER_TOO_SMALL; NumberDevices 0 INVALID ([C], the
  // sample's status is never assigned); a bad entry is skipped, the others
  // applied, the last error returned.
  [[nodiscard]] Status SetMsdsmDefaultBuffer(std::span<const std::byte> in,
                                             const DsmOptions& options);
  [[nodiscard]] Status SetTargetDefaultsBuffer(std::span<const std::byte> in,
                                               const DsmOptions& options);
  // Binary queries; *needed always set; BUFFER_TOO_SMALL when out is short.
  [[nodiscard]] Status QueryMsdsmDefaultBuffer(std::span<std::byte> out, std::size_t* needed) const;
  [[nodiscard]] Status QueryTargetDefaultsBuffer(std::span<std::byte> out,
                                                 std::size_t* needed) const;

  // MPIO_TIMERS_COUNTERS. Set: every field within its range of settings.h
  // (PathVerifyEnabled 0/1, RetryCount <= 500, periods >= 1 s ...), else
  // INVALID naming the field and nothing changes; < 20 bytes BUFFER_TOO_SMALL.
  [[nodiscard]] const MpioTimers& timers() const noexcept { return timers_; }
  [[nodiscard]] Status SetTimers(const MpioTimers& t);
  [[nodiscard]] Status SetTimersBuffer(std::span<const std::byte> in);
  [[nodiscard]] Status QueryTimersBuffer(std::span<std::byte> out, std::size_t* needed) const;

  // Precedence for a LUN without an explicit setting: the VID/PID entry for
  // `hardware_id` (INQUIRY VID 8 + PID 16, space padded), else the MSDSM-wide
  // default, else RR (non-ALUA) / RRWS (ALUA); RR from a default becomes RRWS
  // on ALUA storage [S].
  [[nodiscard]] PolicyDefault Resolve(const Disk& disk, std::string_view hardware_id) const;
  // Writes Resolve() into a Disk whose policy is not explicit (after a clear,
  // at claim, after a global set). Explicit settings are left alone.
  void ApplyTo(Disk& disk, std::string_view hardware_id) const;

 private:
  std::optional<PolicyDefault> msdsm_;
  std::vector<TargetDefaultPolicy> targets_;
  MpioTimers timers_;
};

// MSDSM_TARGET_DEFAULT_POLICY_INFO.HardwareId as received: WCHAR 0 is the
// byte count, then the characters. The 24 ASCII characters when they are a
// NUL-terminated 24-character string, else nullopt.
[[nodiscard]] std::optional<std::string> DecodeHardwareId(std::span<const std::byte> field64);

}  // namespace openmpio::dsm

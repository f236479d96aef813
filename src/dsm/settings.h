// The range of every timer and counter setting, in one table. The
// configuration file's parser (config/walker.cpp), the management sets
// (PolicyDefaults::SetTimers, MPIO_TIMERS_COUNTERS) and the saver (which
// re-reads what it writes) all check against it, so a value management
// accepts is saved and loads again, and the file and the method refuse the
// same values with the same words.
//
// Lower bounds that MSDSM does not state are ours ([C]): a period or an
// interval of 0 would make the engine probe, verify or poll without pause,
// so they start at 1 second. Upper bounds: a week for every duration (the
// engine's clock is signed 64-bit nanoseconds; a week leaves every deadline
// far from overflow and is longer than any operator means), 500 for
// RetryCount (spec/msdsm.md §5).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "openmpio/status.h"

namespace openmpio::dsm {

enum class Setting : std::uint8_t {
  kPathVerifyEnabled,
  kPathVerificationPeriod,
  kPdoRemovePeriod,
  kRetryCount,
  kRetryInterval,
  kUseCustomPathRecoveryInterval,
  kPathRecoveryInterval,
  kCommandTimeout,
  kMarginalPathWindow,
  kMarginalPathFailures,
  kMarginalPathHold,
  kHedgeFloorMs,
  kHedgeMultiplier,
};
inline constexpr std::size_t kSettingCount = 13;

inline constexpr std::uint32_t kMaxSettingSeconds = 7 * 24 * 3600;  // one week

struct SettingRange {
  Setting setting;
  std::string_view name;  // as the file and the JSON API spell it
  std::uint32_t min;
  std::uint32_t max;
  std::string_view unit;  // "seconds", "" for counts and flags
};

inline constexpr std::array<SettingRange, kSettingCount> kSettingRanges{{
    {Setting::kPathVerifyEnabled, "PathVerifyEnabled", 0, 1, ""},
    {Setting::kPathVerificationPeriod, "PathVerificationPeriod", 1, kMaxSettingSeconds, "seconds"},
    {Setting::kPdoRemovePeriod, "PDORemovePeriod", 0, kMaxSettingSeconds, "seconds"},
    {Setting::kRetryCount, "RetryCount", 0, 500, ""},
    {Setting::kRetryInterval, "RetryInterval", 1, kMaxSettingSeconds, "seconds"},
    {Setting::kUseCustomPathRecoveryInterval, "UseCustomPathRecoveryInterval", 0, 1, ""},
    {Setting::kPathRecoveryInterval, "PathRecoveryInterval", 1, kMaxSettingSeconds, "seconds"},
    {Setting::kCommandTimeout, "command_timeout", 1, kMaxSettingSeconds, "seconds"},
    {Setting::kMarginalPathWindow, "marginal_path_window", 1, kMaxSettingSeconds, "seconds"},
    {Setting::kMarginalPathFailures, "marginal_path_failures", 0, 1000000, ""},
    {Setting::kMarginalPathHold, "marginal_path_hold", 1, kMaxSettingSeconds, "seconds"},
    // The hedge of a hung path (engine.h EngineConfig::hedge_*): 0 turns it
    // off; above a minute it is the command timeout's job.
    {Setting::kHedgeFloorMs, "hedge_floor_ms", 0, 60000, "milliseconds"},
    {Setting::kHedgeMultiplier, "hedge_multiplier", 1, 1000, ""},
}};

[[nodiscard]] constexpr const SettingRange& RangeOf(Setting s) noexcept {
  return kSettingRanges[static_cast<std::size_t>(s)];
}

// "V is below the minimum MIN UNIT" / "V is above the maximum MAX UNIT":
// the words the file's parser writes after "FILE:LINE:COL: section.NAME: ".
[[nodiscard]] std::string OutOfRange(const SettingRange& r, std::int64_t value);

// STATUS_INVALID_PARAMETER "NAME: " + OutOfRange() when `value` is outside.
[[nodiscard]] Status CheckSetting(Setting s, std::int64_t value);

}  // namespace openmpio::dsm

// The settings' range table (settings.h).
#include "dsm/settings.h"

namespace openmpio::dsm {
namespace {

constexpr bool TableInEnumOrder() {
  for (std::size_t i = 0; i < kSettingRanges.size(); ++i) {
    if (static_cast<std::size_t>(kSettingRanges[i].setting) != i) return false;
    if (kSettingRanges[i].min > kSettingRanges[i].max) return false;
  }
  return true;
}
static_assert(TableInEnumOrder(), "kSettingRanges: one row per Setting, in enum order");

std::string WithUnit(std::uint32_t bound, std::string_view unit) {
  std::string s = std::to_string(bound);
  if (!unit.empty()) s += " " + std::string(unit);
  return s;
}

}  // namespace

std::string OutOfRange(const SettingRange& r, std::int64_t value) {
  if (value < static_cast<std::int64_t>(r.min)) {
    return std::to_string(value) + " is below the minimum " + WithUnit(r.min, r.unit);
  }
  return std::to_string(value) + " is above the maximum " + WithUnit(r.max, r.unit);
}

Status CheckSetting(Setting s, std::int64_t value) {
  const SettingRange& r = RangeOf(s);
  if (value >= static_cast<std::int64_t>(r.min) && value <= static_cast<std::int64_t>(r.max)) {
    return OkStatus();
  }
  return InvalidParameter(std::string(r.name) + ": " + OutOfRange(r, value));
}

}  // namespace openmpio::dsm

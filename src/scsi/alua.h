// Asymmetric access states and the supported-states bits of a target port
// group (SPC-4 6.36, table 166 and 167). The state is one enum; a value the
// standard reserves is kept raw beside it so the engine can treat the group
// as unusable and still report what the target said.
#pragma once

#include <cstdint>
#include <optional>

namespace openmpio::scsi {

// SPC-4 6.36 table 167 (ASYMMETRIC ACCESS STATE, 4 bits).
enum class AsymmetricAccessState : std::uint8_t {
  kActiveOptimized = 0x0,
  kActiveNonOptimized = 0x1,
  kStandby = 0x2,
  kUnavailable = 0x3,
  kLogicalBlockDependent = 0x4,
  kOffline = 0xE,
  kTransitioning = 0xF,
};

// True for the nibble values table 167 defines; 0x5..0xD are reserved.
[[nodiscard]] constexpr bool IsDefinedAccessState(std::uint8_t nibble) noexcept {
  return nibble <= 0x4 || nibble == 0xE || nibble == 0xF;
}

// The access state as a target reported it: the raw nibble always, the
// decoded state only when the value is defined.
struct AccessStateField {
  std::uint8_t raw = 0;  // bits 3..0 as received

  [[nodiscard]] static constexpr AccessStateField From(AsymmetricAccessState s) noexcept {
    return AccessStateField{static_cast<std::uint8_t>(s)};
  }
  // Only the low nibble is kept.
  [[nodiscard]] static constexpr AccessStateField FromNibble(std::uint8_t nibble) noexcept {
    return AccessStateField{static_cast<std::uint8_t>(nibble & 0x0FU)};
  }
  [[nodiscard]] constexpr bool reserved() const noexcept { return !IsDefinedAccessState(raw); }
  [[nodiscard]] constexpr std::optional<AsymmetricAccessState> state() const noexcept {
    if (reserved()) return std::nullopt;
    return static_cast<AsymmetricAccessState>(raw);
  }
  // Active/optimized or active/non-optimized: serves media access. A reserved
  // value is never usable (spec/scsi-alua.md: treat as unusable, report it).
  [[nodiscard]] constexpr bool active() const noexcept {
    return raw == static_cast<std::uint8_t>(AsymmetricAccessState::kActiveOptimized) ||
           raw == static_cast<std::uint8_t>(AsymmetricAccessState::kActiveNonOptimized);
  }

  friend constexpr bool operator==(AccessStateField a, AccessStateField b) noexcept {
    return a.raw == b.raw;
  }
};

// "Active/Optimized", ...; "Reserved" for values table 167 reserves.
[[nodiscard]] constexpr const char* AccessStateName(AsymmetricAccessState s) noexcept {
  switch (s) {
    case AsymmetricAccessState::kActiveOptimized:
      return "Active/Optimized";
    case AsymmetricAccessState::kActiveNonOptimized:
      return "Active/Non-optimized";
    case AsymmetricAccessState::kStandby:
      return "Standby";
    case AsymmetricAccessState::kUnavailable:
      return "Unavailable";
    case AsymmetricAccessState::kLogicalBlockDependent:
      return "Logical block dependent";
    case AsymmetricAccessState::kOffline:
      return "Offline";
    case AsymmetricAccessState::kTransitioning:
      return "Transitioning";
  }
  return "Reserved";
}
[[nodiscard]] constexpr const char* AccessStateName(AccessStateField f) noexcept {
  const auto s = f.state();
  return s ? AccessStateName(*s) : "Reserved";
}

// Byte 1 of a target port group descriptor (SPC-4 6.36 table 166):
// T_SUP(7) O_SUP(6) reserved(5) LBD_SUP(4) U_SUP(3) S_SUP(2) AN_SUP(1) AO_SUP(0).
// The reserved bit 5 is dropped on decode and never encoded.
class SupportedStates {
 public:
  static constexpr std::uint8_t kAoSup = 1U << 0;
  static constexpr std::uint8_t kAnSup = 1U << 1;
  static constexpr std::uint8_t kSSup = 1U << 2;
  static constexpr std::uint8_t kUSup = 1U << 3;
  static constexpr std::uint8_t kLbdSup = 1U << 4;
  static constexpr std::uint8_t kOSup = 1U << 6;
  static constexpr std::uint8_t kTSup = 1U << 7;
  static constexpr std::uint8_t kDefinedMask =
      kAoSup | kAnSup | kSSup | kUSup | kLbdSup | kOSup | kTSup;

  constexpr SupportedStates() noexcept = default;
  [[nodiscard]] static constexpr SupportedStates FromByte(std::uint8_t b) noexcept {
    return SupportedStates(static_cast<std::uint8_t>(b & kDefinedMask));
  }
  [[nodiscard]] constexpr std::uint8_t ToByte() const noexcept { return bits_; }
  [[nodiscard]] constexpr bool Has(std::uint8_t bit) const noexcept { return (bits_ & bit) != 0; }
  // Whether the target says it supports state s (T_SUP for transitioning).
  [[nodiscard]] constexpr bool Supports(AsymmetricAccessState s) const noexcept {
    switch (s) {
      case AsymmetricAccessState::kActiveOptimized:
        return Has(kAoSup);
      case AsymmetricAccessState::kActiveNonOptimized:
        return Has(kAnSup);
      case AsymmetricAccessState::kStandby:
        return Has(kSSup);
      case AsymmetricAccessState::kUnavailable:
        return Has(kUSup);
      case AsymmetricAccessState::kLogicalBlockDependent:
        return Has(kLbdSup);
      case AsymmetricAccessState::kOffline:
        return Has(kOSup);
      case AsymmetricAccessState::kTransitioning:
        return Has(kTSup);
    }
    return false;
  }
  [[nodiscard]] constexpr SupportedStates With(std::uint8_t bit) const noexcept {
    return FromByte(static_cast<std::uint8_t>(bits_ | bit));
  }

  friend constexpr bool operator==(SupportedStates a, SupportedStates b) noexcept {
    return a.bits_ == b.bits_;
  }

 private:
  constexpr explicit SupportedStates(std::uint8_t b) noexcept : bits_(b) {}
  std::uint8_t bits_ = 0;
};

}  // namespace openmpio::scsi

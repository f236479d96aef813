// A command descriptor block in caller-owned storage: builders fill one of
// these and never allocate.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace openmpio::scsi {

struct Cdb {
  std::array<std::byte, 16> bytes{};
  std::uint8_t length = 0;  // 6, 10, 12 or 16

  [[nodiscard]] std::span<const std::byte> span() const { return {bytes.data(), length}; }
  [[nodiscard]] std::span<std::byte> mutable_span() { return {bytes.data(), length}; }
  [[nodiscard]] std::uint8_t opcode() const { return std::to_integer<std::uint8_t>(bytes[0]); }
};

// Operation codes (SPC-4 / SBC-3).
namespace op {
inline constexpr std::uint8_t kTestUnitReady = 0x00;
inline constexpr std::uint8_t kRequestSense = 0x03;
inline constexpr std::uint8_t kInquiry = 0x12;
inline constexpr std::uint8_t kModeSense10 = 0x5A;
inline constexpr std::uint8_t kUnmap = 0x42;
inline constexpr std::uint8_t kRead16 = 0x88;
inline constexpr std::uint8_t kWrite16 = 0x8A;
inline constexpr std::uint8_t kSynchronizeCache16 = 0x91;
inline constexpr std::uint8_t kWriteSame16 = 0x93;
inline constexpr std::uint8_t kServiceActionIn16 = 0x9E;  // READ CAPACITY(16): SA 0x10
inline constexpr std::uint8_t kReportLuns = 0xA0;
inline constexpr std::uint8_t kMaintenanceIn = 0xA3;   // RTPG: SA 0x0A
inline constexpr std::uint8_t kMaintenanceOut = 0xA4;  // STPG: SA 0x0A
}  // namespace op

inline constexpr std::uint8_t kSaReadCapacity16 = 0x10;
inline constexpr std::uint8_t kSaReportTargetPortGroups = 0x0A;
inline constexpr std::uint8_t kSaSetTargetPortGroups = 0x0A;

// SCSI status codes (SAM-5).
enum class ScsiStatus : std::uint8_t {
  kGood = 0x00,
  kCheckCondition = 0x02,
  kConditionMet = 0x04,
  kBusy = 0x08,
  kReservationConflict = 0x18,
  kTaskSetFull = 0x28,
  kAcaActive = 0x30,
  kTaskAborted = 0x40,
};

}  // namespace openmpio::scsi

// Sense data (SPC-4 4.5): decoder for what a target returns with CHECK
// CONDITION or in a REQUEST SENSE answer, and encoders for the simulated
// array. Both formats (fixed 0x70/0x71, descriptor 0x72/0x73), current and
// deferred errors, with the INFORMATION field.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>

#include "scsi/bytes.h"
#include "scsi/parse_error.h"

namespace openmpio::scsi {

// SPC-4 4.5.6, table 54. All sixteen values; 0xC is reserved (formerly EQUAL).
enum class SenseKey : std::uint8_t {
  kNoSense = 0x0,
  kRecoveredError = 0x1,
  kNotReady = 0x2,
  kMediumError = 0x3,
  kHardwareError = 0x4,
  kIllegalRequest = 0x5,
  kUnitAttention = 0x6,
  kDataProtect = 0x7,
  kBlankCheck = 0x8,
  kVendorSpecific = 0x9,
  kCopyAborted = 0xA,
  kAbortedCommand = 0xB,
  kReserved0C = 0xC,
  kVolumeOverflow = 0xD,
  kMiscompare = 0xE,
  kCompleted = 0xF,
};

// "NOT READY" etc., as SPC-4 spells them.
const char* SenseKeyName(SenseKey key) noexcept;

// An additional sense code with its qualifier (SPC-4 4.5.6, table 55 / annex D).
struct AscAscq {
  std::uint8_t asc = 0;
  std::uint8_t ascq = 0;
  friend bool operator==(const AscAscq&, const AscAscq&) = default;
};

// The pairs spec/scsi-alua.md makes the engine act on.
namespace asc {
inline constexpr AscAscq kNoAdditionalSense{0x00, 0x00};
inline constexpr AscAscq kBecomingReady{0x04, 0x01};                 // NOT READY
inline constexpr AscAscq kAluaTransition{0x04, 0x0A};                // NOT READY
inline constexpr AscAscq kAluaStandby{0x04, 0x0B};                   // NOT READY
inline constexpr AscAscq kAluaUnavailable{0x04, 0x0C};               // NOT READY
inline constexpr AscAscq kLogicalUnitOffline{0x04, 0x12};            // NOT READY
inline constexpr AscAscq kInvalidCommandOpcode{0x20, 0x00};          // ILLEGAL REQUEST
inline constexpr AscAscq kLbaOutOfRange{0x21, 0x00};                 // ILLEGAL REQUEST
inline constexpr AscAscq kInvalidFieldInCdb{0x24, 0x00};             // ILLEGAL REQUEST
inline constexpr AscAscq kLogicalUnitNotSupported{0x25, 0x00};       // ILLEGAL REQUEST
inline constexpr AscAscq kInvalidFieldInParameterList{0x26, 0x00};   // ILLEGAL REQUEST
inline constexpr AscAscq kPowerOnResetOrBusDeviceReset{0x29, 0x00};  // UNIT ATTENTION
inline constexpr AscAscq kPowerOnOccurred{0x29, 0x01};               // UNIT ATTENTION
inline constexpr AscAscq kBusResetOccurred{0x29, 0x02};              // UNIT ATTENTION
inline constexpr AscAscq kBusDeviceResetOccurred{0x29, 0x03};        // UNIT ATTENTION
inline constexpr AscAscq kAluaStateChanged{0x2A, 0x06};              // UNIT ATTENTION
inline constexpr AscAscq kImplicitAluaTransitionFailed{0x2A, 0x07};  // UNIT ATTENTION
inline constexpr AscAscq kCapacityDataChanged{0x2A, 0x09};           // UNIT ATTENTION
inline constexpr AscAscq kInquiryDataChanged{0x3F, 0x03};            // UNIT ATTENTION
inline constexpr AscAscq kReportedLunsDataChanged{0x3F, 0x0E};       // UNIT ATTENTION
inline constexpr AscAscq kWriteProtected{0x27, 0x00};                // DATA PROTECT

// ASC 0x29 with any qualifier: power on, reset or bus device reset (29/xx).
inline constexpr bool IsResetFamily(AscAscq a) noexcept {
  return a.asc == 0x29;
}
}  // namespace asc

// Decoded sense data. `asc`/`ascq` are 0 when the target's additional sense
// length says they are absent (fixed format with additional length < 6).
struct SenseData {
  bool current = true;             // false: deferred error (0x71 / 0x73), an earlier command's
  bool descriptor_format = false;  // 0x72 / 0x73
  SenseKey key = SenseKey::kNoSense;
  std::uint8_t asc = 0;
  std::uint8_t ascq = 0;
  // Fixed: bytes 3..6 when VALID (byte 0 bit 7). Descriptor: information
  // descriptor (type 0x00) with its VALID bit set.
  std::optional<std::uint64_t> information;
  // The ADDITIONAL SENSE LENGTH (byte 7) and the total it implies (8 + it).
  std::uint8_t additional_length = 0;
  std::size_t claimed_length = 0;
  bool truncated = false;  // the buffer ended before claimed_length
  // Fixed format only (byte 2): FILEMARK, EOM, ILI.
  bool filemark = false;
  bool eom = false;
  bool ili = false;
  // Sense-key-specific bytes, raw (SKSV is bit 7 of the first): fixed format
  // bytes 15..17; descriptor format: descriptor type 0x02 bytes 4..6.
  std::optional<std::array<std::uint8_t, 3>> sense_key_specific;

  [[nodiscard]] AscAscq code() const noexcept { return {asc, ascq}; }
  [[nodiscard]] bool Is(SenseKey k, AscAscq a) const noexcept { return key == k && code() == a; }
};

// Decodes sense data from a CHECK CONDITION or REQUEST SENSE answer.
// Errors: kEmpty (no bytes); kBadResponseCode (byte 0 bits 6..0 not 0x70..0x73);
// kTooShort (fewer than 8 bytes, or a fixed buffer cut before the ASC/ASCQ the
// additional length claims); kLengthOverflow (a sense data descriptor runs
// past the additional sense length); kInconsistent (an information or
// sense-key-specific descriptor of the wrong length).
// Rules chosen (documented in sense.cpp): only bytes inside the claimed length
// are sense data; a buffer shorter than the claim sets `truncated`, and is an
// error only if it cuts off ASC/ASCQ.
[[nodiscard]] ParseResult<SenseData> ParseSense(Bytes b);

// What the simulated array reports.
struct SenseSpec {
  SenseKey key = SenseKey::kNoSense;
  AscAscq code{};
  std::optional<std::uint64_t> information;
  bool deferred = false;
};

inline constexpr std::size_t kFixedSenseLength = 18;  // additional length 10
// Fixed format (0x70 / 0x71), 18 bytes. The INFORMATION field holds 4 bytes:
// an information value above 0xFFFFFFFF is not representable and is sent with
// VALID = 0 (SPC-4 4.5.3). Writes what fits in `out`, returns the full length.
std::size_t BuildFixedSense(const SenseSpec& s, MutableBytes out);
// Descriptor format (0x72 / 0x73): 8 bytes, plus a 12-byte information
// descriptor when `information` is set. Returns the full length.
std::size_t BuildDescriptorSense(const SenseSpec& s, MutableBytes out);

// REQUEST SENSE's CDB lives with the other housekeeping commands in
// block_commands.h; its answer is sense data, decoded by ParseSense.

}  // namespace openmpio::scsi

// INQUIRY (SPC-4 6.6): the CDB both ways and the standard INQUIRY data both
// ways. VPD pages are in vpd.h.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "scsi/bytes.h"
#include "scsi/cdb.h"
#include "scsi/parse_error.h"

namespace openmpio::scsi {

// ---- CDB (SPC-4 6.6.1, table 142) -------------------------------------------
// byte 0 0x12; byte 1 bit 0 EVPD (bit 1 the obsolete CMDDT); byte 2 PAGE CODE;
// bytes 3..4 ALLOCATION LENGTH; byte 5 CONTROL.
struct InquiryCdb {
  bool evpd = false;
  std::uint8_t page_code = 0;
  std::uint16_t allocation_length = 0;
};
[[nodiscard]] Cdb BuildInquiryCdb(bool evpd, std::uint8_t page_code,
                                  std::uint16_t allocation_length);
// Target side. kTooShort (< 6 bytes), kUnsupported (opcode not 0x12),
// kReservedValue (CMDDT or other reserved bits of byte 1 set),
// kInconsistent (EVPD = 0 with a non-zero page code: SPC-4 answers
// ILLEGAL REQUEST / INVALID FIELD IN CDB).
[[nodiscard]] ParseResult<InquiryCdb> ParseInquiryCdb(Bytes cdb);

// ---- Standard INQUIRY data (SPC-4 6.6.2, table 143) -------------------------

// byte 5 bits 5..4 (spec/scsi-alua.md "Discovering ALUA").
enum class Tpgs : std::uint8_t {
  kNone = 0,      // no ALUA
  kImplicit = 1,  // target changes states itself; RTPG, no STPG
  kExplicit = 2,  // states change only through STPG
  kBoth = 3,
};
[[nodiscard]] inline bool SupportsExplicit(Tpgs t) noexcept {
  return t == Tpgs::kExplicit || t == Tpgs::kBoth;
}
[[nodiscard]] inline bool SupportsImplicit(Tpgs t) noexcept {
  return t == Tpgs::kImplicit || t == Tpgs::kBoth;
}

inline constexpr std::uint8_t kPeripheralQualifierConnected = 0;  // LU present
inline constexpr std::uint8_t kPeripheralQualifierNotConnected = 1;
inline constexpr std::uint8_t kPeripheralQualifierNotSupported = 3;
inline constexpr std::uint8_t kDeviceTypeDirectAccess = 0x00;  // SBC
inline constexpr std::uint8_t kDeviceTypeUnknown = 0x1F;
inline constexpr std::size_t kStandardInquiryMinLength = 36;  // SPC-4 6.6.2

struct StandardInquiry {
  std::uint8_t peripheral_qualifier = 0;    // byte 0 bits 7..5
  std::uint8_t peripheral_device_type = 0;  // byte 0 bits 4..0
  bool rmb = false;                         // byte 1 bit 7
  std::uint8_t version = 0;                 // byte 2 (6 = SPC-4)
  bool normaca = false;                     // byte 3 bit 5
  bool hisup = false;                       // byte 3 bit 4
  std::uint8_t response_data_format = 2;    // byte 3 bits 3..0 (SPC-4 requires 2)
  Tpgs tpgs = Tpgs::kNone;                  // byte 5 bits 5..4
  bool third_party_copy = false;            // byte 5 bit 3 (3PC)
  bool protect = false;                     // byte 5 bit 0
  bool cmdque = false;                      // byte 7 bit 1
  std::string vendor;                       // bytes 8..15, trailing spaces trimmed
  std::string product;                      // bytes 16..31
  std::string revision;                     // bytes 32..35
  // Decoder output only (encoders compute them): ADDITIONAL LENGTH (byte 4),
  // the total it implies (byte 4 + 5), and whether the buffer cut it short
  // (normal when the allocation length was 36).
  std::uint8_t additional_length = 0;
  std::size_t claimed_length = 0;
  bool truncated = false;
};

// Decodes standard INQUIRY data. Errors: kEmpty; kTooShort with `what`
// naming the first field cut off (fewer than 36 bytes in the buffer:
// SPC-4 6.6.2 makes 36 the minimum, and vendor/product/revision end there);
// kTooShort also when ADDITIONAL LENGTH claims fewer than 36 bytes.
[[nodiscard]] ParseResult<StandardInquiry> ParseStandardInquiry(Bytes b);

// Writes 36 bytes of standard INQUIRY data (ADDITIONAL LENGTH 31; strings
// space-padded and cut to their field widths) as far as `out` holds them;
// returns the full length (36).
std::size_t EncodeStandardInquiry(const StandardInquiry& inq, MutableBytes out);

}  // namespace openmpio::scsi

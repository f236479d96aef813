// MODE SENSE(10) (SPC-4 6.12) for the caching mode page (SBC-3 6.4.5): the
// CDB, the mode parameter header(10) (SPC-4 7.5.5) with the SBC device-
// specific parameter (WP, DPOFUA; SBC-3 6.4.1), and the page walk.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "scsi/bytes.h"
#include "scsi/cdb.h"
#include "scsi/parse_error.h"

namespace openmpio::scsi {

inline constexpr std::size_t kModeSense10CdbLength = 10;
inline constexpr std::size_t kModeParameterHeader10Length = 8;
inline constexpr std::uint8_t kCachingModePage = 0x08;
inline constexpr std::uint8_t kAllModePages = 0x3F;
inline constexpr std::uint8_t kCachingModePageLength = 0x12;  // SBC-3 table 105

// PC, CDB byte 2 bits 7..6 (SPC-4 6.12 table 98).
enum class ModePageControl : std::uint8_t {
  kCurrent = 0,
  kChangeable = 1,
  kDefault = 2,
  kSaved = 3,
};

struct ModeSense10Cdb {
  bool llbaa = false;                              // byte 1 bit 4
  bool dbd = true;                                 // byte 1 bit 3: no block descriptors
  ModePageControl pc = ModePageControl::kCurrent;  // byte 2 bits 7..6
  std::uint8_t page_code = kCachingModePage;       // byte 2 bits 5..0
  std::uint8_t subpage_code = 0;                   // byte 3
  std::uint16_t allocation_length = 0xFC;          // bytes 7..8
  std::uint8_t control = 0;
};

// 0x5A; fields as above; page_code masked to 6 bits.
[[nodiscard]] Cdb BuildModeSense10Cdb(const ModeSense10Cdb& c);
// Target side: kTooShort, kUnsupported at 0, kReservedValue at 1 (bits 7..5,
// 2..0) or 4..6 (reserved bytes).
[[nodiscard]] ParseResult<ModeSense10Cdb> ParseModeSense10Cdb(Bytes cdb);

// SPC-4 7.5.5 table 453 with the SBC device-specific parameter.
struct ModeParameterHeader10 {
  std::uint16_t mode_data_length = 0;         // bytes 0..1, as claimed (excludes itself)
  std::uint8_t medium_type = 0;               // byte 2
  bool write_protect = false;                 // byte 3 bit 7 (WP)
  bool dpofua = false;                        // byte 3 bit 4: DPO and FUA supported
  bool longlba = false;                       // byte 4 bit 0
  std::uint16_t block_descriptor_length = 0;  // bytes 6..7
  friend bool operator==(const ModeParameterHeader10&, const ModeParameterHeader10&) = default;
};

// SBC-3 6.4.5 table 105, byte 2.
struct CachingModePage {
  bool wce = false;  // bit 2: write cache enabled (write-back)
  bool rcd = false;  // bit 0: read cache disabled
  friend bool operator==(const CachingModePage&, const CachingModePage&) = default;
};

struct ModeSense10Data {
  ModeParameterHeader10 header;
  std::optional<CachingModePage> caching;  // present when page 0x08 was found whole
  // The buffer ended before mode_data_length + 2; the caching page may be
  // beyond it: re-issue with required_allocation_length.
  bool truncated = false;
  std::uint32_t required_allocation_length = 0;  // mode_data_length + 2
  friend bool operator==(const ModeSense10Data&, const ModeSense10Data&) = default;
};

// Decodes the header and walks the pages (SPC-4 7.5.7: SPF=0 page_0 format,
// 2-byte header; SPF=1 sub_page format, 4-byte header) for page 0x08
// subpage 0. Errors:
//  kEmpty, kTooShort (fewer than 8 header bytes)
//  kInconsistent   mode data length < 6 (cannot hold the rest of the header),
//                  or the caching page is shorter than its byte 2
//  kLengthOverflow block descriptors or a page run past mode data length
//                  while the buffer holds all of it
// A page cut by the end of a truncated buffer is not an error (see truncated).
[[nodiscard]] ParseResult<ModeSense10Data> ParseModeSense10(Bytes data);

// Target side: header (no block descriptors, block descriptor length 0;
// mode data length computed) followed by the caching page (20 bytes, only
// WCE/RCD set) when d.caching is present. Writes what fits, returns the full
// length.
std::size_t EncodeModeSense10(const ModeSense10Data& d, MutableBytes out);

}  // namespace openmpio::scsi

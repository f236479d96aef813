// UNMAP (SBC-3 5.28): CDB and parameter list, built by the initiator and
// parsed by the simulated array.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "scsi/bytes.h"
#include "scsi/cdb.h"
#include "scsi/parse_error.h"

namespace openmpio::scsi {

inline constexpr std::size_t kUnmapCdbLength = 10;
inline constexpr std::size_t kUnmapHeaderLength = 8;            // SBC-3 table 90
inline constexpr std::size_t kUnmapBlockDescriptorLength = 16;  // SBC-3 table 91

struct UnmapCdb {
  bool anchor = false;                      // byte 1 bit 0
  std::uint8_t group_number = 0;            // byte 6 bits 4..0
  std::uint16_t parameter_list_length = 0;  // bytes 7..8
  std::uint8_t control = 0;
};

[[nodiscard]] Cdb BuildUnmapCdb(const UnmapCdb& c);
// Target side: kTooShort, kUnsupported at 0, kReservedValue at 1 (bits 7..1),
// 2..5 or 6 (bits 7..5).
[[nodiscard]] ParseResult<UnmapCdb> ParseUnmapCdb(Bytes cdb);

struct UnmapBlockDescriptor {
  std::uint64_t lba = 0;               // bytes 0..7
  std::uint32_t number_of_blocks = 0;  // bytes 8..11
  friend bool operator==(const UnmapBlockDescriptor&, const UnmapBlockDescriptor&) = default;
};

[[nodiscard]] constexpr std::size_t UnmapParameterListLength(std::size_t descriptors) noexcept {
  return kUnmapHeaderLength + kUnmapBlockDescriptorLength * descriptors;
}

// Writes the list (UNMAP DATA LENGTH = n - 2, BLOCK DESCRIPTOR DATA LENGTH =
// n - 8, then the descriptors) into as much of `out` as fits; returns n.
std::size_t BuildUnmapParameterList(std::span<const UnmapBlockDescriptor> descriptors,
                                    MutableBytes out);

// Target side (SBC-3 5.28.2). Errors (offset into the list):
//  kEmpty           zero bytes (parameter list length 0 is a no-op the caller
//                   handles before parsing)
//  kTooShort        1..7 bytes (SBC-3: PARAMETER LIST LENGTH ERROR)
//  kLengthOverflow  UNMAP DATA LENGTH (at 0) or BLOCK DESCRIPTOR DATA LENGTH
//                   (at 2) claims more than the list holds
//  kInconsistent    at 0: UNMAP DATA LENGTH < BLOCK DESCRIPTOR DATA LENGTH + 6
// A block descriptor data length that is not a multiple of 16 is not an
// error: SBC-3 5.28.2 says the incomplete last descriptor is ignored.
// LBA range checks belong to the caller (it knows the capacity).
[[nodiscard]] ParseResult<std::vector<UnmapBlockDescriptor>> ParseUnmapParameterList(Bytes list);

}  // namespace openmpio::scsi

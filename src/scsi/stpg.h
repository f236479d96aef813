// SET TARGET PORT GROUPS (SPC-4 6.44): CDB and parameter list, built by the
// initiator and parsed by the simulated array.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "scsi/alua.h"
#include "scsi/bytes.h"
#include "scsi/cdb.h"
#include "scsi/parse_error.h"

namespace openmpio::scsi {

inline constexpr std::size_t kStpgCdbLength = 12;
inline constexpr std::size_t kStpgHeaderLength = 4;      // reserved bytes 0..3
inline constexpr std::size_t kStpgDescriptorLength = 4;  // SPC-4 6.44 table 190

struct StpgCdb {
  std::uint32_t parameter_list_length = 0;  // bytes 6..9
  std::uint8_t control = 0;
};

// 0xA4, SA 0x0A, parameter list length in bytes 6..9.
[[nodiscard]] Cdb BuildStpgCdb(const StpgCdb& c);
// Target side: kTooShort, kUnsupported at 0/1 (opcode / service action),
// kReservedValue at the reserved byte that is non-zero (1 bits 7..5, 2..5, 10).
[[nodiscard]] ParseResult<StpgCdb> ParseStpgCdb(Bytes cdb);

struct StpgDescriptor {
  AsymmetricAccessState state = AsymmetricAccessState::kActiveOptimized;  // byte 0 bits 3..0
  std::uint16_t target_port_group = 0;                                    // bytes 2..3
  friend bool operator==(const StpgDescriptor&, const StpgDescriptor&) = default;
};

// States an initiator may request (SPC-4 6.44: AO, ANO, Standby, Unavailable,
// Offline). Logical-block dependent, transitioning and reserved values may not.
[[nodiscard]] constexpr bool IsRequestableState(std::uint8_t nibble) noexcept {
  return nibble <= 0x3 || nibble == 0xE;
}

[[nodiscard]] constexpr std::size_t StpgParameterListLength(std::size_t descriptors) noexcept {
  return kStpgHeaderLength + kStpgDescriptorLength * descriptors;
}

// Writes the list (4 reserved bytes, then one descriptor each) into as much of
// `out` as fits and returns the full length.
std::size_t BuildStpgParameterList(std::span<const StpgDescriptor> descriptors, MutableBytes out);

// Target side. Errors (offset into the list):
//  kEmpty          zero bytes (a parameter list length of 0 is a no-op the
//                  caller handles before parsing)
//  kInconsistent   length is not 4 + 4n (offset = size)
//  kReservedValue  a state that may not be requested (offset of its byte 0)
// Reserved bits and bytes are ignored, as SPC-4 3.5.9 allows a receiver to.
[[nodiscard]] ParseResult<std::vector<StpgDescriptor>> ParseStpgParameterList(Bytes list);

}  // namespace openmpio::scsi

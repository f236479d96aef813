// READ CAPACITY(16) (SBC-3 5.16): SERVICE ACTION IN(16) 0x9E, SA 0x10.
#pragma once

#include <cstddef>
#include <cstdint>

#include "scsi/bytes.h"
#include "scsi/cdb.h"
#include "scsi/parse_error.h"

namespace openmpio::scsi {

inline constexpr std::size_t kReadCapacity16CdbLength = 16;
inline constexpr std::size_t kReadCapacity16DataLength = 32;  // SBC-3 table 66

struct ReadCapacity16Cdb {
  std::uint32_t allocation_length = kReadCapacity16DataLength;  // bytes 10..13
  std::uint8_t control = 0;
};

// 0x9E, SA 0x10, allocation length bytes 10..13; the obsolete LBA (2..9) and
// PMI (byte 14 bit 0) are zero.
[[nodiscard]] Cdb BuildReadCapacity16Cdb(const ReadCapacity16Cdb& c);
// Target side: kTooShort, kUnsupported at 0/1 (opcode / service action),
// kReservedValue at 1 (bits 7..5), 2..9 (obsolete LBA with PMI 0: SBC-3 says
// INVALID FIELD IN CDB) or 14 (bits 7..1 reserved, PMI obsolete).
[[nodiscard]] ParseResult<ReadCapacity16Cdb> ParseReadCapacity16Cdb(Bytes cdb);

// SBC-3 5.16.2 table 66.
struct ReadCapacity16Data {
  std::uint64_t last_lba = 0;      // bytes 0..7: RETURNED LOGICAL BLOCK ADDRESS
  std::uint32_t block_length = 0;  // bytes 8..11, in bytes
  std::uint8_t p_type = 0;         // byte 12 bits 3..1 (raw; meaningful if prot_en)
  bool prot_en = false;            // byte 12 bit 0
  std::uint8_t p_i_exponent = 0;   // byte 13 bits 7..4
  std::uint8_t logical_blocks_per_physical_block_exponent = 0;  // byte 13 bits 3..0
  bool lbpme = false;                    // byte 14 bit 7: logical block provisioning (UNMAP)
  bool lbprz = false;                    // byte 14 bit 6: unmapped blocks read as zero
  std::uint16_t lowest_aligned_lba = 0;  // byte 14 bits 5..0, byte 15 (14 bits)

  [[nodiscard]] std::uint64_t block_count() const noexcept { return last_lba + 1; }
  friend bool operator==(const ReadCapacity16Data&, const ReadCapacity16Data&) = default;
};

// Decision: all 32 bytes are required (kTooShort otherwise). SBC-3 defines
// 32 bytes, our initiator always asks for 32, and a shorter answer would
// silently lose LBPME/LBPRZ (whether UNMAP is allowed), so a short answer is
// malformed rather than partial. Bytes past 32 are ignored. Errors:
//  kEmpty, kTooShort (offset = size), kInconsistent at 8 (block length 0).
[[nodiscard]] ParseResult<ReadCapacity16Data> ParseReadCapacity16(Bytes data);

// Target side: writes the 32 bytes (as many as fit in `out`), returns 32.
// Fields wider than their bit field are masked.
std::size_t EncodeReadCapacity16(const ReadCapacity16Data& d, MutableBytes out);

}  // namespace openmpio::scsi

#include "scsi/read_capacity.h"

#include <array>

#include "scsi/cdb_checks.h"

namespace openmpio::scsi {

Cdb BuildReadCapacity16Cdb(const ReadCapacity16Cdb& c) {
  Cdb cdb;
  cdb.length = static_cast<std::uint8_t>(kReadCapacity16CdbLength);
  const MutableBytes b = cdb.mutable_span();
  // SBC-3 5.16.1 table 65.
  Put8(b, 0, op::kServiceActionIn16);
  Put8(b, 1, kSaReadCapacity16);
  PutBe32(b, 10, c.allocation_length);
  Put8(b, 15, c.control);
  return cdb;
}

ParseResult<ReadCapacity16Cdb> ParseReadCapacity16Cdb(Bytes cdb) {
  if (auto e = CheckCdbHead(cdb, {.opcode = op::kServiceActionIn16,
                                  .length = kReadCapacity16CdbLength,
                                  .empty = "READ CAPACITY(16) CDB: empty",
                                  .wrong_opcode = "not SERVICE ACTION IN(16)",
                                  .too_short = "READ CAPACITY(16) CDB: short"})) {
    return *e;
  }
  if (auto e = CheckServiceAction(cdb, kSaReadCapacity16,
                                  "SERVICE ACTION IN(16): unsupported service action")) {
    return *e;
  }
  if (Bits(cdb, 1, 7, 5) != 0) {
    return Fail(ParseErrc::kReservedValue, 1, "READ CAPACITY(16) CDB: reserved bits");
  }
  // The LBA field is obsolete; SBC-3 5.16.1: with PMI 0 a non-zero LBA is
  // INVALID FIELD IN CDB. PMI itself is obsolete and we do not implement it.
  if (auto e = CheckZeroByteRange(cdb, 2, 10, "READ CAPACITY(16) CDB: obsolete LBA set")) {
    return *e;
  }
  if (U8(cdb, 14) != 0) {
    return Fail(ParseErrc::kReservedValue, 14, "READ CAPACITY(16) CDB: PMI/reserved bits");
  }
  ReadCapacity16Cdb c;
  c.allocation_length = Be32(cdb, 10);
  c.control = U8(cdb, 15);
  return c;
}

ParseResult<ReadCapacity16Data> ParseReadCapacity16(Bytes data) {
  if (data.empty()) return Fail(ParseErrc::kEmpty, 0, "READ CAPACITY(16) data: empty");
  if (data.size() < kReadCapacity16DataLength) {
    return Fail(ParseErrc::kTooShort, data.size(), "READ CAPACITY(16) data: under 32 bytes");
  }
  // SBC-3 5.16.2 table 66.
  ReadCapacity16Data d;
  d.last_lba = Be64(data, 0);
  d.block_length = Be32(data, 8);
  if (d.block_length == 0) {
    return Fail(ParseErrc::kInconsistent, 8, "READ CAPACITY(16) data: block length 0");
  }
  d.p_type = Bits(data, 12, 3, 1);
  d.prot_en = Bit(data, 12, 0);
  d.p_i_exponent = Bits(data, 13, 7, 4);
  d.logical_blocks_per_physical_block_exponent = Bits(data, 13, 3, 0);
  d.lbpme = Bit(data, 14, 7);
  d.lbprz = Bit(data, 14, 6);
  d.lowest_aligned_lba =
      static_cast<std::uint16_t>((std::uint16_t{Bits(data, 14, 5, 0)} << 8) | U8(data, 15));
  return d;
}

std::size_t EncodeReadCapacity16(const ReadCapacity16Data& d, MutableBytes out) {
  std::array<std::byte, kReadCapacity16DataLength> full{};
  const MutableBytes b{full};
  PutBe64(b, 0, d.last_lba);
  PutBe32(b, 8, d.block_length);
  Put8(b, 12, static_cast<std::uint8_t>(((d.p_type & 0x7U) << 1) | (d.prot_en ? 1U : 0U)));
  Put8(b, 13,
       static_cast<std::uint8_t>(((d.p_i_exponent & 0xFU) << 4) |
                                 (d.logical_blocks_per_physical_block_exponent & 0xFU)));
  Put8(b, 14,
       static_cast<std::uint8_t>((d.lbpme ? 0x80U : 0U) | (d.lbprz ? 0x40U : 0U) |
                                 ((d.lowest_aligned_lba >> 8) & 0x3FU)));
  Put8(b, 15, static_cast<std::uint8_t>(d.lowest_aligned_lba));
  return CopyTruncated(full, out);
}

}  // namespace openmpio::scsi

#include "scsi/unmap.h"

#include <vector>

#include "scsi/cdb_checks.h"

namespace openmpio::scsi {

Cdb BuildUnmapCdb(const UnmapCdb& c) {
  Cdb cdb;
  cdb.length = static_cast<std::uint8_t>(kUnmapCdbLength);
  const MutableBytes b = cdb.mutable_span();
  // SBC-3 5.28.1 table 89.
  Put8(b, 0, op::kUnmap);
  Put8(b, 1, static_cast<std::uint8_t>(c.anchor ? 1U : 0U));
  Put8(b, 6, static_cast<std::uint8_t>(c.group_number & 0x1FU));
  PutBe16(b, 7, c.parameter_list_length);
  Put8(b, 9, c.control);
  return cdb;
}

ParseResult<UnmapCdb> ParseUnmapCdb(Bytes cdb) {
  if (auto e = CheckCdbHead(cdb, {.opcode = op::kUnmap,
                                  .length = kUnmapCdbLength,
                                  .empty = "UNMAP CDB: empty",
                                  .wrong_opcode = "not UNMAP",
                                  .too_short = "UNMAP CDB: short"})) {
    return *e;
  }
  if (Bits(cdb, 1, 7, 1) != 0)
    return Fail(ParseErrc::kReservedValue, 1, "UNMAP CDB: reserved bits");
  if (auto e = CheckZeroByteRange(cdb, 2, 6, "UNMAP CDB: reserved byte set")) return *e;
  if (Bits(cdb, 6, 7, 5) != 0)
    return Fail(ParseErrc::kReservedValue, 6, "UNMAP CDB: reserved bits");
  UnmapCdb c;
  c.anchor = Bit(cdb, 1, 0);
  c.group_number = Bits(cdb, 6, 4, 0);
  c.parameter_list_length = Be16(cdb, 7);
  c.control = U8(cdb, 9);
  return c;
}

std::size_t BuildUnmapParameterList(std::span<const UnmapBlockDescriptor> descriptors,
                                    MutableBytes out) {
  std::vector<std::byte> full(UnmapParameterListLength(descriptors.size()));
  const MutableBytes b{full};
  // SBC-3 5.28.2 table 90: UNMAP DATA LENGTH excludes itself (n - 2); the
  // BLOCK DESCRIPTOR DATA LENGTH excludes the 8-byte header (n - 8). Both are
  // 16-bit: a list longer than 65535 bytes cannot be expressed and is cut to
  // the descriptors that fit.
  const std::size_t n = full.size();
  PutBe16(b, 0, static_cast<std::uint16_t>(n - 2));
  PutBe16(b, 2, static_cast<std::uint16_t>(n - kUnmapHeaderLength));
  std::size_t pos = kUnmapHeaderLength;
  for (const auto& d : descriptors) {
    // Table 91: LBA 0..7, NUMBER OF LOGICAL BLOCKS 8..11, 12..15 reserved.
    PutBe64(b, pos, d.lba);
    PutBe32(b, pos + 8, d.number_of_blocks);
    pos += kUnmapBlockDescriptorLength;
  }
  return CopyTruncated(full, out);
}

ParseResult<std::vector<UnmapBlockDescriptor>> ParseUnmapParameterList(Bytes list) {
  if (list.empty()) return Fail(ParseErrc::kEmpty, 0, "UNMAP list: empty");
  if (list.size() < kUnmapHeaderLength) {
    return Fail(ParseErrc::kTooShort, list.size(), "UNMAP list: under 8 bytes");
  }
  const std::size_t data_length = Be16(list, 0);
  const std::size_t descriptor_length = Be16(list, 2);
  if (data_length + 2 > list.size()) {
    return Fail(ParseErrc::kLengthOverflow, 0, "UNMAP list: data length overruns list");
  }
  if (descriptor_length + kUnmapHeaderLength > list.size()) {
    return Fail(ParseErrc::kLengthOverflow, 2, "UNMAP list: descriptor length overruns list");
  }
  if (data_length < descriptor_length + 6) {
    return Fail(ParseErrc::kInconsistent, 0, "UNMAP list: data length below descriptor length");
  }
  // SBC-3 5.28.2: a descriptor data length that is not a multiple of 16
  // leaves an incomplete last descriptor, which is ignored.
  const std::size_t count = descriptor_length / kUnmapBlockDescriptorLength;
  std::vector<UnmapBlockDescriptor> out;
  out.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    const std::size_t pos = kUnmapHeaderLength + i * kUnmapBlockDescriptorLength;
    out.push_back(UnmapBlockDescriptor{Be64(list, pos), Be32(list, pos + 8)});
  }
  return out;
}

}  // namespace openmpio::scsi

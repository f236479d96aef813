#include "scsi/mode_sense.h"

#include <vector>

#include "scsi/cdb_checks.h"

namespace openmpio::scsi {

Cdb BuildModeSense10Cdb(const ModeSense10Cdb& c) {
  Cdb cdb;
  cdb.length = static_cast<std::uint8_t>(kModeSense10CdbLength);
  const MutableBytes b = cdb.mutable_span();
  // SPC-4 6.12 table 97.
  Put8(b, 0, op::kModeSense10);
  Put8(b, 1, static_cast<std::uint8_t>((c.llbaa ? 0x10U : 0U) | (c.dbd ? 0x08U : 0U)));
  Put8(
      b, 2,
      static_cast<std::uint8_t>((static_cast<unsigned>(c.pc) & 0x3U) << 6 | (c.page_code & 0x3FU)));
  Put8(b, 3, c.subpage_code);
  PutBe16(b, 7, c.allocation_length);
  Put8(b, 9, c.control);
  return cdb;
}

ParseResult<ModeSense10Cdb> ParseModeSense10Cdb(Bytes cdb) {
  if (auto e = CheckCdbHead(cdb, {.opcode = op::kModeSense10,
                                  .length = kModeSense10CdbLength,
                                  .empty = "MODE SENSE(10) CDB: empty",
                                  .wrong_opcode = "not MODE SENSE(10)",
                                  .too_short = "MODE SENSE(10) CDB: short"})) {
    return *e;
  }
  if ((U8(cdb, 1) & 0xE7U) != 0) {
    return Fail(ParseErrc::kReservedValue, 1, "MODE SENSE(10) CDB: reserved bits");
  }
  if (auto e = CheckZeroByteRange(cdb, 4, 7, "MODE SENSE(10) CDB: reserved byte set")) return *e;
  ModeSense10Cdb c;
  c.llbaa = Bit(cdb, 1, 4);
  c.dbd = Bit(cdb, 1, 3);
  c.pc = static_cast<ModePageControl>(Bits(cdb, 2, 7, 6));
  c.page_code = Bits(cdb, 2, 5, 0);
  c.subpage_code = U8(cdb, 3);
  c.allocation_length = Be16(cdb, 7);
  c.control = U8(cdb, 9);
  return c;
}

ParseResult<ModeSense10Data> ParseModeSense10(Bytes data) {
  if (data.empty()) return Fail(ParseErrc::kEmpty, 0, "MODE SENSE(10) data: empty");
  if (data.size() < kModeParameterHeader10Length) {
    return Fail(ParseErrc::kTooShort, data.size(), "MODE SENSE(10) data: short header");
  }
  // SPC-4 7.5.5 table 453; device-specific parameter per SBC-3 6.4.1 table 100.
  ModeSense10Data out;
  auto& h = out.header;
  h.mode_data_length = Be16(data, 0);
  h.medium_type = U8(data, 2);
  h.write_protect = Bit(data, 3, 7);
  h.dpofua = Bit(data, 3, 4);
  h.longlba = Bit(data, 4, 0);
  h.block_descriptor_length = Be16(data, 6);
  if (h.mode_data_length < kModeParameterHeader10Length - 2) {
    return Fail(ParseErrc::kInconsistent, 0, "MODE SENSE(10) data: mode data length < 6");
  }
  out.required_allocation_length = std::uint32_t{h.mode_data_length} + 2;
  out.truncated = out.required_allocation_length > data.size();
  const std::size_t end = out.truncated ? data.size() : out.required_allocation_length;

  std::size_t pos = kModeParameterHeader10Length;
  if (end - pos < h.block_descriptor_length) {
    if (out.truncated) return out;
    return Fail(ParseErrc::kLengthOverflow, 6, "MODE SENSE(10) data: block descriptors overrun");
  }
  pos += h.block_descriptor_length;

  // SPC-4 7.5.7: byte 0 PS(7) SPF(6) PAGE CODE(5..0). SPF 0: byte 1 PAGE
  // LENGTH, 2-byte header. SPF 1: byte 1 SUBPAGE CODE, bytes 2..3 PAGE LENGTH.
  while (pos < end) {
    const std::size_t avail = end - pos;
    const bool spf = Bit(data, pos, 6);
    const std::size_t header = spf ? 4 : 2;
    if (avail < header) {
      if (out.truncated) return out;
      return Fail(ParseErrc::kLengthOverflow, pos, "MODE SENSE(10) data: page header overruns");
    }
    const std::size_t page_length = spf ? Be16(data, pos + 2) : U8(data, pos + 1);
    if (avail - header < page_length) {
      if (out.truncated) return out;
      return Fail(ParseErrc::kLengthOverflow, pos + 1, "MODE SENSE(10) data: page overruns");
    }
    const std::uint8_t code = Bits(data, pos, 5, 0);
    if (!spf && code == kCachingModePage && !out.caching) {
      // SBC-3 6.4.5 table 105: byte 2 WCE bit 2, RCD bit 0.
      if (page_length < 1) {
        return Fail(ParseErrc::kInconsistent, pos + 1, "MODE SENSE(10) data: caching page short");
      }
      out.caching = CachingModePage{Bit(data, pos + 2, 2), Bit(data, pos + 2, 0)};
    }
    pos += header + page_length;
  }
  return out;
}

std::size_t EncodeModeSense10(const ModeSense10Data& d, MutableBytes out) {
  const std::size_t page_total = d.caching ? std::size_t{2} + kCachingModePageLength : 0;
  std::vector<std::byte> full(kModeParameterHeader10Length + page_total);
  const MutableBytes b{full};
  PutBe16(b, 0, static_cast<std::uint16_t>(full.size() - 2));
  Put8(b, 2, d.header.medium_type);
  Put8(b, 3,
       static_cast<std::uint8_t>((d.header.write_protect ? 0x80U : 0U) |
                                 (d.header.dpofua ? 0x10U : 0U)));
  Put8(b, 4, static_cast<std::uint8_t>(d.header.longlba ? 1U : 0U));
  // Block descriptor length stays 0: we send none.
  if (d.caching) {
    const std::size_t p = kModeParameterHeader10Length;
    Put8(b, p, kCachingModePage);
    Put8(b, p + 1, kCachingModePageLength);
    Put8(b, p + 2,
         static_cast<std::uint8_t>((d.caching->wce ? 0x04U : 0U) | (d.caching->rcd ? 0x01U : 0U)));
  }
  return CopyTruncated(full, out);
}

}  // namespace openmpio::scsi

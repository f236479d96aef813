#include "scsi/block_commands.h"

#include "scsi/cdb_checks.h"

namespace openmpio::scsi {

namespace {

constexpr std::size_t kCdb6 = 6;
constexpr std::size_t kCdb16 = 16;

// The head of every CDB parser here; the texts for an empty span or another
// opcode are the same for all of them, the short text names the command.
CdbHead Head(std::uint8_t opcode, std::size_t length, const char* too_short) {
  return {.opcode = opcode,
          .length = length,
          .empty = "CDB: empty",
          .wrong_opcode = "CDB: unexpected opcode",
          .too_short = too_short};
}

// The 16-byte LBA/length/group layout shared by READ(16), WRITE(16), WRITE
// SAME(16) and SYNCHRONIZE CACHE(16) (SBC-3 5.13, 5.40, 5.45, 5.23).
Cdb BuildLba16(std::uint8_t opcode, std::uint8_t byte1, std::uint64_t lba, std::uint32_t blocks,
               std::uint8_t group, std::uint8_t control) {
  Cdb cdb;
  cdb.length = static_cast<std::uint8_t>(kCdb16);
  const MutableBytes b = cdb.mutable_span();
  Put8(b, 0, opcode);
  Put8(b, 1, byte1);
  PutBe64(b, 2, lba);
  PutBe32(b, 10, blocks);
  Put8(b, 14, static_cast<std::uint8_t>(group & 0x1FU));
  Put8(b, 15, control);
  return cdb;
}

// The fields BuildLba16 writes, as a parser reads them back.
struct Lba16Fields {
  std::uint64_t lba = 0;
  std::uint32_t blocks = 0;
  std::uint8_t group_number = 0;
  std::uint8_t control = 0;
};

// The parse side of BuildLba16, in the order every 16-byte parser checks:
// the head, then byte 1's reserved bits (`byte1_reserved` set in byte 1 is
// kReservedValue at 1 with `reserved_what`), then byte 14. Byte 14: bits 4..0
// GROUP NUMBER; bits 7..5 reserved in SBC-3 (bit 7 is restricted for MMC,
// bits 6..5 became DLD in SBC-4, which we do not offer).
ParseResult<Lba16Fields> ParseLba16(Bytes cdb, std::uint8_t opcode, const char* too_short,
                                    std::uint8_t byte1_reserved, const char* reserved_what) {
  if (auto e = CheckCdbHead(cdb, Head(opcode, kCdb16, too_short))) return *e;
  if ((U8(cdb, 1) & byte1_reserved) != 0) {
    return Fail(ParseErrc::kReservedValue, 1, reserved_what);
  }
  if (Bits(cdb, 14, 7, 5) != 0) return Fail(ParseErrc::kReservedValue, 14, "CDB: reserved bits");
  return Lba16Fields{Be64(cdb, 2), Be32(cdb, 10), Bits(cdb, 14, 4, 0), U8(cdb, 15)};
}

std::uint8_t Flag(bool v, unsigned bit) {
  return static_cast<std::uint8_t>(v ? 1U << bit : 0U);
}

// READ(16) and WRITE(16) share byte 1's PROTECT 7..5, DPO 4, FUA 3 (SBC-3
// 5.13 table 50, 5.40 table 126).
template <typename ReadOrWrite16>
std::uint8_t ReadWrite16Byte1(const ReadOrWrite16& c) {
  return static_cast<std::uint8_t>(((c.protect & 0x7U) << 5) | Flag(c.dpo, 4) | Flag(c.fua, 3));
}

template <typename ReadOrWrite16>
ReadOrWrite16 ReadWrite16From(Bytes cdb, const Lba16Fields& f) {
  ReadOrWrite16 c;
  c.protect = Bits(cdb, 1, 7, 5);
  c.dpo = Bit(cdb, 1, 4);
  c.fua = Bit(cdb, 1, 3);
  c.lba = f.lba;
  c.transfer_length = f.blocks;
  c.group_number = f.group_number;
  c.control = f.control;
  return c;
}

}  // namespace

Cdb BuildRead16Cdb(const Read16Cdb& c) {
  return BuildLba16(op::kRead16, ReadWrite16Byte1(c), c.lba, c.transfer_length, c.group_number,
                    c.control);
}

Cdb BuildWrite16Cdb(const Write16Cdb& c) {
  return BuildLba16(op::kWrite16, ReadWrite16Byte1(c), c.lba, c.transfer_length, c.group_number,
                    c.control);
}

Cdb BuildWriteSame16Cdb(const WriteSame16Cdb& c) {
  // SBC-3 5.45 table 133: WRPROTECT 7..5, ANCHOR 4, UNMAP 3, NDOB 0.
  const auto byte1 = static_cast<std::uint8_t>(((c.protect & 0x7U) << 5) | Flag(c.anchor, 4) |
                                               Flag(c.unmap, 3) | Flag(c.ndob, 0));
  return BuildLba16(op::kWriteSame16, byte1, c.lba, c.number_of_blocks, c.group_number, c.control);
}

Cdb BuildSynchronizeCache16Cdb(const SynchronizeCache16Cdb& c) {
  // SBC-3 5.23 table 77: IMMED bit 1.
  return BuildLba16(op::kSynchronizeCache16, Flag(c.immed, 1), c.lba, c.number_of_blocks,
                    c.group_number, c.control);
}

Cdb BuildTestUnitReadyCdb(const TestUnitReadyCdb& c) {
  // SPC-4 6.37 table 209: bytes 1..4 reserved.
  Cdb cdb;
  cdb.length = static_cast<std::uint8_t>(kCdb6);
  Put8(cdb.mutable_span(), 0, op::kTestUnitReady);
  Put8(cdb.mutable_span(), 5, c.control);
  return cdb;
}

Cdb BuildRequestSenseCdb(const RequestSenseCdb& c) {
  // SPC-4 6.29 table 178: DESC byte 1 bit 0, allocation length byte 4.
  Cdb cdb;
  cdb.length = static_cast<std::uint8_t>(kCdb6);
  const MutableBytes b = cdb.mutable_span();
  Put8(b, 0, op::kRequestSense);
  Put8(b, 1, Flag(c.desc, 0));
  Put8(b, 4, c.allocation_length);
  Put8(b, 5, c.control);
  return cdb;
}

ParseResult<Read16Cdb> ParseRead16Cdb(Bytes cdb) {
  // Byte 1 bit 0 is reserved in SBC-3; RARC (2) and FUA_NV (1) are accepted
  // and ignored: a cache hint and an obsolete bit.
  auto f = ParseLba16(cdb, op::kRead16, "READ(16) CDB: short", 0x01U, "READ(16) CDB: reserved bit");
  if (!f) return Unexpected<ParseError>{f.error()};
  return ReadWrite16From<Read16Cdb>(cdb, *f);
}

ParseResult<Write16Cdb> ParseWrite16Cdb(Bytes cdb) {
  // Byte 1 bits 2 and 0 reserved; FUA_NV (1) obsolete, ignored.
  auto f =
      ParseLba16(cdb, op::kWrite16, "WRITE(16) CDB: short", 0x05U, "WRITE(16) CDB: reserved bit");
  if (!f) return Unexpected<ParseError>{f.error()};
  return ReadWrite16From<Write16Cdb>(cdb, *f);
}

ParseResult<WriteSame16Cdb> ParseWriteSame16Cdb(Bytes cdb) {
  // Bits 2..1 are the obsolete PBDATA/LBDATA: we never fill blocks with
  // their own address, so a request for it is an invalid field.
  auto f = ParseLba16(cdb, op::kWriteSame16, "WRITE SAME(16) CDB: short", 0x06U,
                      "WRITE SAME(16) CDB: PBDATA/LBDATA set");
  if (!f) return Unexpected<ParseError>{f.error()};
  WriteSame16Cdb c;
  c.protect = Bits(cdb, 1, 7, 5);
  c.anchor = Bit(cdb, 1, 4);
  c.unmap = Bit(cdb, 1, 3);
  c.ndob = Bit(cdb, 1, 0);
  c.lba = f->lba;
  c.number_of_blocks = f->blocks;
  c.group_number = f->group_number;
  c.control = f->control;
  // SBC-3 4.7.3.7: ANCHOR without UNMAP is INVALID FIELD IN CDB.
  if (c.anchor && !c.unmap) {
    return Fail(ParseErrc::kInconsistent, 1, "WRITE SAME(16) CDB: ANCHOR without UNMAP");
  }
  return c;
}

ParseResult<SynchronizeCache16Cdb> ParseSynchronizeCache16Cdb(Bytes cdb) {
  // Byte 1 (SBC-3 table 77): IMMED is bit 1; bit 2 is the obsolete SYNC_NV,
  // the rest reserved. Only IMMED may be set.
  auto f = ParseLba16(cdb, op::kSynchronizeCache16, "SYNC CACHE(16) CDB: short", 0xFDU,
                      "SYNCHRONIZE CACHE(16) CDB: reserved bits");
  if (!f) return Unexpected<ParseError>{f.error()};
  SynchronizeCache16Cdb c;
  c.immed = Bit(cdb, 1, 1);
  c.lba = f->lba;
  c.number_of_blocks = f->blocks;
  c.group_number = f->group_number;
  c.control = f->control;
  return c;
}

ParseResult<TestUnitReadyCdb> ParseTestUnitReadyCdb(Bytes cdb) {
  if (auto e = CheckCdbHead(cdb, Head(op::kTestUnitReady, kCdb6, "TEST UNIT READY CDB: short"))) {
    return *e;
  }
  if (auto e = CheckZeroByteRange(cdb, 1, 5, "TUR CDB: reserved byte set")) return *e;
  return TestUnitReadyCdb{U8(cdb, 5)};
}

ParseResult<RequestSenseCdb> ParseRequestSenseCdb(Bytes cdb) {
  if (auto e = CheckCdbHead(cdb, Head(op::kRequestSense, kCdb6, "REQUEST SENSE CDB: short"))) {
    return *e;
  }
  if (Bits(cdb, 1, 7, 1) != 0) {
    return Fail(ParseErrc::kReservedValue, 1, "REQUEST SENSE CDB: reserved bits");
  }
  if (auto e = CheckZeroByteRange(cdb, 2, 4, "REQUEST SENSE CDB: reserved byte set")) return *e;
  return RequestSenseCdb{Bit(cdb, 1, 0), U8(cdb, 4), U8(cdb, 5)};
}

namespace {

template <typename T>
ParseResult<DecodedCdb> Widen(ParseResult<T> r) {
  if (!r) return Unexpected<ParseError>{r.error()};
  return DecodedCdb{std::move(r).value()};
}

}  // namespace

ParseResult<DecodedCdb> ParseCdb(Bytes cdb) {
  if (cdb.empty()) return Fail(ParseErrc::kEmpty, 0, "CDB: empty");
  switch (U8(cdb, 0)) {
    case op::kTestUnitReady:
      return Widen(ParseTestUnitReadyCdb(cdb));
    case op::kRequestSense:
      return Widen(ParseRequestSenseCdb(cdb));
    case op::kInquiry:
      return Widen(ParseInquiryCdb(cdb));
    case op::kModeSense10:
      return Widen(ParseModeSense10Cdb(cdb));
    case op::kUnmap:
      return Widen(ParseUnmapCdb(cdb));
    case op::kRead16:
      return Widen(ParseRead16Cdb(cdb));
    case op::kWrite16:
      return Widen(ParseWrite16Cdb(cdb));
    case op::kSynchronizeCache16:
      return Widen(ParseSynchronizeCache16Cdb(cdb));
    case op::kWriteSame16:
      return Widen(ParseWriteSame16Cdb(cdb));
    case op::kServiceActionIn16:
      return Widen(ParseReadCapacity16Cdb(cdb));
    case op::kReportLuns:
      return Widen(ParseReportLunsCdb(cdb));
    case op::kMaintenanceIn:
      return Widen(ParseRtpgCdb(cdb));
    case op::kMaintenanceOut:
      return Widen(ParseStpgCdb(cdb));
    default:
      return Fail(ParseErrc::kUnsupported, 0, "CDB: unsupported operation code");
  }
}

IllegalRequestSense IllegalRequestFor(const ParseError& e, ErrorSource source) {
  IllegalRequestSense s;
  const auto pointer = static_cast<std::uint16_t>(e.offset > 0xFFFF ? 0xFFFF : e.offset);
  if (source == ErrorSource::kCdb) {
    s.command_data = true;
    if (e.code == ParseErrc::kUnsupported && e.offset == 0) {
      s.asc = 0x20;  // INVALID COMMAND OPERATION CODE
      return s;
    }
    s.asc = 0x24;  // INVALID FIELD IN CDB
    // A short CDB: point at the opcode, whose length it contradicts.
    s.field_pointer = (e.code == ParseErrc::kTooShort || e.code == ParseErrc::kEmpty) ? 0 : pointer;
    return s;
  }
  s.command_data = false;
  switch (e.code) {
    case ParseErrc::kEmpty:
    case ParseErrc::kTooShort:
    case ParseErrc::kInconsistent:
      s.asc = 0x1A;  // PARAMETER LIST LENGTH ERROR
      return s;
    default:
      s.asc = 0x26;  // INVALID FIELD IN PARAMETER LIST
      s.field_pointer = pointer;
      return s;
  }
}

}  // namespace openmpio::scsi

#include "scsi/report_luns.h"

#include <vector>

#include "scsi/cdb_checks.h"

namespace openmpio::scsi {

Cdb BuildReportLunsCdb(const ReportLunsCdb& c) {
  Cdb cdb;
  cdb.length = static_cast<std::uint8_t>(kReportLunsCdbLength);
  const MutableBytes b = cdb.mutable_span();
  // SPC-4 6.33 table 141.
  Put8(b, 0, op::kReportLuns);
  Put8(b, 2, c.select_report);
  PutBe32(b, 6, c.allocation_length);
  Put8(b, 11, c.control);
  return cdb;
}

ParseResult<ReportLunsCdb> ParseReportLunsCdb(Bytes cdb) {
  if (auto e = CheckCdbHead(cdb, {.opcode = op::kReportLuns,
                                  .length = kReportLunsCdbLength,
                                  .empty = "REPORT LUNS CDB: empty",
                                  .wrong_opcode = "not REPORT LUNS",
                                  .too_short = "REPORT LUNS CDB: short"})) {
    return *e;
  }
  if (auto e = CheckZeroBytes(cdb, {1, 3, 4, 5, 10}, "REPORT LUNS CDB: reserved byte set")) {
    return *e;
  }
  // SELECT REPORT: 00..02 (SPC-4 table 142), 10h..12h (SPC-5); others reserved.
  const std::uint8_t select = U8(cdb, 2);
  if (!(select <= 0x02 || (select >= 0x10 && select <= 0x12))) {
    return Fail(ParseErrc::kReservedValue, 2, "REPORT LUNS CDB: reserved SELECT REPORT");
  }
  ReportLunsCdb c;
  c.select_report = select;
  c.allocation_length = Be32(cdb, 6);
  c.control = U8(cdb, 11);
  // SPC-4 6.33: an allocation length below 16 is INVALID FIELD IN CDB.
  if (c.allocation_length < kReportLunsMinAllocation) {
    return Fail(ParseErrc::kInconsistent, 6, "REPORT LUNS CDB: allocation length below 16");
  }
  return c;
}

std::optional<std::uint16_t> Lun::number() const noexcept {
  const Bytes b{raw};
  for (std::size_t i = 2; i < kLunLength; ++i) {
    if (U8(b, i) != 0) return std::nullopt;
  }
  // SAM-5 4.7: byte 0 bits 7..6 ADDRESS METHOD.
  switch (Bits(b, 0, 7, 6)) {
    case 0:  // peripheral device: bits 5..0 BUS IDENTIFIER, 0 for a single level
      if (Bits(b, 0, 5, 0) != 0) return std::nullopt;
      return U8(b, 1);
    case 1:  // flat space: a 14-bit LUN in byte 0 bits 5..0 and byte 1
      return static_cast<std::uint16_t>((std::uint16_t{Bits(b, 0, 5, 0)} << 8) | U8(b, 1));
    default:
      return std::nullopt;
  }
}

std::optional<Lun> Lun::FromNumber(std::uint16_t n) noexcept {
  if (n > 0x3FFF) return std::nullopt;
  Lun l;
  const MutableBytes b{l.raw};
  if (n < 256) {
    Put8(b, 1, static_cast<std::uint8_t>(n));
  } else {
    Put8(b, 0, static_cast<std::uint8_t>(0x40U | (n >> 8)));
    Put8(b, 1, static_cast<std::uint8_t>(n));
  }
  return l;
}

ParseResult<ReportLunsData> ParseReportLuns(Bytes data) {
  if (data.empty()) return Fail(ParseErrc::kEmpty, 0, "REPORT LUNS data: empty");
  if (data.size() < kReportLunsHeaderLength) {
    return Fail(ParseErrc::kTooShort, data.size(), "REPORT LUNS data: short header");
  }
  // SPC-4 6.33 table 143: LUN LIST LENGTH 0..3, reserved 4..7, LUNs from 8.
  ReportLunsData out;
  out.lun_list_length = Be32(data, 0);
  if (out.lun_list_length % kLunLength != 0) {
    return Fail(ParseErrc::kInconsistent, 0, "REPORT LUNS data: list length not 8n");
  }
  out.required_allocation_length = std::uint64_t{out.lun_list_length} + kReportLunsHeaderLength;
  out.truncated = out.required_allocation_length > data.size();
  const std::size_t end =
      out.truncated ? data.size() : static_cast<std::size_t>(out.required_allocation_length);
  const std::size_t count = (end - kReportLunsHeaderLength) / kLunLength;
  out.luns.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    Lun l;
    const Bytes src = data.subspan(kReportLunsHeaderLength + i * kLunLength, kLunLength);
    for (std::size_t j = 0; j < kLunLength; ++j) l.raw[j] = src[j];
    out.luns.push_back(l);
  }
  return out;
}

std::size_t EncodeReportLuns(std::span<const Lun> luns, MutableBytes out) {
  std::vector<std::byte> full(kReportLunsHeaderLength + kLunLength * luns.size());
  const MutableBytes b{full};
  PutBe32(b, 0, static_cast<std::uint32_t>(kLunLength * luns.size()));
  for (std::size_t i = 0; i < luns.size(); ++i) {
    for (std::size_t j = 0; j < kLunLength; ++j) {
      b[kReportLunsHeaderLength + i * kLunLength + j] = luns[i].raw[j];
    }
  }
  return CopyTruncated(full, out);
}

}  // namespace openmpio::scsi

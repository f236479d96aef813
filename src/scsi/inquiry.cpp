#include "scsi/inquiry.h"

#include <algorithm>
#include <array>
#include <string_view>

namespace openmpio::scsi {

namespace {

constexpr std::size_t kVendorOffset = 8;
constexpr std::size_t kVendorWidth = 8;
constexpr std::size_t kProductOffset = 16;
constexpr std::size_t kProductWidth = 16;
constexpr std::size_t kRevisionOffset = 32;
constexpr std::size_t kRevisionWidth = 4;

// Space-padded ASCII field (SPC-4 4.4.1: left-aligned, unused bytes 0x20).
void PutAscii(MutableBytes b, std::size_t off, std::size_t width, std::string_view s) {
  for (std::size_t i = 0; i < width; ++i) {
    Put8(b, off + i, i < s.size() ? static_cast<std::uint8_t>(s[i]) : std::uint8_t{' '});
  }
}

}  // namespace

Cdb BuildInquiryCdb(bool evpd, std::uint8_t page_code, std::uint16_t allocation_length) {
  Cdb c;
  c.length = 6;
  const MutableBytes b = c.mutable_span();
  Put8(b, 0, op::kInquiry);
  Put8(b, 1, evpd ? 0x01 : 0x00);
  Put8(b, 2, page_code);
  PutBe16(b, 3, allocation_length);
  return c;
}

ParseResult<InquiryCdb> ParseInquiryCdb(Bytes cdb) {
  // SPC-4 6.6.1 table 142.
  if (cdb.size() < 6) return Fail(ParseErrc::kTooShort, cdb.size(), "INQUIRY CDB < 6 bytes");
  if (U8(cdb, 0) != op::kInquiry) return Fail(ParseErrc::kUnsupported, 0, "not INQUIRY");
  // Bit 1 is the obsolete CMDDT (SPC-2); SPC-4 answers it with INVALID FIELD
  // IN CDB like the reserved bits 7..2.
  if (Bits(cdb, 1, 7, 1) != 0) return Fail(ParseErrc::kReservedValue, 1, "CMDDT/reserved bits set");
  InquiryCdb r;
  r.evpd = Bit(cdb, 1, 0);
  r.page_code = U8(cdb, 2);
  r.allocation_length = Be16(cdb, 3);
  // SPC-4 6.6.1: "If the EVPD bit is set to zero and the PAGE CODE field is
  // not set to zero, the device server shall terminate ... INVALID FIELD IN CDB".
  if (!r.evpd && r.page_code != 0) {
    return Fail(ParseErrc::kInconsistent, 2, "page code without EVPD");
  }
  return r;
}

ParseResult<StandardInquiry> ParseStandardInquiry(Bytes b) {
  // SPC-4 6.6.2 table 143.
  if (b.empty()) return Fail(ParseErrc::kEmpty, 0, "no INQUIRY data");
  // Say which part a short buffer lost, so a log line tells what the target
  // (or the allocation length) did.
  if (b.size() < 5)
    return Fail(ParseErrc::kTooShort, b.size(), "INQUIRY cut before ADDITIONAL LENGTH");
  if (b.size() < 8)
    return Fail(ParseErrc::kTooShort, b.size(), "INQUIRY cut before flags (bytes 5..7)");
  if (b.size() < kProductOffset)
    return Fail(ParseErrc::kTooShort, b.size(), "INQUIRY cut in VENDOR");
  if (b.size() < kRevisionOffset)
    return Fail(ParseErrc::kTooShort, b.size(), "INQUIRY cut in PRODUCT");
  if (b.size() < kStandardInquiryMinLength) {
    return Fail(ParseErrc::kTooShort, b.size(), "INQUIRY cut in REVISION");
  }
  StandardInquiry r;
  r.additional_length = U8(b, 4);
  r.claimed_length = std::size_t{r.additional_length} + 5;
  if (r.claimed_length < kStandardInquiryMinLength) {
    return Fail(ParseErrc::kTooShort, 4, "ADDITIONAL LENGTH claims fewer than 36 bytes");
  }
  r.truncated = b.size() < r.claimed_length;
  r.peripheral_qualifier = Bits(b, 0, 7, 5);
  r.peripheral_device_type = Bits(b, 0, 4, 0);
  r.rmb = Bit(b, 1, 7);
  r.version = U8(b, 2);
  r.normaca = Bit(b, 3, 5);
  r.hisup = Bit(b, 3, 4);
  r.response_data_format = Bits(b, 3, 3, 0);
  r.tpgs = static_cast<Tpgs>(Bits(b, 5, 5, 4));
  r.third_party_copy = Bit(b, 5, 3);
  r.protect = Bit(b, 5, 0);
  r.cmdque = Bit(b, 7, 1);
  r.vendor = TrimmedAscii(b.subspan(kVendorOffset, kVendorWidth));
  r.product = TrimmedAscii(b.subspan(kProductOffset, kProductWidth));
  r.revision = TrimmedAscii(b.subspan(kRevisionOffset, kRevisionWidth));
  return r;
}

std::size_t EncodeStandardInquiry(const StandardInquiry& inq, MutableBytes out) {
  std::array<std::byte, kStandardInquiryMinLength> full{};
  const MutableBytes f{full};
  Put8(f, 0,
       static_cast<std::uint8_t>(((inq.peripheral_qualifier & 0x07u) << 5) |
                                 (inq.peripheral_device_type & 0x1Fu)));
  if (inq.rmb) OrBits(f, 1, 0x80);
  Put8(f, 2, inq.version);
  Put8(f, 3, static_cast<std::uint8_t>(inq.response_data_format & 0x0Fu));
  if (inq.normaca) OrBits(f, 3, 0x20);
  if (inq.hisup) OrBits(f, 3, 0x10);
  Put8(f, 4, static_cast<std::uint8_t>(kStandardInquiryMinLength - 5));
  Put8(f, 5, static_cast<std::uint8_t>((static_cast<std::uint8_t>(inq.tpgs) & 0x03u) << 4));
  if (inq.third_party_copy) OrBits(f, 5, 0x08);
  if (inq.protect) OrBits(f, 5, 0x01);
  if (inq.cmdque) OrBits(f, 7, 0x02);
  PutAscii(f, kVendorOffset, kVendorWidth, inq.vendor);
  PutAscii(f, kProductOffset, kProductWidth, inq.product);
  PutAscii(f, kRevisionOffset, kRevisionWidth, inq.revision);
  return CopyTruncated(full, out);
}

}  // namespace openmpio::scsi

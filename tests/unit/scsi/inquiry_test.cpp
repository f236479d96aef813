// INQUIRY codec: CDB (SPC-4 6.6.1, table 142) and standard INQUIRY data
// (SPC-4 6.6.2, table 143), hand-worked vectors, malformed buffers, encoder
// bytes and rapidcheck properties.
#include "scsi/inquiry.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <string>
#include <vector>

#include "byte_vectors.h"
#include "hex.h"

namespace openmpio::scsi {
namespace {

using openmpio::testing::FromU8;
using openmpio::testing::Hex;
using openmpio::testing::ToHex;

// A LIO-style answer cut at 36 bytes by the allocation length:
//   byte 0  00  qualifier 0, type 0 (direct access)
//   byte 1  00  RMB 0
//   byte 2  06  VERSION (SPC-4)
//   byte 3  12  HISUP (bit 4) | RESPONSE DATA FORMAT 2
//   byte 4  5b  ADDITIONAL LENGTH 91 -> 96 bytes claimed
//   byte 5  30  TPGS 11 (implicit and explicit)
//   byte 6  00
//   byte 7  02  CMDQUE
//   8..15   "LIO-ORG "   16..31 "IBLOCK          "   32..35 "4.0 "
const char* const kLio36 =
    "00 00 06 12 5b 30 00 02"
    "4c 49 4f 2d 4f 52 47 20"
    "49 42 4c 4f 43 4b 20 20 20 20 20 20 20 20 20 20"
    "34 2e 30 20";

TEST(StandardInquiry, LioAnswerCutAt36Bytes) {
  auto r = ParseStandardInquiry(Hex(kLio36));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->peripheral_qualifier, 0);
  EXPECT_EQ(r->peripheral_device_type, kDeviceTypeDirectAccess);
  EXPECT_FALSE(r->rmb);
  EXPECT_EQ(r->version, 6);
  EXPECT_TRUE(r->hisup);
  EXPECT_FALSE(r->normaca);
  EXPECT_EQ(r->response_data_format, 2);
  EXPECT_EQ(r->tpgs, Tpgs::kBoth);
  EXPECT_TRUE(r->cmdque);
  EXPECT_FALSE(r->third_party_copy);
  EXPECT_FALSE(r->protect);
  EXPECT_EQ(r->vendor, "LIO-ORG");
  EXPECT_EQ(r->product, "IBLOCK");
  EXPECT_EQ(r->revision, "4.0");
  EXPECT_EQ(r->additional_length, 0x5b);
  EXPECT_EQ(r->claimed_length, 96u);
  EXPECT_TRUE(r->truncated);
}

TEST(StandardInquiry, TpgsValuesAndByte5Flags) {
  // Byte 5: TPGS bits 5..4, 3PC bit 3, PROTECT bit 0.
  struct Case {
    const char* byte5;
    Tpgs tpgs;
    bool tpc;
    bool protect;
  };
  for (const Case c :
       {Case{"00", Tpgs::kNone, false, false}, Case{"10", Tpgs::kImplicit, false, false},
        Case{"20", Tpgs::kExplicit, false, false}, Case{"30", Tpgs::kBoth, false, false},
        Case{"08", Tpgs::kNone, true, false}, Case{"19", Tpgs::kImplicit, true, true}}) {
    auto b = Hex(kLio36);
    b[5] = Hex(c.byte5)[0];
    auto r = ParseStandardInquiry(b);
    ASSERT_TRUE(r.has_value()) << c.byte5;
    EXPECT_EQ(r->tpgs, c.tpgs) << c.byte5;
    EXPECT_EQ(r->third_party_copy, c.tpc) << c.byte5;
    EXPECT_EQ(r->protect, c.protect) << c.byte5;
  }
  EXPECT_TRUE(SupportsImplicit(Tpgs::kBoth));
  EXPECT_TRUE(SupportsExplicit(Tpgs::kExplicit));
  EXPECT_FALSE(SupportsExplicit(Tpgs::kImplicit));
  EXPECT_FALSE(SupportsImplicit(Tpgs::kNone));
}

TEST(StandardInquiry, NoLogicalUnitAndRemovable) {
  // Byte 0 = 0x7F: qualifier 011 (not supported), type 1Fh; byte 1 = 0x80
  // RMB; byte 3 = 0x22 NORMACA | format 2; exactly 36 bytes claimed (0x1F).
  auto r =
      ParseStandardInquiry(Hex("7f 80 05 22 1f 00 00 00"
                               "41 42 43 44 45 46 47 48"
                               "50 52 4f 44 55 43 54 00 00 00 00 00 00 00 00 00"
                               "31 20 20 20"));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->peripheral_qualifier, kPeripheralQualifierNotSupported);
  EXPECT_EQ(r->peripheral_device_type, kDeviceTypeUnknown);
  EXPECT_TRUE(r->rmb);
  EXPECT_TRUE(r->normaca);
  EXPECT_EQ(r->vendor, "ABCDEFGH");
  EXPECT_EQ(r->product, "PRODUCT");  // NUL padding trimmed too
  EXPECT_EQ(r->revision, "1");
  EXPECT_EQ(r->claimed_length, 36u);
  EXPECT_FALSE(r->truncated);
}

TEST(StandardInquiryMalformed, EmptyAndShortBuffersSayWhatIsMissing) {
  EXPECT_EQ(ParseStandardInquiry({}).error().code, ParseErrc::kEmpty);
  const auto full = Hex(kLio36);
  for (std::size_t n = 1; n < kStandardInquiryMinLength; ++n) {
    auto r = ParseStandardInquiry(std::span(full).first(n));
    ASSERT_FALSE(r.has_value()) << n;
    EXPECT_EQ(r.error().code, ParseErrc::kTooShort) << n;
    EXPECT_EQ(r.error().offset, n);
  }
  EXPECT_STREQ(ParseStandardInquiry(std::span(full).first(20)).error().what,
               "INQUIRY cut in PRODUCT");
  EXPECT_STREQ(ParseStandardInquiry(std::span(full).first(35)).error().what,
               "INQUIRY cut in REVISION");
}

TEST(StandardInquiryMalformed, AdditionalLengthBelowMinimum) {
  // ADDITIONAL LENGTH 0x1E claims 35 bytes: SPC-4 6.6.2 needs 36.
  auto b = Hex(kLio36);
  b[4] = std::byte{0x1e};
  auto r = ParseStandardInquiry(b);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ParseErrc::kTooShort);
  EXPECT_EQ(r.error().offset, 4u);
}

TEST(StandardInquiryEncode, ArrayAnswerBytes) {
  StandardInquiry inq;
  inq.version = 6;
  inq.hisup = true;
  inq.tpgs = Tpgs::kBoth;
  inq.cmdque = true;
  inq.vendor = "OPENMPIO";
  inq.product = "mpio-array";
  inq.revision = "0.1";
  std::array<std::byte, 64> out{};
  const std::size_t n = EncodeStandardInquiry(inq, out);
  ASSERT_EQ(n, 36u);
  // Additional length 0x1F (36 - 5); byte 3 = HISUP | 2; byte 5 = TPGS 11.
  EXPECT_EQ(ToHex(std::span(out).first(n)),
            ToHex(Hex("00 00 06 12 1f 30 00 02"
                      "4f 50 45 4e 4d 50 49 4f"
                      "6d 70 69 6f 2d 61 72 72 61 79 20 20 20 20 20 20"
                      "30 2e 31 20")));
}

TEST(StandardInquiryEncode, AllFlagsAndLongStringsCut) {
  StandardInquiry inq;
  inq.peripheral_qualifier = 1;
  inq.peripheral_device_type = 0x05;
  inq.rmb = true;
  inq.normaca = true;
  inq.response_data_format = 2;
  inq.tpgs = Tpgs::kImplicit;
  inq.third_party_copy = true;
  inq.protect = true;
  inq.vendor = "ABCDEFGHIJ";            // 10 > 8
  inq.product = "0123456789abcdefXYZ";  // 19 > 16
  inq.revision = "12345";               // 5 > 4
  std::array<std::byte, 36> out{};
  ASSERT_EQ(EncodeStandardInquiry(inq, out), 36u);
  // Byte 0 = 001 00101 = 0x25; byte 5 = 0x10 | 0x08 | 0x01 = 0x19.
  EXPECT_EQ(ToHex(out), ToHex(Hex("25 80 00 22 1f 19 00 00"
                                  "41 42 43 44 45 46 47 48"
                                  "30 31 32 33 34 35 36 37 38 39 61 62 63 64 65 66"
                                  "31 32 33 34")));
}

TEST(StandardInquiryEncode, TruncatesToAllocationLength) {
  std::array<std::byte, 5> out{};
  EXPECT_EQ(EncodeStandardInquiry(StandardInquiry{}, out), 36u);
  EXPECT_EQ(ToHex(out), "00 00 00 02 1f");
}

// ---- CDB ------------------------------------------------------------------------

TEST(InquiryCdbCodec, BuildVpdAndStandard) {
  // SPC-4 table 142: 12h, EVPD, page code, allocation length (BE16), control.
  EXPECT_EQ(ToHex(BuildInquiryCdb(true, 0x83, 0x1000).span()), "12 01 83 10 00 00");
  EXPECT_EQ(ToHex(BuildInquiryCdb(false, 0, 36).span()), "12 00 00 00 24 00");
  EXPECT_EQ(BuildInquiryCdb(false, 0, 36).length, 6);
}

TEST(InquiryCdbCodec, ParseTargetSide) {
  auto r = ParseInquiryCdb(Hex("12 01 b0 00 40 00"));
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(r->evpd);
  EXPECT_EQ(r->page_code, 0xb0);
  EXPECT_EQ(r->allocation_length, 64);
  // iSCSI pads CDBs to 16 bytes: longer spans are fine.
  EXPECT_TRUE(ParseInquiryCdb(Hex("12 00 00 01 00 00 00 00 00 00 00 00 00 00 00 00")).has_value());
}

TEST(InquiryCdbCodec, ParseRejects) {
  EXPECT_EQ(ParseInquiryCdb(Hex("12 02 00 00 24 00")).error().code,
            ParseErrc::kReservedValue);  // CMDDT
  EXPECT_EQ(ParseInquiryCdb(Hex("12 80 00 00 24 00")).error().code, ParseErrc::kReservedValue);
  EXPECT_EQ(ParseInquiryCdb(Hex("12 00 83 00 24 00")).error().code, ParseErrc::kInconsistent);
  EXPECT_EQ(ParseInquiryCdb(Hex("00 01 83 00 24 00")).error().code, ParseErrc::kUnsupported);
  EXPECT_EQ(ParseInquiryCdb(Hex("12 01 83 00 24")).error().code, ParseErrc::kTooShort);
  EXPECT_EQ(ParseInquiryCdb({}).error().code, ParseErrc::kTooShort);
}

// ---- properties -----------------------------------------------------------------

// Printable ASCII without trailing blanks, at most `width` characters: what
// survives an encode/trim round trip unchanged.
std::string AsciiField(std::size_t width) {
  const auto len = *rc::gen::inRange<std::size_t>(0, width + 1);
  std::string s;
  for (std::size_t i = 0; i < len; ++i) s.push_back(*rc::gen::inRange<char>(0x21, 0x7F));
  return s;
}

RC_GTEST_PROP(InquiryProperty, StandardRoundTrip, ()) {
  StandardInquiry in;
  in.peripheral_qualifier = *rc::gen::inRange<std::uint8_t>(0, 8);
  in.peripheral_device_type = *rc::gen::inRange<std::uint8_t>(0, 32);
  in.rmb = *rc::gen::arbitrary<bool>();
  in.version = *rc::gen::arbitrary<std::uint8_t>();
  in.normaca = *rc::gen::arbitrary<bool>();
  in.hisup = *rc::gen::arbitrary<bool>();
  in.response_data_format = *rc::gen::inRange<std::uint8_t>(0, 16);
  in.tpgs = static_cast<Tpgs>(*rc::gen::inRange<std::uint8_t>(0, 4));
  in.third_party_copy = *rc::gen::arbitrary<bool>();
  in.protect = *rc::gen::arbitrary<bool>();
  in.cmdque = *rc::gen::arbitrary<bool>();
  in.vendor = AsciiField(8);
  in.product = AsciiField(16);
  in.revision = AsciiField(4);
  std::array<std::byte, 36> out{};
  RC_ASSERT(EncodeStandardInquiry(in, out) == 36u);
  auto r = ParseStandardInquiry(out);
  RC_ASSERT(r.has_value());
  RC_ASSERT(r->peripheral_qualifier == in.peripheral_qualifier);
  RC_ASSERT(r->peripheral_device_type == in.peripheral_device_type);
  RC_ASSERT(r->rmb == in.rmb);
  RC_ASSERT(r->version == in.version);
  RC_ASSERT(r->normaca == in.normaca);
  RC_ASSERT(r->hisup == in.hisup);
  RC_ASSERT(r->response_data_format == in.response_data_format);
  RC_ASSERT(r->tpgs == in.tpgs);
  RC_ASSERT(r->third_party_copy == in.third_party_copy);
  RC_ASSERT(r->protect == in.protect);
  RC_ASSERT(r->cmdque == in.cmdque);
  RC_ASSERT(r->vendor == in.vendor);
  RC_ASSERT(r->product == in.product);
  RC_ASSERT(r->revision == in.revision);
  RC_ASSERT(r->claimed_length == 36u);
  RC_ASSERT(!r->truncated);
}

RC_GTEST_PROP(InquiryProperty, CdbRoundTrip, (bool evpd, std::uint8_t page, std::uint16_t alloc)) {
  const std::uint8_t p = evpd ? page : 0;
  auto r = ParseInquiryCdb(BuildInquiryCdb(evpd, p, alloc).span());
  RC_ASSERT(r.has_value());
  RC_ASSERT(r->evpd == evpd);
  RC_ASSERT(r->page_code == p);
  RC_ASSERT(r->allocation_length == alloc);
}

RC_GTEST_PROP(InquiryProperty, ArbitraryBytesNeverCrash, (std::vector<std::uint8_t> raw)) {
  const auto b = FromU8(raw);
  auto r = ParseStandardInquiry(b);
  if (r.has_value()) {
    RC_ASSERT(b.size() >= kStandardInquiryMinLength);
    RC_ASSERT(r->claimed_length == raw[4] + 5u);
    RC_ASSERT(r->vendor.size() <= 8u);
    RC_ASSERT(r->product.size() <= 16u);
    RC_ASSERT(r->revision.size() <= 4u);
  }
  (void)ParseInquiryCdb(b);
}

}  // namespace
}  // namespace openmpio::scsi

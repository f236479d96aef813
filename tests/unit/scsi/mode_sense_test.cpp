// MODE SENSE(10) and the caching mode page: hand-worked vectors from SPC-4
// 6.12 (CDB), 7.5.5 (mode parameter header(10)), 7.5.7 (page formats) and
// SBC-3 6.4.1 (device-specific parameter), 6.4.5 (caching page).
#include "scsi/mode_sense.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <vector>

#include "hex.h"

namespace openmpio::scsi {
namespace {

using testing::Hex;
using testing::ToHex;

TEST(ModeSense10Cdb, BuildsAndParses) {
  // SPC-4 table 97: 5A, DBD (byte 1 bit 3), PC current | page 08, subpage 0,
  // ALLOCATION LENGTH 0x00fc in bytes 7..8.
  const Cdb cdb = BuildModeSense10Cdb({});
  EXPECT_EQ(ToHex(cdb.span()), "5a 08 08 00 00 00 00 00 fc 00");
  ModeSense10Cdb changeable;
  changeable.dbd = false;
  changeable.pc = ModePageControl::kChangeable;
  changeable.page_code = kAllModePages;
  changeable.allocation_length = 0x1000;
  EXPECT_EQ(ToHex(BuildModeSense10Cdb(changeable).span()), "5a 00 7f 00 00 00 00 10 00 00");

  auto p = ParseModeSense10Cdb(Hex("5a 18 88 00 00 00 00 02 00 00"));
  ASSERT_TRUE(p);
  EXPECT_TRUE(p->llbaa);
  EXPECT_TRUE(p->dbd);
  EXPECT_EQ(p->pc, ModePageControl::kDefault);
  EXPECT_EQ(p->page_code, kCachingModePage);
  EXPECT_EQ(p->allocation_length, 0x200);

  auto reserved = ParseModeSense10Cdb(Hex("5a 0c 08 00 00 00 00 00 fc 00"));
  ASSERT_FALSE(reserved);
  EXPECT_EQ(reserved.error().code, ParseErrc::kReservedValue);
  EXPECT_EQ(reserved.error().offset, 1U);
  auto reserved5 = ParseModeSense10Cdb(Hex("5a 08 08 00 00 01 00 00 fc 00"));
  ASSERT_FALSE(reserved5);
  EXPECT_EQ(reserved5.error().offset, 5U);
  EXPECT_EQ(ParseModeSense10Cdb(Hex("5a 08")).error().code, ParseErrc::kTooShort);
}

// Header(10) then the caching page:
//  0..1  MODE DATA LENGTH 0x1a (26 = 28 - 2)
//  2     MEDIUM TYPE 0
//  3     DEVICE-SPECIFIC PARAMETER: DPOFUA (bit 4) -> 0x10
//  4     LONGLBA 0; 5 reserved; 6..7 BLOCK DESCRIPTOR LENGTH 0
//  8     PS 0, SPF 0, PAGE CODE 08; 9 PAGE LENGTH 0x12
//  10    WCE (bit 2) -> 0x04; 11..27 rest of the page (zero here)
const char* const kCachingWce =
    "00 1a 00 10 00 00 00 00"
    "08 12 04 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00";

TEST(ModeSense10Data, CachingPageWithDpoFua) {
  auto r = ParseModeSense10(Hex(kCachingWce));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->header.mode_data_length, 0x1a);
  EXPECT_TRUE(r->header.dpofua);
  EXPECT_FALSE(r->header.write_protect);
  EXPECT_FALSE(r->truncated);
  ASSERT_TRUE(r->caching);
  EXPECT_TRUE(r->caching->wce);
  EXPECT_FALSE(r->caching->rcd);
}

TEST(ModeSense10Data, WalksBlockDescriptorAndOtherPagesToCaching) {
  // WP set (0x80), LONGLBA 0, one 8-byte block descriptor, then page 0x01
  // (read-write error recovery, length 0x0a), a sub_page format page
  // (SPF=1, 0x4a / subpage 01, length 0x0004), then caching with RCD only.
  // Total 8 + 8 + 12 + 8 + 20 = 56 -> MODE DATA LENGTH 54 = 0x36.
  const auto bytes =
      Hex("00 36 00 80 00 00 00 08"
          "00 00 00 00 00 00 02 00"
          "01 0a 00 00 00 00 00 00 00 00 00 00"
          "4a 01 00 04 ff ff ff ff"
          "88 12 01 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00");
  ASSERT_EQ(bytes.size(), 56U);
  auto r = ParseModeSense10(bytes);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->header.write_protect);
  EXPECT_FALSE(r->header.dpofua);
  EXPECT_EQ(r->header.block_descriptor_length, 8);
  ASSERT_TRUE(r->caching);  // PS bit (0x80) set on the caching page is fine
  EXPECT_FALSE(r->caching->wce);
  EXPECT_TRUE(r->caching->rcd);
}

TEST(ModeSense10Data, TruncatedBeforeCachingPage) {
  const auto full = Hex(kCachingWce);
  auto r = ParseModeSense10(std::span(full).first(12));
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->truncated);
  EXPECT_EQ(r->required_allocation_length, 28U);
  EXPECT_FALSE(r->caching);
  // 9 bytes: the page header itself cut.
  auto r9 = ParseModeSense10(std::span(full).first(9));
  ASSERT_TRUE(r9);
  EXPECT_TRUE(r9->truncated);
}

TEST(ModeSense10Data, MalformedBuffers) {
  EXPECT_EQ(ParseModeSense10({}).error().code, ParseErrc::kEmpty);
  EXPECT_EQ(ParseModeSense10(Hex("00 06 00 00 00 00 00")).error().code, ParseErrc::kTooShort);
  // MODE DATA LENGTH 4 cannot even cover the header.
  EXPECT_EQ(ParseModeSense10(Hex("00 04 00 00 00 00 00 00")).error().code,
            ParseErrc::kInconsistent);
  // Block descriptor length 8 with nothing after the header (length says 6).
  auto bd = ParseModeSense10(Hex("00 06 00 00 00 00 00 08 00 00 00 00 00 00 00 00"));
  ASSERT_FALSE(bd);
  EXPECT_EQ(bd.error().code, ParseErrc::kLengthOverflow);
  EXPECT_EQ(bd.error().offset, 6U);
  // Page length 0x12 but only 4 page bytes within the mode data length.
  auto page = ParseModeSense10(Hex("00 0a 00 00 00 00 00 00 08 12 04 00"));
  ASSERT_FALSE(page);
  EXPECT_EQ(page.error().code, ParseErrc::kLengthOverflow);
  EXPECT_EQ(page.error().offset, 9U);
  // A lone page-code byte at the end of the data.
  auto stub = ParseModeSense10(Hex("00 07 00 00 00 00 00 00 08"));
  ASSERT_FALSE(stub);
  EXPECT_EQ(stub.error().code, ParseErrc::kLengthOverflow);
  // Caching page with page length 0 has no byte 2.
  auto empty_page = ParseModeSense10(Hex("00 08 00 00 00 00 00 00 08 00"));
  ASSERT_FALSE(empty_page);
  EXPECT_EQ(empty_page.error().code, ParseErrc::kInconsistent);
}

TEST(ModeSense10Encode, MatchesHandWrittenBytes) {
  ModeSense10Data d;
  d.header.dpofua = true;
  d.caching = CachingModePage{true, false};
  std::vector<std::byte> out(28);
  ASSERT_EQ(EncodeModeSense10(d, out), 28U);
  EXPECT_EQ(ToHex(out), ToHex(Hex(kCachingWce)));
  ModeSense10Data header_only;
  header_only.header.write_protect = true;
  std::vector<std::byte> h(8);
  ASSERT_EQ(EncodeModeSense10(header_only, h), 8U);
  EXPECT_EQ(ToHex(h), "00 06 00 80 00 00 00 00");
}

RC_GTEST_PROP(ModeSense10Property, RoundTripsAndPrefixesTruncate, ()) {
  ModeSense10Data d;
  d.header.medium_type = *rc::gen::arbitrary<std::uint8_t>();
  d.header.write_protect = *rc::gen::arbitrary<bool>();
  d.header.dpofua = *rc::gen::arbitrary<bool>();
  d.header.longlba = *rc::gen::arbitrary<bool>();
  if (*rc::gen::arbitrary<bool>()) {
    d.caching = CachingModePage{*rc::gen::arbitrary<bool>(), *rc::gen::arbitrary<bool>()};
  }
  std::vector<std::byte> buf(40);
  const auto n = EncodeModeSense10(d, buf);
  buf.resize(n);
  auto r = ParseModeSense10(buf);
  RC_ASSERT(r.has_value());
  d.header.mode_data_length = static_cast<std::uint16_t>(n - 2);
  d.required_allocation_length = static_cast<std::uint32_t>(n);
  RC_ASSERT(*r == d);
  const auto cut = *rc::gen::inRange<std::size_t>(8, n + 1);
  auto p = ParseModeSense10(std::span(buf).first(cut));
  RC_ASSERT(p.has_value());
  RC_ASSERT(p->truncated == (cut < n));
  RC_ASSERT(p->caching.has_value() == (d.caching.has_value() && cut >= n));
}

RC_GTEST_PROP(ModeSense10Property, ArbitraryBytesNeverCrash,
              (const std::vector<std::uint8_t>& raw)) {
  std::vector<std::byte> bytes(raw.size());
  for (std::size_t i = 0; i < raw.size(); ++i) bytes[i] = std::byte{raw[i]};
  (void)ParseModeSense10(bytes);
  (void)ParseModeSense10Cdb(bytes);
}

}  // namespace
}  // namespace openmpio::scsi

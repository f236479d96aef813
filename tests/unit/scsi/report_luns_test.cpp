// REPORT LUNS: hand-worked vectors from SPC-4 6.33 (CDB table 141, data
// table 143) and the LUN formats of SAM-5 4.7.
#include "scsi/report_luns.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <vector>

#include "hex.h"

namespace openmpio::scsi {
namespace {

using testing::Hex;
using testing::ToHex;

TEST(ReportLunsCdb, BuildsAndParses) {
  // Table 141: A0, SELECT REPORT byte 2, ALLOCATION LENGTH bytes 6..9.
  const Cdb cdb = BuildReportLunsCdb({});
  EXPECT_EQ(ToHex(cdb.span()), "a0 00 00 00 00 00 00 00 10 00 00 00");
  auto p = ParseReportLunsCdb(Hex("a0 00 02 00 00 00 00 00 00 10 00 00"));
  ASSERT_TRUE(p);
  EXPECT_EQ(p->select_report, 2);
  EXPECT_EQ(p->allocation_length, 16U);

  auto select = ParseReportLunsCdb(Hex("a0 00 03 00 00 00 00 00 10 00 00 00"));
  ASSERT_FALSE(select);
  EXPECT_EQ(select.error().code, ParseErrc::kReservedValue);
  EXPECT_EQ(select.error().offset, 2U);
  auto small = ParseReportLunsCdb(Hex("a0 00 00 00 00 00 00 00 00 0f 00 00"));
  ASSERT_FALSE(small);
  EXPECT_EQ(small.error().code, ParseErrc::kInconsistent);
  EXPECT_EQ(small.error().offset, 6U);
  auto reserved = ParseReportLunsCdb(Hex("a0 00 00 00 00 00 00 00 10 00 01 00"));
  ASSERT_FALSE(reserved);
  EXPECT_EQ(reserved.error().offset, 10U);
}

// Table 143: LUN LIST LENGTH 0x18 (3 LUNs), 4 reserved bytes, then:
//  LUN 0 peripheral (00 00 ...), LUN 5 peripheral (00 05 ...),
//  LUN 0x0123 flat space (address method 01: 41 23 ...).
const char* const kThreeLuns =
    "00 00 00 18 00 00 00 00"
    "00 00 00 00 00 00 00 00"
    "00 05 00 00 00 00 00 00"
    "41 23 00 00 00 00 00 00";

TEST(ReportLunsData, ParsesPeripheralAndFlat) {
  auto r = ParseReportLuns(Hex(kThreeLuns));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->lun_list_length, 24U);
  EXPECT_FALSE(r->truncated);
  ASSERT_EQ(r->luns.size(), 3U);
  EXPECT_EQ(r->luns[0].number(), 0);
  EXPECT_EQ(r->luns[1].number(), 5);
  EXPECT_EQ(r->luns[2].number(), 0x123);
  EXPECT_EQ(ToHex(r->luns[2].raw), "41 23 00 00 00 00 00 00");
}

TEST(ReportLunsData, MultiLevelAndWellKnownLunsKeepRawOnly) {
  // Two-level peripheral (bytes 2..3 set), bus id 1, and the REPORT LUNS
  // well-known LUN (SAM-5: C1 01 00 ...).
  auto r =
      ParseReportLuns(Hex("00 00 00 18 00 00 00 00"
                          "00 01 00 02 00 00 00 00"
                          "01 00 00 00 00 00 00 00"
                          "c1 01 00 00 00 00 00 00"));
  ASSERT_TRUE(r);
  ASSERT_EQ(r->luns.size(), 3U);
  for (const auto& l : r->luns) EXPECT_FALSE(l.number());
  EXPECT_EQ(ToHex(r->luns[2].raw), "c1 01 00 00 00 00 00 00");
}

TEST(ReportLunsData, TruncatedGivesReissueLength) {
  const auto full = Hex(kThreeLuns);
  auto r = ParseReportLuns(std::span(full).first(16));  // allocation length 16
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->truncated);
  EXPECT_EQ(r->required_allocation_length, 32U);
  ASSERT_EQ(r->luns.size(), 1U);
  auto mid = ParseReportLuns(std::span(full).first(20));  // half a LUN
  ASSERT_TRUE(mid);
  EXPECT_EQ(mid->luns.size(), 1U);
  EXPECT_TRUE(mid->truncated);
}

TEST(ReportLunsData, MalformedBuffers) {
  EXPECT_EQ(ParseReportLuns({}).error().code, ParseErrc::kEmpty);
  EXPECT_EQ(ParseReportLuns(Hex("00 00 00 08 00 00")).error().code, ParseErrc::kTooShort);
  auto odd = ParseReportLuns(Hex("00 00 00 0c 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00"));
  ASSERT_FALSE(odd);
  EXPECT_EQ(odd.error().code, ParseErrc::kInconsistent);
  // A huge claimed list in a small buffer is truncation, not a crash.
  auto huge = ParseReportLuns(Hex("ff ff ff f8 00 00 00 00 00 00 00 00 00 00 00 00"));
  ASSERT_TRUE(huge);
  EXPECT_TRUE(huge->truncated);
  EXPECT_EQ(huge->required_allocation_length, 0x100000000ULL);
}

TEST(ReportLunsEncode, MatchesHandWrittenBytes) {
  std::vector<Lun> luns = {*Lun::FromNumber(0), *Lun::FromNumber(5), *Lun::FromNumber(0x123)};
  std::vector<std::byte> out(32);
  ASSERT_EQ(EncodeReportLuns(luns, out), 32U);
  EXPECT_EQ(ToHex(out), ToHex(Hex(kThreeLuns)));
  std::vector<std::byte> small(16);
  EXPECT_EQ(EncodeReportLuns(luns, small), 32U);
  EXPECT_FALSE(Lun::FromNumber(0x4000));
}

RC_GTEST_PROP(ReportLunsProperty, RoundTripsAndPrefixesTruncate, ()) {
  const auto numbers =
      *rc::gen::container<std::vector<std::uint16_t>>(rc::gen::inRange<std::uint16_t>(0, 0x4000));
  std::vector<Lun> luns;
  for (auto n : numbers) luns.push_back(*Lun::FromNumber(n));
  std::vector<std::byte> buf(8 + 8 * luns.size());
  RC_ASSERT(EncodeReportLuns(luns, buf) == buf.size());
  auto r = ParseReportLuns(buf);
  RC_ASSERT(r.has_value());
  RC_ASSERT(r->luns == luns);
  for (std::size_t i = 0; i < luns.size(); ++i) RC_ASSERT(r->luns[i].number() == numbers[i]);
  const auto cut = *rc::gen::inRange<std::size_t>(8, buf.size() + 1);
  auto p = ParseReportLuns(std::span(buf).first(cut));
  RC_ASSERT(p.has_value());
  RC_ASSERT(p->truncated == (cut < buf.size()));
  RC_ASSERT(p->luns.size() == (cut - 8) / 8);
}

RC_GTEST_PROP(ReportLunsProperty, ArbitraryBytesNeverCrash,
              (const std::vector<std::uint8_t>& raw)) {
  std::vector<std::byte> bytes(raw.size());
  for (std::size_t i = 0; i < raw.size(); ++i) bytes[i] = std::byte{raw[i]};
  auto r = ParseReportLuns(bytes);
  if (r) {
    for (const auto& l : r->luns) (void)l.number();
  }
  (void)ParseReportLunsCdb(bytes);
}

}  // namespace
}  // namespace openmpio::scsi

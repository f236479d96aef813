// READ CAPACITY(16): hand-worked vectors from SBC-3 5.16 (tables 65, 66).
#include "scsi/read_capacity.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <vector>

#include "hex.h"

namespace openmpio::scsi {
namespace {

using testing::Hex;
using testing::ToHex;

TEST(ReadCapacity16Cdb, BuildsAndParses) {
  // Table 65: 9E, SA 10, LBA 2..9 zero, ALLOCATION LENGTH 10..13 = 32, PMI 0.
  const Cdb cdb = BuildReadCapacity16Cdb({});
  EXPECT_EQ(ToHex(cdb.span()), "9e 10 00 00 00 00 00 00 00 00 00 00 00 20 00 00");
  auto p = ParseReadCapacity16Cdb(cdb.span());
  ASSERT_TRUE(p);
  EXPECT_EQ(p->allocation_length, 32U);

  auto sa = ParseReadCapacity16Cdb(Hex("9e 11 00 00 00 00 00 00 00 00 00 00 00 20 00 00"));
  ASSERT_FALSE(sa);
  EXPECT_EQ(sa.error().code, ParseErrc::kUnsupported);
  EXPECT_EQ(sa.error().offset, 1U);
  auto lba = ParseReadCapacity16Cdb(Hex("9e 10 00 00 00 00 00 00 00 01 00 00 00 20 00 00"));
  ASSERT_FALSE(lba);
  EXPECT_EQ(lba.error().code, ParseErrc::kReservedValue);
  EXPECT_EQ(lba.error().offset, 9U);
  auto pmi = ParseReadCapacity16Cdb(Hex("9e 10 00 00 00 00 00 00 00 00 00 00 00 20 01 00"));
  ASSERT_FALSE(pmi);
  EXPECT_EQ(pmi.error().offset, 14U);
  EXPECT_EQ(ParseReadCapacity16Cdb(Hex("9e 10 00")).error().code, ParseErrc::kTooShort);
}

// Table 66: a 1 GiB LU of 512-byte blocks, 8 logical blocks per physical
// block (exponent 3), LBPME and LBPRZ set, lowest aligned LBA 0x0123.
//  0..7   RETURNED LBA 0x1fffff (2097152 blocks - 1)
//  8..11  BLOCK LENGTH 0x200
//  12     P_TYPE 001 (bits 3..1), PROT_EN 1 -> 0x03
//  13     P_I_EXPONENT 2 (7..4), LB PER PB EXPONENT 3 (3..0) -> 0x23
//  14     LBPME(7) LBPRZ(6) + lowest aligned bits 13..8 = 01 -> 0xc1
//  15     lowest aligned bits 7..0 -> 0x23; 16..31 reserved
const char* const kOneGiB =
    "00 00 00 00 00 1f ff ff  00 00 02 00  03 23 c1 23"
    "00 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00";

TEST(ReadCapacity16Data, ParsesHandWorkedVector) {
  auto r = ParseReadCapacity16(Hex(kOneGiB));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->last_lba, 0x1fffffU);
  EXPECT_EQ(r->block_count(), 2097152U);
  EXPECT_EQ(r->block_length, 512U);
  EXPECT_EQ(r->p_type, 1);
  EXPECT_TRUE(r->prot_en);
  EXPECT_EQ(r->p_i_exponent, 2);
  EXPECT_EQ(r->logical_blocks_per_physical_block_exponent, 3);
  EXPECT_TRUE(r->lbpme);
  EXPECT_TRUE(r->lbprz);
  EXPECT_EQ(r->lowest_aligned_lba, 0x0123);
}

TEST(ReadCapacity16Data, ThinProvisioningBitsSeparately) {
  // Byte 14 0x80: LBPME only; 0x40: LBPRZ only.
  auto a =
      ParseReadCapacity16(Hex("00 00 00 00 00 00 ff ff 00 00 10 00 00 00 80 00"
                              "00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00"));
  ASSERT_TRUE(a);
  EXPECT_TRUE(a->lbpme);
  EXPECT_FALSE(a->lbprz);
  EXPECT_EQ(a->block_length, 4096U);
  auto b =
      ParseReadCapacity16(Hex("00 00 00 00 00 00 ff ff 00 00 10 00 00 00 40 00"
                              "00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00"));
  ASSERT_TRUE(b);
  EXPECT_FALSE(b->lbpme);
  EXPECT_TRUE(b->lbprz);
}

TEST(ReadCapacity16Data, RejectsShortAndZeroBlockLength) {
  const auto full = Hex(kOneGiB);
  EXPECT_EQ(ParseReadCapacity16({}).error().code, ParseErrc::kEmpty);
  // 12 bytes (the READ CAPACITY(10)-sized part) is too short by decision.
  auto twelve = ParseReadCapacity16(std::span(full).first(12));
  ASSERT_FALSE(twelve);
  EXPECT_EQ(twelve.error().code, ParseErrc::kTooShort);
  EXPECT_EQ(twelve.error().offset, 12U);
  EXPECT_EQ(ParseReadCapacity16(std::span(full).first(31)).error().code, ParseErrc::kTooShort);
  auto zero = Hex(kOneGiB);
  zero[10] = std::byte{0};
  auto z = ParseReadCapacity16(zero);
  ASSERT_FALSE(z);
  EXPECT_EQ(z.error().code, ParseErrc::kInconsistent);
  EXPECT_EQ(z.error().offset, 8U);
  // Longer than 32 is fine: the rest is ignored.
  auto longer = Hex(kOneGiB);
  longer.resize(64, std::byte{0xff});
  EXPECT_TRUE(ParseReadCapacity16(longer));
}

TEST(ReadCapacity16Data, EncodesHandWorkedVector) {
  ReadCapacity16Data d;
  d.last_lba = 0x1fffff;
  d.block_length = 512;
  d.p_type = 1;
  d.prot_en = true;
  d.p_i_exponent = 2;
  d.logical_blocks_per_physical_block_exponent = 3;
  d.lbpme = true;
  d.lbprz = true;
  d.lowest_aligned_lba = 0x0123;
  std::vector<std::byte> out(32);
  ASSERT_EQ(EncodeReadCapacity16(d, out), 32U);
  EXPECT_EQ(ToHex(out), ToHex(Hex(kOneGiB)));
  std::vector<std::byte> small(8);
  EXPECT_EQ(EncodeReadCapacity16(d, small), 32U);
  EXPECT_EQ(ToHex(small), "00 00 00 00 00 1f ff ff");
}

RC_GTEST_PROP(ReadCapacity16Property, RoundTrips, ()) {
  ReadCapacity16Data d;
  d.last_lba = *rc::gen::arbitrary<std::uint64_t>();
  d.block_length = *rc::gen::inRange<std::uint32_t>(1, 0xffffffffU);
  d.p_type = *rc::gen::inRange<std::uint8_t>(0, 8);
  d.prot_en = *rc::gen::arbitrary<bool>();
  d.p_i_exponent = *rc::gen::inRange<std::uint8_t>(0, 16);
  d.logical_blocks_per_physical_block_exponent = *rc::gen::inRange<std::uint8_t>(0, 16);
  d.lbpme = *rc::gen::arbitrary<bool>();
  d.lbprz = *rc::gen::arbitrary<bool>();
  d.lowest_aligned_lba = *rc::gen::inRange<std::uint16_t>(0, 0x4000);
  std::vector<std::byte> buf(32);
  (void)EncodeReadCapacity16(d, buf);
  auto r = ParseReadCapacity16(buf);
  RC_ASSERT(r.has_value());
  RC_ASSERT(*r == d);
}

RC_GTEST_PROP(ReadCapacity16Property, ArbitraryBytesNeverCrash,
              (const std::vector<std::uint8_t>& raw)) {
  std::vector<std::byte> bytes(raw.size());
  for (std::size_t i = 0; i < raw.size(); ++i) bytes[i] = std::byte{raw[i]};
  auto r = ParseReadCapacity16(bytes);
  RC_ASSERT(r.has_value() == (bytes.size() >= 32 && (raw[8] | raw[9] | raw[10] | raw[11]) != 0));
  (void)ParseReadCapacity16Cdb(bytes);
}

}  // namespace
}  // namespace openmpio::scsi

// UNMAP: hand-worked vectors from SBC-3 5.28 (CDB table 89, parameter list
// tables 90 and 91).
#include "scsi/unmap.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <vector>

#include "hex.h"

namespace openmpio::scsi {
namespace {

using testing::Hex;
using testing::ToHex;

TEST(UnmapCdb, BuildsAndParses) {
  // Table 89: 42, ANCHOR byte 1 bit 0, GROUP NUMBER byte 6, PARAMETER LIST
  // LENGTH bytes 7..8 = 0x28 (two descriptors), control 0.
  const Cdb cdb = BuildUnmapCdb({false, 0, 0x28, 0});
  EXPECT_EQ(ToHex(cdb.span()), "42 00 00 00 00 00 00 00 28 00");
  auto p = ParseUnmapCdb(Hex("42 01 00 00 00 00 03 01 00 00"));
  ASSERT_TRUE(p);
  EXPECT_TRUE(p->anchor);
  EXPECT_EQ(p->group_number, 3);
  EXPECT_EQ(p->parameter_list_length, 0x100);

  auto bits = ParseUnmapCdb(Hex("42 02 00 00 00 00 00 00 28 00"));
  ASSERT_FALSE(bits);
  EXPECT_EQ(bits.error().code, ParseErrc::kReservedValue);
  EXPECT_EQ(bits.error().offset, 1U);
  auto byte3 = ParseUnmapCdb(Hex("42 00 00 01 00 00 00 00 28 00"));
  ASSERT_FALSE(byte3);
  EXPECT_EQ(byte3.error().offset, 3U);
  auto group = ParseUnmapCdb(Hex("42 00 00 00 00 00 20 00 28 00"));
  ASSERT_FALSE(group);
  EXPECT_EQ(group.error().offset, 6U);
  EXPECT_EQ(ParseUnmapCdb(Hex("42 00 00 00")).error().code, ParseErrc::kTooShort);
}

// Table 90/91: two descriptors.
//  0..1 UNMAP DATA LENGTH 0x26 (40 - 2); 2..3 BLOCK DESCRIPTOR DATA LENGTH
//  0x20 (40 - 8); 4..7 reserved; then LBA (8 bytes), NUMBER OF LOGICAL
//  BLOCKS (4), reserved (4): LBA 0x1000 x 0x800, LBA 0x123456789a x 1.
const char* const kTwoDescriptors =
    "00 26 00 20 00 00 00 00"
    "00 00 00 00 00 00 10 00  00 00 08 00  00 00 00 00"
    "00 00 00 12 34 56 78 9a  00 00 00 01  00 00 00 00";

TEST(UnmapList, BuildsHandWrittenBytes) {
  const std::vector<UnmapBlockDescriptor> d = {{0x1000, 0x800}, {0x123456789a, 1}};
  std::vector<std::byte> out(UnmapParameterListLength(2));
  ASSERT_EQ(BuildUnmapParameterList(d, out), 40U);
  EXPECT_EQ(ToHex(out), ToHex(Hex(kTwoDescriptors)));
}

TEST(UnmapList, ParsesHandWrittenBytes) {
  auto r = ParseUnmapParameterList(Hex(kTwoDescriptors));
  ASSERT_TRUE(r);
  ASSERT_EQ(r->size(), 2U);
  EXPECT_EQ((*r)[0], (UnmapBlockDescriptor{0x1000, 0x800}));
  EXPECT_EQ((*r)[1], (UnmapBlockDescriptor{0x123456789a, 1}));
  // Header only: no descriptors, valid.
  auto none = ParseUnmapParameterList(Hex("00 06 00 00 00 00 00 00"));
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
}

TEST(UnmapList, IncompleteLastDescriptorIsIgnored) {
  // SBC-3 5.28.2: BLOCK DESCRIPTOR DATA LENGTH 0x18 (16 + 8): the second,
  // incomplete descriptor is ignored.
  auto r =
      ParseUnmapParameterList(Hex("00 1e 00 18 00 00 00 00"
                                  "00 00 00 00 00 00 00 01  00 00 00 02  00 00 00 00"
                                  "00 00 00 00 00 00 00 09"));
  ASSERT_TRUE(r);
  ASSERT_EQ(r->size(), 1U);
  EXPECT_EQ((*r)[0], (UnmapBlockDescriptor{1, 2}));
}

TEST(UnmapList, MalformedLists) {
  EXPECT_EQ(ParseUnmapParameterList({}).error().code, ParseErrc::kEmpty);
  auto short_list = ParseUnmapParameterList(Hex("00 06 00 00 00"));
  ASSERT_FALSE(short_list);
  EXPECT_EQ(short_list.error().code, ParseErrc::kTooShort);
  // UNMAP DATA LENGTH 0x26 in an 8-byte list.
  auto udl = ParseUnmapParameterList(Hex("00 26 00 00 00 00 00 00"));
  ASSERT_FALSE(udl);
  EXPECT_EQ(udl.error().code, ParseErrc::kLengthOverflow);
  EXPECT_EQ(udl.error().offset, 0U);
  // BLOCK DESCRIPTOR DATA LENGTH 0x10 with no descriptor present.
  auto bdl = ParseUnmapParameterList(Hex("00 06 00 10 00 00 00 00"));
  ASSERT_FALSE(bdl);
  EXPECT_EQ(bdl.error().code, ParseErrc::kLengthOverflow);
  EXPECT_EQ(bdl.error().offset, 2U);
  // Descriptor length 16 but data length 6 (should be 22).
  auto inconsistent =
      ParseUnmapParameterList(Hex("00 06 00 10 00 00 00 00"
                                  "00 00 00 00 00 00 00 01  00 00 00 02  00 00 00 00"));
  ASSERT_FALSE(inconsistent);
  EXPECT_EQ(inconsistent.error().code, ParseErrc::kInconsistent);
}

RC_GTEST_PROP(UnmapProperty, RoundTrips, ()) {
  const auto n = *rc::gen::inRange<std::size_t>(0, 30);
  std::vector<UnmapBlockDescriptor> d;
  for (std::size_t i = 0; i < n; ++i) {
    d.push_back({*rc::gen::arbitrary<std::uint64_t>(), *rc::gen::arbitrary<std::uint32_t>()});
  }
  std::vector<std::byte> buf(UnmapParameterListLength(n));
  RC_ASSERT(BuildUnmapParameterList(d, buf) == buf.size());
  auto r = ParseUnmapParameterList(buf);
  RC_ASSERT(r.has_value());
  RC_ASSERT(*r == d);
  const Cdb cdb = BuildUnmapCdb({false, 0, static_cast<std::uint16_t>(buf.size()), 0});
  auto c = ParseUnmapCdb(cdb.span());
  RC_ASSERT(c.has_value());
  RC_ASSERT(c->parameter_list_length == buf.size());
}

RC_GTEST_PROP(UnmapProperty, ArbitraryBytesNeverCrash, (const std::vector<std::uint8_t>& raw)) {
  std::vector<std::byte> bytes(raw.size());
  for (std::size_t i = 0; i < raw.size(); ++i) bytes[i] = std::byte{raw[i]};
  auto r = ParseUnmapParameterList(bytes);
  if (r) RC_ASSERT(UnmapParameterListLength(r->size()) <= bytes.size());
  (void)ParseUnmapCdb(bytes);
}

}  // namespace
}  // namespace openmpio::scsi

// SET TARGET PORT GROUPS: hand-worked vectors from SPC-4 6.44 (tables 188..190).
#include "scsi/stpg.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <vector>

#include "hex.h"

namespace openmpio::scsi {
namespace {

using testing::Hex;
using testing::ToHex;

TEST(StpgCdb, BuildsAndParses) {
  // Table 188: A4, SA 0A, PARAMETER LIST LENGTH 12 in bytes 6..9.
  const Cdb cdb = BuildStpgCdb({12, 0});
  EXPECT_EQ(ToHex(cdb.span()), "a4 0a 00 00 00 00 00 00 00 0c 00 00");
  auto p = ParseStpgCdb(cdb.span());
  ASSERT_TRUE(p);
  EXPECT_EQ(p->parameter_list_length, 12U);

  auto sa = ParseStpgCdb(Hex("a4 0b 00 00 00 00 00 00 00 0c 00 00"));
  ASSERT_FALSE(sa);
  EXPECT_EQ(sa.error().code, ParseErrc::kUnsupported);
  EXPECT_EQ(sa.error().offset, 1U);
  auto reserved_bits = ParseStpgCdb(Hex("a4 2a 00 00 00 00 00 00 00 0c 00 00"));
  ASSERT_FALSE(reserved_bits);
  EXPECT_EQ(reserved_bits.error().code, ParseErrc::kReservedValue);
  EXPECT_EQ(reserved_bits.error().offset, 1U);
  auto reserved_byte = ParseStpgCdb(Hex("a4 0a 00 00 00 07 00 00 00 0c 00 00"));
  ASSERT_FALSE(reserved_byte);
  EXPECT_EQ(reserved_byte.error().offset, 5U);
  EXPECT_EQ(ParseStpgCdb(Hex("a4 0a 00")).error().code, ParseErrc::kTooShort);
  EXPECT_EQ(ParseStpgCdb({}).error().code, ParseErrc::kEmpty);
}

// Table 189/190: 4 reserved bytes; per descriptor byte 0 bits 3..0 the state,
// bytes 2..3 the target port group. Group 1 -> A/O, group 2 -> Standby.
const char* const kTwoDescriptors = "00 00 00 00  00 00 00 01  02 00 00 02";

TEST(StpgList, BuildsHandWrittenBytes) {
  const std::vector<StpgDescriptor> d = {{AsymmetricAccessState::kActiveOptimized, 1},
                                         {AsymmetricAccessState::kStandby, 2}};
  std::vector<std::byte> out(StpgParameterListLength(d.size()));
  ASSERT_EQ(BuildStpgParameterList(d, out), 12U);
  EXPECT_EQ(ToHex(out), ToHex(Hex(kTwoDescriptors)));
  // Truncated output still reports the full length.
  std::vector<std::byte> small(6);
  EXPECT_EQ(BuildStpgParameterList(d, small), 12U);
  EXPECT_EQ(ToHex(small), "00 00 00 00 00 00");
}

TEST(StpgList, ParsesAndIgnoresReservedBits) {
  // Reserved high nibble of byte 0 and reserved byte 1 set: ignored.
  auto r = ParseStpgParameterList(Hex("ff ff ff ff  f1 ee 00 07  0e 00 01 00"));
  ASSERT_TRUE(r);
  ASSERT_EQ(r->size(), 2U);
  EXPECT_EQ((*r)[0].state, AsymmetricAccessState::kActiveNonOptimized);
  EXPECT_EQ((*r)[0].target_port_group, 7);
  EXPECT_EQ((*r)[1].state, AsymmetricAccessState::kOffline);
  EXPECT_EQ((*r)[1].target_port_group, 0x100);
  auto header_only = ParseStpgParameterList(Hex("00 00 00 00"));
  ASSERT_TRUE(header_only);
  EXPECT_TRUE(header_only->empty());
}

TEST(StpgList, RejectsStatesThatMayNotBeRequested) {
  // Logical-block dependent (4), transitioning (F) and reserved (5..D).
  for (const char* state : {"04", "0f", "05", "0d"}) {
    auto r = ParseStpgParameterList(
        Hex(std::string("00 00 00 00  00 00 00 01  ") + state + " 00 00 02"));
    ASSERT_FALSE(r) << state;
    EXPECT_EQ(r.error().code, ParseErrc::kReservedValue);
    EXPECT_EQ(r.error().offset, 8U);
  }
}

TEST(StpgList, RejectsBadLengths) {
  EXPECT_EQ(ParseStpgParameterList({}).error().code, ParseErrc::kEmpty);
  for (const char* bad : {"00", "00 00 00", "00 00 00 00 00", "00 00 00 00 00 00 00 01 02"}) {
    auto r = ParseStpgParameterList(Hex(bad));
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code, ParseErrc::kInconsistent) << bad;
  }
}

RC_GTEST_PROP(StpgProperty, RoundTrips, ()) {
  const auto states = std::vector<AsymmetricAccessState>{
      AsymmetricAccessState::kActiveOptimized, AsymmetricAccessState::kActiveNonOptimized,
      AsymmetricAccessState::kStandby, AsymmetricAccessState::kUnavailable,
      AsymmetricAccessState::kOffline};
  const auto n = *rc::gen::inRange<std::size_t>(0, 20);
  std::vector<StpgDescriptor> d;
  for (std::size_t i = 0; i < n; ++i) {
    d.push_back({*rc::gen::elementOf(states), *rc::gen::arbitrary<std::uint16_t>()});
  }
  std::vector<std::byte> buf(StpgParameterListLength(n));
  RC_ASSERT(BuildStpgParameterList(d, buf) == buf.size());
  auto r = ParseStpgParameterList(buf);
  RC_ASSERT(r.has_value());
  RC_ASSERT(*r == d);
}

RC_GTEST_PROP(StpgProperty, ArbitraryBytesNeverCrash, (const std::vector<std::uint8_t>& raw)) {
  std::vector<std::byte> bytes(raw.size());
  for (std::size_t i = 0; i < raw.size(); ++i) bytes[i] = std::byte{raw[i]};
  auto r = ParseStpgParameterList(bytes);
  if (r) RC_ASSERT(StpgParameterListLength(r->size()) == bytes.size());
  (void)ParseStpgCdb(bytes);
}

}  // namespace
}  // namespace openmpio::scsi

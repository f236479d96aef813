// REPORT TARGET PORT GROUPS: hand-worked vectors from SPC-4 6.36 (tables
// 163..169), both parameter data formats, truncation and malformed answers.
#include "scsi/rtpg.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <vector>

#include "hex.h"

namespace openmpio::scsi {
namespace {

using testing::Hex;
using testing::ToHex;

// SPC-4 6.36.3 (extended header, table 165) + 6.36.2 table 166/169:
// two groups, two ports each.
//  0..3   RETURN DATA LENGTH 0x24 (36 = 40 - 4)
//  4      FORMAT TYPE 001 in bits 6..4 -> 0x10
//  5      IMPLICIT TRANSITION TIME 0x0a (10 s); 6..7 reserved
//  8      group 1: PREF=1, state 0 (A/O)            -> 0x80
//  9      T_SUP O_SUP U_SUP S_SUP AN_SUP AO_SUP      -> 0xcf
//  10..11 TPG 1; 12 reserved; 13 STATUS CODE 2 (implicit); 14 vendor; 15 count 2
//  16..23 ports 1, 2 (relative target port id in bytes 2..3)
//  24     group 2: PREF=0, state 1 (A/N-O); 25 U S AN AO -> 0x0f
//  26..27 TPG 2; 29 STATUS CODE 1 (altered by STPG); 31 count 2; ports 3, 4
const char* const kExtendedTwoGroups =
    "00 00 00 24  10 0a 00 00"
    "80 cf 00 01  00 02 00 02  00 00 00 01  00 00 00 02"
    "01 0f 00 02  00 01 00 02  00 00 00 03  00 00 00 04";

// The length-only format (table 164) as istgt answers it (LAB.md: every group
// A/O with PREF=1): RETURN DATA LENGTH 0x18, descriptors from byte 4, two
// groups of one port each.
const char* const kLengthOnlyIstgt =
    "00 00 00 18"
    "80 0f 00 01  00 00 00 01  00 00 00 01"
    "80 0f 00 02  00 00 00 01  00 00 00 02";

TEST(RtpgCdb, BuildsExtendedRequest) {
  // SPC-4 6.36.1 table 163: A3, format 001 << 5 | SA 0A = 0x2a, alloc 4096.
  const Cdb cdb = BuildRtpgCdb({RtpgFormat::kExtended, 4096, 0});
  EXPECT_EQ(ToHex(cdb.span()), "a3 2a 00 00 00 00 00 00 10 00 00 00");
  const Cdb lo = BuildRtpgCdb({RtpgFormat::kLengthOnly, 0x01020304, 0});
  EXPECT_EQ(ToHex(lo.span()), "a3 0a 00 00 00 00 01 02 03 04 00 00");
}

TEST(RtpgCdb, TargetSideParsesAndRejects) {
  auto ok = ParseRtpgCdb(Hex("a3 2a 00 00 00 00 00 00 02 00 00 04"));
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->format, RtpgFormat::kExtended);
  EXPECT_EQ(ok->allocation_length, 0x200U);
  EXPECT_EQ(ok->control, 4);

  auto reserved_format = ParseRtpgCdb(Hex("a3 4a 00 00 00 00 00 00 02 00 00 00"));
  ASSERT_FALSE(reserved_format);
  EXPECT_EQ(reserved_format.error().code, ParseErrc::kReservedValue);
  EXPECT_EQ(reserved_format.error().offset, 1U);

  auto bad_sa = ParseRtpgCdb(Hex("a3 05 00 00 00 00 00 00 02 00 00 00"));
  ASSERT_FALSE(bad_sa);
  EXPECT_EQ(bad_sa.error().code, ParseErrc::kUnsupported);
  EXPECT_EQ(bad_sa.error().offset, 1U);

  auto reserved_byte = ParseRtpgCdb(Hex("a3 0a 00 00 01 00 00 00 02 00 00 00"));
  ASSERT_FALSE(reserved_byte);
  EXPECT_EQ(reserved_byte.error().code, ParseErrc::kReservedValue);
  EXPECT_EQ(reserved_byte.error().offset, 4U);

  auto reserved_10 = ParseRtpgCdb(Hex("a3 0a 00 00 00 00 00 00 02 00 80 00"));
  ASSERT_FALSE(reserved_10);
  EXPECT_EQ(reserved_10.error().offset, 10U);

  auto short_cdb = ParseRtpgCdb(Hex("a3 0a 00 00 00 00"));
  ASSERT_FALSE(short_cdb);
  EXPECT_EQ(short_cdb.error().code, ParseErrc::kTooShort);

  EXPECT_EQ(ParseRtpgCdb({}).error().code, ParseErrc::kEmpty);
  EXPECT_EQ(ParseRtpgCdb(Hex("a4 0a 00 00 00 00 00 00 02 00 00 00")).error().code,
            ParseErrc::kUnsupported);
}

TEST(RtpgData, ExtendedTwoGroupsTwoPortsEach) {
  const auto bytes = Hex(kExtendedTwoGroups);
  ASSERT_EQ(bytes.size(), 40U);
  auto r = ParseRtpg(bytes);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->format, RtpgFormat::kExtended);
  ASSERT_TRUE(r->implicit_transition_time);
  EXPECT_EQ(*r->implicit_transition_time, 10);
  EXPECT_EQ(r->return_data_length, 36U);
  EXPECT_FALSE(r->truncated);
  EXPECT_EQ(r->required_allocation_length, 40U);
  ASSERT_EQ(r->groups.size(), 2U);

  const auto& g1 = r->groups[0];
  EXPECT_TRUE(g1.pref);
  EXPECT_EQ(g1.state.state(), AsymmetricAccessState::kActiveOptimized);
  EXPECT_FALSE(g1.state.reserved());
  EXPECT_TRUE(g1.supported.Supports(AsymmetricAccessState::kTransitioning));
  EXPECT_TRUE(g1.supported.Supports(AsymmetricAccessState::kOffline));
  EXPECT_FALSE(g1.supported.Supports(AsymmetricAccessState::kLogicalBlockDependent));
  EXPECT_TRUE(g1.supported.Supports(AsymmetricAccessState::kActiveOptimized));
  EXPECT_EQ(g1.target_port_group, 1);
  EXPECT_EQ(g1.status(), TpgStatusCode::kAlteredByImplicitBehavior);
  EXPECT_EQ(g1.target_port_count, 2);
  EXPECT_EQ(g1.relative_target_ports, (std::vector<std::uint16_t>{1, 2}));

  const auto& g2 = r->groups[1];
  EXPECT_FALSE(g2.pref);
  EXPECT_EQ(g2.state.state(), AsymmetricAccessState::kActiveNonOptimized);
  EXPECT_EQ(g2.supported.ToByte(), 0x0f);
  EXPECT_FALSE(g2.supported.Supports(AsymmetricAccessState::kTransitioning));
  EXPECT_EQ(g2.target_port_group, 2);
  EXPECT_EQ(g2.status(), TpgStatusCode::kAlteredBySetTargetPortGroups);
  EXPECT_EQ(g2.relative_target_ports, (std::vector<std::uint16_t>{3, 4}));
}

TEST(RtpgData, LengthOnlyAnswerToExtendedRequest) {
  // We asked for the extended format with 4096 bytes; istgt answers in the
  // length-only format: byte 4 is a descriptor, not a format type.
  const auto bytes = Hex(kLengthOnlyIstgt);
  auto r = ParseRtpg(bytes, kRtpgInitialAllocation);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->format, RtpgFormat::kLengthOnly);
  EXPECT_FALSE(r->implicit_transition_time);
  EXPECT_FALSE(r->truncated);
  ASSERT_EQ(r->groups.size(), 2U);
  for (const auto& g : r->groups) {
    EXPECT_TRUE(g.pref);
    EXPECT_EQ(g.state.state(), AsymmetricAccessState::kActiveOptimized);
    EXPECT_EQ(g.target_port_count, 1);
  }
  EXPECT_EQ(r->groups[0].target_port_group, 1);
  EXPECT_EQ(r->groups[1].target_port_group, 2);
  EXPECT_EQ(r->groups[1].relative_target_ports, (std::vector<std::uint16_t>{2}));
}

TEST(RtpgData, TruncatedAnswerGivesReissueLength) {
  const auto full = Hex(kExtendedTwoGroups);
  // Allocation length 24: header + exactly the first group.
  {
    auto r = ParseRtpg(std::span(full).first(24), 24);
    ASSERT_TRUE(r);
    EXPECT_TRUE(r->truncated);
    EXPECT_EQ(r->required_allocation_length, 40U);
    EXPECT_EQ(r->return_data_length, 36U);
    EXPECT_EQ(r->format, RtpgFormat::kExtended);
    ASSERT_EQ(r->groups.size(), 1U);
    EXPECT_EQ(r->groups[0].relative_target_ports, (std::vector<std::uint16_t>{1, 2}));
  }
  // Allocation length 20: the first group's port list is cut; no group whole.
  {
    auto r = ParseRtpg(std::span(full).first(20), 20);
    ASSERT_TRUE(r);
    EXPECT_TRUE(r->truncated);
    EXPECT_EQ(r->required_allocation_length, 40U);
    EXPECT_TRUE(r->groups.empty());
  }
  // Allocation length 4 (multipath-tools' first probe would be 4096, but a
  // 4-byte probe is legal): only the length.
  {
    auto r = ParseRtpg(std::span(full).first(4));
    ASSERT_TRUE(r);
    EXPECT_TRUE(r->truncated);
    EXPECT_EQ(r->required_allocation_length, 40U);
  }
  // Allocation length 6: inside the extended header.
  {
    auto r = ParseRtpg(std::span(full).first(6));
    ASSERT_TRUE(r);
    EXPECT_TRUE(r->truncated);
    EXPECT_EQ(r->format, RtpgFormat::kExtended);
    EXPECT_TRUE(r->groups.empty());
  }
  // The same 20 bytes when we had asked for 4096: the target under-delivered.
  {
    auto r = ParseRtpg(std::span(full).first(20), 4096);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ParseErrc::kLengthOverflow);
    EXPECT_EQ(r.error().offset, 20U);
  }
}

TEST(RtpgData, ReservedStateAndStatusAreKeptAndFlagged) {
  // Length-only, one group: byte 0 state 0x5 (reserved, table 167), status
  // code 0x07 (reserved, table 168), no ports.
  auto r = ParseRtpg(Hex("00 00 00 08  05 01 00 09 00 07 00 00"));
  ASSERT_TRUE(r);
  ASSERT_EQ(r->groups.size(), 1U);
  const auto& g = r->groups[0];
  EXPECT_TRUE(g.state.reserved());
  EXPECT_EQ(g.state.raw, 5);
  EXPECT_FALSE(g.state.state());
  EXPECT_FALSE(g.state.active());
  EXPECT_STREQ(AccessStateName(g.state), "Reserved");
  EXPECT_TRUE(g.status_code_reserved());
  EXPECT_FALSE(g.status());
  EXPECT_EQ(g.target_port_group, 9);

  // Every defined state decodes to itself; offline and transitioning by name.
  auto t = ParseRtpg(Hex("00 00 00 10  0e 00 00 01 00 00 00 00  0f 00 00 02 00 00 00 00"));
  ASSERT_TRUE(t);
  EXPECT_EQ(t->groups[0].state.state(), AsymmetricAccessState::kOffline);
  EXPECT_EQ(t->groups[1].state.state(), AsymmetricAccessState::kTransitioning);
  EXPECT_STREQ(AccessStateName(t->groups[1].state), "Transitioning");
}

TEST(RtpgData, PortCountOverflowingTheDataIsMalformed) {
  // RETURN DATA LENGTH 16 and 20 bytes present (not truncated), but TARGET
  // PORT COUNT 3 needs 8 + 12 = 20 bytes of descriptor: offset 11 (byte 7).
  auto r = ParseRtpg(Hex("00 00 00 10  00 80 00 01 00 00 00 03  00 00 00 01 00 00 00 02"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ParseErrc::kLengthOverflow);
  EXPECT_EQ(r.error().offset, 11U);

  // 255 ports claimed in a 12-byte answer whose length says 8.
  auto big = ParseRtpg(Hex("00 00 00 08  00 80 00 01 00 00 00 ff"));
  ASSERT_FALSE(big);
  EXPECT_EQ(big.error().code, ParseErrc::kLengthOverflow);
}

TEST(RtpgData, MalformedBuffers) {
  EXPECT_EQ(ParseRtpg({}).error().code, ParseErrc::kEmpty);
  EXPECT_EQ(ParseRtpg(Hex("00 00 00")).error().code, ParseErrc::kTooShort);
  // FORMAT TYPE 010: reserved.
  auto fmt = ParseRtpg(Hex("00 00 00 04 20 00 00 00"));
  ASSERT_FALSE(fmt);
  EXPECT_EQ(fmt.error().code, ParseErrc::kReservedValue);
  EXPECT_EQ(fmt.error().offset, 4U);
  // Extended format type but RETURN DATA LENGTH 2 cannot hold the header.
  EXPECT_EQ(ParseRtpg(Hex("00 00 00 02 10 00")).error().code, ParseErrc::kInconsistent);
  // A descriptor stub: 3 bytes claimed and present.
  auto stub = ParseRtpg(Hex("00 00 00 03 00 00 01"));
  ASSERT_FALSE(stub);
  EXPECT_EQ(stub.error().code, ParseErrc::kLengthOverflow);
  EXPECT_EQ(stub.error().offset, 4U);
  // A whole group then 4 stray bytes within the claimed length.
  EXPECT_EQ(ParseRtpg(Hex("00 00 00 0c  00 00 00 01 00 00 00 00  00 00 00 00")).error().code,
            ParseErrc::kLengthOverflow);
  // Length larger than any buffer: truncated, re-issue length 0xffffffff + 4.
  auto huge = ParseRtpg(Hex("ff ff ff ff 10 00 00 00"));
  ASSERT_TRUE(huge);
  EXPECT_TRUE(huge->truncated);
  EXPECT_EQ(huge->required_allocation_length, 0x100000003ULL);
}

TEST(RtpgData, ZeroGroupsAndPaddingPastTheLength) {
  auto empty = ParseRtpg(Hex("00 00 00 00"));
  ASSERT_TRUE(empty);
  EXPECT_FALSE(empty->truncated);
  EXPECT_TRUE(empty->groups.empty());
  // Extended header only, then padding (a target filling the allocation).
  auto padded = ParseRtpg(Hex("00 00 00 04 10 05 00 00 ff ff ff ff ff ff ff ff"));
  ASSERT_TRUE(padded);
  EXPECT_EQ(padded->format, RtpgFormat::kExtended);
  EXPECT_EQ(padded->implicit_transition_time, 5);
  EXPECT_TRUE(padded->groups.empty());
}

RtpgData TwoGroups() {
  RtpgData d;
  d.implicit_transition_time = 10;
  TargetPortGroupDescriptor g1;
  g1.pref = true;
  g1.state = AccessStateField::From(AsymmetricAccessState::kActiveOptimized);
  g1.supported = SupportedStates::FromByte(0xcf);
  g1.target_port_group = 1;
  g1.status_code = 2;
  g1.relative_target_ports = {1, 2};
  TargetPortGroupDescriptor g2;
  g2.state = AccessStateField::From(AsymmetricAccessState::kActiveNonOptimized);
  g2.supported = SupportedStates::FromByte(0x0f);
  g2.target_port_group = 2;
  g2.status_code = 1;
  g2.relative_target_ports = {3, 4};
  d.groups = {g1, g2};
  return d;
}

TEST(RtpgEncode, MatchesHandWrittenExtendedBytes) {
  std::vector<std::byte> out(64);
  const auto n = EncodeRtpg(TwoGroups(), RtpgFormat::kExtended, out);
  ASSERT_EQ(n, 40U);
  out.resize(n);
  EXPECT_EQ(ToHex(out), ToHex(Hex(kExtendedTwoGroups)));
}

TEST(RtpgEncode, LengthOnlyAndTruncatedToAllocation) {
  RtpgData d;
  TargetPortGroupDescriptor g;
  g.pref = true;
  g.supported = SupportedStates::FromByte(0x0f);
  g.target_port_group = 1;
  g.relative_target_ports = {1};
  d.groups.push_back(g);
  g.target_port_group = 2;
  g.relative_target_ports = {2};
  d.groups.push_back(g);
  std::vector<std::byte> out(28);
  ASSERT_EQ(EncodeRtpg(d, RtpgFormat::kLengthOnly, out), 28U);
  EXPECT_EQ(ToHex(out), ToHex(Hex(kLengthOnlyIstgt)));

  // Allocation length 10: the first 10 bytes, full length still reported.
  std::vector<std::byte> small(10);
  EXPECT_EQ(EncodeRtpg(TwoGroups(), RtpgFormat::kExtended, small), 40U);
  EXPECT_EQ(ToHex(small), "00 00 00 24 10 0a 00 00 80 cf");
}

TEST(Alua, StateNamesAndSupportedBits) {
  // SPC-4 6.36 table 167: every defined value has a name, 5..D are reserved.
  for (std::uint8_t v = 0; v < 16; ++v) {
    const auto f = AccessStateField::FromNibble(v);
    EXPECT_EQ(f.reserved(), v >= 5 && v <= 0xd) << int{v};
    EXPECT_EQ(f.state().has_value(), !f.reserved());
    if (f.reserved()) {
      EXPECT_STREQ(AccessStateName(f), "Reserved");
    }
  }
  EXPECT_STREQ(AccessStateName(AsymmetricAccessState::kActiveNonOptimized), "Active/Non-optimized");
  EXPECT_EQ(AccessStateField::FromNibble(0xf1).raw, 1);  // only the low nibble
  // Table 166 byte 1: bit 5 is reserved and dropped.
  const auto all = SupportedStates::FromByte(0xff);
  EXPECT_EQ(all.ToByte(), 0xdf);
  const auto ao_only = SupportedStates::FromByte(0x01);
  EXPECT_TRUE(ao_only.Supports(AsymmetricAccessState::kActiveOptimized));
  EXPECT_FALSE(ao_only.Supports(AsymmetricAccessState::kStandby));
  EXPECT_TRUE(ao_only.With(SupportedStates::kSSup).Supports(AsymmetricAccessState::kStandby));
  EXPECT_TRUE(
      SupportedStates::FromByte(0x10).Supports(AsymmetricAccessState::kLogicalBlockDependent));
}

// ---- properties -------------------------------------------------------------

RtpgData GenRtpg() {
  RtpgData d;
  const auto groups = *rc::gen::inRange<std::size_t>(0, 5);
  for (std::size_t i = 0; i < groups; ++i) {
    TargetPortGroupDescriptor g;
    g.pref = *rc::gen::arbitrary<bool>();
    g.state = AccessStateField::FromNibble(*rc::gen::inRange<std::uint8_t>(0, 16));
    g.supported = SupportedStates::FromByte(*rc::gen::arbitrary<std::uint8_t>());
    g.target_port_group = *rc::gen::arbitrary<std::uint16_t>();
    g.status_code = *rc::gen::arbitrary<std::uint8_t>();
    g.relative_target_ports = *rc::gen::container<std::vector<std::uint16_t>>(
        *rc::gen::inRange<std::size_t>(0, 6), rc::gen::arbitrary<std::uint16_t>());
    g.target_port_count = static_cast<std::uint8_t>(g.relative_target_ports.size());
    d.groups.push_back(g);
  }
  return d;
}

RC_GTEST_PROP(RtpgProperty, EncodeThenParseRoundTrips, ()) {
  RtpgData d = GenRtpg();
  const bool extended = *rc::gen::arbitrary<bool>();
  const auto format = extended ? RtpgFormat::kExtended : RtpgFormat::kLengthOnly;
  d.format = format;
  if (extended) d.implicit_transition_time = *rc::gen::arbitrary<std::uint8_t>();
  std::vector<std::byte> buf(RtpgEncodedLength(d, format));
  RC_ASSERT(EncodeRtpg(d, format, buf) == buf.size());
  auto r = ParseRtpg(buf);
  RC_ASSERT(r.has_value());
  d.return_data_length = static_cast<std::uint32_t>(buf.size() - 4);
  d.required_allocation_length = buf.size();
  // A length-only answer with no groups has no byte 4 to tell the format.
  if (d.groups.empty() && !extended) d.format = RtpgFormat::kLengthOnly;
  RC_ASSERT(*r == d);
}

RC_GTEST_PROP(RtpgProperty, EveryPrefixIsTruncatedWithWholeGroupsOnly, ()) {
  RtpgData d = GenRtpg();
  const auto format = *rc::gen::element(RtpgFormat::kExtended, RtpgFormat::kLengthOnly);
  std::vector<std::byte> buf(RtpgEncodedLength(d, format));
  (void)EncodeRtpg(d, format, buf);
  const auto cut = *rc::gen::inRange<std::size_t>(4, buf.size() + 1);
  auto r = ParseRtpg(std::span(buf).first(cut));
  RC_ASSERT(r.has_value());
  RC_ASSERT(r->truncated == (cut < buf.size()));
  RC_ASSERT(r->required_allocation_length == buf.size());
  RC_ASSERT(r->groups.size() <= d.groups.size());
  for (std::size_t i = 0; i < r->groups.size(); ++i) {
    RC_ASSERT(r->groups[i] == d.groups[i]);
  }
}

RC_GTEST_PROP(RtpgProperty, ArbitraryBytesNeverCrash, (const std::vector<std::uint8_t>& raw)) {
  std::vector<std::byte> bytes(raw.size());
  for (std::size_t i = 0; i < raw.size(); ++i) bytes[i] = std::byte{raw[i]};
  auto r = ParseRtpg(bytes);
  if (r) {
    RC_ASSERT(r->truncated == (r->required_allocation_length > bytes.size()));
    for (const auto& g : r->groups)
      RC_ASSERT(g.relative_target_ports.size() == g.target_port_count);
  }
  (void)ParseRtpgCdb(bytes);
}

}  // namespace
}  // namespace openmpio::scsi

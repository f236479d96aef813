// Sense data codec: hand-worked vectors from SPC-4 4.5 (fixed format table
// 53, descriptor format table 26, information descriptor table 27, sense key
// specific descriptor table 29), every malformed kind, encoder bytes, and
// rapidcheck properties.
#include "scsi/sense.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "byte_vectors.h"
#include "hex.h"

namespace openmpio::scsi {
namespace {

using openmpio::testing::FromU8;
using openmpio::testing::Hex;
using openmpio::testing::ToHex;

ParseErrc ErrcOf(const std::vector<std::byte>& b) {
  auto r = ParseSense(b);
  EXPECT_FALSE(r.has_value()) << ToHex(b);
  return r.has_value() ? ParseErrc::kUnsupported : r.error().code;
}

// ---- fixed format (SPC-4 4.5.3, table 53) -----------------------------------

TEST(SenseFixed, NotReadyStandbyFromAluaTable) {
  // 0x70 current fixed; byte 2 key 2 NOT READY; byte 7 additional length 10
  // (18 bytes); ASC/ASCQ 04/0B "target port in standby state".
  const auto b = Hex("70 00 02 00 00 00 00 0a  00 00 00 00 04 0b 00 00 00 00");
  auto s = ParseSense(b);
  ASSERT_TRUE(s.has_value());
  EXPECT_TRUE(s->current);
  EXPECT_FALSE(s->descriptor_format);
  EXPECT_EQ(s->key, SenseKey::kNotReady);
  EXPECT_EQ(s->asc, 0x04);
  EXPECT_EQ(s->ascq, 0x0B);
  EXPECT_TRUE(s->Is(SenseKey::kNotReady, asc::kAluaStandby));
  EXPECT_FALSE(s->information.has_value());
  EXPECT_EQ(s->additional_length, 10);
  EXPECT_EQ(s->claimed_length, 18u);
  EXPECT_FALSE(s->truncated);
  EXPECT_FALSE(s->filemark || s->eom || s->ili);
  ASSERT_TRUE(s->sense_key_specific.has_value());
  EXPECT_EQ((*s->sense_key_specific)[0], 0);
}

TEST(SenseFixed, DeferredMediumErrorWithValidInformationAndSks) {
  // 0xF1 = VALID (bit 7) | 0x71 deferred; key 3 MEDIUM ERROR; INFORMATION
  // bytes 3..6 = 0x00010203; ASC 11/00; bytes 15..17 = SKSV|... 80 00 05.
  const auto b = Hex("f1 00 03 00 01 02 03 0a  00 00 00 00 11 00 00 80 00 05");
  auto s = ParseSense(b);
  ASSERT_TRUE(s.has_value());
  EXPECT_FALSE(s->current);
  EXPECT_FALSE(s->descriptor_format);
  EXPECT_EQ(s->key, SenseKey::kMediumError);
  ASSERT_TRUE(s->information.has_value());
  EXPECT_EQ(*s->information, 0x00010203u);
  EXPECT_EQ(s->asc, 0x11);
  EXPECT_EQ(s->ascq, 0x00);
  ASSERT_TRUE(s->sense_key_specific.has_value());
  EXPECT_EQ((*s->sense_key_specific)[0], 0x80);
  EXPECT_EQ((*s->sense_key_specific)[2], 0x05);
}

TEST(SenseFixed, InformationIgnoredWithoutValidBit) {
  // Same bytes 3..6 as above but byte 0 = 0x70: INFORMATION is not valid.
  const auto b = Hex("70 00 03 00 01 02 03 0a  00 00 00 00 11 00 00 00 00 00");
  auto s = ParseSense(b);
  ASSERT_TRUE(s.has_value());
  EXPECT_FALSE(s->information.has_value());
}

TEST(SenseFixed, FilemarkEomIliBits) {
  // Byte 2 = 0xE5: FILEMARK (7), EOM (6), ILI (5), key 5 ILLEGAL REQUEST.
  const auto b = Hex("70 00 e5 00 00 00 00 0a  00 00 00 00 24 00 00 00 00 00");
  auto s = ParseSense(b);
  ASSERT_TRUE(s.has_value());
  EXPECT_TRUE(s->filemark);
  EXPECT_TRUE(s->eom);
  EXPECT_TRUE(s->ili);
  EXPECT_EQ(s->key, SenseKey::kIllegalRequest);
  EXPECT_EQ(s->code(), asc::kInvalidFieldInCdb);
}

TEST(SenseFixed, ShortAdditionalLengthMeansAscAbsent) {
  // SPC-4 4.5.3: ADDITIONAL SENSE LENGTH 0 -> 8 bytes, no ASC/ASCQ: 0/0.
  auto s = ParseSense(Hex("70 00 06 00 00 00 00 00"));
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->key, SenseKey::kUnitAttention);
  EXPECT_EQ(s->code(), asc::kNoAdditionalSense);
  EXPECT_EQ(s->claimed_length, 8u);
  EXPECT_FALSE(s->truncated);
  EXPECT_FALSE(s->sense_key_specific.has_value());
}

TEST(SenseFixed, AdditionalLengthFiveHasAscButNoAscq) {
  // Additional length 5 -> 13 bytes: ASC (byte 12) present, ASCQ absent.
  auto s = ParseSense(Hex("70 00 02 00 00 00 00 05  00 00 00 00 04"));
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->asc, 0x04);
  EXPECT_EQ(s->ascq, 0x00);
}

TEST(SenseFixed, BytesBeyondClaimedLengthAreNotSenseData) {
  // 18 bytes in the buffer but additional length 0: bytes 8.. are not sense
  // data (our documented rule), so ASC/ASCQ read as absent, not 04/0B.
  auto s = ParseSense(Hex("70 00 02 00 00 00 00 00  00 00 00 00 04 0b 00 00 00 00"));
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->code(), asc::kNoAdditionalSense);
  EXPECT_FALSE(s->sense_key_specific.has_value());
}

TEST(SenseFixed, TruncatedAfterAscqIsReportedNotFailed) {
  // Claims 18 bytes; the buffer (e.g. a 14-byte sense area) holds 14.
  auto s = ParseSense(Hex("70 00 02 00 00 00 00 0a  00 00 00 00 04 0a"));
  ASSERT_TRUE(s.has_value());
  EXPECT_TRUE(s->truncated);
  EXPECT_EQ(s->claimed_length, 18u);
  EXPECT_TRUE(s->Is(SenseKey::kNotReady, asc::kAluaTransition));
  EXPECT_FALSE(s->sense_key_specific.has_value());
}

TEST(SenseFixed, TruncatedBeforeAscOrAscqIsTooShort) {
  // Claims 18; the buffer stops at 13 bytes (ASCQ cut) and at 12 (ASC cut).
  EXPECT_EQ(ErrcOf(Hex("70 00 02 00 00 00 00 0a  00 00 00 00 04")), ParseErrc::kTooShort);
  EXPECT_EQ(ErrcOf(Hex("70 00 02 00 00 00 00 0a  00 00 00 00")), ParseErrc::kTooShort);
}

// ---- descriptor format (SPC-4 4.5.2, table 26) -----------------------------

TEST(SenseDescriptor, UnitAttentionAluaStateChangedNoDescriptors) {
  // 0x72 current; byte 1 key 6; ASC/ASCQ 2A/06; additional length 0.
  auto s = ParseSense(Hex("72 06 2a 06 00 00 00 00"));
  ASSERT_TRUE(s.has_value());
  EXPECT_TRUE(s->current);
  EXPECT_TRUE(s->descriptor_format);
  EXPECT_TRUE(s->Is(SenseKey::kUnitAttention, asc::kAluaStateChanged));
  EXPECT_FALSE(s->information.has_value());
  EXPECT_EQ(s->claimed_length, 8u);
}

TEST(SenseDescriptor, DeferredWithInformationDescriptor) {
  // 0x73 deferred; MEDIUM ERROR 11/00; additional length 12: one information
  // descriptor (table 27): type 00, length 0A, VALID (byte 2 bit 7),
  // reserved, INFORMATION (8 bytes) = 0x12345678.
  const auto b = Hex("73 03 11 00 00 00 00 0c  00 0a 80 00 00 00 00 00 12 34 56 78");
  auto s = ParseSense(b);
  ASSERT_TRUE(s.has_value());
  EXPECT_FALSE(s->current);
  EXPECT_TRUE(s->descriptor_format);
  EXPECT_EQ(s->key, SenseKey::kMediumError);
  ASSERT_TRUE(s->information.has_value());
  EXPECT_EQ(*s->information, 0x12345678u);
}

TEST(SenseDescriptor, InformationDescriptorWithoutValidIsIgnored) {
  auto s = ParseSense(Hex("72 03 11 00 00 00 00 0c  00 0a 00 00 00 00 00 00 12 34 56 78"));
  ASSERT_TRUE(s.has_value());
  EXPECT_FALSE(s->information.has_value());
}

TEST(SenseDescriptor, UnknownDescriptorSkippedAndSenseKeySpecificRead) {
  // A vendor descriptor (type 0x80, 2 bytes), then sense key specific
  // (table 29: type 02, length 06, bytes 4..6 = c0 00 01: SKSV|C/D, field 1).
  auto s = ParseSense(Hex("72 05 24 00 00 00 00 0c  80 02 aa bb  02 06 00 00 c0 00 01 00"));
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->code(), asc::kInvalidFieldInCdb);
  ASSERT_TRUE(s->sense_key_specific.has_value());
  EXPECT_EQ((*s->sense_key_specific)[0], 0xc0);
  EXPECT_EQ((*s->sense_key_specific)[2], 0x01);
}

TEST(SenseDescriptor, DescriptorLongerThanAdditionalLengthOverflows) {
  // Additional length 4, but the information descriptor claims 2 + 10 bytes.
  EXPECT_EQ(ErrcOf(Hex("72 05 24 00 00 00 00 04  00 0a 80 00")), ParseErrc::kLengthOverflow);
  // Additional length 1: not even a descriptor header fits.
  EXPECT_EQ(ErrcOf(Hex("72 05 24 00 00 00 00 01  00")), ParseErrc::kLengthOverflow);
}

TEST(SenseDescriptor, BufferCutInsideAClaimedDescriptorIsTruncation) {
  // Claims 20 bytes; the buffer ends inside the information descriptor. The
  // header (key/ASC/ASCQ) is still good: truncated, no information.
  auto s = ParseSense(Hex("72 06 2a 06 00 00 00 0c  00 0a 80 00 00 00"));
  ASSERT_TRUE(s.has_value());
  EXPECT_TRUE(s->truncated);
  EXPECT_EQ(s->claimed_length, 20u);
  EXPECT_TRUE(s->Is(SenseKey::kUnitAttention, asc::kAluaStateChanged));
  EXPECT_FALSE(s->information.has_value());
}

TEST(SenseDescriptor, WrongLengthInformationDescriptorIsInconsistent) {
  EXPECT_EQ(ErrcOf(Hex("72 03 11 00 00 00 00 0a  00 08 80 00 00 00 00 00 00 01")),
            ParseErrc::kInconsistent);
  EXPECT_EQ(ErrcOf(Hex("72 05 24 00 00 00 00 06  02 04 00 00 c0 00")), ParseErrc::kInconsistent);
}

// ---- malformed headers ------------------------------------------------------

TEST(SenseMalformed, Empty) {
  EXPECT_EQ(ErrcOf({}), ParseErrc::kEmpty);
}

TEST(SenseMalformed, ReservedAndVendorResponseCodes) {
  // SPC-4 4.5.1 table 25: only 0x70..0x73 are sense formats we decode;
  // 0x00..0x6F reserved, 0x74..0x7E reserved, 0x7F vendor specific.
  for (const char* b0 : {"00", "6f", "74", "7e", "7f", "ff", "80"}) {
    const auto b = Hex(std::string(b0) + " 00 02 00 00 00 00 0a 00 00 00 00 04 0b 00 00 00 00");
    EXPECT_EQ(ErrcOf(b), ParseErrc::kBadResponseCode) << b0;
  }
}

TEST(SenseMalformed, ShorterThanHeader) {
  EXPECT_EQ(ErrcOf(Hex("70")), ParseErrc::kTooShort);
  EXPECT_EQ(ErrcOf(Hex("70 00 02 00 00 00 00")), ParseErrc::kTooShort);
  EXPECT_EQ(ErrcOf(Hex("72 06 2a 06")), ParseErrc::kTooShort);
}

// ---- encoders -----------------------------------------------------------------

TEST(SenseBuild, FixedTransitioning) {
  std::array<std::byte, 32> out{};
  const std::size_t n =
      BuildFixedSense({SenseKey::kNotReady, asc::kAluaTransition, {}, false}, out);
  ASSERT_EQ(n, 18u);
  EXPECT_EQ(ToHex(std::span(out).first(n)),
            ToHex(Hex("70 00 02 00 00 00 00 0a  00 00 00 00 04 0a 00 00 00 00")));
}

TEST(SenseBuild, FixedDeferredWithInformation) {
  std::array<std::byte, 18> out{};
  ASSERT_EQ(BuildFixedSense({SenseKey::kMediumError, {0x11, 0x00}, 0x1234, true}, out), 18u);
  EXPECT_EQ(ToHex(out), ToHex(Hex("f1 00 03 00 00 12 34 0a  00 00 00 00 11 00 00 00 00 00")));
}

TEST(SenseBuild, FixedInformationTooWideIsSentInvalid) {
  std::array<std::byte, 18> out{};
  ASSERT_EQ(BuildFixedSense({SenseKey::kMediumError, {0x11, 0x00}, 0x100000000ULL, false}, out),
            18u);
  EXPECT_EQ(ToHex(out), ToHex(Hex("70 00 03 00 00 00 00 0a  00 00 00 00 11 00 00 00 00 00")));
}

TEST(SenseBuild, FixedTruncatesToOutputAndReportsFullLength) {
  std::array<std::byte, 8> out{};
  EXPECT_EQ(BuildFixedSense({SenseKey::kUnitAttention, asc::kAluaStateChanged, {}, false}, out),
            18u);
  EXPECT_EQ(ToHex(out), "70 00 06 00 00 00 00 0a");
  EXPECT_EQ(BuildFixedSense({}, MutableBytes{}), 18u);
}

TEST(SenseBuild, DescriptorPlain) {
  std::array<std::byte, 32> out{};
  const std::size_t n =
      BuildDescriptorSense({SenseKey::kUnitAttention, asc::kAluaStateChanged, {}, false}, out);
  ASSERT_EQ(n, 8u);
  EXPECT_EQ(ToHex(std::span(out).first(n)), "72 06 2a 06 00 00 00 00");
}

TEST(SenseBuild, DescriptorDeferredWithInformation) {
  std::array<std::byte, 20> out{};
  ASSERT_EQ(BuildDescriptorSense(
                {SenseKey::kMediumError, {0x11, 0x00}, 0x0102030405060708ULL, true}, out),
            20u);
  EXPECT_EQ(ToHex(out), ToHex(Hex("73 03 11 00 00 00 00 0c  00 0a 80 00 01 02 03 04 05 06 07 08")));
}

TEST(SenseKeys, AllSixteenNamedDistinctly) {
  std::set<std::string> names;
  for (unsigned k = 0; k < 16; ++k) names.insert(SenseKeyName(static_cast<SenseKey>(k)));
  EXPECT_EQ(names.size(), 16u);
  EXPECT_STREQ(SenseKeyName(SenseKey::kUnitAttention), "UNIT ATTENTION");
  EXPECT_EQ(static_cast<unsigned>(SenseKey::kAbortedCommand), 0xBu);
  EXPECT_EQ(static_cast<unsigned>(SenseKey::kCompleted), 0xFu);
}

TEST(SenseKeys, AluaPairsMatchSpecTable) {
  // spec/scsi-alua.md "Sense data that matters to a multipath engine".
  EXPECT_EQ(asc::kAluaTransition, (AscAscq{0x04, 0x0A}));
  EXPECT_EQ(asc::kAluaStandby, (AscAscq{0x04, 0x0B}));
  EXPECT_EQ(asc::kAluaUnavailable, (AscAscq{0x04, 0x0C}));
  EXPECT_EQ(asc::kLogicalUnitOffline, (AscAscq{0x04, 0x12}));
  EXPECT_EQ(asc::kAluaStateChanged, (AscAscq{0x2A, 0x06}));
  EXPECT_EQ(asc::kImplicitAluaTransitionFailed, (AscAscq{0x2A, 0x07}));
  EXPECT_EQ(asc::kCapacityDataChanged, (AscAscq{0x2A, 0x09}));
  EXPECT_EQ(asc::kInquiryDataChanged, (AscAscq{0x3F, 0x03}));
  EXPECT_EQ(asc::kReportedLunsDataChanged, (AscAscq{0x3F, 0x0E}));
  EXPECT_EQ(asc::kBusDeviceResetOccurred, (AscAscq{0x29, 0x03}));
  EXPECT_EQ(asc::kLogicalUnitNotSupported, (AscAscq{0x25, 0x00}));
  EXPECT_EQ(asc::kInvalidCommandOpcode, (AscAscq{0x20, 0x00}));
  EXPECT_EQ(asc::kInvalidFieldInCdb, (AscAscq{0x24, 0x00}));
  EXPECT_EQ(asc::kInvalidFieldInParameterList, (AscAscq{0x26, 0x00}));
  EXPECT_EQ(asc::kBecomingReady, (AscAscq{0x04, 0x01}));
  EXPECT_TRUE(asc::IsResetFamily({0x29, 0x07}));
  EXPECT_FALSE(asc::IsResetFamily(asc::kAluaStateChanged));
}

// ---- properties ---------------------------------------------------------------

RC_GTEST_PROP(SenseProperty, FixedRoundTrip,
              (std::uint8_t key, std::uint8_t asc_v, std::uint8_t ascq_v, bool deferred,
               bool has_info, std::uint32_t info)) {
  SenseSpec spec{static_cast<SenseKey>(key & 0x0F), {asc_v, ascq_v}, {}, deferred};
  if (has_info) spec.information = info;
  std::array<std::byte, kFixedSenseLength> out{};
  RC_ASSERT(BuildFixedSense(spec, out) == kFixedSenseLength);
  auto s = ParseSense(out);
  RC_ASSERT(s.has_value());
  RC_ASSERT(!s->descriptor_format);
  RC_ASSERT(s->current == !deferred);
  RC_ASSERT(s->key == spec.key);
  RC_ASSERT(s->code() == spec.code);
  RC_ASSERT(s->information == spec.information);
  RC_ASSERT(!s->truncated);
}

RC_GTEST_PROP(SenseProperty, DescriptorRoundTrip,
              (std::uint8_t key, std::uint8_t asc_v, std::uint8_t ascq_v, bool deferred,
               bool has_info, std::uint64_t info)) {
  SenseSpec spec{static_cast<SenseKey>(key & 0x0F), {asc_v, ascq_v}, {}, deferred};
  if (has_info) spec.information = info;
  std::array<std::byte, 64> out{};
  const std::size_t n = BuildDescriptorSense(spec, out);
  RC_ASSERT(n == (has_info ? 20u : 8u));
  auto s = ParseSense(std::span(out).first(n));
  RC_ASSERT(s.has_value());
  RC_ASSERT(s->descriptor_format);
  RC_ASSERT(s->current == !deferred);
  RC_ASSERT(s->key == spec.key);
  RC_ASSERT(s->code() == spec.code);
  RC_ASSERT(s->information == spec.information);
}

RC_GTEST_PROP(SenseProperty, ArbitraryBytesNeverCrashAndClaimIsConsistent,
              (std::vector<std::uint8_t> raw, std::uint8_t response_code)) {
  // Half the time force a valid response code so the walk itself is fuzzed.
  if (!raw.empty() && (response_code & 1) != 0) {
    raw[0] = static_cast<std::uint8_t>(0x70 + ((response_code >> 1) & 3));
  }
  const auto b = FromU8(raw);
  auto s = ParseSense(b);
  if (s.has_value()) {
    RC_ASSERT(b.size() >= 8u);
    RC_ASSERT(s->claimed_length == 8u + raw[7]);
    RC_ASSERT(s->truncated == (b.size() < s->claimed_length));
  }
}

}  // namespace
}  // namespace openmpio::scsi

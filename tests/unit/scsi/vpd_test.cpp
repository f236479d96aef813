// VPD pages: header (SPC-4 7.8.1), 0x00 (7.8.16), 0x80 (7.8.18), 0x83
// (7.8.6), 0xB0 (SBC-3 6.6.4), 0xB2 (SBC-3 6.6.6). Hand-worked vectors,
// malformed pages, encoder bytes and rapidcheck properties.
#include "scsi/vpd.h"

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

template <typename F>
std::vector<std::byte> Encoded(F&& encode) {
  std::vector<std::byte> out(70000);
  const std::size_t n = encode(MutableBytes{out});
  out.resize(n);
  return out;
}

// ---- header -------------------------------------------------------------------

TEST(VpdHeader, ClaimedLengthAndTruncation) {
  // Page 83h, PAGE LENGTH 0x0020: 36 bytes claimed, 4 present.
  auto h = ParseVpdHeader(Hex("00 83 00 20"), vpd::kDeviceIdentification);
  ASSERT_TRUE(h.has_value());
  EXPECT_EQ(h->page_code, 0x83);
  EXPECT_EQ(h->page_length, 0x20);
  EXPECT_EQ(h->claimed_length, 36u);
  EXPECT_TRUE(h->truncated);
  // Byte 0 = 0x7F: qualifier 3, type 1Fh.
  auto q = ParseVpdHeader(Hex("7f 00 00 00"), vpd::kSupportedPages);
  ASSERT_TRUE(q.has_value());
  EXPECT_EQ(q->peripheral_qualifier, 3);
  EXPECT_EQ(q->peripheral_device_type, 0x1f);
  EXPECT_FALSE(q->truncated);
}

TEST(VpdHeader, Malformed) {
  EXPECT_EQ(ParseVpdHeader({}, 0x83).error().code, ParseErrc::kEmpty);
  EXPECT_EQ(ParseVpdHeader(Hex("00 83 00"), 0x83).error().code, ParseErrc::kTooShort);
  // Answer for another page than the one asked for.
  EXPECT_EQ(ParseVpdHeader(Hex("00 80 00 00"), 0x83).error().code, ParseErrc::kBadResponseCode);
}

TEST(VpdHeader, EveryPageParserRejectsTruncationWithClaimAvailable) {
  // PAGE LENGTH says more than the buffer holds: each page parser fails with
  // kLengthOverflow; the header still gives the size to re-issue with.
  for (const std::uint8_t page :
       {vpd::kSupportedPages, vpd::kUnitSerialNumber, vpd::kDeviceIdentification, vpd::kBlockLimits,
        vpd::kLogicalBlockProvisioning}) {
    std::vector<std::byte> b = Hex("00 00 00 3c 00 00 00 00");
    b[1] = std::byte{page};
    ParseErrc got{};
    switch (page) {
      case vpd::kSupportedPages:
        got = ParseSupportedVpdPages(b).error().code;
        break;
      case vpd::kUnitSerialNumber:
        got = ParseUnitSerialNumber(b).error().code;
        break;
      case vpd::kDeviceIdentification:
        got = ParseDeviceIdentification(b).error().code;
        break;
      case vpd::kBlockLimits:
        got = ParseBlockLimits(b).error().code;
        break;
      default:
        got = ParseLogicalBlockProvisioning(b).error().code;
        break;
    }
    EXPECT_EQ(got, ParseErrc::kLengthOverflow) << int{page};
    EXPECT_EQ(ParseVpdHeader(b, page)->claimed_length, 64u);
  }
}

// ---- 0x00 -----------------------------------------------------------------------

TEST(SupportedVpdPagesTest, Parse) {
  // SPC-4 table 498: page list from byte 4.
  auto p = ParseSupportedVpdPages(Hex("00 00 00 05  00 80 83 b0 b2"));
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->pages, (std::vector<std::uint8_t>{0x00, 0x80, 0x83, 0xb0, 0xb2}));
  EXPECT_TRUE(p->Supports(0xb2));
  EXPECT_FALSE(p->Supports(0xb1));
  // Bytes beyond the page length are ignored.
  auto q = ParseSupportedVpdPages(Hex("00 00 00 01  00 80 83"));
  ASSERT_TRUE(q.has_value());
  EXPECT_EQ(q->pages.size(), 1u);
  EXPECT_EQ(ParseSupportedVpdPages(Hex("00 83 00 00")).error().code, ParseErrc::kBadResponseCode);
}

TEST(SupportedVpdPagesTest, Encode) {
  SupportedVpdPages p;
  p.pages = {0x00, 0x80, 0x83, 0xb0, 0xb2};
  EXPECT_EQ(ToHex(Encoded([&](MutableBytes o) { return EncodeSupportedVpdPages(p, o); })),
            "00 00 00 05 00 80 83 b0 b2");
}

// ---- 0x80 -----------------------------------------------------------------------

TEST(UnitSerialNumberTest, ParseTrimsPadding) {
  // "  1234 \0": right-aligned with a NUL; 8 bytes.
  auto p = ParseUnitSerialNumber(Hex("00 80 00 08  20 20 31 32 33 34 20 00"));
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->serial, "1234");
  auto empty = ParseUnitSerialNumber(Hex("00 80 00 00"));
  ASSERT_TRUE(empty.has_value());
  EXPECT_EQ(empty->serial, "");
}

TEST(UnitSerialNumberTest, Encode) {
  UnitSerialNumber p;
  p.serial = "abc";
  EXPECT_EQ(ToHex(Encoded([&](MutableBytes o) { return EncodeUnitSerialNumber(p, o); })),
            "00 80 00 03 61 62 63");
}

// ---- 0x83 -----------------------------------------------------------------------

// A page as an iSCSI target with ALUA answers it (SPC-4 7.8.6.1 table 459
// per descriptor: byte 0 protocol|code set, byte 1 PIV|assoc|type, byte 3
// length). Page length 0x66 = 102 = 20+16+8+8+20+16+6+8.
const char* const kDevId =
    "00 83 00 66"
    // NAA (type 3), LU (assoc 0), binary, 16 bytes: NAA 6 registered extended.
    "01 03 00 10  60 01 40 5a bc de f0 12 34 56 78 9a bc de f0 12"
    // T10 vendor id (type 1), LU, ASCII: "LIO-ORG test".
    "02 01 00 0c  4c 49 4f 2d 4f 52 47 20 74 65 73 74"
    // Relative target port (type 4): iSCSI (5), PIV, assoc 01 -> 0x94; id 1.
    "51 94 00 04  00 00 00 01"
    // Target port group (type 5): 0x95; id 2.
    "51 95 00 04  00 00 00 02"
    // SCSI name string (type 8), target port (0x98), UTF-8: "iqn.t1,t,0x0001\0".
    "53 98 00 10  69 71 6e 2e 74 31 2c 74 2c 30 78 30 30 30 31 00"
    // SCSI name string, target device (assoc 10 -> 0xa8): "iqn.t1" NUL-padded.
    "53 a8 00 0c  69 71 6e 2e 74 31 00 00 00 00 00 00"
    // Unknown (reserved) designator type 0xB, kept raw.
    "01 0b 00 02  ab cd"
    // Logical unit group (type 6), LU: id 7.
    "01 06 00 04  00 00 00 07";

TEST(DeviceIdentificationTest, ParseEveryDesignator) {
  const auto b = Hex(kDevId);
  ASSERT_EQ(b.size(), 106u);
  auto p = ParseDeviceIdentification(b);
  ASSERT_TRUE(p.has_value());
  ASSERT_EQ(p->designators.size(), 8u);

  const Designator& naa = p->designators[0];
  EXPECT_EQ(naa.type, DesignatorType::kNaa);
  EXPECT_EQ(naa.association, Association::kLogicalUnit);
  EXPECT_EQ(naa.code_set, CodeSet::kBinary);
  EXPECT_FALSE(naa.piv);
  EXPECT_EQ(naa.value.size(), 16u);

  const Designator& rtp = p->designators[2];
  EXPECT_EQ(rtp.protocol_identifier, 5);
  EXPECT_TRUE(rtp.piv);
  EXPECT_EQ(rtp.association, Association::kTargetPort);
  EXPECT_EQ(rtp.type, DesignatorType::kRelativeTargetPort);

  const Designator& name = p->designators[4];
  EXPECT_EQ(name.code_set, CodeSet::kUtf8);
  EXPECT_EQ(name.type, DesignatorType::kScsiNameString);

  const Designator& unknown = p->designators[6];
  EXPECT_EQ(static_cast<unsigned>(unknown.type), 0xBu);
  EXPECT_EQ(ToHex(unknown.value), "ab cd");

  EXPECT_EQ(*p->relative_target_port().value(), 1);
  EXPECT_EQ(*p->target_port_group().value(), 2);
  EXPECT_EQ(*p->logical_unit_group().value(), 7);

  auto id = ChooseLuIdentity(*p);
  ASSERT_TRUE(id.has_value());
  EXPECT_EQ(id->name, "naa.6001405abcdef0123456789abcdef012");
  EXPECT_EQ(id->designator, naa);

  EXPECT_EQ(p->TargetName(), "iqn.t1");  // target device name beats port name
  ASSERT_NE(p->TargetDeviceDesignator(), nullptr);
  EXPECT_EQ(p->TargetDeviceDesignator(), &p->designators[5]);
}

TEST(DeviceIdentificationTest, IdentityPreferenceOrder) {
  // LU designators in page order T10, SCSI name, EUI-64: EUI-64 wins.
  const char* t10 = "02 01 00 0c  4c 49 4f 2d 4f 52 47 20 74 65 73 74";
  const char* name = "03 08 00 08  69 71 6e 2e 6c 75 00 00";
  const char* eui = "01 02 00 08  00 11 22 33 44 55 66 77";
  auto a = ParseDeviceIdentification(Hex(std::string("00 83 00 28") + t10 + name + eui));
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(ChooseLuIdentity(*a)->name, "eui.0011223344556677");
  // EUI-64 first in page order, then NAA 5: NAA wins over EUI-64.
  const char* naa = "01 03 00 08  50 01 40 5a bc de f0 12";
  auto n = ParseDeviceIdentification(Hex(std::string("00 83 00 34") + eui + t10 + naa + name));
  ASSERT_TRUE(n.has_value());
  EXPECT_EQ(ChooseLuIdentity(*n)->name, "naa.5001405abcdef012");
  // Without EUI-64: the SCSI name string, up to its NUL.
  auto b = ParseDeviceIdentification(Hex(std::string("00 83 00 1c") + t10 + name));
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(ChooseLuIdentity(*b)->name, "iqn.lu");
  // Only T10 vendor id.
  auto c = ParseDeviceIdentification(Hex(std::string("00 83 00 10") + t10));
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(ChooseLuIdentity(*c)->name, "t10.LIO-ORG test");
}

TEST(DeviceIdentificationTest, IdentityIgnoresOtherAssociationsAndZeroDesignators) {
  // NAA of the target port (assoc 01) and an all-zero LU NAA: neither is a
  // disk identity; the T10 id is.
  auto p =
      ParseDeviceIdentification(Hex("00 83 00 28"
                                    "01 13 00 08  50 01 40 5a bc de f0 12"
                                    "01 03 00 08  00 00 00 00 00 00 00 00"
                                    "02 01 00 0c  4c 49 4f 2d 4f 52 47 20 74 65 73 74"));
  ASSERT_TRUE(p.has_value());
  ASSERT_EQ(p->designators.size(), 3u);
  EXPECT_EQ(ChooseLuIdentity(*p)->name, "t10.LIO-ORG test");
  // None at all, and an empty LU NAA.
  auto q = ParseDeviceIdentification(Hex("00 83 00 0c  01 13 00 08 50 01 40 5a bc de f0 12"));
  ASSERT_TRUE(q.has_value());
  EXPECT_FALSE(ChooseLuIdentity(*q).has_value());
  EXPECT_EQ(q->TargetDeviceDesignator(), nullptr);
  EXPECT_FALSE(q->TargetName().has_value());
  auto e = ParseDeviceIdentification(Hex("00 83 00 04  01 03 00 00"));
  ASSERT_TRUE(e.has_value());
  EXPECT_FALSE(ChooseLuIdentity(*e).has_value());
  EXPECT_FALSE(e->relative_target_port().value().has_value());
}

TEST(DeviceIdentificationTest, TargetNameFallsBackToPortName) {
  auto p = ParseDeviceIdentification(
      Hex("00 83 00 14  53 98 00 10  69 71 6e 2e 74 31 2c 74 2c 30 78 30 30 30 31 00"));
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->TargetName(), "iqn.t1,t,0x0001");
}

TEST(DeviceIdentificationMalformed, DesignatorPastPageLength) {
  // Designator claims 16 bytes; the page (length 8) holds 4 of them.
  EXPECT_EQ(ParseDeviceIdentification(Hex("00 83 00 08  01 03 00 10 60 01 40 5a")).error().code,
            ParseErrc::kLengthOverflow);
  // Page length 2: a designator header does not fit.
  EXPECT_EQ(ParseDeviceIdentification(Hex("00 83 00 02  01 03")).error().code,
            ParseErrc::kLengthOverflow);
  // Page length covers the designator, the buffer does not (truncated page).
  const auto dev_id = Hex(kDevId);
  auto r = ParseDeviceIdentification(Bytes{dev_id}.first(40));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ParseErrc::kLengthOverflow);
  EXPECT_EQ(ParseDeviceIdentification({}).error().code, ParseErrc::kEmpty);
}

TEST(DeviceIdentificationMalformed, PortAndGroupDesignatorsOfWrongLength) {
  // Relative target port of 2 bytes: too short.
  auto p = ParseDeviceIdentification(Hex("00 83 00 06  51 94 00 02 00 01"));
  ASSERT_TRUE(p.has_value());  // the page itself is well formed
  EXPECT_EQ(p->relative_target_port().error().code, ParseErrc::kTooShort);
  // Target port group of 6 bytes: too long.
  auto q = ParseDeviceIdentification(Hex("00 83 00 0a  51 95 00 06 00 00 00 02 00 00"));
  ASSERT_TRUE(q.has_value());
  EXPECT_EQ(q->target_port_group().error().code, ParseErrc::kLengthOverflow);
  // Two relative target ports that disagree.
  auto d = ParseDeviceIdentification(
      Hex("00 83 00 10  51 94 00 04 00 00 00 01  51 94 00 04 00 00 00 02"));
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->relative_target_port().error().code, ParseErrc::kInconsistent);
  // An id asked of a designator type that has none.
  Designator naa;
  naa.type = DesignatorType::kNaa;
  naa.value = Hex("00 00 00 01");
  EXPECT_EQ(DesignatorPortOrGroupId(naa).error().code, ParseErrc::kInconsistent);
}

TEST(DeviceIdentificationEncode, Bytes) {
  DeviceIdentification p;
  Designator naa;
  naa.code_set = CodeSet::kBinary;
  naa.association = Association::kLogicalUnit;
  naa.type = DesignatorType::kNaa;
  naa.value = Hex("60 01 40 5a bc de f0 12");
  Designator tpg;
  tpg.protocol_identifier = 5;
  tpg.code_set = CodeSet::kBinary;
  tpg.piv = true;
  tpg.association = Association::kTargetPort;
  tpg.type = DesignatorType::kTargetPortGroup;
  tpg.value = Hex("00 00 00 02");
  p.designators = {naa, tpg};
  EXPECT_EQ(
      ToHex(Encoded([&](MutableBytes o) { return EncodeDeviceIdentification(p, o); })),
      ToHex(Hex("00 83 00 14  01 03 00 08 60 01 40 5a bc de f0 12  51 95 00 04 00 00 00 02")));
  std::array<std::byte, 6> small{};
  EXPECT_EQ(EncodeDeviceIdentification(p, small), 24u);
  EXPECT_EQ(ToHex(small), "00 83 00 14 01 03");
}

// ---- 0xB0 -----------------------------------------------------------------------

// SBC-3 table 182, full page (length 0x3C):
const char* const kBlockLimitsFull =
    "00 b0 00 3c"
    "01 01 00 08"              // WSNZ, MAX COMPARE AND WRITE 1, OTL GRANULARITY 8
    "00 00 10 00"              // MAXIMUM TRANSFER LENGTH 4096
    "00 00 00 80"              // OPTIMAL TRANSFER LENGTH 128
    "00 00 00 00"              // MAXIMUM PREFETCH 0
    "00 40 00 00"              // MAXIMUM UNMAP LBA COUNT 0x400000
    "00 00 00 01"              // MAXIMUM UNMAP BLOCK DESCRIPTOR COUNT 1
    "00 00 00 08"              // OPTIMAL UNMAP GRANULARITY 8
    "80 00 00 01"              // UGAVALID, alignment 1
    "00 00 00 00 00 40 00 00"  // MAXIMUM WRITE SAME LENGTH 0x400000
    "00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00";  // bytes 44..63

TEST(BlockLimitsTest, FullPage) {
  auto p = ParseBlockLimits(Hex(kBlockLimitsFull));
  ASSERT_TRUE(p.has_value());
  EXPECT_TRUE(p->wsnz);
  EXPECT_EQ(p->maximum_compare_and_write_length, 1);
  EXPECT_EQ(p->optimal_transfer_length_granularity, 8);
  EXPECT_EQ(p->maximum_transfer_length, 4096u);
  EXPECT_EQ(p->optimal_transfer_length, 128u);
  EXPECT_EQ(p->maximum_prefetch_length, 0u);
  EXPECT_EQ(p->maximum_unmap_lba_count, 0x400000u);
  EXPECT_EQ(p->maximum_unmap_block_descriptor_count, 1u);
  EXPECT_EQ(p->optimal_unmap_granularity, 8u);
  EXPECT_EQ(p->unmap_granularity_alignment, 1u);
  EXPECT_EQ(p->maximum_write_same_length, 0x400000u);
}

TEST(BlockLimitsTest, ShortSbc2PageHasOnlyTheFirstFields) {
  auto p = ParseBlockLimits(Hex("00 b0 00 0c  00 00 00 01 00 00 ff ff 00 00 00 40"));
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->optimal_transfer_length_granularity, 1);
  EXPECT_EQ(p->maximum_transfer_length, 0xffffu);
  EXPECT_EQ(p->optimal_transfer_length, 0x40u);
  EXPECT_FALSE(p->maximum_prefetch_length.has_value());
  EXPECT_FALSE(p->maximum_unmap_lba_count.has_value());
  EXPECT_FALSE(p->unmap_granularity_alignment.has_value());
  EXPECT_FALSE(p->maximum_write_same_length.has_value());
}

TEST(BlockLimitsTest, IntermediateLengthAndUgavalidClear) {
  // Page length 0x10: prefetch present, unmap fields absent.
  auto p = ParseBlockLimits(Hex("00 b0 00 10  00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 07"));
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->maximum_prefetch_length, 7u);
  EXPECT_FALSE(p->maximum_unmap_lba_count.has_value());
  // Full page with UGAVALID clear: no alignment even though bytes are set.
  auto b = Hex(kBlockLimitsFull);
  b[32] = std::byte{0x00};
  auto q = ParseBlockLimits(b);
  ASSERT_TRUE(q.has_value());
  EXPECT_FALSE(q->unmap_granularity_alignment.has_value());
}

TEST(BlockLimitsTest, Malformed) {
  EXPECT_EQ(ParseBlockLimits(Hex("00 b0 00 08  00 00 00 00 00 00 00 00")).error().code,
            ParseErrc::kTooShort);
  const auto full = Hex(kBlockLimitsFull);
  EXPECT_EQ(ParseBlockLimits(Bytes{full}.first(40)).error().code, ParseErrc::kLengthOverflow);
  EXPECT_EQ(ParseBlockLimits(Hex("00 b2 00 0c  00 00 00 01 00 00 ff ff 00 00 00 40")).error().code,
            ParseErrc::kBadResponseCode);
}

TEST(BlockLimitsTest, EncodeFullAndShort) {
  BlockLimits p;
  p.wsnz = true;
  p.maximum_compare_and_write_length = 1;
  p.optimal_transfer_length_granularity = 8;
  p.maximum_transfer_length = 4096;
  p.optimal_transfer_length = 128;
  p.maximum_prefetch_length = 0;
  p.maximum_unmap_lba_count = 0x400000;
  p.maximum_unmap_block_descriptor_count = 1;
  p.optimal_unmap_granularity = 8;
  p.unmap_granularity_alignment = 1;
  p.maximum_write_same_length = 0x400000;
  EXPECT_EQ(ToHex(Encoded([&](MutableBytes o) { return EncodeBlockLimits(p, o); })),
            ToHex(Hex(kBlockLimitsFull)));
  BlockLimits s;
  s.optimal_transfer_length_granularity = 1;
  s.maximum_transfer_length = 0xffff;
  s.optimal_transfer_length = 0x40;
  EXPECT_EQ(ToHex(Encoded([&](MutableBytes o) { return EncodeBlockLimits(s, o); })),
            "00 b0 00 0c 00 00 00 01 00 00 ff ff 00 00 00 40");
}

// ---- 0xB2 -----------------------------------------------------------------------

TEST(LogicalBlockProvisioningTest, ThinWithUnmap) {
  // SBC-3 table 191: THRESHOLD EXPONENT 0; byte 5 = e4: LBPU, LBPWS,
  // LBPWS10, LBPRZ (bit 2); DP 0; byte 6 PROVISIONING TYPE 010 thin.
  auto p = ParseLogicalBlockProvisioning(Hex("00 b2 00 04  00 e4 02 00"));
  ASSERT_TRUE(p.has_value());
  EXPECT_TRUE(p->lbpu);
  EXPECT_TRUE(p->lbpws);
  EXPECT_TRUE(p->lbpws10);
  EXPECT_EQ(p->lbprz, 1);
  EXPECT_FALSE(p->anc_sup);
  EXPECT_FALSE(p->dp);
  EXPECT_EQ(p->provisioning_type, ProvisioningType::kThin);
  EXPECT_FALSE(p->provisioning_group.has_value());
}

TEST(LogicalBlockProvisioningTest, ProvisioningGroupDescriptor) {
  // Byte 4 threshold exponent 0x0c; byte 5 = 0x83: LBPU, ANC_SUP, DP;
  // resource provisioned; then a designation descriptor at byte 8.
  auto p = ParseLogicalBlockProvisioning(Hex("00 b2 00 0c  0c 83 01 00  01 03 00 04 de ad be ef"));
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->threshold_exponent, 0x0c);
  EXPECT_TRUE(p->anc_sup);
  EXPECT_TRUE(p->dp);
  EXPECT_EQ(p->provisioning_type, ProvisioningType::kResource);
  ASSERT_TRUE(p->provisioning_group.has_value());
  EXPECT_EQ(p->provisioning_group->type, DesignatorType::kNaa);
  EXPECT_EQ(ToHex(p->provisioning_group->value), "de ad be ef");
}

TEST(LogicalBlockProvisioningTest, Malformed) {
  // Reserved provisioning types 3..7.
  EXPECT_EQ(ParseLogicalBlockProvisioning(Hex("00 b2 00 04  00 00 03 00")).error().code,
            ParseErrc::kReservedValue);
  EXPECT_EQ(ParseLogicalBlockProvisioning(Hex("00 b2 00 04  00 00 07 00")).error().code,
            ParseErrc::kReservedValue);
  // Page length below 4.
  EXPECT_EQ(ParseLogicalBlockProvisioning(Hex("00 b2 00 02  00 00")).error().code,
            ParseErrc::kTooShort);
  // DP set, no room for a descriptor.
  EXPECT_EQ(ParseLogicalBlockProvisioning(Hex("00 b2 00 04  00 01 00 00")).error().code,
            ParseErrc::kLengthOverflow);
  // DP set, descriptor length past the page.
  EXPECT_EQ(ParseLogicalBlockProvisioning(Hex("00 b2 00 0a  00 01 00 00  01 03 00 08 de ad"))
                .error()
                .code,
            ParseErrc::kLengthOverflow);
}

TEST(LogicalBlockProvisioningTest, Encode) {
  LogicalBlockProvisioning p;
  p.lbpu = p.lbpws = p.lbpws10 = true;
  p.lbprz = 1;
  p.provisioning_type = ProvisioningType::kThin;
  EXPECT_EQ(ToHex(Encoded([&](MutableBytes o) { return EncodeLogicalBlockProvisioning(p, o); })),
            "00 b2 00 04 00 e4 02 00");
  p.dp = true;  // DP follows provisioning_group, not this flag
  EXPECT_EQ(ToHex(Encoded([&](MutableBytes o) { return EncodeLogicalBlockProvisioning(p, o); })),
            "00 b2 00 04 00 e4 02 00");
  Designator g;
  g.type = DesignatorType::kNaa;
  g.value = Hex("de ad be ef");
  p.provisioning_group = g;
  EXPECT_EQ(ToHex(Encoded([&](MutableBytes o) { return EncodeLogicalBlockProvisioning(p, o); })),
            "00 b2 00 0c 00 e5 02 00 01 03 00 04 de ad be ef");
}

// ---- properties -----------------------------------------------------------------

Designator ArbitraryDesignator() {
  Designator d;
  d.protocol_identifier = *rc::gen::inRange<std::uint8_t>(0, 16);
  d.code_set = static_cast<CodeSet>(*rc::gen::inRange<std::uint8_t>(0, 16));
  d.piv = *rc::gen::arbitrary<bool>();
  d.association = static_cast<Association>(*rc::gen::inRange<std::uint8_t>(0, 4));
  d.type = static_cast<DesignatorType>(*rc::gen::inRange<std::uint8_t>(0, 16));
  const auto len = *rc::gen::inRange<std::size_t>(0, 40);
  for (std::size_t i = 0; i < len; ++i)
    d.value.push_back(std::byte{*rc::gen::arbitrary<std::uint8_t>()});
  return d;
}

RC_GTEST_PROP(VpdProperty, DeviceIdentificationRoundTrip, ()) {
  DeviceIdentification in;
  const auto n = *rc::gen::inRange<std::size_t>(0, 12);
  for (std::size_t i = 0; i < n; ++i) in.designators.push_back(ArbitraryDesignator());
  const auto bytes = Encoded([&](MutableBytes o) { return EncodeDeviceIdentification(in, o); });
  auto out = ParseDeviceIdentification(bytes);
  RC_ASSERT(out.has_value());
  RC_ASSERT(out->designators == in.designators);
  RC_ASSERT(out->header.claimed_length == bytes.size());
}

RC_GTEST_PROP(VpdProperty, BlockLimitsRoundTrip, (bool full, bool uga)) {
  BlockLimits in;
  in.wsnz = *rc::gen::arbitrary<bool>();
  in.maximum_compare_and_write_length = *rc::gen::arbitrary<std::uint8_t>();
  in.optimal_transfer_length_granularity = *rc::gen::arbitrary<std::uint16_t>();
  in.maximum_transfer_length = *rc::gen::arbitrary<std::uint32_t>();
  in.optimal_transfer_length = *rc::gen::arbitrary<std::uint32_t>();
  if (full) {
    in.maximum_prefetch_length = *rc::gen::arbitrary<std::uint32_t>();
    in.maximum_unmap_lba_count = *rc::gen::arbitrary<std::uint32_t>();
    in.maximum_unmap_block_descriptor_count = *rc::gen::arbitrary<std::uint32_t>();
    in.optimal_unmap_granularity = *rc::gen::arbitrary<std::uint32_t>();
    if (uga) in.unmap_granularity_alignment = *rc::gen::inRange<std::uint32_t>(0, 0x80000000u);
    in.maximum_write_same_length = *rc::gen::arbitrary<std::uint64_t>();
  }
  const auto bytes = Encoded([&](MutableBytes o) { return EncodeBlockLimits(in, o); });
  RC_ASSERT(bytes.size() == (full ? 64u : 16u));
  auto out = ParseBlockLimits(bytes);
  RC_ASSERT(out.has_value());
  RC_ASSERT(out->wsnz == in.wsnz);
  RC_ASSERT(out->maximum_compare_and_write_length == in.maximum_compare_and_write_length);
  RC_ASSERT(out->optimal_transfer_length_granularity == in.optimal_transfer_length_granularity);
  RC_ASSERT(out->maximum_transfer_length == in.maximum_transfer_length);
  RC_ASSERT(out->optimal_transfer_length == in.optimal_transfer_length);
  RC_ASSERT(out->maximum_prefetch_length == in.maximum_prefetch_length);
  RC_ASSERT(out->maximum_unmap_lba_count == in.maximum_unmap_lba_count);
  RC_ASSERT(out->maximum_unmap_block_descriptor_count == in.maximum_unmap_block_descriptor_count);
  RC_ASSERT(out->optimal_unmap_granularity == in.optimal_unmap_granularity);
  RC_ASSERT(out->unmap_granularity_alignment == in.unmap_granularity_alignment);
  RC_ASSERT(out->maximum_write_same_length == in.maximum_write_same_length);
}

RC_GTEST_PROP(VpdProperty, ProvisioningRoundTrip, (bool group)) {
  LogicalBlockProvisioning in;
  in.threshold_exponent = *rc::gen::arbitrary<std::uint8_t>();
  in.lbpu = *rc::gen::arbitrary<bool>();
  in.lbpws = *rc::gen::arbitrary<bool>();
  in.lbpws10 = *rc::gen::arbitrary<bool>();
  in.lbprz = *rc::gen::inRange<std::uint8_t>(0, 8);
  in.anc_sup = *rc::gen::arbitrary<bool>();
  in.provisioning_type = static_cast<ProvisioningType>(*rc::gen::inRange<std::uint8_t>(0, 3));
  if (group) in.provisioning_group = ArbitraryDesignator();
  const auto bytes = Encoded([&](MutableBytes o) { return EncodeLogicalBlockProvisioning(in, o); });
  auto out = ParseLogicalBlockProvisioning(bytes);
  RC_ASSERT(out.has_value());
  RC_ASSERT(out->threshold_exponent == in.threshold_exponent);
  RC_ASSERT(out->lbpu == in.lbpu);
  RC_ASSERT(out->lbpws == in.lbpws);
  RC_ASSERT(out->lbpws10 == in.lbpws10);
  RC_ASSERT(out->lbprz == in.lbprz);
  RC_ASSERT(out->anc_sup == in.anc_sup);
  RC_ASSERT(out->dp == group);
  RC_ASSERT(out->provisioning_type == in.provisioning_type);
  RC_ASSERT(out->provisioning_group == in.provisioning_group);
}

RC_GTEST_PROP(VpdProperty, PagesAndSerialRoundTrip, (std::vector<std::uint8_t> pages)) {
  SupportedVpdPages in;
  in.pages = pages;
  auto out = ParseSupportedVpdPages(
      Encoded([&](MutableBytes o) { return EncodeSupportedVpdPages(in, o); }));
  RC_ASSERT(out.has_value());
  RC_ASSERT(out->pages == pages);
  UnitSerialNumber sn;
  const auto len = *rc::gen::inRange<std::size_t>(0, 64);
  for (std::size_t i = 0; i < len; ++i) sn.serial.push_back(*rc::gen::inRange<char>(0x21, 0x7F));
  auto sout =
      ParseUnitSerialNumber(Encoded([&](MutableBytes o) { return EncodeUnitSerialNumber(sn, o); }));
  RC_ASSERT(sout.has_value());
  RC_ASSERT(sout->serial == sn.serial);
}

RC_GTEST_PROP(VpdProperty, ArbitraryBytesNeverCrashNorOvercount,
              (std::vector<std::uint8_t> raw, std::uint8_t page_sel, bool fix_length)) {
  static constexpr std::uint8_t kPages[] = {0x00, 0x80, 0x83, 0xb0, 0xb2};
  const std::uint8_t page = kPages[page_sel % 5];
  if (raw.size() > 1) raw[1] = page;
  // Make the page length agree with the buffer half the time, so the
  // page bodies are fuzzed too.
  if (fix_length && raw.size() >= 4 && raw.size() - 4 <= 0xFFFF) {
    raw[2] = static_cast<std::uint8_t>((raw.size() - 4) >> 8);
    raw[3] = static_cast<std::uint8_t>(raw.size() - 4);
  }
  const auto b = FromU8(raw);
  auto ids = ParseDeviceIdentification(b);
  if (ids.has_value()) {
    // Each designator takes at least its 4-byte header.
    RC_ASSERT(ids->designators.size() <= (b.size() - 4) / 4);
    std::size_t total = 0;
    for (const auto& d : ids->designators) total += 4 + d.value.size();
    RC_ASSERT(total == ids->header.page_length);
    (void)ChooseLuIdentity(*ids);
    (void)ids->relative_target_port();
    (void)ids->target_port_group();
    (void)ids->logical_unit_group();
    (void)ids->TargetName();
  }
  (void)ParseSupportedVpdPages(b);
  (void)ParseUnitSerialNumber(b);
  (void)ParseBlockLimits(b);
  (void)ParseLogicalBlockProvisioning(b);
}

}  // namespace
}  // namespace openmpio::scsi

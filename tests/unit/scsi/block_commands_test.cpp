// Block commands and the target-side ParseCdb: hand-worked CDBs from SBC-3
// 5.13 (READ(16), table 50), 5.40 (WRITE(16), table 126), 5.45 (WRITE
// SAME(16), table 133), 5.23 (SYNCHRONIZE CACHE(16), table 77) and SPC-4
// 6.37 (TEST UNIT READY), 6.29 (REQUEST SENSE).
#include "scsi/block_commands.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <vector>

#include "hex.h"

namespace openmpio::scsi {
namespace {

using testing::Hex;
using testing::ToHex;

TEST(Read16, FuaAndDpoBits) {
  // 88 | byte 1 FUA (bit 3) = 0x08 | LBA 01..08 | length 0x10 | group 0 | ctl 0.
  Read16Cdb c;
  c.lba = 0x0102030405060708;
  c.transfer_length = 0x10;
  c.fua = true;
  EXPECT_EQ(ToHex(BuildRead16Cdb(c).span()), "88 08 01 02 03 04 05 06 07 08 00 00 00 10 00 00");
  auto p = ParseRead16Cdb(Hex("88 18 00 00 00 00 00 00 00 2a 00 01 00 00 05 00"));
  ASSERT_TRUE(p);
  EXPECT_TRUE(p->dpo);
  EXPECT_TRUE(p->fua);
  EXPECT_EQ(p->lba, 42U);
  EXPECT_EQ(p->transfer_length, 0x10000U);
  EXPECT_EQ(p->group_number, 5);
  // Byte 1 bit 0 reserved; byte 14 bits 7..5 reserved.
  EXPECT_EQ(ParseRead16Cdb(Hex("88 01 00 00 00 00 00 00 00 00 00 00 00 01 00 00")).error().offset,
            1U);
  EXPECT_EQ(ParseRead16Cdb(Hex("88 00 00 00 00 00 00 00 00 00 00 00 00 01 20 00")).error().offset,
            14U);
}

TEST(Write16, FuaDpoAndReservedBits) {
  Write16Cdb c;
  c.lba = 0xffffffffffffffff;
  c.transfer_length = 1;
  c.fua = true;
  c.dpo = true;
  EXPECT_EQ(ToHex(BuildWrite16Cdb(c).span()), "8a 18 ff ff ff ff ff ff ff ff 00 00 00 01 00 00");
  auto p = ParseWrite16Cdb(BuildWrite16Cdb(c).span());
  ASSERT_TRUE(p);
  EXPECT_EQ(*p, c);
  auto reserved = ParseWrite16Cdb(Hex("8a 04 00 00 00 00 00 00 00 00 00 00 00 01 00 00"));
  ASSERT_FALSE(reserved);
  EXPECT_EQ(reserved.error().code, ParseErrc::kReservedValue);
  EXPECT_EQ(reserved.error().offset, 1U);
}

TEST(WriteSame16, UnmapAndNdob) {
  WriteSame16Cdb c;
  c.lba = 0x800;
  c.number_of_blocks = 0x100;
  c.unmap = true;
  // 93 | UNMAP (bit 3) = 0x08 | LBA 0x800 | blocks 0x100.
  EXPECT_EQ(ToHex(BuildWriteSame16Cdb(c).span()),
            "93 08 00 00 00 00 00 00 08 00 00 00 01 00 00 00");
  c.ndob = true;
  EXPECT_EQ(ToHex(BuildWriteSame16Cdb(c).span()).substr(0, 5), "93 09");
  auto p = ParseWriteSame16Cdb(Hex("93 19 00 00 00 00 00 00 00 00 00 00 00 00 00 00"));
  ASSERT_TRUE(p);
  EXPECT_TRUE(p->anchor);
  EXPECT_TRUE(p->unmap);
  EXPECT_TRUE(p->ndob);
  EXPECT_EQ(p->number_of_blocks, 0U);
  // LBDATA (bit 1) obsolete: rejected. ANCHOR without UNMAP: inconsistent.
  auto lbdata = ParseWriteSame16Cdb(Hex("93 02 00 00 00 00 00 00 00 00 00 00 00 01 00 00"));
  ASSERT_FALSE(lbdata);
  EXPECT_EQ(lbdata.error().code, ParseErrc::kReservedValue);
  auto anchor = ParseWriteSame16Cdb(Hex("93 10 00 00 00 00 00 00 00 00 00 00 00 01 00 00"));
  ASSERT_FALSE(anchor);
  EXPECT_EQ(anchor.error().code, ParseErrc::kInconsistent);
  EXPECT_EQ(anchor.error().offset, 1U);
}

TEST(SynchronizeCache16, ImmedAndRange) {
  SynchronizeCache16Cdb c;
  c.immed = true;
  c.lba = 0x10;
  c.number_of_blocks = 0x20;
  EXPECT_EQ(ToHex(BuildSynchronizeCache16Cdb(c).span()),
            "91 02 00 00 00 00 00 00 00 10 00 00 00 20 00 00");
  auto p = ParseSynchronizeCache16Cdb(BuildSynchronizeCache16Cdb(c).span());
  ASSERT_TRUE(p);
  EXPECT_EQ(*p, c);
  auto sync_nv = ParseSynchronizeCache16Cdb(Hex("91 04 00 00 00 00 00 00 00 00 00 00 00 00 00 00"));
  ASSERT_FALSE(sync_nv);
  EXPECT_EQ(sync_nv.error().offset, 1U);
}

TEST(TestUnitReadyAndRequestSense, BuildAndParse) {
  EXPECT_EQ(ToHex(BuildTestUnitReadyCdb().span()), "00 00 00 00 00 00");
  EXPECT_TRUE(ParseTestUnitReadyCdb(Hex("00 00 00 00 00 00")));
  auto tur = ParseTestUnitReadyCdb(Hex("00 00 00 01 00 00"));
  ASSERT_FALSE(tur);
  EXPECT_EQ(tur.error().offset, 3U);
  // SPC-4 table 178: DESC byte 1 bit 0, ALLOCATION LENGTH byte 4 = 0xfc.
  EXPECT_EQ(ToHex(BuildRequestSenseCdb({true, 252, 0}).span()), "03 01 00 00 fc 00");
  auto rs = ParseRequestSenseCdb(Hex("03 00 00 00 12 00"));
  ASSERT_TRUE(rs);
  EXPECT_FALSE(rs->desc);
  EXPECT_EQ(rs->allocation_length, 18);
  EXPECT_EQ(ParseRequestSenseCdb(Hex("03 02 00 00 12 00")).error().offset, 1U);
  EXPECT_EQ(ParseRequestSenseCdb(Hex("03 00 00 00")).error().code, ParseErrc::kTooShort);
}

TEST(ParseCdb, DispatchesEveryOpcode) {
  struct Case {
    const char* hex;
    std::size_t index;
  };
  const Case cases[] = {
      {"00 00 00 00 00 00", 0},
      {"03 01 00 00 fc 00", 1},
      {"12 01 83 00 ff 00", 2},
      {"5a 08 08 00 00 00 00 00 fc 00", 3},
      {"42 00 00 00 00 00 00 00 28 00", 4},
      {"88 00 00 00 00 00 00 00 00 00 00 00 00 01 00 00", 5},
      {"8a 00 00 00 00 00 00 00 00 00 00 00 00 01 00 00", 6},
      {"91 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00", 7},
      {"93 08 00 00 00 00 00 00 00 00 00 00 00 01 00 00", 8},
      {"9e 10 00 00 00 00 00 00 00 00 00 00 00 20 00 00", 9},
      {"a0 00 00 00 00 00 00 00 10 00 00 00", 10},
      {"a3 2a 00 00 00 00 00 00 10 00 00 00", 11},
      {"a4 0a 00 00 00 00 00 00 00 0c 00 00", 12},
  };
  for (const auto& c : cases) {
    auto r = ParseCdb(Hex(c.hex));
    ASSERT_TRUE(r) << c.hex;
    EXPECT_EQ(r->index(), c.index) << c.hex;
  }
  // iSCSI pads CDBs to 16 bytes: a padded TEST UNIT READY is fine.
  EXPECT_TRUE(ParseCdb(Hex("00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00")));
  auto rc16 = ParseCdb(Hex("9e 10 00 00 00 00 00 00 00 00 00 00 00 20 00 00"));
  ASSERT_TRUE(rc16);
  EXPECT_EQ(std::get<ReadCapacity16Cdb>(*rc16).allocation_length, 32U);
}

TEST(ParseCdb, ErrorsCarryTheSenseToAnswer) {
  EXPECT_EQ(ParseCdb({}).error().code, ParseErrc::kEmpty);
  // READ(10) is not ours: 20/00 INVALID COMMAND OPERATION CODE.
  auto unknown = ParseCdb(Hex("28 00 00 00 00 00 00 00 01 00"));
  ASSERT_FALSE(unknown);
  EXPECT_EQ(IllegalRequestFor(unknown.error(), ErrorSource::kCdb),
            (IllegalRequestSense{0x20, 0x00, true, 0}));
  // MAINTENANCE IN with another service action: 24/00 pointing at byte 1.
  auto sa = ParseCdb(Hex("a3 0c 00 00 00 00 00 00 10 00 00 00"));
  ASSERT_FALSE(sa);
  EXPECT_EQ(IllegalRequestFor(sa.error(), ErrorSource::kCdb),
            (IllegalRequestSense{0x24, 0x00, true, 1}));
  // Reserved byte 4 of REPORT LUNS: 24/00 at byte 4.
  auto rl = ParseCdb(Hex("a0 00 00 00 01 00 00 00 10 00 00 00"));
  ASSERT_FALSE(rl);
  EXPECT_EQ(IllegalRequestFor(rl.error(), ErrorSource::kCdb),
            (IllegalRequestSense{0x24, 0x00, true, 4}));
  // A CDB too short for its opcode: 24/00 at the opcode.
  auto short_cdb = ParseCdb(Hex("88 00 00"));
  ASSERT_FALSE(short_cdb);
  EXPECT_EQ(short_cdb.error().code, ParseErrc::kTooShort);
  EXPECT_EQ(IllegalRequestFor(short_cdb.error(), ErrorSource::kCdb).field_pointer, 0);
  // Parameter list errors: 26/00 with C/D 0, or 1A/00 for a bad length.
  auto bad_state = ParseStpgParameterList(Hex("00 00 00 00 00 00 00 01 0f 00 00 02"));
  ASSERT_FALSE(bad_state);
  EXPECT_EQ(IllegalRequestFor(bad_state.error(), ErrorSource::kParameterList),
            (IllegalRequestSense{0x26, 0x00, false, 8}));
  auto bad_length = ParseStpgParameterList(Hex("00 00 00 00 00 00"));
  ASSERT_FALSE(bad_length);
  EXPECT_EQ(IllegalRequestFor(bad_length.error(), ErrorSource::kParameterList).asc, 0x1A);
}

RC_GTEST_PROP(BlockCommandsProperty, BuildersRoundTripThroughParseCdb, ()) {
  const auto lba = *rc::gen::arbitrary<std::uint64_t>();
  const auto blocks = *rc::gen::arbitrary<std::uint32_t>();
  const auto group = *rc::gen::inRange<std::uint8_t>(0, 32);
  const auto control = *rc::gen::arbitrary<std::uint8_t>();
  const bool a = *rc::gen::arbitrary<bool>();
  const bool b = *rc::gen::arbitrary<bool>();

  Read16Cdb r{lba, blocks, a, b, *rc::gen::inRange<std::uint8_t>(0, 8), group, control};
  auto pr = ParseCdb(BuildRead16Cdb(r).span());
  RC_ASSERT(pr.has_value());
  RC_ASSERT(std::get<Read16Cdb>(*pr) == r);

  Write16Cdb w{lba, blocks, b, a, *rc::gen::inRange<std::uint8_t>(0, 8), group, control};
  auto pw = ParseCdb(BuildWrite16Cdb(w).span());
  RC_ASSERT(pw.has_value());
  RC_ASSERT(std::get<Write16Cdb>(*pw) == w);

  WriteSame16Cdb ws{lba, blocks, a, a && b, *rc::gen::arbitrary<bool>(), 0, group, control};
  auto pws = ParseCdb(BuildWriteSame16Cdb(ws).span());
  RC_ASSERT(pws.has_value());
  RC_ASSERT(std::get<WriteSame16Cdb>(*pws) == ws);

  SynchronizeCache16Cdb sc{lba, blocks, a, group, control};
  auto psc = ParseCdb(BuildSynchronizeCache16Cdb(sc).span());
  RC_ASSERT(psc.has_value());
  RC_ASSERT(std::get<SynchronizeCache16Cdb>(*psc) == sc);

  RequestSenseCdb rs{a, *rc::gen::arbitrary<std::uint8_t>(), control};
  auto prs = ParseCdb(BuildRequestSenseCdb(rs).span());
  RC_ASSERT(prs.has_value());
  RC_ASSERT(std::get<RequestSenseCdb>(*prs) == rs);
}

RC_GTEST_PROP(BlockCommandsProperty, ArbitraryBytesNeverCrash,
              (const std::vector<std::uint8_t>& raw)) {
  std::vector<std::byte> bytes(raw.size());
  for (std::size_t i = 0; i < raw.size(); ++i) bytes[i] = std::byte{raw[i]};
  auto r = ParseCdb(bytes);
  if (!r) {
    const auto s = IllegalRequestFor(r.error(), ErrorSource::kCdb);
    RC_ASSERT(s.asc == 0x20 || s.asc == 0x24);
    RC_ASSERT(s.field_pointer < 16);
  }
}

RC_GTEST_PROP(BlockCommandsProperty, EveryKnownOpcodeWithZeroedFieldsIsAcceptedOrPointed, ()) {
  // A 16-byte CDB of a known opcode with random bytes: success or an error
  // whose field pointer lies inside the CDB.
  const auto opcode = *rc::gen::element<std::uint8_t>(0x00, 0x03, 0x12, 0x5a, 0x42, 0x88, 0x8a,
                                                      0x91, 0x93, 0x9e, 0xa0, 0xa3, 0xa4);
  auto raw = *rc::gen::container<std::vector<std::uint8_t>>(15, rc::gen::arbitrary<std::uint8_t>());
  std::vector<std::byte> bytes{std::byte{opcode}};
  for (auto v : raw) bytes.push_back(std::byte{v});
  auto r = ParseCdb(bytes);
  if (!r) {
    RC_ASSERT(r.error().offset < 16U);
    RC_ASSERT(r.error().code != ParseErrc::kTooShort);
  }
}

}  // namespace
}  // namespace openmpio::scsi

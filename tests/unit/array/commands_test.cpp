// The array's answers to each command it serves, as hand-worked bytes, and
// where a real target (tests/data/captures) answers the same command, the
// same bytes as tgt or istgt.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "array_fixture.h"

namespace openmpio::array::testing {
namespace {

namespace fs = std::filesystem;
using S = AsymmetricAccessState;

std::vector<std::byte> Capture(const std::string& name) {
  std::ifstream in(fs::path(OPENMPIO_TEST_DATA_DIR) / "captures" / name, std::ios::binary);
  const std::vector<char> c{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  std::vector<std::byte> out;
  for (char x : c) out.push_back(static_cast<std::byte>(x));
  return out;
}

// FNV-1a 64, typed here independently of config.cpp: the NAA designator's
// vendor specific identifier is its low 36 bits of the target name.
std::uint64_t Fnv1a(const std::string& s) {
  std::uint64_t h = 14695981039346656037ULL;
  for (const char c : s) h = (h ^ static_cast<std::uint8_t>(c)) * 1099511628211ULL;
  return h;
}

TEST_F(ArrayTest, StandardInquiry) {
  const ItNexusId n = Login(1);
  const Reply r = Send(n, 0, kInquiry);
  ASSERT_TRUE(r.Good());
  // SPC-4 6.6.2: PQ 0 / type 0; version 6; HiSup + format 2 = 12h; additional
  // length 31; TPGS 11b (30h); CmdQue (02h); "OPENMPIO", "SIM ARRAY", "0001".
  EXPECT_EQ(r.Data(),
            "00 00 06 12 1f 30 00 02 4f 50 45 4e 4d 50 49 4f "
            "53 49 4d 20 41 52 52 41 59 20 20 20 20 20 20 20 30 30 30 31");
  // A LUN that does not exist: qualifier 011b, type 1Fh (SPC-4 6.6.2).
  EXPECT_EQ(Send(n, 5, kInquiry).data.at(0), std::byte{0x7F});
  // Allocation length 5 cuts it.
  EXPECT_EQ(Send(n, 0, "12 00 00 00 05 00").Data(), "00 00 06 12 1f");
}

TEST_F(ArrayTest, Vpd83IdentifiesLuPortGroupAndTargetDevice) {
  ArrayConfig c = DemoArrayConfig(64);
  c.lus[1].serial = "SN0001";
  Make(c);
  const ItNexusId n = Login(3);
  const Reply r = Send(n, 1, kVpd83);
  ASSERT_TRUE(r.Good());
  const std::uint64_t vsi = Fnv1a("iqn.2024-01.org.openmpio:array") & 0xFFFFFFFFFULL;
  char naa[64];
  // SPC-4 7.8.6.6.5: 6h | OUI 0A0B0Ch | 36-bit VSI | extension = LUN 1.
  std::snprintf(naa, sizeof naa, "60 a0 b0 %02x %02x %02x %02x %02x",
                static_cast<unsigned>(0xC0 | (vsi >> 32)), static_cast<unsigned>((vsi >> 24) & 0xFF),
                static_cast<unsigned>((vsi >> 16) & 0xFF), static_cast<unsigned>((vsi >> 8) & 0xFF),
                static_cast<unsigned>(vsi & 0xFF));
  const std::string expected =
      std::string("00 83 00 86 ") +
      // LU, NAA (code set 1, association 00, type 3), 16 bytes.
      "01 03 00 10 " + naa + " 00 00 00 00 00 00 00 01 " +
      // LU, T10 vendor id (ASCII): "OPENMPIO" "SN0001".
      "02 01 00 0e 4f 50 45 4e 4d 50 49 4f 53 4e 30 30 30 31 " +
      // Target port, iSCSI (5), PIV: relative target port 3, group 2.
      "51 94 00 04 00 00 00 03 51 95 00 04 00 00 00 02 " +
      // Target port name "iqn.2024-01.org.openmpio:array,t,0x0003" + NUL (40).
      "53 98 00 28 69 71 6e 2e 32 30 32 34 2d 30 31 2e 6f 72 67 2e 6f 70 65 6e 6d 70 69 6f 3a "
      "61 72 72 61 79 2c 74 2c 30 78 30 30 30 33 00 " +
      // Target device (association 10) name + NUL + 1 pad byte (32).
      "53 a8 00 20 69 71 6e 2e 32 30 32 34 2d 30 31 2e 6f 72 67 2e 6f 70 65 6e 6d 70 69 6f 3a "
      "61 72 72 61 79 00 00";
  EXPECT_EQ(r.Data(), expected);
  // Through port 1 the LU and target-device designators are identical.
  const ItNexusId m = Login(1);
  const Reply p1 = Send(m, 1, kVpd83);
  EXPECT_EQ(ToHex(std::span<const std::byte>(p1.data).first(42)),
            ToHex(std::span<const std::byte>(r.data).first(42)));
  EXPECT_EQ(ToHex(std::span<const std::byte>(p1.data).last(36)),
            ToHex(std::span<const std::byte>(r.data).last(36)));
  EXPECT_NE(p1.Data(), r.Data());
}

TEST_F(ArrayTest, OtherVpdPages) {
  const ItNexusId n = Login(1);
  EXPECT_EQ(Send(n, 0, "12 01 00 10 00 00").Data(), "00 00 00 05 00 80 83 b0 b2");
  // SBC-3 6.6.6: LBPU (80h), LBPWS (40h), LBPRZ = 1 (04h) = C4h; provisioning
  // type thin (2).
  EXPECT_EQ(Send(n, 0, "12 01 b2 10 00 00").Data(), "00 b2 00 04 00 c4 02 00");
  const Reply b0 = Send(n, 0, "12 01 b0 10 00 00");
  ASSERT_EQ(b0.data.size(), 64U);
  // Max transfer 16384 (bytes 8..11), optimal unmap granularity 128 (28..31).
  EXPECT_EQ(ToHex(std::span<const std::byte>(b0.data).subspan(8, 4)), "00 00 40 00");
  EXPECT_EQ(ToHex(std::span<const std::byte>(b0.data).subspan(28, 4)), "00 00 00 80");
  // An unsupported page: 24/00 pointing at the page code, as tgt's key/ASC
  // (captures/tgt/vpdc7_unsupported.sense.bin) with our field pointer added.
  const Reply c7 = Send(n, 0, "12 01 c7 10 00 00");
  EXPECT_EQ(c7.Sense(), "70 00 05 00 00 00 00 0a 00 00 00 00 24 00 00 c0 00 02");
  EXPECT_EQ(ToHex(std::span<const std::byte>(c7.response.sense.data(), 15)),
            ToHex(std::span<const std::byte>(Capture("tgt/vpdc7_unsupported.sense.bin")).first(15)));
  // EVPD 0 with a page code: 24/00 at byte 1... SPC-4 points at the EVPD field.
  EXPECT_EQ(Send(n, 0, "12 00 83 00 60 00").Sense().substr(0, 41),
            ToHex(Capture("tgt/inquiry_page_without_evpd.sense.bin")).substr(0, 41));
}

TEST_F(ArrayTest, ReportLunsListsTheLus) {
  const ItNexusId n = Login(2);
  EXPECT_EQ(Send(n, 0, kReportLuns).Data(),
            "00 00 00 10 00 00 00 00 00 00 00 00 00 00 00 00 00 01 00 00 00 00 00 00");
  // SELECT REPORT 01h: well-known LUs only, of which there are none.
  EXPECT_EQ(Send(n, 0, "a0 00 01 00 00 00 00 00 10 00 00 00").Data(), "00 00 00 00 00 00 00 00");
  // Through a LUN that does not exist too (SPC-4 6.33).
  EXPECT_TRUE(Send(n, 9, kReportLuns).Good());
  EXPECT_EQ(Send(n, 9, kTur).Sense(), FixedSense(5, 0x25, 0x00));
}

TEST_F(ArrayTest, ReadCapacityAndModeSense) {
  const ItNexusId n = Login(1);
  // SBC-3 5.16.2: last LBA 4095, 512-byte blocks, LBPME | LBPRZ (C0h).
  EXPECT_EQ(Send(n, 0, kReadCapacity).Data(),
            "00 00 00 00 00 00 0f ff 00 00 02 00 00 00 c0 00 00 00 00 00 00 00 00 00 00 00 00 00 "
            "00 00 00 00");
  // MODE SENSE(10) caching page: header (mode data length 1Ah, DPOFUA 10h),
  // page 08h length 12h, WCE (04h).
  const Reply ms = Send(n, 0, kModeSenseCaching);
  ASSERT_TRUE(ms.Good());
  EXPECT_EQ(ToHex(std::span<const std::byte>(ms.data).first(11)),
            "00 1a 00 10 00 00 00 00 08 12 04");
}

TEST_F(ArrayTest, ReadWriteRoundTripAndPastTheEnd) {
  const ItNexusId n = Login(1);
  std::vector<std::byte> blocks(1024);
  for (std::size_t i = 0; i < blocks.size(); ++i) blocks[i] = std::byte(static_cast<std::uint8_t>(i * 7));
  // Two blocks at LBA 4094 (the last two).
  ASSERT_TRUE(Send(n, 0, "8a 00 00 00 00 00 00 00 0f fe 00 00 00 02 00 00", blocks).Good());
  const Reply r = Send(n, 0, "88 00 00 00 00 00 00 00 0f fe 00 00 00 02 00 00");
  ASSERT_TRUE(r.Good());
  EXPECT_EQ(r.data, blocks);
  // One block further is past the end: 21/00, byte for byte what tgt answers
  // (captures/tgt/read16_past_end.sense.bin).
  const Reply past = Send(n, 0, "88 00 00 00 00 00 00 00 0f ff 00 00 00 02 00 00");
  EXPECT_EQ(past.Sense(), "70 00 05 00 00 00 00 0a 00 00 00 00 21 00 00 00 00 00");
  EXPECT_EQ(past.Sense(), ToHex(Capture("tgt/read16_past_end.sense.bin")));
  EXPECT_EQ(Send(n, 0, "8a 00 00 00 00 00 00 00 10 00 00 00 00 01 00 00", blocks).Sense(),
            FixedSense(5, 0x21, 0x00));
  // Unwritten blocks read as zeros; other LU has its own contents.
  EXPECT_EQ(Send(n, 1, "88 00 00 00 00 00 00 00 0f fe 00 00 00 02 00 00").data,
            std::vector<std::byte>(1024));
  // Transfer length above the block limits: 24/00 at byte 10.
  EXPECT_EQ(Send(n, 0, "88 00 00 00 00 00 00 00 00 00 00 00 40 01 00 00").Sense(),
            "70 00 05 00 00 00 00 0a 00 00 00 00 24 00 00 c0 00 0a");
  const auto c = array_->Counters(1);
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->reads, 2U);
  EXPECT_EQ(c->writes, 1U);
  EXPECT_EQ(c->bytes_written, 1024U);
  EXPECT_EQ(c->bytes_read, 2048U);
}

TEST_F(ArrayTest, UnknownOpcodeAndBadFields) {
  const ItNexusId n = Login(1);
  // READ(10) is not served: 20/00 INVALID COMMAND OPERATION CODE, no pointer.
  EXPECT_EQ(Send(n, 0, "28 00 00 00 00 00 00 00 01 00").Sense(), FixedSense(5, 0x20, 0x00));
  // MODE SENSE of page 0x1C: 24/00 at byte 2.
  EXPECT_EQ(Send(n, 0, "5a 08 1c 00 00 00 00 00 fc 00").Sense(),
            "70 00 05 00 00 00 00 0a 00 00 00 00 24 00 00 c0 00 02");
  // READ CAPACITY(16) with a service action other than 10h: 24/00 at byte 1.
  EXPECT_EQ(Send(n, 0, "9e 11 00 00 00 00 00 00 00 00 00 00 00 20 00 00").Sense(),
            "70 00 05 00 00 00 00 0a 00 00 00 00 24 00 00 c0 00 01");
}

TEST_F(ArrayTest, ThinProvisioningFreesChunks) {
  const ItNexusId n = Login(1);
  std::vector<std::byte> data(512, std::byte{0x11});
  ASSERT_TRUE(Send(n, 0, kWrite1, data).Good());
  // UNMAP LBA 0, 1 block: header (data length 22, descriptor length 16).
  ASSERT_TRUE(Send(n, 0, kUnmap24,
                   Hex("00 16 00 10 00 00 00 00 00000000 00000000 00000001 00000000"))
                  .Good());
  EXPECT_EQ(Send(n, 0, kRead1).data, std::vector<std::byte>(512));
  // An UNMAP past the end: nothing happens, 21/00.
  ASSERT_TRUE(Send(n, 0, kWrite1, data).Good());
  EXPECT_EQ(Send(n, 0, kUnmap24,
                 Hex("00 16 00 10 00 00 00 00 00000000 00000fff 00000002 00000000"))
                .Sense(),
            FixedSense(5, 0x21, 0x00));
  // WRITE SAME(16) with UNMAP and a zero block deallocates.
  EXPECT_TRUE(Send(n, 0, kWriteSameUnmap1, std::vector<std::byte>(512)).Good());
  EXPECT_EQ(Send(n, 0, kRead1).data, std::vector<std::byte>(512));
  // WRITE SAME without UNMAP replicates the block.
  ASSERT_TRUE(Send(n, 0, "93 00 00 00 00 00 00 00 00 10 00 00 00 03 00 00", data).Good());
  const Reply r = Send(n, 0, "88 00 00 00 00 00 00 00 00 10 00 00 00 03 00 00");
  EXPECT_EQ(r.data, std::vector<std::byte>(1536, std::byte{0x11}));
}

TEST_F(ArrayTest, ThickLuRefusesUnmap) {
  ArrayConfig c = DemoArrayConfig(64);
  c.lus[0].thin = false;
  Make(c);
  const ItNexusId n = Login(1);
  EXPECT_EQ(Send(n, 0, kUnmap24, Hex("00 16 00 10 00 00 00 00 00000000 00000000 00000001 00000000"))
                .Sense(),
            FixedSense(5, 0x20, 0x00));
  EXPECT_EQ(Send(n, 0, kWriteSameUnmap1, std::vector<std::byte>(512)).Sense(),
            "70 00 05 00 00 00 00 0a 00 00 00 00 24 00 00 c0 00 01");
  EXPECT_EQ(Send(n, 0, kReadCapacity).data.at(14), std::byte{0x00});  // no LBPME
}

// A fully provisioned LU (SBC-3 4.7.2): READ CAPACITY(16) without LBPME /
// LBPRZ, VPD 0xB2 without LBPU / LBPWS / LBPRZ and provisioning type 0, VPD
// 0xB0 without UNMAP limits; WRITE SAME without UNMAP still writes.
TEST_F(ArrayTest, ThickLuReportsNoProvisioningBits) {
  ArrayConfig c = DemoArrayConfig(64);
  c.lus[0].thin = false;
  Make(c);
  const ItNexusId n = Login(1);
  EXPECT_EQ(Send(n, 0, kReadCapacity).Data(),
            "00 00 00 00 00 00 00 3f 00 00 02 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 "
            "00 00 00 00");
  // The page is still listed (page 0x00), with every bit clear.
  EXPECT_EQ(Send(n, 0, "12 01 00 10 00 00").Data(), "00 00 00 05 00 80 83 b0 b2");
  EXPECT_EQ(Send(n, 0, "12 01 b2 10 00 00").Data(), "00 b2 00 04 00 00 00 00");
  const Reply b0 = Send(n, 0, "12 01 b0 10 00 00");
  ASSERT_EQ(b0.data.size(), 64U);
  // MAXIMUM UNMAP LBA COUNT, MAXIMUM UNMAP BLOCK DESCRIPTOR COUNT, OPTIMAL
  // UNMAP GRANULARITY (bytes 20..31): 0, no UNMAP.
  EXPECT_EQ(ToHex(std::span<const std::byte>(b0.data).subspan(20, 12)),
            "00 00 00 00 00 00 00 00 00 00 00 00");
  // The thin LU beside it keeps its bits.
  EXPECT_EQ(Send(n, 1, "12 01 b2 10 00 00").Data(), "00 b2 00 04 00 c4 02 00");
  // WRITE SAME(16) without UNMAP replicates the block on a thick LU too.
  const std::vector<std::byte> data(512, std::byte{0x5A});
  ASSERT_TRUE(Send(n, 0, "93 00 00 00 00 00 00 00 00 10 00 00 00 02 00 00", data).Good());
  EXPECT_EQ(Send(n, 0, "88 00 00 00 00 00 00 00 00 10 00 00 00 02 00 00").data,
            std::vector<std::byte>(1024, std::byte{0x5A}));
}

TEST_F(ArrayTest, WriteCacheLosesUnflushedWritesOnly) {
  const ItNexusId n = Login(1);
  const std::vector<std::byte> a(512, std::byte{0xAA});
  const std::vector<std::byte> b(512, std::byte{0xBB});
  ASSERT_TRUE(Send(n, 0, kWrite1, a).Good());
  EXPECT_EQ(Send(n, 0, kRead1).data, a);  // reads see the cache
  ASSERT_TRUE(Send(n, 0, kSyncCache).Good());
  ASSERT_TRUE(Send(n, 0, kWrite1, b).Good());
  ASSERT_TRUE(array_->DropVolatileCache(0).ok());
  EXPECT_EQ(Send(n, 0, kRead1).data, a);  // the unflushed write is gone
  // FUA (byte 1 bit 3) writes through.
  ASSERT_TRUE(Send(n, 0, "8a 08 00 00 00 00 00 00 00 00 00 00 00 01 00 00", b).Good());
  ASSERT_TRUE(array_->DropVolatileCache(0).ok());
  EXPECT_EQ(Send(n, 0, kRead1).data, b);
}

TEST_F(ArrayTest, UnitAttentionMatchesTgtCapture) {
  // tgt's first answer to a new session: 70h fixed, UNIT ATTENTION 29/00.
  const ItNexusId n = array_->AttachNexus(2, "iqn.x", 7);
  EXPECT_EQ(Send(n, 0, kReadCapacity).Sense(), ToHex(Capture("tgt/unit_attention.sense.bin")));
}

// istgt's RTPG (captures/istgt/rtpg.bin): two groups of one port, both A/O,
// AO|AN supported, status 2. Our array in the same shape answers the same
// bytes, except that we claim PREF for the owning group only.
TEST_F(ArrayTest, RtpgMatchesIstgtCaptureShape) {
  ArrayConfig c;
  c.tpgs = scsi::Tpgs::kExplicit;
  c.stpg_states = scsi::SupportedStates{}
                      .With(scsi::SupportedStates::kAoSup)
                      .With(scsi::SupportedStates::kAnSup);
  c.ports = {{1, 1}, {2, 2}};
  LuConfig lu;
  lu.lun = 0;
  lu.blocks = 64;
  lu.initial_states = {{1, S::kActiveOptimized}, {2, S::kActiveOptimized}};
  c.lus = {lu};
  Make(c);
  for (const std::uint16_t g : {std::uint16_t{1}, std::uint16_t{2}}) ASSERT_TRUE(array_->SetAccessState(0, g, S::kActiveOptimized, now_).ok());
  const ItNexusId n = Login(1);
  std::vector<std::byte> ours = Send(n, 0, kRtpgLengthOnly).data;
  std::vector<std::byte> istgt = Capture("istgt/rtpg.bin");
  ASSERT_EQ(istgt.size(), 28U);
  ASSERT_EQ(ours.size(), 28U);
  istgt[16] &= std::byte{0x7F};  // istgt's PREF on group 2
  EXPECT_EQ(ToHex(ours), ToHex(istgt));
}

}  // namespace
}  // namespace openmpio::array::testing

// LU capabilities from discovery (READ CAPACITY(16), VPD 0xB2, MODE SENSE(10)
// caching page), FUA writes, WRITE SAME with UNMAP, UNMAP / WRITE ZEROES read
// back, deferred errors and the no-path queue limit. The array's
// configuration decides what it reports, so every expectation here flips
// with it; its volatile write cache (DropVolatileCache) is the judge of FUA.
#include <gtest/gtest.h>

#include "engine_fixture.h"

namespace openmpio::engine::testing {
namespace {

class CapabilitiesTest : public EngineFixture {
 protected:
  std::vector<std::byte> ReadBlocks(DiskHandle h, std::uint64_t lba, std::size_t blocks) {
    std::vector<std::byte> buf(blocks * 512, std::byte{0xEE});
    const Status s = RunOne([&](IoCallback cb) { h.Read(lba * 512, buf, std::move(cb)); });
    EXPECT_TRUE(s.ok()) << s.ToString();
    return buf;
  }

  static std::vector<std::byte> Pattern(std::size_t blocks, std::uint64_t stamp) {
    std::vector<std::byte> b(blocks * 512);
    for (std::size_t i = 0; i < blocks; ++i) {
      FillBlock(std::span<std::byte>(b).subspan(i * 512, 512), i, stamp);
    }
    return b;
  }

  static bool AllZero(const std::vector<std::byte>& b) {
    for (std::byte x : b) {
      if (x != std::byte{0}) return false;
    }
    return true;
  }
};

// The demo LUs are thin with a write-back cache; the array answers LBPME /
// LBPRZ (READ CAPACITY(16) byte 14), LBPU / LBPWS (VPD 0xB2 byte 5), DPOFUA
// (MODE SENSE header byte 3 bit 4) and WCE (caching page byte 2 bit 2).
TEST_F(CapabilitiesTest, ThinWriteBackLuReportsItsCapabilities) {
  Build();
  for (const DiskInfo& d : engine_->Disks()) {
    EXPECT_TRUE(d.lbpme);
    EXPECT_TRUE(d.lbprz);
    EXPECT_TRUE(d.lbpu);
    EXPECT_TRUE(d.lbpws);
    EXPECT_TRUE(d.caching_known);
    EXPECT_TRUE(d.wce);
    EXPECT_TRUE(d.dpofua);
    EXPECT_EQ(d.physical_block_exponent, 0U);
    EXPECT_EQ(d.optimal_transfer_blocks, 0U) << "the array reports none";
  }
}

// Thick, write-through LUs: every provisioning bit and WCE read false; the
// MODE SENSE still answered (DPOFUA: the array always honours FUA).
TEST_F(CapabilitiesTest, ThickWriteThroughLuReportsNone) {
  array::ArrayConfig cfg = array::DemoArrayConfig(1U << 16);
  for (auto& lu : cfg.lus) {
    lu.thin = false;
    lu.write_cache = false;
  }
  Build(cfg);
  for (const DiskInfo& d : engine_->Disks()) {
    EXPECT_FALSE(d.lbpme);
    EXPECT_FALSE(d.lbprz);
    EXPECT_FALSE(d.lbpu);
    EXPECT_FALSE(d.lbpws);
    EXPECT_TRUE(d.caching_known);
    EXPECT_FALSE(d.wce);
  }
}

// SBC-3 5.40: FUA makes the write durable before GOOD. A power loss of the
// array's volatile cache keeps the FUA write and loses the plain one.
TEST_F(CapabilitiesTest, FuaWriteSurvivesCacheLossAndAPlainWriteDoesNot) {
  Build();
  const std::size_t disk = DiskOfLu(0);
  DiskHandle h = engine_->Disk(disk);
  const auto a = Pattern(4, 7);
  const auto b = Pattern(4, 8);
  ASSERT_TRUE(RunOne([&](IoCallback cb) { h.Write(0, a, /*fua=*/true, std::move(cb)); }).ok());
  ASSERT_TRUE(RunOne([&](IoCallback cb) { h.Write(64 * 512, b, std::move(cb)); }).ok());
  EXPECT_EQ(ReadBlocks(h, 64, 4), b) << "cached before the loss";
  ASSERT_TRUE(array_->DropVolatileCache(0).ok());
  EXPECT_EQ(ReadBlocks(h, 0, 4), a) << "the FUA write was on media";
  EXPECT_TRUE(AllZero(ReadBlocks(h, 64, 4))) << "the plain write was only cached";
  // And a Flush makes the plain write durable.
  ASSERT_TRUE(RunOne([&](IoCallback cb) { h.Write(64 * 512, b, std::move(cb)); }).ok());
  ASSERT_TRUE(RunOne([&](IoCallback cb) { h.Flush(std::move(cb)); }).ok());
  ASSERT_TRUE(array_->DropVolatileCache(0).ok());
  EXPECT_EQ(ReadBlocks(h, 64, 4), b);
}

// UNMAP (LBPRZ: unmapped blocks read as zeros) and WRITE ZEROES, with and
// without "may unmap", on blocks written before: all read back as zeros;
// neighbours keep their data.
TEST_F(CapabilitiesTest, UnmapAndWriteZeroesReadBackZeros) {
  Build();
  DiskHandle h = engine_->Disk(DiskOfLu(0));
  const auto data = Pattern(48, 5);
  ASSERT_TRUE(RunOne([&](IoCallback cb) { h.Write(0, data, std::move(cb)); }).ok());
  ASSERT_FALSE(AllZero(ReadBlocks(h, 0, 48)));
  ASSERT_TRUE(RunOne([&](IoCallback cb) { h.Unmap(0, 16 * 512, std::move(cb)); }).ok());
  ASSERT_TRUE(RunOne([&](IoCallback cb) { h.WriteZeroes(16 * 512, 8 * 512, std::move(cb)); }).ok());
  ASSERT_TRUE(
      RunOne([&](IoCallback cb) { h.WriteZeroes(24 * 512, 8 * 512, true, std::move(cb)); }).ok());
  EXPECT_TRUE(AllZero(ReadBlocks(h, 0, 32)));
  const auto rest = ReadBlocks(h, 32, 16);
  EXPECT_TRUE(std::equal(rest.begin(), rest.end(), data.begin() + 32 * 512)) << "neighbours kept";
}

// A deferred error (SPC-4 4.5.5, response code 0x71) reports a failure of
// an EARLIER write: the command it came back on is retried and succeeds,
// and the disk's next Flush fails (once).
TEST_F(CapabilitiesTest, DeferredErrorFailsTheNextFlushNotTheCurrentCommand) {
  Build();
  const std::size_t disk = DiskOfLu(0);
  DiskHandle h = engine_->Disk(disk);
  array::FaultSpec f = LuFault(0, array::FaultKind::kSense);
  f.sense = scsi::SenseSpec{scsi::SenseKey::kMediumError, {0x0C, 0x00}, {}, true};
  f.count = 1;
  ASSERT_TRUE(array_->InjectFault(f, ex_.Now()).has_value());
  const auto data = Pattern(2, 3);
  const Status w = RunOne([&](IoCallback cb) { h.Write(0, data, std::move(cb)); });
  EXPECT_TRUE(w.ok()) << "not attributed to the current command: " << w.ToString();
  EXPECT_EQ(ReadBlocks(h, 0, 2), data);
  EXPECT_EQ(engine_->Disks()[disk].deferred_errors, 1U);
  const Status f1 = RunOne([&](IoCallback cb) { h.Flush(std::move(cb)); });
  EXPECT_EQ(f1.nt(), NtStatus::kIoDeviceError) << f1.ToString();
  const Status f2 = RunOne([&](IoCallback cb) { h.Flush(std::move(cb)); });
  EXPECT_TRUE(f2.ok()) << "reported once: " << f2.ToString();
}

// No usable path: the disk holds at most no_path_queue_limit requests; the
// next fails at once with STATUS_DEVICE_NOT_READY saying the queue is full,
// and the held ones complete when a path returns.
TEST_F(CapabilitiesTest, NoPathQueueLimitFailsTheRequestBeyondIt) {
  EngineConfig ec = TestConfig();
  ec.no_path_queue_limit = 4;
  Build(array::DemoArrayConfig(1U << 16), ec);
  const std::size_t disk = DiskOfLu(0);
  DiskHandle h = engine_->Disk(disk);
  for (std::uint16_t p = 1; p <= 4; ++p) {
    fabric_->RefuseReconnect(p, true);
    fabric_->Drop(p);
  }
  ASSERT_TRUE(RunUntil([&] {
    const std::vector<DiskInfo> disks = engine_->Disks();
    for (const PathInfo& p : disks[disk].paths) {
      if (p.usable) return false;
    }
    return true;
  }, seconds(10)));
  std::vector<std::vector<std::byte>> bufs(5, std::vector<std::byte>(512));
  std::vector<std::optional<Status>> got(5);
  for (std::size_t i = 0; i < 5; ++i) {
    h.Read(i * 512, bufs[i], [&got, i](const Status& s) { got[i] = s; });
    ex_.RunUntilIdle();
  }
  EXPECT_EQ(engine_->Disks()[disk].queued, 4U);
  ASSERT_TRUE(got[4].has_value()) << "the fifth failed at once";
  EXPECT_EQ(got[4]->nt(), NtStatus::kDeviceNotReady);
  EXPECT_NE(got[4]->message().find("queue is full"), std::string::npos) << got[4]->ToString();
  for (std::size_t i = 0; i < 4; ++i) EXPECT_FALSE(got[i].has_value());
  fabric_->RefuseReconnect(1, false);
  ASSERT_TRUE(RunUntil([&] { return got[0] && got[1] && got[2] && got[3]; }, seconds(15)));
  for (std::size_t i = 0; i < 4; ++i) EXPECT_TRUE(got[i]->ok()) << got[i]->ToString();
}

}  // namespace
}  // namespace openmpio::engine::testing

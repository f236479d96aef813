// Changes an array makes after discovery, followed through the error table's
// follow-ups (request.cpp → discovery.cpp): 2A/09 CAPACITY DATA HAS CHANGED
// re-reads READ CAPACITY(16) and the new size is taken live; 3F/0E REPORTED
// LUNS DATA HAS CHANGED rescans REPORT LUNS on the nexus that heard it — a
// new LU becomes a disk with its paths, a removed one leaves its disk's
// selection and its requests fail with a clear error, one that comes back is
// found on its old paths. Virtual time; the array's own inventory calls.
#include <gtest/gtest.h>

#include "engine_fixture.h"

namespace openmpio::engine::testing {
namespace {

class EngineLuChangesTest : public EngineFixture {
 protected:
  Status Io(std::size_t disk, bool write, std::uint64_t lba, std::vector<std::byte>& buf) {
    DiskHandle h = engine_->Disk(disk);
    return RunOne([&](IoCallback cb) {
      if (write) {
        h.Write(lba * 512, buf, std::move(cb));
      } else {
        h.Read(lba * 512, buf, std::move(cb));
      }
    });
  }
  // A read on every disk (each LU's I/O goes to its own A/O group, so the
  // unit attentions of all four nexuses are heard).
  void TouchEveryDisk(std::optional<std::size_t> except = std::nullopt) {
    std::vector<std::byte> b(512);
    for (const DiskInfo& d : engine_->Disks()) {
      if (d.index != except) {
        const Status st = Io(d.index, false, 0, b);
        EXPECT_TRUE(st.ok()) << d.name << " " << st.ToString();
      }
    }
  }
  static std::size_t Online(const DiskInfo& d) {
    return static_cast<std::size_t>(
        std::count_if(d.paths.begin(), d.paths.end(), [](const PathInfo& p) { return p.online; }));
  }
  std::string Dump() {
    std::string out;
    for (const DiskInfo& d : engine_->Disks()) {
      out += "\n" + d.name + " blocks " + std::to_string(d.blocks) + ":";
      for (const PathInfo& p : d.paths) {
        out += " p" + std::to_string(p.relative_target_port) + (p.online ? "+" : "-") +
               (p.usable ? "u" : "") + "c" + std::to_string(p.commands) + "e" +
               std::to_string(p.errors);
      }
    }
    return out;
  }
  std::optional<DiskInfo> DiskNamed(const std::string& name) {
    for (const DiskInfo& d : engine_->Disks()) {
      if (d.name == name) return d;
    }
    return std::nullopt;
  }
};

// More LUs than the first REPORT LUNS answer (4 KiB: 510 LUNs) holds: the
// engine asks again with the length the header gives and claims every one,
// also those numbered in the flat space (>= 256).
TEST_F(EngineLuChangesTest, EveryLuIsFoundWhenTheListOutgrowsTheFirstAnswer) {
  array::ArrayConfig cfg = array::DemoArrayConfig(64);
  const array::LuConfig base = cfg.lus[0];
  cfg.lus.clear();
  for (std::uint64_t lun = 0; lun < 600; ++lun) {
    array::LuConfig l = base;
    l.lun = lun * 3;  // up to 1797: flat space addressing above 255
    cfg.lus.push_back(l);
  }
  Build(cfg);
  const auto disks = engine_->Disks();
  ASSERT_EQ(disks.size(), 600U);
  for (const DiskInfo& d : disks) {
    EXPECT_EQ(d.paths.size(), 4U) << d.name;
    EXPECT_TRUE(d.ready) << d.name;
  }
}

TEST_F(EngineLuChangesTest, CapacityGrowthIsTakenLive) {
  Build();
  const std::size_t disk = DiskOfLu(0);
  const std::uint64_t old_blocks = engine_->Disks()[disk].blocks;
  ASSERT_EQ(old_blocks, 1U << 16);
  std::vector<std::byte> block(512);
  FillBlock(block, old_blocks + 10, 7);
  EXPECT_FALSE(Io(disk, true, old_blocks + 10, block).ok()) << "past the end we know of";

  ASSERT_TRUE(array_->SetCapacity(0, old_blocks * 2).ok());
  std::vector<std::byte> b(512);
  EXPECT_TRUE(Io(disk, false, 0, b).ok()) << "2A/09 is retried, not an error";
  ASSERT_TRUE(
      RunUntil([&] { return engine_->Disks()[disk].blocks == old_blocks * 2; }, seconds(10)))
      << "the new capacity was not read";
  EXPECT_EQ(engine_->Disk(disk).size_bytes(), old_blocks * 2 * 512);
  ASSERT_TRUE(Io(disk, true, old_blocks + 10, block).ok());
  std::vector<std::byte> back(512);
  ASSERT_TRUE(Io(disk, false, old_blocks + 10, back).ok());
  EXPECT_EQ(CheckBlock(back, old_blocks + 10, 7), "");
}

TEST_F(EngineLuChangesTest, AddedLuBecomesADiskWithItsFourPaths) {
  Build();
  ASSERT_EQ(engine_->Disks().size(), 2U);
  array::LuConfig lu = array_->config().lus.at(0);
  lu.lun = 2;
  lu.serial.clear();
  {
    const Status added = array_->AddLogicalUnit(lu);
    ASSERT_TRUE(added.ok()) << added.ToString();
  }
  TouchEveryDisk();
  ASSERT_TRUE(RunUntil(
      [&] {
        const auto disks = engine_->Disks();
        return disks.size() == 3 && Online(disks[2]) == 4 && disks[2].blocks == lu.blocks;
      },
      seconds(30)))
      << "LU 2 was not discovered on every port" << Dump();
  EXPECT_TRUE(engine_->DiscoveryIdle());
  Load l(engine_->Disk(2), 4096, 31);
  l.Start(400, 8);
  ASSERT_TRUE(RunLoad(l));
  EXPECT_EQ(l.errors(), 0U);
  EXPECT_EQ(l.mismatches(), 0U);
  for (const auto& m : l.messages()) ADD_FAILURE() << m;
}

TEST_F(EngineLuChangesTest, RemovedLuLeavesItsDiskAndOthersCarryOn) {
  Build();
  const std::size_t keep = DiskOfLu(0);
  const std::size_t gone = DiskOfLu(1);
  ASSERT_TRUE(array_->RemoveLogicalUnit(1).ok());
  // The removed LU's own requests end with an error (25/00 on every path),
  // never a hang.
  std::vector<std::byte> b(512);
  const Status st = Io(gone, false, 0, b);
  EXPECT_FALSE(st.ok());
  TouchEveryDisk(gone);
  ASSERT_TRUE(RunUntil([&] { return Online(engine_->Disks()[gone]) == 0; }, seconds(30)))
      << "the removed LU's paths stayed online";
  // The path monitor does not bring them back, and LU 0 is untouched.
  ex_.RunFor(seconds(60));
  EXPECT_EQ(Online(engine_->Disks()[gone]), 0U);
  EXPECT_EQ(Online(engine_->Disks()[keep]), 4U);
  Load l(engine_->Disk(keep), 4096, 41);
  l.Start(400, 8);
  ASSERT_TRUE(RunLoad(l));
  EXPECT_EQ(l.errors(), 0U);
  EXPECT_EQ(l.mismatches(), 0U);
  // Once no port lists it, its requests fail at once, saying why.
  const TimePoint asked = ex_.Now();
  const Status later = Io(gone, false, 0, b);
  EXPECT_EQ(later.code(), static_cast<std::uint32_t>(NtStatus::kNoSuchDevice)) << later.ToString();
  EXPECT_NE(later.message().find("removed"), std::string::npos) << later.ToString();
  EXPECT_LT(ex_.Now() - asked, seconds(1)) << "it waited for a path that cannot come";
}

TEST_F(EngineLuChangesTest, LuThatComesBackIsFoundOnItsOldPaths) {
  Build();
  const std::size_t disk = DiskOfLu(1);
  const std::string name = engine_->Disks()[disk].name;
  const array::LuConfig lu = array_->config().lus.at(1);
  ASSERT_TRUE(array_->RemoveLogicalUnit(1).ok());
  TouchEveryDisk(disk);
  ASSERT_TRUE(RunUntil([&] { return Online(engine_->Disks()[disk]) == 0; }, seconds(30)));
  {
    const Status added = array_->AddLogicalUnit(lu);
    ASSERT_TRUE(added.ok()) << added.ToString();
  }
  TouchEveryDisk(disk);
  ASSERT_TRUE(RunUntil([&] { return Online(engine_->Disks()[disk]) == 4; }, seconds(30)))
      << "the LU came back but its paths did not";
  EXPECT_EQ(engine_->Disks().size(), 2U) << "the same disk, not a new one";
  EXPECT_EQ(DiskNamed(name)->index, disk);
  Load l(engine_->Disk(disk), 4096, 51);
  l.Start(200, 8);
  ASSERT_TRUE(RunLoad(l));
  EXPECT_EQ(l.errors(), 0U);
  EXPECT_EQ(l.mismatches(), 0U);
}

// Issue 13 item 5: a LU removed and re-created at another size (and owner)
// is served at its new capacity, not the one the disk had before.
TEST_F(EngineLuChangesTest, LuThatComesBackAtAnotherSizeIsSeenAtItsNewSize) {
  Build();
  const std::size_t disk = DiskOfLu(1);
  array::LuConfig lu = array_->config().lus.at(1);
  const std::uint64_t old_blocks = engine_->Disks()[disk].blocks;
  ASSERT_TRUE(array_->RemoveLogicalUnit(1).ok());
  TouchEveryDisk(disk);
  ASSERT_TRUE(RunUntil([&] { return Online(engine_->Disks()[disk]) == 0; }, seconds(30)));
  lu.blocks = old_blocks * 4;
  {
    const Status added = array_->AddLogicalUnit(lu);
    ASSERT_TRUE(added.ok()) << added.ToString();
  }
  TouchEveryDisk(disk);
  ASSERT_TRUE(RunUntil([&] { return Online(engine_->Disks()[disk]) == 4; }, seconds(30)));
  ASSERT_TRUE(
      RunUntil([&] { return engine_->Disks()[disk].blocks == old_blocks * 4; }, seconds(30)))
      << "still " << engine_->Disks()[disk].blocks << " blocks" << Dump();
  std::vector<std::byte> b(512, std::byte{0x3C});
  const Status st = Io(disk, true, old_blocks * 4 - 1, b);  // the last block of the new LU
  EXPECT_TRUE(st.ok()) << st.ToString();
}

}  // namespace
}  // namespace openmpio::engine::testing

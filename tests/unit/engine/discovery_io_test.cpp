// Discovery, dispatch and the policies on the demo array (engine_fixture.h).
#include <gtest/gtest.h>

#include "engine_fixture.h"

namespace openmpio::engine::testing {
namespace {

using scsi::AsymmetricAccessState;

class EngineDiscoveryTest : public EngineFixture {};

// DESIGN.md "Identity": 4 nexuses x 2 LUs = 8 paths, grouped by the VPD 0x83
// NAA designator into 2 disks of 4 paths; RTPG gives each LU's states (LU 0:
// group 1 A/O, group 2 A/N; LU 1 the opposite), VPD 0x83 type 5 each path's
// group, and RRWS (the ALUA default, spec/msdsm.md §3) uses the A/O pair.
TEST_F(EngineDiscoveryTest, FindsTwoDisksWithFourPathsAndTheirGroupStates) {
  Build();
  const auto disks = engine_->Disks();
  ASSERT_EQ(disks.size(), 2U);
  for (std::uint64_t lun = 0; lun < 2; ++lun) {
    const DiskInfo& d = disks[DiskOfLu(lun)];
    SCOPED_TRACE(d.name);
    EXPECT_TRUE(d.ready);
    EXPECT_EQ(d.block_size, 512U);
    EXPECT_EQ(d.blocks, 1U << 16);
    EXPECT_EQ(d.name.rfind("naa.", 0), 0U);
    EXPECT_EQ(d.vendor, "OPENMPIO");
    EXPECT_EQ(d.alua, dsm::AluaSupport::kImplicitAndExplicit);
    EXPECT_EQ(d.policy, dsm::LoadBalancePolicy::kRoundRobinWithSubset);
    EXPECT_EQ(d.max_transfer_blocks, 16384U);  // VPD 0xB0 of the demo array
    ASSERT_EQ(d.paths.size(), 4U);
    ASSERT_EQ(d.groups.size(), 2U);
    const std::uint16_t owner = lun == 0 ? 1 : 2;
    for (const GroupInfo& g : d.groups) {
      const auto want = g.tpg_id == owner ? AsymmetricAccessState::kActiveOptimized
                                          : AsymmetricAccessState::kActiveNonOptimized;
      EXPECT_EQ(g.state.raw, static_cast<std::uint8_t>(want)) << "group " << g.tpg_id;
    }
    for (const PathInfo& p : d.paths) {
      ASSERT_TRUE(p.tpg_id.has_value());
      EXPECT_EQ(*p.tpg_id, p.relative_target_port <= 2 ? 1 : 2);
      EXPECT_TRUE(p.online);
      const bool ao = *p.tpg_id == owner;
      EXPECT_EQ(p.state, ao ? dsm::PathState::kActiveOptimized : dsm::PathState::kActiveUnoptimized)
          << "port " << p.relative_target_port;
      EXPECT_EQ(p.usable, ao) << "port " << p.relative_target_port;
    }
  }
  // DsmPathId is per nexus: the same 4 ids on both disks.
  for (std::size_t i = 0; i < 4; ++i) EXPECT_EQ(disks[0].paths[i].id, disks[1].paths[i].id);
}

// Many random reads and writes on both disks, each block stamped and
// checksummed: every read returns exactly the last write (or zeros).
TEST_F(EngineDiscoveryTest, WriteThenReadKeepsEveryBlockOverManyRandomIos) {
  Build();
  Load l0(engine_->Disk(DiskOfLu(0)), 2048, 7);
  Load l1(engine_->Disk(DiskOfLu(1)), 2048, 8);
  l0.Start(3000, 16);
  l1.Start(3000, 16);
  ASSERT_TRUE(RunUntil([&] { return l0.done() && l1.done(); }, seconds(60)));
  for (Load* l : {&l0, &l1}) {
    EXPECT_EQ(l->errors(), 0U);
    EXPECT_EQ(l->mismatches(), 0U);
    for (const auto& m : l->messages()) ADD_FAILURE() << m;
  }
  // LU 0 went through group 1 only, LU 1 through group 2 only (A/O sets).
  EXPECT_GT(Media(1), 0U);
  EXPECT_GT(Media(2), 0U);
  EXPECT_GT(Media(3), 0U);
  EXPECT_GT(Media(4), 0U);
}

// A request larger than VPD 0xB0's MAXIMUM TRANSFER LENGTH (8 blocks here) is
// split: 64 blocks become 8 WRITE(16)s, and the data reads back.
TEST_F(EngineDiscoveryTest, SplitsRequestsAtTheMaximumTransferLength) {
  auto cfg = array::DemoArrayConfig(1U << 16);
  cfg.maximum_transfer_length = 8;
  Build(cfg);
  DiskHandle d = engine_->Disk(DiskOfLu(0));
  std::vector<std::byte> data(64 * 512), back(64 * 512);
  for (std::uint32_t i = 0; i < 64; ++i) {
    FillBlock(std::span<std::byte>(data).subspan(std::size_t{i} * 512, 512), 100 + i, 5);
  }
  auto writes = [&] {
    std::uint64_t w = 0;
    for (std::uint16_t p = 1; p <= 4; ++p) w += array_->Counters(p)->writes;
    return w;
  };
  const std::uint64_t before = writes();
  std::optional<Status> ws, rs;
  d.Write(100 * 512, data, [&](const Status& s) { ws = s; });
  ASSERT_TRUE(RunUntil([&] { return ws.has_value(); }, seconds(5)));
  ASSERT_TRUE(ws->ok()) << ws->ToString();
  EXPECT_EQ(writes() - before, 8U);
  d.Read(100 * 512, back, [&](const Status& s) { rs = s; });
  ASSERT_TRUE(RunUntil([&] { return rs.has_value(); }, seconds(5)));
  ASSERT_TRUE(rs->ok());
  EXPECT_EQ(back, data);
}

// Misaligned and out-of-range requests fail at once with
// STATUS_INVALID_PARAMETER; a medium-range error (ILLEGAL REQUEST) would be
// a failure to the caller, never a failover.
TEST_F(EngineDiscoveryTest, RejectsMisalignedAndOutOfRangeRequests) {
  Build();
  DiskHandle d = engine_->Disk(0);
  std::vector<std::byte> buf(512);
  std::optional<Status> a, b;
  d.Read(100, buf, [&](const Status& s) { a = s; });
  d.Read(d.size_bytes(), buf, [&](const Status& s) { b = s; });
  ASSERT_TRUE(a && b);
  EXPECT_TRUE(a->Is(NtStatus::kInvalidParameter));
  EXPECT_TRUE(b->Is(NtStatus::kInvalidParameter));
}

// Every policy (1..7) carries LU 0's I/O on its A/O paths (ports 1, 2) only;
// Fail Over Only on exactly one of them.
TEST_F(EngineDiscoveryTest, EveryPolicyKeepsTheActiveOptimizedSet) {
  Build();
  const std::size_t disk = DiskOfLu(0);
  for (std::uint32_t p = 1; p <= 7; ++p) {
    const auto policy = static_cast<dsm::LoadBalancePolicy>(p);
    SCOPED_TRACE("policy " + std::to_string(p));
    ASSERT_TRUE(engine_->SetLoadBalancePolicy(disk, policy).ok());
    std::uint64_t before[5];
    for (std::uint16_t port = 1; port <= 4; ++port) before[port] = Media(port);
    Load l(engine_->Disk(disk), 2048, 100 + p, std::uint64_t{p} * 4096);
    l.Start(400, 8);
    ASSERT_TRUE(RunLoad(l));
    EXPECT_EQ(l.errors(), 0U);
    EXPECT_EQ(l.mismatches(), 0U);
    EXPECT_EQ(Media(3), before[3]);
    EXPECT_EQ(Media(4), before[4]);
    const std::uint64_t on1 = Media(1) - before[1], on2 = Media(2) - before[2];
    EXPECT_EQ(on1 + on2, 400U);
    if (policy == dsm::LoadBalancePolicy::kFailOverOnly) {
      EXPECT_TRUE(on1 == 0 || on2 == 0);
    } else if (policy == dsm::LoadBalancePolicy::kRoundRobin ||
               policy == dsm::LoadBalancePolicy::kRoundRobinWithSubset) {
      EXPECT_GT(on1, 100U);
      EXPECT_GT(on2, 100U);
    }
  }
}

}  // namespace
}  // namespace openmpio::engine::testing

// Marginal paths and path verification, in virtual time: a nexus that fails
// and recovers N times within the window is held out for the hold time; a
// silently dead path is found by PathVerifyEnabled's TEST UNIT READY.
#include <gtest/gtest.h>

#include "engine_fixture.h"

namespace openmpio::engine::testing {
namespace {

class MarginalTest : public EngineFixture {
 protected:
  bool Usable(std::size_t disk, std::uint16_t port) {
    return PathOnPort(engine_->Disks()[disk], port)->usable;
  }
};

// marginal_path_failures 3 in 60 s, hold 120 s. Port 1's link drops three
// times (idle, so nothing is of unknown fate): the first two failures are
// reinstated within a few RetryIntervals, the third is held out — still out
// 100 s later although its link answers — and reinstated after the hold.
TEST_F(MarginalTest, FlappingPathIsHeldOutForTheHoldTime) {
  EngineConfig ec = TestConfig();
  ec.marginal_path_failures = 3;
  ec.marginal_path_window = seconds(60);
  ec.marginal_path_hold = seconds(120);
  Build(array::DemoArrayConfig(1U << 16), ec);
  const std::size_t disk = DiskOfLu(0);
  for (int cycle = 0; cycle < 2; ++cycle) {
    fabric_->Drop(1);
    ASSERT_TRUE(RunUntil([&] { return !Usable(disk, 1); }, seconds(5))) << cycle;
    ASSERT_TRUE(RunUntil([&] { return Usable(disk, 1); }, seconds(20))) << cycle;
  }
  EXPECT_EQ(engine_->Nexuses()[0].marginal_holds, 0U);
  fabric_->Drop(1);
  ASSERT_TRUE(RunUntil([&] { return !Usable(disk, 1); }, seconds(5)));
  const TimePoint failed_at = ex_.Now();
  EXPECT_FALSE(RunUntil([&] { return Usable(disk, 1); }, seconds(100))) << "held out";
  EXPECT_EQ(engine_->Nexuses()[0].marginal_holds, 1U);
  EXPECT_TRUE(engine_->Nexuses()[0].held);
  EXPECT_TRUE(Usable(disk, 2)) << "the other A/O path carries the I/O meanwhile";
  ASSERT_TRUE(RunUntil([&] { return Usable(disk, 1); }, seconds(60))) << "back after the hold";
  EXPECT_GE(ex_.Now() - failed_at, seconds(120));
  EXPECT_FALSE(engine_->Nexuses()[0].held);
}

// Off by default: the same three drops are each reinstated.
TEST_F(MarginalTest, OffByDefault) {
  Build();
  const std::size_t disk = DiskOfLu(0);
  for (int cycle = 0; cycle < 3; ++cycle) {
    fabric_->Drop(1);
    ASSERT_TRUE(RunUntil([&] { return !Usable(disk, 1); }, seconds(5))) << cycle;
    ASSERT_TRUE(RunUntil([&] { return Usable(disk, 1); }, seconds(20))) << cycle;
  }
  EXPECT_EQ(engine_->Nexuses()[0].marginal_holds, 0U);
}

// PathVerifyEnabled: port 1's link hangs silently (no connection event, no
// I/O to notice it). Within PathVerificationPeriod (+ the TUR's command
// timeout) the verification fails the path. Without verification it stays
// "usable" for as long.
TEST_F(MarginalTest, PathVerificationFindsASilentlyDeadPath) {
  EngineConfig ec = TestConfig();
  ec.path_verify_enabled = true;
  ec.path_verification_period = seconds(10);
  Build(array::DemoArrayConfig(1U << 16), ec);
  const std::size_t disk = DiskOfLu(0);
  fabric_->Hang(1);
  ASSERT_TRUE(Usable(disk, 1));
  EXPECT_TRUE(RunUntil([&] { return !Usable(disk, 1); }, seconds(10) + seconds(3)));
  EXPECT_TRUE(Usable(disk, 2));
}

TEST_F(MarginalTest, WithoutVerificationASilentlyDeadIdlePathIsNotNoticed) {
  Build();
  const std::size_t disk = DiskOfLu(0);
  fabric_->Hang(1);
  EXPECT_FALSE(RunUntil([&] { return !Usable(disk, 1); }, seconds(40)));
}

// FOO with port 2 preferred: I/O goes to port 2; port 2's link drops, I/O
// fails over (port 1); when port 2 returns, FOO fails back to it.
TEST_F(MarginalTest, FailOverOnlyFailsBackToThePreferredPath) {
  Build();
  const std::size_t disk = DiskOfLu(0);
  const DiskInfo info = engine_->Disks()[disk];
  const PathInfo* p2 = PathOnPort(info, 2);
  ASSERT_NE(p2, nullptr);
  ASSERT_TRUE(engine_->SetLoadBalancePolicy(disk, dsm::LoadBalancePolicy::kFailOverOnly, p2->id).ok());
  ex_.RunUntilIdle();
  EXPECT_TRUE(Usable(disk, 2));
  EXPECT_FALSE(Usable(disk, 1));
  fabric_->Drop(2);
  ASSERT_TRUE(RunUntil([&] { return Usable(disk, 1) && !Usable(disk, 2); }, seconds(5)));
  ASSERT_TRUE(RunUntil([&] { return Usable(disk, 2); }, seconds(30))) << "failback";
  EXPECT_FALSE(Usable(disk, 1)) << "FOO: one path only";
  const std::uint64_t before = Media(2);
  Load l(engine_->Disk(disk), 1024, 71);
  l.Start(100, 4);
  ASSERT_TRUE(RunLoad(l));
  EXPECT_EQ(l.errors(), 0U);
  EXPECT_GE(Media(2), before + 100);
}

}  // namespace
}  // namespace openmpio::engine::testing

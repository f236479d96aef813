// Failover, ALUA changes, path recovery and no-path queueing, on virtual time
// with the sim fabric's and the array's fault injectors (never sleeps).
#include <gtest/gtest.h>

#include "engine_fixture.h"

namespace openmpio::engine::testing {
namespace {

using scsi::AsymmetricAccessState;

class EngineFailoverTest : public EngineFixture {};

// A link drop under load (DESIGN.md "Error interpretation": nothing that
// reached a usable path is lost): 0 caller errors, I/O continues on port 2,
// the dropped path is failed; when the link takes logins again, the monitor
// reinstates it and RRWS uses it again (failback).
TEST_F(EngineFailoverTest, LinkDropMidLoadLosesNothingAndThePathIsReinstated) {
  Build();
  const std::size_t disk = DiskOfLu(0);
  Load l(engine_->Disk(disk), 4096, 11);
  l.Start(4000, 16);
  ex_.RunFor(milliseconds(5));
  ASSERT_FALSE(l.done());
  fabric_->Drop(1);
  fabric_->RefuseReconnect(1, true);
  // Writes lost with the connection are fenced only by a new session on
  // the nexus (DESIGN.md "Write fencing"): let the link take logins again
  // within the no-path time, else overlapping writes would fail (fence_test).
  ex_.RunFor(seconds(5));
  fabric_->RefuseReconnect(1, false);
  ASSERT_TRUE(RunLoad(l));
  EXPECT_EQ(l.errors(), 0U);
  EXPECT_EQ(l.mismatches(), 0U);
  for (const auto& m : l.messages()) ADD_FAILURE() << m;
  EXPECT_GT(engine_->Nexuses()[0].transport_errors, 0U) << "the drop hit commands in flight";
  {
    const DiskInfo d = engine_->Disks()[disk];
    EXPECT_TRUE(PathOnPort(d, 2)->usable);
    EXPECT_FALSE(PathOnPort(d, 3)->usable);  // still A/N, port 2 is A/O
    EXPECT_EQ(d.unknown_fate_writes, 0U) << "the reinstated session fenced every lost write";
  }
  // Link back: found within the recovery back-off (RetryInterval doubling).
  ASSERT_TRUE(RunUntil([&] { return PathOnPort(engine_->Disks()[disk], 1)->usable; }, seconds(30)));
  EXPECT_GE(engine_->Nexuses()[0].reinstatements, 1U);
  const std::uint64_t before = Media(1);
  Load again(engine_->Disk(disk), 2048, 12, 8192);
  again.Start(200, 8);
  ASSERT_TRUE(RunLoad(again));
  EXPECT_EQ(again.errors(), 0U);
  EXPECT_GT(Media(1), before + 50);
}

// Group 1 goes A/O → Standby for LU 0 (the array raises 2A/06 on every
// nexus; in-flight and later media commands through ports 1, 2 get UA, then
// 04/0B): RTPG, and I/O moves to group 2 (A/N, promoted) with 0 errors.
TEST_F(EngineFailoverTest, ActiveOptimizedToStandbyMovesIoToTheOtherGroup) {
  Build();
  const std::size_t disk = DiskOfLu(0);
  Load l(engine_->Disk(disk), 4096, 21);
  l.Start(3000, 16);
  ex_.RunFor(milliseconds(5));
  ASSERT_FALSE(l.done());
  ASSERT_TRUE(array_->SetAccessState(0, 1, AsymmetricAccessState::kStandby, ex_.Now()).ok());
  const std::uint64_t before3 = Media(3), before4 = Media(4);
  ASSERT_TRUE(RunLoad(l));
  EXPECT_EQ(l.errors(), 0U);
  EXPECT_EQ(l.mismatches(), 0U);
  for (const auto& m : l.messages()) ADD_FAILURE() << m;
  EXPECT_GT(engine_->Nexuses()[0].retries + engine_->Nexuses()[1].retries, 0U)
      << "2A/06 / 04/0B answers were seen and handled";
  EXPECT_GT(Media(3), before3);
  EXPECT_GT(Media(4), before4);
  const DiskInfo d = engine_->Disks()[disk];
  for (const PathInfo& p : d.paths) {
    EXPECT_TRUE(p.online) << "standby paths are alive, not failed: port " << p.relative_target_port;
    EXPECT_EQ(p.usable, p.relative_target_port >= 3) << "port " << p.relative_target_port;
  }
  for (const GroupInfo& g : d.groups) {
    if (g.tpg_id == 1) {
      EXPECT_EQ(g.state.raw, static_cast<std::uint8_t>(AsymmetricAccessState::kStandby));
    }
  }
  // LU 1 is untouched: still A/O through group 2.
  const DiskInfo other = engine_->Disks()[DiskOfLu(1)];
  EXPECT_TRUE(PathOnPort(other, 3)->usable);
  EXPECT_FALSE(PathOnPort(other, 1)->usable);
}

// A Transitioning window: every media command to LU 0 answers 04/0A for
// 1.5 s (shorter than the 2 s implicit transition time RTPG reports). The
// requests wait it out — retried after pauses, RTPG refreshed — and complete
// with 0 errors, no earlier than the storm's end.
TEST_F(EngineFailoverTest, TransitioningWindowIsWaitedOut) {
  Build();
  const std::size_t disk = DiskOfLu(0);
  array::FaultSpec f = LuFault(0, array::FaultKind::kTransitionStorm);
  f.duration = milliseconds(1500);
  const TimePoint start = ex_.Now();
  ASSERT_TRUE(array_->InjectFault(f, start).has_value());
  Load l(engine_->Disk(disk), 2048, 31);
  l.Start(200, 8);
  ASSERT_TRUE(RunLoad(l, seconds(30)));
  EXPECT_EQ(l.errors(), 0U);
  for (const auto& m : l.messages()) ADD_FAILURE() << m;
  EXPECT_GE(ex_.Now() - start, milliseconds(1500));
  const DiskInfo d = engine_->Disks()[disk];
  for (const PathInfo& p : d.paths) EXPECT_TRUE(p.online) << "04/0A is not a path failure";
}

// All four links down, back after 10 s (< the 20 s no-path time): the
// requests queue (no error, no completion meanwhile), and complete once the
// paths are probed back (every RetryInterval while the disk has no path).
TEST_F(EngineFailoverTest, AllPathsDownAndBackWithinTheNoPathTime) {
  Build();
  const std::size_t disk = DiskOfLu(0);
  for (std::uint16_t p = 1; p <= 4; ++p) {
    fabric_->Drop(p);
    fabric_->RefuseReconnect(p, true);
  }
  Load l(engine_->Disk(disk), 2048, 41);
  l.Start(64, 16);
  ex_.RunFor(seconds(10));
  EXPECT_EQ(l.completed(), 0U);
  EXPECT_GT(engine_->Disks()[disk].queued, 0U);
  for (std::uint16_t p = 1; p <= 4; ++p) fabric_->RefuseReconnect(p, false);
  const TimePoint back = ex_.Now();
  ASSERT_TRUE(RunLoad(l, seconds(20)));
  EXPECT_LE(ex_.Now() - back, seconds(3));  // probed every RetryInterval (1 s)
  EXPECT_EQ(l.errors(), 0U);
  EXPECT_EQ(l.mismatches(), 0U);
  for (const auto& m : l.messages()) ADD_FAILURE() << m;
  EXPECT_EQ(engine_->Disks()[disk].queued, 0U);
}

// All links down past the no-path time: the queued requests fail with
// STATUS_DEVICE_NOT_READY naming the no-path time — not a hang — 20 s after
// they queued; after the links return, I/O works again.
TEST_F(EngineFailoverTest, AllPathsDownPastTheNoPathTimeFailsThenResumes) {
  Build();
  const std::size_t disk = DiskOfLu(0);
  for (std::uint16_t p = 1; p <= 4; ++p) {
    fabric_->Drop(p);
    fabric_->RefuseReconnect(p, true);
  }
  ex_.RunFor(milliseconds(10));
  Load l(engine_->Disk(disk), 2048, 51);
  l.Start(16, 16);
  ex_.RunFor(seconds(19));
  EXPECT_EQ(l.completed(), 0U);
  ASSERT_TRUE(RunLoad(l, seconds(2)));
  EXPECT_EQ(l.errors(), 16U);
  for (const Status& s : l.statuses()) {
    EXPECT_TRUE(s.Is(NtStatus::kDeviceNotReady)) << s.ToString();
    EXPECT_NE(s.message().find("no usable path"), std::string::npos) << s.message();
  }
  for (std::uint16_t p = 1; p <= 4; ++p) fabric_->RefuseReconnect(p, false);
  ASSERT_TRUE(RunUntil([&] { return PathOnPort(engine_->Disks()[disk], 1)->usable; }, seconds(45)));
  Load again(engine_->Disk(disk), 2048, 52, 4096);
  again.Start(200, 8);
  ASSERT_TRUE(RunLoad(again));
  EXPECT_EQ(again.errors(), 0U);
  EXPECT_EQ(again.mismatches(), 0U);
}

// A hung link (commands held, no answer): the command timeout fails the
// path, writes of unknown fate are fenced and re-dispatched at once (DESIGN.md
// "Write fencing" rule 1); the link is released within the no-path time, the
// ABORT TASKs are answered and fence them: 0 caller errors, 0 bad blocks.
TEST_F(EngineFailoverTest, HungLinkTimesOutFencesAndLosesNothing) {
  Build();
  const std::size_t disk = DiskOfLu(0);
  Load l(engine_->Disk(disk), 4096, 61);
  l.Start(1000, 16);
  ex_.RunFor(milliseconds(2));
  fabric_->Hang(1);
  ex_.RunFor(seconds(3));
  {
    const DiskInfo d = engine_->Disks()[disk];
    EXPECT_FALSE(PathOnPort(d, 1)->usable);
    EXPECT_GT(d.fences_recorded, 0U);
  }
  fabric_->Release(1);
  ASSERT_TRUE(RunLoad(l, seconds(60)));
  EXPECT_EQ(l.errors(), 0U);
  EXPECT_EQ(l.mismatches(), 0U);
  for (const auto& m : l.messages()) ADD_FAILURE() << m;
  ASSERT_TRUE(RunUntil([&] { return engine_->Disks()[disk].unknown_fate_writes == 0; }, seconds(10)));
  fabric_->Restore(1);
}

}  // namespace
}  // namespace openmpio::engine::testing

// The Engine issue's concurrent data test, on virtual time: random reads and
// writes with a checksum per block on both LUs at once (4 paths in 2 TPGs, LU
// 0 owned by group 1, LU 1 by group 2) while, in turn, every fault of the
// sim's injectors strikes. Every block read is checked against the last
// write that completed (engine_fixture.h Load). The injector timeline is the
// test's: during phases with a usable path 0 caller errors are allowed; past
// the no-path time only clear errors; 0 corrupted blocks ever.
#include <gtest/gtest.h>

#include <algorithm>

#include "engine_fixture.h"

namespace openmpio::engine::testing {
namespace {

using scsi::AsymmetricAccessState;

class EngineScenarioTest : public EngineFixture {
 protected:
  // Runs one batch on both disks while `fault` is applied after `lead`;
  // returns when both finished.
  void Batch(Load& a, Load& b, std::size_t n, const std::function<void()>& fault,
             Duration lead = milliseconds(3), Duration limit = seconds(120)) {
    a.Start(n, 16);
    b.Start(n, 16);
    ex_.RunFor(lead);
    if (fault) fault();
    ASSERT_TRUE(RunUntil([&] { return a.done() && b.done(); }, limit));
  }

  void ExpectClean(const Load& l, const char* phase) {
    EXPECT_EQ(l.errors(), 0U) << phase;
    EXPECT_EQ(l.mismatches(), 0U) << phase;
    for (const auto& m : l.messages()) ADD_FAILURE() << phase << ": " << m;
  }
};

TEST_F(EngineScenarioTest, ConcurrentDataSurvivesEveryFaultInTurn) {
  Build();
  const std::size_t d0 = DiskOfLu(0), d1 = DiskOfLu(1);
  Load a(engine_->Disk(d0), 8192, 101);
  Load b(engine_->Disk(d1), 8192, 102);

  // 1. A link drops (port 1: LU 0's A/O group); it takes logins again 3 s later.
  Batch(a, b, 1500, [&] {
    fabric_->Drop(1);
    fabric_->RefuseReconnect(1, true);
    ex_.PostAfter(seconds(3), [&] { fabric_->RefuseReconnect(1, false); });
  });
  ExpectClean(a, "link drop");
  ExpectClean(b, "link drop");

  // 2. A link hangs (port 3: LU 1's A/O group) and is released 5 s later:
  // held writes re-dispatched at once, overlapping later ones wait for the
  // ABORT TASK answers.
  Batch(b, a, 1500, [&] {
    fabric_->Hang(3);
    ex_.PostAfter(seconds(5), [&] { fabric_->Release(3); });
  });
  ExpectClean(a, "link hang");
  ExpectClean(b, "link hang");
  fabric_->Restore(3);
  ASSERT_TRUE(RunUntil([&] { return engine_->Disks()[d1].unknown_fate_writes == 0; }, seconds(40)));

  // 3. Group 1 goes A/O → Standby for LU 0 (I/O moves to group 2), then
  // 4. → Transitioning (a 2 s storm of 04/0A for LU 0) → A/O.
  Batch(a, b, 1500, [&] {
    ASSERT_TRUE(array_->SetAccessState(0, 1, AsymmetricAccessState::kStandby, ex_.Now()).ok());
  });
  ExpectClean(a, "A/O -> Standby");
  Batch(a, b, 1500, [&] {
    array::FaultSpec f = LuFault(0, array::FaultKind::kTransitionStorm);
    f.duration = milliseconds(2000);
    ASSERT_TRUE(array_->InjectFault(f, ex_.Now()).has_value());
    ex_.PostAfter(milliseconds(1900), [&] {
      ASSERT_TRUE(
          array_->SetAccessState(0, 1, AsymmetricAccessState::kActiveOptimized, ex_.Now()).ok());
      ASSERT_TRUE(
          array_->SetAccessState(0, 2, AsymmetricAccessState::kActiveNonOptimized, ex_.Now()).ok());
    });
  });
  ExpectClean(a, "Transitioning storm -> A/O");
  ExpectClean(b, "Transitioning storm -> A/O");

  // 5. A LOGICAL UNIT RESET of LU 0.
  Batch(a, b, 1500, [&] { engine_->ResetLogicalUnit(d0, [](const Status&) {}); });
  ExpectClean(a, "LU reset");
  ExpectClean(b, "LU reset");

  // 6. Every path down, back after 10 s (< the 20 s no-path time).
  Batch(a, b, 600, [&] {
    for (std::uint16_t p = 1; p <= 4; ++p) {
      fabric_->Drop(p);
      fabric_->RefuseReconnect(p, true);
    }
    ex_.PostAfter(seconds(10), [&] {
      for (std::uint16_t p = 1; p <= 4; ++p) fabric_->RefuseReconnect(p, false);
    });
  });
  ExpectClean(a, "all paths down 10 s");
  ExpectClean(b, "all paths down 10 s");
  auto all_online = [&] {
    for (std::size_t d : {d0, d1}) {
      const DiskInfo i = engine_->Disks()[d];
      if (i.unknown_fate_writes != 0) return false;
      for (const PathInfo& p : i.paths) {
        if (!p.online) return false;
      }
    }
    return true;
  };
  ASSERT_TRUE(RunUntil(all_online, seconds(60))) << "every path reinstated, every fence lifted";

  // 7. Every path down for 30 s: clear errors (no hang) once the no-path
  // time is over, and I/O works again after.
  const std::size_t errors_before = a.errors() + b.errors();
  for (std::uint16_t p = 1; p <= 4; ++p) {
    fabric_->Drop(p);
    fabric_->RefuseReconnect(p, true);
  }
  ex_.PostAfter(seconds(30), [&] {
    for (std::uint16_t p = 1; p <= 4; ++p) fabric_->RefuseReconnect(p, false);
  });
  const TimePoint down = ex_.Now();
  Batch(a, b, 16, nullptr, milliseconds(0), seconds(25));
  EXPECT_GE(ex_.Now() - down, seconds(20)) << "queued for the no-path time first";
  EXPECT_GT(a.errors() + b.errors(), errors_before);
  for (const Load* l : {&a, &b}) {
    for (const Status& s : l->statuses()) {
      EXPECT_TRUE(s.Is(NtStatus::kDeviceNotReady) || s.Is(NtStatus::kIoTimeout)) << s.ToString();
    }
    EXPECT_EQ(l->mismatches(), 0U);
  }
  ASSERT_TRUE(RunUntil(all_online, seconds(60)));
  Load a2(engine_->Disk(d0), 4096, 103, 16384);
  Load b2(engine_->Disk(d1), 4096, 104, 16384);
  Batch(a2, b2, 1000, nullptr);
  ExpectClean(a2, "after the outage");
  ExpectClean(b2, "after the outage");
  // And the old regions still read back right (failed writes are unknown).
  Batch(a, b, 500, nullptr);
  EXPECT_EQ(a.mismatches(), 0U);
  EXPECT_EQ(b.mismatches(), 0U);
}

// The test of the test: an array that damages what it reads back (blocks
// 0..4095 of LU 0) is caught by the Load's verification.
TEST_F(EngineScenarioTest, ACorruptingArrayIsCaughtByTheVerification) {
  Build();
  array::FaultSpec f = LuFault(0, array::FaultKind::kCorruptRead);
  f.first_lba = 0;
  f.block_count = 4096;
  ASSERT_TRUE(array_->InjectFault(f, ex_.Now()).has_value());
  Load l(engine_->Disk(DiskOfLu(0)), 4096, 105);
  l.Start(600, 8);
  ASSERT_TRUE(RunLoad(l));
  EXPECT_EQ(l.errors(), 0U);
  EXPECT_GT(l.mismatches(), 0U) << "a corrupting array must not pass the data check";
}

// Policy changed live, every selectable policy in turn, twice, under load:
// no error, no corrupted block, and no stall. Precisely, in virtual time: 16
// requests are in flight at every change, and no request's latency (issue →
// callback) exceeds the longest single-command service time of the sim
// (measured first, on the same load with no change: the link's round trip,
// 2 x 100 us — every request here is one command) plus the set's own work
// (the virtual time SetLoadBalancePolicy took on the control executor).
TEST_F(EngineScenarioTest, PolicyChangedLiveUnderLoad) {
  Build();
  const std::size_t d0 = DiskOfLu(0);
  const DiskInfo info = engine_->Disks()[d0];
  Load l(engine_->Disk(d0), 8192, 106);
  l.SetClock(&ex_);
  l.Start(4000, 16);
  // The baseline: the longest request of the load with the policy unchanged.
  const std::size_t warm = l.completed();
  ASSERT_TRUE(RunUntil([&] { return l.completed() >= warm + 500; }, seconds(1)));
  const Duration service = l.max_latency();
  EXPECT_EQ(service, std::chrono::microseconds(200)) << "the sim's round trip (2 x 100 us)";
  l.ResetMaxLatency();

  Duration set_work{0};
  std::size_t changes = 0;
  using P = dsm::LoadBalancePolicy;
  for (int round = 0; round < 2; ++round) {
    for (P p : {P::kFailOverOnly, P::kRoundRobin, P::kRoundRobinWithSubset, P::kLeastQueueDepth,
                P::kWeightedPaths, P::kLeastBlocks, P::kServiceTime}) {
      const dsm::DsmPathId pref = p == P::kFailOverOnly ? PathOnPort(info, 2)->id : dsm::kNoPreferredPath;
      ASSERT_EQ(l.in_flight(), 16U) << "the change happens under load";
      const TimePoint t0 = ex_.Now();
      ASSERT_TRUE(engine_->SetLoadBalancePolicy(d0, p, pref).ok()) << static_cast<int>(p);
      set_work = std::max(set_work, ex_.Now() - t0);
      ++changes;
      const std::size_t before = l.completed();
      ASSERT_TRUE(RunUntil([&] { return l.completed() >= before + 50; }, milliseconds(50)))
          << "stalled after switching to policy " << static_cast<int>(p);
      EXPECT_EQ(engine_->Disks()[d0].policy, p);
      EXPECT_LE(l.max_latency(), service + set_work)
          << "a request took longer than one command right after switching to policy "
          << static_cast<int>(p);
    }
  }
  EXPECT_EQ(changes, 14U);
  ASSERT_TRUE(RunLoad(l));
  EXPECT_LE(l.max_latency(), service + set_work);
  EXPECT_EQ(l.errors(), 0U);
  EXPECT_EQ(l.mismatches(), 0U);
  for (const auto& m : l.messages()) ADD_FAILURE() << m;
}

// Failover time (fault → first completion on another path) over 100 link
// drops: one write at a time pinned to port 1 (Fail Over Only, preferred
// path on port 1); the link drops while the write is in the link; the write
// completes through port 2. After each drop the path is reinstated and FOO
// fails back to it (the next write goes to port 1 again). Virtual time: the
// numbers are the model's (100 µs one-way latency), printed for the report.
TEST_F(EngineScenarioTest, FailoverTimeOverAHundredLinkDrops) {
  Build();
  const std::size_t d0 = DiskOfLu(0);
  UseFailOverOnly(d0, 1);
  DiskHandle h = engine_->Disk(d0);
  std::vector<Duration> times;
  std::vector<std::byte> buf(512);
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(RunUntil([&] { return PathOnPort(engine_->Disks()[d0], 1)->usable; }, seconds(60)))
        << "drop " << i << ": port 1 not reinstated";
    FillBlock(buf, static_cast<std::uint64_t>(i), static_cast<std::uint64_t>(i + 1));
    const std::uint64_t port1 = fabric_->Counters(1).commands;
    bool done = false;
    Status st;
    TimePoint when{};
    h.Write(static_cast<std::uint64_t>(i) * 512, buf, [&](const Status& s) {
      done = true;
      st = s;
      when = ex_.Now();
    });
    ex_.RunFor(std::chrono::microseconds(50));  // in the link toward port 1
    ASSERT_FALSE(done);
    const TimePoint fault = ex_.Now();
    fabric_->Drop(1);
    ASSERT_TRUE(RunUntil([&] { return done; }, seconds(5)));
    ASSERT_TRUE(st.ok()) << st.ToString();
    EXPECT_EQ(fabric_->Counters(1).commands, port1) << "the first copy was lost with the link";
    times.push_back(when - fault);
  }
  std::sort(times.begin(), times.end());
  auto us = [](Duration d) {
    return std::chrono::duration_cast<std::chrono::microseconds>(d).count();
  };
  std::printf("failover time over %zu link drops (virtual): min %lld us, median %lld us, max %lld us\n",
              times.size(), static_cast<long long>(us(times.front())),
              static_cast<long long>(us(times[times.size() / 2])),
              static_cast<long long>(us(times.back())));
  EXPECT_LE(times.back(), milliseconds(5)) << "re-dispatch is immediate (DESIGN.md Timers)";
  // Every block holds its write.
  std::vector<std::byte> rd(100 * 512);
  bool done = false;
  h.Read(0, rd, [&](const Status& s) {
    EXPECT_TRUE(s.ok());
    done = true;
  });
  ASSERT_TRUE(RunUntil([&] { return done; }, seconds(5)));
  for (std::uint64_t i = 0; i < 100; ++i) {
    EXPECT_EQ(CheckBlock(std::span<const std::byte>(rd).subspan(i * 512, 512), i, i + 1), "");
  }
}

}  // namespace
}  // namespace openmpio::engine::testing

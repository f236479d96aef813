// Write fencing (DESIGN.md "Write fencing"), on virtual time with the sim
// fabric's link faults. Every test pins the first copy of a write to port 1
// (Fail Over Only, preferred path on port 1), makes its fate unknown, and
// checks: the write itself completes at once through port 2 (rule 1), a later
// overlapping write waits until the target confirmed a fence (rule 2), reads
// and non-overlapping writes are never held, and the final data is the later
// write's — while the late first copy really does reach the array (the
// hazard is real, so these tests would fail without the fence).
#include <gtest/gtest.h>

#include "engine_fixture.h"

namespace openmpio::engine::testing {
namespace {

// One caller request's outcome, polled by the test.
struct Pending {
  bool done = false;
  Status status;
  TimePoint when{};
  std::vector<std::byte> buf;
};

class EngineFenceTest : public EngineFixture {
 protected:
  virtual EngineConfig Config() { return TestConfig(); }

  void SetUp() override {
    Build(array::DemoArrayConfig(1U << 16), Config());
    disk_ = DiskOfLu(0);
    UseFailOverOnly(disk_, 1);
    h_ = engine_->Disk(disk_);
  }

  std::shared_ptr<Pending> Write(std::uint64_t lba, std::uint32_t blocks, std::uint64_t stamp) {
    auto p = std::make_shared<Pending>();
    p->buf.resize(std::size_t{blocks} * 512);
    for (std::uint32_t i = 0; i < blocks; ++i) {
      FillBlock(std::span<std::byte>(p->buf).subspan(std::size_t{i} * 512, 512), lba + i, stamp);
    }
    h_.Write(lba * 512, p->buf, [this, p](const Status& s) {
      p->done = true;
      p->status = s;
      p->when = ex_.Now();
    });
    return p;
  }

  std::shared_ptr<Pending> Read(std::uint64_t lba, std::uint32_t blocks) {
    auto p = std::make_shared<Pending>();
    p->buf.resize(std::size_t{blocks} * 512);
    h_.Read(lba * 512, p->buf, [this, p](const Status& s) {
      p->done = true;
      p->status = s;
      p->when = ex_.Now();
    });
    return p;
  }

  // Reads [lba, lba + stamps.size()) and checks each block's stamp.
  void ExpectBlocks(std::uint64_t lba, const std::vector<std::uint64_t>& stamps) {
    auto r = Read(lba, static_cast<std::uint32_t>(stamps.size()));
    ASSERT_TRUE(RunUntil([&] { return r->done; }, seconds(10)));
    ASSERT_TRUE(r->status.ok()) << r->status.ToString();
    for (std::size_t i = 0; i < stamps.size(); ++i) {
      EXPECT_EQ(
          CheckBlock(std::span<const std::byte>(r->buf).subspan(i * 512, 512), lba + i, stamps[i]),
          "");
    }
  }

  // Data-out bytes the target received through a port (the sim fabric counts
  // them on arrival at the target).
  std::uint64_t BytesToTarget(std::uint16_t port) { return fabric_->Counters(port).bytes_out; }

  DiskInfo Info() { return engine_->Disks()[disk_]; }

  void HungLinkReleasedLate(Duration first_copy_given_up_after);

  std::size_t disk_ = 0;
  DiskHandle h_;
};

// Hang, then release late. W1 (blocks 100..103) goes to port 1 and is held in
// the link; the hedge gives up on it after ~20 ms (hedge.cpp; at the 2 s
// command timeout with the hedge off, EngineFenceNoHedgeTest) and it is
// re-dispatched through port 2 and completes (rule 1). W2 (102..105)
// overlaps it and waits; a read of 100..103 and a write elsewhere do not.
// 6 s later the link releases: the held W1 copy reaches the array (its write
// counter on port 1 moves), then the ABORT TASK sent behind it on the same
// connection is answered TASK DOES NOT EXIST — the fence — and only then W2
// goes. Final data: 100,101 from W1, 102..105 from W2.
void EngineFenceTest::HungLinkReleasedLate(Duration first_copy_given_up_after) {
  fabric_->Hang(1);
  const TimePoint t0 = ex_.Now();
  auto w1 = Write(100, 4, 1);
  ASSERT_TRUE(RunUntil([&] { return w1->done; }, seconds(5)));
  EXPECT_TRUE(w1->status.ok()) << w1->status.ToString();
  EXPECT_GE(w1->when - t0, first_copy_given_up_after);
  EXPECT_LT(w1->when - t0, first_copy_given_up_after + milliseconds(100))
      << "re-dispatched at once";
  EXPECT_EQ(Info().unknown_fate_writes, 1U);

  auto w2 = Write(102, 4, 2);
  auto rd = Read(100, 4);
  auto other = Write(300, 2, 3);
  ex_.RunFor(seconds(4));
  EXPECT_FALSE(w2->done) << "an overlapping write waits for the fence";
  EXPECT_EQ(Info().fence_waiters, 1U);
  ASSERT_TRUE(rd->done) << "reads are never held";
  ASSERT_TRUE(other->done) << "a write elsewhere is not held";
  EXPECT_TRUE(other->status.ok());
  for (std::size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(CheckBlock(std::span<const std::byte>(rd->buf).subspan(i * 512, 512), 100 + i, 1),
              "");
  }

  const std::uint64_t port1_bytes = BytesToTarget(1);
  const TimePoint released = ex_.Now();
  fabric_->Release(1);
  ASSERT_TRUE(RunUntil([&] { return w2->done; }, seconds(5)));
  EXPECT_TRUE(w2->status.ok()) << w2->status.ToString();
  EXPECT_GE(w2->when, released);
  EXPECT_EQ(BytesToTarget(1), port1_bytes + 4 * 512)
      << "the late first copy of W1 did reach the target";
  const DiskInfo d = Info();
  EXPECT_EQ(d.unknown_fate_writes, 0U);
  EXPECT_EQ(d.fences_lifted, 1U);
  EXPECT_EQ(d.fence_held_writes, 1U);
  ExpectBlocks(100, {1, 1, 2, 2, 2, 2});
  fabric_->Restore(1);
}

TEST_F(EngineFenceTest, HungLinkReleasedLateTheOverlappingWriteWaitsForTheAbortAnswer) {
  HungLinkReleasedLate(milliseconds(20));  // the hedge's floor
}

class EngineFenceNoHedgeTest : public EngineFenceTest {
 protected:
  EngineConfig Config() override {
    EngineConfig c = TestConfig();
    c.hedge_floor = Duration{0};
    return c;
  }
};

TEST_F(EngineFenceNoHedgeTest, HungLinkReleasedLateTheOverlappingWriteWaitsForTheAbortAnswer) {
  HungLinkReleasedLate(seconds(2));  // the command timeout
}

// Connection lost: the copy may still be in flight (a proxy, the target's
// queue), and ABORT TASK cannot be sent without a connection. W2 waits while
// the port refuses logins; the monitor's reconnect (session reinstatement:
// the target ends the old session) is the fence, and W2 goes right after it.
TEST_F(EngineFenceTest, ConnectionLossIsFencedBySessionReinstatement) {
  fabric_->Delay(1, milliseconds(50));  // W1 is surely in the link when it drops
  auto w1 = Write(100, 4, 1);
  ex_.RunFor(milliseconds(10));
  fabric_->Drop(1);
  fabric_->RefuseReconnect(1, true);
  ASSERT_TRUE(RunUntil([&] { return w1->done; }, seconds(1)));
  EXPECT_TRUE(w1->status.ok()) << w1->status.ToString();
  EXPECT_EQ(Info().unknown_fate_writes, 1U);
  auto w2 = Write(101, 1, 2);
  ex_.RunFor(seconds(8));
  EXPECT_FALSE(w2->done);
  const TimePoint allowed = ex_.Now();
  fabric_->RefuseReconnect(1, false);
  ASSERT_TRUE(RunUntil([&] { return w2->done; }, seconds(10)));
  EXPECT_TRUE(w2->status.ok()) << w2->status.ToString();
  EXPECT_GE(w2->when, allowed);
  EXPECT_GE(engine_->Nexuses()[0].probes, 1U);
  EXPECT_EQ(Info().unknown_fate_writes, 0U);
  ExpectBlocks(100, {1, 2, 1, 1});
}

// The hardest case of the DESIGN text: a hung link whose connection then
// dies. The first copy is stranded in the link (connection loss is not a
// fence). The reconnect reinstates the session — the fence — so W2 goes;
// when the old link is finally released, the stranded W1 copy arrives for a
// session the target ended and is discarded: the final data stays W2's.
TEST_F(EngineFenceTest, StrandedCopyOfAReinstatedSessionIsDiscardedOnRelease) {
  fabric_->Hang(1);
  auto w1 = Write(100, 2, 1);
  ASSERT_TRUE(RunUntil([&] { return w1->done; }, seconds(5)));
  ASSERT_TRUE(w1->status.ok());
  auto w2 = Write(100, 2, 2);
  ex_.RunFor(milliseconds(100));
  EXPECT_FALSE(w2->done);
  fabric_->Drop(1);  // strands what is in the hung link; new logins pass
  ASSERT_TRUE(RunUntil([&] { return w2->done; }, seconds(10)));
  EXPECT_TRUE(w2->status.ok()) << w2->status.ToString();
  ExpectBlocks(100, {2, 2});
  fabric_->Release(1);  // the stranded W1 copy arrives now
  ex_.RunFor(seconds(1));
  EXPECT_GT(fabric_->Counters(1).discarded, 0U) << "the late copy was discarded by the target";
  ExpectBlocks(100, {2, 2});
}

// No fence within the no-path time (the link stays hung): the waiting
// overlapping write fails with STATUS_IO_TIMEOUT naming the blocks — not a
// hang, not silently dropped — and so does a later overlapping write, at
// once; non-overlapping writes and reads work throughout. When the link is
// released the ABORT TASK retried every RetryInterval is answered, the
// fence lifts, and overlapping writes work again.
TEST_F(EngineFenceTest, NoFenceWithinTheNoPathTimeFailsOverlappingWritesClearly) {
  fabric_->Hang(1);
  auto w1 = Write(100, 4, 1);
  ASSERT_TRUE(RunUntil([&] { return w1->done; }, seconds(5)));
  ASSERT_TRUE(w1->status.ok());
  const TimePoint recorded = ex_.Now();
  auto w2 = Write(103, 2, 2);
  ASSERT_TRUE(RunUntil([&] { return w2->done; }, seconds(30)));
  EXPECT_TRUE(w2->status.Is(NtStatus::kIoTimeout)) << w2->status.ToString();
  EXPECT_NE(w2->status.message().find("blocks 103..104"), std::string::npos)
      << w2->status.message();
  EXPECT_GE(w2->when - recorded, seconds(19));
  EXPECT_LE(w2->when - recorded, seconds(21));
  auto w3 = Write(101, 1, 3);
  ASSERT_TRUE(RunUntil([&] { return w3->done; }, milliseconds(10)));
  EXPECT_TRUE(w3->status.Is(NtStatus::kIoTimeout)) << w3->status.ToString();
  auto ok = Write(200, 4, 4);
  ASSERT_TRUE(RunUntil([&] { return ok->done; }, seconds(1)));
  EXPECT_TRUE(ok->status.ok());
  EXPECT_EQ(Info().fence_failed_writes, 2U);
  ExpectBlocks(100, {1, 1, 1, 1, 0});

  fabric_->Release(1);
  ASSERT_TRUE(RunUntil([&] { return Info().unknown_fate_writes == 0; }, seconds(40)));
  auto w4 = Write(101, 2, 5);
  ASSERT_TRUE(RunUntil([&] { return w4->done; }, seconds(5)));
  EXPECT_TRUE(w4->status.ok()) << w4->status.ToString();
  ExpectBlocks(100, {1, 5, 5, 1});
  fabric_->Restore(1);
}

// Writes waiting on one fence keep their submission order: W3 overlaps only
// W2 (not the fenced range), so it waits behind W2; both go after the fence
// and the final data of the shared block is W3's.
TEST_F(EngineFenceTest, WaitingWritesKeepTheirOrder) {
  fabric_->Hang(1);
  auto w1 = Write(100, 2, 1);
  ASSERT_TRUE(RunUntil([&] { return w1->done; }, seconds(5)));
  auto w2 = Write(101, 2, 2);  // overlaps W1's 101
  auto w3 = Write(102, 2, 3);  // overlaps W2's 102 only
  ex_.RunFor(seconds(1));
  EXPECT_FALSE(w2->done);
  EXPECT_FALSE(w3->done);
  EXPECT_EQ(Info().fence_waiters, 2U);
  fabric_->Release(1);
  ASSERT_TRUE(RunUntil([&] { return w2->done && w3->done; }, seconds(5)));
  EXPECT_TRUE(w2->status.ok());
  EXPECT_TRUE(w3->status.ok());
  EXPECT_LE(w2->when, w3->when);
  fabric_->Restore(1);
}

// LOGICAL UNIT RESET under load: the target aborts every command of the LU
// it holds (ours complete kAborted; other sessions' TASK ABORTED), raises
// 29/03 everywhere; the engine re-dispatches them all: 0 errors, 0 bad blocks.
TEST_F(EngineFenceTest, LogicalUnitResetUnderLoadReDispatchesEverything) {
  for (std::uint16_t p = 1; p <= 4; ++p) {
    fabric_->SetLinkModel(p, transport::sim::LinkModel{std::chrono::microseconds(100), 0,
                                                       std::chrono::microseconds(500)});
  }
  ASSERT_TRUE(engine_->SetLoadBalancePolicy(disk_, dsm::LoadBalancePolicy::kRoundRobin).ok());
  Load l(h_, 4096, 71);
  l.Start(2000, 32);
  int resets = 0;
  for (int i = 0; i < 5; ++i) {
    ex_.RunFor(milliseconds(20));
    bool answered = false;
    engine_->ResetLogicalUnit(disk_, [&](const Status& s) {
      EXPECT_TRUE(s.ok()) << s.ToString();
      answered = true;
    });
    ASSERT_TRUE(RunUntil([&] { return answered; }, seconds(2)));
    ++resets;
  }
  ASSERT_TRUE(RunLoad(l, seconds(60)));
  EXPECT_EQ(resets, 5);
  EXPECT_EQ(l.errors(), 0U);
  EXPECT_EQ(l.mismatches(), 0U);
  for (const auto& m : l.messages()) ADD_FAILURE() << m;
  std::uint64_t retries = 0;
  for (const NexusInfo& n : engine_->Nexuses()) retries += n.retries;
  EXPECT_GT(retries, 0U) << "the resets hit commands in flight";
  const DiskInfo d = Info();
  for (const PathInfo& p : d.paths) EXPECT_TRUE(p.online) << "a reset is not a path failure";
}

}  // namespace
}  // namespace openmpio::engine::testing

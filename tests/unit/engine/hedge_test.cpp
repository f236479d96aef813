// The hedge of a hung path (hedge.cpp; issue 13 item 7), on virtual time:
// one hung A/O path of two costs a request ~hedge_floor, not the command
// timeout, with every read checked and every write fenced; every path hung
// fails a request after one command timeout + PDORemovePeriod, not one
// command timeout per path; a path that was only slow is back within
// milliseconds.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "engine_fixture.h"

namespace openmpio::engine::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

class EngineHedgeTest : public EngineFixture {
 protected:
  // Events of the disk whose text contains `part`.
  std::size_t EventsWith(std::size_t disk, const std::string& part) {
    const std::string name = engine_->Disks()[disk].name;
    std::size_t n = 0;
    for (const EngineEvent& e : engine_->Events()) {
      if (e.disk == name && e.text.find(part) != std::string::npos) ++n;
    }
    return n;
  }
};

// Reads only, `depth` at a time, each one re-issued when it completes: the
// longest wait of any read, and the count of failed ones.
class ReadLoop {
 public:
  ReadLoop(DiskHandle disk, const Executor& clock, std::size_t depth)
      : disk_(disk), clock_(clock), bufs_(depth, std::vector<std::byte>(4096)) {}
  void Start() {
    for (std::size_t i = 0; i < bufs_.size(); ++i) Issue(i);
  }
  void Stop() { stopped_ = true; }
  [[nodiscard]] Duration max_wait() const { return max_wait_; }
  [[nodiscard]] std::size_t done() const { return done_; }
  [[nodiscard]] std::size_t failed() const { return failed_; }
  [[nodiscard]] std::size_t in_flight() const { return in_flight_; }

 private:
  void Issue(std::size_t slot) {
    const TimePoint at = clock_.Now();
    const std::uint64_t lba = (next_++ * 97) % 4000;
    ++in_flight_;
    disk_.Read(lba * 512, bufs_[slot], [this, slot, at](const Status& s) {
      --in_flight_;
      ++done_;
      if (!s.ok()) ++failed_;
      max_wait_ = std::max(max_wait_, clock_.Now() - at);
      if (!stopped_) Issue(slot);
    });
  }
  DiskHandle disk_;
  const Executor& clock_;
  std::vector<std::vector<std::byte>> bufs_;
  std::uint64_t next_ = 0;
  std::size_t in_flight_ = 0;
  std::size_t done_ = 0;
  std::size_t failed_ = 0;
  Duration max_wait_{0};
  bool stopped_ = false;
};

// RRWS over ports 1 and 2 (group 1, A/O). Port 1 hangs under 16 reads at a
// time: with the hedge no read waits 50 ms and port 1's path is failed as
// suspected hung, with an event; with the hedge off the reads sent to port 1
// wait the 2 s command timeout.
TEST_F(EngineHedgeTest, OneHungPathOfTwoCostsMillisecondsNotTheCommandTimeout) {
  for (const bool hedge : {true, false}) {
    SCOPED_TRACE(hedge ? "hedge on" : "hedge off");
    EngineConfig ec = TestConfig();
    if (!hedge) ec.hedge_floor = Duration{0};
    Build(array::DemoArrayConfig(1U << 16), ec);
    const std::size_t disk = DiskOfLu(0);
    ReadLoop reads(engine_->Disk(disk), ex_, 16);
    reads.Start();
    ex_.RunFor(milliseconds(5));
    const std::size_t before = reads.done();
    fabric_->Hang(1);
    ex_.RunFor(seconds(3));
    reads.Stop();
    ASSERT_TRUE(RunUntil([&] { return reads.in_flight() == 0; }, seconds(10)));
    EXPECT_EQ(reads.failed(), 0U);
    EXPECT_FALSE(PathOnPort(engine_->Disks()[disk], 1)->usable);
    if (hedge) {
      EXPECT_LT(reads.max_wait(), milliseconds(50));
      EXPECT_GT(reads.done() - before, 10000U) << "reads went on through port 2";
      EXPECT_EQ(EventsWith(disk, "failed: suspected hung: a READ outstanding"), 1U);
    } else {
      EXPECT_GE(reads.max_wait(), seconds(2));
      EXPECT_EQ(EventsWith(disk, "suspected hung"), 0U);
    }
    TearDown();
  }
}

// A verified mixed load (every read checked block by block) through the
// same hang: the hedge abandons writes too, as a timeout would (DESIGN.md
// "Write fencing": re-dispatched at once, later overlapping writes wait for
// the fence, which the ABORT TASK answered after the release brings).
// Nothing is lost or damaged.
TEST_F(EngineHedgeTest, HedgedWritesAreFencedAndNothingIsLost) {
  Build();
  const std::size_t disk = DiskOfLu(0);
  Load l(engine_->Disk(disk), 4096, 7);
  l.Start(4000, 16);
  ex_.RunFor(milliseconds(5));
  fabric_->Hang(1);
  ex_.RunFor(seconds(3));
  EXPECT_GT(engine_->Disks()[disk].fences_recorded, 0U);
  fabric_->Release(1);
  ASSERT_TRUE(RunLoad(l, seconds(60)));
  EXPECT_EQ(l.errors(), 0U);
  EXPECT_EQ(l.mismatches(), 0U);
  for (const auto& m : l.messages()) ADD_FAILURE() << m;
  ASSERT_TRUE(
      RunUntil([&] { return engine_->Disks()[disk].unknown_fate_writes == 0; }, seconds(10)));
}

// Every path of LU 0 hung (A/O ports 1, 2 and A/N ports 3, 4): the hedge
// moves the read along while another path could take it, the last path's
// command timeout (2 s) fails it, then the no-path time (PDORemovePeriod,
// 20 s) — about 22 s, where one command timeout per path made it 28 s.
TEST_F(EngineHedgeTest, EveryPathHungFailsAfterOneCommandTimeoutAndTheNoPathTime) {
  Build();
  const std::size_t disk = DiskOfLu(0);
  for (std::uint16_t p = 1; p <= 4; ++p) fabric_->Hang(p);
  std::vector<std::byte> buf(4096);
  const TimePoint t0 = ex_.Now();
  const Status s = RunOne([&](IoCallback cb) { engine_->Disk(disk).Read(0, buf, cb); });
  const Duration took = ex_.Now() - t0;
  EXPECT_TRUE(s.Is(NtStatus::kDeviceNotReady)) << s.ToString();
  EXPECT_GE(took, seconds(22));
  EXPECT_LT(took, milliseconds(22500));
  EXPECT_EQ(EventsWith(disk, "suspected hung"), 3U) << "ports 1, 2, 3; port 4 was the last";
}

// A path that is only slow for a moment (100 ms one way on port 1): its
// requests are moved on at the hedge, the probe sent at once finds it alive
// and it is back in well under a second; its new peak raises its threshold.
TEST_F(EngineHedgeTest, ASlowPathIsProbedAtOnceAndBackWithinMilliseconds) {
  Build();
  const std::size_t disk = DiskOfLu(0);
  Load l(engine_->Disk(disk), 4096, 11);
  l.SetClock(&ex_);
  fabric_->Delay(1, milliseconds(100));
  l.Start(200, 8);
  ASSERT_TRUE(RunUntil([&] { return !PathOnPort(engine_->Disks()[disk], 1)->usable; }, seconds(1)));
  const TimePoint failed = ex_.Now();
  fabric_->Delay(1, Duration{0});
  ASSERT_TRUE(RunUntil([&] { return PathOnPort(engine_->Disks()[disk], 1)->usable; }, seconds(5)));
  EXPECT_LT(ex_.Now() - failed, milliseconds(500)) << "probed at once, not after RetryInterval";
  ASSERT_TRUE(RunLoad(l, seconds(60)));
  EXPECT_EQ(l.errors(), 0U);
  EXPECT_EQ(l.mismatches(), 0U);
  EXPECT_LT(l.max_latency(), milliseconds(400));
}

}  // namespace
}  // namespace openmpio::engine::testing

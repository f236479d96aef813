// The ABORT TASK retry of a fence entry is bounded (fence.cpp): asked every
// RetryInterval while the answer is not a fence, but not past the entry's
// no-path time; the entry then expires (overlapping writes fail clearly) and
// is still fenced later by a session reinstatement. Virtual time.
#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "engine_fixture.h"

namespace openmpio::engine::testing {
namespace {

struct Pending {
  bool done = false;
  Status status;
  std::vector<std::byte> buf;
};

class FenceBoundTest : public EngineFixture {
 protected:
  void SetUp() override {
    Build();
    disk_ = DiskOfLu(0);
    UseFailOverOnly(disk_, 1);
  }

  std::shared_ptr<Pending> Write(std::uint64_t lba, std::uint32_t blocks, std::uint64_t stamp) {
    auto p = std::make_shared<Pending>();
    p->buf.resize(std::size_t{blocks} * 512);
    for (std::uint32_t i = 0; i < blocks; ++i) {
      FillBlock(std::span<std::byte>(p->buf).subspan(std::size_t{i} * 512, 512), lba + i, stamp);
    }
    engine_->Disk(disk_).Write(lba * 512, p->buf, [p](const Status& s) {
      p->done = true;
      p->status = s;
    });
    return p;
  }

  DiskInfo Info() { return engine_->Disks()[disk_]; }

  std::size_t disk_ = 0;
};

// The link of the write's first copy drops while the copy is in it, and the
// port refuses logins: ABORT TASK cannot be sent (not connected), asked again
// every RetryInterval (1 s) for the no-path time (20 s), then no more — where
// the retry used to run for as long as the link stayed dead. The entry
// expires (an overlapping write fails with STATUS_IO_TIMEOUT); when the port
// takes logins again the reconnect (session reinstatement) fences it.
TEST_F(FenceBoundTest, AbortTaskOnADeadLinkStopsAfterTheNoPathTime) {
  auto w1 = Write(100, 4, 1);
  ex_.RunFor(std::chrono::microseconds(50));  // in the link toward port 1
  ASSERT_FALSE(w1->done);
  fabric_->Drop(1);
  fabric_->RefuseReconnect(1, true);
  ASSERT_TRUE(RunUntil([&] { return w1->done; }, seconds(5)));
  ASSERT_TRUE(w1->status.ok()) << w1->status.ToString();
  ASSERT_EQ(Info().unknown_fate_writes, 1U);

  ex_.RunFor(seconds(10));
  const std::uint64_t at_10s = Info().fence_aborts;
  EXPECT_GE(at_10s, 5U) << "asked again every RetryInterval within the no-path time";

  ex_.RunFor(seconds(15));  // past the 20 s no-path time
  const std::uint64_t at_25s = Info().fence_aborts;
  EXPECT_GE(at_25s, 19U);
  EXPECT_LE(at_25s, 22U) << "one ask at the start and one per second for 20 s";
  ex_.RunFor(seconds(120));
  EXPECT_EQ(Info().fence_aborts, at_25s) << "no ABORT TASK asked past the no-path time";
  EXPECT_EQ(Info().unknown_fate_writes, 1U) << "not fenced: the entry stays, expired";

  auto w2 = Write(102, 2, 2);
  ASSERT_TRUE(RunUntil([&] { return w2->done; }, milliseconds(10)));
  EXPECT_TRUE(w2->status.Is(NtStatus::kIoTimeout)) << w2->status.ToString();

  fabric_->RefuseReconnect(1, false);
  ASSERT_TRUE(RunUntil([&] { return Info().unknown_fate_writes == 0; }, seconds(60)))
      << "the session reinstatement fences the expired entry";
  auto w3 = Write(102, 2, 3);
  ASSERT_TRUE(RunUntil([&] { return w3->done; }, seconds(5)));
  EXPECT_TRUE(w3->status.ok()) << w3->status.ToString();
}

}  // namespace
}  // namespace openmpio::engine::testing

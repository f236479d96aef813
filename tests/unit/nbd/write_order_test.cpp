// The plugin's ordering of partial-block read-modify-writes against the
// export's other writes (plugins/nbdkit/write_order.h): who waits for whom,
// and, with real threads over a block array whose RMW reads and writes back
// with a gap in between, that no write is ever undone. Waits are asserted as
// order ("has not entered yet"), never as durations.
#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <future>
#include <thread>
#include <vector>

#include "write_order.h"

namespace openmpio::nbd {
namespace {

using std::chrono::milliseconds;
using Range = WriteOrder::Range;

// True if fut is still not ready after a pause long enough for it to run.
template <typename F>
bool StillBlocked(std::future<F>& fut) {
  return fut.wait_for(milliseconds(50)) == std::future_status::timeout;
}

TEST(WriteOrder, WritesTakeTheLockFreePathWhileNoRmwIsActive) {
  WriteOrder o;
  {
    const WriteOrder::Write a(o, {0, 4096});
    const WriteOrder::Write b(o, {0, 4096});  // overlapping plain writes do not wait
    EXPECT_EQ(o.fast_writes(), 2);
  }
  EXPECT_EQ(o.fast_writes(), 0);
}

TEST(WriteOrder, AnRmwWaitsForAWriteInFlight) {
  WriteOrder o;
  std::promise<void> release;
  auto writer = std::async(std::launch::async, [&] {
    const WriteOrder::Write w(o, {0, 512});
    release.get_future().wait();
  });
  while (o.fast_writes() == 0) std::this_thread::yield();
  auto rmw = std::async(std::launch::async, [&] { const WriteOrder::Rmw r(o, {0, 512}); });
  EXPECT_TRUE(StillBlocked(rmw));
  release.set_value();
  writer.get();
  EXPECT_EQ(rmw.wait_for(std::chrono::seconds(10)), std::future_status::ready);
}

TEST(WriteOrder, AnOverlappingWriteWaitsForAnRmwAndADisjointOneDoesNot) {
  WriteOrder o;
  std::promise<void> release;
  std::atomic<bool> in{false};
  auto rmw = std::async(std::launch::async, [&] {
    const WriteOrder::Rmw r(o, {4096, 8192});
    in = true;
    release.get_future().wait();
  });
  while (!in) std::this_thread::yield();
  auto disjoint = std::async(std::launch::async, [&] { const WriteOrder::Write w(o, {0, 4096}); });
  EXPECT_EQ(disjoint.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  auto overlapping =
      std::async(std::launch::async, [&] { const WriteOrder::Write w(o, {8000, 12288}); });
  auto other_rmw = std::async(std::launch::async, [&] { const WriteOrder::Rmw r(o, {4096, 4608}); });
  EXPECT_TRUE(StillBlocked(overlapping));
  EXPECT_TRUE(StillBlocked(other_rmw));
  release.set_value();
  rmw.get();
  EXPECT_EQ(overlapping.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  EXPECT_EQ(other_rmw.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  EXPECT_EQ(o.rmws(), 0);
}

// Blocks of 8 words. Writers write whole blocks with their own increasing
// counter in word 1..7 and read back; an RMW thread patches word 0 of the
// same blocks by reading the block, yielding, and writing all 8 words back.
// A writer must never read back a counter older than what it wrote (its
// write undone by an RMW that read before it and wrote after).
TEST(WriteOrder, NoWriteIsUndoneByAConcurrentReadModifyWrite) {
  constexpr std::size_t kBlocks = 4;
  constexpr std::size_t kWords = 8;
  std::array<std::array<std::atomic<std::uint64_t>, kWords>, kBlocks> disk{};
  WriteOrder o;
  std::atomic<bool> stop{false};
  std::atomic<int> undone{0};
  auto range = [](std::size_t b) { return Range{b * 64, (b + 1) * 64}; };

  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&, t] {
      for (std::uint64_t k = 1; !stop; ++k) {
        const std::size_t b = (k + static_cast<std::uint64_t>(t)) % kBlocks;
        const std::uint64_t v = (k << 8) | static_cast<std::uint64_t>(t);
        {
          const WriteOrder::Write w(o, range(b));
          for (std::size_t i = 1; i < kWords; ++i) disk[b][i].store(v);
        }
        // Another writer may have written since (a newer value, or the other
        // writer's); only an RMW can bring back one older than ours.
        const std::uint64_t seen = disk[b][1].load();
        if ((seen & 0xFF) == static_cast<std::uint64_t>(t) && seen < v) undone.fetch_add(1);
      }
    });
  }
  threads.emplace_back([&] {
    for (std::uint64_t k = 1; !stop; ++k) {
      const std::size_t b = k % kBlocks;
      const WriteOrder::Rmw r(o, range(b));
      std::array<std::uint64_t, kWords> copy{};
      for (std::size_t i = 0; i < kWords; ++i) copy[i] = disk[b][i].load();
      std::this_thread::yield();  // the gap a racing write would fall into
      copy[0] = k;
      for (std::size_t i = 0; i < kWords; ++i) disk[b][i].store(copy[i]);
    }
  });
  std::this_thread::sleep_for(milliseconds(500));
  stop = true;
  for (auto& th : threads) th.join();
  EXPECT_EQ(undone.load(), 0);
}

}  // namespace
}  // namespace openmpio::nbd

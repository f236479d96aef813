// Dispatch allocates nothing in the steady state (request.cpp "Allocation"):
// after a warm-up that reaches the working set (pooled parents and their
// chunks, the executor's timer heap, the sim's slots, the array's storage
// chunks), the same reads and writes through the engine on the sim allocate 0
// times — Submit, selection, the executor posts, the sim round trip, the
// completion and the caller's callback (a pointer-sized capture).
//
// Counts every allocation of this test program (unit_engine): the one .cpp
// of it that includes alloc_counter.h.
#include "alloc_counter.h"

#include <gtest/gtest.h>

#include <atomic>
#include <vector>

#include "common/reactor.h"
#include "engine_fixture.h"

namespace openmpio::engine::testing {
namespace {

using openmpio::testing::g_allocations;

// `depth` requests in flight, each slot re-issuing from its own callback
// until `total` were issued: reads and writes in turn, 4 KiB each (or
// `bytes`), over 16 places per slot. The callbacks capture one pointer.
class Driver {
 public:
  Driver(DiskHandle disk, std::size_t depth, std::size_t bytes) : disk_(disk), bytes_(bytes) {
    slots_.resize(depth);
    for (std::size_t i = 0; i < depth; ++i) {
      slots_[i].driver = this;
      slots_[i].index = i;
      slots_[i].buf.assign(bytes, std::byte{0x5A});
    }
  }

  // Issues the same sequence every time it is called.
  void Start(std::size_t total) {
    total_ = total;
    issued_ = completed_ = errors_ = 0;
    for (Slot& s : slots_) {
      if (issued_ < total_) Issue(s);
    }
  }
  [[nodiscard]] bool done() const { return completed_ == total_; }
  [[nodiscard]] std::size_t errors() const { return errors_; }
  [[nodiscard]] std::size_t reads() const { return reads_; }
  [[nodiscard]] std::size_t writes() const { return writes_; }

 private:
  struct Slot {
    Driver* driver = nullptr;
    std::size_t index = 0;
    std::size_t round = 0;
    std::vector<std::byte> buf;
  };

  void Issue(Slot& s) {
    const bool write = (issued_++ & 1U) != 0;
    const std::uint64_t offset = (s.index * 16 + s.round++ % 16) * bytes_;
    Slot* sp = &s;
    auto cb = [sp](const Status& st) { sp->driver->Done(*sp, st); };
    if (write) {
      ++writes_;
      disk_.Write(offset, s.buf, cb);
    } else {
      ++reads_;
      disk_.Read(offset, s.buf, cb);
    }
  }

  void Done(Slot& s, const Status& st) {
    ++completed_;
    if (!st.ok()) ++errors_;
    if (issued_ < total_) Issue(s);
  }

  DiskHandle disk_;
  std::size_t bytes_;
  std::vector<Slot> slots_;
  std::size_t total_ = 0, issued_ = 0, completed_ = 0, errors_ = 0;
  std::size_t reads_ = 0, writes_ = 0;
};

class DispatchAllocTest : public EngineFixture {
 protected:
  // Runs `total` requests twice (warm-up, then counted); the allocations of
  // the counted run.
  long CountedRun(Driver& drv, std::size_t total) {
    drv.Start(total);
    EXPECT_TRUE(RunUntil([&drv] { return drv.done(); }, seconds(60)));
    EXPECT_EQ(drv.errors(), 0U);
    const long before = g_allocations.load();
    drv.Start(total);
    // The same loop as RunUntil, without building a std::function per call.
    while (!drv.done()) {
      ex_.RunUntilIdle();
      if (drv.done()) break;
      const auto next = ex_.NextDue();
      if (!next) break;
      ex_.AdvanceTo(*next);
    }
    const long used = g_allocations.load() - before;
    EXPECT_TRUE(drv.done());
    EXPECT_EQ(drv.errors(), 0U);
    return used;
  }
};

TEST(DispatchAlloc, AllocationCounterWorks) {
  const long before = g_allocations.load();
  auto* p = new int(7);
  EXPECT_EQ(g_allocations.load(), before + 1);
  delete p;
}

TEST_F(DispatchAllocTest, SteadyStateReadsAndWritesAllocateNothing) {
  Build();
  Driver drv(engine_->Disk(DiskOfLu(0)), 8, 4096);
  EXPECT_EQ(CountedRun(drv, 512), 0) << "allocations in 512 reads+writes after warm-up";
  EXPECT_EQ(drv.reads() + drv.writes(), 1024U);
}

// A request split into several commands (maximum transfer length 4 blocks:
// 4 KiB = 2 chunks) reuses its parent's kept chunks.
TEST_F(DispatchAllocTest, SplitRequestsAllocateNothingEither) {
  array::ArrayConfig cfg = array::DemoArrayConfig(1U << 16);
  cfg.maximum_transfer_length = 4;
  Build(cfg);
  ASSERT_EQ(engine_->Disks()[DiskOfLu(0)].max_transfer_blocks, 4U);
  Driver drv(engine_->Disk(DiskOfLu(0)), 8, 4096);
  EXPECT_EQ(CountedRun(drv, 256), 0) << "allocations in 256 split reads+writes after warm-up";
}

// Every policy's selection and the executor's posts, under the counted run.
TEST_F(DispatchAllocTest, EveryPolicyDispatchesWithoutAllocating) {
  Build();
  const std::size_t d0 = DiskOfLu(0);
  const DiskInfo info = engine_->Disks()[d0];
  using P = dsm::LoadBalancePolicy;
  for (P p : {P::kFailOverOnly, P::kRoundRobinWithSubset, P::kLeastQueueDepth, P::kWeightedPaths,
              P::kLeastBlocks, P::kServiceTime}) {
    const dsm::DsmPathId pref =
        p == P::kFailOverOnly ? PathOnPort(info, 2)->id : dsm::kNoPreferredPath;
    ASSERT_TRUE(engine_->SetLoadBalancePolicy(d0, p, pref).ok());
    ex_.RunFor(milliseconds(50));  // snapshot reclamation runs on its own timer
    Driver drv(engine_->Disk(d0), 4, 4096);
    EXPECT_EQ(CountedRun(drv, 128), 0) << "policy " << static_cast<int>(p);
  }
}

// Reactor::Post of a pointer-sized task: the lock-free ring's cells hold
// it in std::function's local buffer (mpmc_ring.h), so posting allocates
// nothing.
TEST(DispatchAlloc, ReactorPostOfAPointerSizedTaskAllocatesNothing) {
  Reactor ex;
  std::atomic<int> ran{0};
  std::atomic<int>* rp = &ran;
  for (int i = 0; i < 64; ++i) ex.Post([rp] { rp->fetch_add(1); });
  while (ran.load() < 64) std::this_thread::yield();
  const long before = g_allocations.load();
  for (int i = 0; i < 64; ++i) ex.Post([rp] { rp->fetch_add(1); });
  while (ran.load() < 128) std::this_thread::yield();
  EXPECT_EQ(g_allocations.load() - before, 0);
  ex.Stop();
}

}  // namespace
}  // namespace openmpio::engine::testing

// The array's write-back cache (write_cache.h) against a model that is
// obviously right: two maps, the cache's blocks and the store's, with the
// documented rules (FUA and oversized writes go through, a write that does
// not fit destages everything first, flush destages a range, drop loses the
// cache). Random operations over a range wider than the cache, so the table
// sees collisions, deletions inside probe runs and overflow. And the steady
// state of cached writes and reads allocates nothing.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <cstddef>
#include <cstdint>
#include <algorithm>
#include <map>
#include <random>
#include <vector>

#include "alloc_counter.h"
#include "array/storage.h"
#include "array/write_cache.h"

namespace openmpio::array {
namespace {

using testing::g_allocations;

constexpr std::uint32_t kBlock = 512;
constexpr std::uint64_t kBlocks = 3 * WriteCache::kMaxDirtyBlocks;  // the LU

struct Model {
  std::map<std::uint64_t, std::uint8_t> cache, store;  // lba -> fill byte
  void EraseCache(std::uint64_t lba, std::uint64_t end) {
    cache.erase(cache.lower_bound(lba), cache.lower_bound(end));
  }
  void Destage(std::uint64_t lba, std::uint64_t end) {
    for (auto it = cache.lower_bound(lba); it != cache.end() && it->first < end;) {
      store[it->first] = it->second;
      it = cache.erase(it);
    }
  }
  [[nodiscard]] std::uint8_t Get(std::uint64_t lba) const {
    if (auto it = cache.find(lba); it != cache.end()) return it->second;
    if (auto it = store.find(lba); it != store.end()) return it->second;
    return 0;
  }
};

std::vector<std::byte> Fill(std::uint64_t blocks, std::uint8_t v) {
  return std::vector<std::byte>(blocks * kBlock, std::byte{v});
}

RC_GTEST_PROP(WriteCache, AgreesWithTwoMapsUnderRandomOperations, ()) {
  auto store = MakeMemoryStore(kBlocks * kBlock);
  WriteCache cache;
  cache.Configure(true, kBlock);
  Model m;
  const int ops = *rc::gen::inRange(50, 400);
  for (int op = 0; op < ops; ++op) {
    const int kind = *rc::gen::inRange(0, 100);
    // Mostly short runs in a narrow window (overwrites, collisions), some
    // long ones anywhere (overflow, the table walk of a big range).
    const bool wide = *rc::gen::inRange(0, 10) == 0;
    const std::uint64_t n = wide ? *rc::gen::inRange<std::uint64_t>(65, 3000)
                                 : *rc::gen::inRange<std::uint64_t>(1, 17);
    const std::uint64_t lba = *rc::gen::inRange<std::uint64_t>(0, kBlocks - n);
    const auto v = static_cast<std::uint8_t>(op % 250 + 1);
    if (kind < 50) {
      const bool fua = kind < 5;
      RC_ASSERT(cache.Write(*store, lba, Fill(n, v), fua).ok());
      if (fua) {
        m.EraseCache(lba, lba + n);
        for (std::uint64_t b = lba; b < lba + n; ++b) m.store[b] = v;
      } else {
        if (m.cache.size() + n > WriteCache::kMaxDirtyBlocks) m.Destage(0, UINT64_MAX);
        for (std::uint64_t b = lba; b < lba + n; ++b) m.cache[b] = v;
      }
    } else if (kind < 80) {
      std::vector<std::byte> out(n * kBlock);
      RC_ASSERT(cache.Read(*store, lba, out).ok());
      for (std::uint64_t b = 0; b < n; ++b) {
        RC_ASSERT(out[b * kBlock] == std::byte{m.Get(lba + b)});
        RC_ASSERT(out[b * kBlock + kBlock - 1] == std::byte{m.Get(lba + b)});
      }
    } else if (kind < 88) {
      RC_ASSERT(cache.Flush(*store, lba, n).ok());
      m.Destage(lba, lba + n);
    } else if (kind < 94) {
      RC_ASSERT(cache.Deallocate(*store, lba, n).ok());
      m.EraseCache(lba, lba + n);
      for (std::uint64_t b = lba; b < lba + n; ++b) m.store.erase(b);
    } else if (kind < 97) {
      cache.Drop();
      m.cache.clear();
    } else {
      cache.Truncate(lba);  // the cache's part of a capacity shrink only
      m.EraseCache(lba, UINT64_MAX);
    }
    RC_ASSERT(cache.dirty_blocks() == m.cache.size());
  }
  // What the store holds alone (the cache dropped) is the model's store.
  cache.Drop();
  std::vector<std::byte> all(kBlocks * kBlock);
  RC_ASSERT(cache.Read(*store, 0, all).ok());
  for (std::uint64_t b = 0; b < kBlocks; ++b) {
    const auto it = m.store.find(b);
    RC_ASSERT(all[b * kBlock] == std::byte{it == m.store.end() ? std::uint8_t{0} : it->second});
  }
}

// A full table (load 1/2) has probe runs that wrap past its end; removing
// blocks one by one in random order must keep every other block findable
// (and a block that could not be found would stay counted as dirty). Several
// LBA patterns, so some run wraps by more than one slot.
TEST(WriteCache, AFullCacheEmptiedInRandomOrderKeepsEveryOtherBlock) {
  auto store = MakeMemoryStore(kBlocks * kBlock);
  std::vector<std::byte> out(kBlock);
  for (std::uint64_t pattern = 0; pattern < 24; ++pattern) {
    WriteCache cache;
    cache.Configure(true, kBlock);
    std::vector<std::uint64_t> lbas;
    for (std::uint64_t b = 0; b < WriteCache::kMaxDirtyBlocks; ++b) {
      lbas.push_back((b * (2 * pattern + 1) + pattern * 101) % kBlocks);
      ASSERT_TRUE(cache.Write(*store, lbas.back(), Fill(1, static_cast<std::uint8_t>(b % 251 + 1)),
                              false).ok());
    }
    ASSERT_EQ(cache.dirty_blocks(), WriteCache::kMaxDirtyBlocks);
    std::mt19937_64 rng(pattern);
    std::vector<std::size_t> order(lbas.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::shuffle(order.begin(), order.end(), rng);
    std::vector<bool> gone(lbas.size(), false);
    for (std::size_t k = 0; k < order.size(); ++k) {
      const std::size_t victim = order[k];
      ASSERT_TRUE(cache.Write(*store, lbas[victim], Fill(1, 0), true).ok());  // FUA: uncached
      gone[victim] = true;
      if (k % 2048 != 0) continue;
      for (std::size_t i = 0; i < lbas.size(); ++i) {
        ASSERT_TRUE(cache.Read(*store, lbas[i], out).ok());
        const auto want =
            gone[i] ? std::byte{0} : std::byte{static_cast<std::uint8_t>(i % 251 + 1)};
        ASSERT_EQ(out[0], want) << "pattern " << pattern << ", block " << lbas[i] << " after "
                                << k + 1 << " removals";
      }
    }
    ASSERT_EQ(cache.dirty_blocks(), 0U) << "pattern " << pattern;
  }
}

TEST(WriteCache, CachedWritesAndReadsAllocateNothingInTheSteadyState) {
  auto store = MakeMemoryStore(kBlocks * kBlock);
  WriteCache cache;
  cache.Configure(true, kBlock);
  const auto data = Fill(8, 0x5A);
  std::vector<std::byte> out(8 * kBlock);
  // The store's chunks exist and the cache's table is sized: then measure.
  ASSERT_TRUE(cache.Write(*store, 0, Fill(kBlocks, 1), true).ok());
  ASSERT_TRUE(cache.Write(*store, 0, data, false).ok());
  const long before = g_allocations.load();
  for (std::uint64_t i = 0; i < 20000; ++i) {
    const std::uint64_t lba = (i * 7919) % (kBlocks - 8);
    ASSERT_TRUE(cache.Write(*store, lba, data, i % 10 == 0).ok());  // overflow destages too
    ASSERT_TRUE(cache.Read(*store, (i * 104729) % (kBlocks - 8), out).ok());
  }
  ASSERT_TRUE(cache.Flush(*store, 0, kBlocks).ok());
  EXPECT_EQ(g_allocations.load() - before, 0);
  EXPECT_EQ(cache.dirty_blocks(), 0U);
}

TEST(WriteCache, AllocationCounterWorks) {  // the test above could fail
  const long before = g_allocations.load();
  auto* p = new int(3);
  EXPECT_EQ(g_allocations.load(), before + 1);
  delete p;
}

TEST(WriteCache, DisabledWritesGoStraightToTheStore) {
  auto store = MakeMemoryStore(64 * kBlock);
  WriteCache cache;
  cache.Configure(false, kBlock);
  ASSERT_TRUE(cache.Write(*store, 3, Fill(2, 7), false).ok());
  EXPECT_EQ(cache.dirty_blocks(), 0U);
  std::vector<std::byte> out(2 * kBlock);
  ASSERT_TRUE(store->Read(3 * kBlock, out).ok());
  EXPECT_EQ(out, Fill(2, 7));
}

}  // namespace
}  // namespace openmpio::array

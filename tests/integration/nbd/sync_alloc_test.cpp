// The synchronous wrappers the nbdkit plugin serves every pread / pwrite
// with (runtime.h SyncRead / SyncWrite): after warm-up, a request that
// succeeds allocates nothing on the calling thread — the waiter is on its
// stack and the engine's dispatch takes its request from the disk's pool.
// Counted on the caller's thread only (alloc_counter.h t_allocations): the
// reactor and control threads of the runtime run beside it.
#include <gtest/gtest.h>

#include <vector>

#include "alloc_counter.h"
#include "config/config.h"
#include "runtime/runtime.h"

namespace openmpio {
namespace {

TEST(SyncAlloc, AllocationCounterSeesThisThread) {
  const long before = testing::t_allocations;
  auto* p = new int(7);
  EXPECT_EQ(testing::t_allocations, before + 1);
  delete p;
}

TEST(SyncAlloc, SyncReadsAndWritesThatSucceedAllocateNothingOnTheCaller) {
  auto rt = runtime::Runtime::Start(config::DemoConfig());
  ASSERT_TRUE(rt.has_value()) << rt.error().ToString();
  engine::DiskHandle h = (*rt)->Disk(0);
  std::vector<std::byte> out(4096, std::byte{0x5a}), in(4096);
  auto round = [&](std::uint64_t i) {
    const std::uint64_t offset = (i % 256) * 4096;
    ASSERT_TRUE(runtime::SyncWrite(h, offset, out).ok());
    ASSERT_TRUE(runtime::SyncRead(h, offset, in).ok());
  };
  for (std::uint64_t i = 0; i < 64; ++i) round(i);  // warm-up: pools, queues
  const long before = testing::t_allocations;
  for (std::uint64_t i = 0; i < 256; ++i) round(i);
  const long allocated = testing::t_allocations - before;
  EXPECT_EQ(allocated, 0) << "allocations on the caller over 512 synchronous requests";
  EXPECT_EQ(in, out);
  (*rt)->Stop();
}

}  // namespace
}  // namespace openmpio

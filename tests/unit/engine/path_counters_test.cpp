// Per-path counters (disk_runtime.h PathStats, read through mgmt_access.h
// PerfOf): reads, writes and their bytes (MSDSM_DEVICEPATH_PERF), retries,
// and the service-time histogram, updated at completion (request.cpp).
#include <gtest/gtest.h>

#include <numeric>
#include <vector>

#include "engine/mgmt_access.h"
#include "engine_fixture.h"

namespace openmpio::engine::testing {
namespace {

struct Totals {
  std::uint64_t commands = 0, errors = 0, reads = 0, writes = 0, bytes_read = 0, bytes_written = 0,
                retries = 0, completions = 0;
};

Totals Sum(const std::vector<PathCounters>& perf) {
  Totals t;
  for (const PathCounters& c : perf) {
    t.commands += c.commands;
    t.errors += c.errors;
    t.reads += c.reads;
    t.writes += c.writes;
    t.bytes_read += c.bytes_read;
    t.bytes_written += c.bytes_written;
    t.retries += c.retries;
    t.completions += std::accumulate(c.latency.begin(), c.latency.end(), std::uint64_t{0});
  }
  return t;
}

Totals Delta(const Totals& a, const Totals& b) {
  return Totals{b.commands - a.commands,     b.errors - a.errors,
                b.reads - a.reads,           b.writes - a.writes,
                b.bytes_read - a.bytes_read, b.bytes_written - a.bytes_written,
                b.retries - a.retries,       b.completions - a.completions};
}

TEST(LatencyBuckets, PowerOfTwoMicroseconds) {
  EXPECT_EQ(LatencyBucket(0), 0U);
  EXPECT_EQ(LatencyBucket(15), 0U);
  EXPECT_EQ(LatencyBucket(16), 1U);
  EXPECT_EQ(LatencyBucket(31), 1U);
  EXPECT_EQ(LatencyBucket(32), 2U);
  EXPECT_EQ(LatencyBucket(200), 4U);  // [128, 256)
  EXPECT_EQ(LatencyBucket(1'000'000), 16U);
  EXPECT_EQ(LatencyBucket((1U << 20) - 1), 16U);
  EXPECT_EQ(LatencyBucket(1U << 20), kLatencyBuckets - 1);
  EXPECT_EQ(LatencyBucket(~std::uint64_t{0}), kLatencyBuckets - 1);
  for (std::size_t k = 1; k < kLatencyBuckets; ++k) {
    EXPECT_EQ(LatencyBucket(LatencyBucketFloorUs(k)), k);
    EXPECT_EQ(LatencyBucket(LatencyBucketFloorUs(k) - 1), k - 1);
  }
}

class PathCountersTest : public EngineFixture {
 protected:
  // Runs one request to its end; its status.
};

// A known mix on the sim: the counters of the disk's paths add up to it
// exactly, and every completion is in the histogram, in the bucket of the
// link's round trip (2 x 100 us, virtual time).
TEST_F(PathCountersTest, CountersEqualTheMixExactly) {
  Build();
  const std::size_t d0 = DiskOfLu(0);
  DiskHandle h = engine_->Disk(d0);
  const Totals before = Sum(PerfOf(*engine_, d0));
  std::vector<std::byte> small(512), page(4096), big(8192);
  for (std::uint64_t i = 0; i < 10; ++i) {
    ASSERT_TRUE(RunOne([&](IoCallback cb) { h.Read(4096 * i, page, std::move(cb)); }).ok());
  }
  for (std::uint64_t i = 0; i < 3; ++i) {
    ASSERT_TRUE(RunOne([&](IoCallback cb) { h.Read(512 * i, small, std::move(cb)); }).ok());
  }
  for (std::uint64_t i = 0; i < 7; ++i) {
    ASSERT_TRUE(RunOne([&](IoCallback cb) { h.Write(65536 + 8192 * i, big, std::move(cb)); }).ok());
  }
  // WRITE SAME(16) of 16 blocks: one write carrying one block.
  ASSERT_TRUE(RunOne([&](IoCallback cb) { h.WriteZeroes(1U << 20, 8192, std::move(cb)); }).ok());
  const std::vector<PathCounters> after_perf = PerfOf(*engine_, d0);
  const Totals d = Delta(before, Sum(after_perf));
  EXPECT_EQ(d.reads, 13U);
  EXPECT_EQ(d.writes, 8U);
  EXPECT_EQ(d.bytes_read, 10U * 4096 + 3U * 512);
  EXPECT_EQ(d.bytes_written, 7U * 8192 + 512);
  EXPECT_EQ(d.commands, 21U);
  EXPECT_EQ(d.errors, 0U);
  EXPECT_EQ(d.retries, 0U);
  EXPECT_EQ(d.completions, d.commands) << "the histogram counts every completion";
  // Every path: its buckets sum to its commands (all completed), all of them
  // in the bucket of 200 us.
  std::uint64_t in_bucket = 0;
  for (const PathCounters& c : after_perf) {
    EXPECT_EQ(std::accumulate(c.latency.begin(), c.latency.end(), std::uint64_t{0}), c.commands);
    in_bucket += c.latency[LatencyBucket(200)];
  }
  EXPECT_EQ(in_bucket, Sum(after_perf).completions);
  // The I/O went over more than one path (Round Robin with Subset over the
  // two A/O paths), and the mix was split between them.
  int used = 0;
  for (const PathCounters& c : after_perf) used += (c.reads + c.writes) > 0 ? 1 : 0;
  EXPECT_EQ(used, 2);
}

// BUSY once: the command is retried on the same path after RetryInterval. The
// path counts the retry, one error, two commands, two completions in its
// histogram, and one read.
TEST_F(PathCountersTest, ARetriedRequestCountsARetry) {
  Build();
  const std::size_t d0 = DiskOfLu(0);
  const std::vector<PathCounters> before = PerfOf(*engine_, d0);
  array::FaultSpec f = LuFault(0, array::FaultKind::kStatus);
  f.status = scsi::ScsiStatus::kBusy;
  f.count = 1;
  ASSERT_TRUE(array_->InjectFault(f, ex_.Now()).has_value());
  std::vector<std::byte> buf(4096);
  DiskHandle h = engine_->Disk(d0);
  ASSERT_TRUE(RunOne([&](IoCallback cb) { h.Read(0, buf, std::move(cb)); }).ok());
  const std::vector<PathCounters> after = PerfOf(*engine_, d0);
  ASSERT_EQ(after.size(), before.size());
  int retried_paths = 0;
  for (std::size_t i = 0; i < after.size(); ++i) {
    const std::uint64_t retries = after[i].retries - before[i].retries;
    if (retries == 0) continue;
    ++retried_paths;
    EXPECT_EQ(retries, 1U);
    EXPECT_EQ(after[i].errors - before[i].errors, 1U);
    EXPECT_EQ(after[i].commands - before[i].commands, 2U);
    EXPECT_EQ(after[i].reads - before[i].reads, 1U);
    std::uint64_t completions = 0;
    for (std::size_t k = 0; k < kLatencyBuckets; ++k) {
      completions += after[i].latency[k] - before[i].latency[k];
    }
    EXPECT_EQ(completions, 2U);
  }
  EXPECT_EQ(retried_paths, 1);
  EXPECT_EQ(Sum(after).retries - Sum(before).retries, 1U);
}

}  // namespace
}  // namespace openmpio::engine::testing

// Least Queue Depth, Least Blocks (spec/msdsm.md §3 rows 4, 6) and openmpio's
// service-time policy 7: counters per nexus, minimum choice, LB stickiness and
// its context, the transition-window reuse, the status lines, and service
// time's SSE2 scan against its scalar reference.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <span>

#include "dsm/policy_st.h"
#include "dsm_fixture.h"

namespace openmpio::dsm {
namespace {

using namespace testing;  // NOLINT

TEST(LeastQueueDepth, PicksFewestRequestsFirstOnTies) {
  DiskBuilder b(3);
  b.Policy(LoadBalancePolicy::kLeastQueueDepth);
  Load(b.disk, 0, 3, 512);
  Load(b.disk, 1, 1, 1 << 20);
  Load(b.disk, 2, 1, 512);
  SelectorState st;
  auto s = BuildSnapshot(b.disk, st, nullptr, {}, 0);
  const SnapshotEntry* e = s->Select(st, RandomRead(0));
  EXPECT_EQ(e->path_index, 1U);  // requests, not bytes; first of the two 1s
  EXPECT_EQ(st.last_path.load(), b.id(1));
  s->StartIo(*e, RandomRead(0));
  EXPECT_EQ(s->Select(st, RandomRead(0))->path_index, 2U);
}

TEST(LeastQueueDepth, CountsAreSharedAcrossLusOfOneNexus) {
  DiskBuilder a(2), b(2);
  b.disk.paths[0].nexus = a.disk.paths[0].nexus;  // same nexus, another LU
  b.disk.paths[1].nexus = a.disk.paths[1].nexus;
  a.Policy(LoadBalancePolicy::kLeastQueueDepth);
  b.Policy(LoadBalancePolicy::kLeastQueueDepth);
  SelectorState sa, sb;
  auto snap_a = BuildSnapshot(a.disk, sa, nullptr, {}, 0);
  auto snap_b = BuildSnapshot(b.disk, sb, nullptr, {}, 0);
  const SnapshotEntry* ea = snap_a->Select(sa, RandomRead(0));
  snap_a->StartIo(*ea, RandomRead(0));  // I/O of LU a on path 0
  EXPECT_EQ(snap_b->Select(sb, RandomRead(0))->path_index, 1U);
  snap_a->EndIo(*ea, RandomRead(0), 1000);
  EXPECT_EQ(snap_b->Select(sb, RandomRead(0))->path_index, 0U);
}

TEST(LeastBlocks, PicksFewestBytes) {
  DiskBuilder b(3);
  b.Policy(LoadBalancePolicy::kLeastBlocks);
  Load(b.disk, 0, 1, 65536);
  Load(b.disk, 1, 4, 1024);
  Load(b.disk, 2, 1, 8192);
  SelectorState st;
  auto s = BuildSnapshot(b.disk, st, nullptr, {}, 0);
  EXPECT_EQ(s->Select(st, RandomRead(1000))->path_index, 1U);  // 4 KiB beats 8 KiB beats 64 KiB
}

TEST(LeastBlocks, SequentialStickinessUpTo1MiBThenRebalance) {
  DiskBuilder b(2);
  b.Policy(LoadBalancePolicy::kLeastBlocks);
  SelectorState st;
  auto s = BuildSnapshot(b.disk, st, nullptr, {}, 0);
  IoHint h = RandomRead(100, 256 * 1024);  // 256 KiB = 512 blocks
  const SnapshotEntry* first = s->Select(st, h);
  ASSERT_EQ(first->path_index, 0U);
  s->StartIo(*first, h);  // path 0 now has the most bytes in flight
  for (int i = 1; i < 4; ++i) {  // 4 x 256 KiB = 1 MiB: the run stays on path 0
    h.lba += h.blocks;
    const SnapshotEntry* e = s->Select(st, h);
    EXPECT_EQ(e->path_index, 0U) << i;
    s->StartIo(*e, h);
  }
  h.lba += h.blocks;  // the 5th would pass 1 MiB: least bytes again
  EXPECT_EQ(s->Select(st, h)->path_index, 1U);
  // A non-sequential request is not sticky.
  IoHint far = RandomRead(1'000'000, 4096);
  EXPECT_EQ(s->Select(st, far)->path_index, 1U);
}

TEST(LeastBlocks, NonReadWriteReusesTheLastPath) {
  DiskBuilder b(2);
  b.Policy(LoadBalancePolicy::kLeastBlocks);
  Load(b.disk, 0, 1, 4096);
  SelectorState st;
  auto s = BuildSnapshot(b.disk, st, nullptr, {}, 0);
  EXPECT_EQ(s->Select(st, RandomRead(5))->path_index, 1U);
  Load(b.disk, 1, 10, 4096);  // path 1 is now far busier
  IoHint flush;
  flush.kind = IoKind::kOther;
  EXPECT_EQ(s->Select(st, flush)->path_index, 1U);
  // A new snapshot forgets the slot: the flush then goes by least bytes.
  auto s2 = BuildSnapshot(b.disk, st, s.get(), {}, 0);
  EXPECT_EQ(s2->Select(st, flush)->path_index, 0U);
}

TEST(LeastQueueDepthAndBlocks, TransitionWindowReusesThePreviousPathThroughRebuild) {
  for (auto policy : {LoadBalancePolicy::kLeastQueueDepth, LoadBalancePolicy::kLeastBlocks}) {
    DiskBuilder b(4, AluaSupport::kImplicitOnly);
    b.Policy(policy).Group(1, kAO).Group(2, kSB);
    b.InGroup(0, 1).InGroup(1, 1).InGroup(2, 2).InGroup(3, 2);
    SelectorState st;
    auto s = BuildSnapshot(b.disk, st, nullptr, {}, 0);
    Load(b.disk, 0, 2, 4096);
    EXPECT_EQ(s->Select(st, RandomRead(7))->path_index, 1U);
    b.Group(1, kTR, false, 100);  // implicit transition begins
    auto t = BuildSnapshot(b.disk, st, s.get(), {}, 200);
    EXPECT_EQ(t->mode(), SelectionMode::kTransitionReuse);
    EXPECT_EQ(t->Select(st, RandomRead(9))->path_index, 1U);  // not the lighter path 0
  }
}

TEST(ServiceTime, BytesOverThroughputAndLearnsFromLatency) {
  DiskBuilder b(2);
  b.Policy(LoadBalancePolicy::kServiceTime);
  SelectorState st;
  auto s = BuildSnapshot(b.disk, st, nullptr, {}, 0);
  ASSERT_EQ(s->policy(), LoadBalancePolicy::kServiceTime);
  // Path 0: 1 MB in flight at 1 GB/s ≈ 1 ms; path 1: 0.2 MB at 100 MB/s ≈ 2 ms.
  b.disk.paths[0].nexus->counters.set_throughput(1'000'000'000);
  Load(b.disk, 0, 1, 1'000'000);
  Load(b.disk, 1, 1, 200'000);
  EXPECT_EQ(s->Select(st, RandomRead(0, 4096))->path_index, 0U);
  // EndIo feeds the moving average: 1 MB in 1 ms = 1 GB/s, weight 1/8.
  IoHint h = RandomRead(0, 1'000'000);
  const SnapshotEntry& e1 = s->usable()[1];
  s->EndIo(e1, RandomRead(0, 200'000), 2'000'000);  // 100 MB/s: unchanged estimate
  EXPECT_EQ(b.disk.paths[1].nexus->counters.throughput(), 100'000'000U);
  b.disk.paths[1].nexus->counters.StartIo(1'000'000);
  s->EndIo(e1, h, 1'000'000);
  EXPECT_EQ(b.disk.paths[1].nexus->counters.throughput(), 100'000'000U - 12'500'000U + 125'000'000U);
  EXPECT_EQ(b.disk.paths[1].nexus->counters.raw(), 0U);
}

TEST(ServiceTime, StrictMsdsmDisablesIt) {
  DiskBuilder b(2);
  b.Policy(LoadBalancePolicy::kServiceTime);
  SelectorState st;
  auto s = BuildSnapshot(b.disk, st, nullptr, DsmOptions{true}, 0);
  EXPECT_EQ(s->policy(), LoadBalancePolicy::kRoundRobin);
}

// LQD returns a minimum of outstanding requests, LB of outstanding bytes,
// ST of (bytes + this request) / throughput, over random in-flight counters.
RC_GTEST_PROP(LoadPolicies, PickAMinimum, ()) {
  const auto n = *rc::gen::inRange<std::size_t>(1, 33);
  DiskBuilder b(n);
  for (std::size_t i = 0; i < n; ++i) {
    Load(b.disk, i, *rc::gen::inRange<std::uint32_t>(0, 20),
         *rc::gen::inRange<std::uint64_t>(0, 1 << 20));
    b.disk.paths[i].nexus->counters.set_throughput(*rc::gen::inRange<std::uint64_t>(1, 1ULL << 36));
  }
  const IoHint h = RandomRead(*rc::gen::arbitrary<std::uint32_t>(), 4096);
  for (auto policy : {LoadBalancePolicy::kLeastQueueDepth, LoadBalancePolicy::kLeastBlocks,
                      LoadBalancePolicy::kServiceTime}) {
    b.Policy(policy);
    SelectorState st;
    auto s = BuildSnapshot(b.disk, st, nullptr, {}, 0);
    const SnapshotEntry* e = s->Select(st, h);
    RC_ASSERT(e != nullptr);
    for (const SnapshotEntry& o : s->usable()) {
      if (policy == LoadBalancePolicy::kLeastQueueDepth) {
        RC_ASSERT(e->counters->outstanding_requests() <= o.counters->outstanding_requests());
      } else if (policy == LoadBalancePolicy::kLeastBlocks) {
        RC_ASSERT(e->counters->outstanding_bytes() <= o.counters->outstanding_bytes());
      } else {
        const long double mine = static_cast<long double>(e->counters->outstanding_bytes() + h.bytes) /
                                 static_cast<long double>(e->counters->throughput());
        const long double theirs = static_cast<long double>(o.counters->outstanding_bytes() + h.bytes) /
                                   static_cast<long double>(o.counters->throughput());
        RC_ASSERT(mine <= theirs * (1.0L + 1e-12L));
      }
    }
  }
}

}  // namespace
}  // namespace openmpio::dsm

namespace openmpio::dsm {
namespace {

using namespace openmpio::dsm::testing;  // NOLINT(google-build-using-namespace)

__extension__ typedef unsigned __int128 Wide;

// The load service time divides by the throughput: bytes in flight plus the
// request, which counts as at least 1 byte and at most kMaxCountedTransfer.
std::uint64_t StLoad(const SnapshotEntry& e, std::uint64_t request) {
  const std::uint64_t r = request == 0 ? 1 : std::min(request, NexusCounters::kMaxCountedTransfer);
  return e.counters->outstanding_bytes() + r;
}

// The first usable entry with the smallest load / throughput, compared exactly
// by 128-bit cross-multiplication.
std::size_t ExactSoonest(std::span<const SnapshotEntry> usable, std::uint64_t request) {
  std::size_t best = 0;
  for (std::size_t i = 1; i < usable.size(); ++i) {
    const Wide li = StLoad(usable[i], request);
    const Wide lb = StLoad(usable[best], request);
    if (li * usable[best].counters->throughput() < lb * usable[i].counters->throughput()) best = i;
  }
  return best;
}

// policy_st.cpp's bound: the choice's load / throughput is within a factor
// 1 + 2^-44 of the exact minimum, and exactly the minimum (first in path order)
// when every throughput is the same. Sizes cover both scans (up to 8 paths and
// more, odd and even counts); values cover small ones, huge ones (bytes near
// 2^44, throughputs near 2^60), near-ties and exact ties (ratios from a small
// set), zero-byte and oversized requests.
RC_GTEST_PROP(ServiceTimeProperty, ChoiceIsWithinTheBoundOfTheExactMinimum, ()) {
  const auto n = *rc::gen::inRange<std::size_t>(1, 65);
  // 0: ratios from a small set (many exact ties); 1: the same, huge; 2: near-ties
  // (one load, throughputs 2^55 + a few hundred, so the ratios differ by less
  // than the bound).
  const int mode = *rc::gen::inRange(0, 3);
  const bool same_throughput = *rc::gen::arbitrary<bool>();
  DiskBuilder b(n);
  b.Policy(LoadBalancePolicy::kServiceTime);
  const std::uint64_t common_tp = *rc::gen::inRange<std::uint64_t>(1, 1ULL << 60);
  const std::uint64_t common_bytes = *rc::gen::inRange<std::uint64_t>(0, 1ULL << 40);
  for (std::size_t i = 0; i < n; ++i) {
    std::uint64_t tp = 0;
    std::uint64_t bytes = 0;
    if (mode == 2) {
      tp = (1ULL << 55) + *rc::gen::inRange<std::uint64_t>(0, 512);
      bytes = common_bytes;
    } else {
      const bool huge = mode == 1;
      const std::uint64_t unit = huge ? *rc::gen::inRange<std::uint64_t>(1, 1ULL << 20)
                                      : *rc::gen::inRange<std::uint64_t>(1, 8);
      tp = unit * (huge ? (1ULL << 36) : 100'000'000ULL);
      bytes = *rc::gen::inRange<std::uint64_t>(0, 4) * unit * (huge ? (1ULL << 18) : 65536ULL);
    }
    if (same_throughput) tp = common_tp;
    b.disk.paths[i].nexus->counters.set_throughput(tp);
    if (bytes != 0) b.disk.paths[i].nexus->counters.StartIo(bytes);
  }
  SelectorState st;
  auto s = BuildSnapshot(b.disk, st, nullptr, {}, 0);
  IoHint h = RandomRead(1);
  h.bytes = *rc::gen::element<std::uint64_t>(0, 1, 4096, 1'000'000, ~std::uint64_t{0});
  const SnapshotEntry* e = s->Select(st, h);
  RC_ASSERT(e != nullptr);
  const std::span<const SnapshotEntry> usable = s->usable();
  const std::size_t m = ExactSoonest(usable, h.bytes);
  // chosen / tp_c <= min / tp_m x (1 + 2^-44), cross-multiplied.
  const Wide lhs = Wide{StLoad(*e, h.bytes)} * usable[m].counters->throughput();
  const Wide rhs = Wide{StLoad(usable[m], h.bytes)} * e->counters->throughput();
  RC_ASSERT(lhs <= rhs + (rhs >> 44));
  if (same_throughput) RC_ASSERT(static_cast<std::size_t>(e - usable.data()) == m);
  RC_ASSERT(st.last_path.load() == e->id);
}

// What holds of ties (policy_st.cpp's header): equal loads go to the faster
// path, and a request without data counts as 1 byte so idle paths do too;
// equal estimates go to the first in path order (dm-service-time would take
// the faster path there).
TEST(ServiceTime, EqualLoadsGoToTheFasterPathEqualEstimatesToPathOrder) {
  DiskBuilder b(3);
  b.Policy(LoadBalancePolicy::kServiceTime);
  b.disk.paths[0].nexus->counters.set_throughput(100'000'000);
  b.disk.paths[1].nexus->counters.set_throughput(200'000'000);
  b.disk.paths[2].nexus->counters.set_throughput(200'000'000);
  SelectorState st;
  auto s = BuildSnapshot(b.disk, st, nullptr, {}, 0);
  IoHint none = RandomRead(0, 0);  // no bytes of its own
  // Idle: the faster path, the first of the two.
  EXPECT_EQ(s->Select(st, none)->path_index, 1U);
  for (std::size_t i = 0; i < 3; ++i) Load(b.disk, i, 1, 100'000);
  EXPECT_EQ(s->Select(st, RandomRead(0, 4096))->path_index, 1U);  // equal loads
  // 200 KB at 100 MB/s, 400 KB at 200 MB/s twice (request included): one ratio.
  Load(b.disk, 0, 1, 95'904);
  Load(b.disk, 1, 1, 295'904);
  Load(b.disk, 2, 1, 295'904);
  EXPECT_EQ(s->Select(st, RandomRead(0, 4096))->path_index, 0U);
  // Beyond 64-bit products (2^42 B at 2^58 B/s, 2^43 at 2^59, 2^41 at 2^57,
  // plus the 1-byte request): the soonest is the fastest, 2^-43 ahead.
  DiskBuilder h(3);
  h.Policy(LoadBalancePolicy::kServiceTime);
  h.disk.paths[0].nexus->counters.set_throughput(1ULL << 58);
  h.disk.paths[1].nexus->counters.set_throughput(1ULL << 59);
  h.disk.paths[2].nexus->counters.set_throughput(1ULL << 57);
  Load(h.disk, 0, 8, 1ULL << 39);
  Load(h.disk, 1, 16, 1ULL << 39);
  Load(h.disk, 2, 4, 1ULL << 39);
  auto t = BuildSnapshot(h.disk, st, nullptr, {}, 0);
  EXPECT_EQ(t->Select(st, none)->path_index, 1U);
}

// ---- The hooks (policy.h) ----

TEST(LeastQueueDepth, StatusLineListsRequestsInFlight) {
  DiskBuilder b(2);
  b.Policy(LoadBalancePolicy::kLeastQueueDepth);
  Load(b.disk, 0, 3, 512);
  Load(b.disk, 1, 1, 512);
  SelectorState st;
  auto s = BuildSnapshot(b.disk, st, nullptr, {}, 0);
  EXPECT_EQ(s->policy_impl().StatusLine(*s, st),
            "requests in flight " + PathIdText(b.id(0)) + "=3, " + PathIdText(b.id(1)) + "=1");
}

// Least Blocks keeps its last choice and its sequential run in its own words
// of SelectorState::context: clearing them forgets both.
TEST(LeastBlocks, ItsStateIsItsContext) {
  DiskBuilder b(2);
  b.Policy(LoadBalancePolicy::kLeastBlocks);
  SelectorState st;
  auto s = BuildSnapshot(b.disk, st, nullptr, {}, 0);
  b.disk.paths[0].nexus->counters.StartIo(4096);
  ASSERT_EQ(s->Select(st, RandomRead(100, 4096))->path_index, 1U);
  // The choice (generation 1, entry 1), the LBA that continues the run, the
  // run's bytes.
  EXPECT_EQ(st.context.words[0].load(), (std::uint64_t{1} << 32) | 1);
  EXPECT_EQ(st.context.words[1].load(), 108U);
  EXPECT_EQ(st.context.words[2].load(), 4096U);
  EXPECT_EQ(s->policy_impl().StatusLine(*s, st),
            "bytes in flight " + PathIdText(b.id(0)) + "=4096, " + PathIdText(b.id(1)) +
                "=0; sequential run on " + PathIdText(b.id(1)) +
                ": 4096 of 1048576 bytes, next LBA 108");
  for (auto& w : st.context.words) w = 0;
  EXPECT_EQ(s->policy_impl().StatusLine(*s, st).find("sequential"), std::string::npos);
  b.disk.paths[1].nexus->counters.StartIo(1 << 20);
  EXPECT_EQ(s->Select(st, RandomRead(108, 4096))->path_index, 0U);  // no run to continue
}

// Words another policy left behind (or a stale snapshot's) are a choice only
// when they name this snapshot's generation and one of its entries.
RC_GTEST_PROP(LeastBlocksProperty, ContextIsAChoiceOnlyForItsSnapshot, ()) {
  DiskBuilder b(3);
  b.Policy(LoadBalancePolicy::kLeastBlocks);
  Load(b.disk, 0, 1, 8192);
  Load(b.disk, 1, 1, 4096);  // path 2 has the fewest bytes
  SelectorState st;
  auto s = BuildSnapshot(b.disk, st, nullptr, {}, 0);  // generation 1
  const auto generation = *rc::gen::element<std::uint64_t>(0, 1, 2, 0xFFFF'FFFF);
  const auto index = *rc::gen::inRange<std::uint64_t>(0, 5);
  st.context.words[0] = *rc::gen::arbitrary<bool>() ? (generation << 32) | index
                                                    : *rc::gen::arbitrary<std::uint64_t>();
  const std::uint64_t slot = st.context.words[0].load();
  const bool names_an_entry = (slot >> 32) == 1 && (slot & 0xFFFF'FFFF) < 3;
  IoHint flush;
  flush.kind = IoKind::kOther;
  RC_ASSERT(s->Select(st, flush)->path_index == (names_an_entry ? slot & 0xFFFF'FFFF : 2U));
}

TEST(ServiceTime, StatusLineEstimatesAndTheNextChoice) {
  DiskBuilder b(2);
  b.Policy(LoadBalancePolicy::kServiceTime);
  b.disk.paths[0].nexus->counters.set_throughput(1'000'000'000);  // 1 MB: 1000 us
  Load(b.disk, 0, 1, 1'000'000);
  Load(b.disk, 1, 1, 200'000);  // at the initial 100 MB/s: 2000 us
  SelectorState st;
  auto s = BuildSnapshot(b.disk, st, nullptr, {}, 0);
  EXPECT_EQ(s->policy_impl().StatusLine(*s, st),
            "us to drain the bytes in flight at the measured throughput " + PathIdText(b.id(0)) +
                "=1000, " + PathIdText(b.id(1)) + "=2000; a 4 KiB request would go to " +
                PathIdText(b.id(0)));
}

TEST(ServiceTime, TheVectorScanIsBuiltOnX86) {
#if defined(__x86_64__)
  EXPECT_TRUE(service_time::kHasVectorScan);  // else the property below compares a scan with itself
#else
  GTEST_SKIP() << "no SSE2 scan on this architecture";
#endif
}

// Service time's SSE2 scan (Select's above 8 paths) picks exactly the entry
// its scalar reference picks, for any count of paths; and the reference keeps
// the bound of policy_st.cpp's header at every count (Select only runs it up
// to 8). Values: throughputs and loads from small sets (exact ties, so the
// index bits decide), near-ties (throughputs a few hundred apart near 2^55),
// and anything up to the limits.
RC_GTEST_PROP(ServiceTimeProperty, VectorScanPicksWhatTheScalarReferencePicks, ()) {
  const auto n = *rc::gen::inRange<std::size_t>(1, 65);
  const int mode = *rc::gen::inRange(0, 3);
  DiskBuilder b(n);
  for (std::size_t i = 0; i < n; ++i) {
    std::uint64_t tp = 0;
    std::uint64_t bytes = 0;
    if (mode == 0) {
      tp = *rc::gen::element<std::uint64_t>(100'000'000, 200'000'000, 400'000'000);
      bytes = *rc::gen::element<std::uint64_t>(0, 4096, 8192, 65536);
    } else if (mode == 1) {
      tp = (1ULL << 55) + *rc::gen::inRange<std::uint64_t>(0, 512);
      bytes = 1ULL << 30;
    } else {
      tp = *rc::gen::inRange<std::uint64_t>(1, ~std::uint64_t{0});
      bytes = *rc::gen::inRange<std::uint64_t>(0, NexusCounters::kMaxCountedTransfer);
    }
    b.disk.paths[i].nexus->counters.set_throughput(tp);
    if (bytes != 0) b.disk.paths[i].nexus->counters.StartIo(bytes);
  }
  b.Policy(LoadBalancePolicy::kServiceTime);
  SelectorState st;
  auto s = BuildSnapshot(b.disk, st, nullptr, {}, 0);
  const std::span<const SnapshotEntry> usable = s->usable();
  const std::uint64_t request =
      *rc::gen::oneOf(rc::gen::element<std::uint64_t>(0, 1, 4096, ~std::uint64_t{0}),
                      rc::gen::arbitrary<std::uint64_t>());
  const std::size_t scalar = service_time::SoonestByScalarScan(usable, request);
  RC_ASSERT(service_time::SoonestByVectorScan(usable, request) == scalar);
  const std::size_t m = ExactSoonest(usable, request);
  const Wide lhs = Wide{StLoad(usable[scalar], request)} * usable[m].counters->throughput();
  const Wide rhs = Wide{StLoad(usable[m], request)} * usable[scalar].counters->throughput();
  RC_ASSERT(lhs <= rhs + (rhs >> 44));
}

}  // namespace
}  // namespace openmpio::dsm

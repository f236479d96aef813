// SelectionSnapshot: built from the path-state computation, immutable,
// allocation-free selection for every policy, and the no-path cases, checked
// over random topologies.
#include "dsm/snapshot.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

// Counts every allocation of this test program (unit_dsm); this is the one
// file of the program that includes it.
#include "alloc_counter.h"
#include "dsm_fixture.h"

namespace openmpio::dsm {
namespace {

using namespace testing;  // NOLINT
using openmpio::testing::g_allocations;

const LoadBalancePolicy kAll[] = {
    LoadBalancePolicy::kFailOverOnly,    LoadBalancePolicy::kRoundRobin,
    LoadBalancePolicy::kRoundRobinWithSubset, LoadBalancePolicy::kLeastQueueDepth,
    LoadBalancePolicy::kWeightedPaths,   LoadBalancePolicy::kLeastBlocks,
    LoadBalancePolicy::kServiceTime};

TEST(Snapshot, SelectStartEndAllocateNothingForAnyPolicy) {
  for (auto policy : kAll) {
    DiskBuilder b(16);
    b.Policy(policy).Weight(3, 1).Weight(0, 9);
    SelectorState st;
    auto s = BuildSnapshot(b.disk, st, nullptr, {}, 0);
    IoHint h = RandomRead(10);
    IoHint other;
    const long before = g_allocations.load();
    for (int i = 0; i < 1000; ++i) {
      h.lba += (i % 3 == 0) ? 1000 : h.blocks;
      const SnapshotEntry* e = s->Select(st, (i % 7 == 0) ? other : h);
      s->StartIo(*e, h);
      s->EndIo(*e, h, 5000);
    }
    EXPECT_EQ(g_allocations.load(), before) << static_cast<int>(policy);
  }
}

TEST(Snapshot, AllocationCounterWorks) {  // the test above could fail
  const long before = g_allocations.load();
  auto* p = new int(3);
  EXPECT_EQ(g_allocations.load(), before + 1);
  delete p;
}

TEST(Snapshot, EntriesGenerationAndKeepAlive) {
  DiskBuilder b(3);
  b.Policy(LoadBalancePolicy::kRoundRobin).Failed(1).Weight(2, 42);
  SelectorState st;
  auto s1 = BuildSnapshot(b.disk, st, nullptr, {}, 0);
  EXPECT_EQ(s1->generation(), 1U);
  ASSERT_EQ(s1->usable().size(), 2U);
  EXPECT_EQ(s1->usable()[1].path_index, 2U);
  EXPECT_EQ(s1->usable()[1].id, b.id(2));
  EXPECT_EQ(s1->usable()[1].weight, 42U);
  EXPECT_EQ(s1->usable()[1].counters, &b.disk.paths[2].nexus->counters);
  auto s2 = BuildSnapshot(b.disk, st, s1.get(), {}, 0);
  EXPECT_EQ(s2->generation(), 2U);
  // The disk drops its paths; the snapshot still holds their nexuses.
  b.disk.paths.clear();
  s2->usable()[0].counters->StartIo(1);
  EXPECT_EQ(s2->usable()[0].counters->outstanding_requests(), 1U);
}

TEST(Snapshot, PolicyNoneUsesTheDefault) {
  DiskBuilder b(2);
  SelectorState st;
  EXPECT_EQ(BuildSnapshot(b.disk, st, nullptr, {}, 0)->policy(), LoadBalancePolicy::kRoundRobin);
  DiskBuilder a(2, AluaSupport::kImplicitOnly);
  EXPECT_EQ(BuildSnapshot(a.disk, st, nullptr, {}, 0)->policy(),
            LoadBalancePolicy::kRoundRobinWithSubset);
}

// Any policy, any random topology and in-flight counters: Select returns a
// usable path whenever one exists, only usable paths, and nullptr only when
// no path is usable; with ALUA and an AO path usable, only AO paths.
RC_GTEST_PROP(SnapshotProperty, NeverSelectsAnUnusablePath, ()) {
  const auto n = *rc::gen::inRange<std::size_t>(1, 33);
  const auto alua = static_cast<AluaSupport>(*rc::gen::inRange<std::uint32_t>(0, 4));
  DiskBuilder b(n, alua);
  for (std::uint16_t g = 1; g <= 3; ++g) {
    b.Group(g, *rc::gen::element(kAO, kAN, kSB, kUA, kTR, kOFF, kLBD));
  }
  for (std::size_t i = 0; i < n; ++i) {
    if (HasAlua(alua)) b.InGroup(i, *rc::gen::inRange<std::uint16_t>(1, 4));
    if (*rc::gen::inRange(0, 3) == 0) b.Failed(i);
    b.Weight(i, *rc::gen::element<std::uint32_t>(0, 5, 9, kWeightNeverChosen));
    Load(b.disk, i, *rc::gen::inRange<std::uint32_t>(0, 8), 4096);
  }
  const auto policy = *rc::gen::elementOf(std::vector<LoadBalancePolicy>(std::begin(kAll), std::end(kAll)));
  b.Policy(policy);
  SelectorState st;
  auto s = BuildSnapshot(b.disk, st, nullptr, {}, 0);
  const PathStateResult& r = s->states();
  bool ao_usable = false;
  for (std::size_t i = 0; i < n; ++i) {
    ao_usable = ao_usable || (r.paths[i].eligible &&
                              BaseState(b.disk, b.disk.paths[i]) == PathState::kActiveOptimized);
  }
  for (int k = 0; k < 20; ++k) {
    const SnapshotEntry* e = s->Select(st, RandomRead(static_cast<std::uint64_t>(k) * 977));
    if (!e) {
      RC_ASSERT(r.usable_count() == 0U);
      continue;
    }
    RC_ASSERT(r.paths[e->path_index].usable);
    RC_ASSERT(r.paths[e->path_index].eligible);
    RC_ASSERT(b.disk.paths[e->path_index].online());
    if (HasAlua(alua) && ao_usable) {
      RC_ASSERT(BaseState(b.disk, b.disk.paths[e->path_index]) == PathState::kActiveOptimized);
    }
  }
}

}  // namespace
}  // namespace openmpio::dsm

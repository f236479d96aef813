// Fail Over Only and Weighted Paths (spec/msdsm.md §3 rows 1, 5): the choice
// is precomputed in the snapshot; selection is one load.
#include <gtest/gtest.h>

#include "dsm_fixture.h"

namespace openmpio::dsm {
namespace {

using namespace testing;  // NOLINT

TEST(FailOverOnly, SticksThroughRebuildsAndFailsBackOnlyToPreferred) {
  DiskBuilder b(3);
  b.Policy(LoadBalancePolicy::kFailOverOnly);
  SelectorState st;
  auto s1 = BuildSnapshot(b.disk, st, nullptr, {}, 0);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(s1->Select(st, RandomRead(0))->path_index, 0U);
  b.Failed(0);
  auto s2 = BuildSnapshot(b.disk, st, s1.get(), {}, 0);
  EXPECT_EQ(s2->Select(st, RandomRead(0))->path_index, 1U);
  b.disk.paths[0].verification = PathVerification::kOnline;
  auto s3 = BuildSnapshot(b.disk, st, s2.get(), {}, 0);
  EXPECT_EQ(s3->Select(st, RandomRead(0))->path_index, 1U);  // no failback
  b.Preferred(2);
  auto s4 = BuildSnapshot(b.disk, st, s3.get(), {}, 0);
  EXPECT_EQ(s4->Select(st, RandomRead(0))->path_index, 2U);  // preferred path wins
  EXPECT_EQ(s4->usable().size(), 1U);
}

TEST(WeightedPaths, LowestWeightTiesByPathOrderNeverMax) {
  DiskBuilder b(4);
  b.Policy(LoadBalancePolicy::kWeightedPaths)
      .Weight(0, kWeightNeverChosen).Weight(1, 30).Weight(2, 10).Weight(3, 10);
  SelectorState st;
  auto s = BuildSnapshot(b.disk, st, nullptr, {}, 0);
  EXPECT_EQ(s->Select(st, RandomRead(0))->path_index, 2U);  // 10 beats 30; first of the 10s
  b.Failed(2);
  s = BuildSnapshot(b.disk, st, s.get(), {}, 0);
  EXPECT_EQ(s->Select(st, RandomRead(0))->path_index, 3U);
  b.Failed(3);
  s = BuildSnapshot(b.disk, st, s.get(), {}, 0);
  EXPECT_EQ(s->Select(st, RandomRead(0))->path_index, 1U);  // next lowest
  b.Failed(1);
  s = BuildSnapshot(b.disk, st, s.get(), {}, 0);
  EXPECT_EQ(s->Select(st, RandomRead(0)), nullptr);  // 0xFFFFFFFF never
}

TEST(WeightedPaths, AluaPrefersAoOverLowerWeightAu) {
  DiskBuilder b(2, AluaSupport::kImplicitOnly);
  b.Policy(LoadBalancePolicy::kWeightedPaths).Group(1, kAO).Group(2, kAN);
  b.InGroup(0, 2).InGroup(1, 1).Weight(0, 1).Weight(1, 100);
  SelectorState st;
  auto s = BuildSnapshot(b.disk, st, nullptr, {}, 0);
  EXPECT_EQ(s->Select(st, RandomRead(0))->path_index, 1U);
}

}  // namespace
}  // namespace openmpio::dsm

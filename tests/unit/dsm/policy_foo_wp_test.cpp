// Fail Over Only and Weighted Paths (spec/msdsm.md §3 rows 1, 5): the choice
// is precomputed in the snapshot; selection is one load. Their hooks: FOO's
// single-path choice, WP's refusal of weight 0xFFFFFFFF, their status lines.
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

// ---- The hooks (policy.h) ----

// FOO's ChooseSingle (path_state.h rule 7), asked directly: each rule, in order,
// with the reason it gives.
TEST(FailOverOnly, ChooseSingleOrderAndReason) {
  DiskBuilder b(4, AluaSupport::kImplicitOnly);
  b.Group(1, kAN).Group(2, kAN, /*pref=*/true).Group(3, kSB);
  b.InGroup(0, 3).InGroup(1, 1).InGroup(2, 2).InGroup(3, 1);
  std::vector<PathView> v(4);
  for (std::size_t i = 0; i < 4; ++i) v[i] = PathView{BaseState(b.disk, b.disk.paths[i]), true};
  const Policy& foo = FailOverOnlyPolicy();
  const auto best = PathState::kActiveUnoptimized;

  auto one = foo.ChooseSingle(b.disk, v, best, std::nullopt);
  ASSERT_TRUE(one);
  EXPECT_EQ(one->index, 2U);  // the AU path whose group has PREF
  EXPECT_STREQ(one->why, "the first of the best state in a group with PREF");

  one = foo.ChooseSingle(b.disk, v, best, 3);
  EXPECT_EQ(one->index, 3U);  // the path in use, AU too
  EXPECT_STREQ(one->why, "the path in use: no failback but to the preferred path");

  one = foo.ChooseSingle(b.disk, v, best, 0);  // in use but SB on ALUA: moved off
  EXPECT_EQ(one->index, 2U);

  b.Preferred(1);
  one = foo.ChooseSingle(b.disk, v, best, 3);
  EXPECT_EQ(one->index, 1U);
  EXPECT_STREQ(one->why, "the preferred path");

  b.Preferred(0);  // preferred but SB: not the best state
  v[2].eligible = false;
  one = foo.ChooseSingle(b.disk, v, best, std::nullopt);
  EXPECT_EQ(one->index, 1U);
  EXPECT_STREQ(one->why, "the first of the best state in path order");
}

TEST(FailOverOnly, StatusLineNamesThePathAndWhy) {
  DiskBuilder b(3);
  b.Policy(LoadBalancePolicy::kFailOverOnly).Preferred(1);
  SelectorState st;
  auto s = BuildSnapshot(b.disk, st, nullptr, {}, 0);
  EXPECT_STREQ(s->states().foo_reason, "the preferred path");
  EXPECT_EQ(s->policy_impl().StatusLine(*s, st),
            "one path " + PathIdText(b.id(1)) + " (the preferred path)");
}

TEST(WeightedPaths, EligibleRefusesOnlyTheNeverChosenWeight) {
  const Policy& wp = WeightedPathsPolicy();
  Path p;
  for (std::uint32_t w : {0U, 1U, 100U, kWeightNeverChosen - 1}) {
    p.weight = w;
    EXPECT_TRUE(wp.Eligible(p)) << w;
  }
  p.weight = kWeightNeverChosen;
  EXPECT_FALSE(wp.Eligible(p));
  // And so the path is not eligible at all (rule 3), under WP only.
  DiskBuilder b(2);
  b.Weight(0, kWeightNeverChosen);
  EXPECT_FALSE(
      ComputePathStates(b.disk, LoadBalancePolicy::kWeightedPaths, 0, 0).paths[0].eligible);
  EXPECT_TRUE(ComputePathStates(b.disk, LoadBalancePolicy::kRoundRobin, 0, 0).paths[0].eligible);
}

TEST(WeightedPaths, StatusLineListsTheWeightsAndTheLowest) {
  DiskBuilder b(3);
  b.Policy(LoadBalancePolicy::kWeightedPaths)
      .Weight(0, 30)
      .Weight(1, kWeightNeverChosen)
      .Weight(2, 10);
  SelectorState st;
  auto s = BuildSnapshot(b.disk, st, nullptr, {}, 0);
  EXPECT_EQ(s->policy_impl().StatusLine(*s, st), "PathWeight " + PathIdText(b.id(0)) + "=30, " +
                                                     PathIdText(b.id(2)) + "=10; lowest " +
                                                     PathIdText(b.id(2)));
}

}  // namespace
}  // namespace openmpio::dsm

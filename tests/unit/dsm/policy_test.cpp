// The policy interface (policy.h): each policy answers for its own rules of
// path_state.h (3: Eligible, 5: ReusesPathInTransition, 7: ChooseSingle), its
// previous path, and a status line; path_state.cpp names no policy.
#include "dsm/policy.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "dsm_fixture.h"

namespace openmpio::dsm {
namespace {

using namespace testing;  // NOLINT

const LoadBalancePolicy kAll[] = {
    LoadBalancePolicy::kFailOverOnly,         LoadBalancePolicy::kRoundRobin,
    LoadBalancePolicy::kRoundRobinWithSubset, LoadBalancePolicy::kLeastQueueDepth,
    LoadBalancePolicy::kWeightedPaths,        LoadBalancePolicy::kLeastBlocks,
    LoadBalancePolicy::kServiceTime};

bool ReusesInTransitionPerSpec(LoadBalancePolicy p) {  // spec §3: LQD/LB, and ours like LQD
  return p == LoadBalancePolicy::kLeastQueueDepth || p == LoadBalancePolicy::kLeastBlocks ||
         p == LoadBalancePolicy::kServiceTime;
}

TEST(Policy, EachNumberHasItsOwnImplementation) {
  for (auto p : kAll) EXPECT_EQ(PolicyFor(p).kind(), p);
  EXPECT_EQ(PolicyFor(LoadBalancePolicy::kNone).kind(), LoadBalancePolicy::kRoundRobinWithSubset);
}

TEST(Policy, TransitionReuseTraitIsLqdLbAndServiceTimeOnly) {
  for (auto p : kAll) {
    EXPECT_EQ(PolicyFor(p).ReusesPathInTransition(), ReusesInTransitionPerSpec(p))
        << static_cast<int>(p);
  }
}

// The trait is all that decides rule 5: the previous path in a Transitioning
// group, a standby group beside it, within the window.
TEST(Policy, TransitionReuseFollowsTheTrait) {
  for (auto p : kAll) {
    DiskBuilder b(4, AluaSupport::kImplicitOnly);
    b.Group(1, kTR, false, 1000).Group(2, kSB);
    b.InGroup(0, 1).InGroup(1, 1).InGroup(2, 2).InGroup(3, 2);
    b.disk.implicit_transition_time_s = 10;
    const auto r = ComputePathStates(b.disk, p, b.id(1), 5000);
    EXPECT_EQ(r.mode == SelectionMode::kTransitionReuse, PolicyFor(p).ReusesPathInTransition())
        << static_cast<int>(p);
  }
}

TEST(Policy, OnlyWeightedPathsRefusesAPath) {
  Path never;
  never.weight = kWeightNeverChosen;
  Path heavy;
  heavy.weight = kWeightNeverChosen - 1;
  for (auto p : kAll) {
    const bool wp = p == LoadBalancePolicy::kWeightedPaths;
    EXPECT_EQ(PolicyFor(p).Eligible(never), !wp) << static_cast<int>(p);
    EXPECT_TRUE(PolicyFor(p).Eligible(heavy)) << static_cast<int>(p);
  }
}

TEST(Policy, OnlyFailOverOnlyChoosesASinglePath) {
  DiskBuilder b(3);
  const std::vector<PathView> views(3, PathView{PathState::kActiveOptimized, true, false, false});
  for (auto p : kAll) {
    const auto one = PolicyFor(p).ChooseSingle(b.disk, views, PathState::kActiveOptimized, 2);
    EXPECT_EQ(one.has_value(), p == LoadBalancePolicy::kFailOverOnly) << static_cast<int>(p);
  }
}

TEST(Policy, PreviousPathIsTheLastChoiceButForFailOverOnly) {
  DiskBuilder b(3);
  b.Policy(LoadBalancePolicy::kFailOverOnly).Preferred(2);
  SelectorState st;
  st.last_path = b.id(1);
  auto foo = BuildSnapshot(b.disk, st, nullptr, {}, 0);
  b.Policy(LoadBalancePolicy::kRoundRobin);
  auto rr = BuildSnapshot(b.disk, st, foo.get(), {}, 0);
  for (auto p : kAll) {
    const Policy& impl = PolicyFor(p);
    if (p == LoadBalancePolicy::kFailOverOnly) {
      EXPECT_EQ(impl.PreviousPath(foo.get(), st), b.id(2));  // its path, not last_path
      EXPECT_EQ(impl.PreviousPath(rr.get(), st), 0U);        // RR's snapshot has none
      EXPECT_EQ(impl.PreviousPath(nullptr, st), 0U);
    } else {
      EXPECT_EQ(impl.PreviousPath(foo.get(), st), b.id(1)) << static_cast<int>(p);
    }
  }
}

TEST(Policy, StatusLineWithoutAUsablePath) {
  for (auto p : kAll) {
    DiskBuilder b(2);
    b.Policy(p).Failed(0).Failed(1);
    SelectorState st;
    auto s = BuildSnapshot(b.disk, st, nullptr, {}, 0);
    EXPECT_EQ(s->policy_impl().StatusLine(*s, st), "no usable path") << static_cast<int>(p);
  }
}

TEST(Policy, PathIdTextIsTheManagementApisSpelling) {
  EXPECT_EQ(PathIdText(0x12ab), "0x00000000000012ab");
  EXPECT_EQ(PathIdText(~DsmPathId{0}), "0xffffffffffffffff");
}

// A policy's context (PolicyContext) stays within the one cache line of
// SelectorState that a disk's I/O threads write.
TEST(Policy, SelectorStateIsOneCacheLine) {
  EXPECT_EQ(sizeof(SelectorState), 64U);
  EXPECT_EQ(alignof(SelectorState), 64U);
}

}  // namespace
}  // namespace openmpio::dsm

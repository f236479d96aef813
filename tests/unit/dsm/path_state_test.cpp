// The MSDSM path-state computation (spec/msdsm.md §2, §3; path_state.h rules).
#include "dsm/path_state.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "dsm_fixture.h"

namespace openmpio::dsm {
namespace {

using namespace testing;  // NOLINT: test vocabulary
using V = std::vector<std::size_t>;
constexpr auto kFoo = LoadBalancePolicy::kFailOverOnly;
constexpr auto kRrws = LoadBalancePolicy::kRoundRobinWithSubset;
constexpr auto kLqd = LoadBalancePolicy::kLeastQueueDepth;
constexpr auto kLb = LoadBalancePolicy::kLeastBlocks;
constexpr auto kWp = LoadBalancePolicy::kWeightedPaths;

// Two groups, two paths each: 0,1 in group 1; 2,3 in group 2.
DiskBuilder TwoGroups(AsymmetricAccessState g1, AsymmetricAccessState g2,
                      AluaSupport a = AluaSupport::kImplicitOnly) {
  DiskBuilder b(4, a);
  b.Group(1, g1).Group(2, g2).InGroup(0, 1).InGroup(1, 1).InGroup(2, 2).InGroup(3, 2);
  return b;
}

TEST(PathState, AluaAoSetCarriesIo) {
  auto b = TwoGroups(kAO, kAN);
  const auto r = ComputePathStates(b.disk, kRrws, 0, 0);
  EXPECT_EQ(r.mode, SelectionMode::kActiveOptimized);
  EXPECT_EQ(UsableIndices(r), (V{0, 1}));
  EXPECT_EQ(r.paths[2].state, PathState::kActiveUnoptimized);
  EXPECT_FALSE(r.paths[2].usable);  // AU unused while any AO exists
}

TEST(PathState, NoAoPathUsablePromotesAuThenSbThenUa) {
  auto b = TwoGroups(kAO, kAN);
  b.Failed(0).Failed(1);
  auto r = ComputePathStates(b.disk, kRrws, 0, 0);
  EXPECT_EQ(r.mode, SelectionMode::kFailover);
  EXPECT_EQ(r.tier, PathState::kActiveUnoptimized);
  EXPECT_EQ(UsableIndices(r), (V{2, 3}));
  EXPECT_TRUE(r.paths[2].promoted);

  auto s = TwoGroups(kUA, kSB);
  r = ComputePathStates(s.disk, kRrws, 0, 0);
  EXPECT_EQ(r.tier, PathState::kStandby);
  EXPECT_EQ(UsableIndices(r), (V{2, 3}));
  s.Failed(2).Failed(3);
  r = ComputePathStates(s.disk, kRrws, 0, 0);
  EXPECT_EQ(r.tier, PathState::kUnavailable);
  EXPECT_EQ(UsableIndices(r), (V{0, 1}));
}

TEST(PathState, ImplicitLuWhoseOnlyReachableGroupIsActiveNonOptimizedCarriesIo) {
  auto b = TwoGroups(kAN, kAN);
  b.disk.symmetric_access = true;
  const auto r = ComputePathStates(b.disk, LoadBalancePolicy::kRoundRobin, 0, 0);
  EXPECT_EQ(r.usable_count(), 4U);
  EXPECT_EQ(r.tier, PathState::kActiveUnoptimized);
}

TEST(PathState, TransitioningOfflineLbdAndReservedNeverCarryIo) {
  for (auto s : {kTR, kOFF, kLBD}) {
    auto b = TwoGroups(s, s);
    const auto r = ComputePathStates(b.disk, kRrws, 0, 0);
    EXPECT_EQ(r.mode, SelectionMode::kNoPath) << static_cast<int>(s);
    EXPECT_EQ(r.usable_count(), 0U);
  }
  auto b = TwoGroups(kAO, kSB);
  b.disk.groups[0].state = AccessStateField::FromNibble(0x7);  // reserved value
  const auto r = ComputePathStates(b.disk, kRrws, 0, 0);
  EXPECT_EQ(UsableIndices(r), (V{2, 3}));  // the standby group, not the reserved one
}

TEST(PathState, MaskingGoesDownNeverUp) {
  auto b = TwoGroups(kAO, kAN);
  b.Requested(0, PathState::kStandby).Requested(2, PathState::kActiveOptimized);
  const auto r = ComputePathStates(b.disk, kRrws, 0, 0);
  EXPECT_EQ(r.paths[0].state, PathState::kStandby);
  EXPECT_EQ(r.paths[2].state, PathState::kActiveUnoptimized);
  EXPECT_EQ(UsableIndices(r), (V{1}));
}

TEST(PathState, NonAluaStandbyBecomesActiveAndReturningPrimaryDisplacesIt) {
  DiskBuilder b(3);
  b.Policy(kRrws).Requested(2, PathState::kStandby);
  EXPECT_EQ(UsableIndices(ComputePathStates(b.disk, kRrws, 0, 0)), (V{0, 1}));
  b.Failed(0).Failed(1);
  auto r = ComputePathStates(b.disk, kRrws, 0, 0);
  EXPECT_EQ(UsableIndices(r), (V{2}));
  EXPECT_EQ(r.mode, SelectionMode::kFailover);
  b.disk.paths[1].verification = PathVerification::kOnline;
  r = ComputePathStates(b.disk, kRrws, 0, 0);
  EXPECT_EQ(UsableIndices(r), (V{1}));
}

TEST(PathState, InitializingPathsDoNotCarryIo) {
  DiskBuilder b(2);
  b.disk.paths[0].verification = PathVerification::kInitializing;
  EXPECT_EQ(UsableIndices(ComputePathStates(b.disk, kRrws, 0, 0)), (V{1}));
}

TEST(PathState, WeightedPathsNeverUsesMaxWeight) {
  DiskBuilder b(3);
  b.Weight(0, kWeightNeverChosen).Weight(1, 5).Weight(2, kWeightNeverChosen);
  EXPECT_EQ(UsableIndices(ComputePathStates(b.disk, kWp, 0, 0)), (V{1}));
  b.Failed(1);
  EXPECT_EQ(ComputePathStates(b.disk, kWp, 0, 0).mode, SelectionMode::kNoPath);
}

// ---- Fail Over Only, rule 7 ----

TEST(PathStateFoo, ExactlyOnePathFirstInOrderOthersStandby) {
  DiskBuilder b(3);
  const auto r = ComputePathStates(b.disk, kFoo, 0, 0);
  EXPECT_EQ(UsableIndices(r), (V{0}));
  EXPECT_EQ(r.foo_path, 0U);
  EXPECT_EQ(r.paths[0].state, PathState::kActiveOptimized);
  EXPECT_EQ(r.paths[1].state, PathState::kStandby);
  EXPECT_EQ(r.paths[2].state, PathState::kStandby);
}

TEST(PathStateFoo, SticksToCurrentPathAndFailsBackOnlyToPreferred) {
  DiskBuilder b(3);
  b.Failed(0);
  auto r = ComputePathStates(b.disk, kFoo, 0, 0);
  EXPECT_EQ(r.foo_path, 1U);
  b.disk.paths[0].verification = PathVerification::kOnline;  // 0 is back, not preferred
  r = ComputePathStates(b.disk, kFoo, b.id(1), 0);
  EXPECT_EQ(r.foo_path, 1U);  // no failback
  b.Preferred(0);
  r = ComputePathStates(b.disk, kFoo, b.id(1), 0);
  EXPECT_EQ(r.foo_path, 0U);  // failback to the preferred path
  b.Failed(0);
  r = ComputePathStates(b.disk, kFoo, b.id(0), 0);
  EXPECT_EQ(r.foo_path, 1U);
}

TEST(PathStateFoo, NonAluaPromotedStandbyStaysWhenOldActiveReturns) {
  DiskBuilder b(2);
  b.Policy(kFoo).Requested(1, PathState::kStandby);
  b.Failed(0);
  auto r = ComputePathStates(b.disk, kFoo, b.id(0), 0);
  EXPECT_EQ(r.foo_path, 1U);
  EXPECT_TRUE(r.paths[1].promoted);
  b.disk.paths[0].verification = PathVerification::kOnline;
  r = ComputePathStates(b.disk, kFoo, b.id(1), 0);
  EXPECT_EQ(r.foo_path, 1U);  // WS2008 R2: the standby stays until a preferred path says otherwise
}

TEST(PathStateFoo, AluaPrefersAuOverSbOverUaAndPrefBit) {
  DiskBuilder b(4, AluaSupport::kImplicitOnly);
  b.Group(1, kAO).Group(2, kSB).Group(3, kAN).Group(4, kAN, /*pref=*/true);
  for (std::uint16_t i = 0; i < 4; ++i) b.InGroup(i, static_cast<std::uint16_t>(i + 1));
  EXPECT_EQ(ComputePathStates(b.disk, kFoo, 0, 0).foo_path, 0U);
  b.Failed(0);
  const auto r = ComputePathStates(b.disk, kFoo, b.id(0), 0);
  EXPECT_EQ(r.foo_path, 3U);  // AU, and among AU the group with PREF
  EXPECT_EQ(r.mode, SelectionMode::kFailover);
  b.Failed(2).Failed(3);
  EXPECT_EQ(ComputePathStates(b.disk, kFoo, b.id(3), 0).foo_path, 1U);  // then SB
}

TEST(PathStateFoo, AluaMovesOffAPathWhoseGroupWasDemoted) {
  auto b = TwoGroups(kAO, kAN);
  EXPECT_EQ(ComputePathStates(b.disk, kFoo, 0, 0).foo_path, 0U);
  b.Group(1, kAN).Group(2, kAO);  // the array moved the optimized group
  EXPECT_EQ(ComputePathStates(b.disk, kFoo, b.id(0), 0).foo_path, 2U);
}

TEST(PathStateFoo, NoEligiblePathMeansNoPath) {
  DiskBuilder b(2);
  b.Failed(0).Failed(1);
  const auto r = ComputePathStates(b.disk, kFoo, b.id(0), 0);
  EXPECT_EQ(r.mode, SelectionMode::kNoPath);
  EXPECT_FALSE(r.foo_path.has_value());
}

// ---- Transition window, rule 5 ----

TEST(PathStateTransition, LqdAndLbReuseThePreviousPathWithinTheWindow) {
  for (auto policy : {kLqd, kLb, LoadBalancePolicy::kServiceTime}) {
    auto b = TwoGroups(kTR, kSB);
    b.Group(1, kTR, false, /*since_ms=*/1000);
    b.disk.implicit_transition_time_s = 10;
    auto r = ComputePathStates(b.disk, policy, b.id(1), 5000);
    EXPECT_EQ(r.mode, SelectionMode::kTransitionReuse);
    EXPECT_EQ(UsableIndices(r), (V{1}));
    // Past the implicit transition time: failover to the standby group.
    r = ComputePathStates(b.disk, policy, b.id(1), 11000);
    EXPECT_EQ(r.mode, SelectionMode::kFailover);
    EXPECT_EQ(UsableIndices(r), (V{2, 3}));
    // RRWS never reuses.
    EXPECT_EQ(ComputePathStates(b.disk, kRrws, b.id(1), 5000).mode, SelectionMode::kFailover);
  }
}

TEST(PathStateTransition, NoReuseWhenAnAuPathCanServeOrThePreviousPathFailed) {
  auto b = TwoGroups(kTR, kAN);
  auto r = ComputePathStates(b.disk, kLqd, b.id(0), 10);
  EXPECT_EQ(r.mode, SelectionMode::kFailover);
  EXPECT_EQ(UsableIndices(r), (V{2, 3}));
  auto c = TwoGroups(kTR, kTR);
  EXPECT_EQ(ComputePathStates(c.disk, kLqd, c.id(0), 10).mode, SelectionMode::kTransitionReuse);
  c.Failed(0);
  EXPECT_EQ(ComputePathStates(c.disk, kLqd, c.id(0), 10).mode, SelectionMode::kNoPath);
}

TEST(PathState, ExplicitAluaFailoverNamesGroupsToActivate) {
  auto b = TwoGroups(kAO, kSB, AluaSupport::kImplicitAndExplicit);
  b.Failed(0).Failed(1);
  const auto r = ComputePathStates(b.disk, kRrws, 0, 0);
  EXPECT_EQ(r.groups_to_activate, (std::vector<std::uint16_t>{2}));
  auto i = TwoGroups(kAO, kSB);  // implicit only: nothing to STPG
  i.Failed(0).Failed(1);
  EXPECT_TRUE(ComputePathStates(i.disk, kRrws, 0, 0).groups_to_activate.empty());
}

// Rule 8: every group Standby (or Unavailable): the failover awaits
// activation, and explicit ALUA names one group — the PREF one, else the
// first promoted path's — never both (an STPG is all or nothing).
TEST(PathState, EveryGroupInactiveAwaitsActivationAndNamesOneGroup) {
  auto b = TwoGroups(kSB, kSB, AluaSupport::kImplicitAndExplicit);
  auto r = ComputePathStates(b.disk, kRrws, 0, 0);
  EXPECT_EQ(r.mode, SelectionMode::kFailover);
  EXPECT_TRUE(r.awaiting_activation);
  EXPECT_EQ(r.groups_to_activate, (std::vector<std::uint16_t>{1}));
  b.Group(2, kSB, /*pref=*/true);
  r = ComputePathStates(b.disk, kRrws, 0, 0);
  EXPECT_EQ(r.groups_to_activate, (std::vector<std::uint16_t>{2}));
  auto u = TwoGroups(kUA, kUA);  // implicit only: awaits, names none
  r = ComputePathStates(u.disk, kRrws, 0, 0);
  EXPECT_TRUE(r.awaiting_activation);
  EXPECT_TRUE(r.groups_to_activate.empty());
  // An active group among the usable paths serves: nothing awaited.
  auto a = TwoGroups(kAO, kAN);
  a.Failed(0).Failed(1);
  EXPECT_FALSE(ComputePathStates(a.disk, kRrws, 0, 0).awaiting_activation);
  EXPECT_FALSE(ComputePathStates(TwoGroups(kAO, kSB).disk, kRrws, 0, 0).awaiting_activation);
  // A standby path whose group is A/O (masked by a set) serves as well.
  auto m = TwoGroups(kAO, kSB);
  m.Requested(0, PathState::kStandby).Requested(1, PathState::kStandby);
  EXPECT_FALSE(ComputePathStates(m.disk, kRrws, 0, 0).awaiting_activation);
}

// ---- Properties over random topologies ----

// A random disk: 1..32 paths, random ALUA support, groups and states (reserved
// nibbles included), failures, masks, weights, preferred path.
DiskBuilder RandomDisk(bool alua_only = false) {
  const auto n = *rc::gen::inRange<std::size_t>(1, 33);
  const auto alua =
      static_cast<AluaSupport>(*rc::gen::inRange<std::uint32_t>(alua_only ? 1 : 0, 4));
  DiskBuilder b(n, alua);
  const auto groups = *rc::gen::inRange<std::uint16_t>(1, 5);
  for (std::uint16_t g = 1; g <= groups; ++g) {
    b.disk.groups.push_back(LuGroupState{g, AccessStateField::FromNibble(*rc::gen::inRange<std::uint8_t>(0, 16)),
                                         *rc::gen::arbitrary<bool>(), {}, 0});
  }
  for (std::size_t i = 0; i < n; ++i) {
    if (HasAlua(alua) && *rc::gen::inRange(0, 10) > 0) {
      b.InGroup(i, *rc::gen::inRange<std::uint16_t>(1, static_cast<std::uint16_t>(groups + 1)));
    }
    if (*rc::gen::inRange(0, 3) == 0) b.Failed(i);
    if (*rc::gen::inRange(0, 4) == 0) {
      b.Requested(i, static_cast<PathState>(*rc::gen::inRange<std::uint8_t>(0, 4)));
    }
    b.Weight(i, *rc::gen::element<std::uint32_t>(0, 1, 7, 100, kWeightNeverChosen));
  }
  if (*rc::gen::arbitrary<bool>()) b.Preferred(*rc::gen::inRange<std::size_t>(0, n));
  b.disk.symmetric_access = *rc::gen::arbitrary<bool>();
  return b;
}

RC_GTEST_PROP(PathStateProperty, UsableOnlyIfEligibleAndSomethingUsableIfAnyEligible, ()) {
  DiskBuilder b = RandomDisk();
  const auto policy = static_cast<LoadBalancePolicy>(*rc::gen::inRange<std::uint32_t>(1, 8));
  const DsmPathId prev = *rc::gen::arbitrary<bool>()
                             ? b.id(*rc::gen::inRange<std::size_t>(0, b.disk.paths.size()))
                             : 0;
  const auto r = ComputePathStates(b.disk, policy, prev, 0);
  bool any_eligible = false;
  for (std::size_t i = 0; i < r.paths.size(); ++i) {
    const PathView& v = r.paths[i];
    any_eligible = any_eligible || v.eligible;
    if (v.usable && r.mode != SelectionMode::kTransitionReuse) RC_ASSERT(v.eligible);
    if (v.usable) RC_ASSERT(b.disk.paths[i].online());
  }
  if (any_eligible) RC_ASSERT(r.usable_count() >= 1U);
  if (policy == kFoo) RC_ASSERT(r.usable_count() <= 1U);
}

RC_GTEST_PROP(PathStateProperty, NeverOutsideTheAoSetWhileAnAoPathIsUsable, ()) {
  DiskBuilder b = RandomDisk(/*alua_only=*/true);
  const auto policy = static_cast<LoadBalancePolicy>(*rc::gen::inRange<std::uint32_t>(1, 8));
  const auto r = ComputePathStates(b.disk, policy, 0, 0);
  bool ao_eligible = false;
  for (std::size_t i = 0; i < r.paths.size(); ++i) {
    ao_eligible = ao_eligible || (r.paths[i].eligible &&
                                  BaseState(b.disk, b.disk.paths[i]) == PathState::kActiveOptimized);
  }
  if (!ao_eligible) return;
  for (std::size_t i = 0; i < r.paths.size(); ++i) {
    if (r.paths[i].usable) RC_ASSERT(BaseState(b.disk, b.disk.paths[i]) == PathState::kActiveOptimized);
  }
}

RC_GTEST_PROP(PathStateProperty, FailoverPromotesTheBestEligibleState, ()) {
  DiskBuilder b = RandomDisk();
  const auto r = ComputePathStates(b.disk, kRrws, 0, 0);
  std::optional<PathState> best;
  for (const PathView& v : r.paths) {
    if (v.eligible) best = best ? std::min(*best, v.state) : v.state;
  }
  if (!best) {
    RC_ASSERT(r.mode == SelectionMode::kNoPath);
    return;
  }
  for (const PathView& v : r.paths) RC_ASSERT(v.usable == (v.eligible && v.state == *best));
}

// Rule 8: awaiting activation exactly when a failover's usable paths all sit
// in inactive groups; at most one group named, an inactive group of a usable
// path, and only on explicit ALUA.
RC_GTEST_PROP(PathStateProperty, AwaitingActivationAndTheGroupToActivate, ()) {
  DiskBuilder b = RandomDisk(/*alua_only=*/true);
  const auto policy = static_cast<LoadBalancePolicy>(*rc::gen::inRange<std::uint32_t>(1, 8));
  const auto r = ComputePathStates(b.disk, policy, 0, 0);
  bool all_inactive = r.usable_count() != 0;
  std::vector<std::uint16_t> inactive_groups;
  for (std::size_t i = 0; i < r.paths.size(); ++i) {
    if (!r.paths[i].usable) continue;
    const LuGroupState* g = b.disk.GroupStateOf(b.disk.paths[i]);
    if (g == nullptr || g->state.active()) {
      all_inactive = false;
    } else {
      inactive_groups.push_back(g->tpg_id);
    }
  }
  RC_ASSERT(r.awaiting_activation == (r.mode == SelectionMode::kFailover && all_inactive));
  RC_ASSERT(r.groups_to_activate.size() <= 1U);
  if (r.groups_to_activate.empty()) {
    RC_ASSERT(!(r.mode == SelectionMode::kFailover && HasExplicitAlua(b.disk.alua) &&
                !inactive_groups.empty()));
    return;
  }
  RC_ASSERT(HasExplicitAlua(b.disk.alua));
  RC_ASSERT(std::find(inactive_groups.begin(), inactive_groups.end(),
                      r.groups_to_activate.front()) != inactive_groups.end());
}

}  // namespace
}  // namespace openmpio::dsm

// Round Robin and Round Robin with Subset (spec/msdsm.md §3 rows 2, 3).
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <map>
#include <set>

#include "dsm_fixture.h"

namespace openmpio::dsm {
namespace {

using namespace testing;  // NOLINT

std::unique_ptr<const SelectionSnapshot> Build(const Disk& d, const SelectorState& s,
                                               const SelectionSnapshot* prev = nullptr) {
  return BuildSnapshot(d, s, prev, DsmOptions{}, 0);
}

TEST(RoundRobin, RotatesInPathOrderSkippingFailedPaths) {
  DiskBuilder b(4);
  b.Policy(LoadBalancePolicy::kRoundRobin).Failed(2);
  SelectorState st;
  auto snap = Build(b.disk, st);
  std::vector<std::uint32_t> seen;
  for (int i = 0; i < 6; ++i) seen.push_back(snap->Select(st, RandomRead(0))->path_index);
  EXPECT_EQ(seen, (std::vector<std::uint32_t>{0, 1, 3, 0, 1, 3}));
}

TEST(RoundRobinWithSubset, RotatesOverAoOnlyThenOverTheFailoverSubset) {
  DiskBuilder b(4, AluaSupport::kImplicitOnly);
  b.Policy(LoadBalancePolicy::kRoundRobinWithSubset)
      .Group(1, kAO).Group(2, kAN).InGroup(0, 1).InGroup(1, 2).InGroup(2, 1).InGroup(3, 2);
  SelectorState st;
  auto snap = Build(b.disk, st);
  for (int i = 0; i < 8; ++i) {
    const auto idx = snap->Select(st, RandomRead(0))->path_index;
    EXPECT_TRUE(idx == 0 || idx == 2) << idx;
  }
  b.Failed(0).Failed(2);
  auto next = Build(b.disk, st, snap.get());
  EXPECT_EQ(next->mode(), SelectionMode::kFailover);
  std::set<std::uint32_t> used;
  for (int i = 0; i < 4; ++i) used.insert(next->Select(st, RandomRead(0))->path_index);
  EXPECT_EQ(used, (std::set<std::uint32_t>{1, 3}));
}

TEST(RoundRobin, CursorOutOfRangeAfterShrinkRestartsAtZero) {
  DiskBuilder b(8);
  b.Policy(LoadBalancePolicy::kRoundRobin);
  SelectorState st;
  st.rr_cursor = 7;
  b.Failed(5).Failed(6).Failed(7);
  auto snap = Build(b.disk, st);
  EXPECT_EQ(snap->Select(st, RandomRead(0))->path_index, 0U);
  EXPECT_EQ(snap->Select(st, RandomRead(0))->path_index, 1U);
}

TEST(RoundRobin, NoUsablePathSelectsNothing) {
  DiskBuilder b(2);
  b.Policy(LoadBalancePolicy::kRoundRobin).Failed(0).Failed(1);
  SelectorState st;
  EXPECT_EQ(Build(b.disk, st)->Select(st, RandomRead(0)), nullptr);
}

// The status line names the next path of the rotation, as Select will take it
// (an out-of-range cursor restarts at 0).
TEST(RoundRobin, StatusLineNamesTheNextPath) {
  for (auto policy : {LoadBalancePolicy::kRoundRobin, LoadBalancePolicy::kRoundRobinWithSubset}) {
    DiskBuilder b(3);
    b.Policy(policy).Failed(1);
    SelectorState st;
    auto snap = Build(b.disk, st);
    const Policy& p = snap->policy_impl();
    EXPECT_EQ(p.StatusLine(*snap, st), "next " + PathIdText(b.id(0)) + " (1 of 2 in rotation)");
    EXPECT_EQ(snap->Select(st, RandomRead(0))->path_index, 0U);
    EXPECT_EQ(p.StatusLine(*snap, st), "next " + PathIdText(b.id(2)) + " (2 of 2 in rotation)");
    st.rr_cursor = 9;
    EXPECT_EQ(p.StatusLine(*snap, st), "next " + PathIdText(b.id(0)) + " (1 of 2 in rotation)");
    EXPECT_EQ(snap->Select(st, RandomRead(0))->path_index, 0U);
  }
}

// Fair within ±1 over ANY window: count per path in every window of every
// length from every start; max - min <= 1.
RC_GTEST_PROP(RoundRobinProperty, FairWithinOneOverAnyWindow, ()) {
  const auto n = *rc::gen::inRange<std::size_t>(1, 33);
  DiskBuilder b(n);
  b.Policy(*rc::gen::element(LoadBalancePolicy::kRoundRobin,
                             LoadBalancePolicy::kRoundRobinWithSubset));
  for (std::size_t i = 0; i < n; ++i) {
    if (*rc::gen::inRange(0, 4) == 0) b.Failed(i);
  }
  SelectorState st;
  st.rr_cursor = *rc::gen::inRange<std::uint32_t>(0, 64);
  auto snap = Build(b.disk, st);
  const std::size_t usable = snap->usable().size();
  std::vector<std::uint32_t> seq;
  for (std::size_t i = 0; i < 3 * n + 5; ++i) {
    const SnapshotEntry* e = snap->Select(st, RandomRead(i));
    if (usable == 0) {
      RC_ASSERT(e == nullptr);
      return;
    }
    RC_ASSERT(b.disk.paths[e->path_index].online());
    seq.push_back(e->path_index);
  }
  for (std::size_t start = 0; start < seq.size(); ++start) {
    std::map<std::uint32_t, int> count;
    for (const auto& e : snap->usable()) count[e.path_index] = 0;
    for (std::size_t end = start; end < seq.size(); ++end) {
      ++count[seq[end]];
      int lo = 1 << 30, hi = 0;
      for (auto& [k, c] : count) {
        lo = std::min(lo, c);
        hi = std::max(hi, c);
      }
      RC_ASSERT(hi - lo <= 1);
    }
  }
}

}  // namespace
}  // namespace openmpio::dsm

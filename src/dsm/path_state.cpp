#include "dsm/path_state.h"

#include <algorithm>

#include "dsm/policy.h"

namespace openmpio::dsm {
namespace {

using scsi::AsymmetricAccessState;

// SPC state of a group → MSDSM state (spec/msdsm.md §2: TargetPortGroup_State
// uses the same numbers for the four states MSDSM knows).
std::optional<PathState> FromGroupState(scsi::AccessStateField f) noexcept {
  const auto s = f.state();
  if (!s) return std::nullopt;
  switch (*s) {
    case AsymmetricAccessState::kActiveOptimized: return PathState::kActiveOptimized;
    case AsymmetricAccessState::kActiveNonOptimized: return PathState::kActiveUnoptimized;
    case AsymmetricAccessState::kStandby: return PathState::kStandby;
    case AsymmetricAccessState::kUnavailable: return PathState::kUnavailable;
    case AsymmetricAccessState::kLogicalBlockDependent:
    case AsymmetricAccessState::kOffline:
    case AsymmetricAccessState::kTransitioning: return std::nullopt;
  }
  return std::nullopt;
}

// Rule 5: the previous path's group is Transitioning, within the window.
bool InTransitionWindow(const Disk& disk, const Path& p, std::uint64_t now_ms) noexcept {
  const LuGroupState* g = disk.GroupStateOf(p);
  if (!g || g->state.state() != AsymmetricAccessState::kTransitioning) return false;
  return now_ms >= g->since_ms && now_ms - g->since_ms < disk.TransitionWindowMs();
}

// Rule 7: the one path of a single-path policy carries I/O; that policy's
// other AO paths are reported as SB.
void UseOnePath(PathStateResult& r, const Policy::SingleChoice& choice) {
  for (std::size_t i = 0; i < r.paths.size(); ++i) {
    if (i != choice.index && r.paths[i].state == PathState::kActiveOptimized) {
      r.paths[i].state = PathState::kStandby;
    }
  }
  PathView& chosen = r.paths[choice.index];
  chosen.usable = true;
  chosen.promoted = chosen.state != PathState::kActiveOptimized;
  r.foo_path = choice.index;
  r.foo_reason = choice.why;
  r.tier = chosen.state;
  r.mode = chosen.promoted ? SelectionMode::kFailover : SelectionMode::kActiveOptimized;
}

}  // namespace

std::size_t PathStateResult::usable_count() const noexcept {
  return static_cast<std::size_t>(
      std::count_if(paths.begin(), paths.end(), [](const PathView& v) { return v.usable; }));
}

bool CanCarryIo(const Disk& disk, const Path& path) noexcept {
  if (!path.online()) return false;
  const LuGroupState* g = disk.GroupStateOf(path);
  return !g || FromGroupState(g->state).has_value();
}

PathState BaseState(const Disk& disk, const Path& path) noexcept {
  const LuGroupState* g = disk.GroupStateOf(path);
  if (!g) return path.requested_state.value_or(PathState::kActiveOptimized);
  const PathState from_group = FromGroupState(g->state).value_or(PathState::kUnavailable);
  return path.requested_state ? Worse(from_group, *path.requested_state) : from_group;
}

PathStateResult ComputePathStates(const Disk& disk, LoadBalancePolicy policy,
                                  DsmPathId previous_path, std::uint64_t now_ms) {
  if (policy == LoadBalancePolicy::kNone) policy = DefaultPolicy(disk);
  const Policy& impl = PolicyFor(policy);
  PathStateResult r;
  r.policy = policy;
  const std::size_t n = disk.paths.size();
  r.paths.resize(n);

  std::optional<PathState> best;
  bool any_au = false;
  for (std::size_t i = 0; i < n; ++i) {
    const Path& p = disk.paths[i];
    PathView& v = r.paths[i];
    v.state = BaseState(disk, p);
    v.eligible = CanCarryIo(disk, p) && impl.Eligible(p);  // rules 1, 3
    if (!v.eligible) continue;
    best = best ? std::min(*best, v.state) : v.state;
    any_au = any_au || v.state == PathState::kActiveUnoptimized;
  }
  const std::optional<std::size_t> prev = previous_path != 0 ? disk.IndexOf(previous_path)
                                                             : std::nullopt;
  const std::optional<Policy::SingleChoice> one =
      best ? impl.ChooseSingle(disk, r.paths, *best, prev) : std::nullopt;

  if (one) {
    UseOnePath(r, *one);
  } else if (best == PathState::kActiveOptimized) {
    for (PathView& v : r.paths) v.usable = v.eligible && v.state == PathState::kActiveOptimized;
    r.tier = PathState::kActiveOptimized;
    r.mode = SelectionMode::kActiveOptimized;
  } else if (impl.ReusesPathInTransition() && !any_au && prev && disk.paths[*prev].online() &&
             InTransitionWindow(disk, disk.paths[*prev], now_ms)) {
    r.paths[*prev].usable = true;
    r.paths[*prev].promoted = true;
    r.tier = r.paths[*prev].state;
    r.mode = SelectionMode::kTransitionReuse;
  } else if (best) {
    for (PathView& v : r.paths) {
      v.usable = v.eligible && v.state == *best;
      v.promoted = v.usable;
    }
    r.tier = *best;
    r.mode = SelectionMode::kFailover;
  }

  if (r.mode == SelectionMode::kFailover) {
    // Rule 8. Eligible inactive groups are Standby or Unavailable (rule 1).
    bool all_inactive = true;
    std::optional<std::uint16_t> first, preferred;
    for (std::size_t i = 0; i < n; ++i) {
      if (!r.paths[i].usable) continue;
      const LuGroupState* g = disk.GroupStateOf(disk.paths[i]);
      if (!g || g->state.active()) {
        all_inactive = false;
        continue;
      }
      if (!first) first = g->tpg_id;
      if (!preferred && g->preferred) preferred = g->tpg_id;
    }
    r.awaiting_activation = all_inactive && r.usable_count() != 0;
    if (first && HasExplicitAlua(disk.alua)) {
      r.groups_to_activate.push_back(preferred.value_or(*first));
    }
  }
  return r;
}

}  // namespace openmpio::dsm

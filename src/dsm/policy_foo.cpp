// Fail Over Only (spec/msdsm.md §3 row 1): exactly one path carries all I/O.
// Which one is decided when the snapshot is built (ChooseSingle, path_state.h
// rule 7), so Select is one load:
//  - the preferred path when it is eligible and in the best state (failback,
//    the only automatic one);
//  - else the path in use before, while it is eligible and — on ALUA storage —
//    in the best state (no failback to a non-preferred path);
//  - else the first path of the best state whose group has the PREF bit
//    (controller affinity), else the first in path order.
// ALUA's best state is AO > AU > SB > UA, so a failover prefers AU.
#include "dsm/policy.h"

namespace openmpio::dsm {
namespace {

bool GroupPreferred(const Disk& disk, const Path& p) noexcept {
  const LuGroupState* g = disk.GroupStateOf(p);
  return g && g->preferred;
}

class FailOverOnly final : public Policy {
 public:
  LoadBalancePolicy kind() const noexcept override { return LoadBalancePolicy::kFailOverOnly; }

  std::optional<SingleChoice> ChooseSingle(const Disk& disk, std::span<const PathView> paths,
                                           PathState best,
                                           std::optional<std::size_t> previous) const override {
    auto in_best = [&](std::size_t i) { return paths[i].eligible && paths[i].state == best; };
    const std::optional<std::size_t> pref = disk.IndexOf(disk.settings.preferred_path);
    if (pref && in_best(*pref)) return SingleChoice{*pref, "the preferred path"};
    if (previous && paths[*previous].eligible &&
        (!HasAlua(disk.alua) || paths[*previous].state == best)) {
      return SingleChoice{*previous, "the path in use: no failback but to the preferred path"};
    }
    for (std::size_t i = 0; i < paths.size(); ++i) {
      if (in_best(i) && GroupPreferred(disk, disk.paths[i])) {
        return SingleChoice{i, "the first of the best state in a group with PREF"};
      }
    }
    for (std::size_t i = 0; i < paths.size(); ++i) {
      if (in_best(i)) return SingleChoice{i, "the first of the best state in path order"};
    }
    return std::nullopt;  // unreachable: some path is eligible in the best state
  }

  // The path of the previous snapshot, if that was FOO's too.
  DsmPathId PreviousPath(const SelectionSnapshot* previous,
                         const SelectorState&) const noexcept override {
    if (previous && previous->policy() == kind() && previous->fixed()) return previous->fixed()->id;
    return 0;
  }

  std::optional<std::size_t> Precompute(std::span<const SnapshotEntry> usable,
                                        const PathStateResult& states) const override {
    if (!states.foo_path) return std::nullopt;
    for (std::size_t i = 0; i < usable.size(); ++i) {
      if (usable[i].path_index == *states.foo_path) return i;
    }
    return std::nullopt;
  }

  const SnapshotEntry* Select(const SelectionSnapshot& snap, SelectorState&,
                              const IoHint&) const noexcept override {
    return snap.fixed();
  }

  std::string StatusLine(const SelectionSnapshot& snap, const SelectorState&) const override {
    const SnapshotEntry* e = snap.fixed();
    if (!e) return "no usable path";
    const char* why = snap.states().foo_reason;
    return "one path " + PathIdText(e->id) + " (" + (why ? why : "chosen") + ")";
  }
};

}  // namespace

const Policy& FailOverOnlyPolicy() noexcept {
  static const FailOverOnly policy;
  return policy;
}

}  // namespace openmpio::dsm

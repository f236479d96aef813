// The MSDSM path-state computation (spec/msdsm.md §2, §3): from a Disk, the
// policy in force and the previous choice, each path's MSDSM state and the set
// of paths that carry I/O now. Pure: no clock is read (now_ms is a parameter).
//
// Rules, in order (spec §3 unless marked):
//  1. A path can carry I/O at all ("eligible") when it is online and, on ALUA
//     storage, its group for this LU is A/O, A/N, Standby or Unavailable.
//     Transitioning, Offline, LBA-dependent and reserved states never carry I/O
//     ([C] for LBA-dependent: we do not track which LBAs a group serves).
//  2. Its MSDSM state ("base state"): non-ALUA storage, or a path with no group:
//     the state a set requested, else AO. ALUA: the group's state (A/O→AO,
//     A/N→AU, Standby→SB, Unavailable→UA), masked down — never up — by a
//     requested state ([C]: a set may mask, spec §4 check 12).
//  3. Weighted Paths: a path of weight 0xFFFFFFFF is never chosen (not eligible).
//  4. Any eligible path is AO: the AO ones carry I/O (RR, RRWS, LQD, WP, LB, ST).
//  5. No AO path: LQD, LB and service time reuse the previous path while it is
//     online and its group is Transitioning within the transition window and no
//     AU path is eligible ("the reuse of the previous path in a transition
//     window"; [I]: reuse only where the alternative is a standby or no path).
//  6. Otherwise failover promotes the best eligible state: AU > SB > UA; every
//     eligible path of that state carries I/O. A returning AO path displaces the
//     promoted ones at the next computation (RRWS failback).
//  7. Fail Over Only carries I/O on exactly one path: the preferred path when it
//     is eligible and in the best state (failback, the only automatic one);
//     else the previous path while it is eligible and — on ALUA storage — in the
//     best state (no failback to a non-preferred path); else the first path of
//     the best state whose group has the PREF bit (controller affinity), else
//     the first in path order. Its other AO paths are reported as SB.
//  8. A failover whose usable paths all sit in Standby or Unavailable groups
//     cannot serve media access (04/0B, 04/0C) until a group becomes active:
//     awaiting_activation. On explicit ALUA one group is named for STPG to
//     A/O: the promoted group with the PREF bit, else that of the first
//     promoted path ([C] one group, as discovery activates one: an STPG is
//     all or nothing, and an array may refuse two A/O groups for one LU).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "dsm/topology.h"
#include "dsm/types.h"

namespace openmpio::dsm {

enum class SelectionMode : std::uint8_t {
  kNoPath,           // no path can carry I/O
  kActiveOptimized,  // the AO set carries I/O
  kFailover,         // no AO path: the promoted state's paths carry I/O
  kTransitionReuse,  // LQD/LB/ST: the previous path, in a transition window
};

struct PathView {
  PathState state = PathState::kUnavailable;  // MSDSM state (rule 2, FOO: rule 7)
  bool eligible = false;                      // rule 1 (and 3 for WP)
  bool usable = false;                        // carries I/O now
  bool promoted = false;                      // usable although not AO (failover/reuse)
};

struct PathStateResult {
  LoadBalancePolicy policy = LoadBalancePolicy::kNone;
  SelectionMode mode = SelectionMode::kNoPath;
  // The state of the usable set (AO, or the promoted state); meaningless for kNoPath.
  PathState tier = PathState::kUnavailable;
  std::vector<PathView> paths;          // one per Disk::paths, same order
  std::optional<std::size_t> foo_path;  // FOO: index of the one path
  // Explicit ALUA only, failover onto groups that are not active: the group
  // to move to A/O with STPG (rule 8; [I] from spec §3 "failover activates a
  // standby TPG with STPG"). The engine issues it; until then I/O may get 04/0B.
  std::vector<std::uint16_t> groups_to_activate;
  // Rule 8: every usable path is in a Standby or Unavailable group (kFailover
  // only). The engine holds requests for a path instead of sending them
  // there, and re-reads the states until a group is active.
  bool awaiting_activation = false;

  [[nodiscard]] std::size_t usable_count() const noexcept;
};

// Rule 1 for one path.
[[nodiscard]] bool CanCarryIo(const Disk& disk, const Path& path) noexcept;
// Rule 2 for one path.
[[nodiscard]] PathState BaseState(const Disk& disk, const Path& path) noexcept;

// The whole computation. policy must be a selectable policy (EffectivePolicy);
// kNone is treated as DefaultPolicy(disk). previous_path: FOO's current path,
// or the path LQD/LB/ST chose last; 0 when none.
[[nodiscard]] PathStateResult ComputePathStates(const Disk& disk, LoadBalancePolicy policy,
                                                DsmPathId previous_path, std::uint64_t now_ms);

}  // namespace openmpio::dsm

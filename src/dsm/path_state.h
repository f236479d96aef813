// The MSDSM path-state computation (spec/msdsm.md §2, §3): from a Disk, the
// policy in force and the previous choice, each path's MSDSM state and the set
// of paths that carry I/O now. Pure: no clock is read (now_ms is a parameter).
//
// Rules, in order (spec §3 unless marked). Rules 3, 5 and 7 belong to single
// policies and are asked of the policy (policy.h): this file names none.
//  1. A path can carry I/O at all ("eligible") when it is online and, on ALUA
//     storage, its group for this LU is A/O, A/N, Standby or Unavailable.
//     Transitioning, Offline, LBA-dependent and reserved states never carry I/O
//     ([C] for LBA-dependent: we do not track which LBAs a group serves).
//  2. Its MSDSM state ("base state"): non-ALUA storage, or a path with no group:
//     the state a set requested, else AO. ALUA: the group's state (A/O→AO,
//     A/N→AU, Standby→SB, Unavailable→UA), masked down — never up — by a
//     requested state ([C]: a set may mask, spec §4 check 12).
//  3. A path the policy refuses (Policy::Eligible) is not eligible: Weighted
//     Paths never chooses a path of weight 0xFFFFFFFF.
//  4. Any eligible path is AO: the AO ones carry I/O (unless rule 7 applies).
//  5. No AO path: a policy that reuses the previous path in a transition
//     (Policy::ReusesPathInTransition: LQD, LB, service time) keeps it while it is
//     online and its group is Transitioning within the transition window and no
//     AU path is eligible ("the reuse of the previous path in a transition
//     window"; [I]: reuse only where the alternative is a standby or no path).
//  6. Otherwise failover promotes the best eligible state: AU > SB > UA; every
//     eligible path of that state carries I/O. A returning AO path displaces the
//     promoted ones at the next computation (RRWS failback).
//  7. A policy that carries I/O on exactly one path (Policy::ChooseSingle:
//     Fail Over Only, policy_foo.cpp has its choice) uses that path alone,
//     promoted when it is not AO; its other AO paths are reported as SB.
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
#include <string>
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
  bool eligible = false;                      // rules 1 and 3
  bool usable = false;                        // carries I/O now
  bool promoted = false;                      // usable although not AO (failover/reuse)
};

struct PathStateResult {
  LoadBalancePolicy policy = LoadBalancePolicy::kNone;
  SelectionMode mode = SelectionMode::kNoPath;
  // The state of the usable set (AO, or the promoted state); meaningless for kNoPath.
  PathState tier = PathState::kUnavailable;
  std::vector<PathView> paths;          // one per Disk::paths, same order
  std::optional<std::size_t> foo_path;  // rule 7 (FOO): index of the one path
  const char* foo_reason = nullptr;     // and why that one (Policy::SingleChoice)
  // Explicit ALUA only, failover onto groups that are not active: the group
  // to move to A/O with STPG (rule 8; [I] from spec §3 "failover activates a
  // standby TPG with STPG"). The engine issues it; until then I/O may get 04/0B.
  std::vector<std::uint16_t> groups_to_activate;
  // Rule 8: every usable path is in a Standby or Unavailable group (kFailover
  // only). The engine holds requests for a path instead of sending them
  // there, and re-reads the states until a group is active.
  bool awaiting_activation = false;
  // The policy's StatusLine for a published snapshot, filled by whoever reads
  // one for the management API (the engine's CopyDisk); ComputePathStates
  // leaves it empty.
  std::string policy_status;

  [[nodiscard]] std::size_t usable_count() const noexcept;
};

// Rule 1 for one path.
[[nodiscard]] bool CanCarryIo(const Disk& disk, const Path& path) noexcept;
// Rule 2 for one path.
[[nodiscard]] PathState BaseState(const Disk& disk, const Path& path) noexcept;

// The whole computation. policy must be a selectable policy (EffectivePolicy);
// kNone is treated as DefaultPolicy(disk). previous_path: the policy's
// PreviousPath (FOO's current path, the path LQD/LB/ST chose last); 0 when none.
[[nodiscard]] PathStateResult ComputePathStates(const Disk& disk, LoadBalancePolicy policy,
                                                DsmPathId previous_path, std::uint64_t now_ms);

}  // namespace openmpio::dsm

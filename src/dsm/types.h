// Vocabulary of the DSM core: MSDSM's policy numbers, MSDSM's path states
// (the Primary/Optimized flag pairs of spec/msdsm.md §2), ALUA support and the
// I/O hint a policy selects with. Plain values, no behaviour beyond conversions.
//
// Keep two things apart (spec/msdsm.md §2, §3):
//  - the SPC state of a target port group for a LU (scsi::AsymmetricAccessState:
//    A/O, A/N, Standby, Unavailable, LBA-dependent, Offline, Transitioning), which
//    the array reports through RTPG, and
//  - the MSDSM state of a path (PathState below: AO, AU, SB, UA), which a
//    DsmSetLoadBalancePolicy* call may mask and failover may promote.
#pragma once

#include <cstddef>
#include <cstdint>

namespace openmpio::dsm {

// DSM_LB_* of mpiodisk.h (spec/msdsm.md §2 "Policy constants"). 0 clears a LUN's
// explicit setting in a set; as a stored value it means "no explicit policy".
enum class LoadBalancePolicy : std::uint32_t {
  kNone = 0,
  kFailOverOnly = 1,          // DSM_LB_FAILOVER
  kRoundRobin = 2,            // DSM_LB_ROUND_ROBIN
  kRoundRobinWithSubset = 3,  // DSM_LB_ROUND_ROBIN_WITH_SUBSET
  kLeastQueueDepth = 4,       // DSM_LB_DYN_LEAST_QUEUE_DEPTH
  kWeightedPaths = 5,         // DSM_LB_WEIGHTED_PATHS
  kLeastBlocks = 6,           // DSM_LB_LEAST_BLOCKS
  // DSM_LB_VENDOR_SPECIFIC. MSDSM never offers it; openmpio uses it for its
  // service-time policy (outstanding bytes / measured throughput), unless the
  // strict_msdsm setting is on (DsmOptions::strict_msdsm).
  kServiceTime = 7,
};

// True for 1..6, and for 7 unless strict_msdsm. 0 is "no policy", not a policy.
constexpr bool IsSelectablePolicy(LoadBalancePolicy p, bool strict_msdsm) noexcept {
  const auto v = static_cast<std::uint32_t>(p);
  if (v >= 1 && v <= 6) return true;
  return v == 7 && !strict_msdsm;
}

// Options passed into dsm/ from the configuration (dsm/ reads no config itself).
struct DsmOptions {
  // Behave exactly as MSDSM: policy 7 (service time) is neither offered nor
  // accepted. Off by default.
  bool strict_msdsm = false;
};

// MSDSM's state of one path. The values are mpiodisk.h's STATE_* constants
// (TargetPortGroup_State field: STATE_ACTIVE_OPTIMIZED 0 ... STATE_UNAVAILABLE 3).
// Order matters: a lower value is a better state (failover promotes AU > SB > UA).
enum class PathState : std::uint8_t {
  kActiveOptimized = 0,    // (PrimaryPath 1, OptimizedPath 1)
  kActiveUnoptimized = 1,  // (1, 0)
  kStandby = 2,            // (0, 1)
  kUnavailable = 3,        // (0, 0)
};

// mpiodisk.h STATE_NOT_USED: the TargetPortGroup_State of a path on non-ALUA storage.
inline constexpr std::uint32_t kTpgStateNotUsed = 16;

// The Primary/Optimized flag pair of MPIO_DSM_Path_V2 (spec/msdsm.md §2 table).
struct PathFlags {
  bool primary = false;
  bool optimized = false;
  friend bool operator==(const PathFlags&, const PathFlags&) = default;
};

constexpr PathFlags ToFlags(PathState s) noexcept {
  switch (s) {
    case PathState::kActiveOptimized: return {true, true};
    case PathState::kActiveUnoptimized: return {true, false};
    case PathState::kStandby: return {false, true};
    case PathState::kUnavailable: return {false, false};
  }
  return {false, false};
}

// Any non-zero ULONG counts as a set flag, as MSDSM reads them.
constexpr PathState FromFlags(std::uint32_t primary, std::uint32_t optimized) noexcept {
  if (primary != 0) return optimized != 0 ? PathState::kActiveOptimized : PathState::kActiveUnoptimized;
  return optimized != 0 ? PathState::kStandby : PathState::kUnavailable;
}

// The worse of two MSDSM states (higher value). A set may mask a path down from
// what its group allows, never up (spec/msdsm.md §4 check 12).
constexpr PathState Worse(PathState a, PathState b) noexcept { return a > b ? a : b; }

// ALUASupport field of MPIO_DSM_Path_V2 = the TPGS field of standard INQUIRY
// (byte 5 bits 5..4, SPC-4 6.4.2); values are mpiodisk.h's ALUA_* constants.
enum class AluaSupport : std::uint32_t {
  kNotSupported = 0,         // ALUA_NOT_SUPPORTED
  kImplicitOnly = 1,         // ALUA_IMPLICIT_ONLY
  kExplicitOnly = 2,         // ALUA_EXPLICIT_ONLY
  kImplicitAndExplicit = 3,  // ALUA_IMPLICIT_AND_EXPLICIT
};

constexpr bool HasAlua(AluaSupport a) noexcept { return a != AluaSupport::kNotSupported; }
constexpr bool HasExplicitAlua(AluaSupport a) noexcept {
  return a == AluaSupport::kExplicitOnly || a == AluaSupport::kImplicitAndExplicit;
}

// DsmPathId (spec/msdsm.md §2): identifies one I_T nexus (DESIGN.md Identity).
using DsmPathId = std::uint64_t;
// "No preferred path" as MSDSM stores it (spec/msdsm.md §4 "On success").
inline constexpr DsmPathId kNoPreferredPath = 0xFFFFFFFFULL;
// A Weighted Paths weight that is never chosen (spec/msdsm.md §3 row 5).
inline constexpr std::uint32_t kWeightNeverChosen = 0xFFFFFFFFU;
// MSDSM claims at most 32 paths per LUN (spec/msdsm.md §5); openmpio allows 64
// ([C]: a 2x2-controller array behind 16 portals is not unusual on Linux hosts).
inline constexpr std::size_t kMsdsmMaxPathsPerDisk = 32;
inline constexpr std::size_t kMaxPathsPerDisk = 64;

// What a request does, for Least Blocks (non-read/write requests reuse the last
// path, spec/msdsm.md §3 row 6).
enum class IoKind : std::uint8_t { kRead, kWrite, kOther };

// What a policy may know of a request. Plain data, passed by value.
struct IoHint {
  std::uint64_t lba = 0;     // first logical block
  std::uint32_t blocks = 0;  // transfer length in logical blocks
  std::uint64_t bytes = 0;   // transfer length in bytes (0 for non-data commands)
  IoKind kind = IoKind::kOther;
};

}  // namespace openmpio::dsm

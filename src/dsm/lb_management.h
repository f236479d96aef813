// DsmSetLoadBalancePolicy / DsmSetLoadBalancePolicyALUA (spec/msdsm.md §4,
// checks 1-13 exactly and in that order) and the per-LUN queries
// DSM_QueryLBPolicy_V2 and DSM_QuerySupportedLBPolicies_V2.
//
// Two entry points, one implementation: the binary one takes the mpiodisk.h
// buffers with their real lengths, as WMI hands them over (so checks 2 and 4
// measure real buffers); the structured one takes the same fields (the JSON
// API). Both return a plan and leave the Disk untouched; the engine performs
// step 14 (STPG, then RTPG) and then CommitSetPolicy writes the plan.
//
// Deviations from the MSDSM sample, each [C] and undone by strict_msdsm where
// it is a rule of MSDSM's (DsmOptions):
//  - policy 7 (service time) is accepted (check 6 is 1..7) and is checked as
//    Least Queue Depth in checks 10-13;
//  - check 9 requires an entry for every non-failed path only, so a query sent
//    straight back (failed paths as id 0) round-trips;
//  - not strict-dependent: a binary input under 8 bytes is
//    STATUS_BUFFER_TOO_SMALL before check 3 reads the policy (the sample reads
//    first); in the structured input fewer entries than DSMPathCount is
//    STATUS_BUFFER_TOO_SMALL (check 4's place) and more is
//    STATUS_INVALID_PARAMETER.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "dsm/topology.h"
#include "dsm/types.h"
#include "openmpio/expected.h"
#include "openmpio/status.h"

namespace openmpio::dsm {

// One MPIO_DSM_Path_V2 entry of a set (V1 entries are converted: PrimaryPath
// 1 -> AO, 0 -> SB, no preferred path). Flags are ULONGs: non-zero is set.
struct SetPathEntry {
  DsmPathId id = 0;              // DsmPathId; 0 = a failed path in a query, ignored
  std::uint32_t weight = 0;      // PathWeight
  std::uint32_t primary = 0;     // PrimaryPath
  std::uint32_t optimized = 0;   // OptimizedPath
  std::uint32_t preferred = 0;   // PreferredPath
};

// DSM_Load_Balance_Policy_V2 as fields.
struct SetPolicyInput {
  std::uint32_t version = 2;      // Version
  std::uint32_t policy = 0;       // LoadBalancePolicy (0 clears)
  std::uint32_t path_count = 0;   // DSMPathCount
  std::vector<SetPathEntry> paths;
};

// What a successful set changes for one path (a matched, non-failed one).
struct PlannedPath {
  std::size_t index = 0;  // into Disk::paths
  DsmPathId id = 0;
  PathState requested = PathState::kActiveOptimized;
  // Keep `requested` as the path's requested_state (symmetric storage, FOO,
  // RRWS where it differs from the group); else the path follows its group.
  bool persist = false;
  std::uint32_t weight = 0;  // the new PathWeight (Weighted Paths) or the old one
};

// Step 14: SET TARGET PORT GROUPS, one descriptor per path requested AO (its
// group to Active/Optimized), sent down `via`, the path that was AO before the
// call; then an RTPG. Failure of either rolls the set back (nothing commits).
struct StpgPlan {
  std::vector<std::uint16_t> tpg_ids;  // one per path requested AO, in entry order
  DsmPathId via = 0;
};

struct SetPolicyPlan {
  // policy 0: drop the LUN's explicit setting (check 3): its policy, every
  // path's requested state and the preferred path (kNoPreferredPath here; the
  // management layer then applies the defaults, PolicyDefaults::ApplyTo).
  bool clear = false;
  LoadBalancePolicy policy = LoadBalancePolicy::kNone;
  DsmPathId preferred_path = kNoPreferredPath;
  std::vector<PlannedPath> paths;
  std::optional<StpgPlan> stpg;
};

// Method ids of DSM_LB_Operations (mpiodisk.h): 1 takes V1 entries (24 bytes),
// 2 takes V2 entries (64 bytes).
enum class SetPolicyMethod : std::uint8_t { kV1 = 1, kAlua = 2 };

// Structured entry point.
[[nodiscard]] Expected<SetPolicyPlan> CheckSetLoadBalancePolicy(const Disk& disk,
                                                                const SetPolicyInput& in,
                                                                const DsmOptions& options);

// Binary entry point: `in` is DsmSetLoadBalancePolicy(ALUA)_IN as received
// (little-endian), `out_size` the length of the output buffer that Status
// will overwrite.
[[nodiscard]] Expected<SetPolicyPlan> CheckSetLoadBalancePolicyBuffer(
    const Disk& disk, SetPolicyMethod method, std::span<const std::byte> in, std::size_t out_size,
    const DsmOptions& options);

// Decodes the binary input as the checks see it (header fields, entries that
// fit): for the fuzz target and tests. Never reads past `in`.
struct DecodedSetPolicy {
  bool has_header_start = false;  // >= 8 bytes: Version and LoadBalancePolicy
  bool has_header = false;        // >= 16 bytes: DSMPathCount too
  SetPolicyInput input;           // paths: only the entries that fit whole
  std::size_t needed = 0;         // 16 + stride * DSMPathCount (0 without a header)
};
[[nodiscard]] DecodedSetPolicy DecodeSetPolicyBuffer(SetPolicyMethod method,
                                                     std::span<const std::byte> in);

// Writes the plan into the Disk (after step 14 succeeded and its RTPG answer
// was recorded with Disk::UpdateGroups). A path asked to be AO whose group
// ended non-AO takes the group state (spec §4 step 14). The plan must be
// for this disk's current paths: InvalidParameter otherwise, nothing written.
[[nodiscard]] Status CommitSetPolicy(Disk& disk, const SetPolicyPlan& plan);

// ---- Queries ------------------------------------------------------------------

// DSM_QueryLBPolicy_V2 needs an RTPG first when access is not symmetric and
// ALUASupport is not 2 (explicit only) [S]; the engine does it and passes the
// RTPG's status to the query, which fills the buffer either way.
[[nodiscard]] bool QueryNeedsAluaRefresh(const Disk& disk) noexcept;

// One MPIO_DSM_Path_V2 of a query, field for field.
struct QueriedPath {
  std::uint64_t dsm_path_id = 0;  // 0 for a failed path
  std::uint64_t reserved = 0;     // supported-states mask (SB 1, AU 2, UA 4) [S]
  std::uint32_t path_weight = 0;
  std::uint32_t primary_path = 0;
  std::uint32_t optimized_path = 0;
  std::uint32_t preferred_path = 0;
  std::uint32_t failed_path = 0;
  std::uint32_t tpg_state = kTpgStateNotUsed;  // STATE_* or 16
  std::uint32_t alua_support = 0;
  std::uint8_t symmetric_lua = 0;
  std::uint8_t tpg_preferred = 0;
  std::uint16_t tpg_identifier = 0;
  std::uint32_t target_port_identifier = 0;
};

struct QueriedPolicy {
  std::uint32_t version = 2;
  std::uint32_t policy = 0;
  std::vector<QueriedPath> paths;
};

[[nodiscard]] QueriedPolicy QueryLoadBalancePolicy(const Disk& disk, const DsmOptions& options);

// Wire size of DSM_QueryLBPolicy_V2 for n paths: 16 + 64 n.
[[nodiscard]] constexpr std::size_t QueryLBPolicyV2Size(std::size_t n) noexcept {
  return 16 + 64 * n;
}
// Encodes the query into `out`. *needed is always set. BUFFER_TOO_SMALL when
// out is shorter (nothing written); else `refresh` (the RTPG's status, OK when
// none was needed) with the buffer filled.
[[nodiscard]] Status EncodeQueryLBPolicyV2(const QueriedPolicy& q, std::span<std::byte> out,
                                           std::size_t* needed, const Status& refresh = Status());

// DSM_QuerySupportedLBPolicies_V2: count, Reserved, then bare 16-byte headers
// {Version 2, policy, DSMPathCount 0, Reserved 0} [S]: 8 + 16 n bytes.
[[nodiscard]] Status EncodeQuerySupportedLBPoliciesV2(const Disk& disk, const DsmOptions& options,
                                                      std::span<std::byte> out,
                                                      std::size_t* needed);

}  // namespace openmpio::dsm

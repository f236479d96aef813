// spec/msdsm.md §4: the checks of DsmSetLoadBalancePolicy(ALUA), the plan they
// produce, and the per-LUN queries.
#include "dsm/lb_management.h"

#include <string>
#include <utility>

#include "dsm/names.h"
#include "dsm/path_state.h"
#include "scsi/bytes.h"

namespace openmpio::dsm {
namespace {

using scsi::Le32;
using scsi::Le64;
using scsi::Put8;
using scsi::PutLe16;
using scsi::PutLe32;
using scsi::PutLe64;
using P = LoadBalancePolicy;

constexpr std::size_t kHeaderSize = 16;   // Version, LoadBalancePolicy, DSMPathCount, Reserved
constexpr std::size_t kHeaderStart = 8;   // Version, LoadBalancePolicy
constexpr std::size_t kPathV2Size = 64;   // MPIO_DSM_Path_V2
constexpr std::size_t kPathV1Size = 24;   // MPIO_DSM_Path
constexpr std::size_t kStatusSize = 4;    // *_OUT: ULONG Status

Unexpected<Status> Invalid(std::string why) { return MakeUnexpected(InvalidParameter(std::move(why))); }

std::string Num(std::uint64_t v) { return std::to_string(v); }

// What the checks read, whichever entry point it came from.
struct CheckSource {
  Status out_check;    // check 2 (binary only)
  Status short_check;  // [C] binary input < 8 bytes, before check 3 reads the policy
  Status size_check;   // check 4
  bool v1 = false;     // entries are MPIO_DSM_Path: Primary 1 -> AO, 0 -> SB
  SetPolicyInput in;
};

// The MSDSM state a group's SPC state corresponds to; none for LBA-dependent,
// Offline, Transitioning and reserved values (no request can equal them).
std::optional<PathState> GroupPathState(const LuGroupState* g) {
  if (g == nullptr) return std::nullopt;
  const auto s = g->state.state();
  if (!s) return std::nullopt;
  switch (*s) {
    case scsi::AsymmetricAccessState::kActiveOptimized: return PathState::kActiveOptimized;
    case scsi::AsymmetricAccessState::kActiveNonOptimized: return PathState::kActiveUnoptimized;
    case scsi::AsymmetricAccessState::kStandby: return PathState::kStandby;
    case scsi::AsymmetricAccessState::kUnavailable: return PathState::kUnavailable;
    default: return std::nullopt;
  }
}

bool GroupIsAo(const LuGroupState* g) { return GroupPathState(g) == PathState::kActiveOptimized; }

PathState RequestedState(const SetPathEntry& e, bool v1) {
  if (v1) return e.primary != 0 ? PathState::kActiveOptimized : PathState::kStandby;
  return FromFlags(e.primary, e.optimized);
}

std::string StateName(PathState s) { return std::string(NameOf(s, Spelling::kJson)); }

// Policies whose per-path fields and checks 10-13 are Least Queue Depth's:
// RR, WP, LQD, LB and (ours) service time.
bool IsMatchingStatePolicy(P p) {
  return p == P::kRoundRobin || p == P::kWeightedPaths || p == P::kLeastQueueDepth ||
         p == P::kLeastBlocks || p == P::kServiceTime;
}

// Check 12 for one matched, non-failed path. ao_count counts AO requests so far.
Status CheckPathRequest(const Disk& disk, const Path& path, P policy, PathState req,
                        int* ao_count) {
  const LuGroupState* g = disk.GroupStateOf(path);
  const std::optional<PathState> gs = GroupPathState(g);
  const std::string who = "path " + Num(path.id()) + ": ";
  if (req == PathState::kActiveOptimized) {
    // AO can be masked down, never forced up where only the target changes states.
    if (disk.alua == AluaSupport::kImplicitOnly && g != nullptr && !GroupIsAo(g)) {
      return InvalidParameter("check 12: " + who + "AO on implicit-only ALUA, group not AO");
    }
    ++*ao_count;
    if (policy == P::kFailOverOnly && *ao_count > 1) {
      return InvalidParameter("check 12: Fail Over Only with more than one AO path");
    }
    return OkStatus();
  }
  if (IsMatchingStatePolicy(policy)) {
    if (req == PathState::kActiveUnoptimized) {
      if (g != nullptr && gs != PathState::kActiveUnoptimized) {
        return InvalidParameter("check 12: " + who + "AU but its group is not A/N");
      }
      return OkStatus();
    }
    // A group in transition, Offline or LBA-dependent carries no I/O and its
    // paths query as UA: UA matches it, so a query sent back mid-transition
    // round-trips ([C], like the failed-path rule of check 9).
    if (req == PathState::kUnavailable && g != nullptr && !gs.has_value()) return OkStatus();
    if (gs != req) {
      return InvalidParameter("check 12: " + who + StateName(req) +
                              " must equal the group's state (never on non-ALUA storage)");
    }
    return OkStatus();
  }
  if (policy == P::kRoundRobinWithSubset && HasAlua(disk.alua) &&
      (req == PathState::kStandby || req == PathState::kUnavailable)) {
    if (gs != PathState::kActiveOptimized && gs != req) {
      return InvalidParameter("check 12: " + who + StateName(req) +
                              " under RRWS only on an AO group or one in that state");
    }
  }
  return OkStatus();  // RRWS otherwise, FOO: AU/SB/UA free
}

Expected<SetPolicyPlan> RunChecks(const Disk& disk, const CheckSource& src,
                                  const DsmOptions& options) {
  const SetPolicyInput& in = src.in;
  // 1.
  if (disk.paths.empty()) return Invalid("check 1: the LUN has no paths");
  // 2.
  if (!src.out_check.ok()) return MakeUnexpected(src.out_check);
  if (!src.short_check.ok()) return MakeUnexpected(src.short_check);
  // 3. Policy 0 clears; nothing else is checked.
  if (in.policy == 0) {
    SetPolicyPlan plan;
    plan.clear = true;
    plan.preferred_path = kNoPreferredPath;  // the default's, applied by PolicyDefaults::ApplyTo
    return plan;
  }
  // 4.
  if (!src.size_check.ok()) return MakeUnexpected(src.size_check);
  // 5.
  if (in.version > 2) {
    return MakeUnexpected(
        Status(NtStatus::kNotSupported, "check 5: Version " + Num(in.version) + " > 2"));
  }
  // 6.
  const auto policy = static_cast<P>(in.policy);
  if (!IsSelectablePolicy(policy, options.strict_msdsm)) {
    return Invalid("check 6: LoadBalancePolicy " + Num(in.policy) + " not in 1.." +
                   (options.strict_msdsm ? "6" : "7"));
  }
  // 7.
  if (in.path_count != disk.paths.size()) {
    return Invalid("check 7: DSMPathCount " + Num(in.path_count) + ", LUN has " +
                   Num(disk.paths.size()) + " paths");
  }
  // 8. Duplicate non-zero ids; id 0 (a failed path in a query) is ignored.
  for (std::size_t i = 0; i < in.paths.size(); ++i) {
    if (in.paths[i].id == 0) continue;
    for (std::size_t j = i + 1; j < in.paths.size(); ++j) {
      if (in.paths[j].id == in.paths[i].id) {
        return Invalid("check 8: DsmPathId " + Num(in.paths[i].id) + " appears twice");
      }
    }
  }
  auto entry_for = [&](DsmPathId id) -> const SetPathEntry* {
    for (const SetPathEntry& e : in.paths) {
      if (e.id == id) return &e;
    }
    return nullptr;
  };
  // 9 (and 10 inside its loop). [C] only non-failed paths need an entry;
  // strict_msdsm: every initialized path, failed ones too.
  for (const Path& path : disk.paths) {
    const bool required = options.strict_msdsm
                              ? path.verification != PathVerification::kInitializing
                              : path.online();
    if (entry_for(path.id()) == nullptr) {
      if (required) return Invalid("check 9: no entry for path " + Num(path.id()));
      continue;
    }
    if (policy == P::kRoundRobin && !disk.symmetric_access) {
      return Invalid("check 10: Round Robin needs symmetric access");
    }
  }
  // 11.
  if (policy == P::kFailOverOnly && !src.v1) {
    int preferred = 0;
    for (const SetPathEntry& e : in.paths) {
      if (e.id != 0 && e.preferred != 0) ++preferred;
    }
    if (preferred > 1) return Invalid("check 11: more than one preferred path");
  }
  // 12, per entry in list order, for matched non-failed paths.
  SetPolicyPlan plan;
  plan.policy = policy;
  plan.preferred_path = disk.settings.preferred_path;
  int ao_count = 0;
  for (const SetPathEntry& e : in.paths) {
    if (e.id == 0) continue;
    const std::optional<std::size_t> index = disk.IndexOf(e.id);
    if (!index) continue;  // a non-zero id that matches no path is ignored [S]
    const Path& path = disk.paths[*index];
    if (!path.online()) continue;
    const PathState req = RequestedState(e, src.v1);
    if (Status s = CheckPathRequest(disk, path, policy, req, &ao_count); !s.ok()) {
      return MakeUnexpected(std::move(s));
    }
    PlannedPath pp;
    pp.index = *index;
    pp.id = e.id;
    pp.requested = req;
    const std::optional<PathState> gs = GroupPathState(disk.GroupStateOf(path));
    pp.persist = disk.symmetric_access || policy == P::kFailOverOnly ||
                 (policy == P::kRoundRobinWithSubset && gs != req);
    pp.weight = policy == P::kWeightedPaths ? e.weight : path.weight;
    plan.paths.push_back(pp);
  }
  // 13. No AO: only in a transition window of ALUA storage (no group AO now).
  if (ao_count == 0) {
    bool any_group_ao = false;
    for (const Path& path : disk.paths) any_group_ao |= GroupIsAo(disk.GroupStateOf(path));
    if (!HasAlua(disk.alua) || any_group_ao) return Invalid("check 13: no path requested AO");
  }
  // On success: FOO stores its preferred path (none = 0xFFFFFFFF); other
  // policies leave the previous one.
  if (policy == P::kFailOverOnly) {
    plan.preferred_path = kNoPreferredPath;
    if (!src.v1) {
      for (const SetPathEntry& e : in.paths) {
        if (e.id != 0 && e.preferred != 0) plan.preferred_path = e.id;
      }
    }
  }
  // 14. Explicit ALUA, AO requested on a group that is not AO: STPG.
  if (HasExplicitAlua(disk.alua)) {
    bool needs = false;
    StpgPlan stpg;
    for (const PlannedPath& pp : plan.paths) {
      if (pp.requested != PathState::kActiveOptimized) continue;
      const LuGroupState* g = disk.GroupStateOf(disk.paths[pp.index]);
      if (g == nullptr) continue;
      stpg.tpg_ids.push_back(g->tpg_id);
      needs |= !GroupIsAo(g);
    }
    if (needs) {
      // Down the path that was AO before the call; [C] if none was, the first
      // path requested AO (STPG is served by standby ports too).
      for (const Path& path : disk.paths) {
        if (path.online() && BaseState(disk, path) == PathState::kActiveOptimized) {
          stpg.via = path.id();
          break;
        }
      }
      if (stpg.via == 0) {
        for (const PlannedPath& pp : plan.paths) {
          if (pp.requested == PathState::kActiveOptimized) {
            stpg.via = pp.id;
            break;
          }
        }
      }
      plan.stpg = std::move(stpg);
    }
  }
  return plan;
}

}  // namespace

Expected<SetPolicyPlan> CheckSetLoadBalancePolicy(const Disk& disk, const SetPolicyInput& in,
                                                  const DsmOptions& options) {
  CheckSource src;
  src.in = in;
  if (in.paths.size() < in.path_count) {
    src.size_check = BufferTooSmall("check 4: " + Num(in.paths.size()) + " entries, DSMPathCount " +
                                    Num(in.path_count));
  } else if (in.paths.size() > in.path_count) {
    src.size_check = InvalidParameter("check 4: " + Num(in.paths.size()) +
                                      " entries, DSMPathCount " + Num(in.path_count));
  }
  return RunChecks(disk, src, options);
}

DecodedSetPolicy DecodeSetPolicyBuffer(SetPolicyMethod method, std::span<const std::byte> in) {
  DecodedSetPolicy d;
  const bool v1 = method == SetPolicyMethod::kV1;
  const std::size_t stride = v1 ? kPathV1Size : kPathV2Size;
  if (in.size() < kHeaderStart) return d;
  d.has_header_start = true;
  // DSM_Load_Balance_Policy(_V2): 0 Version, 4 LoadBalancePolicy, 8 DSMPathCount, 12 Reserved.
  d.input.version = Le32(in, 0);
  d.input.policy = Le32(in, 4);
  if (in.size() < kHeaderSize) return d;
  d.has_header = true;
  d.input.path_count = Le32(in, 8);
  d.needed = kHeaderSize + stride * std::size_t{d.input.path_count};
  const std::size_t fit = (in.size() - kHeaderSize) / stride;
  const std::size_t n = fit < d.input.path_count ? fit : std::size_t{d.input.path_count};
  d.input.paths.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t o = kHeaderSize + i * stride;
    SetPathEntry e;
    // MPIO_DSM_Path(_V2): 0 DsmPathId, 8 Reserved (ignored on set [S]), 16 PathWeight,
    // 20 PrimaryPath; V2 only: 24 OptimizedPath, 28 PreferredPath (the rest is state
    // a set does not read).
    e.id = Le64(in, o);
    e.weight = Le32(in, o + 16);
    e.primary = Le32(in, o + 20);
    if (!v1) {
      e.optimized = Le32(in, o + 24);
      e.preferred = Le32(in, o + 28);
    }
    d.input.paths.push_back(e);
  }
  return d;
}

Expected<SetPolicyPlan> CheckSetLoadBalancePolicyBuffer(const Disk& disk, SetPolicyMethod method,
                                                        std::span<const std::byte> in,
                                                        std::size_t out_size,
                                                        const DsmOptions& options) {
  CheckSource src;
  src.v1 = method == SetPolicyMethod::kV1;
  if (out_size < kStatusSize) {
    src.out_check = BufferTooSmall("check 2: output buffer " + Num(out_size) + " < 4 bytes");
  }
  DecodedSetPolicy d = DecodeSetPolicyBuffer(method, in);
  if (!d.has_header_start) {
    src.short_check = BufferTooSmall("input " + Num(in.size()) + " < 8 bytes");
  } else if (!d.has_header || in.size() < d.needed) {
    src.size_check = BufferTooSmall("check 4: input " + Num(in.size()) + " bytes, needs " +
                                    Num(d.has_header ? d.needed : kHeaderSize));
  }
  src.in = std::move(d.input);
  return RunChecks(disk, src, options);
}

Status CommitSetPolicy(Disk& disk, const SetPolicyPlan& plan) {
  for (const PlannedPath& pp : plan.paths) {
    if (pp.index >= disk.paths.size() || disk.paths[pp.index].id() != pp.id) {
      return InvalidParameter("the LUN's paths changed since the checks");
    }
  }
  if (plan.clear) {
    // The sample's DsmpClearLoadBalancePolicy re-derives every path's state
    // from the fallen-back policy (DsmpSetNewDefaultLBPolicy) and takes the
    // default's PreferredPath: what the explicit set stored must not outlive
    // it (a FOO standby mask would keep a default RR off that path).
    // Weights stay: only Weighted Paths reads them, and a set keeps them too.
    disk.settings.policy = LoadBalancePolicy::kNone;
    disk.settings.explicit_policy = false;
    disk.settings.preferred_path = plan.preferred_path;
    for (Path& path : disk.paths) path.requested_state = std::nullopt;
    return OkStatus();
  }
  disk.settings.policy = plan.policy;
  disk.settings.explicit_policy = true;
  disk.settings.preferred_path = plan.preferred_path;
  for (const PlannedPath& pp : plan.paths) {
    Path& path = disk.paths[pp.index];
    path.weight = pp.weight;
    path.requested_state = pp.persist ? std::optional<PathState>(pp.requested) : std::nullopt;
    // Step 14: a path asked to be AO whose group ended non-AO takes the group state.
    if (plan.stpg && pp.requested == PathState::kActiveOptimized) {
      const LuGroupState* g = disk.GroupStateOf(path);
      if (g != nullptr && !GroupIsAo(g)) path.requested_state = std::nullopt;
    }
  }
  return OkStatus();
}

// ---- Queries ------------------------------------------------------------------

bool QueryNeedsAluaRefresh(const Disk& disk) noexcept {
  return HasAlua(disk.alua) && !disk.symmetric_access && disk.alua != AluaSupport::kExplicitOnly;
}

QueriedPolicy QueryLoadBalancePolicy(const Disk& disk, const DsmOptions& options) {
  QueriedPolicy q;
  q.version = 2;
  q.policy = static_cast<std::uint32_t>(EffectivePolicy(disk, options));
  q.paths.reserve(disk.paths.size());
  for (const Path& path : disk.paths) {
    QueriedPath p;
    const bool failed = !path.online();
    p.dsm_path_id = failed ? 0 : path.id();
    p.failed_path = failed ? 1 : 0;
    if (!failed) {
      const PathFlags f = ToFlags(BaseState(disk, path));
      p.primary_path = f.primary ? 1 : 0;
      p.optimized_path = f.optimized ? 1 : 0;
      p.preferred_path = path.id() == disk.settings.preferred_path ? 1 : 0;
    }
    p.path_weight = path.weight;
    p.alua_support = static_cast<std::uint32_t>(disk.alua);
    p.symmetric_lua = disk.symmetric_access ? 1 : 0;
    // Reserved: supported-states mask, SB 1, AU 2, UA 4 (AO has no bit) [S].
    if (!HasAlua(disk.alua)) {
      p.tpg_state = kTpgStateNotUsed;
      p.reserved = 1;
    } else {
      const LuGroupState* g = disk.GroupStateOf(path);
      std::uint64_t mask = disk.symmetric_access ? 1 : 0;
      if (g != nullptr) {
        p.tpg_state = g->state.raw;
        p.tpg_preferred = g->preferred ? 1 : 0;
        p.tpg_identifier = g->tpg_id;
        if (g->supported.Has(scsi::SupportedStates::kSSup)) mask |= 1;
        if (g->supported.Has(scsi::SupportedStates::kAnSup)) mask |= 2;
        if (g->supported.Has(scsi::SupportedStates::kUSup)) mask |= 4;
      } else {
        // [C] an ALUA path whose group RTPG did not list: no state to report.
        p.tpg_state = kTpgStateNotUsed;
        p.tpg_identifier = path.tpg_id.value_or(0);
      }
      p.reserved = mask;
      p.target_port_identifier = path.relative_target_port;
    }
    q.paths.push_back(p);
  }
  return q;
}

Status EncodeQueryLBPolicyV2(const QueriedPolicy& q, std::span<std::byte> out,
                             std::size_t* needed, const Status& refresh) {
  const std::size_t size = QueryLBPolicyV2Size(q.paths.size());
  *needed = size;
  if (out.size() < size) {
    return BufferTooSmall("DSM_QueryLBPolicy_V2 needs " + Num(size) + " bytes");
  }
  // DSM_Load_Balance_Policy_V2 header, then MPIO_DSM_Path_V2 (spec/msdsm.md §2 offsets).
  PutLe32(out, 0, q.version);
  PutLe32(out, 4, q.policy);
  PutLe32(out, 8, static_cast<std::uint32_t>(q.paths.size()));
  PutLe32(out, 12, 0);
  for (std::size_t i = 0; i < q.paths.size(); ++i) {
    const QueriedPath& p = q.paths[i];
    const std::size_t o = kHeaderSize + i * kPathV2Size;
    PutLe64(out, o + 0, p.dsm_path_id);
    PutLe64(out, o + 8, p.reserved);
    PutLe32(out, o + 16, p.path_weight);
    PutLe32(out, o + 20, p.primary_path);
    PutLe32(out, o + 24, p.optimized_path);
    PutLe32(out, o + 28, p.preferred_path);
    PutLe32(out, o + 32, p.failed_path);
    PutLe32(out, o + 36, p.tpg_state);
    PutLe32(out, o + 40, p.alua_support);
    Put8(out, o + 44, p.symmetric_lua);
    Put8(out, o + 45, p.tpg_preferred);
    PutLe16(out, o + 46, p.tpg_identifier);
    PutLe32(out, o + 48, p.target_port_identifier);
    PutLe32(out, o + 52, 0);  // Reserved32
    PutLe64(out, o + 56, 0);  // Reserved64
  }
  return refresh;
}

Status EncodeQuerySupportedLBPoliciesV2(const Disk& disk, const DsmOptions& options,
                                        std::span<std::byte> out, std::size_t* needed) {
  const std::vector<LoadBalancePolicy> policies = SupportedPolicies(disk, options);
  const std::size_t size = 8 + kHeaderSize * policies.size();
  *needed = size;
  if (out.size() < size) {
    return BufferTooSmall("DSM_QuerySupportedLBPolicies_V2 needs " + Num(size) + " bytes");
  }
  PutLe32(out, 0, static_cast<std::uint32_t>(policies.size()));
  PutLe32(out, 4, 0);
  for (std::size_t i = 0; i < policies.size(); ++i) {
    const std::size_t o = 8 + i * kHeaderSize;  // bare headers, stride 16 [S]
    PutLe32(out, o + 0, 2);
    PutLe32(out, o + 4, static_cast<std::uint32_t>(policies[i]));
    PutLe32(out, o + 8, 0);
    PutLe32(out, o + 12, 0);
  }
  return OkStatus();
}

}  // namespace openmpio::dsm

// spec/msdsm.md §4: every check of DsmSetLoadBalancePolicy(ALUA) tripped (and
// the disk unchanged), set-then-query as MSDSM persists it, the query
// encodings byte for byte, the supported-policies query, the global classes
// and MPIO_TIMERS_COUNTERS. Byte layouts: spec/msdsm.md §2 (little-endian).
#include "dsm/lb_management.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "dsm/lb_defaults.h"
#include "dsm/path_state.h"
#include "hex.h"

namespace openmpio::dsm {
namespace {

using scsi::AccessStateField;
using AS = scsi::AsymmetricAccessState;
using P = LoadBalancePolicy;
using Bytes = std::vector<std::byte>;

constexpr DsmPathId kId1 = 0x101, kId2 = 0x102;
const DsmOptions kOpts{};
const DsmOptions kStrict{true};

// A disk with one path per entry of `states`; on ALUA storage path i is alone
// in group i+1 with that state (supported: AO, AN, S, U).
Disk MakeDisk(AluaSupport alua, std::vector<AS> states) {
  Disk d;
  d.device = std::make_shared<TargetDevice>();
  d.alua = alua;
  bool same = true;
  for (std::size_t i = 0; i < states.size(); ++i) {
    Path p;
    p.nexus = std::make_shared<Nexus>();
    p.nexus->id = kId1 + i;
    p.relative_target_port = static_cast<std::uint16_t>(i + 1);
    p.verification = PathVerification::kOnline;
    if (HasAlua(alua)) {
      p.tpg_id = static_cast<std::uint16_t>(i + 1);
      LuGroupState g;
      g.tpg_id = static_cast<std::uint16_t>(i + 1);
      g.state = AccessStateField::From(states[i]);
      g.supported = scsi::SupportedStates::FromByte(0x0F);
      d.groups.push_back(g);
      same = same && states[i] == states[0];
    }
    d.paths.push_back(std::move(p));
  }
  d.symmetric_access = !HasAlua(alua) || (alua == AluaSupport::kImplicitOnly && same);
  return d;
}
Disk NonAlua(std::size_t n) {
  return MakeDisk(AluaSupport::kNotSupported, std::vector<AS>(n, AS::kActiveOptimized));
}

SetPathEntry Entry(DsmPathId id, PathState s, std::uint32_t weight = 0, bool preferred = false) {
  const PathFlags f = ToFlags(s);
  return SetPathEntry{id, weight, f.primary ? 1U : 0U, f.optimized ? 1U : 0U, preferred ? 1U : 0U};
}
SetPolicyInput Input(P policy, std::vector<SetPathEntry> e) {
  SetPolicyInput in;
  in.policy = static_cast<std::uint32_t>(policy);
  in.path_count = static_cast<std::uint32_t>(e.size());
  in.paths = std::move(e);
  return in;
}

void Le32(Bytes& b, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) b.push_back(static_cast<std::byte>(v >> (8 * i)));
}
void Le64(Bytes& b, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) b.push_back(static_cast<std::byte>(v >> (8 * i)));
}
// DsmSetLoadBalancePolicyALUA_IN: 16-byte header + 64-byte MPIO_DSM_Path_V2 entries.
Bytes EncodeV2(const SetPolicyInput& in) {
  Bytes b;
  Le32(b, in.version);
  Le32(b, in.policy);
  Le32(b, in.path_count);
  Le32(b, 0);
  for (const SetPathEntry& e : in.paths) {
    Le64(b, e.id);
    Le64(b, 0);
    Le32(b, e.weight);
    Le32(b, e.primary);
    Le32(b, e.optimized);
    Le32(b, e.preferred);
    for (int i = 0; i < 8; ++i) Le32(b, 0);  // FailedPath .. Reserved64: ignored on set
  }
  return b;
}

Bytes QueryBytes(const Disk& d, const DsmOptions& o = kOpts) {
  Bytes out(QueryLBPolicyV2Size(d.paths.size()));
  std::size_t needed = 0;
  EXPECT_TRUE(EncodeQueryLBPolicyV2(QueryLoadBalancePolicy(d, o), out, &needed).ok());
  return out;
}

// Runs both entry points; both must fail with `code`, and the disk must be unchanged.
void ExpectRejected(const Disk& d, const SetPolicyInput& in, NtStatus code,
                    const DsmOptions& o = kOpts) {
  const Bytes before = QueryBytes(d, o);
  const auto r = CheckSetLoadBalancePolicy(d, in, o);
  ASSERT_FALSE(r.has_value());
  EXPECT_TRUE(r.error().Is(code)) << r.error().ToString();
  const auto rb = CheckSetLoadBalancePolicyBuffer(d, SetPolicyMethod::kAlua, EncodeV2(in), 4, o);
  ASSERT_FALSE(rb.has_value());
  EXPECT_TRUE(rb.error().Is(code)) << rb.error().ToString();
  EXPECT_EQ(QueryBytes(d, o), before);
}

SetPolicyPlan ExpectAccepted(const Disk& d, const SetPolicyInput& in, const DsmOptions& o = kOpts) {
  const auto rb = CheckSetLoadBalancePolicyBuffer(d, SetPolicyMethod::kAlua, EncodeV2(in), 4, o);
  EXPECT_TRUE(rb.has_value()) << rb.error().ToString();
  const auto r = CheckSetLoadBalancePolicy(d, in, o);
  EXPECT_TRUE(r.has_value()) << r.error().ToString();
  return r.has_value() ? r.value() : SetPolicyPlan{};
}

const SetPolicyInput kFoo2 =
    Input(P::kFailOverOnly,
          {Entry(kId1, PathState::kActiveOptimized, 0, true), Entry(kId2, PathState::kStandby)});

// ---- checks 1..13, in order -----------------------------------------------------

TEST(SetPolicyChecks, Check1NoPaths) {
  Disk d = NonAlua(0);
  // Check 1 comes before every buffer check: even a 0-byte output and empty input.
  const auto r = CheckSetLoadBalancePolicyBuffer(d, SetPolicyMethod::kAlua, {}, 0, kOpts);
  ASSERT_FALSE(r.has_value());
  EXPECT_TRUE(r.error().Is(NtStatus::kInvalidParameter));
  ExpectRejected(d, Input(P::kRoundRobin, {}), NtStatus::kInvalidParameter);
}

TEST(SetPolicyChecks, Check2OutputBufferUnder4) {
  Disk d = NonAlua(2);
  const Bytes in = EncodeV2(Input(P::kNone, {}));  // even a clear needs room for Status
  const auto r = CheckSetLoadBalancePolicyBuffer(d, SetPolicyMethod::kAlua, in, 3, kOpts);
  ASSERT_FALSE(r.has_value());
  EXPECT_TRUE(r.error().Is(NtStatus::kBufferTooSmall));
  EXPECT_TRUE(CheckSetLoadBalancePolicyBuffer(d, SetPolicyMethod::kAlua, in, 4, kOpts).has_value());
}

// [C] our deviation: under 8 bytes the policy cannot be read, so check 3 never
// sees a policy 0 out of a 4-byte buffer (the sample reads past it).
TEST(SetPolicyChecks, InputUnder8IsTooSmallBeforeCheck3) {
  Disk d = NonAlua(2);
  const Bytes seven = testing::Hex("02 00 00 00 00 00 00");
  const auto r = CheckSetLoadBalancePolicyBuffer(d, SetPolicyMethod::kAlua, seven, 4, kOpts);
  ASSERT_FALSE(r.has_value());
  EXPECT_TRUE(r.error().Is(NtStatus::kBufferTooSmall));
  // 8 bytes: Version 2, LoadBalancePolicy 0 -> clear, no further check (4 would fail).
  const Bytes eight = testing::Hex("02 00 00 00 00 00 00 00");
  const auto c = CheckSetLoadBalancePolicyBuffer(d, SetPolicyMethod::kAlua, eight, 4, kOpts);
  ASSERT_TRUE(c.has_value());
  EXPECT_TRUE(c->clear);
}

TEST(SetPolicyChecks, Check3PolicyZeroClears) {
  Disk d = NonAlua(2);
  ASSERT_TRUE(CommitSetPolicy(d, ExpectAccepted(d, kFoo2)).ok());
  EXPECT_TRUE(d.settings.explicit_policy);
  // Version 9 and a wrong count would trip 5 and 7: policy 0 checks nothing else.
  SetPolicyInput clear = Input(P::kNone, {});
  clear.version = 9;
  clear.path_count = 5;
  clear.paths.resize(5);
  const auto plan = CheckSetLoadBalancePolicy(d, clear, kOpts);
  ASSERT_TRUE(plan.has_value());
  ASSERT_TRUE(CommitSetPolicy(d, *plan).ok());
  EXPECT_FALSE(d.settings.explicit_policy);
  EXPECT_EQ(EffectivePolicy(d, kOpts), P::kRoundRobin);  // falls back per precedence
}

TEST(SetPolicyChecks, Check4InputShorterThanEntries) {
  Disk d = NonAlua(2);
  Bytes in = EncodeV2(kFoo2);
  ASSERT_EQ(in.size(), 16U + 64U * 2U);
  in.pop_back();
  const auto r = CheckSetLoadBalancePolicyBuffer(d, SetPolicyMethod::kAlua, in, 4, kOpts);
  ASSERT_FALSE(r.has_value());
  EXPECT_TRUE(r.error().Is(NtStatus::kBufferTooSmall));
  // 12 bytes: header incomplete.
  const Bytes twelve = testing::Hex("02 00 00 00 01 00 00 00 02 00 00 00");
  EXPECT_TRUE(CheckSetLoadBalancePolicyBuffer(d, SetPolicyMethod::kAlua, twelve, 4, kOpts)
                  .error()
                  .Is(NtStatus::kBufferTooSmall));
  // V1 (method 1) entries are 24 bytes: 16 + 24 * 2 is enough there, not for V2.
  Bytes v1 = testing::Hex("01 00 00 00 01 00 00 00 02 00 00 00 00 00 00 00");
  const Bytes e1 =
      testing::Hex("01 01 00 00 00 00 00 00  00 00 00 00 00 00 00 00  00 00 00 00 01 00 00 00");
  const Bytes e2 =
      testing::Hex("02 01 00 00 00 00 00 00  00 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00");
  v1.insert(v1.end(), e1.begin(), e1.end());
  v1.insert(v1.end(), e2.begin(), e2.end());
  EXPECT_TRUE(CheckSetLoadBalancePolicyBuffer(d, SetPolicyMethod::kV1, v1, 4, kOpts).has_value());
  EXPECT_TRUE(CheckSetLoadBalancePolicyBuffer(d, SetPolicyMethod::kAlua, v1, 4, kOpts)
                  .error()
                  .Is(NtStatus::kBufferTooSmall));
  // Structured: fewer entries than DSMPathCount is short, more is invalid.
  SetPolicyInput fewer = kFoo2;
  fewer.path_count = 3;
  EXPECT_TRUE(CheckSetLoadBalancePolicy(d, fewer, kOpts).error().Is(NtStatus::kBufferTooSmall));
  SetPolicyInput more = kFoo2;
  more.path_count = 1;
  EXPECT_TRUE(CheckSetLoadBalancePolicy(d, more, kOpts).error().Is(NtStatus::kInvalidParameter));
}

TEST(SetPolicyChecks, V1PrimaryMeansAoOrStandby) {
  Disk d = NonAlua(2);
  Bytes v1 = testing::Hex("01 00 00 00 01 00 00 00 02 00 00 00 00 00 00 00");
  const Bytes e1 =
      testing::Hex("01 01 00 00 00 00 00 00  00 00 00 00 00 00 00 00  00 00 00 00 01 00 00 00");
  const Bytes e2 =
      testing::Hex("02 01 00 00 00 00 00 00  00 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00");
  v1.insert(v1.end(), e1.begin(), e1.end());
  v1.insert(v1.end(), e2.begin(), e2.end());
  const auto plan = CheckSetLoadBalancePolicyBuffer(d, SetPolicyMethod::kV1, v1, 4, kOpts);
  ASSERT_TRUE(plan.has_value());
  ASSERT_EQ(plan->paths.size(), 2U);
  EXPECT_EQ(plan->paths[0].requested, PathState::kActiveOptimized);
  EXPECT_EQ(plan->paths[1].requested, PathState::kStandby);
  EXPECT_EQ(plan->preferred_path, kNoPreferredPath);  // V1 has no preferred path
}

TEST(SetPolicyChecks, Check5VersionAbove2) {
  Disk d = NonAlua(2);
  SetPolicyInput in = kFoo2;
  in.version = 3;
  ExpectRejected(d, in, NtStatus::kNotSupported);
  in.version = 1;  // <= 2 accepted
  ExpectAccepted(d, in);
}

TEST(SetPolicyChecks, Check6PolicyRange) {
  Disk d = NonAlua(2);
  SetPolicyInput in = Input(P::kLeastQueueDepth, {Entry(kId1, PathState::kActiveOptimized),
                                                  Entry(kId2, PathState::kActiveOptimized)});
  in.policy = 8;
  ExpectRejected(d, in, NtStatus::kInvalidParameter);
  in.policy = 7;  // service time: ours
  ExpectAccepted(d, in);
  ExpectRejected(d, in, NtStatus::kInvalidParameter, kStrict);
}

TEST(SetPolicyChecks, Check7PathCount) {
  Disk d = NonAlua(3);
  ExpectRejected(d, kFoo2, NtStatus::kInvalidParameter);
}

TEST(SetPolicyChecks, Check8DuplicateIds) {
  Disk d = NonAlua(2);
  ExpectRejected(d,
                 Input(P::kRoundRobin, {Entry(kId1, PathState::kActiveOptimized),
                                        Entry(kId1, PathState::kActiveOptimized)}),
                 NtStatus::kInvalidParameter);
}

TEST(SetPolicyChecks, Check9EveryNonFailedPathNeedsAnEntry) {
  Disk d = NonAlua(3);
  // Unknown non-zero id instead of path 3: ignored, but path 3 is unmatched.
  const SetPolicyInput in = Input(P::kRoundRobin, {Entry(kId1, PathState::kActiveOptimized),
                                                   Entry(kId2, PathState::kActiveOptimized),
                                                   Entry(0x999, PathState::kActiveOptimized)});
  ExpectRejected(d, in, NtStatus::kInvalidParameter);
  // [C] path 3 failed: its query entry is id 0, and the set is accepted...
  d.paths[2].verification = PathVerification::kFailed;
  SetPolicyInput back = in;
  back.paths[2].id = 0;
  ExpectAccepted(d, back);
  // ... unless strict_msdsm, where failed paths need an entry too (the sample).
  ExpectRejected(d, back, NtStatus::kInvalidParameter, kStrict);
  // Duplicate zero ids are not duplicates (check 8 ignores id 0).
  d.paths[1].verification = PathVerification::kFailed;
  back.paths[1].id = 0;
  ExpectAccepted(d, back);
}

TEST(SetPolicyChecks, Check10RoundRobinNeedsSymmetricAccess) {
  Disk d = MakeDisk(AluaSupport::kImplicitOnly, {AS::kActiveOptimized, AS::kActiveNonOptimized});
  ASSERT_FALSE(d.symmetric_access);
  ExpectRejected(d,
                 Input(P::kRoundRobin, {Entry(kId1, PathState::kActiveOptimized),
                                        Entry(kId2, PathState::kActiveUnoptimized)}),
                 NtStatus::kInvalidParameter);
  ExpectAccepted(d, Input(P::kLeastQueueDepth, {Entry(kId1, PathState::kActiveOptimized),
                                                Entry(kId2, PathState::kActiveUnoptimized)}));
}

TEST(SetPolicyChecks, Check11OnePreferredPath) {
  Disk d = NonAlua(2);
  ExpectRejected(d,
                 Input(P::kFailOverOnly, {Entry(kId1, PathState::kActiveOptimized, 0, true),
                                          Entry(kId2, PathState::kStandby, 0, true)}),
                 NtStatus::kInvalidParameter);
}

TEST(SetPolicyChecks, Check12PerPathStates) {
  using PS = PathState;
  const Disk impl = MakeDisk(AluaSupport::kImplicitOnly, {AS::kActiveOptimized, AS::kStandby});
  // AO on an implicit-only group that is Standby: cannot force up.
  ExpectRejected(impl,
                 Input(P::kRoundRobinWithSubset,
                       {Entry(kId1, PS::kActiveOptimized), Entry(kId2, PS::kActiveOptimized)}),
                 NtStatus::kInvalidParameter);
  // FOO with two AO.
  const Disk na = NonAlua(2);
  ExpectRejected(na,
                 Input(P::kFailOverOnly,
                       {Entry(kId1, PS::kActiveOptimized), Entry(kId2, PS::kActiveOptimized)}),
                 NtStatus::kInvalidParameter);
  // LQD: AU on a group that is A/O is refused; AU on non-ALUA storage accepted.
  const Disk two_ao =
      MakeDisk(AluaSupport::kImplicitOnly, {AS::kActiveOptimized, AS::kActiveOptimized});
  ExpectRejected(two_ao,
                 Input(P::kLeastQueueDepth,
                       {Entry(kId1, PS::kActiveOptimized), Entry(kId2, PS::kActiveUnoptimized)}),
                 NtStatus::kInvalidParameter);
  ExpectAccepted(na, Input(P::kLeastQueueDepth, {Entry(kId1, PS::kActiveOptimized),
                                                 Entry(kId2, PS::kActiveUnoptimized)}));
  // LQD/WP/LB/ST: SB never on non-ALUA; SB only on a Standby group.
  for (P p : {P::kLeastQueueDepth, P::kWeightedPaths, P::kLeastBlocks, P::kServiceTime}) {
    ExpectRejected(na, Input(p, {Entry(kId1, PS::kActiveOptimized), Entry(kId2, PS::kStandby)}),
                   NtStatus::kInvalidParameter);
    ExpectAccepted(impl, Input(p, {Entry(kId1, PS::kActiveOptimized), Entry(kId2, PS::kStandby)}));
    ExpectRejected(impl,
                   Input(p, {Entry(kId1, PS::kActiveOptimized), Entry(kId2, PS::kUnavailable)}),
                   NtStatus::kInvalidParameter);
  }
  // RRWS: SB on an AO group (masking) or a Standby group; not on an A/N group.
  ExpectAccepted(two_ao, Input(P::kRoundRobinWithSubset,
                               {Entry(kId1, PS::kActiveOptimized), Entry(kId2, PS::kStandby)}));
  const Disk ao_an =
      MakeDisk(AluaSupport::kImplicitOnly, {AS::kActiveOptimized, AS::kActiveNonOptimized});
  ExpectRejected(ao_an,
                 Input(P::kRoundRobinWithSubset,
                       {Entry(kId1, PS::kActiveOptimized), Entry(kId2, PS::kStandby)}),
                 NtStatus::kInvalidParameter);
  // RRWS on non-ALUA and FOO anywhere: SB/UA/AU free.
  ExpectAccepted(na, Input(P::kRoundRobinWithSubset,
                           {Entry(kId1, PS::kActiveOptimized), Entry(kId2, PS::kUnavailable)}));
  ExpectAccepted(ao_an, Input(P::kFailOverOnly,
                              {Entry(kId1, PS::kActiveOptimized), Entry(kId2, PS::kUnavailable)}));
}

TEST(SetPolicyChecks, Check13SomePathMustBeAo) {
  const Disk na = NonAlua(2);
  ExpectRejected(na,
                 Input(P::kRoundRobinWithSubset,
                       {Entry(kId1, PathState::kStandby), Entry(kId2, PathState::kStandby)}),
                 NtStatus::kInvalidParameter);
  // ALUA with no group AO now (transition window): allowed.
  const Disk sb = MakeDisk(AluaSupport::kImplicitOnly, {AS::kStandby, AS::kStandby});
  ExpectAccepted(sb, Input(P::kRoundRobinWithSubset,
                           {Entry(kId1, PathState::kStandby), Entry(kId2, PathState::kStandby)}));
}

TEST(SetPolicyChecks, Step14StpgOnExplicitAlua) {
  Disk d = MakeDisk(AluaSupport::kImplicitAndExplicit, {AS::kActiveOptimized, AS::kStandby});
  const auto plan = ExpectAccepted(
      d, Input(P::kFailOverOnly, {Entry(kId1, PathState::kStandby),
                                  Entry(kId2, PathState::kActiveOptimized, 0, true)}));
  ASSERT_TRUE(plan.stpg.has_value());
  EXPECT_EQ(plan.stpg->tpg_ids, std::vector<std::uint16_t>{2});
  EXPECT_EQ(plan.stpg->via, kId1);  // the path that was AO before the call
  // Nothing needed when AO is asked only where the group is AO already.
  EXPECT_FALSE(ExpectAccepted(d, Input(P::kFailOverOnly, {Entry(kId1, PathState::kActiveOptimized),
                                                          Entry(kId2, PathState::kStandby)}))
                   .stpg.has_value());
  // After the STPG and an RTPG showing group 2 A/O, commit: path 2 AO, preferred.
  std::vector<LuGroupState> after = d.groups;
  after[0].state = AccessStateField::From(AS::kStandby);
  after[1].state = AccessStateField::From(AS::kActiveOptimized);
  d.UpdateGroups(after, std::nullopt, 0);
  ASSERT_TRUE(CommitSetPolicy(d, plan).ok());
  const QueriedPolicy q = QueryLoadBalancePolicy(d, kOpts);
  EXPECT_EQ(q.policy, 1U);
  EXPECT_EQ(q.paths[1].primary_path, 1U);
  EXPECT_EQ(q.paths[1].optimized_path, 1U);
  EXPECT_EQ(q.paths[1].preferred_path, 1U);
}

// ---- on success, and the query ------------------------------------------------

// Non-ALUA, FOO: path 1 AO preferred, path 2 SB. The query, hand-assembled from
// spec/msdsm.md §2 offsets.
TEST(SetThenQuery, FooOnNonAluaByteForByte) {
  Disk d = NonAlua(2);
  ASSERT_TRUE(CommitSetPolicy(d, ExpectAccepted(d, kFoo2)).ok());
  const Bytes want = testing::Hex(
      "02000000 01000000 02000000 00000000"  // Version 2, FOO, 2 paths, Reserved
      // path 1: id 0x101 | Reserved = mask 1 (non-ALUA) | weight 0 | Primary 1 Optimized 1
      // Preferred 1 Failed 0 | TPG_State 16 | ALUASupport 0 | Symmetric 1, pref 0, TPG id 0
      // | port 0 | Reserved32 | Reserved64
      "0101000000000000 0100000000000000 00000000 01000000 01000000"
      "01000000 00000000 10000000 00000000 01 00 0000 00000000 00000000 0000000000000000"
      // path 2: SB = Primary 0 Optimized 1, not preferred
      "0201000000000000 0100000000000000 00000000 00000000 01000000"
      "00000000 00000000 10000000 00000000 01 00 0000 00000000 00000000 0000000000000000");
  EXPECT_EQ(testing::ToHex(QueryBytes(d)), testing::ToHex(want));
  std::size_t needed = 0;
  Bytes small(16 + 64);
  EXPECT_TRUE(EncodeQueryLBPolicyV2(QueryLoadBalancePolicy(d, kOpts), small, &needed)
                  .Is(NtStatus::kBufferTooSmall));
  EXPECT_EQ(needed, 144U);
}

TEST(SetThenQuery, NonFooKeepsPreferredAndWeightsOnlyForWp) {
  Disk d = NonAlua(2);
  ASSERT_TRUE(CommitSetPolicy(d, ExpectAccepted(d, kFoo2)).ok());
  ASSERT_TRUE(
      CommitSetPolicy(d, ExpectAccepted(d, Input(P::kWeightedPaths,
                                                 {Entry(kId1, PathState::kActiveOptimized, 5),
                                                  Entry(kId2, PathState::kActiveOptimized, 9)})))
          .ok());
  QueriedPolicy q = QueryLoadBalancePolicy(d, kOpts);
  EXPECT_EQ(q.policy, 5U);
  EXPECT_EQ(q.paths[0].path_weight, 5U);
  EXPECT_EQ(q.paths[1].path_weight, 9U);
  EXPECT_EQ(q.paths[0].preferred_path, 1U);  // a non-FOO set leaves the preferred path
  // LQD with other weights: the old weights stay.
  ASSERT_TRUE(
      CommitSetPolicy(d, ExpectAccepted(d, Input(P::kLeastQueueDepth,
                                                 {Entry(kId1, PathState::kActiveOptimized, 77),
                                                  Entry(kId2, PathState::kActiveOptimized, 78)})))
          .ok());
  q = QueryLoadBalancePolicy(d, kOpts);
  EXPECT_EQ(q.policy, 4U);
  EXPECT_EQ(q.paths[0].path_weight, 5U);
  EXPECT_EQ(q.paths[1].path_weight, 9U);
  // FOO without a preferred entry stores "none".
  ASSERT_TRUE(CommitSetPolicy(d, ExpectAccepted(d, Input(P::kFailOverOnly,
                                                         {Entry(kId1, PathState::kActiveOptimized),
                                                          Entry(kId2, PathState::kStandby)})))
                  .ok());
  EXPECT_EQ(d.settings.preferred_path, kNoPreferredPath);
}

TEST(SetThenQuery, FailedPathAndAluaFields) {
  Disk d = MakeDisk(AluaSupport::kImplicitOnly, {AS::kActiveOptimized, AS::kStandby});
  d.groups[0].preferred = true;
  d.groups[0].supported = scsi::SupportedStates::FromByte(0x05);  // AO_SUP | S_SUP
  d.groups[1].supported = scsi::SupportedStates::FromByte(0x0F);
  d.paths[1].weight = 42;
  d.paths[1].verification = PathVerification::kFailed;
  const Bytes q = QueryBytes(d);
  const Bytes want = testing::Hex(
      "02000000 03000000 02000000 00000000"  // default RRWS on ALUA
      // path 1: AO; mask SB only (S_SUP), TPG AO (0), ALUA 1, not symmetric, PREF 1, TPG 1, port 1
      "0101000000000000 0100000000000000 00000000 01000000 01000000"
      "00000000 00000000 00000000 01000000 00 01 0100 01000000 00000000 0000000000000000"
      // path 2 failed: id 0, flags 0, Failed 1, weight kept; TPG SB (2), mask SB|AU|UA = 7
      "0000000000000000 0700000000000000 2a000000 00000000 00000000"
      "00000000 01000000 02000000 01000000 00 00 0200 02000000 00000000 0000000000000000");
  EXPECT_EQ(testing::ToHex(q), testing::ToHex(want));
  EXPECT_TRUE(QueryNeedsAluaRefresh(d));
  // The RTPG's failure is returned with the buffer filled.
  Bytes out(q.size());
  std::size_t needed = 0;
  EXPECT_TRUE(EncodeQueryLBPolicyV2(QueryLoadBalancePolicy(d, kOpts), out, &needed,
                                    Status(NtStatus::kIoDeviceError))
                  .Is(NtStatus::kIoDeviceError));
  EXPECT_EQ(out, q);
}

TEST(SetThenQuery, QuerySentBackRoundTripsWhileAPathIsFailed) {
  Disk d = NonAlua(3);
  d.paths[2].verification = PathVerification::kFailed;
  const Bytes q = QueryBytes(d);
  // The query is a DSM_Load_Balance_Policy_V2: send it straight back.
  ASSERT_TRUE(CheckSetLoadBalancePolicyBuffer(d, SetPolicyMethod::kAlua, q, 4, kOpts).has_value());
  EXPECT_FALSE(
      CheckSetLoadBalancePolicyBuffer(d, SetPolicyMethod::kAlua, q, 4, kStrict).has_value());
}

// A group in transition (or Offline) carries no I/O and its paths query as UA:
// a set that asks UA for them matches the group's state, so a query sent
// straight back during an ALUA transition is accepted (the demo's live policy
// change hit this); SB on such a group is still refused.
TEST(SetThenQuery, QuerySentBackRoundTripsDuringATransition) {
  using PS = PathState;
  for (AS unusable : {AS::kTransitioning, AS::kOffline}) {
    Disk d = MakeDisk(AluaSupport::kImplicitOnly, {AS::kActiveOptimized, unusable});
    ExpectAccepted(d, Input(P::kLeastQueueDepth,
                            {Entry(kId1, PS::kActiveOptimized), Entry(kId2, PS::kUnavailable)}));
    ExpectRejected(
        d,
        Input(P::kLeastQueueDepth, {Entry(kId1, PS::kActiveOptimized), Entry(kId2, PS::kStandby)}),
        NtStatus::kInvalidParameter);
    d.settings.policy = P::kLeastQueueDepth;
    d.settings.explicit_policy = true;
    const Bytes q = QueryBytes(d);
    EXPECT_TRUE(
        CheckSetLoadBalancePolicyBuffer(d, SetPolicyMethod::kAlua, q, 4, kOpts).has_value());
  }
}

TEST(SetThenQuery, RrwsPersistsMaskedStandby) {
  // Explicit ALUA: never symmetric, so only the state that differs from the group persists.
  Disk d = MakeDisk(AluaSupport::kExplicitOnly, {AS::kActiveOptimized, AS::kActiveOptimized});
  ASSERT_TRUE(CommitSetPolicy(d, ExpectAccepted(d, Input(P::kRoundRobinWithSubset,
                                                         {Entry(kId1, PathState::kActiveOptimized),
                                                          Entry(kId2, PathState::kStandby)})))
                  .ok());
  EXPECT_FALSE(d.paths[0].requested_state.has_value());  // same as the group: follows it
  EXPECT_EQ(d.paths[1].requested_state, PathState::kStandby);
  const QueriedPolicy q = QueryLoadBalancePolicy(d, kOpts);
  EXPECT_EQ(q.paths[1].primary_path, 0U);
  EXPECT_EQ(q.paths[1].optimized_path, 1U);
  EXPECT_EQ(q.paths[1].tpg_state, 0U);  // the array's state, not the mask
  // On symmetric storage every requested state persists.
  Disk sym = MakeDisk(AluaSupport::kImplicitOnly, {AS::kActiveOptimized, AS::kActiveOptimized});
  ASSERT_TRUE(sym.symmetric_access);
  ASSERT_TRUE(
      CommitSetPolicy(sym, ExpectAccepted(sym, Input(P::kRoundRobinWithSubset,
                                                     {Entry(kId1, PathState::kActiveOptimized),
                                                      Entry(kId2, PathState::kStandby)})))
          .ok());
  EXPECT_EQ(sym.paths[0].requested_state, PathState::kActiveOptimized);
}

// Check 3 "clear the LUN's explicit setting (fall back per precedence)": the
// sample's DsmpClearLoadBalancePolicy re-applies the default policy to every
// path's state (DsmpSetNewDefaultLBPolicy) and takes the default's PreferredPath
// (0 when none). So the states and preferred path an explicit FOO set stored do
// not outlive the clear: on non-ALUA storage the default RR must use both paths.
TEST(SetThenQuery, ClearDropsTheExplicitPathStatesAndPreferredPath) {
  Disk d = NonAlua(2);
  ASSERT_TRUE(CommitSetPolicy(d, ExpectAccepted(d, kFoo2)).ok());  // 1 AO preferred, 2 SB
  const auto plan = CheckSetLoadBalancePolicy(d, Input(P::kNone, {}), kOpts);
  ASSERT_TRUE(plan.has_value());
  ASSERT_TRUE(CommitSetPolicy(d, *plan).ok());
  const Bytes want = testing::Hex(
      "02000000 02000000 02000000 00000000"  // Version 2, default RR, 2 paths
      // both paths: AO (Primary 1, Optimized 1), Preferred 0, TPG_State 16, Symmetric 1
      "0101000000000000 0100000000000000 00000000 01000000 01000000"
      "00000000 00000000 10000000 00000000 01 00 0000 00000000 00000000 0000000000000000"
      "0201000000000000 0100000000000000 00000000 01000000 01000000"
      "00000000 00000000 10000000 00000000 01 00 0000 00000000 00000000 0000000000000000");
  EXPECT_EQ(testing::ToHex(QueryBytes(d)), testing::ToHex(want));
  const PathStateResult r = ComputePathStates(d, EffectivePolicy(d, kOpts), 0, 0);
  EXPECT_EQ(r.usable_count(), 2U);  // RR rotates over both again
}

// A plan made for other paths (one was removed since the checks) is refused
// whole: nothing of it is written (spec §4: "a failure rolls every path back").
TEST(SetThenQuery, StalePlanCommitsNothing) {
  Disk d = NonAlua(2);
  const SetPolicyPlan plan =
      ExpectAccepted(d, Input(P::kWeightedPaths, {Entry(kId1, PathState::kActiveOptimized, 5),
                                                  Entry(kId2, PathState::kActiveOptimized, 9)}));
  Disk shrunk = d;
  shrunk.paths.erase(shrunk.paths.begin());
  const Bytes before = QueryBytes(shrunk);
  EXPECT_TRUE(CommitSetPolicy(shrunk, plan).Is(NtStatus::kInvalidParameter));
  EXPECT_EQ(QueryBytes(shrunk), before);
  EXPECT_FALSE(shrunk.settings.explicit_policy);
  EXPECT_EQ(shrunk.paths[0].weight, 0U);
}

TEST(SupportedPolicies, EncodingsAndStrict) {
  const Disk na = NonAlua(1);
  Bytes out(8 + 16 * 7);
  std::size_t needed = 0;
  ASSERT_TRUE(EncodeQuerySupportedLBPoliciesV2(na, kOpts, out, &needed).ok());
  EXPECT_EQ(needed, 8U + 16U * 7U);
  EXPECT_EQ(testing::ToHex(std::span<const std::byte>(out).first(8 + 32)),
            testing::ToHex(testing::Hex("07000000 00000000"
                                        "02000000 01000000 00000000 00000000"
                                        "02000000 02000000 00000000 00000000")));
  // Non-symmetric: no RR; strict: no 7.
  const Disk an =
      MakeDisk(AluaSupport::kImplicitOnly, {AS::kActiveOptimized, AS::kActiveNonOptimized});
  ASSERT_TRUE(EncodeQuerySupportedLBPoliciesV2(an, kStrict, out, &needed).ok());
  EXPECT_EQ(needed, 8U + 16U * 5U);
  EXPECT_EQ(testing::ToHex(std::span<const std::byte>(out).first(8 + 16)),
            testing::ToHex(testing::Hex("05000000 00000000 02000000 01000000 00000000 00000000")));
  EXPECT_EQ(std::to_integer<int>(out[8 + 16 + 4]), 3);  // 1, then 3 (RR left out)
  Bytes tiny(8);
  EXPECT_TRUE(
      EncodeQuerySupportedLBPoliciesV2(na, kOpts, tiny, &needed).Is(NtStatus::kBufferTooSmall));
}

// ---- global classes -------------------------------------------------------------

Bytes TargetEntry(const std::string& id, std::uint32_t policy, std::uint64_t preferred) {
  Bytes b;
  b.push_back(std::byte{62});
  b.push_back(std::byte{0});
  for (std::size_t i = 0; i < 31; ++i) {
    const char c = i < id.size() ? id[i] : '\0';
    b.push_back(static_cast<std::byte>(c));
    b.push_back(std::byte{0});
  }
  Le32(b, policy);
  Le32(b, 0);
  Le64(b, preferred);
  return b;
}

TEST(GlobalDefaults, MsdsmDefault) {
  PolicyDefaults g;
  EXPECT_TRUE(g.MsdsmDefault().error().Is(NtStatus::kObjectNameNotFound));
  EXPECT_TRUE(g.SetMsdsmDefault(0, 0, kOpts).Is(NtStatus::kObjectNameNotFound));
  EXPECT_TRUE(g.SetMsdsmDefaultBuffer(testing::Hex("04000000 00000000 00000000000000"), kOpts)
                  .Is(NtStatus::kBufferTooSmall));  // 15 bytes
  EXPECT_TRUE(g.SetMsdsmDefaultBuffer(testing::Hex("08000000 00000000 0000000000000000"), kOpts)
                  .Is(NtStatus::kInvalidParameter));
  EXPECT_TRUE(g.SetMsdsmDefaultBuffer(testing::Hex("07000000 00000000 0000000000000000"), kStrict)
                  .Is(NtStatus::kInvalidParameter));
  ASSERT_TRUE(
      g.SetMsdsmDefaultBuffer(testing::Hex("07000000 00000000 0000000000000000"), kOpts).ok());
  ASSERT_TRUE(
      g.SetMsdsmDefaultBuffer(testing::Hex("04000000 00000000 0201000000000000"), kOpts).ok());
  Bytes out(16);
  std::size_t needed = 0;
  ASSERT_TRUE(g.QueryMsdsmDefaultBuffer(out, &needed).ok());
  EXPECT_EQ(testing::ToHex(out),
            testing::ToHex(testing::Hex("04000000 00000000 0201000000000000")));
  ASSERT_TRUE(g.SetMsdsmDefault(0, 0, kOpts).ok());
  EXPECT_TRUE(g.QueryMsdsmDefaultBuffer(out, &needed).Is(NtStatus::kObjectNameNotFound));
}

TEST(GlobalDefaults, TargetsBadEntrySkippedOthersApplied) {
  PolicyDefaults g;
  const std::string hw = "OPENMPIOSIM ARRAY       ";  // VID 8 + PID 16
  ASSERT_EQ(hw.size(), 24U);
  Bytes in = testing::Hex("02000000 00000000");
  const Bytes good = TargetEntry(hw, 1, 0x101);
  const Bytes bad = TargetEntry("SHORT", 4, 0);
  in.insert(in.end(), bad.begin(), bad.end());
  in.insert(in.end(), good.begin(), good.end());
  EXPECT_TRUE(g.SetTargetDefaultsBuffer(in, kOpts).Is(NtStatus::kInvalidParameter));
  ASSERT_EQ(g.target_defaults().size(), 1U);
  EXPECT_EQ(g.target_defaults()[0].hardware_id, hw);
  // Short buffers, NumberDevices 0 ([C]), policy >= 8, delete missing.
  Bytes cut(in.begin(), in.end() - 1);
  EXPECT_TRUE(g.SetTargetDefaultsBuffer(cut, kOpts).Is(NtStatus::kBufferTooSmall));
  EXPECT_TRUE(
      g.SetTargetDefaultsBuffer(testing::Hex("000000"), kOpts).Is(NtStatus::kBufferTooSmall));
  EXPECT_TRUE(g.SetTargetDefaultsBuffer(testing::Hex("00000000 00000000"), kOpts)
                  .Is(NtStatus::kInvalidParameter));
  EXPECT_TRUE(g.SetTargetDefault(hw, 8, 0, kOpts).Is(NtStatus::kInvalidParameter));
  EXPECT_TRUE(g.SetTargetDefault("OTHER   THING           ", 0, 0, kOpts)
                  .Is(NtStatus::kObjectNameNotFound));
  // Query: 8 + 80 bytes, the counted string as MSDSM writes it.
  Bytes out(88);
  std::size_t needed = 0;
  ASSERT_TRUE(g.QueryTargetDefaultsBuffer(out, &needed).ok());
  Bytes want = testing::Hex("01000000 00000000");
  want.insert(want.end(), good.begin(), good.end());
  EXPECT_EQ(testing::ToHex(out), testing::ToHex(want));
  ASSERT_TRUE(g.SetTargetDefault(hw, 0, 0, kOpts).ok());
  EXPECT_TRUE(g.target_defaults().empty());
}

TEST(GlobalDefaults, PrecedenceDiskThenVidPidThenGlobalThenRrOrRrws) {
  PolicyDefaults g;
  const std::string hw = "OPENMPIOSIM ARRAY       ";
  Disk na = NonAlua(2);
  Disk alua = MakeDisk(AluaSupport::kImplicitOnly, {AS::kActiveOptimized, AS::kActiveOptimized});
  EXPECT_EQ(g.Resolve(na, hw).policy, P::kRoundRobin);
  EXPECT_EQ(g.Resolve(alua, hw).policy, P::kRoundRobinWithSubset);
  ASSERT_TRUE(g.SetMsdsmDefault(2, 0, kOpts).ok());  // RR as a default
  EXPECT_EQ(g.Resolve(na, hw).policy, P::kRoundRobin);
  EXPECT_EQ(g.Resolve(alua, hw).policy, P::kRoundRobinWithSubset);  // RR -> RRWS on ALUA
  ASSERT_TRUE(g.SetTargetDefault(hw, 4, 0, kOpts).ok());
  EXPECT_EQ(g.Resolve(na, hw).policy, P::kLeastQueueDepth);
  EXPECT_EQ(g.Resolve(na, "SOMEBODY ELSE           ").policy, P::kRoundRobin);
  // Explicit setting beats all; a clear falls back to the VID/PID default.
  ASSERT_TRUE(CommitSetPolicy(na, ExpectAccepted(na, kFoo2)).ok());
  g.ApplyTo(na, hw);
  EXPECT_EQ(EffectivePolicy(na, kOpts), P::kFailOverOnly);
  ASSERT_TRUE(CommitSetPolicy(na, *CheckSetLoadBalancePolicy(na, Input(P::kNone, {}), kOpts)).ok());
  g.ApplyTo(na, hw);
  EXPECT_EQ(EffectivePolicy(na, kOpts), P::kLeastQueueDepth);
}

TEST(GlobalDefaults, MpioTimersCounters) {
  PolicyDefaults g;
  Bytes out(20);
  std::size_t needed = 0;
  ASSERT_TRUE(g.QueryTimersBuffer(out, &needed).ok());
  // spec §5 defaults: verify off, 30, 20, RetryCount 3, RetryInterval 1.
  EXPECT_EQ(testing::ToHex(out),
            testing::ToHex(testing::Hex("00000000 1e000000 14000000 03000000 01000000")));
  EXPECT_TRUE(g.SetTimersBuffer(testing::Hex("01000000 1e000000 14000000 f5010000 01000000"))
                  .Is(NtStatus::kInvalidParameter));  // RetryCount 501
  EXPECT_TRUE(g.SetTimersBuffer(testing::Hex("02000000 1e000000 14000000 03000000 01000000"))
                  .Is(NtStatus::kInvalidParameter));  // PathVerifyEnabled 2
  EXPECT_TRUE(g.SetTimersBuffer(testing::Hex("01000000 1e000000 14000000 03000000 010000"))
                  .Is(NtStatus::kBufferTooSmall));
  // Issue 13 item 2: a period of 0 spun the engine, saved, and the next
  // start refused the file.
  EXPECT_TRUE(g.SetTimersBuffer(testing::Hex("01000000 00000000 14000000 03000000 01000000"))
                  .Is(NtStatus::kInvalidParameter));
  EXPECT_EQ(g.timers().path_verification_period, 30U);  // nothing half-applied
  // RetryInterval 0 probed and polled without pause while no path was usable.
  const Status zero_interval =
      g.SetTimersBuffer(testing::Hex("01000000 1e000000 14000000 03000000 00000000"));
  EXPECT_TRUE(zero_interval.Is(NtStatus::kInvalidParameter));
  EXPECT_EQ(zero_interval.message(), "RetryInterval: 0 is below the minimum 1 seconds");
  // A week at most for a period: 604801 s (0x93A81) is refused, 604800 taken.
  EXPECT_TRUE(g.SetTimersBuffer(testing::Hex("01000000 1e000000 813a0900 03000000 01000000"))
                  .Is(NtStatus::kInvalidParameter));
  EXPECT_TRUE(g.SetTimersBuffer(testing::Hex("00000000 1e000000 803a0900 03000000 01000000")).ok());
  EXPECT_EQ(g.timers().pdo_remove_period, 604800U);
  ASSERT_TRUE(g.SetTimersBuffer(testing::Hex("01000000 3c000000 14000000 f4010000 02000000")).ok());
  EXPECT_EQ(g.timers().retry_count, 500U);
  EXPECT_EQ(g.timers().path_verification_period, 60U);
}

// The binary decoder never crashes and the checks never accept what the
// structured entry point refuses.
RC_GTEST_PROP(SetPolicyBuffer, ArbitraryBytesNeverCrash, (std::vector<std::uint8_t> raw, bool v1)) {
  Bytes in;
  for (std::uint8_t c : raw) in.push_back(std::byte{c});
  const Disk d = NonAlua(2);
  const auto method = v1 ? SetPolicyMethod::kV1 : SetPolicyMethod::kAlua;
  const auto r = CheckSetLoadBalancePolicyBuffer(d, method, in, 4, kOpts);
  const DecodedSetPolicy dec = DecodeSetPolicyBuffer(method, in);
  RC_ASSERT(dec.input.paths.size() <= dec.input.path_count);
  if (r.has_value() && !r->clear) RC_ASSERT(r->paths.size() <= 2U);
}

}  // namespace
}  // namespace openmpio::dsm

// Topology: DsmPathId hashing, nexus counters, the claim rule (DESIGN.md
// "Identity"), symmetric access (spec/msdsm.md §3) and policy defaults.
#include "dsm/topology.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <set>

#include "dsm_fixture.h"

namespace openmpio::dsm {
namespace {

using testing::Naa;

NexusIdentity SampleIdentity() {
  NexusIdentity id;
  id.initiator_name = "iqn.2024-01.org.openmpio:host";
  id.isid = 0x23d000000001ULL;
  id.target_name = "iqn.2003-01.org.linux-iscsi.array:lu0";
  id.portal_group_tag = 1;
  id.portal = "192.0.2.1:3260";
  return id;
}

// Worked outside the code (python, FNV-1a 64: offset basis 0xcbf29ce484222325,
// prime 0x100000001b3) over: u32le len + initiator, 6-byte le ISID, u32le len +
// target, u16le portal group tag (RFC 7143's I_T nexus; no portal).
TEST(DsmPathId, MatchesHandComputedFnv1a) {
  EXPECT_EQ(MakeDsmPathId(SampleIdentity()), 0x924371e9d649aa54ULL);
}

TEST(DsmPathId, EveryFieldOfTheNexusMattersThePortalDoesNot) {
  const DsmPathId base = MakeDsmPathId(SampleIdentity());
  auto changed = [&](auto mutate) {
    NexusIdentity id = SampleIdentity();
    mutate(id);
    return MakeDsmPathId(id);
  };
  EXPECT_NE(base, changed([](NexusIdentity& i) { i.initiator_name += "x"; }));
  EXPECT_NE(base, changed([](NexusIdentity& i) { i.isid ^= 1; }));
  EXPECT_NE(base, changed([](NexusIdentity& i) { i.target_name += "x"; }));
  EXPECT_NE(base, changed([](NexusIdentity& i) { i.portal_group_tag = 2; }));
  // The portal is not: a session reinstated through another portal of the
  // same group is the same I_T nexus (issue 14 "Identity").
  EXPECT_EQ(base, changed([](NexusIdentity& i) { i.portal = "192.0.2.2:3260"; }));
  // ISID is 48 bits: bits above do not exist on the wire.
  EXPECT_EQ(base, changed([](NexusIdentity& i) { i.isid |= 0xFFFF000000000000ULL; }));
}

TEST(DsmPathId, LengthPrefixKeepsFieldBoundaries) {
  NexusIdentity a = SampleIdentity(), b = SampleIdentity();
  a.initiator_name = "ab";
  a.target_name = "c";
  b.initiator_name = "a";
  b.target_name = "bc";
  EXPECT_NE(MakeDsmPathId(a), MakeDsmPathId(b));
}

RC_GTEST_PROP(DsmPathId, NeverZeroNorNoPreferredAndStable,
              (std::string ini, std::uint64_t isid, std::string tgt, std::uint16_t tag,
               std::string portal)) {
  NexusIdentity id{ini, isid, tgt, tag, portal};
  const DsmPathId h = MakeDsmPathId(id);
  RC_ASSERT(h != 0U);
  RC_ASSERT(h != kNoPreferredPath);
  RC_ASSERT(h == MakeDsmPathId(id));
}

TEST(NexusCounters, OneWordHoldsRequestsAndBytes) {
  NexusCounters c;
  c.StartIo(4096);
  c.StartIo(65536);
  EXPECT_EQ(c.outstanding_requests(), 2U);
  EXPECT_EQ(c.outstanding_bytes(), 69632U);
  c.EndIo(4096);
  EXPECT_EQ(c.outstanding_requests(), 1U);
  EXPECT_EQ(c.outstanding_bytes(), 65536U);
  c.StartIo(0);  // a non-data command counts as a request only
  EXPECT_EQ(c.outstanding_requests(), 2U);
  EXPECT_EQ(c.outstanding_bytes(), 65536U);
  // A transfer beyond the byte field is clamped the same way on both ends.
  c.StartIo(~std::uint64_t{0});
  EXPECT_EQ(c.outstanding_requests(), 3U);
  EXPECT_EQ(c.outstanding_bytes(), 65536U + NexusCounters::kMaxCountedTransfer);
  c.EndIo(~std::uint64_t{0});
  c.EndIo(0);
  c.EndIo(65536);
  EXPECT_EQ(c.raw(), 0U);
  EXPECT_EQ(c.throughput(), NexusCounters::kInitialThroughput);
  c.set_throughput(0);
  EXPECT_EQ(c.throughput(), 1U);  // never 0: service time divides by it
}

TEST(NexusCounters, SecondsPerByteIsTheReciprocalOfThroughput) {
  NexusCounters c;
  EXPECT_EQ(c.seconds_per_byte(), 1.0 / static_cast<double>(NexusCounters::kInitialThroughput));
  c.set_throughput(250'000'000);
  EXPECT_EQ(c.throughput(), 250'000'000U);
  EXPECT_EQ(c.seconds_per_byte(), 1.0 / 250'000'000.0);
  c.set_throughput(0);
  EXPECT_EQ(c.seconds_per_byte(), 1.0);  // as throughput 1
}

RC_GTEST_PROP(NexusCounters, BalancedStartEndReturnsToZero, (std::vector<std::uint32_t> sizes)) {
  NexusCounters c;
  std::uint64_t total = 0;
  for (auto s : sizes) {
    c.StartIo(s);
    total += s;
  }
  RC_ASSERT(c.outstanding_requests() == sizes.size());
  RC_ASSERT(c.outstanding_bytes() == total);
  for (auto s : sizes) c.EndIo(s);
  RC_ASSERT(c.raw() == 0U);
}

// ---- Claim rule ----

PathCandidate Candidate(Topology& t, int port, const std::string& target, std::uint8_t lu = 1) {
  PathCandidate c;
  c.lu_designator = Naa(lu);
  c.target_name = target;
  c.relative_target_port = static_cast<std::uint16_t>(port);
  NexusIdentity id = SampleIdentity();
  id.target_name = target;
  id.portal_group_tag = static_cast<std::uint16_t>(port);
  id.portal = "192.0.2." + std::to_string(port) + ":3260";
  c.nexus = t.AddNexus(id);
  return c;
}

scsi::Designator TargetDeviceNaa(std::uint8_t last) {
  scsi::Designator d = Naa(last);
  d.association = scsi::Association::kTargetDevice;
  return d;
}

TEST(Claim, SameDesignatorSameTargetIsOneDisk) {
  Topology t;
  auto a = t.Claim(Candidate(t, 1, "iqn.t:a"));
  auto b = t.Claim(Candidate(t, 2, "iqn.t:a"));
  ASSERT_TRUE(a.has_value());
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(*a, *b);
  EXPECT_EQ((*a)->path_count(), 2U);
  EXPECT_EQ(t.disks().size(), 1U);
  EXPECT_EQ((*a)->paths[0].verification, PathVerification::kInitializing);
  // The DsmPathId is the nexus's, whatever LU it serves.
  EXPECT_EQ((*a)->paths[1].id(), MakeDsmPathId((*a)->paths[1].nexus->identity));
}

TEST(Claim, SameDesignatorOtherTargetWithoutProofIsRefused) {
  // tgt's default serials collide across targets: merging would corrupt both.
  Topology t;
  ASSERT_TRUE(t.Claim(Candidate(t, 1, "iqn.t:a")).has_value());
  auto b = t.Claim(Candidate(t, 2, "iqn.t:b"));
  ASSERT_FALSE(b.has_value());
  EXPECT_TRUE(b.error().Is(NtStatus::kInvalidDeviceRequest));
  EXPECT_NE(b.error().message().find("iqn.t:b"), std::string::npos);
  EXPECT_EQ(t.disks().size(), 1U);
  EXPECT_EQ(t.disks()[0]->path_count(), 1U);
}

TEST(Claim, OtherTargetNameWithCommonTargetDeviceDesignatorIsMerged) {
  Topology t;
  PathCandidate a = Candidate(t, 1, "iqn.t:ctrl-a");
  a.target_device_designators = {TargetDeviceNaa(9)};
  PathCandidate b = Candidate(t, 2, "iqn.t:ctrl-b");
  b.target_device_designators = {TargetDeviceNaa(7), TargetDeviceNaa(9)};
  ASSERT_TRUE(t.Claim(a).has_value());
  auto r = t.Claim(b);
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_EQ((*r)->path_count(), 2U);
  EXPECT_EQ(t.devices().size(), 1U);
}

TEST(Claim, DifferentDesignatorsAreDifferentDisks) {
  Topology t;
  auto a = t.Claim(Candidate(t, 1, "iqn.t:a", 1));
  auto b = t.Claim(Candidate(t, 1, "iqn.t:a", 2));  // same nexus, second LU
  ASSERT_TRUE(a.has_value());
  ASSERT_TRUE(b.has_value());
  EXPECT_NE(*a, *b);
  EXPECT_EQ((*a)->paths[0].nexus, (*b)->paths[0].nexus);  // one nexus, shared counters
}

TEST(Claim, RefusesNonDiskDevicesZeroDesignatorsAndDuplicates) {
  Topology t;
  PathCandidate c = Candidate(t, 1, "iqn.t:a");
  c.peripheral_device_type = 5;  // CD/DVD
  EXPECT_FALSE(t.Claim(c).has_value());
  c.peripheral_device_type = 0;
  c.peripheral_qualifier = 1;  // not connected
  EXPECT_FALSE(t.Claim(c).has_value());
  c.peripheral_qualifier = 0;
  PathCandidate zero = c;
  zero.lu_designator.value.assign(8, std::byte{0});
  EXPECT_FALSE(t.Claim(zero).has_value());
  ASSERT_TRUE(t.Claim(c).has_value());
  auto dup = t.Claim(c);
  ASSERT_FALSE(dup.has_value());
  EXPECT_TRUE(dup.error().Is(NtStatus::kInvalidDeviceRequest));
  EXPECT_EQ(t.disks()[0]->path_count(), 1U);
}

TEST(Claim, AtMostMaxPathsPerDisk) {
  Topology t;
  for (std::size_t i = 0; i < kMaxPathsPerDisk; ++i) {
    ASSERT_TRUE(t.Claim(Candidate(t, static_cast<int>(i + 1), "iqn.t:a")).has_value());
  }
  EXPECT_FALSE(t.Claim(Candidate(t, 1000, "iqn.t:a")).has_value());
}

// ---- Symmetric access, spec/msdsm.md §3 ----

LuGroupState G(std::uint16_t id, scsi::AsymmetricAccessState s) {
  LuGroupState g;
  g.tpg_id = id;
  g.state = scsi::AccessStateField::From(s);
  return g;
}

TEST(SymmetricAccess, ImplicitSameStatesThenClearedByDifferenceAndNotRestoredByRtpg) {
  Topology t;
  PathCandidate c = Candidate(t, 1, "iqn.t:a");
  c.alua = AluaSupport::kImplicitOnly;
  Disk* d = *t.Claim(c);
  const LuGroupState same[] = {G(1, testing::kAO), G(2, testing::kAO)};
  d->UpdateGroups(same, 8, 100);
  EXPECT_TRUE(d->symmetric_access);
  EXPECT_EQ(d->TransitionWindowMs(), 8000U);
  const LuGroupState differ[] = {G(1, testing::kAO), G(2, testing::kAN)};
  d->UpdateGroups(differ, std::nullopt, 200);
  EXPECT_FALSE(d->symmetric_access);
  EXPECT_EQ(d->TransitionWindowMs(), 60000U);
  EXPECT_EQ(d->GroupState(2)->since_ms, 200U);
  d->UpdateGroups(same, std::nullopt, 300);
  EXPECT_FALSE(d->symmetric_access);            // only a path arrival sets it
  EXPECT_EQ(d->GroupState(1)->since_ms, 100U);  // unchanged state keeps its time
  PathCandidate c2 = Candidate(t, 2, "iqn.t:a");
  c2.alua = AluaSupport::kImplicitOnly;
  ASSERT_TRUE(t.Claim(c2).has_value());
  EXPECT_TRUE(d->symmetric_access);
}

TEST(SymmetricAccess, ExplicitAluaIsNeverSymmetricNonAluaAlways) {
  Topology t;
  PathCandidate c = Candidate(t, 1, "iqn.t:a");
  c.alua = AluaSupport::kImplicitAndExplicit;
  Disk* d = *t.Claim(c);
  EXPECT_FALSE(d->symmetric_access);
  PathCandidate n = Candidate(t, 1, "iqn.t:a", 2);
  Disk* plain = *t.Claim(n);
  EXPECT_TRUE(plain->symmetric_access);
}

TEST(Policies, DefaultsAndSupportedSets) {
  testing::DiskBuilder plain(2);
  EXPECT_EQ(DefaultPolicy(plain.disk), LoadBalancePolicy::kRoundRobin);
  testing::DiskBuilder alua(2, AluaSupport::kImplicitOnly);
  alua.disk.symmetric_access = false;
  EXPECT_EQ(DefaultPolicy(alua.disk), LoadBalancePolicy::kRoundRobinWithSubset);

  const DsmOptions lax, strict{true};
  EXPECT_EQ(SupportedPolicies(plain.disk, lax).size(), 7U);
  EXPECT_EQ(SupportedPolicies(plain.disk, strict).size(), 6U);
  const auto asym = SupportedPolicies(alua.disk, strict);
  EXPECT_EQ(asym.size(), 5U);  // 1..6 minus RR
  for (auto p : asym) EXPECT_NE(p, LoadBalancePolicy::kRoundRobin);

  plain.Policy(LoadBalancePolicy::kServiceTime);
  EXPECT_EQ(EffectivePolicy(plain.disk, lax), LoadBalancePolicy::kServiceTime);
  EXPECT_EQ(EffectivePolicy(plain.disk, strict), LoadBalancePolicy::kRoundRobin);
  alua.disk.settings.policy = LoadBalancePolicy::kRoundRobin;  // a default, not explicit
  EXPECT_EQ(EffectivePolicy(alua.disk, lax), LoadBalancePolicy::kRoundRobinWithSubset);
}

TEST(PathStateFlags, MatchSpecTable) {
  // spec/msdsm.md §2: (1,1) AO, (1,0) AU, (0,1) SB, (0,0) UA.
  EXPECT_EQ(ToFlags(PathState::kActiveOptimized), (PathFlags{true, true}));
  EXPECT_EQ(ToFlags(PathState::kActiveUnoptimized), (PathFlags{true, false}));
  EXPECT_EQ(ToFlags(PathState::kStandby), (PathFlags{false, true}));
  EXPECT_EQ(ToFlags(PathState::kUnavailable), (PathFlags{false, false}));
  EXPECT_EQ(FromFlags(1, 1), PathState::kActiveOptimized);
  EXPECT_EQ(FromFlags(7, 0), PathState::kActiveUnoptimized);
  EXPECT_EQ(FromFlags(0, 2), PathState::kStandby);
  EXPECT_EQ(FromFlags(0, 0), PathState::kUnavailable);
  EXPECT_EQ(static_cast<int>(PathState::kUnavailable), 3);  // STATE_UNAVAILABLE
}

}  // namespace
}  // namespace openmpio::dsm

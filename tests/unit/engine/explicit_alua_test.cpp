// Explicit ALUA on the sim array (SPC-4 6.44 SET TARGET PORT GROUPS): a
// management set that asks A/O on a group that is not (spec/msdsm.md §4 step
// 14), one refused by the array, and explicit failover when only a standby
// group is left. Virtual time; the array's group state is the judge.
#include <gtest/gtest.h>

#include "engine_fixture.h"

namespace openmpio::engine::testing {
namespace {

using scsi::AsymmetricAccessState;

class ExplicitAluaTest : public EngineFixture {
 protected:
  AsymmetricAccessState ArrayState(std::uint64_t lun, std::uint16_t group) {
    auto g = array_->GroupState(lun, group, ex_.Now());
    EXPECT_TRUE(g.has_value());
    return g ? g->state : AsymmetricAccessState::kOffline;
  }

  // Drives the plan's execution; the Status it ended with.
  std::optional<Status> Execute(std::size_t disk, dsm::SetPolicyPlan plan) {
    std::optional<Status> got;
    engine_->ExecuteSetPolicyPlan(disk, std::move(plan), [&got](Status s) { got = std::move(s); });
    EXPECT_TRUE(RunUntil([&got] { return got.has_value(); }, seconds(30)));
    return got;
  }

  // Lets the engine see a state the array changed (its 2A/06 comes with the
  // next command on each nexus).
  void Settle(std::size_t disk, std::uint64_t base) {
    Load l(engine_->Disk(disk), 1024, 99, base);
    l.Start(64, 4);
    ASSERT_TRUE(RunLoad(l));
    ASSERT_EQ(l.errors(), 0U);
  }
};

// LU 0: group 1 A/O (ports 1, 2), group 2 Standby (ports 3, 4). The set asks
// Fail Over Only with port 3 A/O and preferred: check 14 plans an STPG of
// group 2 via the path that was A/O (port 1). The array's group 2 becomes
// A/O, the disk's states follow, the query says port 3 is primary and
// optimized in an A/O group, and I/O — running throughout — moves to port 3.
TEST_F(ExplicitAluaTest, SetAskingAoOnTheStandbyGroupIssuesStpgAndCommits) {
  Build();
  const std::size_t disk = DiskOfLu(0);
  ASSERT_TRUE(array_->SetAccessState(0, 2, AsymmetricAccessState::kStandby, ex_.Now()).ok());
  Settle(disk, 16384);
  DiskInfo before = engine_->Disks()[disk];
  for (const GroupInfo& g : before.groups) {
    if (g.tpg_id == 2) {
      ASSERT_EQ(g.state.raw, static_cast<std::uint8_t>(AsymmetricAccessState::kStandby));
    }
  }
  dsm::SetPolicyInput in;
  in.policy = static_cast<std::uint32_t>(dsm::LoadBalancePolicy::kFailOverOnly);
  in.path_count = static_cast<std::uint32_t>(before.paths.size());
  dsm::DsmPathId port3 = 0, port1 = 0;
  for (const PathInfo& p : before.paths) {
    dsm::SetPathEntry e;
    e.id = p.id;
    const bool chosen = p.relative_target_port == 3;
    e.primary = chosen ? 1 : 0;
    e.optimized = chosen ? 1 : 0;
    e.preferred = chosen ? 1 : 0;
    if (chosen) port3 = p.id;
    if (p.relative_target_port == 1) port1 = p.id;
    in.paths.push_back(e);
  }
  auto plan = engine_->CheckSetLoadBalancePolicy(disk, in);
  ASSERT_TRUE(plan.has_value()) << plan.error().ToString();
  ASSERT_TRUE(plan->stpg.has_value()) << "step 14 applies: AO asked on a Standby group";
  EXPECT_EQ(plan->stpg->via, port1);

  Load l(engine_->Disk(disk), 4096, 31);
  l.Start(2000, 8);
  ex_.RunFor(milliseconds(3));
  ASSERT_FALSE(l.done());
  const std::uint64_t port3_before = Media(3);
  auto st = Execute(disk, *plan);
  ASSERT_TRUE(st.has_value());
  EXPECT_TRUE(st->ok()) << st->ToString();
  EXPECT_EQ(ArrayState(0, 2), AsymmetricAccessState::kActiveOptimized) << "the STPG was honoured";
  ASSERT_TRUE(RunLoad(l));
  EXPECT_EQ(l.errors(), 0U);
  EXPECT_EQ(l.mismatches(), 0U);
  for (const auto& m : l.messages()) ADD_FAILURE() << m;

  const DiskInfo after = engine_->Disks()[disk];
  EXPECT_EQ(after.policy, dsm::LoadBalancePolicy::kFailOverOnly);
  EXPECT_EQ(after.policy_stpgs, 1U);
  EXPECT_EQ(after.failover_stpgs, 0U) << "no failover: group 1 stayed A/O";
  for (const PathInfo& p : after.paths) {
    EXPECT_EQ(p.usable, p.relative_target_port == 3) << "FOO: only port " << p.relative_target_port;
  }
  for (const GroupInfo& g : after.groups) {
    if (g.tpg_id == 2) {
      EXPECT_EQ(g.state.raw, static_cast<std::uint8_t>(AsymmetricAccessState::kActiveOptimized));
    }
  }
  const dsm::QueriedPolicy q = engine_->QueryLoadBalancePolicy(disk);
  EXPECT_EQ(q.policy, static_cast<std::uint32_t>(dsm::LoadBalancePolicy::kFailOverOnly));
  bool found = false;
  for (const dsm::QueriedPath& p : q.paths) {
    if (p.dsm_path_id != port3) continue;
    found = true;
    EXPECT_EQ(p.primary_path, 1U);
    EXPECT_EQ(p.optimized_path, 1U);
    EXPECT_EQ(p.preferred_path, 1U);
    EXPECT_EQ(p.tpg_identifier, 2U);
    EXPECT_EQ(p.tpg_state, 0U) << "STATE_ACTIVE_OPTIMIZED";
  }
  EXPECT_TRUE(found);
  EXPECT_GT(Media(3), port3_before) << "I/O moved to the chosen path";
}

// TPGS implicit only: the array does not support STPG (ILLEGAL REQUEST,
// INVALID FIELD IN CDB 24/00). A plan carrying an STPG (built by hand: the
// checks would not make one for implicit-only storage) gives that Status;
// the disk keeps its previous policy and states, and I/O goes on.
TEST_F(ExplicitAluaTest, StpgRefusedByTheArrayGivesItsStatusAndThePolicyStays) {
  array::ArrayConfig cfg = array::DemoArrayConfig(1U << 16);
  cfg.tpgs = scsi::Tpgs::kImplicit;
  Build(cfg);
  const std::size_t disk = DiskOfLu(0);
  const DiskInfo before = engine_->Disks()[disk];
  ASSERT_EQ(before.alua, dsm::AluaSupport::kImplicitOnly);
  dsm::SetPolicyPlan plan;
  plan.policy = dsm::LoadBalancePolicy::kFailOverOnly;
  dsm::DsmPathId port1 = 0;
  for (std::size_t i = 0; i < before.paths.size(); ++i) {
    const PathInfo& p = before.paths[i];
    dsm::PlannedPath pp;
    pp.index = i;
    pp.id = p.id;
    pp.requested = p.relative_target_port == 3 ? dsm::PathState::kActiveOptimized
                                               : dsm::PathState::kStandby;
    pp.persist = true;
    if (p.relative_target_port == 3) plan.preferred_path = p.id;
    if (p.relative_target_port == 1) port1 = p.id;
    plan.paths.push_back(pp);
  }
  plan.stpg = dsm::StpgPlan{{2}, port1};

  Load l(engine_->Disk(disk), 4096, 41);
  l.Start(1000, 8);
  ex_.RunFor(milliseconds(3));
  auto st = Execute(disk, plan);
  ASSERT_TRUE(st.has_value());
  EXPECT_FALSE(st->ok());
  EXPECT_EQ(st->nt(), NtStatus::kIoDeviceError) << st->ToString();
  EXPECT_NE(st->message().find("5/24/00"), std::string::npos) << st->ToString();
  EXPECT_EQ(ArrayState(0, 2), AsymmetricAccessState::kActiveNonOptimized);
  ASSERT_TRUE(RunLoad(l));
  EXPECT_EQ(l.errors(), 0U);
  for (const auto& m : l.messages()) ADD_FAILURE() << m;
  const DiskInfo after = engine_->Disks()[disk];
  EXPECT_EQ(after.policy, before.policy);
  EXPECT_EQ(after.policy_stpgs, 1U);
  for (const PathInfo& p : after.paths) {
    EXPECT_EQ(p.usable, p.relative_target_port <= 2) << "port " << p.relative_target_port;
  }
}

// A plan without STPG commits at once; an unknown disk is NO_SUCH_DEVICE; a
// plan for paths the disk does not have is INVALID_PARAMETER and writes nothing.
TEST_F(ExplicitAluaTest, PlanWithoutStpgCommitsAndStalePlansAreRefused) {
  Build();
  const std::size_t disk = DiskOfLu(0);
  const DiskInfo before = engine_->Disks()[disk];
  dsm::SetPolicyPlan stale;
  stale.policy = dsm::LoadBalancePolicy::kLeastQueueDepth;
  stale.paths.push_back(dsm::PlannedPath{0, before.paths[0].id + 1000, dsm::PathState::kActiveOptimized,
                                         false, 0});
  auto st = Execute(disk, stale);
  ASSERT_TRUE(st.has_value());
  EXPECT_EQ(st->nt(), NtStatus::kInvalidParameter) << st->ToString();
  EXPECT_EQ(engine_->Disks()[disk].policy, before.policy);

  auto none = Execute(engine_->Disks().size() + 3, dsm::SetPolicyPlan{});
  ASSERT_TRUE(none.has_value());
  EXPECT_EQ(none->nt(), NtStatus::kNoSuchDevice) << none->ToString();

  dsm::SetPolicyInput in;
  in.policy = static_cast<std::uint32_t>(dsm::LoadBalancePolicy::kLeastQueueDepth);
  in.path_count = static_cast<std::uint32_t>(before.paths.size());
  for (const PathInfo& p : before.paths) {
    dsm::SetPathEntry e;
    e.id = p.id;
    const bool ao = p.relative_target_port <= 2;
    e.primary = 1;
    e.optimized = ao ? 1 : 0;
    in.paths.push_back(e);
  }
  auto plan = engine_->CheckSetLoadBalancePolicy(disk, in);
  ASSERT_TRUE(plan.has_value()) << plan.error().ToString();
  EXPECT_FALSE(plan->stpg.has_value());
  auto ok = Execute(disk, *plan);
  ASSERT_TRUE(ok.has_value());
  EXPECT_TRUE(ok->ok()) << ok->ToString();
  EXPECT_EQ(engine_->Disks()[disk].policy, dsm::LoadBalancePolicy::kLeastQueueDepth);
  EXPECT_EQ(engine_->Disks()[disk].policy_stpgs, 0U);
}

// Explicit failover: LU 0's A/O group (ports 1, 2) is cut; group 2 is
// Standby. The DSM promotes the standby paths and names group 2; the engine
// sends exactly one STPG (the array's group 2 becomes A/O), re-reads, and the
// requests that met 04/0B meanwhile are released onto it: 0 caller errors.
TEST_F(ExplicitAluaTest, ExplicitFailoverActivatesTheStandbyGroupWithOneStpg) {
  Build();
  const std::size_t disk = DiskOfLu(0);
  ASSERT_TRUE(array_->SetAccessState(0, 2, AsymmetricAccessState::kStandby, ex_.Now()).ok());
  Settle(disk, 16384);
  ASSERT_EQ(engine_->Disks()[disk].failover_stpgs, 0U);
  // Cut while idle: nothing of unknown fate (fence_test covers that case).
  fabric_->RefuseReconnect(1, true);
  fabric_->RefuseReconnect(2, true);
  fabric_->Drop(1);
  fabric_->Drop(2);
  Load l(engine_->Disk(disk), 4096, 51);
  l.Start(2000, 16);
  ASSERT_TRUE(RunLoad(l));
  EXPECT_EQ(l.errors(), 0U);
  EXPECT_EQ(l.mismatches(), 0U);
  for (const auto& m : l.messages()) ADD_FAILURE() << m;
  EXPECT_EQ(ArrayState(0, 2), AsymmetricAccessState::kActiveOptimized);
  const DiskInfo d = engine_->Disks()[disk];
  EXPECT_EQ(d.failover_stpgs, 1U) << "one STPG for all the requests";
  for (const PathInfo& p : d.paths) {
    EXPECT_EQ(p.usable, p.relative_target_port >= 3) << "port " << p.relative_target_port;
    if (p.relative_target_port >= 3) {
      EXPECT_EQ(p.state, dsm::PathState::kActiveOptimized);
    }
  }
  // LU 1 (group 2 A/O all along) sent none.
  for (const DiskInfo& other : engine_->Disks()) {
    if (other.index != disk) {
      EXPECT_EQ(other.failover_stpgs, 0U);
    }
  }
}

// The same cut with TPGS implicit only: no STPG is sent (the DSM names no
// group), I/O rides the A/N group.
TEST_F(ExplicitAluaTest, ImplicitOnlyStorageGetsNoFailoverStpg) {
  array::ArrayConfig cfg = array::DemoArrayConfig(1U << 16);
  cfg.tpgs = scsi::Tpgs::kImplicit;
  Build(cfg);
  const std::size_t disk = DiskOfLu(0);
  fabric_->RefuseReconnect(1, true);
  fabric_->RefuseReconnect(2, true);
  fabric_->Drop(1);
  fabric_->Drop(2);
  Load l(engine_->Disk(disk), 4096, 61);
  l.Start(500, 8);
  ASSERT_TRUE(RunLoad(l));
  EXPECT_EQ(l.errors(), 0U);
  EXPECT_EQ(engine_->Disks()[disk].failover_stpgs, 0U);
  EXPECT_EQ(ArrayState(0, 2), AsymmetricAccessState::kActiveNonOptimized);
}

}  // namespace
}  // namespace openmpio::engine::testing

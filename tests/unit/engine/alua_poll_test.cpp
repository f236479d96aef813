// A disk whose every target port group leaves the active states (issue 13,
// item 1): while the disk's paths answer but none can serve media access,
// the engine re-reads ALUA (RTPG) every RetryInterval (alua_refresh.cpp),
// and with explicit ALUA one STPG brings a group to A/O, as at start-up
// (explicit_alua.cpp). The array changes states as `mpioctl sim set-state`
// does: through Transitioning for its implicit transition time (2 s), with
// unit attentions. Virtual time; every command the engine sends is recorded.
#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/mgmt_access.h"
#include "engine_fixture.h"
#include "recording_nexus.h"

namespace openmpio::engine::testing {
namespace {

using scsi::AsymmetricAccessState;

class AluaPollTest : public EngineFixture {
 protected:
  void BuildRecorded(array::ArrayConfig cfg = array::DemoArrayConfig(1U << 16)) {
    Build(std::move(cfg), TestConfig(),
          [this](std::unique_ptr<transport::TransportNexus> n, std::uint16_t port) {
            return std::make_unique<RecordingNexus>(std::move(n), port, &log_);
          });
    ex_.RunFor(seconds(1));  // discovery's last refreshes
    log_.clear();
  }

  // An event of disk `name` whose text contains `needle`.
  [[nodiscard]] bool HasEvent(const std::string& name, const std::string& needle) const {
    for (const EngineEvent& e : engine_->Events()) {
      if (e.disk == name && e.text.find(needle) != std::string::npos) return true;
    }
    return false;
  }

  // Implicit ALUA only: the array changes states itself, STPG is refused.
  static array::ArrayConfig ImplicitOnly() {
    array::ArrayConfig cfg = array::DemoArrayConfig(1U << 16);
    cfg.tpgs = scsi::Tpgs::kImplicit;
    return cfg;
  }
  // Explicit ALUA whose STPG cannot ask A/O (nor A/N): refused with
  // ILLEGAL REQUEST, as an array whose controller is away would.
  static array::ArrayConfig ExplicitRefusingActivation() {
    array::ArrayConfig cfg = array::DemoArrayConfig(1U << 16);
    cfg.stpg_states = scsi::SupportedStates{}
                          .With(scsi::SupportedStates::kSSup)
                          .With(scsi::SupportedStates::kUSup);
    return cfg;
  }

  // As `mpioctl sim set-state 0 <group> <state>` (runtime/mgmt_backend.cpp).
  void SetState(std::uint16_t group, AsymmetricAccessState s) {
    ASSERT_TRUE(array_->SetAccessState(0, group, s, ex_.Now(), /*implicit_transition=*/true).ok());
  }

  AsymmetricAccessState ArrayState(std::uint16_t group) {
    auto g = array_->GroupState(0, group, ex_.Now());
    EXPECT_TRUE(g.has_value());
    return g ? g->state : AsymmetricAccessState::kOffline;
  }

  // The state the engine shows for (LU of `disk`, group).
  std::uint8_t Shown(std::size_t disk, std::uint16_t group) {
    const DiskInfo d = engine_->Disks()[disk];  // a copy: the vector is a temporary
    for (const GroupInfo& g : d.groups) {
      if (g.tpg_id == group) return g.state.raw;
    }
    return 0xFF;
  }
  static std::uint8_t Raw(AsymmetricAccessState s) { return static_cast<std::uint8_t>(s); }

  bool AnyUsable(std::size_t disk) {
    const DiskInfo d = engine_->Disks()[disk];
    for (const PathInfo& p : d.paths) {
      if (p.usable) return true;
    }
    return false;
  }

  // RTPG / STPG of LU 0 on any port.
  [[nodiscard]] std::size_t Rtpgs() const { return Count(scsi::op::kMaintenanceIn); }
  [[nodiscard]] std::size_t Stpgs() const { return Count(scsi::op::kMaintenanceOut); }
  [[nodiscard]] std::size_t Count(std::uint8_t opcode) const {
    std::size_t n = 0;
    for (const SentCommand& c : log_) {
      if (c.lun == 0 && c.opcode() == opcode && (c.byte(1) & 0x1F) == 0x0A) ++n;
    }
    return n;
  }

  // A read of LU 0's disk; its answer lands in the result (kept alive by the
  // callback, so a test that stops early leaves nothing dangling).
  using Answer = std::shared_ptr<std::optional<Status>>;
  Answer StartRead(std::size_t disk, std::uint64_t offset) {
    auto got = std::make_shared<std::optional<Status>>();
    auto buf = std::make_shared<std::vector<std::byte>>(4096);
    engine_->Disk(disk).Read(offset, *buf, [buf, got](const Status& s) { *got = s; });
    return got;
  }

  // The scenario of the issue where nothing the host does can activate a
  // group: both groups to Standby under a waiting read; the engine keeps
  // re-reading (and shows Standby once the array's transition ends); the
  // array returns the groups with no management call and the read completes.
  void RefusedActivationThenTheArrayReturns() {
    const std::size_t disk = DiskOfLu(0);
    SetState(1, AsymmetricAccessState::kStandby);
    SetState(2, AsymmetricAccessState::kStandby);
    const Answer read = StartRead(disk, 0);
    ex_.RunFor(seconds(5));
    EXPECT_FALSE(read->has_value()) << "no group is active: the read waits for a path";
    EXPECT_EQ(Shown(disk, 1), Raw(AsymmetricAccessState::kStandby))
        << "the engine re-read the states after the array's transition ended";
    EXPECT_EQ(Shown(disk, 2), Raw(AsymmetricAccessState::kStandby));
    const std::size_t at5 = Rtpgs();
    ex_.RunFor(seconds(5));
    EXPECT_GE(Rtpgs() - at5, 4U) << "RTPG every RetryInterval while no path can serve";
    EXPECT_LE(Rtpgs() - at5, 12U) << "and not in a loop";
    EXPECT_FALSE(read->has_value());

    SetState(1, AsymmetricAccessState::kActiveOptimized);
    SetState(2, AsymmetricAccessState::kActiveNonOptimized);
    ASSERT_TRUE(RunUntil([&] { return read->has_value(); }, seconds(8)))
        << "the read resumes once the array returns the groups (within the no-path time)";
    EXPECT_TRUE((*read)->ok()) << (*read)->ToString();
    EXPECT_EQ(Shown(disk, 1), Raw(AsymmetricAccessState::kActiveOptimized));

    // The polling stops once a path can serve: an idle healthy disk sends no RTPG.
    ex_.RunFor(seconds(2));
    const std::size_t settled = Rtpgs();
    ex_.RunFor(seconds(60));
    EXPECT_EQ(Rtpgs(), settled);
  }

  std::vector<SentCommand> log_;
};

// (a) Explicit ALUA, both groups to Standby while I/O runs: the engine sees
// Transitioning, then Standby, and STPGs one group to A/O as at start-up;
// every queued request completes OK, well within the 20 s no-path time.
TEST_F(AluaPollTest, BothGroupsStandbyUnderIoExplicitAluaStpgsAGroupToAo) {
  BuildRecorded();
  const std::size_t disk = DiskOfLu(0);
  // Two waves, each its own requests only (no refill, so the test ends in
  // bounded time whatever the engine does): the first in flight when the
  // array changes, the second submitted while no path can serve.
  Load first(engine_->Disk(disk), 4096, 71);
  Load second(engine_->Disk(disk), 4096, 72, 8192);
  first.SetClock(&ex_);
  second.SetClock(&ex_);
  first.Start(16, 16);
  SetState(1, AsymmetricAccessState::kStandby);
  SetState(2, AsymmetricAccessState::kStandby);
  ex_.RunFor(milliseconds(500));
  ASSERT_FALSE(first.done()) << "the change reached the requests in flight";
  second.Start(16, 16);
  ASSERT_TRUE(RunUntil([&] { return first.done() && second.done(); }, seconds(60)));
  for (const Load* l : {&first, &second}) {
    EXPECT_EQ(l->errors(), 0U);
    EXPECT_EQ(l->mismatches(), 0U);
    for (const auto& m : l->messages()) ADD_FAILURE() << m;
    EXPECT_LT(l->max_latency(), seconds(6))
        << "queued I/O waited for the STPG, not for the no-path time";
  }
  const bool g1 = ArrayState(1) == AsymmetricAccessState::kActiveOptimized;
  const bool g2 = ArrayState(2) == AsymmetricAccessState::kActiveOptimized;
  EXPECT_TRUE(g1 != g2) << "exactly one group made A/O";
  EXPECT_TRUE(g1) << "the group with the PREF bit";
  EXPECT_GE(Stpgs(), 1U);
  EXPECT_GE(engine_->Disks()[disk].failover_stpgs, 1U);
  EXPECT_TRUE(AnyUsable(disk));

  ex_.RunFor(seconds(2));
  const std::size_t settled = Rtpgs();
  ex_.RunFor(seconds(60));
  EXPECT_EQ(Rtpgs(), settled) << "no polling once a path serves";
}

// (b) Implicit-only ALUA: no STPG can help; the engine re-reads and resumes
// the waiting read when the array itself returns the groups.
TEST_F(AluaPollTest, ImplicitOnlyBothStandbyIsReReadUntilTheArrayReturnsTheGroups) {
  BuildRecorded(ImplicitOnly());
  RefusedActivationThenTheArrayReturns();
  EXPECT_EQ(Stpgs(), 0U) << "implicit-only storage gets no STPG";
}

// (b) Explicit ALUA whose array refuses the STPG: the same, the refusal
// does not stop the re-reads.
TEST_F(AluaPollTest, RefusedStpgBothStandbyIsReReadUntilTheArrayReturnsTheGroups) {
  BuildRecorded(ExplicitRefusingActivation());
  RefusedActivationThenTheArrayReturns();
  EXPECT_GE(Stpgs(), 1U) << "the engine asked";
}

// No I/O at all (explicit ALUA): a management query's RTPG meets the array
// mid-transition (both groups Transitioning). With nothing queued the
// engine still re-reads, sees Standby, and STPGs a group to A/O by itself.
TEST_F(AluaPollTest, StandbySeenWithoutIoIsActivatedWithoutIo) {
  BuildRecorded();
  const std::size_t disk = DiskOfLu(0);
  SetState(1, AsymmetricAccessState::kStandby);
  SetState(2, AsymmetricAccessState::kStandby);
  std::optional<Status> query;
  RefreshAlua(*engine_, disk, [&query](Status s) { query = std::move(s); });
  ASSERT_TRUE(RunUntil([&] { return query.has_value(); }, seconds(5)));
  ASSERT_TRUE(query->ok()) << query->ToString();
  ASSERT_EQ(Shown(disk, 1), Raw(AsymmetricAccessState::kTransitioning));
  ASSERT_FALSE(AnyUsable(disk));
  ex_.RunFor(seconds(5));
  EXPECT_EQ(ArrayState(1), AsymmetricAccessState::kActiveOptimized);
  EXPECT_EQ(Shown(disk, 1), Raw(AsymmetricAccessState::kActiveOptimized));
  EXPECT_TRUE(AnyUsable(disk));
  EXPECT_EQ(engine_->Disks()[disk].queued, 0U);
  const Answer read = StartRead(disk, 0);
  ASSERT_TRUE(RunUntil([&] { return read->has_value(); }, milliseconds(100)));
  EXPECT_TRUE((*read)->ok()) << (*read)->ToString();
}

// No I/O queued (implicit only): a read fails after the no-path time, as it
// must while the array activates nothing; afterwards, with nothing queued,
// the engine keeps re-reading, so when the array returns the groups the
// disk has a usable path again before any new request asks.
TEST_F(AluaPollTest, EveryGroupStandbyWithNothingQueuedStillRecovers) {
  BuildRecorded(ImplicitOnly());
  const std::size_t disk = DiskOfLu(0);
  SetState(1, AsymmetricAccessState::kStandby);
  SetState(2, AsymmetricAccessState::kStandby);
  const Answer read = StartRead(disk, 0);
  ASSERT_TRUE(RunUntil([&] { return read->has_value(); }, seconds(30)));
  EXPECT_EQ((*read)->nt(), NtStatus::kDeviceNotReady) << (*read)->ToString();
  ASSERT_EQ(engine_->Disks()[disk].queued, 0U);
  const std::size_t idle = Rtpgs();
  ex_.RunFor(seconds(5));
  EXPECT_GE(Rtpgs() - idle, 4U) << "re-read with no request waiting";
  // The standby paths are promoted (MSDSM failover) but cannot serve.
  EXPECT_TRUE(engine_->Disks()[disk].alua_polling);

  SetState(1, AsymmetricAccessState::kActiveOptimized);
  SetState(2, AsymmetricAccessState::kActiveNonOptimized);
  ex_.RunFor(seconds(4));  // 2 s transition + a RetryInterval or two; no I/O
  EXPECT_EQ(Shown(disk, 1), Raw(AsymmetricAccessState::kActiveOptimized));
  EXPECT_TRUE(AnyUsable(disk));
  EXPECT_FALSE(engine_->Disks()[disk].alua_polling);
  const Answer again = StartRead(disk, 4096);
  ASSERT_TRUE(RunUntil([&] { return again->has_value(); }, milliseconds(100)));
  EXPECT_TRUE((*again)->ok()) << (*again)->ToString();
  const std::size_t settled = Rtpgs();
  ex_.RunFor(seconds(60));
  EXPECT_EQ(Rtpgs(), settled);
}

// (c) A healthy idle disk is never polled.
TEST_F(AluaPollTest, HealthyIdleDiskSendsNoRtpg) {
  BuildRecorded();
  ex_.RunFor(seconds(120));
  EXPECT_EQ(Rtpgs(), 0U);
  EXPECT_EQ(Stpgs(), 0U);
}

// Every state change an operator cares about leaves an event: the group
// states the engine read, the start and end of the re-reads, the STPG and
// its answer (and a refused one), requests failed at the no-path time.
TEST_F(AluaPollTest, NoUsablePathLeavesEvents) {
  BuildRecorded();
  const std::size_t disk = DiskOfLu(0);
  const std::string name = engine_->Disks()[disk].name;
  auto has = [&](const std::string& needle) { return HasEvent(name, needle); };
  SetState(1, AsymmetricAccessState::kStandby);
  SetState(2, AsymmetricAccessState::kStandby);
  std::optional<Status> query;
  RefreshAlua(*engine_, disk, [&query](Status s) { query = std::move(s); });
  ASSERT_TRUE(RunUntil([&] { return query.has_value(); }, seconds(5)));
  EXPECT_TRUE(engine_->Disks()[disk].alua_polling);
  EXPECT_TRUE(has("ALUA: target port group 1 Active/Optimized -> Transitioning"));
  EXPECT_TRUE(
      has("no usable path (group 1 Transitioning, group 2 Transitioning): re-reading "
          "ALUA state every RetryInterval (1000 ms)"));
  ex_.RunFor(seconds(5));
  EXPECT_FALSE(engine_->Disks()[disk].alua_polling);
  EXPECT_TRUE(has("ALUA: target port group 1 Transitioning -> Standby"));
  EXPECT_TRUE(
      has("explicit failover: SET TARGET PORT GROUPS: group 1 to Active/Optimized "
          "through relative target port"));
  EXPECT_TRUE(has("SET TARGET PORT GROUPS: group 1 to Active/Optimized: GOOD"));
  EXPECT_TRUE(has("ALUA: target port group 1 Standby -> Active/Optimized"));
  EXPECT_TRUE(has("a path can serve I/O again"));
  for (const EngineEvent& e : engine_->Events()) {
    EXPECT_LE(e.when, ex_.Now()) << e.text;
  }
}

TEST_F(AluaPollTest, RefusedStpgAndExpiredRequestsLeaveEvents) {
  BuildRecorded(ExplicitRefusingActivation());
  const std::size_t disk = DiskOfLu(0);
  const std::string name = engine_->Disks()[disk].name;
  auto has = [&](const std::string& needle) { return HasEvent(name, needle); };
  SetState(1, AsymmetricAccessState::kStandby);
  SetState(2, AsymmetricAccessState::kStandby);
  const Answer read = StartRead(disk, 0);
  ASSERT_TRUE(RunUntil([&] { return read->has_value(); }, seconds(30)));
  EXPECT_EQ((*read)->nt(), NtStatus::kDeviceNotReady) << (*read)->ToString();
  EXPECT_EQ(engine_->Disks()[disk].failover_stpgs, 1U) << "refused: not asked again within 40 s";
  EXPECT_EQ(Stpgs(), 1U);
  EXPECT_TRUE(has("SET TARGET PORT GROUPS: group 1 to Active/Optimized failed:"));
  EXPECT_TRUE(has("did not make the group active; not asked again for 40 s"));
  EXPECT_TRUE(has("1 request(s) failed: no usable path for 20 s"));
  SetState(1, AsymmetricAccessState::kActiveOptimized);
  SetState(2, AsymmetricAccessState::kActiveNonOptimized);
  ASSERT_TRUE(RunUntil([&] { return !engine_->Disks()[disk].alua_polling; }, seconds(5)));
  EXPECT_TRUE(has("a path can serve I/O again"));
}

}  // namespace
}  // namespace openmpio::engine::testing

// The sim transport against a small fake DeviceServer, on a ManualExecutor
// (virtual time, no sleeps): every guarantee of transport.h, the link model's
// timing to the nanosecond, and each link fault and session rule of
// sim_fabric.h. The same rules against the real array are in
// sim_array_test.cpp.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <array>
#include <cstring>
#include <future>
#include <optional>
#include <vector>

// Counts every allocation of this test program (unit_transport); this is the
// one file of the program that includes it.
#include "alloc_counter.h"
#include "array/device_server.h"
#include "common/reactor.h"
#include "sim_helpers.h"

namespace openmpio::transport::sim {
namespace {

using namespace testing;  // NOLINT
using openmpio::testing::g_allocations;
using array::ItNexusId;
using std::chrono::microseconds;
using std::chrono::milliseconds;
using std::chrono::seconds;

// A device server of 64 blocks of 512 bytes per LU (LUs 0 and 1) that
// executes READ(16) and WRITE(16), answers GOOD to anything else, and records
// what it saw. Allocation-free in Execute (storage and logs are reserved).
class FakeServer final : public array::DeviceServer {
 public:
  static constexpr std::size_t kBlocks = 64;
  static constexpr std::size_t kBlock = 512;

  struct Executed {
    ItNexusId nexus;
    std::uint64_t lun;
    std::uint8_t opcode;
    std::uint64_t lba;
    TimePoint at;
  };

  FakeServer() {
    executed.reserve(100000);
    for (auto& lu : disk) lu.fill(std::byte{0});
  }

  ItNexusId AttachNexus(std::uint16_t rtp, const std::string& initiator,
                        std::uint64_t isid) override {
    if (refuse_attach) return 0;
    attached.push_back({++last_id, rtp, initiator, isid});
    live.push_back(last_id);
    return last_id;
  }
  void DetachNexus(ItNexusId nexus) override {
    detached.push_back(nexus);
    std::erase(live, nexus);
  }
  array::CommandResponse Execute(const array::CommandRequest& r, TimePoint now) override {
    array::CommandResponse resp;
    const auto op = std::to_integer<std::uint8_t>(r.cdb[0]);
    std::uint64_t lba = 0;
    std::uint32_t blocks = 0;
    if (r.cdb.size() == 16) {
      for (int i = 0; i < 8; ++i) {
        lba = (lba << 8) | std::to_integer<std::uint64_t>(r.cdb[static_cast<std::size_t>(2 + i)]);
      }
      for (int i = 0; i < 4; ++i) {
        blocks =
            (blocks << 8) | std::to_integer<std::uint32_t>(r.cdb[static_cast<std::size_t>(10 + i)]);
      }
    }
    executed.push_back({r.nexus, r.lun, op, lba, now});
    auto& lu = disk[r.lun % 2];
    const std::size_t off = static_cast<std::size_t>(lba) * kBlock;
    const std::size_t len = std::size_t{blocks} * kBlock;
    if (off + len > lu.size()) {
      resp.status = scsi::ScsiStatus::kCheckCondition;
      resp.sense_length = 18;
      resp.sense[0] = std::byte{0x70};
      resp.sense[2] = std::byte{0x05};  // ILLEGAL REQUEST
      resp.sense[7] = std::byte{0x0A};
      resp.sense[12] = std::byte{0x21};  // LBA out of range
      return resp;
    }
    if (op == scsi::op::kWrite16 && r.data_out.size() >= len) {
      std::memcpy(lu.data() + off, r.data_out.data(), len);
    } else if (op == scsi::op::kRead16 && r.data_in.size() >= len) {
      std::memcpy(r.data_in.data(), lu.data() + off, len);
      resp.data_in_length = static_cast<std::uint32_t>(len);
    }
    return resp;
  }
  array::TaskManagementResult LogicalUnitReset(ItNexusId nexus, std::uint64_t lun,
                                               TimePoint) override {
    lu_resets.emplace_back(nexus, lun);
    return lun < 2 ? array::TaskManagementResult::kFunctionComplete
                   : array::TaskManagementResult::kLunDoesNotExist;
  }

  [[nodiscard]] std::size_t executed_writes(std::uint64_t lba) const {
    std::size_t n = 0;
    for (const auto& e : executed) n += (e.opcode == scsi::op::kWrite16 && e.lba == lba) ? 1U : 0U;
    return n;
  }

  struct Attach {
    ItNexusId id;
    std::uint16_t rtp;
    std::string initiator;
    std::uint64_t isid;
  };
  std::array<std::array<std::byte, kBlocks * kBlock>, 2> disk{};
  std::vector<Executed> executed;
  std::vector<Attach> attached;
  std::vector<ItNexusId> live;
  std::vector<ItNexusId> detached;
  std::vector<std::pair<ItNexusId, std::uint64_t>> lu_resets;
  ItNexusId last_id = 0;
  bool refuse_attach = false;
};

constexpr auto kLatency = microseconds(100);

class SimTest : public ::testing::Test {
 protected:
  SimTest() : fabric_(server_, "iqn.2024-01.org.openmpio:fake") {
    fabric_.AddPort(1, LinkModel{kLatency, 0, Duration::zero()});
    fabric_.AddPort(2, LinkModel{kLatency, 0, Duration::zero()});
  }

  std::unique_ptr<SimNexus> Connected(std::uint16_t port, SimNexusOptions options = {}) {
    auto n = fabric_.CreateNexus(ex_, port, std::move(options));
    auto s = ConnectNow(ex_, *n);
    EXPECT_TRUE(s.has_value() && s->ok()) << (s ? s->ToString() : "no answer");
    return n;
  }

  static std::vector<std::byte> Pattern(std::uint8_t seed, std::size_t n = 512) {
    std::vector<std::byte> v(n);
    for (std::size_t i = 0; i < n; ++i) v[i] = std::byte(static_cast<std::uint8_t>(seed + i));
    return v;
  }

  ManualExecutor ex_;
  FakeServer server_;
  SimFabric fabric_;
  Recorder rec_{ex_};
};

// ---- sessions -----------------------------------------------------------------

TEST_F(SimTest, ConnectLogsInAfterOneRoundTripAndNamesTheNexus) {
  auto n = fabric_.CreateNexus(ex_, 2, SimNexusOptions{"iqn.test:host", 0x123456789ABC});
  EXPECT_EQ(n->state(), NexusState::kDisconnected);
  EXPECT_EQ(n->address().portal, "sim:2");
  EXPECT_EQ(n->address().portal_group_tag, 2);
  EXPECT_EQ(n->address().target_name, "iqn.2024-01.org.openmpio:fake");
  EXPECT_EQ(n->address().isid, 0x123456789ABCU);

  std::optional<Status> got;
  n->Connect([&](const Status& s) { got = s; });
  EXPECT_FALSE(got);  // never inside the call
  EXPECT_EQ(n->state(), NexusState::kConnecting);
  ex_.RunFor(2 * kLatency - microseconds(1));
  EXPECT_FALSE(got);
  ex_.RunFor(microseconds(1));
  ASSERT_TRUE(got);
  EXPECT_TRUE(got->ok());
  EXPECT_EQ(n->state(), NexusState::kConnected);
  ASSERT_EQ(server_.attached.size(), 1U);
  EXPECT_EQ(server_.attached[0].rtp, 2);
  EXPECT_EQ(server_.attached[0].initiator, "iqn.test:host");
  EXPECT_EQ(server_.attached[0].isid, 0x123456789ABCU);
  EXPECT_EQ(n->session(), server_.attached[0].id);
}

TEST_F(SimTest, ConnectToAnUnknownPortFailsLaterWithNoSuchDevice) {
  auto n = fabric_.CreateNexus(ex_, 9);
  auto s = ConnectNow(ex_, *n);
  ASSERT_TRUE(s);
  EXPECT_TRUE(s->Is(NtStatus::kNoSuchDevice)) << s->ToString();
  EXPECT_EQ(n->state(), NexusState::kDisconnected);
}

TEST_F(SimTest, ConnectTwiceIsRefusedWithoutTouchingTheSession) {
  auto n = Connected(1);
  const ItNexusId session = n->session();
  auto s = ConnectNow(ex_, *n);
  ASSERT_TRUE(s);
  EXPECT_TRUE(s->Is(NtStatus::kInvalidParameter));
  EXPECT_EQ(n->state(), NexusState::kConnected);
  EXPECT_EQ(n->session(), session);
}

// ---- the guarantees of transport.h ------------------------------------------------

TEST_F(SimTest, SubmitNeverCompletesInsideTheCallAndCompletesExactlyOnce) {
  auto n = Connected(1);
  std::vector<std::byte> buf(512);
  const TaskTag tag = n->Submit(ReadCommand(0, 3, buf), &Recorder::Fn, &rec_);
  EXPECT_NE(tag, 0U);
  EXPECT_EQ(rec_.count(), 0U);
  EXPECT_EQ(n->outstanding(), 1U);
  ex_.RunFor(seconds(120));  // far past the 30 s command timeout
  EXPECT_EQ(rec_.count(tag), 1U);
  EXPECT_EQ(rec_.find(tag)->result.outcome, Outcome::kCompleted);
  EXPECT_EQ(n->outstanding(), 0U);
}

TEST_F(SimTest, TagsAreUniqueAndNeverZero) {
  auto n = Connected(1);
  std::vector<TaskTag> tags;
  std::vector<std::byte> buf(512);
  for (int i = 0; i < 50; ++i)
    tags.push_back(n->Submit(ReadCommand(0, 0, buf), &Recorder::Fn, &rec_));
  std::sort(tags.begin(), tags.end());
  EXPECT_EQ(std::adjacent_find(tags.begin(), tags.end()), tags.end());
  EXPECT_NE(tags.front(), 0U);
  ex_.RunFor(seconds(1));
  EXPECT_EQ(rec_.count(), 50U);
}

TEST_F(SimTest, SubmitWhileDisconnectedCompletesNotSentLaterAndNeverReachesTheTarget) {
  auto n = fabric_.CreateNexus(ex_, 1);
  std::vector<std::byte> data = Pattern(1);
  const TaskTag tag = n->Submit(WriteCommand(0, 0, data), &Recorder::Fn, &rec_);
  EXPECT_EQ(rec_.count(), 0U);
  ex_.RunUntilIdle();
  ASSERT_EQ(rec_.count(tag), 1U);
  EXPECT_EQ(rec_.find(tag)->result.outcome, Outcome::kNotSent);
  EXPECT_TRUE(server_.executed.empty());

  std::optional<TmfResponse> tmf;
  n->AbortTask(tag, [&](TmfResponse r) { tmf = r; });
  EXPECT_FALSE(tmf);
  ex_.RunUntilIdle();
  ASSERT_TRUE(tmf);
  EXPECT_EQ(*tmf, TmfResponse::kNotConnected);
  EXPECT_FALSE(IsFence(*tmf));
}

TEST_F(SimTest, ReadDataAndSenseArriveInTheCallersBuffers) {
  auto n = Connected(1);
  const auto data = Pattern(0x40, 1024);
  n->Submit(WriteCommand(1, 10, data), &Recorder::Fn, &rec_);
  ex_.RunFor(seconds(1));
  std::vector<std::byte> buf(1024);
  const TaskTag read = n->Submit(ReadCommand(1, 10, buf), &Recorder::Fn, &rec_);
  // Past the end: CHECK CONDITION 05/21/00 from the fake, sense passed through.
  std::vector<std::byte> small(512);
  const TaskTag bad = n->Submit(ReadCommand(1, 64, small), &Recorder::Fn, &rec_);
  ex_.RunFor(seconds(1));
  ASSERT_NE(rec_.find(read), nullptr);
  EXPECT_EQ(rec_.find(read)->result.data_in_length, 1024U);
  EXPECT_EQ(buf, data);
  const Result& r = rec_.find(bad)->result;
  EXPECT_EQ(r.outcome, Outcome::kCompleted);
  EXPECT_EQ(r.status, scsi::ScsiStatus::kCheckCondition);
  ASSERT_EQ(r.sense_length, 18U);
  EXPECT_EQ(r.sense_bytes()[2], std::byte{0x05});
  EXPECT_EQ(r.sense_bytes()[12], std::byte{0x21});
}

TEST_F(SimTest, DataOutIsCopiedAtSubmit) {
  auto n = Connected(1);
  auto data = Pattern(7);
  n->Submit(WriteCommand(0, 5, data), &Recorder::Fn, &rec_);
  std::fill(data.begin(), data.end(), std::byte{0xEE});  // caller reuses its buffer early
  ex_.RunFor(seconds(1));
  EXPECT_EQ(std::memcmp(server_.disk[0].data() + 5 * 512, Pattern(7).data(), 512), 0);
}

TEST_F(SimTest, SubmitAndTheWholeRoundTripAllocateNothingInTheSteadyState) {
  auto n = Connected(1);
  const auto data = Pattern(3, 4096);
  std::vector<std::byte> buf(4096);
  auto round = [&](int i) {
    if (i % 2 == 0) {
      n->Submit(WriteCommand(0, 8, data), &Recorder::Fn, &rec_);
    } else {
      n->Submit(ReadCommand(0, 8, buf), &Recorder::Fn, &rec_);
    }
  };
  // Warm up: 64 writes then 64 reads in flight at once, so every slot, queue
  // and per-command buffer has grown to the working set below.
  for (int i = 0; i < 64; ++i) round(0);
  ex_.RunFor(seconds(1));
  for (int i = 0; i < 64; ++i) round(1);
  ex_.RunFor(seconds(1));
  rec_.all().clear();

  const long before = g_allocations.load();
  for (int i = 0; i < 16; ++i) round(i);
  const long after_submit = g_allocations.load();
  ex_.RunFor(seconds(1));
  for (int i = 0; i < 1000; ++i) {
    round(i);
    if (i % 8 == 7) ex_.RunFor(milliseconds(1));
  }
  ex_.RunFor(seconds(1));
  const long after_all = g_allocations.load();
  EXPECT_EQ(after_submit - before, 0) << "Submit allocated";
  EXPECT_EQ(after_all - before, 0) << "a round trip allocated";
  EXPECT_EQ(rec_.count(), 1016U);
}

TEST(SimAllocations, AllocationCounterWorks) {  // the test above could fail
  const long before = g_allocations.load();
  auto* p = new int(3);
  EXPECT_EQ(g_allocations.load(), before + 1);
  delete p;
}

// ---- timing in virtual time -------------------------------------------------------

TEST_F(SimTest, LatencyAndBandwidthGiveExactCompletionTimes) {
  // 1,000,000 B/s: 4096 bytes take 4.096 ms on the wire; 100 us each way.
  fabric_.SetLinkModel(1, LinkModel{kLatency, 1'000'000, Duration::zero()});
  auto n = Connected(1);
  const TimePoint t0 = ex_.Now();
  const auto data = Pattern(9, 4096);
  const TaskTag w1 = n->Submit(WriteCommand(0, 0, data), &Recorder::Fn, &rec_);
  const TaskTag w2 = n->Submit(WriteCommand(0, 8, data), &Recorder::Fn, &rec_);
  ex_.RunFor(seconds(1));
  // w1: 4096 us transmit + 100 us there + 100 us back (no data-in).
  EXPECT_EQ(rec_.find(w1)->at - t0, microseconds(4296));
  // w2 waits for w1 to leave the wire: 2 x 4096 + 200.
  EXPECT_EQ(rec_.find(w2)->at - t0, microseconds(8392));
  EXPECT_EQ(server_.executed[0].at - t0, microseconds(4196));

  const TimePoint t1 = ex_.Now();
  std::vector<std::byte> buf(4096);
  const TaskTag r = n->Submit(ReadCommand(0, 0, buf), &Recorder::Fn, &rec_);
  ex_.RunFor(seconds(1));
  // 100 us there, then 4096 bytes of data-in on the wire, 100 us back.
  EXPECT_EQ(rec_.find(r)->at - t1, microseconds(4296));
  EXPECT_EQ(buf, data);
}

TEST_F(SimTest, ServiceTimeAndDelayAddUp) {
  fabric_.SetLinkModel(1, LinkModel{kLatency, 0, microseconds(250)});
  auto n = Connected(1);
  fabric_.Delay(1, milliseconds(2));
  const TimePoint t0 = ex_.Now();
  std::vector<std::byte> buf(512);
  const TaskTag tag = n->Submit(ReadCommand(0, 0, buf), &Recorder::Fn, &rec_);
  ex_.RunFor(seconds(1));
  // (100 us + 2 ms) there, 250 us in the task set, (100 us + 2 ms) back.
  EXPECT_EQ(rec_.find(tag)->at - t0, microseconds(4450));
  fabric_.Delay(1, Duration::zero());
  const TimePoint t1 = ex_.Now();
  const TaskTag again = n->Submit(ReadCommand(0, 0, buf), &Recorder::Fn, &rec_);
  ex_.RunFor(seconds(1));
  EXPECT_EQ(rec_.find(again)->at - t1, microseconds(450));
}

TEST_F(SimTest, CountersPerPortCountWhatArrived) {
  auto a = Connected(1);
  auto b = Connected(2);
  const auto data = Pattern(1, 1024);
  std::vector<std::byte> buf(512);
  a->Submit(WriteCommand(0, 0, data), &Recorder::Fn, &rec_);
  a->Submit(ReadCommand(0, 0, buf), &Recorder::Fn, &rec_);
  b->Submit(ReadCommand(0, 0, buf), &Recorder::Fn, &rec_);
  ex_.RunFor(seconds(1));
  const PortCounters c1 = fabric_.Counters(1);
  EXPECT_EQ(c1.commands, 2U);
  EXPECT_EQ(c1.bytes_out, 1024U);
  EXPECT_EQ(c1.bytes_in, 512U);
  EXPECT_EQ(c1.logins, 1U);
  EXPECT_EQ(fabric_.Counters(2).commands, 1U);
  EXPECT_EQ(fabric_.Counters(2).bytes_out, 0U);
}

TEST_F(SimTest, CommandTimeoutUsesTheNexusDefaultOrTheCommandsOwn) {
  SimNexusOptions o;
  o.command_timeout = seconds(2);
  auto n = Connected(1, o);
  fabric_.Hang(1);
  std::vector<std::byte> buf(512);
  const TimePoint t0 = ex_.Now();
  const TaskTag by_default = n->Submit(ReadCommand(0, 0, buf), &Recorder::Fn, &rec_);
  Command own = ReadCommand(0, 0, buf);
  own.timeout_ms = 500;
  const TaskTag by_command = n->Submit(own, &Recorder::Fn, &rec_);
  ex_.RunFor(seconds(10));
  EXPECT_EQ(rec_.find(by_command)->at - t0, milliseconds(500));
  EXPECT_EQ(rec_.find(by_default)->at - t0, seconds(2));
  EXPECT_EQ(rec_.find(by_default)->result.outcome, Outcome::kTimeout);
  // The late answer after Release does not complete them a second time.
  fabric_.Release(1);
  ex_.RunFor(seconds(1));
  EXPECT_EQ(rec_.count(), 2U);
  EXPECT_EQ(n->state(), NexusState::kConnected);  // a hang is not a connection loss
}

// ---- drop -----------------------------------------------------------------------

TEST_F(SimTest, DropCompletesOutstandingCommandsConnectionLostAndLosesTheLinksData) {
  auto n = Connected(1);
  std::vector<NexusState> told;
  n->SetStateListener([&](NexusState s) { told.push_back(s); });
  const auto data = Pattern(5);
  const TaskTag w = n->Submit(WriteCommand(0, 1, data), &Recorder::Fn, &rec_);
  std::optional<TmfResponse> tmf;
  n->AbortTask(12345, [&](TmfResponse r) { tmf = r; });
  ex_.RunFor(microseconds(50));  // still on the wire
  fabric_.Drop(1);
  ex_.RunUntilIdle();
  ASSERT_EQ(rec_.count(w), 1U);
  EXPECT_EQ(rec_.find(w)->result.outcome, Outcome::kConnectionLost);
  ASSERT_TRUE(tmf);
  EXPECT_EQ(*tmf, TmfResponse::kNotConnected);  // sent, never answered: no fence
  EXPECT_EQ(n->state(), NexusState::kFailed);
  EXPECT_EQ(told, std::vector<NexusState>{NexusState::kFailed});
  ex_.RunFor(seconds(60));
  EXPECT_EQ(server_.executed_writes(1), 0U);  // lost with the connection
  EXPECT_EQ(rec_.count(), 1U);

  const TaskTag after = n->Submit(WriteCommand(0, 1, data), &Recorder::Fn, &rec_);
  ex_.RunUntilIdle();
  EXPECT_EQ(rec_.find(after)->result.outcome, Outcome::kNotSent);
}

TEST_F(SimTest, DropAfterArrivalLetsTheTargetExecuteButTheAnswerIsLost) {
  fabric_.SetLinkModel(1, LinkModel{kLatency, 0, milliseconds(1)});
  auto n = Connected(1);
  const auto data = Pattern(5);
  const TaskTag w = n->Submit(WriteCommand(0, 2, data), &Recorder::Fn, &rec_);
  ex_.RunFor(microseconds(500));  // in the target's task set
  fabric_.Drop(1);
  ex_.RunFor(seconds(1));
  EXPECT_EQ(rec_.find(w)->result.outcome, Outcome::kConnectionLost);
  EXPECT_EQ(server_.executed_writes(2), 1U);  // why connection loss is not a fence
  EXPECT_EQ(rec_.count(), 1U);
}

TEST_F(SimTest, ReconnectAfterDropIsANewSessionAndTheOldOneIsDetached) {
  auto n = Connected(1);
  const ItNexusId old_session = n->session();
  fabric_.Drop(1);
  ex_.RunUntilIdle();
  EXPECT_EQ(n->state(), NexusState::kFailed);
  auto s = ConnectNow(ex_, *n);
  ASSERT_TRUE(s && s->ok());
  EXPECT_NE(n->session(), old_session);
  EXPECT_EQ(server_.detached, std::vector<ItNexusId>{old_session});
  std::vector<std::byte> buf(512);
  const TaskTag r = n->Submit(ReadCommand(0, 0, buf), &Recorder::Fn, &rec_);
  ex_.RunFor(seconds(1));
  EXPECT_EQ(rec_.find(r)->result.outcome, Outcome::kCompleted);
  EXPECT_EQ(server_.executed.back().nexus, n->session());
}

TEST_F(SimTest, RefuseReconnectFailsConnectWithAClearStatusUntilRestored) {
  auto n = Connected(1);
  fabric_.Drop(1);
  fabric_.RefuseReconnect(1);
  ex_.RunUntilIdle();
  auto s = ConnectNow(ex_, *n);
  ASSERT_TRUE(s);
  EXPECT_TRUE(s->Is(NtStatus::kDeviceNotReady)) << s->ToString();
  EXPECT_NE(s->message().find("port 1"), std::string::npos) << s->message();
  EXPECT_EQ(n->state(), NexusState::kFailed);
  EXPECT_EQ(server_.detached.size(), 0U);  // a refused login reinstates nothing

  // Other ports still take logins.
  auto other = fabric_.CreateNexus(ex_, 2);
  auto s2 = ConnectNow(ex_, *other);
  EXPECT_TRUE(s2 && s2->ok());

  fabric_.Restore(1);
  auto s3 = ConnectNow(ex_, *n);
  ASSERT_TRUE(s3);
  EXPECT_TRUE(s3->ok()) << s3->ToString();
  EXPECT_EQ(n->state(), NexusState::kConnected);
}

TEST_F(SimTest, ConnectionLostDuringLoginFailsTheConnect) {
  auto n = fabric_.CreateNexus(ex_, 1);
  std::optional<Status> got;
  n->Connect([&](const Status& s) { got = s; });
  fabric_.Drop(1);
  ex_.RunFor(seconds(1));
  ASSERT_TRUE(got);
  EXPECT_TRUE(got->Is(NtStatus::kDeviceNotReady));
  EXPECT_EQ(n->state(), NexusState::kFailed);
}

// ---- hang -----------------------------------------------------------------------

TEST_F(SimTest, HangHoldsCommandsInTheLinkAndReleaseDeliversThemLate) {
  auto n = Connected(1);
  fabric_.Hang(1);
  const auto data = Pattern(11);
  Command c = WriteCommand(0, 4, data);
  c.timeout_ms = 1000;
  const TaskTag w = n->Submit(c, &Recorder::Fn, &rec_);
  ex_.RunFor(seconds(5));
  EXPECT_EQ(rec_.find(w)->result.outcome, Outcome::kTimeout);
  EXPECT_EQ(server_.executed_writes(4), 0U);  // held in the link, not in the array
  EXPECT_EQ(fabric_.Counters(1).commands, 0U);

  fabric_.Release(1);
  ex_.RunUntilIdle();
  EXPECT_EQ(server_.executed_writes(4), 1U);  // the late delivery reaches the array
  EXPECT_EQ(std::memcmp(server_.disk[0].data() + 4 * 512, data.data(), 512), 0);
  ex_.RunFor(seconds(1));
  EXPECT_EQ(rec_.count(w), 1U);
}

TEST_F(SimTest, HangHoldsAnswersTooAndKeepsTheirOrder) {
  auto n = Connected(1);
  std::vector<std::byte> b1(512), b2(512);
  const TaskTag r1 = n->Submit(ReadCommand(0, 0, b1), &Recorder::Fn, &rec_);
  const TaskTag r2 = n->Submit(ReadCommand(0, 1, b2), &Recorder::Fn, &rec_);
  ex_.RunFor(microseconds(150));  // both executed; answers on the way back
  EXPECT_EQ(server_.executed.size(), 2U);
  fabric_.Hang(1);
  ex_.RunFor(seconds(10));
  EXPECT_EQ(rec_.count(), 0U);
  fabric_.Release(1);
  ex_.RunUntilIdle();
  ASSERT_EQ(rec_.count(), 2U);
  EXPECT_EQ(rec_.all()[0].tag, r1);
  EXPECT_EQ(rec_.all()[1].tag, r2);
  EXPECT_EQ(rec_.all()[0].result.outcome, Outcome::kCompleted);
}

TEST_F(SimTest, HangOfOnePortLeavesTheOtherAlone) {
  auto a = Connected(1);
  auto b = Connected(2);
  fabric_.Hang(1);
  std::vector<std::byte> buf(512);
  Recorder rec_b(ex_);  // tags are unique per nexus only
  const TaskTag ra = a->Submit(ReadCommand(0, 0, buf), &Recorder::Fn, &rec_);
  const TaskTag rb = b->Submit(ReadCommand(0, 0, buf), &Recorder::Fn, &rec_b);
  ex_.RunFor(milliseconds(1));
  EXPECT_EQ(rec_.find(ra), nullptr);
  ASSERT_NE(rec_b.find(rb), nullptr);
  EXPECT_EQ(rec_b.find(rb)->result.outcome, Outcome::kCompleted);
}

TEST_F(SimTest, DropWhileHungStrandsTheDataAndReleaseDeliversItToTheStillOpenSession) {
  auto n = Connected(1);
  const ItNexusId session = n->session();
  fabric_.Hang(1);
  const auto data = Pattern(21);
  const TaskTag w = n->Submit(WriteCommand(0, 6, data), &Recorder::Fn, &rec_);
  fabric_.Drop(1);
  ex_.RunUntilIdle();
  EXPECT_EQ(rec_.find(w)->result.outcome, Outcome::kConnectionLost);
  ex_.RunFor(seconds(60));
  EXPECT_EQ(server_.executed_writes(6), 0U);
  // No reinstatement happened: the target still holds the old session, so
  // the stranded write executes when the link lets it go.
  fabric_.Release(1);
  ex_.RunUntilIdle();
  ASSERT_EQ(server_.executed_writes(6), 1U);
  EXPECT_EQ(server_.executed.back().nexus, session);
  EXPECT_EQ(rec_.count(w), 1U);
}

TEST_F(SimTest, ReinstatementDiscardsTheOldSessionsCommandsStillHeldInTheLink) {
  auto n = Connected(1);
  const ItNexusId old_session = n->session();
  fabric_.Hang(1);
  const auto data = Pattern(31);
  const TaskTag w = n->Submit(WriteCommand(0, 7, data), &Recorder::Fn, &rec_);
  fabric_.Drop(1);
  ex_.RunUntilIdle();
  EXPECT_EQ(rec_.find(w)->result.outcome, Outcome::kConnectionLost);

  // The fence: a successful reconnect reinstates the session (same initiator
  // and ISID), the target ends the old one.
  auto s = ConnectNow(ex_, *n);
  ASSERT_TRUE(s && s->ok()) << (s ? s->ToString() : "none");
  EXPECT_EQ(server_.detached, std::vector<ItNexusId>{old_session});

  fabric_.Release(1);
  ex_.RunFor(seconds(1));
  EXPECT_EQ(server_.executed_writes(7), 0U);
  EXPECT_EQ(fabric_.Counters(1).discarded, 1U);
  EXPECT_EQ(rec_.count(w), 1U);
  // The new session works.
  std::vector<std::byte> buf(512);
  const TaskTag r = n->Submit(ReadCommand(0, 7, buf), &Recorder::Fn, &rec_);
  ex_.RunFor(seconds(1));
  EXPECT_EQ(rec_.find(r)->result.outcome, Outcome::kCompleted);
  EXPECT_EQ(buf, std::vector<std::byte>(512));  // still zero: the old write never landed
}

// ---- task management ------------------------------------------------------------

TEST_F(SimTest, AbortOfAWriteHeldByAHungPortMeansItIsNeverApplied) {
  auto n = Connected(1);
  fabric_.Hang(1);
  const auto data = Pattern(41);
  const TaskTag w = n->Submit(WriteCommand(0, 9, data), &Recorder::Fn, &rec_);
  std::optional<TmfResponse> tmf;
  n->AbortTask(w, [&](TmfResponse r) { tmf = r; });
  ex_.RunFor(seconds(5));
  EXPECT_FALSE(tmf);  // the TMF is held behind the write, in the same link
  EXPECT_EQ(rec_.count(), 0U);
  fabric_.Release(1);
  ex_.RunFor(seconds(1));
  ASSERT_TRUE(tmf);
  EXPECT_EQ(*tmf, TmfResponse::kFunctionComplete);
  EXPECT_TRUE(IsFence(*tmf));
  ASSERT_EQ(rec_.count(w), 1U);
  EXPECT_EQ(rec_.find(w)->result.outcome, Outcome::kAborted);
  EXPECT_EQ(server_.executed_writes(9), 0U);
  ex_.RunFor(seconds(60));
  EXPECT_EQ(server_.executed_writes(9), 0U);
}

TEST_F(SimTest, AbortOfATimedOutWriteStillFencesIt) {
  auto n = Connected(1);
  fabric_.Hang(1);
  const auto data = Pattern(42);
  Command c = WriteCommand(0, 10, data);
  c.timeout_ms = 100;
  const TaskTag w = n->Submit(c, &Recorder::Fn, &rec_);
  ex_.RunFor(seconds(1));
  EXPECT_EQ(rec_.find(w)->result.outcome, Outcome::kTimeout);
  std::optional<TmfResponse> tmf;
  n->AbortTask(w, [&](TmfResponse r) { tmf = r; });
  fabric_.Release(1);
  ex_.RunFor(seconds(1));
  ASSERT_TRUE(tmf);
  EXPECT_EQ(*tmf, TmfResponse::kFunctionComplete);
  EXPECT_EQ(server_.executed_writes(10), 0U);
  EXPECT_EQ(rec_.count(w), 1U);
}

TEST_F(SimTest, AbortOfATaskWaitingInTheTaskSetRemovesIt) {
  fabric_.SetLinkModel(1, LinkModel{kLatency, 0, milliseconds(5)});
  auto n = Connected(1);
  const auto data = Pattern(43);
  const TaskTag w = n->Submit(WriteCommand(0, 11, data), &Recorder::Fn, &rec_);
  ex_.RunFor(microseconds(150));
  std::optional<TmfResponse> tmf;
  n->AbortTask(w, [&](TmfResponse r) { tmf = r; });
  ex_.RunFor(seconds(1));
  ASSERT_TRUE(tmf);
  EXPECT_EQ(*tmf, TmfResponse::kFunctionComplete);
  EXPECT_EQ(rec_.find(w)->result.outcome, Outcome::kAborted);
  EXPECT_EQ(server_.executed_writes(11), 0U);
}

TEST_F(SimTest, AbortAfterExecutionIsTaskDoesNotExistAndTheAnswerWinsTheRace) {
  auto n = Connected(1);
  const auto data = Pattern(44);
  const TaskTag w = n->Submit(WriteCommand(0, 12, data), &Recorder::Fn, &rec_);
  ex_.RunFor(microseconds(150));  // executed at 100 us, answer on its way
  std::optional<TmfResponse> tmf;
  n->AbortTask(w, [&](TmfResponse r) { tmf = r; });
  ex_.RunFor(seconds(1));
  ASSERT_TRUE(tmf);
  EXPECT_EQ(*tmf, TmfResponse::kTaskDoesNotExist);
  EXPECT_EQ(rec_.find(w)->result.outcome, Outcome::kCompleted);
  EXPECT_EQ(server_.executed_writes(12), 1U);
}

TEST_F(SimTest, TmfNeverAnsweredTimesOutAndIsNotAFence) {
  SimNexusOptions o;
  o.tmf_timeout = seconds(3);
  auto n = Connected(1, o);
  fabric_.Hang(1);
  std::optional<TmfResponse> tmf;
  const TimePoint t0 = ex_.Now();
  TimePoint at{};
  n->AbortTask(777, [&](TmfResponse r) {
    tmf = r;
    at = ex_.Now();
  });
  ex_.RunFor(seconds(10));
  ASSERT_TRUE(tmf);
  EXPECT_EQ(*tmf, TmfResponse::kTimeout);
  EXPECT_EQ(at - t0, seconds(3));
  EXPECT_FALSE(IsFence(*tmf));
}

TEST_F(SimTest, LuResetAbortsEveryTaskOfThatLuFromEveryNexus) {
  fabric_.SetLinkModel(1, LinkModel{kLatency, 0, milliseconds(10)});
  fabric_.SetLinkModel(2, LinkModel{kLatency, 0, milliseconds(10)});
  auto a = Connected(1);
  auto b = Connected(2);
  const auto data = Pattern(51);
  Recorder rec_b(ex_);  // tags are unique per nexus only
  const TaskTag wa = a->Submit(WriteCommand(0, 20, data), &Recorder::Fn, &rec_);
  const TaskTag wb = b->Submit(WriteCommand(0, 21, data), &Recorder::Fn, &rec_b);
  const TaskTag other_lu = b->Submit(WriteCommand(1, 22, data), &Recorder::Fn, &rec_b);
  ex_.RunFor(microseconds(200));  // all three wait in the task set (10 ms service)
  EXPECT_TRUE(server_.executed.empty());
  std::optional<TmfResponse> tmf;
  a->LogicalUnitReset(0, [&](TmfResponse r) { tmf = r; });
  ex_.RunFor(seconds(1));
  ASSERT_TRUE(tmf);
  EXPECT_EQ(*tmf, TmfResponse::kFunctionComplete);
  ASSERT_EQ(server_.lu_resets.size(), 1U);
  EXPECT_EQ(server_.lu_resets[0], std::make_pair(a->session(), std::uint64_t{0}));
  EXPECT_EQ(rec_.find(wa)->result.outcome, Outcome::kAborted);
  // Another nexus's task: TASK ABORTED status (TAS=1), through its own link.
  EXPECT_EQ(rec_b.find(wb)->result.outcome, Outcome::kCompleted);
  EXPECT_EQ(rec_b.find(wb)->result.status, scsi::ScsiStatus::kTaskAborted);
  EXPECT_EQ(rec_b.find(other_lu)->result.status, scsi::ScsiStatus::kGood);
  EXPECT_EQ(server_.executed_writes(20), 0U);
  EXPECT_EQ(server_.executed_writes(21), 0U);
  EXPECT_EQ(server_.executed_writes(22), 1U);
}

TEST_F(SimTest, LuResetDoesNotReachCommandsStillHeldInAnotherPortsLink) {
  auto a = Connected(1);
  auto b = Connected(2);
  fabric_.Hang(2);
  const auto data = Pattern(52);
  const TaskTag wb = b->Submit(WriteCommand(0, 23, data), &Recorder::Fn, &rec_);
  std::optional<TmfResponse> tmf;
  a->LogicalUnitReset(0, [&](TmfResponse r) { tmf = r; });
  ex_.RunFor(seconds(1));
  ASSERT_TRUE(tmf);
  EXPECT_EQ(*tmf, TmfResponse::kFunctionComplete);
  fabric_.Release(2);
  ex_.RunFor(seconds(1));
  // DESIGN.md "Write fencing": a LU reset covers only what the target has.
  EXPECT_EQ(server_.executed_writes(23), 1U);
  EXPECT_EQ(rec_.find(wb)->result.status, scsi::ScsiStatus::kGood);
}

TEST_F(SimTest, LuResetOfAnUnknownLunIsLunDoesNotExist) {
  auto n = Connected(1);
  std::optional<TmfResponse> tmf;
  n->LogicalUnitReset(5, [&](TmfResponse r) { tmf = r; });
  ex_.RunFor(seconds(1));
  ASSERT_TRUE(tmf);
  EXPECT_EQ(*tmf, TmfResponse::kLunDoesNotExist);
}

// ---- logout ---------------------------------------------------------------------

TEST_F(SimTest, LogoutCompletesWhatTheTargetStillHeldAbortedThenAnswers) {
  fabric_.SetLinkModel(1, LinkModel{kLatency, 0, milliseconds(10)});
  auto n = Connected(1);
  const ItNexusId session = n->session();
  const auto data = Pattern(61);
  const TaskTag w = n->Submit(WriteCommand(0, 30, data), &Recorder::Fn, &rec_);
  std::optional<Status> got;
  std::size_t completions_at_callback = 0;
  n->Logout([&](const Status& s) {
    got = s;
    completions_at_callback = rec_.count();
  });
  const TaskTag refused = n->Submit(WriteCommand(0, 31, data), &Recorder::Fn, &rec_);
  ex_.RunFor(seconds(1));
  ASSERT_TRUE(got);
  EXPECT_TRUE(got->ok());
  EXPECT_EQ(rec_.find(w)->result.outcome, Outcome::kAborted);
  EXPECT_EQ(rec_.find(refused)->result.outcome, Outcome::kNotSent);
  EXPECT_EQ(completions_at_callback, 2U);  // outstanding commands complete first
  EXPECT_EQ(n->state(), NexusState::kDisconnected);
  EXPECT_EQ(server_.detached, std::vector<ItNexusId>{session});
  EXPECT_EQ(server_.executed_writes(30), 0U);
}

TEST_F(SimTest, LogoutWhenFailedSucceedsLocally) {
  auto n = Connected(1);
  fabric_.Drop(1);
  ex_.RunUntilIdle();
  auto s = RunStatusCall(ex_, &TransportNexus::Logout, *n);
  ASSERT_TRUE(s);
  EXPECT_TRUE(s->ok());
  EXPECT_EQ(n->state(), NexusState::kDisconnected);
}

TEST_F(SimTest, DestroyingANexusWithHeldDataIsSafe) {
  auto n = Connected(1);
  fabric_.Hang(1);
  const auto data = Pattern(71);
  n->Submit(WriteCommand(0, 40, data), &Recorder::Fn, &rec_);
  fabric_.Drop(1);
  ex_.RunUntilIdle();
  n.reset();
  fabric_.Release(1);
  ex_.RunFor(seconds(60));
  EXPECT_EQ(server_.executed_writes(40), 0U);
  EXPECT_EQ(server_.live.size(), 0U);
}

// ---- on a real thread ---------------------------------------------------------------

// The same nexus on a Reactor: callbacks run on its thread, and fault
// control from the test's thread reaches the nexus through its executor.
TEST(SimOnReactor, CallbacksRunOnTheExecutorThreadAndDropIsDelivered) {
  FakeServer server;
  Reactor ex;
  SimFabric fabric(server, "iqn.thread");
  fabric.AddPort(1, LinkModel{microseconds(50), 0, Duration::zero()});
  std::unique_ptr<SimNexus> n;
  std::vector<std::byte> buf(512);

  struct Ctx {
    Reactor* ex;
    std::promise<std::pair<bool, Outcome>> done;
  } ctx{&ex, {}};
  auto fn = [](void* c, TaskTag, const Result& r) {
    auto* self = static_cast<Ctx*>(c);
    self->done.set_value({self->ex->InExecutorThread(), r.outcome});
  };
  std::promise<NexusState> failed;
  ex.Post([&] {
    n = fabric.CreateNexus(ex, 1);
    n->SetStateListener([&](NexusState st) { failed.set_value(st); });
    n->Connect([&, fn](const Status& st) {
      EXPECT_TRUE(st.ok());
      n->Submit(ReadCommand(0, 0, buf), fn, &ctx);
    });
  });
  auto got = ctx.done.get_future();
  ASSERT_EQ(got.wait_for(seconds(10)), std::future_status::ready);
  const auto [on_thread, outcome] = got.get();
  EXPECT_TRUE(on_thread);
  EXPECT_EQ(outcome, Outcome::kCompleted);

  fabric.Drop(1);  // from this thread
  auto f = failed.get_future();
  ASSERT_EQ(f.wait_for(seconds(10)), std::future_status::ready);
  EXPECT_EQ(f.get(), NexusState::kFailed);

  std::promise<void> gone;
  ex.Post([&] {
    n.reset();  // destroyed on its executor's thread
    gone.set_value();
  });
  ASSERT_EQ(gone.get_future().wait_for(seconds(10)), std::future_status::ready);
  ex.Stop();
  EXPECT_EQ(server.executed.size(), 1U);
}

// ---- properties -------------------------------------------------------------------

// Whatever the faults and their order, every submitted command completes
// exactly once, never inside Submit, and the nexus ends usable after Restore.
RC_GTEST_PROP(SimProperty, EveryCommandCompletesExactlyOnceUnderRandomFaults, ()) {
  ManualExecutor ex;
  FakeServer server;
  SimFabric fabric(server, "iqn.prop");
  fabric.AddPort(1, LinkModel{microseconds(*rc::gen::inRange(0, 500)),
                              static_cast<std::uint64_t>(*rc::gen::inRange(0, 3)) * 1'000'000,
                              microseconds(*rc::gen::inRange(0, 300))});
  SimNexusOptions o;
  o.command_timeout = milliseconds(*rc::gen::inRange(1, 50));
  o.tmf_timeout = milliseconds(20);
  auto n = fabric.CreateNexus(ex, 1, o);
  Recorder rec(ex);
  std::vector<TaskTag> tags;
  std::vector<std::byte> data(512, std::byte{1});
  std::vector<std::byte> buf(512);

  const int steps = *rc::gen::inRange(1, 60);
  for (int i = 0; i < steps; ++i) {
    switch (*rc::gen::inRange(0, 9)) {
      case 0:
        n->Connect([](const Status&) {});
        break;
      case 1:
        fabric.Drop(1);
        break;
      case 2:
        fabric.Hang(1);
        break;
      case 3:
        fabric.Release(1);
        break;
      case 4:
        if (!tags.empty()) n->AbortTask(tags.back(), [](TmfResponse) {});
        break;
      case 5:
        n->LogicalUnitReset(0, [](TmfResponse) {});
        break;
      case 6:
        ex.RunFor(microseconds(*rc::gen::inRange(0, 20000)));
        break;
      default: {
        const std::size_t before = rec.count();
        tags.push_back(i % 2 == 0 ? n->Submit(WriteCommand(0, 1, data), &Recorder::Fn, &rec)
                                  : n->Submit(ReadCommand(0, 1, buf), &Recorder::Fn, &rec));
        RC_ASSERT(rec.count() == before);  // not inside Submit
        break;
      }
    }
  }
  fabric.Restore(1);
  ex.RunFor(seconds(5));
  for (TaskTag t : tags) RC_ASSERT(rec.count(t) == 1U);
  RC_ASSERT(rec.count() == tags.size());
  RC_ASSERT(n->outstanding() == 0U);

  if (n->state() != NexusState::kConnected) {
    n->Connect([](const Status&) {});
    ex.RunFor(seconds(5));
  }
  RC_ASSERT(n->state() == NexusState::kConnected);
  Command final_read = ReadCommand(0, 1, buf);
  final_read.timeout_ms = 10000;  // the generated timeout may be shorter than a round trip
  const TaskTag last = n->Submit(final_read, &Recorder::Fn, &rec);
  ex.RunFor(seconds(5));
  RC_ASSERT(rec.find(last) != nullptr);
  RC_ASSERT(rec.find(last)->result.outcome == Outcome::kCompleted);
}

}  // namespace
}  // namespace openmpio::transport::sim

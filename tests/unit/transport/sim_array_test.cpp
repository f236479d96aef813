// The sim transport in front of the real array model (src/array): the two
// task-management tests of the issue, with every effect read back through
// the array itself (another nexus, or the unit attention it raised).
#include <gtest/gtest.h>

#include <optional>
#include <vector>

#include "array/array.h"
#include "scsi/sense.h"
#include "sim_helpers.h"

namespace openmpio::transport::sim {
namespace {

using namespace testing;  // NOLINT
using std::chrono::microseconds;
using std::chrono::milliseconds;
using std::chrono::seconds;

class SimArrayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // DemoArrayConfig: ports 1,2 in group 1 (LU 0 Active/Optimized), ports
    // 3,4 in group 2 (LU 0 Active/Non-optimized): all four serve I/O to LU 0.
    auto a = array::Array::Create(array::DemoArrayConfig(4096));
    ASSERT_TRUE(a.has_value()) << a.error().ToString();
    array_ = std::move(*a);
    fabric_ = std::make_unique<SimFabric>(*array_, array_->config().target_name);
    for (std::uint16_t p = 1; p <= 4; ++p) fabric_->AddPort(p, LinkModel{microseconds(100), 0, {}});
  }
  void TearDown() override {
    nexuses_.clear();
    fabric_.reset();
  }

  // A connected nexus whose power-on unit attention (29/00) is consumed on
  // LUs 0 and 1 with REQUEST SENSE (SPC-4 6.29).
  SimNexus& Login(std::uint16_t port) {
    SimNexusOptions o;
    o.isid = 0x023D00000000ULL + port;  // one session per port
    nexuses_.push_back(fabric_->CreateNexus(ex_, port, o));
    SimNexus& n = *nexuses_.back();
    auto s = ConnectNow(ex_, n);
    EXPECT_TRUE(s && s->ok()) << (s ? s->ToString() : "no answer");
    for (std::uint64_t lun = 0; lun < 2; ++lun) {
      std::vector<std::byte> sense(252);
      Command c;
      c.lun = lun;
      c.cdb.length = 6;
      c.cdb.bytes[0] = std::byte{scsi::op::kRequestSense};
      c.cdb.bytes[4] = std::byte{252};
      c.direction = Direction::kFromDevice;
      c.data_in = sense;
      const Result r = Run(n, c);
      EXPECT_EQ(r.status, scsi::ScsiStatus::kGood);
    }
    return n;
  }

  // Submits and runs the executor until that command completes.
  Result Run(SimNexus& n, const Command& c) {
    Recorder rec(ex_);
    const TaskTag tag = n.Submit(c, &Recorder::Fn, &rec);
    for (int i = 0; i < 1000 && rec.find(tag) == nullptr; ++i) ex_.RunFor(milliseconds(1));
    EXPECT_NE(rec.find(tag), nullptr);
    return rec.find(tag) != nullptr ? rec.find(tag)->result : Result{};
  }

  std::vector<std::byte> ReadBlock(SimNexus& n, std::uint64_t lba) {
    std::vector<std::byte> buf(512);
    const Result r = Run(n, ReadCommand(0, lba, buf));
    EXPECT_EQ(r.outcome, Outcome::kCompleted);
    EXPECT_EQ(r.status, scsi::ScsiStatus::kGood);
    return buf;
  }

  void WriteBlock(SimNexus& n, std::uint64_t lba, const std::vector<std::byte>& data) {
    const Result r = Run(n, WriteCommand(0, lba, data));
    EXPECT_EQ(r.outcome, Outcome::kCompleted);
    EXPECT_EQ(r.status, scsi::ScsiStatus::kGood);
  }

  static std::vector<std::byte> Block(std::uint8_t fill) {
    return std::vector<std::byte>(512, std::byte{fill});
  }

  ManualExecutor ex_;
  std::unique_ptr<array::Array> array_;
  std::unique_ptr<SimFabric> fabric_;
  std::vector<std::unique_ptr<SimNexus>> nexuses_;
};

TEST_F(SimArrayTest, AWriteHeldByAHungPortAndThenAbortedIsNotAppliedWhenThePortIsReleased) {
  SimNexus& a = Login(1);
  SimNexus& b = Login(3);  // another port, another group
  WriteBlock(b, 100, Block(0x11));

  fabric_->Hang(1);
  Recorder rec(ex_);
  const auto newer = Block(0x22);
  const TaskTag w = a.Submit(WriteCommand(0, 100, newer), &Recorder::Fn, &rec);
  std::optional<TmfResponse> tmf;
  a.AbortTask(w, [&](TmfResponse r) { tmf = r; });
  ex_.RunFor(seconds(5));
  EXPECT_FALSE(tmf);
  EXPECT_EQ(rec.count(), 0U);
  EXPECT_EQ(ReadBlock(b, 100), Block(0x11));  // held in the link, not in the array

  fabric_->Release(1);
  ex_.RunFor(seconds(1));
  ASSERT_TRUE(tmf);
  EXPECT_EQ(*tmf, TmfResponse::kFunctionComplete);
  ASSERT_EQ(rec.count(w), 1U);
  EXPECT_EQ(rec.find(w)->result.outcome, Outcome::kAborted);
  EXPECT_EQ(ReadBlock(b, 100), Block(0x11));
  ex_.RunFor(seconds(60));
  EXPECT_EQ(ReadBlock(b, 100), Block(0x11));
  EXPECT_EQ(ReadBlock(a, 100), Block(0x11));  // the path works again
}

// The control: the same write, not aborted, does land late — so the test
// above can fail, and a timeout alone is no fence.
TEST_F(SimArrayTest, AWriteHeldByAHungPortThatTimedOutLandsWhenReleased) {
  SimNexus& a = Login(1);
  SimNexus& b = Login(3);
  WriteBlock(b, 100, Block(0x11));
  fabric_->Hang(1);
  Recorder rec(ex_);
  const auto newer = Block(0x22);
  Command c = WriteCommand(0, 100, newer);
  c.timeout_ms = 1000;
  const TaskTag w = a.Submit(c, &Recorder::Fn, &rec);
  ex_.RunFor(seconds(2));
  EXPECT_EQ(rec.find(w)->result.outcome, Outcome::kTimeout);
  EXPECT_EQ(ReadBlock(b, 100), Block(0x11));
  fabric_->Release(1);
  ex_.RunFor(seconds(1));
  EXPECT_EQ(ReadBlock(b, 100), Block(0x22));
}

TEST_F(SimArrayTest, ReinstatementFencesAWriteStrandedInAHungLink) {
  SimNexus& a = Login(1);
  SimNexus& b = Login(3);
  WriteBlock(b, 7, Block(0x33));
  fabric_->Hang(1);
  Recorder rec(ex_);
  const auto newer = Block(0x44);
  const TaskTag w = a.Submit(WriteCommand(0, 7, newer), &Recorder::Fn, &rec);
  fabric_->Drop(1);
  ex_.RunUntilIdle();
  EXPECT_EQ(rec.find(w)->result.outcome, Outcome::kConnectionLost);
  auto s = ConnectNow(ex_, a);
  ASSERT_TRUE(s && s->ok());
  fabric_->Release(1);
  ex_.RunFor(seconds(1));
  EXPECT_EQ(ReadBlock(b, 7), Block(0x33));
}

// SPC-4 4.5: the sense key, ASC and ASCQ of a CHECK CONDITION.
void ExpectResetUnitAttention(const Result& r) {
  ASSERT_EQ(r.outcome, Outcome::kCompleted);
  ASSERT_EQ(r.status, scsi::ScsiStatus::kCheckCondition);
  auto sense = scsi::ParseSense(r.sense_bytes());
  ASSERT_TRUE(sense.has_value());
  EXPECT_EQ(sense->key, scsi::SenseKey::kUnitAttention);
  EXPECT_EQ(sense->asc, 0x29);
  EXPECT_EQ(sense->ascq, 0x03);  // BUS DEVICE RESET FUNCTION OCCURRED
}

TEST_F(SimArrayTest, ALuResetAbortsEverythingAndRaises2903OnEveryNexus) {
  for (std::uint16_t p = 1; p <= 3; ++p) {
    fabric_->SetLinkModel(p, LinkModel{microseconds(100), 0, milliseconds(10)});
  }
  SimNexus& a = Login(1);
  SimNexus& b = Login(2);
  SimNexus& c = Login(3);

  Recorder ra(ex_), rb(ex_), rc(ex_);
  const auto data = Block(0x55);
  const TaskTag wa = a.Submit(WriteCommand(0, 200, data), &Recorder::Fn, &ra);
  const TaskTag wb = b.Submit(WriteCommand(0, 201, data), &Recorder::Fn, &rb);
  const TaskTag wc = c.Submit(WriteCommand(0, 202, data), &Recorder::Fn, &rc);
  ex_.RunFor(microseconds(200));  // all three in the task set (10 ms service time)
  std::optional<TmfResponse> tmf;
  a.LogicalUnitReset(0, [&](TmfResponse r) { tmf = r; });
  ex_.RunFor(seconds(1));

  ASSERT_TRUE(tmf);
  EXPECT_EQ(*tmf, TmfResponse::kFunctionComplete);
  EXPECT_EQ(ra.find(wa)->result.outcome, Outcome::kAborted);
  EXPECT_EQ(rb.find(wb)->result.status, scsi::ScsiStatus::kTaskAborted);
  EXPECT_EQ(rc.find(wc)->result.status, scsi::ScsiStatus::kTaskAborted);

  // Every nexus, the issuer's included (SAM-5 6.3.3), sees 29/03 first.
  for (SimNexus* n : {&a, &b, &c}) {
    Command tur;
    tur.lun = 0;
    tur.cdb.length = 6;  // TEST UNIT READY, SPC-4 6.47: all zero
    ExpectResetUnitAttention(Run(*n, tur));
  }
  // Nothing of the aborted writes landed.
  for (std::uint64_t lba = 200; lba <= 202; ++lba) EXPECT_EQ(ReadBlock(b, lba), Block(0));
}

}  // namespace
}  // namespace openmpio::transport::sim

// What the engine sends, command by command (recording_nexus.h records every
// CDB on its way to the sim): ALUA refresh coalescing (alua_refresh.cpp) and
// the FUA write's fallback where the LU does not report DPOFUA (engine.cpp
// DiskHandle::Write).
#include <gtest/gtest.h>

#include <optional>
#include <vector>

#include "engine/engine_impl.h"
#include "engine/mgmt_access.h"
#include "engine_fixture.h"
#include "recording_nexus.h"

namespace openmpio::engine::testing {
namespace {

class RecordedCommandsTest : public EngineFixture {
 protected:
  // EngineFixture::Build with every nexus wrapped in a RecordingNexus.
  void BuildRecorded(array::ArrayConfig cfg = array::DemoArrayConfig(1U << 16)) {
    Build(std::move(cfg), TestConfig(),
          [this](std::unique_ptr<transport::TransportNexus> n, std::uint16_t port) {
            return std::make_unique<RecordingNexus>(std::move(n), port, &log_);
          });
    ex_.RunFor(seconds(1));  // let discovery's last refreshes settle
    log_.clear();
  }

  [[nodiscard]] std::size_t Count(std::uint8_t opcode) const {
    std::size_t n = 0;
    for (const SentCommand& c : log_) {
      if (c.opcode() == opcode) ++n;
    }
    return n;
  }
  [[nodiscard]] std::size_t Rtpgs() const {
    std::size_t n = 0;
    for (const SentCommand& c : log_) {
      if (c.opcode() == scsi::op::kMaintenanceIn && (c.byte(1) & 0x1F) == 0x0A) ++n;
    }
    return n;
  }

  Status RunWrite(DiskHandle h, std::uint64_t offset, std::span<const std::byte> data, bool fua,
                  std::vector<SentCommand>* seen_at_callback) {
    std::optional<Status> got;
    h.Write(offset, data, fua, [&](const Status& s) {
      got = s;
      *seen_at_callback = log_;
    });
    EXPECT_TRUE(RunUntil([&] { return got.has_value(); }, seconds(30)));
    return got.value_or(Status(NtStatus::kIoTimeout));
  }

  std::vector<SentCommand> log_;
};

// Coalescing: refresh A starts an RTPG; B and C, asked while it is in
// flight, wait for the next one (their unit attention may report a change
// newer than the RTPG in flight) — exactly one more RTPG, sent after the
// first answered, answers both. A later refresh D starts one more.
TEST_F(RecordedCommandsTest, ARefreshAskedWhileOneIsInFlightCausesExactlyOneMoreRtpg) {
  BuildRecorded();
  const std::size_t d0 = DiskOfLu(0);
  std::vector<char> order;
  std::vector<std::size_t> rtpgs_at;
  auto ask = [&](char name) {
    RefreshAlua(*engine_, d0, [&, name](const Status& s) {
      EXPECT_TRUE(s.ok()) << s.ToString();
      order.push_back(name);
      rtpgs_at.push_back(Rtpgs());
    });
  };
  ask('A');
  ex_.RunFor(std::chrono::microseconds(50));  // A's RTPG is in the link
  ASSERT_EQ(Rtpgs(), 1U);
  ASSERT_TRUE(order.empty());
  ask('B');
  ask('C');
  ASSERT_TRUE(RunUntil([&] { return order.size() == 3; }, seconds(5)));
  EXPECT_EQ(order, (std::vector<char>{'A', 'B', 'C'}));
  EXPECT_EQ(rtpgs_at, (std::vector<std::size_t>{1, 2, 2}))
      << "A answered by the first RTPG; B and C by one more, sent after it";
  ex_.RunFor(seconds(5));
  EXPECT_EQ(Rtpgs(), 2U) << "exactly one more RTPG, not one per request";

  ask('D');
  ASSERT_TRUE(RunUntil([&] { return order.size() == 4; }, seconds(5)));
  EXPECT_EQ(Rtpgs(), 3U);
  EXPECT_EQ(log_.size(), 3U) << "nothing but the RTPGs was sent";
}

// A LU that reports DPOFUA: a FUA write is one WRITE(16) with FUA (SBC-3
// 5.40, byte 1 bit 3), nothing else.
TEST_F(RecordedCommandsTest, FuaWriteWithDpofuaIsOneWrite16WithFua) {
  BuildRecorded();
  const std::size_t d0 = DiskOfLu(0);
  ASSERT_TRUE(engine_->Disks()[d0].dpofua);
  std::vector<std::byte> data(4096, std::byte{0x11});
  std::vector<SentCommand> seen;
  ASSERT_TRUE(RunWrite(engine_->Disk(d0), 0, data, true, &seen).ok());
  ASSERT_EQ(seen.size(), 1U);
  EXPECT_EQ(seen[0].opcode(), scsi::op::kWrite16);
  EXPECT_NE(seen[0].byte(1) & 0x08, 0) << "FUA set";
}

// A LU without DPOFUA (the MODE SENSE device-specific parameter said no —
// the array model always reports it, so the test clears the engine's copy,
// which is what discovery would have stored): the FUA write becomes a
// WRITE(16) without FUA, then SYNCHRONIZE CACHE(16) on the same LU, and the
// caller hears only after the SYNCHRONIZE CACHE answered.
TEST_F(RecordedCommandsTest, FuaWriteWithoutDpofuaIsWriteThenSynchronizeCache) {
  BuildRecorded();
  const std::size_t d0 = DiskOfLu(0);
  engine_->impl().disks[d0]->dpofua.store(false);
  std::vector<std::byte> data(4096, std::byte{0x22});
  std::vector<SentCommand> seen;
  ASSERT_TRUE(RunWrite(engine_->Disk(d0), 8192, data, true, &seen).ok());
  ASSERT_EQ(seen.size(), 2U);
  EXPECT_EQ(seen[0].opcode(), scsi::op::kWrite16);
  EXPECT_EQ(seen[0].byte(1) & 0x08, 0) << "no FUA bit where the LU did not report DPOFUA";
  EXPECT_EQ(seen[1].opcode(), scsi::op::kSynchronizeCache16);
  EXPECT_EQ(seen[1].lun, seen[0].lun);
  // A plain write stays a plain write.
  ASSERT_TRUE(RunWrite(engine_->Disk(d0), 8192, data, false, &seen).ok());
  EXPECT_EQ(Count(scsi::op::kSynchronizeCache16), 1U);
  EXPECT_EQ(Count(scsi::op::kWrite16), 2U);
}

// The write of the fallback fails (MEDIUM ERROR): the caller gets that
// error and no SYNCHRONIZE CACHE is sent.
TEST_F(RecordedCommandsTest, FuaFallbackWhoseWriteFailsSendsNoSynchronizeCache) {
  BuildRecorded();
  const std::size_t d0 = DiskOfLu(0);
  engine_->impl().disks[d0]->dpofua.store(false);
  array::FaultSpec f = LuFault(0, array::FaultKind::kSense);
  f.sense.key = scsi::SenseKey::kMediumError;
  f.sense.code = scsi::AscAscq{0x0C, 0x00};  // WRITE ERROR
  f.count = 1;
  ASSERT_TRUE(array_->InjectFault(f, ex_.Now()).has_value());
  std::vector<std::byte> data(4096, std::byte{0x33});
  std::vector<SentCommand> seen;
  const Status s = RunWrite(engine_->Disk(d0), 0, data, true, &seen);
  EXPECT_TRUE(s.Is(NtStatus::kIoDeviceError)) << s.ToString();
  ex_.RunFor(seconds(1));
  EXPECT_EQ(Count(scsi::op::kSynchronizeCache16), 0U);
  EXPECT_EQ(Count(scsi::op::kWrite16), 1U);
}

}  // namespace
}  // namespace openmpio::engine::testing

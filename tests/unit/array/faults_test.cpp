// Injected faults: scope (port / LU), kinds, counts, seeded probability.
#include <gtest/gtest.h>

#include "array_fixture.h"

namespace openmpio::array::testing {
namespace {

TEST_F(ArrayTest, BusyOnOnePortForTwoCommands) {
  const ItNexusId a = Login(1);
  const ItNexusId b = Login(2);
  FaultSpec f;
  f.scope = FaultScope::kPort;
  f.relative_target_port = 1;
  f.kind = FaultKind::kStatus;
  f.status = scsi::ScsiStatus::kBusy;
  f.count = 2;
  ASSERT_TRUE(array_->InjectFault(f, now_).has_value());
  EXPECT_EQ(Send(a, 0, kRead1).response.status, scsi::ScsiStatus::kBusy);
  EXPECT_EQ(Send(a, 0, kInquiry).response.status, scsi::ScsiStatus::kGood);  // media only
  EXPECT_TRUE(Send(b, 0, kRead1).Good());  // other port
  const Reply r = Send(a, 1, kRead1);
  EXPECT_EQ(r.response.status, scsi::ScsiStatus::kBusy);
  EXPECT_EQ(r.response.sense_length, 0);
  EXPECT_TRUE(Send(a, 0, kRead1).Good());  // spent
}

TEST_F(ArrayTest, TaskSetFullOnAllCommandsOfOneLu) {
  const ItNexusId a = Login(1);
  FaultSpec f;
  f.scope = FaultScope::kLogicalUnit;
  f.lun = 1;
  f.kind = FaultKind::kStatus;
  f.status = scsi::ScsiStatus::kTaskSetFull;
  f.commands = FaultCommands::kAll;
  const auto id = array_->InjectFault(f, now_);
  ASSERT_TRUE(id.has_value());
  EXPECT_EQ(Send(a, 1, kInquiry).response.status, scsi::ScsiStatus::kTaskSetFull);
  EXPECT_TRUE(Send(a, 0, kInquiry).Good());
  ASSERT_TRUE(array_->ClearFault(*id).ok());
  EXPECT_TRUE(Send(a, 1, kInquiry).Good());
  EXPECT_FALSE(array_->ClearFault(*id).ok());
}

TEST_F(ArrayTest, DeferredErrorSense) {
  const ItNexusId a = Login(1);
  FaultSpec f;
  f.lun = 0;
  f.kind = FaultKind::kSense;
  f.sense = {scsi::SenseKey::kMediumError, {0x0C, 0x00}, std::nullopt, true};
  f.count = 1;
  ASSERT_TRUE(array_->InjectFault(f, now_).has_value());
  // Response code 71h: a deferred error (SPC-4 4.5.5), 03/0C/00 WRITE ERROR.
  EXPECT_EQ(Send(a, 0, kSyncCache).Sense(), "71 00 03 00 00 00 00 0a 00 00 00 00 0c 00 00 00 00 00");
  EXPECT_TRUE(Send(a, 0, kSyncCache).Good());
}

TEST_F(ArrayTest, TransitionStormForADuration) {
  const ItNexusId a = Login(1);
  FaultSpec f;
  f.scope = FaultScope::kPort;
  f.relative_target_port = 1;
  f.kind = FaultKind::kTransitionStorm;
  f.duration = std::chrono::seconds(5);
  ASSERT_TRUE(array_->InjectFault(f, now_).has_value());
  EXPECT_EQ(Send(a, 0, kRead1).Sense(), FixedSense(2, 0x04, 0x0a));
  EXPECT_EQ(Send(a, 1, kTur).Sense(), FixedSense(2, 0x04, 0x0a));
  now_ += std::chrono::seconds(5);
  EXPECT_TRUE(Send(a, 0, kRead1).Good());
}

TEST_F(ArrayTest, CorruptOnReadDamagesOnlyTheRangeAndNotTheData) {
  const ItNexusId a = Login(1);
  const std::vector<std::byte> data(4 * 512, std::byte{0x42});
  ASSERT_TRUE(Send(a, 0, "8a 00 00 00 00 00 00 00 00 00 00 00 00 04 00 00", data).Good());
  FaultSpec f;
  f.lun = 0;
  f.kind = FaultKind::kCorruptRead;
  f.first_lba = 1;
  f.block_count = 2;
  f.count = 1;
  ASSERT_TRUE(array_->InjectFault(f, now_).has_value());
  const Reply r = Send(a, 0, "88 00 00 00 00 00 00 00 00 00 00 00 00 04 00 00");
  ASSERT_TRUE(r.Good());
  auto block = [&](int i) {
    return std::vector<std::byte>(r.data.begin() + i * 512, r.data.begin() + (i + 1) * 512);
  };
  const std::vector<std::byte> good(512, std::byte{0x42});
  EXPECT_EQ(block(0), good);
  EXPECT_NE(block(1), good);
  EXPECT_NE(block(2), good);
  EXPECT_EQ(block(3), good);
  // The stored data is intact: the next read (fault spent) is clean.
  EXPECT_EQ(Send(a, 0, "88 00 00 00 00 00 00 00 00 00 00 00 00 04 00 00").data, data);
}

TEST_F(ArrayTest, CapacityChangeAnnouncesItself) {
  const ItNexusId a = Login(1);
  FaultSpec f;
  f.lun = 0;
  f.kind = FaultKind::kCapacityChange;
  f.new_blocks = 8192;
  ASSERT_TRUE(array_->InjectFault(f, now_).has_value());
  EXPECT_EQ(Send(a, 0, kReadCapacity).Sense(), FixedSense(6, 0x2a, 0x09));
  EXPECT_EQ(ToHex(std::span<const std::byte>(Send(a, 0, kReadCapacity).data).first(8)),
            "00 00 00 00 00 00 1f ff");
  EXPECT_TRUE(Send(a, 1, kTur).Good());  // LU 1 unaffected
}

TEST_F(ArrayTest, ProbabilityIsDeterministicPerSeed) {
  auto pattern = [this](std::uint64_t seed) {
    ArrayConfig c = DemoArrayConfig(64);
    c.seed = seed;
    Make(c);
    const ItNexusId a = Login(1);
    FaultSpec f;
    f.lun = 0;
    f.kind = FaultKind::kStatus;
    f.probability = 0.5;
    EXPECT_TRUE(array_->InjectFault(f, now_).has_value());
    std::string s;
    for (int i = 0; i < 64; ++i) s += Send(a, 0, kTur).Good() ? '.' : 'B';
    return s;
  };
  const std::string one = pattern(7);
  EXPECT_EQ(one, pattern(7));
  EXPECT_NE(one, pattern(8));
  EXPECT_NE(one.find('B'), std::string::npos);
  EXPECT_NE(one.find('.'), std::string::npos);
}

TEST_F(ArrayTest, BadFaultsAreRefused) {
  FaultSpec f;
  f.scope = FaultScope::kPort;
  f.relative_target_port = 77;
  EXPECT_TRUE(array_->InjectFault(f, now_).error().Is(NtStatus::kInvalidParameter));
  f = FaultSpec{};
  f.status = scsi::ScsiStatus::kGood;
  EXPECT_FALSE(array_->InjectFault(f, now_).has_value());
  f = FaultSpec{};
  f.probability = 0;
  EXPECT_FALSE(array_->InjectFault(f, now_).has_value());
  f = FaultSpec{};
  f.kind = FaultKind::kTransitionStorm;
  EXPECT_FALSE(array_->InjectFault(f, now_).has_value());
}

}  // namespace
}  // namespace openmpio::array::testing

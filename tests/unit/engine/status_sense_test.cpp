// Status carries the target's answer as data (status.h): the sense of a CHECK
// CONDITION and RESERVATION CONFLICT. The errno table at the nbdkit edge
// (runtime::ErrnoFromStatus) reads the data, not the message; the engine
// sets it where it fails a request (request.cpp Describe).
#include <gtest/gtest.h>

#include <utility>

#include "engine_fixture.h"
#include "openmpio/status.h"
#include "with_sense.h"

namespace openmpio::engine::testing {
namespace {

using openmpio::testing::WithSense;

TEST(StatusSense, ABareStatusHasNoSenseAndStaysOneWord) {
  const Status s(NtStatus::kIoDeviceError);
  EXPECT_FALSE(s.sense().has_value());
  EXPECT_FALSE(s.reservation_conflict());
  // The sense and its flag share the code's word: no size, no allocation.
  EXPECT_EQ(sizeof(Status), sizeof(std::uint64_t) + sizeof(std::string));
}

TEST(StatusSense, CopyAndMoveKeepTheSense) {
  Status a = WithSense(0x7, 0x27, 0x07, "disk x: write protect");
  a.SetReservationConflict();
  const Status copy = a;  // NOLINT(performance-unnecessary-copy-initialization)
  ASSERT_TRUE(copy.sense().has_value());
  EXPECT_EQ(*copy.sense(), (SenseCode{0x7, 0x27, 0x07}));
  EXPECT_TRUE(copy.reservation_conflict());
  Status assigned;
  assigned = copy;
  EXPECT_EQ(assigned.sense(), copy.sense());
  const Status moved = std::move(a);
  ASSERT_TRUE(moved.sense().has_value());
  EXPECT_EQ(*moved.sense(), (SenseCode{0x7, 0x27, 0x07}));
  EXPECT_TRUE(moved.reservation_conflict());
  EXPECT_EQ(moved.message(), "disk x: write protect");
  Status move_assigned;
  move_assigned = std::move(assigned);
  EXPECT_EQ(move_assigned.sense(), copy.sense());
}

class StatusSenseEngineTest : public EngineFixture {};

// The engine fails a write answered DATA PROTECT / WRITE PROTECTED with the
// sense as data.
TEST_F(StatusSenseEngineTest, TheEngineSetsTheSenseWhereItFailsARequest) {
  Build();
  array::FaultSpec f = LuFault(0, array::FaultKind::kSense);
  f.sense.key = scsi::SenseKey::kDataProtect;
  f.sense.code = scsi::AscAscq{0x27, 0x00};
  ASSERT_TRUE(array_->InjectFault(f, ex_.Now()).has_value());
  DiskHandle h = engine_->Disk(DiskOfLu(0));
  std::vector<std::byte> buf(512);
  const Status got = RunOne([&](IoCallback cb) { h.Write(0, buf, std::move(cb)); }, seconds(10));
  ASSERT_TRUE(got.Is(NtStatus::kIoDeviceError)) << got.ToString();
  ASSERT_TRUE(got.sense().has_value()) << got.ToString();
  EXPECT_EQ(*got.sense(), (SenseCode{0x7, 0x27, 0x00}));
  EXPECT_FALSE(got.reservation_conflict());
  // The front end's errno reads this data (tests/unit/nbd/errno_test.cpp).
}

TEST_F(StatusSenseEngineTest, ReservationConflictIsData) {
  Build();
  array::FaultSpec f = LuFault(0, array::FaultKind::kStatus);
  f.status = scsi::ScsiStatus::kReservationConflict;
  ASSERT_TRUE(array_->InjectFault(f, ex_.Now()).has_value());
  DiskHandle h = engine_->Disk(DiskOfLu(0));
  std::vector<std::byte> buf(512);
  const Status got = RunOne([&](IoCallback cb) { h.Read(0, buf, std::move(cb)); }, seconds(10));
  EXPECT_TRUE(got.Is(NtStatus::kIoDeviceError)) << got.ToString();
  EXPECT_TRUE(got.reservation_conflict()) << got.ToString();
  EXPECT_FALSE(got.sense().has_value());
}

}  // namespace
}  // namespace openmpio::engine::testing

// Status carries the target's answer as data (status.h): the sense of a CHECK
// CONDITION and RESERVATION CONFLICT. The errno table at the nbdkit edge
// (runtime::ErrnoFromStatus) reads the data, not the message; the engine
// sets it where it fails a request (request.cpp Describe).
#include <gtest/gtest.h>

#include <cerrno>
#include <utility>

#include "engine_fixture.h"
#include "openmpio/status.h"
#include "runtime/runtime.h"

namespace openmpio::engine::testing {
namespace {

using runtime::ErrnoFromStatus;

Status WithSense(std::uint8_t key, std::uint8_t asc, std::uint8_t ascq,
                 std::string message = "disk x: failed") {
  Status s(NtStatus::kIoDeviceError, std::move(message));
  s.SetSense(SenseCode{key, asc, ascq});
  return s;
}

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

// Messages without any "(sense" text: the errno comes from the data alone.
TEST(StatusSense, ErrnoComesFromTheDataNotTheText) {
  EXPECT_EQ(ErrnoFromStatus(WithSense(0x7, 0x27, 0x00)), EPERM);   // WRITE PROTECTED
  EXPECT_EQ(ErrnoFromStatus(WithSense(0x7, 0x27, 0x07)), ENOSPC);  // SPACE ALLOC FAILED
  EXPECT_EQ(ErrnoFromStatus(WithSense(0x5, 0x20, 0x00)), ENOTSUP);
  EXPECT_EQ(ErrnoFromStatus(WithSense(0x5, 0x21, 0x00)), EINVAL);
  EXPECT_EQ(ErrnoFromStatus(WithSense(0x5, 0x24, 0x00)), ENOTSUP);
  EXPECT_EQ(ErrnoFromStatus(WithSense(0x5, 0x26, 0x00)), ENOTSUP);
  EXPECT_EQ(ErrnoFromStatus(WithSense(0x3, 0x11, 0x00)), EIO);  // MEDIUM ERROR
  EXPECT_EQ(ErrnoFromStatus(WithSense(0x5, 0x24, 0x01)), EIO);  // not the listed qualifier
  EXPECT_EQ(ErrnoFromStatus(Status(NtStatus::kIoDeviceError, "disk x: failed")), EIO);
  Status conflict(NtStatus::kIoDeviceError, "disk x: reserved");
  conflict.SetReservationConflict();
  EXPECT_EQ(ErrnoFromStatus(conflict), EIO);
  // The data wins over whatever the text says.
  EXPECT_EQ(ErrnoFromStatus(WithSense(0x7, 0x27, 0x07, "x (sense 5/20/00)")), ENOSPC);
}

class StatusSenseEngineTest : public EngineFixture {};

// The engine fails a write answered DATA PROTECT / WRITE PROTECTED with the
// sense as data; the errno is EPERM with the message never read.
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
  // The same status with its text dropped still maps.
  Status bare(got.nt());
  bare.SetSense(*got.sense());
  EXPECT_EQ(ErrnoFromStatus(bare), EPERM);
  EXPECT_EQ(ErrnoFromStatus(got), EPERM);
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

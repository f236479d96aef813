// The front end's errno table (runtime::ErrnoFromStatus, which the nbdkit
// plugin hands to nbdkit_set_error) reads the target's answer that Status
// carries as data (status.h), never the message text.
#include <gtest/gtest.h>

#include <cerrno>
#include <cstdint>
#include <string>
#include <utility>

#include "openmpio/status.h"
#include "runtime/runtime.h"
#include "with_sense.h"

namespace openmpio::runtime {
namespace {

using openmpio::testing::WithSense;

// Messages without any "(sense" text: the errno comes from the data alone.
TEST(Errno, ErrnoComesFromTheDataNotTheText) {
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

TEST(Errno, AStatusWithItsTextDroppedStillMaps) {
  Status bare(NtStatus::kIoDeviceError);
  bare.SetSense(SenseCode{0x7, 0x27, 0x00});  // DATA PROTECT / WRITE PROTECTED
  EXPECT_EQ(ErrnoFromStatus(bare), EPERM);
}

}  // namespace
}  // namespace openmpio::runtime

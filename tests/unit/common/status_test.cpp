// Status: the NTSTATUS values are Windows' (ntstatus.h), spec/msdsm.md §4.
#include "openmpio/status.h"

#include <gtest/gtest.h>

#include "openmpio/expected.h"

namespace openmpio {
namespace {

TEST(Status, ValuesAreWindowsNtstatus) {
  EXPECT_EQ(static_cast<std::uint32_t>(NtStatus::kSuccess), 0x00000000U);
  EXPECT_EQ(static_cast<std::uint32_t>(NtStatus::kInvalidParameter), 0xC000000DU);
  EXPECT_EQ(static_cast<std::uint32_t>(NtStatus::kNotSupported), 0xC00000BBU);
  EXPECT_EQ(static_cast<std::uint32_t>(NtStatus::kBufferTooSmall), 0xC0000023U);
  EXPECT_EQ(static_cast<std::uint32_t>(NtStatus::kInsufficientResources), 0xC000009AU);
  EXPECT_EQ(static_cast<std::uint32_t>(NtStatus::kObjectNameNotFound), 0xC0000034U);
  EXPECT_EQ(static_cast<std::uint32_t>(NtStatus::kWmiGuidNotFound), 0xC0000295U);
  EXPECT_EQ(static_cast<std::uint32_t>(NtStatus::kWmiInstanceNotFound), 0xC0000296U);
  EXPECT_EQ(static_cast<std::uint32_t>(NtStatus::kWmiItemIdNotFound), 0xC0000297U);
  EXPECT_EQ(static_cast<std::uint32_t>(NtStatus::kNoSuchDevice), 0xC000000EU);
  EXPECT_EQ(static_cast<std::uint32_t>(NtStatus::kInvalidDeviceRequest), 0xC0000010U);
  EXPECT_EQ(static_cast<std::uint32_t>(NtStatus::kIoDeviceError), 0xC0000185U);
  EXPECT_EQ(static_cast<std::uint32_t>(NtStatus::kDeviceNotReady), 0xC00000A3U);
  EXPECT_EQ(static_cast<std::uint32_t>(NtStatus::kIoTimeout), 0xC00000B5U);
}

TEST(Status, DefaultIsSuccess) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.ToString(), "STATUS_SUCCESS (0x00000000)");
}

TEST(Status, NameAndHexAndMessage) {
  Status s(NtStatus::kInvalidParameter, "DSMPathCount 3, LUN has 2 paths");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.Name(), "STATUS_INVALID_PARAMETER");
  EXPECT_EQ(s.ToString(),
            "STATUS_INVALID_PARAMETER (0xC000000D): DSMPathCount 3, LUN has 2 paths");
}

TEST(Status, UnknownCodeGetsAHexName) {
  const Status s = Status::FromCode(0xC0001234);
  EXPECT_EQ(s.Name(), "NTSTATUS_0xC0001234");
  EXPECT_EQ(NtStatusName(0xC0001234), nullptr);
}

TEST(Status, NameLookupBothWays) {
  std::uint32_t code = 0;
  ASSERT_TRUE(NtStatusFromName("STATUS_BUFFER_TOO_SMALL", &code));
  EXPECT_EQ(code, 0xC0000023U);
  EXPECT_FALSE(NtStatusFromName("STATUS_NOPE", &code));
  EXPECT_STREQ(NtStatusName(0xC00000B5), "STATUS_IO_TIMEOUT");
}

TEST(Expected, HoldsValueOrError) {
  Expected<int> good = 7;
  ASSERT_TRUE(good.has_value());
  EXPECT_EQ(*good, 7);
  Expected<int> bad = MakeUnexpected(Status(NtStatus::kNotSupported));
  ASSERT_FALSE(bad.has_value());
  EXPECT_TRUE(bad.error().Is(NtStatus::kNotSupported));
}

}  // namespace
}  // namespace openmpio

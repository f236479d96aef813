// RetryCount, RetryInterval and PDORemovePeriod applied live (mgmt_access.h
// ApplyTimers → Engine::Impl::timers): a management set changes how the next
// requests retry and how long they wait for a path, in virtual time.
#include <gtest/gtest.h>

#include <optional>
#include <vector>

#include "dsm/lb_defaults.h"
#include "engine/mgmt_access.h"
#include "engine_fixture.h"

namespace openmpio::engine::testing {
namespace {

class LiveTimersTest : public EngineFixture {
 protected:
  struct Outcome {
    Status status;
    Duration took{};
    std::uint64_t commands = 0;  // sent on the disk's paths for it
  };

  std::uint64_t Commands(std::size_t d) {
    std::uint64_t n = 0;
    for (const PathCounters& c : PerfOf(*engine_, d)) n += c.commands;
    return n;
  }

  Outcome ReadOnce(std::size_t d) {
    std::vector<std::byte> buf(4096);
    const std::uint64_t before = Commands(d);
    const TimePoint start = ex_.Now();
    std::optional<Status> got;
    TimePoint when{};
    engine_->Disk(d).Read(0, buf, [&](const Status& s) {
      got = s;
      when = ex_.Now();
    });
    EXPECT_TRUE(RunUntil([&] { return got.has_value(); }, seconds(120)));
    return Outcome{got.value_or(Status(NtStatus::kIoTimeout)), when - start, Commands(d) - before};
  }

  static dsm::MpioTimers Timers(std::uint32_t retry_count, std::uint32_t retry_interval,
                                std::uint32_t pdo_remove_period) {
    dsm::MpioTimers t;
    t.retry_count = retry_count;
    t.retry_interval = retry_interval;
    t.pdo_remove_period = pdo_remove_period;
    return t;
  }
};

// BUSY on every command: the read is retried RetryCount times, RetryInterval
// apart, then fails. A set of (1, 3 s) makes the next read send 2 commands
// and fail after 3 s, where the defaults (3, 1 s) sent 4 and took 3 s; a set
// of (5, 1 s) then makes it 6 commands and 5 s.
TEST_F(LiveTimersTest, RetryCountAndIntervalChangeTheNextRequests) {
  Build();
  const std::size_t d0 = DiskOfLu(0);
  array::FaultSpec f = LuFault(0, array::FaultKind::kStatus);
  f.status = scsi::ScsiStatus::kBusy;
  ASSERT_TRUE(array_->InjectFault(f, ex_.Now()).has_value());
  const Duration rtt = std::chrono::microseconds(200);  // the link's round trip

  const Outcome a = ReadOnce(d0);
  EXPECT_TRUE(a.status.Is(NtStatus::kIoDeviceError)) << a.status.ToString();
  EXPECT_EQ(a.commands, 4U);
  EXPECT_EQ(a.took, seconds(3) + 4 * rtt);

  ApplyTimers(*engine_, Timers(1, 3, 20));
  const Outcome b = ReadOnce(d0);
  EXPECT_TRUE(b.status.Is(NtStatus::kIoDeviceError)) << b.status.ToString();
  EXPECT_EQ(b.commands, 2U);
  EXPECT_EQ(b.took, seconds(3) + 2 * rtt);

  ApplyTimers(*engine_, Timers(5, 1, 20));
  const Outcome c = ReadOnce(d0);
  EXPECT_EQ(c.commands, 6U);
  EXPECT_EQ(c.took, seconds(5) + 6 * rtt);
}

// Every path down for good: a read waits the no-path time, then fails with
// STATUS_DEVICE_NOT_READY. After a set of PDORemovePeriod 5 the next read
// fails after 5 s, not 20.
TEST_F(LiveTimersTest, PdoRemovePeriodChangesTheNoPathTimeOfTheNextRequests) {
  Build();
  const std::size_t d0 = DiskOfLu(0);
  for (std::uint16_t p = 1; p <= 4; ++p) {
    fabric_->Drop(p);
    fabric_->RefuseReconnect(p, true);
  }
  // Let the engine notice (every path failed, no usable path).
  ASSERT_TRUE(RunUntil(
      [&] {
        const DiskInfo d = engine_->Disks()[d0];  // a copy: the paths outlive the loop
        for (const PathInfo& p : d.paths) {
          if (p.usable) return false;
        }
        return true;
      },
      seconds(10)));

  const Outcome a = ReadOnce(d0);
  EXPECT_TRUE(a.status.Is(NtStatus::kDeviceNotReady)) << a.status.ToString();
  EXPECT_EQ(a.took, seconds(20));

  ApplyTimers(*engine_, Timers(3, 1, 5));
  const Outcome b = ReadOnce(d0);
  EXPECT_TRUE(b.status.Is(NtStatus::kDeviceNotReady)) << b.status.ToString();
  EXPECT_EQ(b.took, seconds(5));
  EXPECT_EQ(b.commands, 0U);
  for (std::uint16_t p = 1; p <= 4; ++p) fabric_->RefuseReconnect(p, false);
}

}  // namespace
}  // namespace openmpio::engine::testing

// The public library API (include/openmpio/openmpio.h) on the embedded demo:
// names, synchronous and asynchronous I/O, the engine-thread guard, and the
// management calls.
#include <gtest/gtest.h>

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "nbd_harness.h"
#include "openmpio/openmpio.h"

namespace openmpio {
namespace {

using nbdtest::kLu0;

// Two ports, one per target port group; LU 0 (8 MiB, "alpha") owned by group 1.
std::string SmallLibraryConfig() {
  return "[management]\nenabled = false\n[sim]\n" + nbdtest::SimPort(1, 1) +
         nbdtest::SimPort(2, 2) + nbdtest::SimLu(0, "8MiB", 1) + nbdtest::AlphaDisk();
}

TEST(Library, ConfigurationErrorsNameTheFileAndLine) {
  auto c = Configuration::Parse("[sim]\nbogus = 1\n", "x.toml");
  ASSERT_FALSE(c.has_value());
  EXPECT_TRUE(c.error().Is(NtStatus::kInvalidParameter));
  EXPECT_NE(c.error().message().find("x.toml:2"), std::string::npos) << c.error().ToString();
}

TEST(Library, NamesIoAndManagementOnTheDemo) {
  auto config = Configuration::Parse(SmallLibraryConfig(), "small.toml");
  ASSERT_TRUE(config.has_value()) << config.error().ToString();
  auto engine = MultipathEngine::Create(*config);
  ASSERT_TRUE(engine.has_value()) << engine.error().ToString();
  MultipathEngine& e = **engine;

  const auto disks = e.Disks();
  ASSERT_EQ(disks.size(), 1U);
  EXPECT_EQ(disks[0].name, "alpha");
  EXPECT_EQ(disks[0].designator, kLu0);
  EXPECT_EQ(disks[0].size_bytes, 8U << 20);
  EXPECT_EQ(disks[0].block_size, 512U);
  ASSERT_EQ(disks[0].paths.size(), 2U);

  // By alias or designator; unknown names are STATUS_NO_SUCH_DEVICE.
  auto by_alias = e.OpenDisk("alpha");
  ASSERT_TRUE(by_alias.has_value()) << by_alias.error().ToString();
  EXPECT_TRUE(e.OpenDisk(kLu0).has_value());
  auto missing = e.OpenDisk("beta");
  ASSERT_FALSE(missing.has_value());
  EXPECT_TRUE(missing.error().Is(NtStatus::kNoSuchDevice));
  const Disk disk = *by_alias;

  // Asynchronous write; inside its callback (an engine thread) a synchronous
  // call is refused instead of deadlocking, and an asynchronous read works.
  std::vector<std::byte> out(4096, std::byte{0x3C}), in(4096), in2(4096);
  std::mutex m;
  std::condition_variable cv;
  int stage = 0;
  Status write_status, guard_status, read_status;
  disk.Write(8192, out, [&](const Status& s) {
    write_status = s;
    guard_status = disk.Flush();  // synchronous, on an engine thread
    disk.Read(8192, in, [&](const Status& r) {
      std::lock_guard<std::mutex> lock(m);
      read_status = r;
      stage = 1;
      cv.notify_one();
    });
  });
  {
    std::unique_lock<std::mutex> lock(m);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(20), [&] { return stage == 1; }));
  }
  EXPECT_TRUE(write_status.ok()) << write_status.ToString();
  EXPECT_TRUE(guard_status.Is(NtStatus::kInvalidDeviceRequest)) << guard_status.ToString();
  EXPECT_TRUE(read_status.ok()) << read_status.ToString();
  EXPECT_EQ(in, out);

  // Synchronous: trim and write-zeroes read back as zeros; bounds are checked.
  EXPECT_TRUE(disk.Trim(8192, 2048).ok());
  EXPECT_TRUE(disk.WriteZeroes(10240, 1024).ok());
  ASSERT_TRUE(disk.Read(8192, in2).ok());
  for (std::size_t i = 0; i < in2.size(); ++i) {
    ASSERT_EQ(in2[i], i < 3072 ? std::byte{0} : std::byte{0x3C}) << "byte " << i;
  }
  EXPECT_TRUE(disk.Flush().ok());
  EXPECT_TRUE(disk.Read(8U << 20, std::span<std::byte>(in).first(512)).Is(NtStatus::kInvalidParameter));

  // Management: Fail Over Only with a preferred path, reported back.
  const std::uint64_t preferred = disks[0].paths[1].path_id;
  EXPECT_TRUE(e.SetLoadBalancePolicy("alpha", LoadBalancePolicy::kFailOverOnly, preferred).ok());
  auto d = e.Describe("alpha");
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->policy, static_cast<std::uint32_t>(LoadBalancePolicy::kFailOverOnly));
  EXPECT_TRUE(e.SetLoadBalancePolicy("beta", LoadBalancePolicy::kRoundRobin).Is(NtStatus::kNoSuchDevice));

  e.Stop();
  EXPECT_TRUE(e.Disks().empty());
  EXPECT_FALSE(e.OpenDisk("alpha").has_value());
}

TEST(Library, DefaultDiskFailsInsteadOfCrashing) {
  Disk none;
  EXPECT_FALSE(none.valid());
  std::vector<std::byte> b(512);
  EXPECT_TRUE(none.Read(0, b).Is(NtStatus::kNoSuchDevice));
  Status got;
  none.Write(0, b, [&](const Status& s) { got = s; });
  EXPECT_TRUE(got.Is(NtStatus::kNoSuchDevice));
}

}  // namespace
}  // namespace openmpio

// The public library API (include/openmpio/openmpio.h) on the embedded demo:
// names, synchronous and asynchronous I/O, the engine-thread guard, and the
// management calls.
#include <gtest/gtest.h>

#include <cerrno>
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
using nbdtest::kLu1;

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

// What a front end needs to serve a LU (the nbdkit plugin is built on this
// alone): its sizes and capabilities as discovery found them, the request
// flags, and the errno of a failure. LU 0 thick with 512-byte blocks, LU 1
// thin with 4096-byte blocks; the sim reports DPOFUA and a maximum transfer
// of 16384 blocks (array.h), no optimal transfer length, physical = logical.
TEST(Library, SizesCapabilitiesFlagsAndErrnoAreThoseOfTheLu) {
  const std::string text = "[management]\nenabled = false\n[sim]\n" + nbdtest::SimPort(1, 1) +
                           nbdtest::SimPort(2, 2) + nbdtest::SimLu(0, "8MiB", 1) +
                           "provisioning = \"thick\"\n\n" + nbdtest::SimLu(1, "8MiB", 2) +
                           "provisioning = \"thin\"\nblock_size = 4096\n\n" +
                           nbdtest::AlphaDisk();
  auto config = Configuration::Parse(text, "caps.toml");
  ASSERT_TRUE(config.has_value()) << config.error().ToString();
  EXPECT_TRUE(config->Check().ok());
  EXPECT_TRUE(config->path().empty());
  auto engine = MultipathEngine::Create(*config);
  ASSERT_TRUE(engine.has_value()) << engine.error().ToString();
  MultipathEngine& e = **engine;
  EXPECT_GE(e.reactor_threads(), 1U);

  auto thick = e.Describe("alpha");
  auto thin = e.Describe(kLu1);
  ASSERT_TRUE(thick.has_value() && thin.has_value());
  EXPECT_FALSE(thick->can_trim);
  EXPECT_FALSE(thick->can_zero_unmap);
  EXPECT_TRUE(thin->can_trim);
  EXPECT_TRUE(thin->can_zero_unmap);
  EXPECT_TRUE(thick->native_fua);
  EXPECT_EQ(thick->physical_block_bytes, 512U);
  EXPECT_EQ(thin->physical_block_bytes, 4096U);
  EXPECT_EQ(thick->optimal_transfer_bytes, 0U);
  EXPECT_EQ(thick->max_transfer_bytes, 16384U * 512U);
  EXPECT_EQ(thin->max_transfer_bytes, 16384ULL * 4096U);

  auto a = e.OpenDisk("alpha");
  auto b = e.OpenDisk(kLu1);
  ASSERT_TRUE(a.has_value() && b.has_value());
  // FUA and may-unmap: done, and the data reads back.
  std::vector<std::byte> ones(8192, std::byte{0x11}), back(8192);
  EXPECT_TRUE(b->Write(0, ones, IoFlags::kFua).ok());
  ASSERT_TRUE(b->Read(0, back).ok());
  EXPECT_EQ(back, ones);
  EXPECT_TRUE(b->WriteZeroes(4096, 4096, IoFlags::kMayUnmap | IoFlags::kFua).ok());
  ASSERT_TRUE(b->Read(0, back).ok());
  EXPECT_EQ(back[4095], std::byte{0x11});
  EXPECT_EQ(back[4096], std::byte{0});
  EXPECT_EQ(back[8191], std::byte{0});
  // The thick LU ignores may-unmap (it would refuse WRITE SAME with UNMAP).
  EXPECT_TRUE(a->Write(0, ones).ok());
  EXPECT_TRUE(a->WriteZeroes(0, 4096, IoFlags::kMayUnmap).ok());
  ASSERT_TRUE(a->Read(0, back).ok());
  EXPECT_EQ(back[0], std::byte{0});
  EXPECT_EQ(back[4096], std::byte{0x11});

  // Errno: the thick LU refuses UNMAP (ENOTSUP); past the end is EINVAL.
  const Status unmap = a->Trim(0, 4096);
  EXPECT_FALSE(unmap.ok());
  EXPECT_EQ(ErrnoOf(unmap), ENOTSUP) << unmap.ToString();
  const Status past = a->Read(8U << 20, std::span<std::byte>(back).first(512));
  EXPECT_EQ(ErrnoOf(past), EINVAL) << past.ToString();
  EXPECT_EQ(ErrnoOf(OkStatus()), 0);
}

TEST(Library, LoadRemembersTheFileAbsolute) {
  nbdtest::TempDir dir;
  const std::string file = dir / "lib.toml";
  nbdtest::WriteFile(file, SmallLibraryConfig());
  auto config = Configuration::Load(file);
  ASSERT_TRUE(config.has_value()) << config.error().ToString();
  EXPECT_EQ(config->path(), std::filesystem::canonical(file).string());
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

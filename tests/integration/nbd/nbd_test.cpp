// Serving tests: nbdkit with nbdkit-openmpio-plugin.so on a unix socket in a
// temp folder, exercised by real NBD clients (LAB.md "Clients"): nbdinfo,
// qemu-img, qemu-io, nbdcopy, fio --ioengine=nbd, and nbdfuse + loop +
// mkfs.ext4 + mount. Plus the library example, the Runtime's refusal of
// iSCSI targets, and the Status → errno table.
#include <cerrno>
#include <chrono>
#include <functional>
#include <string>

#include "nbd_harness.h"
#include "openmpio/status.h"
#include "runtime/runtime.h"

namespace openmpio::nbdtest {
namespace {

#define START_SERVER(var, dir)                                                      \
  REQUIRE_PROGRAM("nbdkit");                                                        \
  ASSERT_TRUE(std::filesystem::exists(kPlugin)) << "plugin not built: " << kPlugin; \
  Server var(dir);                                                                  \
  ASSERT_TRUE(var.ready()) << "nbdkit did not start:\n" << var.Log()

// ---- the Status → errno table (runtime.h), by hand ----------------------------------

TEST(Errno, TableMapsEachStatusToTheErrnoNbdCarries) {
  using runtime::ErrnoFromStatus;
  EXPECT_EQ(ErrnoFromStatus(OkStatus()), 0);
  EXPECT_EQ(ErrnoFromStatus(InvalidParameter("past the end")), EINVAL);
  EXPECT_EQ(ErrnoFromStatus(Status(NtStatus::kDeviceNotReady, "no usable path")), EIO);
  EXPECT_EQ(ErrnoFromStatus(Status(NtStatus::kIoTimeout)), EIO);
  EXPECT_EQ(ErrnoFromStatus(Status(NtStatus::kNotSupported)), ENOTSUP);
  EXPECT_EQ(ErrnoFromStatus(Status(NtStatus::kInsufficientResources)), ENOMEM);
  // A CHECK CONDITION carries its sense as data (request.cpp Describe); the
  // text is for people and is not read.
  auto sense = [](std::uint8_t k, std::uint8_t a, std::uint8_t q) {
    Status s(NtStatus::kIoDeviceError, "disk x: fail");
    s.SetSense(SenseCode{k, a, q});
    return s;
  };
  EXPECT_EQ(ErrnoFromStatus(sense(0x3, 0x11, 0x00)), EIO);
  EXPECT_EQ(ErrnoFromStatus(sense(0x7, 0x27, 0x00)), EPERM);
  EXPECT_EQ(ErrnoFromStatus(sense(0x7, 0x27, 0x07)), ENOSPC);
  EXPECT_EQ(ErrnoFromStatus(sense(0x5, 0x20, 0x00)), ENOTSUP);
  EXPECT_EQ(ErrnoFromStatus(sense(0x5, 0x24, 0x00)), ENOTSUP);
  EXPECT_EQ(ErrnoFromStatus(sense(0x5, 0x21, 0x00)), EINVAL);
  EXPECT_EQ(ErrnoFromStatus(Status(NtStatus::kIoDeviceError, "disk x: fail (sense 7/27/00)")), EIO)
      << "the text is not parsed";
  EXPECT_EQ(ErrnoFromStatus(Status::FromCode(0xC0001234)), EIO);
}

// ---- the runtime ------------------------------------------------------------------------

// A [[target]] whose portal nobody serves: the login fails (connection
// refused), discovery settles with no disk, and Start says so — bounded, not
// a hang, and nothing left running.
TEST(Runtime, AnIscsiTargetNobodyServesIsNotReadyWithAClearStatus) {
  config::Config c;
  config::IscsiTargetConfig t;
  t.name = "iqn.2024-01.org.example:disk";
  t.portals = {"127.0.0.1:9"};  // discard: nothing listens on loopback
  t.login_timeout = 2;
  c.targets.push_back(t);
  c.management.enabled = false;
  runtime::RuntimeOptions o;
  o.discovery_timeout = std::chrono::seconds(10);
  const auto t0 = std::chrono::steady_clock::now();
  auto rt = runtime::Runtime::Start(c, o);
  ASSERT_FALSE(rt.has_value());
  EXPECT_TRUE(rt.error().Is(NtStatus::kDeviceNotReady)) << rt.error().ToString();
  EXPECT_NE(rt.error().message().find("discovery found no ready multipath disk"), std::string::npos)
      << rt.error().ToString();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(10));
}

TEST(Runtime, DemoStartsDiscoversTwoDisksAndStopsCleanly) {
  auto rt = runtime::Runtime::Start(config::DemoConfig());
  ASSERT_TRUE(rt.has_value()) << rt.error().ToString();
  const auto disks = (*rt)->Disks();
  ASSERT_EQ(disks.size(), 2U);
  for (const auto& d : disks) {
    EXPECT_TRUE(d.ready);
    EXPECT_EQ(d.paths.size(), 4U);
    EXPECT_EQ(d.blocks * d.block_size, 1ULL << 30);
  }
  // Synchronous I/O from this (non-engine) thread, through the sync wrappers.
  engine::DiskHandle h = (*rt)->Disk(0);
  std::vector<std::byte> out(8192), in(8192);
  for (std::size_t i = 0; i < out.size(); ++i)
    out[i] = std::byte(static_cast<std::uint8_t>(i ^ 0x5A));
  ASSERT_TRUE(runtime::SyncWrite(h, 1 << 20, out).ok());
  ASSERT_TRUE(runtime::SyncRead(h, 1 << 20, in).ok());
  EXPECT_EQ(in, out);
  EXPECT_TRUE(runtime::SyncUnmap(h, 1 << 20, 4096).ok());
  ASSERT_TRUE(runtime::SyncRead(h, 1 << 20, in).ok());
  EXPECT_EQ(in[0], std::byte{0});  // the sim's thin LU reads unmapped blocks as zeros (LBPRZ)
  EXPECT_EQ(in[4096], out[4096]);
  EXPECT_EQ(runtime::ErrnoFromStatus(runtime::SyncRead(h, 3, std::span<std::byte>(in).first(512))),
            EINVAL);
  (*rt)->Stop();
  EXPECT_TRUE((*rt)->Disks().empty());
}

// ---- the library example -----------------------------------------------------------------

TEST(Example, BasicIoRunsAndVerifies) {
  const std::string exe = std::string(OPENMPIO_BINARY_DIR) + "/examples/example_basic_io";
  if (!std::filesystem::exists(exe)) GTEST_SKIP() << "build the example_basic_io target first";
  RunResult r = Sh(exe, 50);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("basic_io: wrote, read back and verified 1048576 bytes"),
            std::string::npos)
      << r.output;
}

// ---- nbdkit ----------------------------------------------------------------------------------

TEST(Nbdkit, RefusesATargetWithMorePortalsThanADiskHasPathsBeforeServing) {
  REQUIRE_PROGRAM("nbdkit");
  TempDir dir;
  std::string portals;
  for (int p = 0; p < 65; ++p) {
    portals += (p == 0 ? "\"127.0.0.1:" : ", \"127.0.0.1:") + std::to_string(20000 + p) + "\"";
  }
  WriteFile(dir / "bad.toml",
            "[[target]]\nname = \"iqn.2024-01.org.example:disk\"\nportals = [" + portals + "]\n");
  RunResult r =
      Sh("nbdkit -U " + (dir / "sock") + " " + kPlugin + " config=" + (dir / "bad.toml"), 20);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(
      r.output.find("65 portals; every portal is a path of each LU, and a disk has at most 64"),
      std::string::npos)
      << r.output;
  // Its line (issue 13 item 8).
  EXPECT_NE(r.output.find("bad.toml:1:1: target[0] (iqn.2024-01.org.example:disk)"),
            std::string::npos)
      << r.output;
}

// The plugin's thread settings: out of range or not a number is refused
// before serving; given ones are what the runtime starts with (its debug
// line), and I/O runs on them.
TEST(Nbdkit, ThreadSettingsAreCheckedBeforeServingAndApplied) {
  REQUIRE_PROGRAM("nbdkit");
  REQUIRE_PROGRAM("nbdcopy");
  TempDir dir;
  WriteFile(dir / "ok.toml", SmallConfig());
  for (const char* bad : {"reactors=0", "reactors=65", "reactor-spin-us=10001", "wait-spin-us=x"}) {
    RunResult r = Sh("nbdkit -U " + (dir / "bad.sock") + " " + kPlugin +
                         " config=" + (dir / "ok.toml") + " " + bad,
                     20);
    EXPECT_NE(r.exit_code, 0) << bad;
    EXPECT_NE(r.output.find(std::string(bad).substr(0, std::string(bad).find('='))),
              std::string::npos)
        << bad << ": " << r.output;
  }
  {
    Server server(dir, SmallConfig(), {"-v"},
                  {"reactors=3", "reactor-spin-us=0", "wait-spin-us=10"});
    ASSERT_TRUE(server.ready()) << server.Log();
    RunResult c = Sh("nbdcopy -- [ nbdkit pattern 4M ] \"" + server.Uri("alpha") + "\"");
    EXPECT_EQ(c.exit_code, 0) << c.output;
    EXPECT_TRUE(server.Stop());
    EXPECT_NE(server.Log().find("3 reactor thread(s), reactor spin 0 us, caller spin 10 us"),
              std::string::npos)
        << server.Log();
  }
}

TEST(Nbdinfo, ListsExportsWithSizesBlockSizesAndFlags) {
  REQUIRE_PROGRAM("nbdinfo");
  TempDir dir;
  START_SERVER(server, dir);
  RunResult r = Sh("nbdinfo --list \"" + server.Uri("") + "\"");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  // Export names: the alias from [[disk]], else the LU designator.
  EXPECT_NE(r.output.find("export=\"alpha\""), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("export=\"" + kLu1 + "\""), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("export-size: 67108864"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("export-size: 33554432"), std::string::npos) << r.output;
  // Block sizes: 512-byte LU, VPD 0xB0 maximum transfer length 16384 blocks.
  EXPECT_NE(r.output.find("block_size_minimum: 512"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("block_size_maximum: 8388608"), std::string::npos) << r.output;
  for (const char* flag : {"can_flush: true", "can_fua: true", "can_trim: true", "can_zero: true",
                           "can_fast_zero: true", "can_multi_conn: true", "is_read_only: false"}) {
    EXPECT_NE(r.output.find(flag), std::string::npos) << flag << "\n" << r.output;
  }
  // The default export is the first disk.
  RunResult d = Sh("nbdinfo --size \"" + server.Uri("") + "\"");
  EXPECT_EQ(d.exit_code, 0) << d.output;
  EXPECT_EQ(d.output, "67108864\n");
  // An unknown export name is refused.
  RunResult u = Sh("nbdinfo --size \"" + server.Uri("nosuch") + "\"");
  EXPECT_NE(u.exit_code, 0) << u.output;
  EXPECT_TRUE(server.Stop());
}

TEST(QemuImg, InfoAndConvertRoundTrip) {
  REQUIRE_PROGRAM("qemu-img");
  TempDir dir;
  START_SERVER(server, dir);
  RunResult info = Sh("qemu-img info --output=json \"" + server.Uri("alpha") + "\"");
  ASSERT_EQ(info.exit_code, 0) << info.output;
  EXPECT_NE(info.output.find("\"virtual-size\": 67108864"), std::string::npos) << info.output;

  const std::string pat = dir / "pattern.raw", back = dir / "back.raw";
  ASSERT_EQ(Sh("head -c 67108864 /dev/urandom > " + pat).exit_code, 0);
  RunResult to =
      Sh("qemu-img convert -n -f raw -O raw " + pat + " \"" + server.Uri("alpha") + "\"");
  ASSERT_EQ(to.exit_code, 0) << to.output;
  RunResult from = Sh("qemu-img convert -f raw -O raw \"" + server.Uri("alpha") + "\" " + back);
  ASSERT_EQ(from.exit_code, 0) << from.output;
  RunResult cmp = Sh("cmp " + pat + " " + back);
  EXPECT_EQ(cmp.exit_code, 0) << cmp.output;
  EXPECT_TRUE(server.Stop());
}

TEST(Nbdcopy, BothWaysAndExportToExport) {
  REQUIRE_PROGRAM("nbdcopy");
  TempDir dir;
  START_SERVER(server, dir);
  const std::string pat = dir / "pattern.raw", back = dir / "back.raw", back2 = dir / "back2.raw";
  ASSERT_EQ(Sh("head -c 33554432 /dev/urandom > " + pat).exit_code, 0);
  RunResult to = Sh("nbdcopy " + pat + " \"" + server.Uri(kLu1) + "\"");
  ASSERT_EQ(to.exit_code, 0) << to.output;
  RunResult from = Sh("nbdcopy \"" + server.Uri(kLu1) + "\" " + back);
  ASSERT_EQ(from.exit_code, 0) << from.output;
  EXPECT_EQ(Sh("cmp " + pat + " " + back).exit_code, 0);
  // Export to export: LU 1 (32 MiB) onto the start of LU 0, then read it back.
  RunResult x = Sh("nbdcopy \"" + server.Uri(kLu1) + "\" \"" + server.Uri("alpha") + "\"");
  ASSERT_EQ(x.exit_code, 0) << x.output;
  RunResult b2 = Sh("nbdcopy \"" + server.Uri("alpha") + "\" " + back2);
  ASSERT_EQ(b2.exit_code, 0) << b2.output;
  EXPECT_EQ(Sh("cmp -n 33554432 " + pat + " " + back2).exit_code, 0);
  EXPECT_TRUE(server.Stop());
}

TEST(Fio, RandomWritesVerifiedWithCrc32c) {
  REQUIRE_PROGRAM("fio");
  TempDir dir;
  START_SERVER(server, dir);
  // fio's nbd engine takes the URI; ',' would end the option value, none here.
  RunResult r = Sh("fio --name=verify --ioengine=nbd --uri=\"" + server.Uri("alpha") +
                       "\" --rw=randwrite --bs=4k --size=16M --iodepth=16 --numjobs=1"
                       " --verify=crc32c --verify_state_save=0 --do_verify=1"
                       " --runtime=20 --time_based=0 --output-format=terse",
                   55);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output.find("verify:"), std::string::npos) << r.output;  // fio's verify failures
  EXPECT_TRUE(server.Stop());
}

TEST(CrossClient, WrittenByQemuIoReadByNbdcopyAndZeroedAndTrimmed) {
  REQUIRE_PROGRAM("qemu-io");
  REQUIRE_PROGRAM("nbdcopy");
  TempDir dir;
  START_SERVER(server, dir);
  const std::string uri = "\"" + server.Uri(kLu1) + "\"";
  // qemu-io writes 0xab over [1 MiB, 3 MiB), 0xcd over [3 MiB, 4 MiB).
  RunResult w = Sh("qemu-io -f raw -c \"write -P 0xab 1M 2M\" -c \"write -P 0xcd 3M 1M\" " + uri);
  ASSERT_EQ(w.exit_code, 0) << w.output;
  RunResult c = Sh("nbdcopy " + uri + " " + (dir / "img.raw"));
  ASSERT_EQ(c.exit_code, 0) << c.output;
  // Expected image, built independently with dd/printf-free tools: python-free.
  ASSERT_EQ(Sh("head -c 33554432 /dev/zero > " + (dir / "want.raw") +
               " && head -c 2097152 /dev/zero | tr \"\\\\000\" \"\\\\253\" | dd of=" +
               (dir / "want.raw") + " bs=1M seek=1 conv=notrunc status=none" +
               " && head -c 1048576 /dev/zero | tr \"\\\\000\" \"\\\\315\" | dd of=" +
               (dir / "want.raw") + " bs=1M seek=3 conv=notrunc status=none")
                .exit_code,
            0);
  EXPECT_EQ(Sh("cmp " + (dir / "want.raw") + " " + (dir / "img.raw")).exit_code, 0);
  // qemu-io checks its own reads too, and zero / discard go through our zero / trim.
  RunResult z =
      Sh("qemu-io -f raw -c \"read -P 0xab 1M 2M\" -c \"write -z 1M 1M\""
         " -c \"read -P 0 1M 1M\" -c \"read -P 0xab 2M 1M\" -c \"discard 3M 1M\""
         " -c \"read -P 0 3M 1M\" " +
         uri);
  EXPECT_EQ(z.exit_code, 0) << z.output;
  EXPECT_EQ(z.output.find("Pattern verification failed"), std::string::npos) << z.output;
  EXPECT_EQ(z.output.find("failed"), std::string::npos) << z.output;
  EXPECT_TRUE(server.Stop());
}

// nbdfuse exposes the export as a file; a loop device over it carries ext4.
// Everything is undone in reverse order even when a step fails.
TEST(Fuse, Ext4OnALoopDeviceOverNbdfuse) {
  REQUIRE_PROGRAM("nbdfuse");
  REQUIRE_PROGRAM("losetup");
  REQUIRE_PROGRAM("mkfs.ext4");
  if (::access("/dev/fuse", R_OK | W_OK) != 0) GTEST_SKIP() << "/dev/fuse is not usable here";
  if (::access("/dev/loop-control", R_OK | W_OK) != 0) {
    GTEST_SKIP() << "loop devices are not usable here (/dev/loop-control)";
  }
  TempDir dir;
  START_SERVER(server, dir);
  const std::string fuse_mnt = dir / "fuse", fs_mnt = dir / "fs";
  std::filesystem::create_directory(fuse_mnt);
  std::filesystem::create_directory(fs_mnt);

  std::string loopdev;
  bool fs_mounted = false;
  auto fuse = std::make_unique<Process>(
      std::vector<std::string>{"nbdfuse", "-P", dir / "nbdfuse.pid", fuse_mnt, server.Uri("alpha")},
      dir / "nbdfuse.log");
  struct Cleanup {
    std::function<void()> fn;
    ~Cleanup() { fn(); }
  } cleanup{[&] {
    if (fs_mounted) Sh("umount " + fs_mnt, 20);
    if (!loopdev.empty()) Sh("losetup -d " + loopdev, 20);
    Sh("fusermount3 -u " + fuse_mnt + " || umount -l " + fuse_mnt, 20);
    fuse->Stop();
  }};

  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < end && !std::filesystem::exists(fuse_mnt + "/nbd")) {
    if (!fuse->Running()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  if (!std::filesystem::exists(fuse_mnt + "/nbd")) {
    GTEST_SKIP() << "nbdfuse could not mount here: " << ReadFile(dir / "nbdfuse.log");
  }
  RunResult lo = Sh("losetup -f --show " + fuse_mnt + "/nbd", 20);
  if (lo.exit_code != 0) GTEST_SKIP() << "no loop device available: " << lo.output;
  loopdev = lo.output.substr(0, lo.output.find('\n'));

  RunResult mk = Sh("mkfs.ext4 -q -F " + loopdev, 50);
  ASSERT_EQ(mk.exit_code, 0) << mk.output;
  RunResult mnt = Sh("mount " + loopdev + " " + fs_mnt, 20);
  ASSERT_EQ(mnt.exit_code, 0) << mnt.output;
  fs_mounted = true;
  ASSERT_EQ(Sh("head -c 4194304 /dev/urandom > " + (dir / "payload") + " && cp " +
               (dir / "payload") + " " + fs_mnt + "/payload && sync")
                .exit_code,
            0);
  // Unmount and mount again: the file comes back from the export, not the page cache.
  ASSERT_EQ(Sh("umount " + fs_mnt, 20).exit_code, 0);
  fs_mounted = false;
  ASSERT_EQ(
      Sh("blockdev --flushbufs " + loopdev + "; mount " + loopdev + " " + fs_mnt, 20).exit_code, 0);
  fs_mounted = true;
  EXPECT_EQ(Sh("cmp " + (dir / "payload") + " " + fs_mnt + "/payload").exit_code, 0);
  RunResult fsck_prep = Sh("umount " + fs_mnt, 20);
  EXPECT_EQ(fsck_prep.exit_code, 0) << fsck_prep.output;
  fs_mounted = fsck_prep.exit_code != 0;
  RunResult fsck = Sh("e2fsck -f -n " + loopdev, 50);
  EXPECT_EQ(fsck.exit_code, 0) << fsck.output;
}

}  // namespace
}  // namespace openmpio::nbdtest

// The LU inventory of the embedded array changed while nbdkit serves it
// (mpioctl sim add-lu / resize-lu / remove-lu): the engine hears UA 3F/0E or
// 2A/09 on the next command, rescans or re-reads the capacity, and the plugin
// lists the new disk as an export at the next listing, serves a resized LU
// at its new size to the next connection, and fails I/O to a removed LU.
// Real clients: nbdinfo and qemu-io.
#include <sys/stat.h>

#include <chrono>
#include <string>
#include <thread>

#include "nbd_harness.h"

namespace openmpio::nbdtest {
namespace {

const std::string kMpioctl = std::string(OPENMPIO_BINARY_DIR) + "/tools/mpioctl/mpioctl";
const std::string kLu2 = "naa.60a0b0cfd3763cbb0000000000000002";

std::string Config(const TempDir& dir) {
  return "[management]\nsocket = \"" + (dir / "mgmt.sock") +
         "\"\n\n[timers]\ncommand_timeout = 5\n\n[sim]\n" + SimPort(1, 1) + SimPort(2, 1) +
         SimPort(3, 2) + SimPort(4, 2) + "\n" + SimLu(0, "16MiB", 1) + "\n" +
         SimLu(1, "16MiB", 2) + "\n" + AlphaDisk();
}

// Polls `cmd` (every 100 ms, at most `seconds`) until its output contains `want`.
bool Eventually(const std::string& cmd, const std::string& want, int seconds = 30) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (std::chrono::steady_clock::now() < end) {
    if (Sh(cmd).output.find(want) != std::string::npos) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

TEST(LuChanges, AddedResizedAndRemovedLusReachTheNbdClients) {
  if (!HaveProgram("nbdkit") || !HaveProgram("nbdinfo") || !HaveProgram("qemu-io")) {
    GTEST_SKIP() << "nbdkit, nbdinfo and qemu-io are needed";
  }
  TempDir dir;
  Server server(dir, Config(dir));
  ASSERT_TRUE(server.ready()) << server.Log();
  const std::string sock = dir / "mgmt.sock";
  struct stat st {};
  for (int i = 0; i < 300 && ::stat(sock.c_str(), &st) != 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  const std::string ctl = kMpioctl + " --socket " + sock + " ";
  const std::string list = "nbdinfo --list \"nbd+unix:///?socket=" + server.socket() + "\"";
  // Any command on a disk lets the engine hear the unit attention.
  const std::string touch = "qemu-io -f raw -c \"read 0 4k\" \"" + server.Uri("alpha") + "\"";

  ASSERT_EQ(Sh(list).output.find(kLu2), std::string::npos);
  const RunResult add = Sh(ctl + "sim add-lu 2 8192");
  ASSERT_EQ(add.exit_code, 0) << add.output;
  ASSERT_EQ(Sh(touch).exit_code, 0);
  ASSERT_TRUE(Eventually(list, kLu2)) << Sh(list).output << server.Log();
  const std::string lu2 = "\"" + server.Uri(kLu2) + "\"";
  EXPECT_TRUE(Eventually("nbdinfo --size " + lu2, "4194304"));
  const RunResult io = Sh("qemu-io -f raw -c \"write -P 0x3c 1M 512k\" -c \"read -P 0x3c 1M 512k\" " + lu2);
  EXPECT_EQ(io.exit_code, 0) << io.output;
  EXPECT_EQ(io.output.find("Pattern verification failed"), std::string::npos) << io.output;

  const RunResult grow = Sh(ctl + "sim resize-lu 0 65536");
  ASSERT_EQ(grow.exit_code, 0) << grow.output;
  ASSERT_EQ(Sh(touch).exit_code, 0);
  EXPECT_TRUE(Eventually("nbdinfo --size \"" + server.Uri("alpha") + "\"", "33554432"))
      << Sh("nbdinfo --size \"" + server.Uri("alpha") + "\"").output;
  // The new blocks are usable: past the old 16 MiB end.
  const RunResult far = Sh("qemu-io -f raw -c \"write -P 0x77 20M 64k\" -c \"read -P 0x77 20M 64k\" \"" +
                           server.Uri("alpha") + "\"");
  EXPECT_EQ(far.exit_code, 0) << far.output;
  EXPECT_EQ(far.output.find("Pattern verification failed"), std::string::npos) << far.output;

  const RunResult rm = Sh(ctl + "sim remove-lu 2");
  ASSERT_EQ(rm.exit_code, 0) << rm.output;
  ASSERT_EQ(Sh(touch).exit_code, 0);
  // Once every path has dropped it, its I/O fails at once, not after the
  // no-path time (the engine says why in nbdkit's log).
  EXPECT_TRUE(Eventually("qemu-io -f raw -c \"read 0 4k\" " + lu2 + " || echo READ-FAILED",
                         "READ-FAILED"));
  EXPECT_TRUE(Eventually("cat \"" + (dir / "nbdkit.log") + "\"", "removed from the target"))
      << server.Log();
  // A bad request changes nothing and says why.
  const RunResult dup = Sh(ctl + "sim add-lu 1 8192");
  EXPECT_NE(dup.exit_code, 0) << dup.output;
}

}  // namespace
}  // namespace openmpio::nbdtest

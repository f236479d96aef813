// Partial-block writes against whole-block writes of the same block, from
// two NBD connections at once (issue 13 item 6; plugins/nbdkit/write_order.h).
//
// The LU has 4096-byte blocks. Connection A writes the first 512 bytes of
// block 0 over and over: the plugin reads the block, patches it and writes it
// back (a read-modify-write). Connection B writes the whole block with a
// sequence number n in every byte of bytes 512..4095, then reads those bytes
// back before its next write. A never writes bytes 512..4095 with anything
// but what it read; so B must read back exactly n. An RMW that read the
// block before B's write and wrote it back after would undo it: B would see
// n - 1.
//
// The client is raw_nbd_client.h, because the usual clients (qemu, nbdcopy)
// honour the export's minimum block size and never send a partial block —
// the kernel's nbd client and other simple clients do.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "nbd_harness.h"
#include "raw_nbd_client.h"

namespace openmpio::nbdtest {
namespace {

TEST(RmwRace, AWholeBlockWriteIsNeverUndoneByAPartialOneFromAnotherConnection) {
  REQUIRE_PROGRAM("nbdkit");
  TempDir dir;
  Server server(dir, "[management]\nenabled = false\n[sim]\n" + SimPort(1, 1) + SimPort(2, 1) +
                         "[[sim.lu]]\nlun = 0\nsize = \"8MiB\"\nblock_size = 4096\n"
                         "owner_group = 1\n");
  ASSERT_TRUE(server.ready()) << server.Log();
  RawNbdClient a(server.socket());
  RawNbdClient b(server.socket());
  ASSERT_TRUE(a.ok() && b.ok()) << server.Log();
  ASSERT_EQ(a.size(), 8U << 20);

  constexpr int kRounds = 3000;
  std::atomic<bool> stop{false};
  std::atomic<int> partial_writes{0};
  std::atomic<int> a_errors{0};
  std::thread partial([&] {
    const std::vector<std::uint8_t> sector(512, 0xA5);
    while (!stop.load()) {
      if (a.Write(0, sector) != 0) ++a_errors;
      ++partial_writes;
    }
  });
  int undone = 0;
  int b_errors = 0;
  std::vector<std::uint8_t> block(4096);
  std::vector<std::uint8_t> back(3584);
  for (int n = 1; n <= kRounds; ++n) {
    const auto stamp = static_cast<std::uint8_t>(n % 251 + 1);
    std::fill(block.begin(), block.end(), stamp);
    if (b.Write(0, block) != 0 || b.Read(512, &back) != 0) {
      ++b_errors;
      continue;
    }
    for (const std::uint8_t x : back) {
      if (x != stamp) {
        ++undone;
        break;
      }
    }
  }
  stop = true;
  partial.join();
  EXPECT_EQ(a_errors.load(), 0);
  EXPECT_EQ(b_errors, 0);
  EXPECT_EQ(undone, 0) << "whole-block writes undone by a concurrent read-modify-write";
  EXPECT_GT(partial_writes.load(), 100) << "the partial writes raced the whole ones";
  std::printf("%d whole-block writes checked against %d partial ones\n", kRounds,
              partial_writes.load());
}

}  // namespace
}  // namespace openmpio::nbdtest

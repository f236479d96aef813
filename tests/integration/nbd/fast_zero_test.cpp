// can_fast_zero as nbdkit means it (nbdkit-plugin(3) ".can_fast_zero"): a
// zero request with NBD_CMD_FLAG_FAST_ZERO that the plugin would serve slowly
// fails at once with ENOTSUP and changes nothing, so the client can choose to
// write zeroes itself or do without. Whole blocks are one WRITE SAME (fast);
// a partial block would need a read-modify-write (slow). Without the flag the
// same partial zero is done.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "nbd_harness.h"
#include "raw_nbd_client.h"

namespace openmpio::nbdtest {
namespace {

constexpr int kNbdEnotsup = 95;  // NBD_ENOTSUP

bool All(const std::vector<std::uint8_t>& v, std::size_t from, std::size_t to, std::uint8_t x) {
  return std::all_of(v.begin() + static_cast<std::ptrdiff_t>(from),
                     v.begin() + static_cast<std::ptrdiff_t>(to),
                     [x](std::uint8_t b) { return b == x; });
}

TEST(FastZero, APartialBlockFailsAtOnceWithEnotsupAndChangesNothing) {
  REQUIRE_PROGRAM("nbdkit");
  TempDir dir;
  Server server(dir, "[management]\nenabled = false\n[sim]\n" + SimPort(1, 1) + SimPort(2, 1) +
                         "[[sim.lu]]\nlun = 0\nsize = \"8MiB\"\nblock_size = 4096\n"
                         "owner_group = 1\n");
  ASSERT_TRUE(server.ready()) << server.Log();
  RawNbdClient c(server.socket());
  ASSERT_TRUE(c.ok()) << server.Log();
  ASSERT_NE(c.transmission_flags() & RawNbdClient::kSendFastZero, 0)
      << "the export does not offer fast zero";

  const std::vector<std::uint8_t> pattern(3 * 4096, 0xAB);
  ASSERT_EQ(c.Write(0, pattern), 0);

  // Part of block 0: slow, so refused, and the data stays.
  EXPECT_EQ(c.WriteZeroes(100, 1000, RawNbdClient::kFastZero), kNbdEnotsup);
  // Whole block 1 plus a piece of block 2: the piece makes it slow; refused whole.
  EXPECT_EQ(c.WriteZeroes(4096, 4096 + 512, RawNbdClient::kFastZero), kNbdEnotsup);
  std::vector<std::uint8_t> back(pattern.size());
  ASSERT_EQ(c.Read(0, &back), 0);
  EXPECT_TRUE(All(back, 0, back.size(), 0xAB)) << "a refused fast zero changed data";

  // Whole block 1: fast (WRITE SAME), done.
  EXPECT_EQ(c.WriteZeroes(4096, 4096, RawNbdClient::kFastZero), 0);
  // The partial zero without the flag: done by read-modify-write.
  EXPECT_EQ(c.WriteZeroes(100, 1000, 0), 0);
  ASSERT_EQ(c.Read(0, &back), 0);
  EXPECT_TRUE(All(back, 0, 100, 0xAB));
  EXPECT_TRUE(All(back, 100, 1100, 0x00));
  EXPECT_TRUE(All(back, 1100, 4096, 0xAB));
  EXPECT_TRUE(All(back, 4096, 8192, 0x00));
  EXPECT_TRUE(All(back, 8192, back.size(), 0xAB));
}

}  // namespace
}  // namespace openmpio::nbdtest

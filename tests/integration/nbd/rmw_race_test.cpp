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
// The client is a minimal NBD client written here (fixed newstyle,
// NBD_OPT_EXPORT_NAME), because the usual clients (qemu, nbdcopy) honour the
// export's minimum block size and never send a partial block — the kernel's
// nbd client and other simple clients do.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "nbd_harness.h"

namespace openmpio::nbdtest {
namespace {

class RawNbdClient {
 public:
  explicit RawNbdClient(const std::string& socket_path) {
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::strncpy(a.sun_path, socket_path.c_str(), sizeof a.sun_path - 1);
    if (fd_ < 0 || ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return;
    // Server: "NBDMAGIC" "IHAVEOPT" and 16-bit handshake flags.
    std::uint8_t hello[18];
    if (!ReadAll(hello, sizeof hello) || std::memcmp(hello, "NBDMAGICIHAVEOPT", 16) != 0) return;
    const bool no_zeroes = (hello[17] & 2U) != 0;
    // Client flags: FIXED_NEWSTYLE (1) | NO_ZEROES (2, if offered).
    Put32(no_zeroes ? 3U : 1U);
    // NBD_OPT_EXPORT_NAME (1), the default export "".
    const std::uint8_t opt[16] = {'I', 'H', 'A', 'V', 'E', 'O', 'P', 'T', 0, 0, 0, 1, 0, 0, 0, 0};
    if (!WriteAll(opt, sizeof opt)) return;
    std::uint8_t reply[10 + 124];
    if (!ReadAll(reply, no_zeroes ? 10U : sizeof reply)) return;
    size_ = Get64(reply);
    ok_ = true;
  }
  ~RawNbdClient() {
    if (fd_ >= 0) ::close(fd_);
  }
  RawNbdClient(const RawNbdClient&) = delete;
  RawNbdClient& operator=(const RawNbdClient&) = delete;

  [[nodiscard]] bool ok() const { return ok_; }
  [[nodiscard]] std::uint64_t size() const { return size_; }

  // One request at a time; the NBD error (0 = none), or -1 on a protocol
  // failure.
  int Write(std::uint64_t offset, const std::vector<std::uint8_t>& data) {
    if (!Request(1, offset, static_cast<std::uint32_t>(data.size()))) return -1;
    if (!WriteAll(data.data(), data.size())) return -1;
    return Reply(nullptr, 0);
  }
  int Read(std::uint64_t offset, std::vector<std::uint8_t>* out) {
    if (!Request(0, offset, static_cast<std::uint32_t>(out->size()))) return -1;
    return Reply(out->data(), out->size());
  }

 private:
  bool Request(std::uint16_t type, std::uint64_t offset, std::uint32_t length) {
    std::uint8_t r[28];
    PutBe(r, 0x25609513U, 4);
    PutBe(r + 4, 0, 2);  // command flags
    PutBe(r + 6, type, 2);
    PutBe(r + 8, ++handle_, 8);
    PutBe(r + 16, offset, 8);
    PutBe(r + 24, length, 4);
    return WriteAll(r, sizeof r);
  }
  int Reply(std::uint8_t* data, std::size_t length) {
    std::uint8_t r[16];
    if (!ReadAll(r, sizeof r)) return -1;
    if (GetBe(r, 4) != 0x67446698U || GetBe(r + 8, 8) != handle_) return -1;
    const auto error = static_cast<int>(GetBe(r + 4, 4));
    if (error == 0 && data != nullptr && !ReadAll(data, length)) return -1;
    return error;
  }
  void Put32(std::uint32_t v) {
    std::uint8_t b[4];
    PutBe(b, v, 4);
    WriteAll(b, 4);
  }
  static void PutBe(std::uint8_t* p, std::uint64_t v, int n) {
    for (int i = n - 1; i >= 0; --i, v >>= 8) p[i] = static_cast<std::uint8_t>(v & 0xFFU);
  }
  static std::uint64_t GetBe(const std::uint8_t* p, int n) {
    std::uint64_t v = 0;
    for (int i = 0; i < n; ++i) v = (v << 8) | p[i];
    return v;
  }
  static std::uint64_t Get64(const std::uint8_t* p) { return GetBe(p, 8); }
  bool WriteAll(const void* p, std::size_t n) {
    const auto* b = static_cast<const std::uint8_t*>(p);
    while (n > 0) {
      const ssize_t k = ::send(fd_, b, n, MSG_NOSIGNAL);
      if (k <= 0) return false;
      b += k;
      n -= static_cast<std::size_t>(k);
    }
    return true;
  }
  bool ReadAll(void* p, std::size_t n) {
    auto* b = static_cast<std::uint8_t*>(p);
    while (n > 0) {
      const ssize_t k = ::recv(fd_, b, n, 0);
      if (k <= 0) return false;
      b += k;
      n -= static_cast<std::size_t>(k);
    }
    return true;
  }

  int fd_ = -1;
  bool ok_ = false;
  std::uint64_t size_ = 0;
  std::uint64_t handle_ = 0;
};

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

// A minimal NBD client for tests that need requests the usual clients do not
// send (a partial block, a fast zero of a partial block): fixed newstyle,
// NBD_OPT_EXPORT_NAME of the default export, one request at a time, simple
// replies (the NBD protocol, doc/proto.md of the NBD project).
#pragma once

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace openmpio::nbdtest {

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
    transmission_flags_ = static_cast<std::uint16_t>(GetBe(reply + 8, 2));
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
  // NBD_CMD_WRITE_ZEROES (6) with command flags (kFastZero, kNoHole).
  int WriteZeroes(std::uint64_t offset, std::uint32_t length, std::uint16_t flags) {
    if (!Request(6, offset, length, flags)) return -1;
    return Reply(nullptr, 0);
  }
  static constexpr std::uint16_t kNoHole = 1U << 1;    // NBD_CMD_FLAG_NO_HOLE
  static constexpr std::uint16_t kFastZero = 1U << 4;  // NBD_CMD_FLAG_FAST_ZERO
  // The transmission flags of the export (NBD_FLAG_*).
  [[nodiscard]] std::uint16_t transmission_flags() const { return transmission_flags_; }
  static constexpr std::uint16_t kSendFastZero = 1U << 11;  // NBD_FLAG_SEND_FAST_ZERO

 private:
  bool Request(std::uint16_t type, std::uint64_t offset, std::uint32_t length,
               std::uint16_t flags = 0) {
    std::uint8_t r[28];
    PutBe(r, 0x25609513U, 4);
    PutBe(r + 4, flags, 2);  // command flags
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
  std::uint16_t transmission_flags_ = 0;
  std::uint64_t handle_ = 0;
};

}  // namespace openmpio::nbdtest

#include "array/storage.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <unordered_map>
#include <utility>
#include <vector>

namespace openmpio::array {
namespace {

Status OutOfRange(std::uint64_t offset, std::uint64_t length, std::uint64_t size) {
  return InvalidParameter("store: range " + std::to_string(offset) + "+" +
                          std::to_string(length) + " past the end (" + std::to_string(size) +
                          ")");
}

bool InRange(std::uint64_t offset, std::uint64_t length, std::uint64_t size) {
  return offset <= size && length <= size - offset;
}

// ---- memory ----------------------------------------------------------------------

class MemoryStore final : public BlockStore {
 public:
  explicit MemoryStore(std::uint64_t size) : size_(size) {}

  [[nodiscard]] std::uint64_t size() const noexcept override { return size_; }

  Status Read(std::uint64_t offset, scsi::MutableBytes out) override {
    if (!InRange(offset, out.size(), size_)) return OutOfRange(offset, out.size(), size_);
    std::size_t done = 0;
    while (done < out.size()) {
      const std::uint64_t at = offset + done;
      const std::uint64_t chunk = at / kMemoryChunkSize;
      const std::size_t in_chunk = static_cast<std::size_t>(at % kMemoryChunkSize);
      const std::size_t n = std::min(out.size() - done, kMemoryChunkSize - in_chunk);
      const auto it = chunks_.find(chunk);
      if (it == chunks_.end()) {
        std::fill_n(out.begin() + static_cast<std::ptrdiff_t>(done), n, std::byte{0});
      } else {
        std::memcpy(out.data() + done, it->second.data() + in_chunk, n);
      }
      done += n;
    }
    return OkStatus();
  }

  Status Write(std::uint64_t offset, scsi::Bytes in) override {
    if (!InRange(offset, in.size(), size_)) return OutOfRange(offset, in.size(), size_);
    std::size_t done = 0;
    while (done < in.size()) {
      const std::uint64_t at = offset + done;
      const std::uint64_t chunk = at / kMemoryChunkSize;
      const std::size_t in_chunk = static_cast<std::size_t>(at % kMemoryChunkSize);
      const std::size_t n = std::min(in.size() - done, kMemoryChunkSize - in_chunk);
      auto& c = chunks_[chunk];
      if (c.empty()) c.resize(kMemoryChunkSize);
      std::memcpy(c.data() + in_chunk, in.data() + done, n);
      done += n;
    }
    return OkStatus();
  }

  Status Deallocate(std::uint64_t offset, std::uint64_t length) override {
    if (!InRange(offset, length, size_)) return OutOfRange(offset, length, size_);
    std::uint64_t at = offset;
    const std::uint64_t end = offset + length;
    while (at < end) {
      const std::uint64_t chunk = at / kMemoryChunkSize;
      const std::uint64_t chunk_start = chunk * kMemoryChunkSize;
      const std::uint64_t stop = std::min(end, chunk_start + kMemoryChunkSize);
      const auto it = chunks_.find(chunk);
      if (it != chunks_.end()) {
        if (at == chunk_start && stop == chunk_start + kMemoryChunkSize) {
          chunks_.erase(it);  // the whole chunk: give the memory back (thin)
        } else {
          std::fill(it->second.begin() + static_cast<std::ptrdiff_t>(at - chunk_start),
                    it->second.begin() + static_cast<std::ptrdiff_t>(stop - chunk_start),
                    std::byte{0});
        }
      }
      at = stop;
    }
    return OkStatus();
  }

  Status Flush() override { return OkStatus(); }

  Status Resize(std::uint64_t size) override {
    if (size < size_) {
      // Zero the tail of the last kept chunk, drop the chunks past the end.
      const std::uint64_t keep_chunks = (size + kMemoryChunkSize - 1) / kMemoryChunkSize;
      for (auto it = chunks_.begin(); it != chunks_.end();) {
        it = it->first >= keep_chunks ? chunks_.erase(it) : std::next(it);
      }
      const std::uint64_t tail = size % kMemoryChunkSize;
      const auto last = chunks_.find(size / kMemoryChunkSize);
      if (tail != 0 && last != chunks_.end()) {
        std::fill(last->second.begin() + static_cast<std::ptrdiff_t>(tail), last->second.end(),
                  std::byte{0});
      }
    }
    size_ = size;
    return OkStatus();
  }

  [[nodiscard]] std::uint64_t allocated_bytes() const noexcept override {
    return chunks_.size() * kMemoryChunkSize;
  }

 private:
  std::uint64_t size_;
  std::unordered_map<std::uint64_t, std::vector<std::byte>> chunks_;
};

// ---- sparse file -----------------------------------------------------------------

Status Errno(const std::string& what) {
  return Status(NtStatus::kIoDeviceError, what + ": " + std::strerror(errno));
}

class FileStore final : public BlockStore {
 public:
  FileStore(int fd, std::uint64_t size, std::string path)
      : fd_(fd), size_(size), path_(std::move(path)) {}
  ~FileStore() override { ::close(fd_); }
  FileStore(const FileStore&) = delete;
  FileStore& operator=(const FileStore&) = delete;

  [[nodiscard]] std::uint64_t size() const noexcept override { return size_; }

  Status Read(std::uint64_t offset, scsi::MutableBytes out) override {
    if (!InRange(offset, out.size(), size_)) return OutOfRange(offset, out.size(), size_);
    std::size_t done = 0;
    while (done < out.size()) {
      const ssize_t n = ::pread(fd_, out.data() + done, out.size() - done,
                                static_cast<off_t>(offset + done));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return Errno("pread " + path_);
      if (n == 0) {  // past the file's end (it shrank under us): zeros
        std::fill(out.begin() + static_cast<std::ptrdiff_t>(done), out.end(), std::byte{0});
        break;
      }
      done += static_cast<std::size_t>(n);
    }
    return OkStatus();
  }

  Status Write(std::uint64_t offset, scsi::Bytes in) override {
    if (!InRange(offset, in.size(), size_)) return OutOfRange(offset, in.size(), size_);
    std::size_t done = 0;
    while (done < in.size()) {
      const ssize_t n = ::pwrite(fd_, in.data() + done, in.size() - done,
                                 static_cast<off_t>(offset + done));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return Errno("pwrite " + path_);
      done += static_cast<std::size_t>(n);
    }
    return OkStatus();
  }

  Status Deallocate(std::uint64_t offset, std::uint64_t length) override {
    if (!InRange(offset, length, size_)) return OutOfRange(offset, length, size_);
    if (length == 0) return OkStatus();
    if (::fallocate(fd_, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, static_cast<off_t>(offset),
                    static_cast<off_t>(length)) == 0) {
      return OkStatus();
    }
    // A file system without hole punching: write zeros instead.
    const std::vector<std::byte> zeros(std::min<std::uint64_t>(length, 1U << 20));
    for (std::uint64_t at = offset; at < offset + length;) {
      const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(zeros.size(), offset + length - at));
      Status s = Write(at, scsi::Bytes{zeros}.first(n));
      if (!s.ok()) return s;
      at += n;
    }
    return OkStatus();
  }

  Status Flush() override { return ::fdatasync(fd_) == 0 ? OkStatus() : Errno("fdatasync " + path_); }

  Status Resize(std::uint64_t size) override {
    if (::ftruncate(fd_, static_cast<off_t>(size)) != 0) return Errno("ftruncate " + path_);
    size_ = size;
    return OkStatus();
  }

  [[nodiscard]] std::uint64_t allocated_bytes() const noexcept override {
    struct stat st {};
    if (::fstat(fd_, &st) != 0) return 0;
    return static_cast<std::uint64_t>(st.st_blocks) * 512U;
  }

 private:
  int fd_;
  std::uint64_t size_;
  std::string path_;
};

}  // namespace

std::unique_ptr<BlockStore> MakeMemoryStore(std::uint64_t size) {
  return std::make_unique<MemoryStore>(size);
}

Expected<std::unique_ptr<BlockStore>> OpenSparseFileStore(const std::string& path,
                                                          std::uint64_t size) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return MakeUnexpected(Errno("open " + path));
  if (::ftruncate(fd, static_cast<off_t>(size)) != 0) {
    Status s = Errno("ftruncate " + path);
    ::close(fd);
    return MakeUnexpected(std::move(s));
  }
  return std::unique_ptr<BlockStore>(std::make_unique<FileStore>(fd, size, path));
}

}  // namespace openmpio::array

// The contents of a logical unit behind one interface: a sparse memory store
// (chunks allocated on first write, zeros elsewhere) and a sparse file
// (pread/pwrite, fallocate PUNCH_HOLE). Offsets and lengths are in bytes; the
// caller (the array) checks them against the capacity first, and the stores
// check again and refuse anything past their size.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "openmpio/expected.h"
#include "openmpio/status.h"
#include "scsi/bytes.h"

namespace openmpio::array {

class BlockStore {
 public:
  virtual ~BlockStore() = default;

  [[nodiscard]] virtual std::uint64_t size() const noexcept = 0;
  // Never-written and deallocated bytes read as zeros (LBPRZ = 1).
  [[nodiscard]] virtual Status Read(std::uint64_t offset, scsi::MutableBytes out) = 0;
  [[nodiscard]] virtual Status Write(std::uint64_t offset, scsi::Bytes in) = 0;
  // Zeros the range and frees whatever whole chunks / file blocks it covers.
  [[nodiscard]] virtual Status Deallocate(std::uint64_t offset, std::uint64_t length) = 0;
  [[nodiscard]] virtual Status Flush() = 0;
  // New capacity: bytes past it are dropped; growth reads zeros.
  [[nodiscard]] virtual Status Resize(std::uint64_t size) = 0;
  // Bytes of backing actually held (memory chunks or file blocks).
  [[nodiscard]] virtual std::uint64_t allocated_bytes() const noexcept = 0;
};

inline constexpr std::size_t kMemoryChunkSize = 64 * 1024;

[[nodiscard]] std::unique_ptr<BlockStore> MakeMemoryStore(std::uint64_t size);
// Opens (creating if needed) `path` and sets its length to `size`.
[[nodiscard]] Expected<std::unique_ptr<BlockStore>> OpenSparseFileStore(const std::string& path,
                                                                        std::uint64_t size);

}  // namespace openmpio::array

// A volatile write-back cache in front of a BlockStore (WCE = 1): writes
// stay here until SYNCHRONIZE CACHE, a FUA write, or the cache filling up
// destages them; DropVolatileCache loses them, as a power cut would. That is
// what lets a test show that a flush or FUA was needed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <vector>

#include "array/storage.h"
#include "openmpio/status.h"
#include "scsi/bytes.h"

namespace openmpio::array {

class WriteCache {
 public:
  static constexpr std::size_t kMaxDirtyBlocks = 8192;

  // `enabled` false: every write goes straight to the store.
  void Configure(bool enabled, std::uint32_t block_size) {
    enabled_ = enabled;
    block_size_ = block_size;
  }
  [[nodiscard]] bool enabled() const noexcept { return enabled_; }

  // Reads blocks [lba, lba + out.size() / block size), newest data first.
  [[nodiscard]] Status Read(BlockStore& store, std::uint64_t lba, scsi::MutableBytes out) const;
  // `fua` writes through and drops any cached copy of those blocks.
  [[nodiscard]] Status Write(BlockStore& store, std::uint64_t lba, scsi::Bytes data, bool fua);
  // UNMAP / WRITE SAME with UNMAP: cached copies go, the store frees the range.
  [[nodiscard]] Status Deallocate(BlockStore& store, std::uint64_t lba, std::uint64_t blocks);
  // Destages cached blocks in [lba, lba + blocks) and flushes the store.
  [[nodiscard]] Status Flush(BlockStore& store, std::uint64_t lba, std::uint64_t blocks);
  // Power loss: cached writes are gone.
  void Drop() { dirty_.clear(); }
  // Capacity shrink: cached blocks past the end are gone.
  void Truncate(std::uint64_t blocks);
  [[nodiscard]] std::size_t dirty_blocks() const noexcept { return dirty_.size(); }

 private:
  void Forget(std::uint64_t lba, std::uint64_t blocks);

  bool enabled_ = false;
  std::uint32_t block_size_ = 512;
  std::map<std::uint64_t, std::vector<std::byte>> dirty_;  // lba -> one block
};

}  // namespace openmpio::array

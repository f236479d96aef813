// A volatile write-back cache in front of a BlockStore (WCE = 1): writes
// stay here until SYNCHRONIZE CACHE, a FUA write, or the cache filling up
// destages them; DropVolatileCache loses them, as a power cut would. That is
// what lets a test show that a flush or FUA was needed.
//
// It sits on the data path of every write the embedded array serves, so it
// allocates nothing per write: kMaxDirtyBlocks block buffers in one slab and
// an open-addressing table (linear probing, backward-shift deletion: no
// tombstones) from LBA to slab slot, both sized once, on the first cached
// write (an LU that is never written, or has WCE = 0, holds none of it). A read looks up each of its blocks; a flush of a range walks the
// table (SYNCHRONIZE CACHE is rare next to reads and writes).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "array/storage.h"
#include "openmpio/status.h"
#include "scsi/bytes.h"

namespace openmpio::array {

class WriteCache {
 public:
  static constexpr std::size_t kMaxDirtyBlocks = 8192;

  // `enabled` false: every write goes straight to the store.
  void Configure(bool enabled, std::uint32_t block_size);
  [[nodiscard]] bool enabled() const noexcept { return enabled_; }

  // Reads blocks [lba, lba + out.size() / block size), newest data first.
  [[nodiscard]] Status Read(BlockStore& store, std::uint64_t lba, scsi::MutableBytes out) const;
  // `fua` writes through and drops any cached copy of those blocks. A write
  // that does not fit in the free room destages the whole cache first (a
  // real array would do it gradually); one larger than the cache writes
  // through.
  [[nodiscard]] Status Write(BlockStore& store, std::uint64_t lba, scsi::Bytes data, bool fua);
  // UNMAP / WRITE SAME with UNMAP: cached copies go, the store frees the range.
  [[nodiscard]] Status Deallocate(BlockStore& store, std::uint64_t lba, std::uint64_t blocks);
  // Destages cached blocks in [lba, lba + blocks) and flushes the store.
  [[nodiscard]] Status Flush(BlockStore& store, std::uint64_t lba, std::uint64_t blocks);
  // Power loss: cached writes are gone.
  void Drop();
  // Capacity shrink: cached blocks past the end are gone.
  void Truncate(std::uint64_t blocks);
  [[nodiscard]] std::size_t dirty_blocks() const noexcept { return dirty_; }

 private:
  static constexpr std::size_t kTableSize = 2 * kMaxDirtyBlocks;  // load <= 1/2
  static constexpr std::uint64_t kEmpty = UINT64_MAX;             // no LBA is UINT64_MAX

  void Allocate();  // the table, the slab and the free list, once
  [[nodiscard]] std::size_t Home(std::uint64_t lba) const noexcept;
  // The table index holding lba, or kTableSize.
  [[nodiscard]] std::size_t Find(std::uint64_t lba) const noexcept;
  [[nodiscard]] std::byte* Block(std::uint32_t slot) noexcept {
    return slab_.data() + std::size_t{slot} * block_size_;
  }
  [[nodiscard]] const std::byte* Block(std::uint32_t slot) const noexcept {
    return slab_.data() + std::size_t{slot} * block_size_;
  }
  void Put(std::uint64_t lba, scsi::Bytes block);
  void EraseAt(std::size_t index);
  // Drops every cached block in [lba, end), destaging it first when `store`
  // is given (then a failed store write keeps it and is the answer).
  Status RemoveRange(BlockStore* store, std::uint64_t lba, std::uint64_t end);

  bool enabled_ = false;
  std::uint32_t block_size_ = 512;
  std::size_t dirty_ = 0;
  std::vector<std::uint64_t> keys_;    // kTableSize LBAs, kEmpty where free
  std::vector<std::uint32_t> slots_;   // the slab slot of keys_[i]
  std::vector<std::uint32_t> free_;    // free slab slots
  std::vector<std::byte> slab_;        // kMaxDirtyBlocks blocks
  std::vector<std::uint64_t> scratch_;  // RemoveRange's LBAs, kMaxDirtyBlocks reserved
};

}  // namespace openmpio::array

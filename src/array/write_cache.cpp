#include "array/write_cache.h"

#include <algorithm>
#include <cstring>

namespace openmpio::array {

Status WriteCache::Read(BlockStore& store, std::uint64_t lba, scsi::MutableBytes out) const {
  Status st = store.Read(lba * block_size_, out);
  if (!st.ok()) return st;
  const std::uint64_t blocks = out.size() / block_size_;
  for (auto it = dirty_.lower_bound(lba); it != dirty_.end() && it->first < lba + blocks; ++it) {
    std::memcpy(out.data() + (it->first - lba) * block_size_, it->second.data(), block_size_);
  }
  return OkStatus();
}

Status WriteCache::Write(BlockStore& store, std::uint64_t lba, scsi::Bytes data, bool fua) {
  const std::uint64_t blocks = data.size() / block_size_;
  if (!enabled_ || fua) {
    Forget(lba, blocks);
    return store.Write(lba * block_size_, data);
  }
  for (std::uint64_t i = 0; i < blocks; ++i) {
    const scsi::Bytes block = data.subspan(i * block_size_, block_size_);
    dirty_[lba + i].assign(block.begin(), block.end());
  }
  // A full cache destages everything (a real array would do it gradually).
  if (dirty_.size() > kMaxDirtyBlocks) return Flush(store, 0, UINT64_MAX);
  return OkStatus();
}

Status WriteCache::Deallocate(BlockStore& store, std::uint64_t lba, std::uint64_t blocks) {
  Forget(lba, blocks);
  return store.Deallocate(lba * block_size_, blocks * block_size_);
}

Status WriteCache::Flush(BlockStore& store, std::uint64_t lba, std::uint64_t blocks) {
  const std::uint64_t end = blocks > UINT64_MAX - lba ? UINT64_MAX : lba + blocks;
  for (auto it = dirty_.lower_bound(lba); it != dirty_.end() && it->first < end;) {
    Status st = store.Write(it->first * block_size_, it->second);
    if (!st.ok()) return st;
    it = dirty_.erase(it);
  }
  return store.Flush();
}

void WriteCache::Truncate(std::uint64_t blocks) {
  dirty_.erase(dirty_.lower_bound(blocks), dirty_.end());
}

void WriteCache::Forget(std::uint64_t lba, std::uint64_t blocks) {
  const std::uint64_t end = blocks > UINT64_MAX - lba ? UINT64_MAX : lba + blocks;
  dirty_.erase(dirty_.lower_bound(lba), dirty_.lower_bound(end));
}

}  // namespace openmpio::array

#include "array/write_cache.h"

#include <cstring>

namespace openmpio::array {
namespace {

// Below this many blocks a range is removed by looking up each LBA; above
// it, by one walk of the table.
constexpr std::uint64_t kLookupLimit = 64;

}  // namespace

void WriteCache::Configure(bool enabled, std::uint32_t block_size) {
  enabled_ = enabled;
  block_size_ = block_size;
  dirty_ = 0;
  keys_.clear();
  slots_.clear();
  free_.clear();
  slab_.clear();
  scratch_.clear();
}

void WriteCache::Allocate() {
  keys_.assign(kTableSize, kEmpty);
  slots_.assign(kTableSize, 0);
  free_.reserve(kMaxDirtyBlocks);
  for (std::size_t i = kMaxDirtyBlocks; i > 0; --i) free_.push_back(static_cast<std::uint32_t>(i - 1));
  slab_.resize(kMaxDirtyBlocks * std::size_t{block_size_});
  scratch_.reserve(kMaxDirtyBlocks);
}

std::size_t WriteCache::Home(std::uint64_t lba) const noexcept {
  // Fibonacci hashing: neighbouring LBAs land far apart.
  return static_cast<std::size_t>((lba * 0x9E3779B97F4A7C15ULL) >> 50) & (kTableSize - 1);
}

std::size_t WriteCache::Find(std::uint64_t lba) const noexcept {
  if (dirty_ == 0) return kTableSize;
  for (std::size_t i = Home(lba);; i = (i + 1) & (kTableSize - 1)) {
    if (keys_[i] == lba) return i;
    if (keys_[i] == kEmpty) return kTableSize;
  }
}

void WriteCache::Put(std::uint64_t lba, scsi::Bytes block) {
  std::size_t i = Home(lba);
  while (keys_[i] != kEmpty && keys_[i] != lba) i = (i + 1) & (kTableSize - 1);
  if (keys_[i] == kEmpty) {
    keys_[i] = lba;
    slots_[i] = free_.back();
    free_.pop_back();
    ++dirty_;
  }
  std::memcpy(Block(slots_[i]), block.data(), block_size_);
}

void WriteCache::EraseAt(std::size_t index) {
  free_.push_back(slots_[index]);
  --dirty_;
  // Backward-shift deletion: pull later members of the probe run into the
  // hole when the hole lies on their way from home.
  std::size_t hole = index;
  for (std::size_t j = (hole + 1) & (kTableSize - 1); keys_[j] != kEmpty;
       j = (j + 1) & (kTableSize - 1)) {
    const std::size_t home = Home(keys_[j]);
    // Does j's probe run from `home` pass the hole? (cyclic interval (home, j])
    const bool passes = hole <= j ? (home <= hole || home > j) : (home <= hole && home > j);
    if (passes) {
      keys_[hole] = keys_[j];
      slots_[hole] = slots_[j];
      hole = j;
    }
  }
  keys_[hole] = kEmpty;
}

Status WriteCache::RemoveRange(BlockStore* store, std::uint64_t lba, std::uint64_t end) {
  if (dirty_ == 0 || lba >= end) return OkStatus();
  scratch_.clear();
  if (end - lba <= kLookupLimit) {
    for (std::uint64_t b = lba; b < end; ++b) {
      if (Find(b) != kTableSize) scratch_.push_back(b);
    }
  } else {
    for (std::uint64_t k : keys_) {
      if (k != kEmpty && k >= lba && k < end) scratch_.push_back(k);
    }
  }
  for (std::uint64_t b : scratch_) {
    const std::size_t i = Find(b);
    if (store != nullptr) {
      Status st = store->Write(b * block_size_, scsi::Bytes(Block(slots_[i]), block_size_));
      if (!st.ok()) return st;
    }
    EraseAt(i);
  }
  return OkStatus();
}

Status WriteCache::Read(BlockStore& store, std::uint64_t lba, scsi::MutableBytes out) const {
  Status st = store.Read(lba * block_size_, out);
  if (!st.ok() || dirty_ == 0) return st;
  const std::uint64_t blocks = out.size() / block_size_;
  for (std::uint64_t b = 0; b < blocks; ++b) {
    const std::size_t i = Find(lba + b);
    if (i != kTableSize) std::memcpy(out.data() + b * block_size_, Block(slots_[i]), block_size_);
  }
  return OkStatus();
}

Status WriteCache::Write(BlockStore& store, std::uint64_t lba, scsi::Bytes data, bool fua) {
  const std::uint64_t blocks = data.size() / block_size_;
  if (!enabled_ || fua || blocks > kMaxDirtyBlocks) {
    // Written through: a cached copy would shadow the new data.
    (void)RemoveRange(nullptr, lba, lba + blocks);
    return store.Write(lba * block_size_, data);
  }
  if (dirty_ + blocks > kMaxDirtyBlocks) {
    Status st = Flush(store, 0, UINT64_MAX);
    if (!st.ok()) return st;
  }
  if (keys_.empty()) Allocate();
  for (std::uint64_t i = 0; i < blocks; ++i) Put(lba + i, data.subspan(i * block_size_, block_size_));
  return OkStatus();
}

Status WriteCache::Deallocate(BlockStore& store, std::uint64_t lba, std::uint64_t blocks) {
  const std::uint64_t end = blocks > UINT64_MAX - lba ? UINT64_MAX : lba + blocks;
  (void)RemoveRange(nullptr, lba, end);
  return store.Deallocate(lba * block_size_, blocks * block_size_);
}

Status WriteCache::Flush(BlockStore& store, std::uint64_t lba, std::uint64_t blocks) {
  const std::uint64_t end = blocks > UINT64_MAX - lba ? UINT64_MAX : lba + blocks;
  Status st = RemoveRange(&store, lba, end);
  if (!st.ok()) return st;
  return store.Flush();
}

void WriteCache::Drop() {
  (void)RemoveRange(nullptr, 0, UINT64_MAX);
}

void WriteCache::Truncate(std::uint64_t blocks) {
  (void)RemoveRange(nullptr, blocks, UINT64_MAX);
}

}  // namespace openmpio::array

// Snapshot publication and reclamation (the scheme is described in
// disk_runtime.h), and the fence set's counts.
#include "engine/disk_runtime.h"

namespace openmpio::engine {

SnapshotCell::Pin SnapshotCell::Acquire() const noexcept {
  for (;;) {
    const std::uint64_t e = epoch_.load(std::memory_order_seq_cst);
    std::atomic<std::int64_t>& slot = readers_[e & 1U];
    slot.fetch_add(1, std::memory_order_seq_cst);
    if (epoch_.load(std::memory_order_seq_cst) == e) {
      return Pin(&slot, ptr_.load(std::memory_order_seq_cst));
    }
    // The writer flipped between our load and our registration: we may be
    // counted in a slot it already found empty. Undo and register again.
    slot.fetch_sub(1, std::memory_order_seq_cst);
  }
}

void SnapshotCell::Publish(std::unique_ptr<const dsm::SelectionSnapshot> next) {
  ptr_.store(next.get(), std::memory_order_seq_cst);
  if (owned_) pending_.push_back(std::move(owned_));
  owned_ = std::move(next);
  Reclaim();
}

bool SnapshotCell::Reclaim() {
  if (!waiting_.empty()) {
    if (readers_[waiting_slot_].load(std::memory_order_seq_cst) != 0) return true;
    waiting_.clear();  // every reader that could hold them has left
  }
  if (!pending_.empty()) {
    waiting_slot_ = static_cast<std::size_t>(epoch_.load(std::memory_order_seq_cst) & 1U);
    epoch_.fetch_add(1, std::memory_order_seq_cst);
    waiting_ = std::move(pending_);
    pending_.clear();
    if (readers_[waiting_slot_].load(std::memory_order_seq_cst) == 0) waiting_.clear();
  }
  return retired() != 0;
}

std::size_t DiskRuntime::unknown_fate_count() const {
  std::lock_guard<std::mutex> lock(fences.mutex);
  return fences.entries.size();
}

std::size_t DiskRuntime::fence_waiter_count() const {
  std::lock_guard<std::mutex> lock(fences.mutex);
  return fences.waiters.size();
}

}  // namespace openmpio::engine

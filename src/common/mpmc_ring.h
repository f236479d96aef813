// MpmcRing: a bounded multi-producer multi-consumer queue without locks
// (Dmitry Vyukov's bounded MPMC queue): every cell carries a sequence number
// that says whose turn it is — a producer may fill cell i when its sequence is
// the producer's ticket, a consumer may empty it when it is ticket + 1.
// Producers and consumers each claim a ticket with one compare-and-swap on
// their own counter and never touch the other side's.
//
// Used where threads hand work to each other on the data path: the reactor's
// post queue (reactor.h) and the per-disk request pools (disk_runtime.h).
// Push and Pop never allocate; a full ring says so (TryPush false) and the
// caller decides (the reactor spills to a locked overflow list, a pool frees).
//
// Progress: a producer that is descheduled between claiming its cell and
// publishing it holds back the consumers of that one cell (they see the ring
// as empty there) — never a deadlock, never a lost item.
#pragma once

#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>

namespace openmpio {

template <typename T>
class MpmcRing {
 public:
  // The capacity is rounded up to a power of two (at least 2).
  explicit MpmcRing(std::size_t capacity)
      : mask_(std::bit_ceil(capacity < 2 ? std::size_t{2} : capacity) - 1),
        cells_(std::make_unique<Cell[]>(mask_ + 1)) {
    for (std::size_t i = 0; i <= mask_; ++i) cells_[i].seq.store(i, std::memory_order_relaxed);
  }
  MpmcRing(const MpmcRing&) = delete;
  MpmcRing& operator=(const MpmcRing&) = delete;

  // Any thread. False when the ring is full (v is left as it was). "Full"
  // includes a cell whose consumer has taken its ticket but not yet freed
  // the cell: false means "not now", never "nothing will be popped".
  bool TryPush(T& v) {
    std::size_t pos = head_.load(std::memory_order_relaxed);
    Cell* cell;
    for (;;) {
      cell = &cells_[pos & mask_];
      const std::size_t seq = cell->seq.load(std::memory_order_acquire);
      const auto diff = static_cast<std::intptr_t>(seq) - static_cast<std::intptr_t>(pos);
      if (diff == 0) {
        if (head_.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) break;
      } else if (diff < 0) {
        return false;  // the cell still holds an item a lap behind: full
      } else {
        pos = head_.load(std::memory_order_relaxed);
      }
    }
    cell->value = std::move(v);
    cell->seq.store(pos + 1, std::memory_order_release);
    return true;
  }

  // Any thread. False when no published item is there.
  bool TryPop(T& out) {
    std::size_t pos = tail_.load(std::memory_order_relaxed);
    Cell* cell;
    for (;;) {
      cell = &cells_[pos & mask_];
      const std::size_t seq = cell->seq.load(std::memory_order_acquire);
      const auto diff = static_cast<std::intptr_t>(seq) - static_cast<std::intptr_t>(pos + 1);
      if (diff == 0) {
        if (tail_.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) break;
      } else if (diff < 0) {
        return false;  // empty (or the producer of this cell has not published yet)
      } else {
        pos = tail_.load(std::memory_order_relaxed);
      }
    }
    out = std::move(cell->value);
    cell->value = T{};  // release what the item held (a task's captures) now
    cell->seq.store(pos + mask_ + 1, std::memory_order_release);
    return true;
  }

  // True when the next cell to pop holds no published item. A hint only for
  // other threads; exact for the only consumer when no producer is mid-push.
  [[nodiscard]] bool Empty() const noexcept {
    const std::size_t pos = tail_.load(std::memory_order_relaxed);
    return cells_[pos & mask_].seq.load(std::memory_order_acquire) != pos + 1;
  }

  // True while some producer has claimed a cell that is not consumed yet —
  // published or still being written. With Empty(): a ring that looks empty
  // but is Claimed() has a push in progress.
  [[nodiscard]] bool Claimed() const noexcept {
    return head_.load(std::memory_order_acquire) != tail_.load(std::memory_order_acquire);
  }

  [[nodiscard]] std::size_t capacity() const noexcept { return mask_ + 1; }

 private:
  // Not padded to a cache line each: a ring of pointers (a request pool)
  // stays small; a reactor's 56-byte message fills a line by itself.
  struct Cell {
    std::atomic<std::size_t> seq{0};
    T value{};
  };

  const std::size_t mask_;
  std::unique_ptr<Cell[]> cells_;
  alignas(64) std::atomic<std::size_t> head_{0};  // producers' next ticket
  alignas(64) std::atomic<std::size_t> tail_{0};  // consumers' next ticket
};

}  // namespace openmpio

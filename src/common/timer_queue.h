// TimerQueue: the ordered task store of both executors (ManualExecutor on a
// virtual clock, the Reactor on steady_clock). Not thread-safe: the Reactor
// touches it only on its own thread, ManualExecutor under its mutex.
//
// Order is (due time, sequence number), so tasks due at the same instant run
// in the order they were added — Post is "a timer due now" in the
// ManualExecutor, and FIFO for equal times is what makes a simulation
// deterministic.
//
// An indexed binary heap: every timer lives in a slot that remembers its
// place in the heap, so Cancel is O(log n) — the iSCSI transport cancels a
// command's timer on every completion, with thousands pending. A TimerId is
// the slot and the slot's generation, so a stale id (the timer ran, or was
// cancelled and the slot reused) is recognised and refused.
//
// Allocation: slots and heap are vectors that keep their capacity, and tasks
// small enough for std::function's local buffer (two pointers) are stored in
// place, so adding, cancelling and running timers allocates nothing in the
// steady state.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "common/executor.h"

namespace openmpio::detail {

class TimerQueue {
 public:
  explicit TimerQueue(std::size_t reserve = 256) {
    slots_.reserve(reserve);
    heap_.reserve(reserve);
    free_.reserve(reserve);
  }

  Executor::TimerId Add(TimePoint due, Executor::Task task) {
    std::uint32_t s;
    if (!free_.empty()) {
      s = free_.back();
      free_.pop_back();
    } else {
      s = static_cast<std::uint32_t>(slots_.size());
      slots_.emplace_back();
    }
    Slot& slot = slots_[s];
    slot.due = due;
    slot.seq = ++last_seq_;
    slot.task = std::move(task);
    slot.heap_pos = static_cast<std::uint32_t>(heap_.size());
    heap_.push_back(s);
    SiftUp(slot.heap_pos);
    return IdOf(s);
  }

  // The removed task goes to *removed, for the caller to destroy after
  // dropping its lock (its captures' destructors may post).
  bool Cancel(Executor::TimerId id, Executor::Task* removed) {
    const std::optional<std::uint32_t> s = SlotOf(id);
    if (!s) return false;
    *removed = std::move(slots_[*s].task);
    RemoveAt(slots_[*s].heap_pos);
    Release(*s);
    return true;
  }

  // The due time of the earliest live task.
  [[nodiscard]] std::optional<TimePoint> NextDue() const {
    if (heap_.empty()) return std::nullopt;
    return slots_[heap_.front()].due;
  }

  // Removes and returns the earliest live task if it is due at or before t.
  bool PopDue(TimePoint t, Executor::Task* task, TimePoint* due) {
    if (heap_.empty() || slots_[heap_.front()].due > t) return false;
    const std::uint32_t s = heap_.front();
    *task = std::move(slots_[s].task);
    *due = slots_[s].due;
    RemoveAt(0);
    Release(s);
    return true;
  }

  [[nodiscard]] std::size_t size() const { return heap_.size(); }

 private:
  static constexpr std::uint32_t kFree = UINT32_MAX;

  struct Slot {
    TimePoint due{};
    std::uint64_t seq = 0;  // FIFO among equal due times
    Executor::Task task;
    std::uint32_t gen = 1;  // bumped when the slot is released: old ids go stale
    std::uint32_t heap_pos = kFree;
  };

  [[nodiscard]] Executor::TimerId IdOf(std::uint32_t s) const {
    return (std::uint64_t{slots_[s].gen} << 32) | (std::uint64_t{s} + 1);  // never 0
  }
  [[nodiscard]] std::optional<std::uint32_t> SlotOf(Executor::TimerId id) const {
    const std::uint64_t low = id & 0xFFFFFFFFULL;
    if (low == 0 || low > slots_.size()) return std::nullopt;
    const auto s = static_cast<std::uint32_t>(low - 1);
    if (slots_[s].heap_pos == kFree || slots_[s].gen != static_cast<std::uint32_t>(id >> 32)) {
      return std::nullopt;
    }
    return s;
  }

  void Release(std::uint32_t s) {
    Slot& slot = slots_[s];
    slot.task = nullptr;
    slot.heap_pos = kFree;
    if (++slot.gen == 0) slot.gen = 1;
    free_.push_back(s);
  }

  [[nodiscard]] bool Before(std::uint32_t a, std::uint32_t b) const {
    const Slot& x = slots_[a];
    const Slot& y = slots_[b];
    if (x.due != y.due) return x.due < y.due;
    return x.seq < y.seq;
  }

  void Place(std::size_t pos, std::uint32_t s) {
    heap_[pos] = s;
    slots_[s].heap_pos = static_cast<std::uint32_t>(pos);
  }

  void SiftUp(std::size_t pos) {
    const std::uint32_t s = heap_[pos];
    while (pos > 0) {
      const std::size_t parent = (pos - 1) / 2;
      if (!Before(s, heap_[parent])) break;
      Place(pos, heap_[parent]);
      pos = parent;
    }
    Place(pos, s);
  }

  void SiftDown(std::size_t pos) {
    const std::uint32_t s = heap_[pos];
    const std::size_t n = heap_.size();
    for (;;) {
      std::size_t child = 2 * pos + 1;
      if (child >= n) break;
      if (child + 1 < n && Before(heap_[child + 1], heap_[child])) ++child;
      if (!Before(heap_[child], s)) break;
      Place(pos, heap_[child]);
      pos = child;
    }
    Place(pos, s);
  }

  // Takes the entry at pos out of the heap (its slot is released by the caller).
  void RemoveAt(std::size_t pos) {
    const std::uint32_t last = heap_.back();
    heap_.pop_back();
    if (pos == heap_.size()) return;
    Place(pos, last);
    if (pos > 0 && Before(last, heap_[(pos - 1) / 2])) {
      SiftUp(pos);
    } else {
      SiftDown(pos);
    }
  }

  std::vector<Slot> slots_;
  std::vector<std::uint32_t> heap_;  // slot indices, a binary min-heap on (due, seq)
  std::vector<std::uint32_t> free_;  // released slots
  std::uint64_t last_seq_ = 0;
};

}  // namespace openmpio::detail

// TimerQueue: the ordered task store both executors share (ManualExecutor on
// a virtual clock, ThreadExecutor on steady_clock). Not thread-safe: each
// executor guards it with its own mutex.
//
// Order is (due time, sequence number), so tasks due at the same instant run
// in the order they were added — Post is "a timer due now", and FIFO for equal
// times is what makes a simulation deterministic.
//
// Allocation: the heap is a reserved vector and tasks small enough for
// std::function's local buffer (two pointers) are stored in place, so adding
// and running timers allocates nothing in the steady state. Cancel is an O(n)
// scan and re-heap: fine for the sim and tests; the reactor may want a
// hierarchical timer wheel when it carries thousands of commands.
#pragma once

#include <algorithm>
#include <cstddef>
#include <optional>
#include <utility>
#include <vector>

#include "common/executor.h"

namespace openmpio::detail {

class TimerQueue {
 public:
  explicit TimerQueue(std::size_t reserve = 256) { heap_.reserve(reserve); }

  Executor::TimerId Add(TimePoint due, Executor::Task task) {
    const Executor::TimerId id = ++last_id_;
    heap_.push_back(Entry{due, id, std::move(task)});
    std::push_heap(heap_.begin(), heap_.end(), Later);
    return id;
  }

  // The removed task goes to *removed, for the caller to destroy after
  // dropping its lock (its captures' destructors may post).
  bool Cancel(Executor::TimerId id, Executor::Task* removed) {
    for (std::size_t i = 0; i < heap_.size(); ++i) {
      if (heap_[i].id != id) continue;
      // Removed at once, so cancelled timers (a command's timeout, cancelled
      // when it completes) never pile up: the heap stays at the live size and
      // the steady state allocates nothing. O(n), like the scan.
      *removed = std::move(heap_[i].task);
      if (i + 1 != heap_.size()) heap_[i] = std::move(heap_.back());
      heap_.pop_back();
      std::make_heap(heap_.begin(), heap_.end(), Later);
      return true;
    }
    return false;
  }

  // The due time of the earliest live task.
  [[nodiscard]] std::optional<TimePoint> NextDue() const {
    if (heap_.empty()) return std::nullopt;
    return heap_.front().due;
  }

  // Removes and returns the earliest live task if it is due at or before t.
  bool PopDue(TimePoint t, Executor::Task* task, TimePoint* due) {
    if (heap_.empty() || heap_.front().due > t) return false;
    std::pop_heap(heap_.begin(), heap_.end(), Later);
    *task = std::move(heap_.back().task);
    *due = heap_.back().due;
    heap_.pop_back();
    return true;
  }

  [[nodiscard]] std::size_t size() const { return heap_.size(); }

 private:
  struct Entry {
    TimePoint due;
    Executor::TimerId id;  // ids increase, so they double as the FIFO sequence
    Executor::Task task;
  };

  // std::*_heap build a max-heap: "a < b" must mean a runs later than b.
  static bool Later(const Entry& a, const Entry& b) {
    if (a.due != b.due) return a.due > b.due;
    return a.id > b.id;
  }

  std::vector<Entry> heap_;
  Executor::TimerId last_id_ = 0;
};

}  // namespace openmpio::detail

// WriteOrder: a read-modify-write of partial blocks (the plugin's, for
// clients that write less than a block) against every other write of the
// same export. The RMW reads the covering blocks, patches them and writes
// them back; a write of the same blocks that lands between its read and its
// write would be undone. So an RMW waits for the writes already in flight,
// and a write that overlaps an RMW in progress waits for it.
//
// Writes pay for this only while an RMW is active on the export: the fast
// path is one atomic increment and one load (Dekker with the RMW's own
// increment and load), no lock. While an RMW is active or waiting, writes
// take the slow path: under the mutex they wait for any overlapping range
// and register their own. Reads are not ordered (a read racing a write sees
// the old or the new data either way).
#pragma once

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <vector>

namespace openmpio::nbd {

class WriteOrder {
 public:
  // Byte range [first, end) of one write or RMW.
  struct Range {
    std::uint64_t first = 0, end = 0;
    [[nodiscard]] bool Overlaps(const Range& o) const { return first < o.end && o.first < end; }
  };

  // A plain write (aligned write, write zeroes, trim) of r, for the scope.
  class Write {
   public:
    Write(WriteOrder& o, Range r) : o_(o), r_(r) { fast_ = o_.BeginWrite(r_); }
    ~Write() { o_.EndWrite(r_, fast_); }
    Write(const Write&) = delete;
    Write& operator=(const Write&) = delete;

   private:
    WriteOrder& o_;
    Range r_;
    bool fast_;
  };

  // A read-modify-write of r, for the scope.
  class Rmw {
   public:
    Rmw(WriteOrder& o, Range r) : o_(o), r_(r) { o_.BeginRmw(r_); }
    ~Rmw() { o_.EndRmw(r_); }
    Rmw(const Rmw&) = delete;
    Rmw& operator=(const Rmw&) = delete;

   private:
    WriteOrder& o_;
    Range r_;
  };

  // Test hooks: writes that took the lock-free path and are in flight; RMWs
  // active or waiting.
  [[nodiscard]] std::int64_t fast_writes() const { return fast_.load(); }
  [[nodiscard]] std::int64_t rmws() const { return rmw_.load(); }

 private:
  bool BeginWrite(const Range& r) {
    fast_.fetch_add(1, std::memory_order_seq_cst);
    if (rmw_.load(std::memory_order_seq_cst) == 0) return true;
    EndFast();
    std::unique_lock<std::mutex> lock(mutex_);
    cv_.wait(lock, [&] { return !OverlapsLocked(r); });
    ranges_.push_back(r);
    return false;
  }

  void EndWrite(const Range& r, bool fast) {
    if (fast) {
      EndFast();
      return;
    }
    std::lock_guard<std::mutex> lock(mutex_);
    RemoveLocked(r);
    cv_.notify_all();
  }

  void BeginRmw(const Range& r) {
    rmw_.fetch_add(1, std::memory_order_seq_cst);
    std::unique_lock<std::mutex> lock(mutex_);
    cv_.wait(lock, [&] { return fast_.load(std::memory_order_seq_cst) == 0 && !OverlapsLocked(r); });
    ranges_.push_back(r);
  }

  void EndRmw(const Range& r) {
    std::lock_guard<std::mutex> lock(mutex_);
    RemoveLocked(r);
    rmw_.fetch_sub(1, std::memory_order_seq_cst);
    cv_.notify_all();
  }

  void EndFast() {
    fast_.fetch_sub(1, std::memory_order_seq_cst);
    // An RMW may be waiting for the lock-free writes to drain.
    if (rmw_.load(std::memory_order_seq_cst) != 0) {
      std::lock_guard<std::mutex> lock(mutex_);
      cv_.notify_all();
    }
  }

  [[nodiscard]] bool OverlapsLocked(const Range& r) const {
    return std::any_of(ranges_.begin(), ranges_.end(), [&](const Range& o) { return o.Overlaps(r); });
  }
  void RemoveLocked(const Range& r) {
    auto it = std::find_if(ranges_.begin(), ranges_.end(),
                           [&](const Range& o) { return o.first == r.first && o.end == r.end; });
    if (it != ranges_.end()) ranges_.erase(it);
  }

  std::atomic<std::int64_t> fast_{0};
  std::atomic<std::int64_t> rmw_{0};
  std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<Range> ranges_;  // slow-path writes and RMWs in progress
};

}  // namespace openmpio::nbd

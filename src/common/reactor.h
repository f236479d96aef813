// Reactor: an Executor that owns one thread and waits in epoll — on the
// descriptors it watches (a libiscsi context's socket), on an eventfd that
// wakes it for posts, and until the next timer (DESIGN.md "Layers").
//
// The hand-off between threads is the data path's (caller → reactor →
// caller), so:
//  - Post from any thread takes no lock and allocates nothing: it fills one
//    cell of a lock-free ring (mpmc_ring.h). Only when the ring is full does
//    a post go to an overflow list under a mutex (order per producer kept).
//  - The eventfd is written only when the reactor sleeps (or is about to):
//    a busy reactor takes posts without a system call on either side.
//  - Timers are an indexed heap (timer_queue.h): add and cancel O(log n).
//  - Optionally the loop spins a bounded time before sleeping (spin_ns; 0
//    here, the runtime sets it: a spinning reactor saves the wake-up of
//    the next post, but takes a core — bench/README.md has the numbers).
//
// Threading: Post is thread-safe; PostAfter, Cancel, Watch, Modify and
// Unwatch belong to the reactor's own thread (the Executor contract), or to
// any thread once Stop has joined it (nothing runs then; a Cancel in an
// owner's destructor is fine, a PostAfter is dropped). A
// PostAfter from another thread is a bug of the caller; it is caught by an
// assertion in debug builds, and in release builds the timer is still
// scheduled (through a post) but its id cannot be cancelled.
// Tasks run one at a time on the reactor's thread, in posting order for
// posts and (due time, scheduling) order for timers.
// Stop() must not be called from a task of this reactor (it joins).
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "common/executor.h"
#include "common/mpmc_ring.h"
#include "common/timer_queue.h"

namespace openmpio {

struct ReactorOptions {
  // Bounded busy-wait before the loop sleeps, in ns (0: sleep at once).
  std::uint64_t spin_ns = 0;
  // Cells of the lock-free post ring (a power of two).
  std::size_t ring_capacity = 4096;
};

class Reactor final : public Executor {
 public:
  explicit Reactor(ReactorOptions options = {});  // starts the thread
  Reactor(const Reactor&) = delete;
  Reactor& operator=(const Reactor&) = delete;
  ~Reactor() override;  // Stop()

  void Post(Task task) override;
  void Post(RawFn fn, void* arg) override;
  TimerId PostAfter(Duration delay, Task task) override;
  bool Cancel(TimerId id) override;
  [[nodiscard]] TimePoint Now() const override;
  [[nodiscard]] bool InExecutorThread() const override;
  WatchId Watch(int fd, std::uint32_t interest, FdHandler handler) override;
  bool Modify(WatchId id, std::uint32_t interest) override;
  bool Unwatch(WatchId id) override;

  // Lets the running task finish, then ends the thread and joins it. Tasks,
  // timers and watches still pending are destroyed without running; Post
  // after Stop is ignored. Idempotent.
  void Stop();

  // Loop statistics (any thread, relaxed): how often it went to sleep in epoll and
  // how often a post had to write the eventfd to wake it.
  [[nodiscard]] std::uint64_t sleeps() const noexcept { return sleeps_.load(std::memory_order_relaxed); }
  [[nodiscard]] std::uint64_t wakeups() const noexcept { return wakeups_.load(std::memory_order_relaxed); }

 private:
  struct Message {
    RawFn fn = nullptr;
    void* arg = nullptr;
    Task task;  // when fn is null
  };
  struct WatchSlot {
    int fd = -1;
    std::uint32_t interest = 0;
    std::uint32_t gen = 1;
    bool live = false;
    bool parked = false;  // took an error and left epoll until Modify
    FdHandler handler;
  };

  void Push(Message& m);
  void WakeIfSleeping();
  // Runs up to `budget` posted messages; true when it ran that many (more may wait).
  bool RunPosts(std::size_t budget);
  void RunDueTimers();
  void Loop();
  void Dispatch(std::uint64_t data, std::uint32_t epoll_events);
  [[nodiscard]] WatchSlot* Find(WatchId id);
  [[nodiscard]] static WatchId IdOf(std::uint32_t index, std::uint32_t gen) {
    return (std::uint64_t{gen} << 32) | (std::uint64_t{index} + 1);
  }
  void DrainAndDestroy();

  const ReactorOptions options_;
  int epoll_fd_ = -1;
  int event_fd_ = -1;

  MpmcRing<Message> ring_;
  // Overflow (ring full): under overflow_mutex_. While overflowing_ is set,
  // every post goes here, so one producer's posts stay in order. The loop
  // swaps it out only when, under the same lock, the ring holds no claimed
  // cell (RunPosts has the argument).
  std::mutex overflow_mutex_;
  std::deque<Message> overflow_;
  std::atomic<bool> overflowing_{false};

  // Set by the loop just before it waits; a producer that sees it writes the
  // eventfd (Dekker: each side fences between its store and its load).
  std::atomic<bool> sleeping_{false};
  std::atomic<bool> stopping_{false};
  std::atomic<std::uint64_t> sleeps_{0};
  std::atomic<std::uint64_t> wakeups_{0};

  // Reactor thread only.
  detail::TimerQueue timers_;
  std::vector<WatchSlot> watches_;
  std::vector<std::uint32_t> free_watches_;
  std::size_t live_watches_ = 0;

  // Set by the thread itself before it runs anything; read by any thread
  // (thread_ is not safe to read while Stop joins it).
  std::atomic<std::thread::id> thread_id_{};
  std::atomic<bool> joined_{false};  // Stop joined the thread: any thread owns the timers
  // The calling thread may touch timers and watches.
  [[nodiscard]] bool Owns() const { return joined_.load(std::memory_order_acquire) || InExecutorThread(); }
  std::thread thread_;  // last: starts once the members above exist
};

}  // namespace openmpio

// ManualExecutor: a single-threaded Executor on a virtual clock, for unit
// tests and deterministic simulation. Nothing runs until the owner drives it:
// RunUntilIdle() runs what is due now, AdvanceTo()/RunFor() move the clock
// from timer to timer. Same inputs, same order of callbacks, every run.
//
// Threading: the thread that constructs it is "the executor's thread"
// (InExecutorThread). Post is thread-safe (another thread may post; the task
// runs when the owner next drives the executor); everything else is called on
// the owner thread. Tasks run without the internal lock held, so they may
// post, schedule and cancel freely.
//
// Descriptors are fake: Watch takes any number (no real descriptor needed),
// and the test says what is ready with SetReady. Whenever the executor runs
// out of tasks due now, it "polls" once: every watch whose descriptor is
// ready for what it waits for is called, as epoll would report it
// (level-triggered; an error is told once and parks the watch, as in the
// Reactor), and tasks run again. A handler that does not consume what made
// its descriptor ready (SetReady(fd, 0)) is called again at the next poll,
// like a real loop that leaves data in a socket.
#pragma once

#include <cstddef>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include "common/executor.h"
#include "common/timer_queue.h"

namespace openmpio {

class ManualExecutor final : public Executor {
 public:
  // The virtual clock starts at start (the epoch by default).
  explicit ManualExecutor(TimePoint start = TimePoint{});
  ManualExecutor(const ManualExecutor&) = delete;
  ManualExecutor& operator=(const ManualExecutor&) = delete;
  ~ManualExecutor() override = default;  // pending tasks are destroyed unrun

  void Post(Task task) override;
  void Post(RawFn fn, void* arg) override;
  TimerId PostAfter(Duration delay, Task task) override;
  bool Cancel(TimerId id) override;
  [[nodiscard]] TimePoint Now() const override;
  [[nodiscard]] bool InExecutorThread() const override;
  WatchId Watch(int fd, std::uint32_t interest, FdHandler handler) override;
  bool Modify(WatchId id, std::uint32_t interest) override;
  bool Unwatch(WatchId id) override;

  // The fake descriptor fd is ready for `events` (kFd* bits; 0: nothing)
  // from now on, until set again. Owner thread.
  void SetReady(int fd, std::uint32_t events);
  // Live watches (not unwatched).
  [[nodiscard]] std::size_t watches() const;

  // Runs every task due at Now(), including those they post or schedule for
  // Now(), until none is left. The clock does not move. Returns tasks run.
  std::size_t RunUntilIdle();
  // Runs every task due at or before t in (due, posting) order, setting the
  // clock to each task's due time before running it; leaves the clock at t
  // (or where it was, if later). Returns tasks run.
  std::size_t AdvanceTo(TimePoint t);
  std::size_t RunFor(Duration d) { return AdvanceTo(Now() + d); }

  // The due time of the earliest pending task, if any.
  [[nodiscard]] std::optional<TimePoint> NextDue() const;
  // Pending tasks (posted or scheduled, not cancelled).
  [[nodiscard]] std::size_t pending() const;

 private:
  bool RunOne(TimePoint limit);
  // One poll of the fake descriptors: calls every ready watch once; returns
  // how many were called.
  std::size_t PollOnce();

  struct FakeWatch {
    int fd = -1;
    std::uint32_t interest = 0;
    bool parked = false;
    WatchId id = 0;
    FdHandler handler;
  };
  // Owner thread only.
  std::vector<FakeWatch> watches_;
  std::vector<std::pair<int, std::uint32_t>> ready_;  // fd -> kFd* bits
  WatchId last_watch_ = 0;

  mutable std::mutex mutex_;
  detail::TimerQueue queue_;
  TimePoint now_;
  std::thread::id owner_;
};

}  // namespace openmpio

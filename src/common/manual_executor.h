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
#pragma once

#include <cstddef>
#include <mutex>
#include <optional>
#include <thread>

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
  TimerId PostAfter(Duration delay, Task task) override;
  bool Cancel(TimerId id) override;
  [[nodiscard]] TimePoint Now() const override;
  [[nodiscard]] bool InExecutorThread() const override;

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

  mutable std::mutex mutex_;
  detail::TimerQueue queue_;
  TimePoint now_;
  std::thread::id owner_;
};

}  // namespace openmpio

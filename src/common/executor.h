// Executor: where callbacks run. Every transport nexus is bound to one
// executor (one reactor thread, or the virtual-time loop of a test), and
// every callback of that nexus runs on it — the SPDK model: per-thread state
// changes without locks.
//
// Time is the executor's: Now() is the only clock the transports and the
// engine read, so a test that drives a ManualExecutor runs 20-second timers
// in no real time at all.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>

namespace openmpio {

using Clock = std::chrono::steady_clock;
using TimePoint = std::chrono::time_point<Clock, std::chrono::nanoseconds>;
using Duration = std::chrono::nanoseconds;

class Executor {
 public:
  using Task = std::function<void()>;
  using TimerId = std::uint64_t;  // never 0

  virtual ~Executor() = default;

  // Runs task on this executor, after the tasks already posted. Thread-safe.
  virtual void Post(Task task) = 0;
  // Runs task at Now() + delay or later. Call from the executor's own thread.
  virtual TimerId PostAfter(Duration delay, Task task) = 0;
  // Cancels a timer that has not run yet; false if it ran or was unknown.
  // Call from the executor's own thread.
  virtual bool Cancel(TimerId id) = 0;
  // The executor's clock (virtual in tests).
  [[nodiscard]] virtual TimePoint Now() const = 0;
  // True when called on the executor's own thread.
  [[nodiscard]] virtual bool InExecutorThread() const = 0;
};

}  // namespace openmpio

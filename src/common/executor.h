// Executor: where callbacks run. Every transport nexus is bound to one
// executor (one reactor thread, or the virtual-time loop of a test), and
// every callback of that nexus runs on it — the SPDK model: per-thread state
// changes without locks.
//
// Time is the executor's: Now() is the only clock the transports and the
// engine read, so a test that drives a ManualExecutor runs 20-second timers
// in no real time at all.
//
// Descriptors are the executor's too: a transport that owns a socket (the
// libiscsi context of a nexus) watches it here and is called back on this
// executor when it is ready. The Reactor waits in epoll; the ManualExecutor
// has fake descriptors whose readiness a test sets, so descriptor-driven code
// runs in virtual time as well.
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
  // A message without a std::function: what the data path posts (a request
  // hopping from the caller to its nexus's reactor), two words, no allocation.
  using RawFn = void (*)(void* arg);
  using TimerId = std::uint64_t;  // never 0
  using WatchId = std::uint64_t;  // never 0

  // Readiness of a watched descriptor (level-triggered, as epoll reports it).
  static constexpr std::uint32_t kFdReadable = 1;  // EPOLLIN
  static constexpr std::uint32_t kFdWritable = 2;  // EPOLLOUT
  // EPOLLERR / EPOLLHUP: reported whatever the interest. Told once: the
  // watch is then parked (no more callbacks, so a hung-up socket cannot spin
  // the loop) until Modify re-arms it or Unwatch ends it.
  static constexpr std::uint32_t kFdError = 4;
  // Called on the executor with the kFd* bits that are ready.
  using FdHandler = std::function<void(std::uint32_t events)>;

  virtual ~Executor() = default;

  // Runs task on this executor, after the tasks already posted. Thread-safe.
  virtual void Post(Task task) = 0;
  // Runs fn(arg) on this executor, in the same FIFO as Post. Thread-safe;
  // allocates nothing.
  virtual void Post(RawFn fn, void* arg) = 0;
  // Runs task at Now() + delay or later. Call from the executor's own thread.
  virtual TimerId PostAfter(Duration delay, Task task) = 0;
  // Cancels a timer that has not run yet; false if it ran or was unknown.
  // Call from the executor's own thread, or from any thread once the
  // executor has stopped (an owner's destructor after Stop).
  virtual bool Cancel(TimerId id) = 0;

  // Watches fd for the kFdReadable / kFdWritable bits of interest (0: only
  // errors); handler runs on this executor while the descriptor is ready.
  // The watch is named by the id, not the number: a descriptor closed and
  // replaced by one with the same number (a reconnect) is a new watch, and
  // a stale id is refused. Unwatch before closing the descriptor. All three
  // on the executor's own thread; Watch returns 0 when fd cannot be watched.
  virtual WatchId Watch(int fd, std::uint32_t interest, FdHandler handler) = 0;
  // Changes what the watch waits for (libiscsi's iscsi_which_events changes
  // after each iscsi_service); re-arms a watch parked after an error.
  virtual bool Modify(WatchId id, std::uint32_t interest) = 0;
  // Ends the watch; its handler is not called again (not even for readiness
  // already collected in the current loop round).
  virtual bool Unwatch(WatchId id) = 0;
  // The executor's clock (virtual in tests).
  [[nodiscard]] virtual TimePoint Now() const = 0;
  // True when called on the executor's own thread.
  [[nodiscard]] virtual bool InExecutorThread() const = 0;
};

}  // namespace openmpio

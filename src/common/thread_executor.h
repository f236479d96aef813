// ThreadExecutor: an Executor that owns one std::thread, a task queue and a
// timer heap on steady_clock. It is the seed of the engine's reactor thread:
// the reactor will also poll file descriptors (libiscsi's iscsi_get_fd /
// iscsi_which_events / iscsi_service) where this one waits on a condition
// variable — see Loop() in thread_executor.cpp.
//
// Threading: Post, PostAfter and Cancel are thread-safe here (the Executor
// contract only asks it of Post). Tasks run one at a time on the executor's
// thread, in (due time, posting) order, without the internal lock held.
// Stop() must not be called from a task of this executor (it joins).
#pragma once

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "common/executor.h"
#include "common/timer_queue.h"

namespace openmpio {

class ThreadExecutor final : public Executor {
 public:
  ThreadExecutor();  // starts the thread
  ThreadExecutor(const ThreadExecutor&) = delete;
  ThreadExecutor& operator=(const ThreadExecutor&) = delete;
  ~ThreadExecutor() override;  // Stop()

  void Post(Task task) override;
  TimerId PostAfter(Duration delay, Task task) override;
  bool Cancel(TimerId id) override;
  [[nodiscard]] TimePoint Now() const override;
  [[nodiscard]] bool InExecutorThread() const override;

  // Lets the running task finish, then ends the thread and joins it. Tasks
  // and timers still pending are destroyed without running; Post after Stop
  // is ignored. Idempotent.
  void Stop();

 private:
  void Loop();

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  detail::TimerQueue queue_;
  bool stopping_ = false;
  // Set by the thread itself before it runs anything; read by any thread
  // (thread_ is not safe to read while Stop joins it).
  std::atomic<std::thread::id> thread_id_{};
  std::thread thread_;  // last: starts once the members above exist
};

}  // namespace openmpio

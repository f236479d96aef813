#include "common/thread_executor.h"

#include <chrono>
#include <utility>

namespace openmpio {
namespace {

TimePoint SteadyNow() {
  return std::chrono::time_point_cast<Duration>(Clock::now());
}

}  // namespace

ThreadExecutor::ThreadExecutor() : thread_([this] { Loop(); }) {}

ThreadExecutor::~ThreadExecutor() {
  Stop();
}

void ThreadExecutor::Post(Task task) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_) return;
    // The clock is read under the lock, so due times of successive posts never
    // decrease and (due, sequence) keeps them FIFO.
    queue_.Add(SteadyNow(), std::move(task));
  }
  wake_.notify_one();
}

Executor::TimerId ThreadExecutor::PostAfter(Duration delay, Task task) {
  TimerId id = 0;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_) return 0;
    const TimePoint now = SteadyNow();
    id = queue_.Add(delay > Duration::zero() ? now + delay : now, std::move(task));
  }
  wake_.notify_one();
  return id;
}

bool ThreadExecutor::Cancel(TimerId id) {
  Task removed;  // destroyed after the lock is released
  std::lock_guard<std::mutex> lock(mutex_);
  return queue_.Cancel(id, &removed);
}

TimePoint ThreadExecutor::Now() const {
  return SteadyNow();
}

bool ThreadExecutor::InExecutorThread() const {
  return std::this_thread::get_id() == thread_id_.load(std::memory_order_acquire);
}

void ThreadExecutor::Stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  if (!InExecutorThread() && thread_.joinable()) thread_.join();
  // Destroy pending tasks outside the lock: their captures' destructors may
  // call Post (ignored now) and must not deadlock.
  detail::TimerQueue pending(0);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    std::swap(pending, queue_);
  }
}

void ThreadExecutor::Loop() {
  thread_id_.store(std::this_thread::get_id(), std::memory_order_release);
  std::unique_lock<std::mutex> lock(mutex_);
  while (!stopping_) {
    Task task;
    TimePoint due;
    if (queue_.PopDue(SteadyNow(), &task, &due)) {
      lock.unlock();
      if (task) task();
      task = nullptr;  // destroy captures outside the lock too
      lock.lock();
      continue;
    }
    // The reactor's poll goes here: instead of the condition variable, wait
    // in poll/epoll on the libiscsi descriptors plus an eventfd that Post
    // writes, with the timeout of the next timer (and a periodic timer that
    // calls iscsi_service for libiscsi's command timeouts).
    if (auto next = queue_.NextDue()) {
      wake_.wait_until(lock, *next);
    } else {
      wake_.wait(lock);
    }
  }
}

}  // namespace openmpio

#include "common/manual_executor.h"

#include <utility>

namespace openmpio {

ManualExecutor::ManualExecutor(TimePoint start) : now_(start), owner_(std::this_thread::get_id()) {}

void ManualExecutor::Post(Task task) {
  std::lock_guard<std::mutex> lock(mutex_);
  queue_.Add(now_, std::move(task));
}

Executor::TimerId ManualExecutor::PostAfter(Duration delay, Task task) {
  std::lock_guard<std::mutex> lock(mutex_);
  // A negative delay is "now": a timer never fires in the past, so it cannot
  // jump ahead of tasks already posted for now.
  return queue_.Add(delay > Duration::zero() ? now_ + delay : now_, std::move(task));
}

bool ManualExecutor::Cancel(TimerId id) {
  Task removed;  // destroyed after the lock is released
  std::lock_guard<std::mutex> lock(mutex_);
  return queue_.Cancel(id, &removed);
}

TimePoint ManualExecutor::Now() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return now_;
}

bool ManualExecutor::InExecutorThread() const {
  return std::this_thread::get_id() == owner_;
}

bool ManualExecutor::RunOne(TimePoint limit) {
  Task task;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    TimePoint due;
    if (!queue_.PopDue(limit, &task, &due)) return false;
    if (due > now_) now_ = due;
  }
  // Run without the lock: the task may post, schedule or cancel.
  if (task) task();
  return true;
}

std::size_t ManualExecutor::RunUntilIdle() {
  std::size_t ran = 0;
  while (RunOne(Now())) ++ran;
  return ran;
}

std::size_t ManualExecutor::AdvanceTo(TimePoint t) {
  std::size_t ran = 0;
  while (RunOne(t)) ++ran;
  std::lock_guard<std::mutex> lock(mutex_);
  if (t > now_) now_ = t;
  return ran;
}

std::optional<TimePoint> ManualExecutor::NextDue() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return queue_.NextDue();
}

std::size_t ManualExecutor::pending() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return queue_.size();
}

}  // namespace openmpio

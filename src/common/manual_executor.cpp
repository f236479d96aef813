#include "common/manual_executor.h"

#include <algorithm>
#include <utility>

namespace openmpio {

ManualExecutor::ManualExecutor(TimePoint start) : now_(start), owner_(std::this_thread::get_id()) {}

void ManualExecutor::Post(Task task) {
  std::lock_guard<std::mutex> lock(mutex_);
  queue_.Add(now_, std::move(task));
}

void ManualExecutor::Post(RawFn fn, void* arg) {
  Post([fn, arg] { fn(arg); });
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
  for (;;) {
    while (RunOne(Now())) ++ran;
    const std::size_t polled = PollOnce();
    if (polled == 0) break;
    ran += polled;
  }
  return ran;
}

std::size_t ManualExecutor::AdvanceTo(TimePoint t) {
  std::size_t ran = RunUntilIdle();
  while (RunOne(t)) ran += 1 + RunUntilIdle();
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

namespace openmpio {

Executor::WatchId ManualExecutor::Watch(int fd, std::uint32_t interest, FdHandler handler) {
  if (fd < 0 || !handler) return 0;
  for (const FakeWatch& w : watches_) {
    if (w.fd == fd) return 0;  // epoll refuses a descriptor twice (EEXIST)
  }
  watches_.push_back(FakeWatch{fd, interest, false, ++last_watch_, std::move(handler)});
  return last_watch_;
}

bool ManualExecutor::Modify(WatchId id, std::uint32_t interest) {
  for (FakeWatch& w : watches_) {
    if (w.id != id) continue;
    w.interest = interest;
    w.parked = false;
    return true;
  }
  return false;
}

bool ManualExecutor::Unwatch(WatchId id) {
  for (std::size_t i = 0; i < watches_.size(); ++i) {
    if (watches_[i].id != id) continue;
    // Destroyed after it leaves the list (it may be the caller: PollOnce
    // holds its own copy while it runs).
    FdHandler gone = std::move(watches_[i].handler);
    watches_.erase(watches_.begin() + static_cast<std::ptrdiff_t>(i));
    return true;
  }
  return false;
}

void ManualExecutor::SetReady(int fd, std::uint32_t events) {
  for (auto& [f, e] : ready_) {
    if (f == fd) {
      e = events;
      return;
    }
  }
  ready_.emplace_back(fd, events);
}

std::size_t ManualExecutor::watches() const {
  return watches_.size();
}

std::size_t ManualExecutor::PollOnce() {
  // Collect first (as epoll_wait returns a batch), then call: a handler may
  // watch or unwatch; an id unwatched meanwhile is skipped.
  std::vector<std::pair<WatchId, std::uint32_t>> batch;
  for (const FakeWatch& w : watches_) {
    if (w.parked) continue;
    for (const auto& [f, e] : ready_) {
      if (f != w.fd) continue;
      const std::uint32_t r = e & (w.interest | kFdError);
      if (r != 0) batch.emplace_back(w.id, r);
    }
  }
  std::size_t called = 0;
  for (const auto& [id, r] : batch) {
    auto it = std::find_if(watches_.begin(), watches_.end(),
                           [id = id](const FakeWatch& w) { return w.id == id; });
    if (it == watches_.end()) continue;
    FdHandler h = it->handler;  // a copy: the handler may unwatch itself
    h(r);
    ++called;
    it = std::find_if(watches_.begin(), watches_.end(),
                      [id = id](const FakeWatch& w) { return w.id == id; });
    if (it != watches_.end() && (r & kFdError) != 0) it->parked = true;
  }
  return called;
}

}  // namespace openmpio

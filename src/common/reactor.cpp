#include "common/reactor.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <array>
#include <cassert>
#include <cerrno>
#include <chrono>
#include <ctime>
#include <system_error>
#include <utility>

namespace openmpio {
namespace {

// Posts and timers run per loop round before the descriptors are polled
// again, so a flood of posts cannot starve a socket (or the other way round).
constexpr std::size_t kPostBudget = 256;
constexpr std::size_t kTimerBudget = 256;
constexpr int kMaxEvents = 64;
constexpr std::uint64_t kWakeData = 0;  // the eventfd's epoll data (watch ids are never 0)
// A foreign thread's PostAfter (a caller's bug, see reactor.h): an id no slot
// matches, so Cancel refuses it.
constexpr Executor::TimerId kUncancellableTimer = std::uint64_t{1} << 63;

TimePoint SteadyNow() {
  return std::chrono::time_point_cast<Duration>(Clock::now());
}

std::uint32_t EpollEventsOf(std::uint32_t interest) {
  std::uint32_t e = 0;
  if (interest & Executor::kFdReadable) e |= EPOLLIN;
  if (interest & Executor::kFdWritable) e |= EPOLLOUT;
  return e;
}

std::uint32_t FdEventsOf(std::uint32_t epoll_events) {
  std::uint32_t e = 0;
  if (epoll_events & (EPOLLIN | EPOLLPRI)) e |= Executor::kFdReadable;
  if (epoll_events & EPOLLOUT) e |= Executor::kFdWritable;
  if (epoll_events & (EPOLLERR | EPOLLHUP)) e |= Executor::kFdError;
  return e;
}

// epoll_pwait2 takes a timespec (timers below a millisecond matter: the sim's
// link latencies are microseconds); before Linux 5.11 epoll_wait rounds up.
int WaitEvents(int epfd, epoll_event* events, std::int64_t timeout_ns) {
  static std::atomic<bool> no_pwait2{false};
  if (!no_pwait2.load(std::memory_order_relaxed)) {
    timespec ts{};
    if (timeout_ns >= 0) {
      ts.tv_sec = static_cast<time_t>(timeout_ns / 1'000'000'000);
      ts.tv_nsec = static_cast<long>(timeout_ns % 1'000'000'000);
    }
    const int n = epoll_pwait2(epfd, events, kMaxEvents, timeout_ns < 0 ? nullptr : &ts, nullptr);
    if (n >= 0 || errno != ENOSYS) return n;
    no_pwait2.store(true, std::memory_order_relaxed);
  }
  const int ms = timeout_ns < 0 ? -1 : static_cast<int>((timeout_ns + 999'999) / 1'000'000);
  return epoll_wait(epfd, events, kMaxEvents, ms);
}

}  // namespace

Reactor::Reactor(ReactorOptions options) : options_(options), ring_(options.ring_capacity) {
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd_ < 0) throw std::system_error(errno, std::generic_category(), "epoll_create1");
  event_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (event_fd_ < 0) {
    const int e = errno;
    close(epoll_fd_);
    throw std::system_error(e, std::generic_category(), "eventfd");
  }
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = kWakeData;
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, event_fd_, &ev) != 0) {
    const int e = errno;
    close(event_fd_);
    close(epoll_fd_);
    throw std::system_error(e, std::generic_category(), "epoll_ctl(eventfd)");
  }
  thread_ = std::thread([this] { Loop(); });
}

Reactor::~Reactor() {
  Stop();
  DrainAndDestroy();  // posts that raced with Stop
  close(event_fd_);
  close(epoll_fd_);
}

// ---- posting (any thread) ----------------------------------------------------------

void Reactor::Post(Task task) {
  if (stopping_.load(std::memory_order_acquire)) return;
  Message m;
  m.task = std::move(task);
  Push(m);
}

void Reactor::Post(RawFn fn, void* arg) {
  if (stopping_.load(std::memory_order_acquire)) return;
  Message m;
  m.fn = fn;
  m.arg = arg;
  Push(m);
}

void Reactor::Push(Message& m) {
  if (!overflowing_.load(std::memory_order_acquire) && ring_.TryPush(m)) {
    WakeIfSleeping();
    return;
  }
  {
    std::lock_guard<std::mutex> lock(overflow_mutex_);
    // Re-checked under the lock: the loop may have emptied the overflow and
    // cleared the flag since, and then the ring is the place again.
    if (overflowing_.load(std::memory_order_relaxed) || !ring_.TryPush(m)) {
      overflowing_.store(true, std::memory_order_release);
      overflow_.push_back(std::move(m));
    }
  }
  WakeIfSleeping();
}

void Reactor::WakeIfSleeping() {
  // Pairs with the fence in Loop: either the loop sees this post before it
  // sleeps, or this sees `sleeping_` and writes the eventfd.
  std::atomic_thread_fence(std::memory_order_seq_cst);
  if (!sleeping_.load(std::memory_order_relaxed)) return;
  if (!sleeping_.exchange(false, std::memory_order_acq_rel)) return;  // another post woke it
  // Counted before the write: the task this post wakes the reactor for sees it.
  wakeups_.fetch_add(1, std::memory_order_relaxed);
  const std::uint64_t one = 1;
  [[maybe_unused]] const ssize_t w = write(event_fd_, &one, sizeof one);
}

// ---- timers and watches (the reactor's thread) ------------------------------------

Executor::TimerId Reactor::PostAfter(Duration delay, Task task) {
  if (joined_.load(std::memory_order_acquire)) return 0;  // stopped: nothing runs any more
  if (!InExecutorThread()) {
    assert(false && "Reactor::PostAfter from another thread (Executor contract)");
    Post([this, delay, task = std::move(task)]() mutable { PostAfter(delay, std::move(task)); });
    return kUncancellableTimer;
  }
  if (stopping_.load(std::memory_order_relaxed)) return 0;
  const TimePoint now = SteadyNow();
  return timers_.Add(delay > Duration::zero() ? now + delay : now, std::move(task));
}

bool Reactor::Cancel(TimerId id) {
  assert(Owns() && "Reactor::Cancel from another thread (Executor contract)");
  if (!Owns()) return false;
  Task removed;
  return timers_.Cancel(id, &removed);
}

TimePoint Reactor::Now() const {
  return SteadyNow();
}

bool Reactor::InExecutorThread() const {
  return std::this_thread::get_id() == thread_id_.load(std::memory_order_acquire);
}

Reactor::WatchSlot* Reactor::Find(WatchId id) {
  const std::uint64_t low = id & 0xFFFFFFFFULL;
  if (low == 0 || low > watches_.size()) return nullptr;
  WatchSlot& w = watches_[low - 1];
  if (!w.live || w.gen != static_cast<std::uint32_t>(id >> 32)) return nullptr;
  return &w;
}

Executor::WatchId Reactor::Watch(int fd, std::uint32_t interest, FdHandler handler) {
  assert(InExecutorThread() && "Reactor::Watch from another thread (Executor contract)");
  if (!InExecutorThread() || fd < 0 || !handler) return 0;
  std::uint32_t index;
  if (!free_watches_.empty()) {
    index = free_watches_.back();
    free_watches_.pop_back();
  } else {
    index = static_cast<std::uint32_t>(watches_.size());
    watches_.emplace_back();
  }
  WatchSlot& w = watches_[index];
  epoll_event ev{};
  ev.events = EpollEventsOf(interest);
  ev.data.u64 = IdOf(index, w.gen);
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
    free_watches_.push_back(index);
    return 0;
  }
  w.fd = fd;
  w.interest = interest;
  w.live = true;
  w.parked = false;
  w.handler = std::move(handler);
  ++live_watches_;
  return IdOf(index, w.gen);
}

bool Reactor::Modify(WatchId id, std::uint32_t interest) {
  assert(InExecutorThread() && "Reactor::Modify from another thread (Executor contract)");
  WatchSlot* w = InExecutorThread() ? Find(id) : nullptr;
  if (w == nullptr) return false;
  epoll_event ev{};
  ev.events = EpollEventsOf(interest);
  ev.data.u64 = id;
  if (epoll_ctl(epoll_fd_, w->parked ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, w->fd, &ev) != 0) {
    return false;
  }
  w->interest = interest;
  w->parked = false;
  return true;
}

bool Reactor::Unwatch(WatchId id) {
  assert(Owns() && "Reactor::Unwatch from another thread (Executor contract)");
  WatchSlot* w = Owns() ? Find(id) : nullptr;
  if (w == nullptr) return false;
  // The descriptor may already be closed (then epoll dropped it itself).
  if (!w->parked) epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, w->fd, nullptr);
  // The generation moves now, so readiness already collected for this id in
  // the current round is dropped; the slot is reused only after the handler
  // (which may be the caller) has returned.
  w->live = false;
  if (++w->gen == 0) w->gen = 1;
  --live_watches_;
  FdHandler gone = std::move(w->handler);
  w->handler = nullptr;
  free_watches_.push_back(static_cast<std::uint32_t>(w - watches_.data()));
  return true;
}

// ---- the loop -----------------------------------------------------------------------

bool Reactor::RunPosts(std::size_t budget) {
  Message m;
  for (std::size_t ran = 0; ran < budget; ++ran) {
    if (stopping_.load(std::memory_order_relaxed)) return false;  // Stop: nothing more runs
    if (!ring_.TryPop(m)) {
      if (!overflowing_.load(std::memory_order_acquire)) return false;
      // Per-producer order across the ring and the overflow. The batch
      // swapped out below is what producers appended under the lock before
      // we took it. A producer P with an item X in it pushed all of its
      // earlier items before that, and each went either
      //  - to the overflow: ahead of X in this batch, or in an earlier
      //    batch (already run);
      //  - to the ring: P claimed its cell (head_) before unlocking after
      //    X, so our lock acquisition sees that claim, and the ring is
      //    Claimed() until we have popped — and so run — that item.
      // So: the overflow is swapped only if, under the lock, no cell is
      // claimed and unconsumed; otherwise the ring goes first (a producer
      // mid-publish just makes us come round again). The check must be
      // under the lock: checked before it, a producer that loaded
      // overflowing_ as false earlier could still fill the empty ring with
      // X-1 and then append X to the overflow before our swap — and X
      // would run first. Posts after the swap go to the ring (flag clear)
      // or a new overflow, and all of them run after this batch.
      std::deque<Message> batch;
      {
        std::lock_guard<std::mutex> lock(overflow_mutex_);
        if (ring_.Claimed()) return true;
        batch.swap(overflow_);
        overflowing_.store(false, std::memory_order_release);
      }
      for (Message& o : batch) {
        if (stopping_.load(std::memory_order_relaxed)) break;
        if (o.fn != nullptr) {
          o.fn(o.arg);
        } else if (o.task) {
          o.task();
        }
        o.task = nullptr;
      }
      return true;
    }
    if (m.fn != nullptr) {
      m.fn(m.arg);
    } else if (m.task) {
      m.task();
      m.task = nullptr;  // its captures go now, not at the next post
    }
  }
  return true;
}

void Reactor::RunDueTimers() {
  if (!timers_.NextDue()) return;
  const TimePoint now = SteadyNow();
  Task task;
  TimePoint due;
  for (std::size_t ran = 0; ran < kTimerBudget && timers_.PopDue(now, &task, &due); ++ran) {
    task();
    task = nullptr;
  }
}

void Reactor::Dispatch(std::uint64_t data, std::uint32_t epoll_events) {
  if (data == kWakeData) {
    std::uint64_t count;
    [[maybe_unused]] const ssize_t r = read(event_fd_, &count, sizeof count);
    return;
  }
  WatchSlot* w = Find(data);
  if (w == nullptr) return;  // unwatched earlier in this round
  const std::uint32_t ready = FdEventsOf(epoll_events) & (w->interest | kFdError);
  if (ready == 0) return;
  // The handler may Unwatch (even itself) or Watch (growing watches_): it
  // runs from a moved-out copy, put back only if the watch still lives.
  FdHandler handler = std::move(w->handler);
  handler(ready);
  w = Find(data);
  if (w == nullptr) return;
  w->handler = std::move(handler);
  if ((ready & kFdError) != 0 && !w->parked) {
    // Told once: an error or hang-up stays reported (level-triggered), so
    // the watch leaves epoll until its owner re-arms or ends it.
    epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, w->fd, nullptr);
    w->parked = true;
  }
}

void Reactor::Loop() {
  thread_id_.store(std::this_thread::get_id(), std::memory_order_release);
  std::array<epoll_event, kMaxEvents> events{};
  while (!stopping_.load(std::memory_order_acquire)) {
    const bool more = RunPosts(kPostBudget);
    RunDueTimers();
    if (stopping_.load(std::memory_order_acquire)) break;

    std::int64_t timeout_ns = 0;
    if (!more && ring_.Empty() && !overflowing_.load(std::memory_order_acquire)) {
      timeout_ns = -1;
      if (const auto next = timers_.NextDue()) {
        const auto left = (*next - SteadyNow()).count();
        timeout_ns = left > 0 ? left : 0;
      }
    }
    if (timeout_ns != 0 && options_.spin_ns > 0) {
      const TimePoint until = SteadyNow() + Duration(options_.spin_ns);
      while (ring_.Empty() && SteadyNow() < until) {
      }
      if (!ring_.Empty()) timeout_ns = 0;
    }
    bool slept = false;
    if (timeout_ns != 0) {
      sleeping_.store(true, std::memory_order_relaxed);
      std::atomic_thread_fence(std::memory_order_seq_cst);
      if (!ring_.Empty() || overflowing_.load(std::memory_order_relaxed) ||
          stopping_.load(std::memory_order_relaxed)) {
        sleeping_.store(false, std::memory_order_relaxed);
        timeout_ns = 0;
      } else {
        slept = true;
        sleeps_.fetch_add(1, std::memory_order_relaxed);  // counted as it falls asleep
      }
    }
    // Nothing to wait for and nothing watched: skip the system call.
    if (timeout_ns == 0 && live_watches_ == 0) continue;
    const int n = WaitEvents(epoll_fd_, events.data(), timeout_ns);
    if (slept) sleeping_.store(false, std::memory_order_relaxed);
    for (int i = 0; i < n; ++i) {
      Dispatch(events[static_cast<std::size_t>(i)].data.u64, events[static_cast<std::size_t>(i)].events);
    }
  }
}

void Reactor::Stop() {
  if (stopping_.exchange(true, std::memory_order_acq_rel)) {
    if (!InExecutorThread() && thread_.joinable()) {
      thread_.join();
      joined_.store(true, std::memory_order_release);
    }
    return;
  }
  const std::uint64_t one = 1;
  [[maybe_unused]] const ssize_t w = write(event_fd_, &one, sizeof one);
  if (!InExecutorThread() && thread_.joinable()) {
    thread_.join();
    joined_.store(true, std::memory_order_release);
  }
  if (!InExecutorThread()) DrainAndDestroy();
}

void Reactor::DrainAndDestroy() {
  // Pending work is destroyed unrun; its captures' destructors may Post
  // (ignored now: stopping_ is set).
  Message m;
  while (ring_.TryPop(m)) m.task = nullptr;
  std::deque<Message> overflow;
  {
    std::lock_guard<std::mutex> lock(overflow_mutex_);
    overflow.swap(overflow_);
    overflowing_.store(false, std::memory_order_relaxed);
  }
  overflow.clear();
  detail::TimerQueue pending(0);
  std::swap(pending, timers_);
  for (WatchSlot& w : watches_) w.handler = nullptr;
}

}  // namespace openmpio

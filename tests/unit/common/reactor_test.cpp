// The Reactor's own behaviour beyond the Executor contract (executor_test.cpp):
// real descriptors (a pipe, a socketpair), a descriptor closed and replaced,
// a hang-up that must not spin the loop, posts from many threads through the
// lock-free ring and its overflow, the eventfd written only to wake a sleeper,
// timers cancelled in any order, stop with work pending, and the same
// descriptor-driven code on the ManualExecutor's fake descriptors in virtual
// time. Real-thread tests assert order and "eventually, within a generous
// bound" — never wall-clock durations.
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <future>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "alloc_counter.h"
#include "common/manual_executor.h"
#include "common/mpmc_ring.h"
#include "common/reactor.h"
#include "common/timer_queue.h"

namespace openmpio {
namespace {

using std::chrono::milliseconds;
using testing::g_allocations;

constexpr auto kEventually = std::chrono::seconds(10);

// Runs fn on the reactor's thread and waits for its result.
template <typename Fn>
auto OnReactor(Reactor& r, Fn fn) {
  std::promise<decltype(fn())> p;
  auto f = p.get_future();
  r.Post([&] { p.set_value(fn()); });
  EXPECT_EQ(f.wait_for(kEventually), std::future_status::ready);
  return f.get();
}

// Polls cond (from the test thread) until it holds or kEventually passes.
template <typename Cond>
bool Eventually(Cond cond) {
  const auto until = std::chrono::steady_clock::now() + kEventually;
  while (!cond()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(milliseconds(1));
  }
  return true;
}

struct Pipe {
  int r = -1, w = -1;
  Pipe() {
    int fds[2];
    EXPECT_EQ(pipe2(fds, O_NONBLOCK | O_CLOEXEC), 0);
    r = fds[0];
    w = fds[1];
  }
  ~Pipe() { CloseBoth(); }
  void CloseBoth() {
    if (r >= 0) close(r);
    if (w >= 0) close(w);
    r = w = -1;
  }
  void Put(char c) const { ASSERT_EQ(write(w, &c, 1), 1); }
};

TEST(Reactor, AllocationCounterWorks) {
  const long before = g_allocations.load();
  auto* p = new int(1);
  EXPECT_EQ(g_allocations.load(), before + 1);
  delete p;
}

// ---- real descriptors ------------------------------------------------------------

TEST(Reactor, CallsTheHandlerWhenAPipeIsReadableAndOnlyWhileItIs) {
  Reactor r;
  Pipe p;
  std::atomic<int> calls{0};
  std::string got;  // reactor thread only
  const auto id = OnReactor(r, [&] {
    return r.Watch(p.r, Executor::kFdReadable, [&](std::uint32_t ev) {
      EXPECT_EQ(ev, Executor::kFdReadable);
      char buf[16];
      const ssize_t n = read(p.r, buf, sizeof buf);  // drained: not ready any more
      if (n > 0) got.append(buf, static_cast<std::size_t>(n));
      calls.fetch_add(1);
    });
  });
  ASSERT_NE(id, 0U);
  std::this_thread::sleep_for(milliseconds(20));
  EXPECT_EQ(calls.load(), 0);  // nothing written: never called
  p.Put('a');
  ASSERT_TRUE(Eventually([&] { return calls.load() == 1; }));
  p.Put('b');
  ASSERT_TRUE(Eventually([&] { return calls.load() == 2; }));
  EXPECT_EQ(OnReactor(r, [&] { return got; }), "ab");
  EXPECT_TRUE(OnReactor(r, [&] { return r.Unwatch(id); }));
  p.Put('c');
  std::this_thread::sleep_for(milliseconds(20));
  EXPECT_EQ(calls.load(), 2);  // unwatched: not called again
}

TEST(Reactor, ModifyChangesWhatTheWatchWaitsFor) {
  Reactor r;
  int sv[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
  std::atomic<int> writable{0}, readable{0};
  Executor::WatchId id = 0;
  // Interest 0 first: a connected socket is writable, but nobody asked.
  id = OnReactor(r, [&] {
    return r.Watch(sv[0], 0, [&](std::uint32_t ev) {
      if (ev & Executor::kFdWritable) {
        writable.fetch_add(1);
        r.Modify(id, Executor::kFdReadable);  // as a libiscsi context whose queue drained
      }
      if (ev & Executor::kFdReadable) {
        char c;
        while (read(sv[0], &c, 1) == 1) {
        }
        readable.fetch_add(1);
      }
    });
  });
  std::this_thread::sleep_for(milliseconds(20));
  EXPECT_EQ(writable.load(), 0);
  EXPECT_TRUE(OnReactor(r, [&] { return r.Modify(id, Executor::kFdWritable); }));
  ASSERT_TRUE(Eventually([&] { return writable.load() == 1; }));
  const char c = 'x';
  ASSERT_EQ(write(sv[1], &c, 1), 1);
  ASSERT_TRUE(Eventually([&] { return readable.load() == 1; }));
  EXPECT_EQ(writable.load(), 1);  // modified away from writable inside its own handler
  OnReactor(r, [&] { return r.Unwatch(id); });
  r.Stop();
  close(sv[0]);
  close(sv[1]);
}

TEST(Reactor, ADescriptorClosedAndReplacedByTheSameNumberIsANewWatch) {
  Reactor r;
  auto first = std::make_unique<Pipe>();
  const int number = first->r;
  std::atomic<int> old_calls{0}, new_calls{0};
  const auto old_id = OnReactor(r, [&] {
    return r.Watch(first->r, Executor::kFdReadable, [&](std::uint32_t) {
      char c;
      while (read(number, &c, 1) == 1) {
      }
      old_calls.fetch_add(1);
    });
  });
  first->Put('1');
  ASSERT_TRUE(Eventually([&] { return old_calls.load() == 1; }));
  // A reconnect: the old socket goes, a new one takes its number.
  EXPECT_TRUE(OnReactor(r, [&] { return r.Unwatch(old_id); }));
  first->CloseBoth();
  Pipe second;
  ASSERT_EQ(second.r, number) << "the kernel reuses the lowest free number";
  const auto new_id = OnReactor(r, [&] {
    return r.Watch(second.r, Executor::kFdReadable, [&](std::uint32_t) {
      char c;
      while (read(second.r, &c, 1) == 1) {
      }
      new_calls.fetch_add(1);
    });
  });
  EXPECT_NE(new_id, old_id);
  second.Put('2');
  ASSERT_TRUE(Eventually([&] { return new_calls.load() == 1; }));
  EXPECT_EQ(old_calls.load(), 1);
  // The stale id names nothing now, though the number is watched again.
  EXPECT_FALSE(OnReactor(r, [&] { return r.Modify(old_id, Executor::kFdWritable); }));
  EXPECT_FALSE(OnReactor(r, [&] { return r.Unwatch(old_id); }));
  EXPECT_TRUE(OnReactor(r, [&] { return r.Unwatch(new_id); }));
}

TEST(Reactor, AHangUpIsToldOnceAndDoesNotSpinTheLoop) {
  Reactor r;
  int sv[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
  std::atomic<int> calls{0};
  std::atomic<std::uint32_t> seen{0};
  // A handler that notices nothing (does not read, does not unwatch): the
  // worst case for a level-triggered loop.
  const auto id = OnReactor(r, [&] {
    return r.Watch(sv[0], Executor::kFdReadable, [&](std::uint32_t ev) {
      seen.store(ev);
      calls.fetch_add(1);
    });
  });
  close(sv[1]);  // the peer hangs up
  ASSERT_TRUE(Eventually([&] { return calls.load() >= 1; }));
  EXPECT_NE(seen.load() & Executor::kFdError, 0U);
  const std::uint64_t sleeps_before = r.sleeps();
  std::this_thread::sleep_for(milliseconds(100));
  EXPECT_EQ(calls.load(), 1);
  // Asleep, not spinning: at most a few wake-ups in 100 ms (a spinning loop
  // would run epoll_wait hundreds of thousands of times, never sleeping).
  EXPECT_LE(r.sleeps() - sleeps_before, 3U);
  // Re-armed by its owner, it is told again — once.
  EXPECT_TRUE(OnReactor(r, [&] { return r.Modify(id, Executor::kFdReadable); }));
  ASSERT_TRUE(Eventually([&] { return calls.load() == 2; }));
  std::this_thread::sleep_for(milliseconds(50));
  EXPECT_EQ(calls.load(), 2);
  EXPECT_TRUE(OnReactor(r, [&] { return r.Unwatch(id); }));
  close(sv[0]);
}

TEST(Reactor, AHandlerMayUnwatchItselfAndAnotherWatchOfTheSameRound) {
  Reactor r;
  Pipe a, b;
  std::atomic<int> a_calls{0}, b_calls{0};
  Executor::WatchId ida = 0, idb = 0;
  OnReactor(r, [&] {
    // Whichever runs first unwatches both: the other, ready in the same
    // round, must not be called.
    auto both_go = [&] {
      r.Unwatch(ida);
      r.Unwatch(idb);
    };
    ida = r.Watch(a.r, Executor::kFdReadable, [&, both_go](std::uint32_t) {
      a_calls.fetch_add(1);
      both_go();
    });
    idb = r.Watch(b.r, Executor::kFdReadable, [&, both_go](std::uint32_t) {
      b_calls.fetch_add(1);
      both_go();
    });
    a.Put('a');
    b.Put('b');
    return 0;
  });
  ASSERT_TRUE(Eventually([&] { return a_calls.load() + b_calls.load() >= 1; }));
  std::this_thread::sleep_for(milliseconds(30));
  r.Stop();  // before the pipes close: the reactor's thread used them
  EXPECT_EQ(a_calls.load() + b_calls.load(), 1);
}

TEST(Reactor, WatchRefusesWhatEpollCannotWatch) {
  Reactor r;
  char path[] = "/tmp/openmpio-reactor-XXXXXX";
  const int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  unlink(path);
  // A regular file: epoll says EPERM; the watch is refused, nothing breaks.
  EXPECT_EQ(OnReactor(r, [&] { return r.Watch(fd, Executor::kFdReadable, [](std::uint32_t) {}); }), 0U);
  EXPECT_EQ(OnReactor(r, [&] { return r.Watch(-1, Executor::kFdReadable, [](std::uint32_t) {}); }), 0U);
  close(fd);
  // The reactor still runs.
  EXPECT_EQ(OnReactor(r, [] { return 7; }), 7);
}

// ---- posts -------------------------------------------------------------------------

TEST(Reactor, PostsFromManyThreadsWhileItRunsKeepEachThreadsOrder) {
  // A tiny ring, so most posts go through the overflow list and back.
  ReactorOptions o;
  o.ring_capacity = 8;
  Reactor r(o);
  constexpr int kThreads = 4, kEach = 5000;
  std::array<std::vector<int>, kThreads> seen;  // reactor thread only
  std::atomic<int> total{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        if (i % 2 == 0) {
          r.Post([&, t, i] {
            seen[static_cast<std::size_t>(t)].push_back(i);
            total.fetch_add(1);
          });
        } else {
          // The raw form shares the FIFO.
          struct Arg {
            std::vector<int>* v;
            int i;
            std::atomic<int>* total;
          };
          auto* a = new Arg{&seen[static_cast<std::size_t>(t)], i, &total};
          r.Post(
              [](void* p) {
                std::unique_ptr<Arg> arg(static_cast<Arg*>(p));
                arg->v->push_back(arg->i);
                arg->total->fetch_add(1);
              },
              a);
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  ASSERT_TRUE(Eventually([&] { return total.load() == kThreads * kEach; }));
  r.Stop();
  for (const auto& v : seen) {
    ASSERT_EQ(v.size(), static_cast<std::size_t>(kEach));
    EXPECT_TRUE(std::is_sorted(v.begin(), v.end()));
  }
}

TEST(Reactor, PostsThroughATwoCellRingAndItsOverflowKeepEachThreadsOrder) {
  // The stress form of the test above: a ring of two cells is full almost
  // always, so producers keep crossing between the ring and the overflow
  // while the reactor swaps the overflow out. Raw posts only (the (thread,
  // index) pair rides in the argument), checked on the reactor's thread.
  ReactorOptions o;
  o.ring_capacity = 2;
  Reactor r(o);
  constexpr int kThreads = 8, kEach = 4000;
  struct Seen {
    std::array<int, kThreads> last{};  // reactor thread only
    int out_of_order = 0;
    std::atomic<int> total{0};
  } seen;
  seen.last.fill(-1);
  static Seen* current = nullptr;
  current = &seen;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&r, t] {
      std::minstd_rand rng(static_cast<unsigned>(t) + 1);
      for (int i = 0; i < kEach; ++i) {
        const auto packed = (static_cast<std::uintptr_t>(i) << 8) | static_cast<std::uintptr_t>(t);
        r.Post(
            [](void* p) {
              const auto v = reinterpret_cast<std::uintptr_t>(p);
              const auto th = static_cast<std::size_t>(v & 0xFF);
              const auto idx = static_cast<int>(v >> 8);
              if (idx <= current->last[th]) ++current->out_of_order;
              current->last[th] = idx;
              current->total.fetch_add(1, std::memory_order_release);
            },
            reinterpret_cast<void*>(packed));
        // Now and then give the core away mid-stream: that is where one
        // producer's posts straddle the reactor's swap of the overflow.
        if (rng() % 64 == 0) std::this_thread::yield();
      }
    });
  }
  for (auto& t : threads) t.join();
  ASSERT_TRUE(Eventually([&] { return seen.total.load(std::memory_order_acquire) == kThreads * kEach; }));
  r.Stop();
  EXPECT_EQ(seen.out_of_order, 0);
  for (int last : seen.last) EXPECT_EQ(last, kEach - 1);
}

TEST(Reactor, TheEventfdIsWrittenOnlyToWakeASleepingReactor) {
  Reactor r;
  // Posts made by the reactor's own tasks find it awake: no eventfd write.
  std::atomic<int> ran{0};
  std::promise<void> done;
  const std::uint64_t before = OnReactor(r, [&] { return r.wakeups(); });
  r.Post([&] {
    for (int i = 0; i < 1000; ++i) r.Post([&] { ran.fetch_add(1); });
    r.Post([&] { done.set_value(); });
  });
  ASSERT_EQ(done.get_future().wait_for(kEventually), std::future_status::ready);
  EXPECT_EQ(ran.load(), 1000);
  // The one post above (from this thread, to a sleeping reactor) may have
  // woken it; the 1001 posts from inside did not.
  EXPECT_LE(r.wakeups() - before, 1U);
  // And a sleeping reactor is woken by a post from outside.
  ASSERT_TRUE(Eventually([&] { return r.sleeps() > 0; }));
  const std::uint64_t w = r.wakeups();
  std::this_thread::sleep_for(milliseconds(20));  // let it fall asleep
  std::promise<void> woke;
  r.Post([&] { woke.set_value(); });
  ASSERT_EQ(woke.get_future().wait_for(kEventually), std::future_status::ready);
  EXPECT_GE(r.wakeups(), w + 1);
}

// An owner's destructor after Stop (a transport's, the engine's) cancels its
// timers and ends its watches from whatever thread it runs on.
TEST(Reactor, AStoppedReactorsTimersAndWatchesCanBeEndedFromAnyThread) {
  Reactor r;
  Pipe p;
  std::atomic<bool> ran{false};
  const auto ids = OnReactor(r, [&] {
    const auto t = r.PostAfter(std::chrono::hours(1), [&] { ran = true; });
    const auto w = r.Watch(p.r, Executor::kFdReadable, [](std::uint32_t) {});
    return std::make_pair(t, w);
  });
  ASSERT_NE(ids.first, 0U);
  ASSERT_NE(ids.second, 0U);
  r.Stop();
  EXPECT_FALSE(r.Cancel(ids.first));  // destroyed unrun by Stop: nothing to cancel
  EXPECT_TRUE(r.Unwatch(ids.second));
  EXPECT_FALSE(r.Unwatch(ids.second));
  EXPECT_EQ(r.PostAfter(milliseconds(1), [&] { ran = true; }), 0U);
  EXPECT_FALSE(ran.load());
}

TEST(Reactor, RawPostsAllocateNothing) {
  Reactor r;
  std::atomic<int> ran{0};
  auto bump = [](void* p) { static_cast<std::atomic<int>*>(p)->fetch_add(1); };
  for (int i = 0; i < 64; ++i) r.Post(bump, &ran);
  ASSERT_TRUE(Eventually([&] { return ran.load() == 64; }));
  const long before = g_allocations.load();
  for (int i = 0; i < 1000; ++i) r.Post(bump, &ran);
  ASSERT_TRUE(Eventually([&] { return ran.load() == 1064; }));
  EXPECT_EQ(g_allocations.load() - before, 0);
}

// ---- timers and stop ---------------------------------------------------------------

TEST(Reactor, TimersCancelledInAnyOrderNeverRunAndTheRestRunInDueOrder) {
  Reactor r;
  std::vector<int> order;  // reactor thread
  std::promise<void> done;
  OnReactor(r, [&] {
    std::vector<Executor::TimerId> ids;
    for (int i = 0; i < 200; ++i) {
      // Due times 1..200 ms in a shuffled order of scheduling.
      const int due = (i * 73) % 200 + 1;
      ids.push_back(r.PostAfter(milliseconds(due), [&order, due] { order.push_back(due); }));
    }
    // Cancel every due time divisible by 3, in scheduling order (which is not due order).
    for (int i = 0; i < 200; ++i) {
      if (((i * 73) % 200 + 1) % 3 == 0) {
        EXPECT_TRUE(r.Cancel(ids[static_cast<std::size_t>(i)]));
      }
    }
    EXPECT_FALSE(r.Cancel(ids[2]));  // 147 % 3 == 0: cancelled already
    r.PostAfter(milliseconds(250), [&] { done.set_value(); });
    return 0;
  });
  ASSERT_EQ(done.get_future().wait_for(kEventually), std::future_status::ready);
  r.Stop();
  std::vector<int> want;
  for (int d = 1; d <= 200; ++d) {
    if (d % 3 != 0) want.push_back(d);
  }
  EXPECT_EQ(order, want);
}

TEST(Reactor, StopWithPostsTimersAndWatchesPendingDestroysThemUnrun) {
  auto r = std::make_unique<Reactor>();
  Pipe p;
  auto token = std::make_shared<int>(0);
  std::weak_ptr<int> watch = token;
  std::atomic<int> ran{0};
  std::promise<void> block;
  std::shared_future<void> blocked = block.get_future().share();
  std::promise<void> running;
  OnReactor(*r, [&, token] {
    r->PostAfter(std::chrono::hours(1), [token, &ran] { ran += 1; });
    r->Watch(p.r, Executor::kFdReadable, [token, &ran](std::uint32_t) { ran += 1; });
    return 0;
  });
  // Keep the reactor busy in one task while posts queue up behind it.
  r->Post([&] {
    running.set_value();
    blocked.wait();
  });
  running.get_future().wait();
  for (int i = 0; i < 100; ++i) r->Post([token, &ran] { ran += 1; });
  token.reset();
  std::thread stopper([&] { r->Stop(); });
  std::this_thread::sleep_for(milliseconds(10));
  block.set_value();  // the running task finishes; nothing else runs
  stopper.join();
  EXPECT_TRUE(watch.expired());  // every capture destroyed
  EXPECT_EQ(ran.load(), 0);
  r->Post([&ran] { ran += 1; });  // ignored
  r.reset();
  EXPECT_EQ(ran.load(), 0);
}

// 10,000 timers pending, cancelled at random: the order of what runs is the
// reference's (a multimap on (due, sequence)).
RC_GTEST_PROP(TimerQueue, RunsWhatIsNotCancelledInDueThenSchedulingOrder, ()) {
  detail::TimerQueue q;
  std::map<std::pair<std::int64_t, int>, int> reference;  // (due, seq) -> label
  std::vector<std::pair<Executor::TimerId, std::pair<std::int64_t, int>>> ids;
  std::vector<int> ran;
  const int n = *rc::gen::inRange(1, 10'000);
  for (int i = 0; i < n; ++i) {
    const std::int64_t due = *rc::gen::inRange<std::int64_t>(0, 50);  // many equal due times
    const auto id = q.Add(TimePoint(Duration(due)), [&ran, i] { ran.push_back(i); });
    RC_ASSERT(id != 0U);
    reference[{due, i}] = i;
    ids.emplace_back(id, std::make_pair(due, i));
  }
  const auto picks = *rc::gen::container<std::vector<std::size_t>>(
      rc::gen::inRange<std::size_t>(0, static_cast<std::size_t>(n)));
  for (const std::size_t k : picks) {
    Executor::Task removed;
    const bool present = reference.count(ids[k].second) != 0;
    RC_ASSERT(q.Cancel(ids[k].first, &removed) == present);  // twice: refused
    reference.erase(ids[k].second);
  }
  RC_ASSERT(q.size() == reference.size());
  Executor::Task task;
  TimePoint due;
  while (q.PopDue(TimePoint(Duration(1000)), &task, &due)) task();
  std::vector<int> want;
  for (const auto& [key, label] : reference) want.push_back(label);
  RC_ASSERT(ran == want);
  // Stale ids of timers that ran are refused too, even once slots are reused.
  (void)q.Add(TimePoint{}, [] {});
  for (const auto& [id, key] : ids) {
    Executor::Task removed;
    RC_ASSERT(!q.Cancel(id, &removed));
  }
}

TEST(TimerQueue, AddAndCancelAtTenThousandPendingAllocateNothing) {
  detail::TimerQueue q;
  std::vector<Executor::TimerId> ids;
  for (int i = 0; i < 10'000; ++i) ids.push_back(q.Add(TimePoint(Duration(i)), [] {}));
  // The steady state of a busy nexus: one command's timer cancelled, the
  // next one's added, with 10,000 pending.
  std::mt19937 rng(7);
  for (int round = 0; round < 2; ++round) {
    const long before = g_allocations.load();
    for (int i = 0; i < 10'000; ++i) {
      const std::size_t k = rng() % ids.size();
      Executor::Task removed;
      ASSERT_TRUE(q.Cancel(ids[k], &removed));
      ids[k] = q.Add(TimePoint(Duration(rng() % 100'000)), [] {});
    }
    if (round == 1) {
      EXPECT_EQ(g_allocations.load() - before, 0);
    }
  }
  EXPECT_EQ(q.size(), 10'000U);
}

TEST(MpmcRing, FullAndEmptyAreSaidAndItemsComeOutInOrder) {
  MpmcRing<int> ring(4);
  EXPECT_EQ(ring.capacity(), 4U);
  EXPECT_TRUE(ring.Empty());
  int out = 0;
  EXPECT_FALSE(ring.TryPop(out));
  for (int i = 1; i <= 4; ++i) {
    int v = i;
    EXPECT_TRUE(ring.TryPush(v));
  }
  int extra = 5;
  EXPECT_FALSE(ring.TryPush(extra));
  EXPECT_EQ(extra, 5);  // a refused item is left as it was
  for (int lap = 0; lap < 3; ++lap) {  // around the ring a few times
    ASSERT_TRUE(ring.TryPop(out));
    EXPECT_EQ(out, 1 + lap);
    int v = 5 + lap;
    EXPECT_TRUE(ring.TryPush(v));
  }
  std::vector<int> rest;
  while (ring.TryPop(out)) rest.push_back(out);
  EXPECT_EQ(rest, (std::vector<int>{4, 5, 6, 7}));
  EXPECT_TRUE(ring.Empty());
}

// ---- fake descriptors in virtual time ------------------------------------------------

TEST(ManualExecutorFds, FakeDescriptorsDriveHandlersInVirtualTime) {
  ManualExecutor ex;
  std::vector<std::string> log;
  Executor::WatchId id = 0;
  // A transport-like reader: on readable it "reads" (clears readiness) and
  // schedules a reply 5 s later; on error it unwatches itself.
  id = ex.Watch(42, Executor::kFdReadable, [&](std::uint32_t ev) {
    if (ev & Executor::kFdError) {
      log.push_back("error");
      ex.Unwatch(id);
      return;
    }
    log.push_back("read@" + std::to_string(ex.Now().time_since_epoch().count() / 1'000'000'000));
    ex.SetReady(42, 0);
    ex.PostAfter(std::chrono::seconds(5), [&] { ex.SetReady(42, Executor::kFdReadable); });
  });
  ASSERT_NE(id, 0U);
  EXPECT_EQ(ex.Watch(42, Executor::kFdReadable, [](std::uint32_t) {}), 0U);  // twice: refused
  ex.RunUntilIdle();
  EXPECT_TRUE(log.empty());
  ex.SetReady(42, Executor::kFdReadable);
  ex.RunFor(std::chrono::seconds(12));  // reads at 0, 5, 10: no real time passes
  EXPECT_EQ(log, (std::vector<std::string>{"read@0", "read@5", "read@10"}));
  ex.SetReady(42, Executor::kFdReadable | Executor::kFdError);
  ex.RunUntilIdle();
  EXPECT_EQ(log.back(), "error");
  EXPECT_EQ(ex.watches(), 0U);
}

TEST(ManualExecutorFds, WritableInterestAndAParkedErrorAsTheReactorDoes) {
  ManualExecutor ex;
  int writable = 0, errors = 0;
  const auto id = ex.Watch(7, 0, [&](std::uint32_t ev) {
    if (ev & Executor::kFdWritable) ++writable;
    if (ev & Executor::kFdError) ++errors;
  });
  ex.SetReady(7, Executor::kFdWritable);
  ex.RunUntilIdle();
  EXPECT_EQ(writable, 0);  // not asked for
  ASSERT_TRUE(ex.Modify(id, Executor::kFdWritable));
  ex.SetReady(7, Executor::kFdError);  // a hang-up before the next poll
  ex.RunUntilIdle();
  EXPECT_EQ(errors, 1);  // told once, then parked
  ex.RunUntilIdle();
  EXPECT_EQ(errors, 1);
  ASSERT_TRUE(ex.Modify(id, Executor::kFdWritable));  // re-armed: told again
  ex.RunUntilIdle();
  EXPECT_EQ(errors, 2);
  EXPECT_TRUE(ex.Unwatch(id));
  EXPECT_FALSE(ex.Unwatch(id));
}

}  // namespace
}  // namespace openmpio

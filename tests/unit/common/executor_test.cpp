// The two executors: ManualExecutor (virtual clock, deterministic order) and
// Reactor (one real thread). Reactor tests assert order and
// "eventually, within a generous bound" — never wall-clock durations.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/manual_executor.h"
#include "common/reactor.h"

namespace openmpio {
namespace {

using std::chrono::hours;
using std::chrono::microseconds;
using std::chrono::milliseconds;
using std::chrono::seconds;

// ---- ManualExecutor ----------------------------------------------------------

TEST(ManualExecutor, NothingRunsUntilDriven) {
  ManualExecutor ex;
  int ran = 0;
  ex.Post([&] { ++ran; });
  EXPECT_EQ(ran, 0);
  EXPECT_EQ(ex.pending(), 1U);
  EXPECT_EQ(ex.RunUntilIdle(), 1U);
  EXPECT_EQ(ran, 1);
}

TEST(ManualExecutor, PostIsFifoAndRunUntilIdleRunsWhatTasksPostForNow) {
  ManualExecutor ex;
  std::string order;
  ex.Post([&] {
    order += 'a';
    ex.Post([&] { order += 'd'; });
    ex.PostAfter(Duration::zero(), [&] { order += 'e'; });
  });
  ex.Post([&] { order += 'b'; });
  ex.Post([&] { order += 'c'; });
  EXPECT_EQ(ex.RunUntilIdle(), 5U);
  EXPECT_EQ(order, "abcde");
  EXPECT_EQ(ex.Now(), TimePoint{});  // RunUntilIdle never moves the clock
}

TEST(ManualExecutor, TimersRunInTimeOrderWithTheClockAtEachDueTime) {
  ManualExecutor ex;
  const TimePoint t0 = ex.Now();
  std::vector<std::pair<char, TimePoint>> runs;
  auto record = [&](char c) { return [&runs, &ex, c] { runs.emplace_back(c, ex.Now()); }; };
  ex.PostAfter(milliseconds(30), record('c'));
  ex.PostAfter(milliseconds(10), record('a'));
  ex.PostAfter(milliseconds(20), record('b'));
  ex.PostAfter(milliseconds(10), record('A'));  // equal due time: FIFO after 'a'

  EXPECT_EQ(ex.RunUntilIdle(), 0U);  // nothing is due at t0
  EXPECT_EQ(ex.RunFor(milliseconds(25)), 3U);
  EXPECT_EQ(ex.Now(), t0 + milliseconds(25));  // left at the target time
  EXPECT_EQ(ex.AdvanceTo(t0 + milliseconds(30)), 1U);

  ASSERT_EQ(runs.size(), 4U);
  EXPECT_EQ(runs[0], std::make_pair('a', t0 + milliseconds(10)));
  EXPECT_EQ(runs[1], std::make_pair('A', t0 + milliseconds(10)));
  EXPECT_EQ(runs[2], std::make_pair('b', t0 + milliseconds(20)));
  EXPECT_EQ(runs[3], std::make_pair('c', t0 + milliseconds(30)));
}

TEST(ManualExecutor, TimersScheduledByTimersWithinTheWindowRun) {
  ManualExecutor ex;
  std::vector<TimePoint> at;
  ex.PostAfter(milliseconds(1), [&] {
    at.push_back(ex.Now());
    ex.PostAfter(milliseconds(1), [&] { at.push_back(ex.Now()); });
    ex.PostAfter(milliseconds(5), [&] { at.push_back(ex.Now()); });
  });
  ex.RunFor(milliseconds(3));
  ASSERT_EQ(at.size(), 2U);
  EXPECT_EQ(at[1], TimePoint{} + milliseconds(2));
  EXPECT_EQ(ex.NextDue(), TimePoint{} + milliseconds(6));
}

TEST(ManualExecutor, CancelStopsATimerOnceAndOnlyBeforeItRuns) {
  ManualExecutor ex;
  int ran = 0;
  const auto id = ex.PostAfter(seconds(1), [&] { ++ran; });
  const auto other = ex.PostAfter(seconds(2), [&] { ran += 10; });
  EXPECT_NE(id, 0U);
  EXPECT_NE(id, other);
  EXPECT_TRUE(ex.Cancel(id));
  EXPECT_FALSE(ex.Cancel(id));
  EXPECT_FALSE(ex.Cancel(12345));
  ex.RunFor(seconds(3));
  EXPECT_EQ(ran, 10);
  EXPECT_FALSE(ex.Cancel(other));  // it ran
  EXPECT_EQ(ex.pending(), 0U);
}

TEST(ManualExecutor, NegativeDelayIsNowAndDoesNotJumpAheadOfPostedTasks) {
  ManualExecutor ex(TimePoint{} + seconds(100));
  std::string order;
  ex.Post([&] { order += 'p'; });
  ex.PostAfter(-seconds(5), [&] { order += 'n'; });
  ex.RunUntilIdle();
  EXPECT_EQ(order, "pn");
  EXPECT_EQ(ex.Now(), TimePoint{} + seconds(100));
}

TEST(ManualExecutor, PostFromAnotherThreadRunsOnTheOwner) {
  ManualExecutor ex;
  EXPECT_TRUE(ex.InExecutorThread());
  std::atomic<bool> other_thread_says{true};
  std::thread::id ran_on;
  std::thread t([&] {
    other_thread_says = ex.InExecutorThread();
    ex.Post([&] { ran_on = std::this_thread::get_id(); });
  });
  t.join();
  EXPECT_FALSE(other_thread_says.load());
  ex.RunUntilIdle();
  EXPECT_EQ(ran_on, std::this_thread::get_id());
}

TEST(ManualExecutor, TwentySecondTimerTakesNoRealTime) {
  ManualExecutor ex;
  bool fired = false;
  ex.PostAfter(seconds(20), [&] { fired = true; });
  const auto wall = std::chrono::steady_clock::now();
  ex.RunFor(seconds(20));
  EXPECT_TRUE(fired);
  EXPECT_LT(std::chrono::steady_clock::now() - wall, seconds(5));  // generous
}

// ---- Reactor ------------------------------------------------------------

constexpr auto kEventually = seconds(10);

TEST(Reactor, PostedTasksRunInOrderOnTheExecutorThread) {
  Reactor ex;
  EXPECT_FALSE(ex.InExecutorThread());
  std::vector<int> order;  // written only on the executor thread
  std::promise<void> done;
  bool all_inside = true;
  for (int i = 0; i < 100; ++i) {
    ex.Post([&, i] {
      all_inside = all_inside && ex.InExecutorThread();
      order.push_back(i);
    });
  }
  ex.Post([&] { done.set_value(); });
  ASSERT_EQ(done.get_future().wait_for(kEventually), std::future_status::ready);
  ex.Stop();
  EXPECT_TRUE(all_inside);
  ASSERT_EQ(order.size(), 100U);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(order[static_cast<std::size_t>(i)], i);
}

TEST(Reactor, TimersFireInDueOrder) {
  Reactor ex;
  std::string order;
  std::promise<void> done;
  // Scheduled from one task, so nothing can run between the three calls.
  ex.Post([&] {
    ex.PostAfter(milliseconds(60), [&] {
      order += 'c';
      done.set_value();
    });
    ex.PostAfter(milliseconds(2), [&] { order += 'b'; });
    ex.PostAfter(Duration::zero(), [&] { order += 'a'; });
  });
  ASSERT_EQ(done.get_future().wait_for(kEventually), std::future_status::ready);
  ex.Stop();
  EXPECT_EQ(order, "abc");
}

TEST(Reactor, TimerFiresNoEarlierThanItsDelay) {
  Reactor ex;
  std::promise<TimePoint> fired;
  const TimePoint start = ex.Now();
  // Timers belong to the reactor's thread (Executor contract; a debug
  // build asserts it): scheduled from a task.
  ex.Post([&] { ex.PostAfter(milliseconds(5), [&] { fired.set_value(ex.Now()); }); });
  auto f = fired.get_future();
  ASSERT_EQ(f.wait_for(kEventually), std::future_status::ready);
  EXPECT_GE(f.get() - start, milliseconds(5));
}

TEST(Reactor, CancelledTimerNeverRuns) {
  Reactor ex;
  std::atomic<int> ran{0};
  std::promise<bool> cancelled;
  std::promise<void> later;
  ex.Post([&] {
    const auto id = ex.PostAfter(milliseconds(1), [&] { ran += 1; });
    cancelled.set_value(ex.Cancel(id));
    ex.PostAfter(milliseconds(20), [&] { later.set_value(); });
  });
  auto c = cancelled.get_future();
  ASSERT_EQ(c.wait_for(kEventually), std::future_status::ready);
  EXPECT_TRUE(c.get());
  ASSERT_EQ(later.get_future().wait_for(kEventually), std::future_status::ready);
  EXPECT_EQ(ran.load(), 0);
}

TEST(Reactor, StopJoinsAndDestroysPendingTasksUnrun) {
  auto ex = std::make_unique<Reactor>();
  auto token = std::make_shared<int>(0);
  std::weak_ptr<int> watch = token;
  std::atomic<bool> ran{false};
  std::promise<void> scheduled;
  ex->Post([&] {
    ex->PostAfter(hours(1), [token, &ran] { ran = true; });
    scheduled.set_value();
  });
  scheduled.get_future().wait();
  token.reset();
  EXPECT_FALSE(watch.expired());  // held by the pending timer
  ex->Stop();
  EXPECT_TRUE(watch.expired());
  EXPECT_FALSE(ran.load());
  ex->Post([&ran] { ran = true; });  // ignored after Stop
  ex->Stop();                        // idempotent
  ex.reset();
  EXPECT_FALSE(ran.load());
}

TEST(Reactor, PostFromManyThreadsRunsEverything) {
  Reactor ex;
  std::atomic<int> count{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 250; ++i) ex.Post([&] { count.fetch_add(1); });
    });
  }
  for (auto& t : threads) t.join();
  std::promise<void> done;
  ex.Post([&] { done.set_value(); });
  ASSERT_EQ(done.get_future().wait_for(kEventually), std::future_status::ready);
  EXPECT_EQ(count.load(), 1000);
}

}  // namespace
}  // namespace openmpio

// The futex Waiter (common/waiter.h) a synchronous caller sleeps on: a
// signal that comes first costs no sleep, a later one wakes the sleeper, what
// the signaller wrote before is seen after, and a waiter on the caller's
// stack may end as soon as it returns (ping-pong of short-lived waiters; ASan
// runs this too). Order only, never durations.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "common/waiter.h"

namespace openmpio {
namespace {

TEST(Waiter, ASignalBeforeTheWaitReturnsAtOnce) {
  Waiter w;
  EXPECT_FALSE(w.signalled());
  w.Signal();
  EXPECT_TRUE(w.signalled());
  w.Wait();
  EXPECT_TRUE(w.Spin(1));
}

TEST(Waiter, ASleeperIsWokenAndSeesWhatWasWrittenBefore) {
  Waiter w;
  int payload = 0;  // plain: the Waiter orders it
  std::thread t([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // let it sleep
    payload = 42;
    w.Signal();
  });
  w.Wait();
  EXPECT_EQ(payload, 42);
  t.join();
}

TEST(Waiter, SpinReportsWhetherTheSignalCame) {
  Waiter w;
  EXPECT_FALSE(w.Spin(1000));  // 1 us, nobody signals
  std::thread t([&] { w.Signal(); });
  t.join();
  EXPECT_TRUE(w.Spin(1000));
}

// Each round, a waiter on this thread's stack is signalled by the other
// thread and dies as soon as Wait returns: the signaller must not touch it
// after the exchange (its FUTEX_WAKE names only the address).
TEST(Waiter, ShortLivedWaitersOnTheStackPingPong) {
  constexpr int kRounds = 20000;
  std::atomic<Waiter*> slot{nullptr};
  std::atomic<bool> stop{false};
  std::thread signaller([&] {
    while (!stop.load()) {
      Waiter* w = slot.exchange(nullptr);
      if (w != nullptr) w->Signal();
    }
  });
  for (int i = 0; i < kRounds; ++i) {
    Waiter w;
    slot.store(&w);
    w.Wait(i % 2 == 0 ? 0 : 500);  // half of them spin a little first
  }
  stop = true;
  signaller.join();
  SUCCEED();
}

}  // namespace
}  // namespace openmpio

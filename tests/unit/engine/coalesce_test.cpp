// engine/coalesce.h: "one in flight, one more asked" (the ALUA refresh, READ
// CAPACITY, the rescan and the failover STPG all rely on these answers).
#include "engine/coalesce.h"

#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

namespace openmpio::engine {
namespace {

TEST(OneInFlightTest, OnlyOneRunAtATime) {
  OneInFlight c;
  EXPECT_TRUE(c.TryStart());
  EXPECT_TRUE(c.in_flight());
  EXPECT_FALSE(c.TryStart());
  EXPECT_FALSE(c.Finish());  // nobody asked again
  EXPECT_FALSE(c.in_flight());
  EXPECT_TRUE(c.TryStart());
}

TEST(OneInFlightTest, AsksDuringARunFoldIntoOneMore) {
  OneInFlight c;
  ASSERT_TRUE(c.TryStart());
  c.AskAgain();
  c.AskAgain();
  c.AskAgain();
  EXPECT_TRUE(c.Finish());   // one more run ...
  ASSERT_TRUE(c.TryStart());
  EXPECT_FALSE(c.Finish());  // ... and only one
}

TEST(OneInFlightTest, AnAskWithoutARunIsKeptForTheFirstFinish) {
  // The rescan asked while discovery still runs: discovery's end answers.
  OneInFlight c;
  c.AskAgain();
  EXPECT_FALSE(c.in_flight());
  EXPECT_TRUE(c.Finish());
  EXPECT_FALSE(c.Finish());
}

using Log = std::vector<std::string>;

std::function<void()> Note(Log& log, std::string what) {
  return [&log, what]() { log.push_back(what); };
}

TEST(WaiterCoalescerTest, TheFirstAskStartsARunThatAnswersIt) {
  WaiterCoalescer<std::function<void()>> c;
  Log log;
  EXPECT_TRUE(c.Ask(Note(log, "a")));
  EXPECT_TRUE(c.in_flight());
  for (auto& w : c.Finish()) w();
  EXPECT_EQ(log, Log{"a"});
  EXPECT_FALSE(c.in_flight());
  EXPECT_FALSE(c.StartNext());  // nobody waits
}

TEST(WaiterCoalescerTest, AsksDuringARunWaitForTheNextRun) {
  WaiterCoalescer<std::function<void()>> c;
  Log log;
  ASSERT_TRUE(c.Ask(Note(log, "first")));
  EXPECT_FALSE(c.Ask(Note(log, "during-1")));
  EXPECT_FALSE(c.Ask(Note(log, "during-2")));
  // The run in flight answers only what was asked before it started.
  for (auto& w : c.Finish()) w();
  EXPECT_EQ(log, Log{"first"});
  // Those asked during it get one run, together.
  ASSERT_TRUE(c.StartNext());
  EXPECT_FALSE(c.StartNext());
  for (auto& w : c.Finish()) w();
  EXPECT_EQ(log, (Log{"first", "during-1", "during-2"}));
}

TEST(WaiterCoalescerTest, AWaiterThatAsksAgainStartsTheNextRunItself) {
  // An RTPG waiter may ask for another refresh (the explicit failover does).
  WaiterCoalescer<std::function<void()>> c;
  Log log;
  bool started_by_waiter = false;
  ASSERT_TRUE(c.Ask([&]() {
    log.push_back("a");
    started_by_waiter = c.Ask(Note(log, "b"));
  }));
  for (auto& w : c.Finish()) w();
  EXPECT_TRUE(started_by_waiter);
  EXPECT_TRUE(c.in_flight());
  EXPECT_FALSE(c.StartNext());  // already started: not twice
  for (auto& w : c.Finish()) w();
  EXPECT_EQ(log, (Log{"a", "b"}));
}

}  // namespace
}  // namespace openmpio::engine

// The engine on real threads: a Reactor for control and two reactor
// Reactors owning the four sim nexuses (ports 1, 2 on one, 3, 4 on
// the other), caller I/O from two more threads. Asserts data and completion
// only — never wall-clock durations (the waits are generous deadlines that
// fail the test instead of hanging it). Run it under ThreadSanitizer too.
#include <gtest/gtest.h>

#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>

#include "engine_fixture.h"
#include "threaded_sim_engine.h"

namespace openmpio::engine::testing {
namespace {

using openmpio::testing::On;

// The Load of engine_fixture.h, made safe for completions on any thread.
class ThreadLoad {
 public:
  ThreadLoad(DiskHandle disk, std::uint64_t region, std::uint32_t seed, std::uint64_t base)
      : load_(disk, region, seed, base) {
    load_.SetMutex(&mutex_);
  }
  void Start(std::size_t n, std::size_t depth) {
    std::lock_guard<std::recursive_mutex> lock(mutex_);
    load_.Start(n, depth);
  }
  bool WaitDone(std::chrono::seconds limit) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < end) {
      {
        std::lock_guard<std::recursive_mutex> lock(mutex_);
        if (load_.done()) return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return false;
  }
  std::recursive_mutex& mutex() { return mutex_; }
  Load& load() { return load_; }

 private:
  std::recursive_mutex mutex_;
  Load load_;
};

TEST(EngineThreadsTest, ReactorThreadsCarryConcurrentVerifiedIoThroughALinkDropAndPolicyChanges) {
  openmpio::testing::ThreadedSimEngine sim;
  EngineConfig ec;
  ec.command_timeout = std::chrono::seconds(5);
  ec.retry_interval = std::chrono::milliseconds(50);
  ASSERT_TRUE(sim.Start(ec, std::chrono::microseconds(50))) << "discovery did not finish";
  Executor& control = sim.control;
  std::unique_ptr<Engine>& engine = sim.engine;
  transport::sim::SimFabric* fabric = sim.fabric.get();
  const std::vector<DiskInfo> disks = On(control, [&] { return engine->Disks(); });
  ASSERT_EQ(disks.size(), 2U);

  ThreadLoad a(engine->Disk(0), 4096, 201, 0);
  ThreadLoad b(engine->Disk(1), 4096, 202, 0);
  std::thread ta([&] { a.Start(3000, 16); });
  std::thread tb([&] { b.Start(3000, 16); });
  ta.join();
  tb.join();
  // Faults and management while the load runs: a link drop (logins still
  // taken: the monitor reinstates and its reconnect fences lost writes), and
  // every policy in turn on disk 0 from the control thread.
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  fabric->Drop(1);
  using P = dsm::LoadBalancePolicy;
  for (P p : {P::kRoundRobin, P::kLeastQueueDepth, P::kWeightedPaths, P::kLeastBlocks,
              P::kServiceTime, P::kRoundRobinWithSubset}) {
    const Status s = On(control, [&] { return engine->SetLoadBalancePolicy(0, p); });
    EXPECT_TRUE(s.ok()) << s.ToString();
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  fabric->Drop(3);
  ASSERT_TRUE(a.WaitDone(std::chrono::seconds(120)));
  ASSERT_TRUE(b.WaitDone(std::chrono::seconds(120)));
  for (ThreadLoad* l : {&a, &b}) {
    std::lock_guard<std::recursive_mutex> lock(l->mutex());
    EXPECT_EQ(l->load().errors(), 0U);
    EXPECT_EQ(l->load().mismatches(), 0U);
    for (const auto& m : l->load().messages()) ADD_FAILURE() << m;
  }
  // Every lost write fenced once the reconnects happened.
  bool fenced = false;
  for (int i = 0; i < 3000 && !fenced; ++i) {
    fenced = On(control, [&] {
      for (const DiskInfo& d : engine->Disks()) {
        if (d.unknown_fate_writes != 0 || d.fence_waiters != 0) return false;
      }
      return true;
    });
    if (!fenced) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(fenced);

  sim.Stop();
}

}  // namespace
}  // namespace openmpio::engine::testing

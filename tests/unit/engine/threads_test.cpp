// The engine on real threads: a ThreadExecutor for control and two reactor
// ThreadExecutors owning the four sim nexuses (ports 1, 2 on one, 3, 4 on
// the other), caller I/O from two more threads. Asserts data and completion
// only — never wall-clock durations (the waits are generous deadlines that
// fail the test instead of hanging it). Run it under ThreadSanitizer too.
#include <gtest/gtest.h>

#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>

#include "common/thread_executor.h"
#include "engine_fixture.h"

namespace openmpio::engine::testing {
namespace {

// Runs f on `ex` and waits for it.
template <typename F>
auto On(Executor& ex, F f) -> decltype(f()) {
  std::packaged_task<decltype(f())()> task(std::move(f));
  auto fut = task.get_future();
  ex.Post([&task]() { task(); });
  return fut.get();
}

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
  auto arr = array::Array::Create(array::DemoArrayConfig(1U << 16));
  ASSERT_TRUE(arr.has_value());
  std::unique_ptr<array::Array> array = std::move(*arr);
  ThreadExecutor control, r0, r1;
  auto fabric = std::make_unique<transport::sim::SimFabric>(*array, array->config().target_name);
  for (std::uint16_t p = 1; p <= 4; ++p) {
    fabric->AddPort(p, transport::sim::LinkModel{std::chrono::microseconds(50), 0, {}});
  }
  EngineConfig ec;
  ec.command_timeout = std::chrono::seconds(5);
  ec.retry_interval = std::chrono::milliseconds(50);
  std::unique_ptr<Engine> engine = On(control, [&] { return std::make_unique<Engine>(ec, control); });
  for (std::uint16_t p = 1; p <= 4; ++p) {
    Executor& ex = p <= 2 ? static_cast<Executor&>(r0) : static_cast<Executor&>(r1);
    transport::sim::SimNexusOptions o;
    o.isid = 0x023D00000000ULL + p;
    o.command_timeout = ec.command_timeout;
    // Created on its own thread (SimNexus binds to it), added on control.
    std::unique_ptr<transport::TransportNexus> n =
        On(ex, [&]() -> std::unique_ptr<transport::TransportNexus> {
          return fabric->CreateNexus(ex, p, o);
        });
    On(control, [&] {
      engine->AddNexus(std::move(n), ex);
      return 0;
    });
  }
  bool idle = false;
  for (int i = 0; i < 3000 && !idle; ++i) {
    idle = On(control, [&] { return engine->DiscoveryIdle(); });
    if (!idle) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_TRUE(idle) << "discovery did not finish";
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

  // Teardown (transport.h: nexuses are destroyed with nothing pending): stop
  // the reactors and control (they join; what is still queued is dropped),
  // then destroy the engine and the fabric on this thread.
  r0.Stop();
  r1.Stop();
  control.Stop();
  engine.reset();
  fabric.reset();
}

}  // namespace
}  // namespace openmpio::engine::testing

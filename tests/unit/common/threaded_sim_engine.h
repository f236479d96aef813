// Test and benchmark helper: the engine on real threads over the sim fabric
// of the demo array (2 groups x 2 ports) — a control Reactor and two
// reactor Reactors owning the four nexuses (ports 1, 2 on one; 3, 4 on
// the other). Used by tests/unit/engine/threads_test.cpp and
// bench/failover_bench.cpp.
#pragma once

#include <chrono>
#include <future>
#include <memory>
#include <thread>

#include "array/array.h"
#include "common/reactor.h"
#include "engine/engine.h"
#include "transport/sim/sim_fabric.h"
#include "transport/sim/sim_nexus.h"

namespace openmpio::testing {

// Runs f on `ex` and waits for it.
template <typename F>
auto On(Executor& ex, F f) -> decltype(f()) {
  std::packaged_task<decltype(f())()> task(std::move(f));
  auto fut = task.get_future();
  ex.Post([&task]() { task(); });
  return fut.get();
}

class ThreadedSimEngine {
 public:
  Reactor control, r0, r1;
  std::unique_ptr<array::Array> array;
  std::unique_ptr<transport::sim::SimFabric> fabric;
  std::unique_ptr<engine::Engine> engine;

  ThreadedSimEngine() = default;
  ThreadedSimEngine(const ThreadedSimEngine&) = delete;
  ThreadedSimEngine& operator=(const ThreadedSimEngine&) = delete;
  ~ThreadedSimEngine() { Stop(); }  // also when a test stopped half-way

  // Builds everything and waits (at most 30 s) for discovery; false when the
  // array could not be made or discovery did not finish.
  bool Start(const engine::EngineConfig& ec, Duration link_latency) {
    auto arr = array::Array::Create(array::DemoArrayConfig(1U << 16));
    if (!arr) return false;
    array = std::move(*arr);
    fabric = std::make_unique<transport::sim::SimFabric>(*array, array->config().target_name);
    for (std::uint16_t p = 1; p <= 4; ++p) {
      fabric->AddPort(p, transport::sim::LinkModel{link_latency, 0, {}});
    }
    engine = On(control, [&] { return std::make_unique<engine::Engine>(ec, control); });
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
    for (int i = 0; i < 3000; ++i) {
      if (On(control, [&] { return engine->DiscoveryIdle(); })) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }

  // transport.h: nexuses are destroyed with nothing pending. Stops the
  // reactors and control (they join; what is still queued is dropped), then
  // destroys the engine and the fabric on this thread. Idempotent.
  void Stop() {
    r0.Stop();
    r1.Stop();
    control.Stop();
    engine.reset();
    fabric.reset();
  }
};

}  // namespace openmpio::testing

// BM_FailoverTime: wall-clock failover on real threads — the engine with a
// control Reactor and two reactor Reactors owning the four sim
// nexuses of the demo array (link latency 100 µs each way). Each iteration
// sends one 4 KiB write on LU 0's disk under Fail Over Only (preferred path: port
// 1), drops port 1's link while the write is in it, and times fault → the
// write's completion through another path (the engine sees the connection
// loss, fails the nexus on control, re-dispatches to port 2: one link round
// trip of 200 µs is part of every sample). Between iterations the path
// monitor reinstates port 1 and FOO fails back to it (not timed).
//
// Counters: min / median / max failover time in µs over the iterations.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <thread>
#include <vector>

#include "threaded_sim_engine.h"

namespace openmpio::engine {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;

using openmpio::testing::On;

void BM_FailoverTime(benchmark::State& state) {
  openmpio::testing::ThreadedSimEngine sim;
  EngineConfig ec;
  ec.command_timeout = std::chrono::seconds(5);
  ec.retry_interval = milliseconds(5);
  if (!sim.Start(ec, microseconds(100))) {
    state.SkipWithError("discovery did not finish");
    return;
  }
  Executor& control = sim.control;
  Engine* engine = sim.engine.get();
  transport::sim::SimFabric* fabric = sim.fabric.get();
  auto wait_for = [&](auto pred) {
    for (int i = 0; i < 20000; ++i) {
      if (On(control, pred)) return true;
      std::this_thread::sleep_for(microseconds(200));
    }
    return false;
  };
  // LU 0's disk: A/O through group 1 (ports 1 and 2). Disks are numbered in
  // the order discovery claimed them, which the threads decide.
  const std::size_t d0 = On(control, [&] {
    for (const DiskInfo& d : engine->Disks()) {
      for (const GroupInfo& g : d.groups) {
        if (g.tpg_id == 1 && g.state.raw == static_cast<std::uint8_t>(
                                                 scsi::AsymmetricAccessState::kActiveOptimized)) {
          return d.index;
        }
      }
    }
    return std::size_t{0};
  });
  // (A copy: a range-for over a member of a temporary would dangle.)
  const auto port1_usable = [&] {
    const DiskInfo d = engine->Disks()[d0];
    for (const PathInfo& p : d.paths) {
      if (p.relative_target_port == 1) return p.usable;
    }
    return false;
  };
  const dsm::DsmPathId preferred = On(control, [&] {
    const DiskInfo d = engine->Disks()[d0];
    for (const PathInfo& p : d.paths) {
      if (p.relative_target_port == 1) return p.id;
    }
    return dsm::DsmPathId{0};
  });
  if (!On(control, [&] {
        return engine->SetLoadBalancePolicy(d0, dsm::LoadBalancePolicy::kFailOverOnly, preferred).ok();
      })) {
    state.SkipWithError("policy");
    return;
  }
  DiskHandle disk = engine->Disk(d0);
  std::vector<std::byte> buf(4096, std::byte{0x5a});
  std::vector<double> samples_us;
  std::uint64_t errors = 0;
  for (auto _ : state) {
    if (!wait_for(port1_usable)) {
      state.SkipWithError("port 1 not reinstated");
      break;
    }
    std::atomic<bool> done{false};
    std::atomic<bool> ok{false};
    Clock::time_point finished{};
    disk.Write(0, buf, [&](const Status& s) {
      finished = Clock::now();
      ok.store(s.ok());
      done.store(true, std::memory_order_release);
    });
    // Into the link (100 µs one way): spin 30 µs, then cut it.
    const auto until = Clock::now() + microseconds(30);
    while (Clock::now() < until) {
    }
    const Clock::time_point fault = Clock::now();
    fabric->Drop(1);
    while (!done.load(std::memory_order_acquire)) std::this_thread::yield();
    if (!ok.load()) ++errors;
    const double us = std::chrono::duration<double, std::micro>(finished - fault).count();
    // The write may have reached the array before the cut (a slow spin on a
    // loaded machine): then its answer was lost with the link all the same.
    samples_us.push_back(std::max(us, 0.0));
    state.SetIterationTime(std::max(us, 0.0) / 1e6);
  }
  if (!samples_us.empty()) {
    std::sort(samples_us.begin(), samples_us.end());
    state.counters["min_us"] = samples_us.front();
    state.counters["median_us"] = samples_us[samples_us.size() / 2];
    state.counters["max_us"] = samples_us.back();
    state.counters["errors"] = static_cast<double>(errors);
  }
  for (std::uint16_t p = 1; p <= 4; ++p) fabric->Restore(p);
  wait_for(port1_usable);
  sim.Stop();
}
BENCHMARK(BM_FailoverTime)->Iterations(100)->UseManualTime()->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace openmpio::engine

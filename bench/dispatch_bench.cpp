// BM_Dispatch/<op>/<paths>: one caller request of 4 KiB, Submit → completion
// callback, through the engine on the embedded sim array: <paths> ports of
// one target port group, all Active/Optimized for the LU, Round Robin with
// Subset (every path carries I/O), zero link latency, one ManualExecutor
// driven by the benchmark thread (single thread: the cost is CPU, not
// waiting). A request is: Submit (pooled parent, fence gate, snapshot pin,
// Select + StartIo), a post to the nexus's executor, SendOnNexus (CDB), the
// sim's round trip through the array's device server (memory backing), and
// HandleCompletion (EndIo, error table, FinishChunk, the callback).
//
// Counter allocs_per_io: global operator new calls per request (this
// program counts every allocation, alloc_counter.h): 0 in the steady state.
//
// BM_Dispatch/reactor/<op>: the production shape on real threads — the
// runtime built from the demo configuration (config::DemoConfig: 2 groups x
// 2 ports, each sim nexus bound to one of two reactor threads, LU 0's two
// A/O paths on different reactors, RRWS), the benchmark thread a caller
// blocked in runtime::SyncRead / SyncWrite as an nbdkit worker is: caller →
// reactor (post) → sim round trip → completion → caller (futex wake).
// Wall time per I/O; allocs_per_io counts every thread's allocations.
#include <benchmark/benchmark.h>

#include "alloc_counter.h"

#include <chrono>
#include <cstddef>
#include <memory>
#include <vector>

#include "array/array.h"
#include "common/manual_executor.h"
#include "config/config.h"
#include "runtime/runtime.h"
#include "engine/engine.h"
#include "transport/sim/sim_fabric.h"
#include "transport/sim/sim_nexus.h"

namespace openmpio::engine {
namespace {

struct Rig {
  ManualExecutor ex;  // first: destroyed last
  std::unique_ptr<array::Array> array;
  std::unique_ptr<transport::sim::SimFabric> fabric;
  std::unique_ptr<Engine> engine;
  DiskHandle disk;

  explicit Rig(std::uint16_t paths) {
    array::ArrayConfig cfg;
    cfg.tpgs = scsi::Tpgs::kBoth;
    for (std::uint16_t p = 1; p <= paths; ++p) cfg.ports.push_back({p, 1});
    array::LuConfig lu;
    lu.lun = 0;
    lu.blocks = 1U << 16;
    lu.initial_states = {{1, scsi::AsymmetricAccessState::kActiveOptimized}};
    cfg.lus = {lu};
    auto a = array::Array::Create(cfg);
    if (!a.has_value()) return;
    array = std::move(*a);
    fabric = std::make_unique<transport::sim::SimFabric>(*array, array->config().target_name);
    EngineConfig ec;
    ec.default_policy = dsm::LoadBalancePolicy::kRoundRobinWithSubset;
    engine = std::make_unique<Engine>(ec, ex);
    for (std::uint16_t p = 1; p <= paths; ++p) fabric->AddPort(p, transport::sim::LinkModel{});
    for (std::uint16_t p = 1; p <= paths; ++p) {
      transport::sim::SimNexusOptions o;
      o.isid = 0x023D00000000ULL + p;
      engine->AddNexus(fabric->CreateNexus(ex, p, o), ex);
    }
    for (int i = 0; i < 10000 && !engine->DiscoveryIdle(); ++i) {
      ex.RunUntilIdle();
      if (auto next = ex.NextDue()) ex.AdvanceTo(*next);
    }
    if (engine->DiscoveryIdle()) disk = engine->Disk(0);
  }

  ~Rig() {
    ex.RunFor(std::chrono::seconds(1));
    engine.reset();
    fabric.reset();
  }
};

struct Pending {
  bool done = false;
  bool ok = true;
};

void BM_Dispatch(benchmark::State& st, bool write) {
  const auto paths = static_cast<std::uint16_t>(st.range(0));
  Rig rig(paths);
  if (!rig.disk.valid()) {
    st.SkipWithError("discovery did not finish");
    return;
  }
  std::vector<std::byte> buf(4096, std::byte{0x5A});
  Pending pending;
  Pending* pp = &pending;
  auto one = [&](std::uint64_t i) {
    pending.done = false;
    const std::uint64_t offset = (i % 256) * buf.size();
    auto cb = [pp](const Status& s) {
      pp->done = true;
      pp->ok = pp->ok && s.ok();
    };
    if (write) {
      rig.disk.Write(offset, buf, cb);
    } else {
      rig.disk.Read(offset, buf, cb);
    }
    while (!pending.done) rig.ex.RunUntilIdle();
  };
  // Warm-up: the working set (pool, timer heap, the array's storage chunks).
  for (std::uint64_t i = 0; i < 512; ++i) one(i);
  std::uint64_t i = 0;
  const long before = testing::g_allocations.load();
  for (auto _ : st) one(i++);
  const long allocs = testing::g_allocations.load() - before;
  if (!pending.ok) st.SkipWithError("a request failed");
  st.counters["allocs_per_io"] =
      benchmark::Counter(static_cast<double>(allocs) / static_cast<double>(i));
  st.SetItemsProcessed(static_cast<std::int64_t>(i));
}

BENCHMARK_CAPTURE(BM_Dispatch, read, false)->Arg(1)->Arg(2)->Arg(4)->Arg(8);
BENCHMARK_CAPTURE(BM_Dispatch, write, true)->Arg(1)->Arg(2)->Arg(4)->Arg(8);

void BM_DispatchReactor(benchmark::State& st, bool write) {
  runtime::RuntimeOptions ro;
  ro.management = false;
  // The runtime's defaults (reactors: half the CPUs; reactor spin 50 us),
  // and range(0): µs the caller spins before it sleeps (default 0).
  ro.sync_wait_spin = std::chrono::microseconds(st.range(0));
  config::Config cfg = config::DemoConfig();
  auto rt = runtime::Runtime::Start(cfg, ro);
  if (!rt) {
    st.SkipWithError("the runtime did not start");
    return;
  }
  DiskHandle disk = (*rt)->Disk(0);
  std::vector<std::byte> buf(4096, std::byte{0x5A});
  bool ok = true;
  auto one = [&](std::uint64_t i) {
    const std::uint64_t offset = (i % 4096) * buf.size();
    const Status s = write ? runtime::SyncWrite(disk, offset, buf) : runtime::SyncRead(disk, offset, buf);
    ok = ok && s.ok();
  };
  for (std::uint64_t i = 0; i < 8192; ++i) one(i);  // the working set, written or read once
  std::uint64_t i = 0;
  const long before = testing::g_allocations.load();
  for (auto _ : st) one(i++);
  const long allocs = testing::g_allocations.load() - before;
  if (!ok) st.SkipWithError("a request failed");
  st.counters["allocs_per_io"] =
      benchmark::Counter(static_cast<double>(allocs) / static_cast<double>(i));
  st.SetItemsProcessed(static_cast<std::int64_t>(i));
  (*rt)->Stop();
}

BENCHMARK_CAPTURE(BM_DispatchReactor, read, false)
    ->Name("BM_Dispatch/reactor/read")
    ->ArgName("spin_us")
    ->Arg(0)
    ->Arg(50)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_DispatchReactor, write, true)
    ->Name("BM_Dispatch/reactor/write")
    ->ArgName("spin_us")
    ->Arg(0)
    ->Arg(50)
    ->UseRealTime();

}  // namespace
}  // namespace openmpio::engine

// BM_Select/<policy>/<paths>: one selection plus its StartIo and EndIo on an
// immutable snapshot of a disk with <paths> AO paths (non-ALUA, all online).
// The Threads(2) variants share one snapshot, one SelectorState and the nexus
// counters, as two I/O threads of one disk would. See bench/README.md.
#include <benchmark/benchmark.h>

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "dsm/policy.h"
#include "dsm/snapshot.h"
#include "dsm/topology.h"

namespace openmpio::dsm {
namespace {

struct Fixture {
  Disk disk;
  SelectorState state;
  std::unique_ptr<const SelectionSnapshot> snap;

  Fixture(LoadBalancePolicy policy, std::size_t paths) {
    disk.device = std::make_shared<TargetDevice>();
    for (std::size_t i = 0; i < paths; ++i) {
      NexusIdentity id;
      id.initiator_name = "iqn.2024-01.org.openmpio:bench";
      id.target_name = "iqn.2024-01.org.openmpio:array";
      id.portal_group_tag = static_cast<std::uint16_t>(i + 1);
      auto n = std::make_shared<Nexus>();
      n->id = MakeDsmPathId(id);
      n->identity = id;
      Path p;
      p.nexus = std::move(n);
      p.verification = PathVerification::kOnline;
      p.weight = static_cast<std::uint32_t>(paths - i);  // WP's pick is the last path
      // Background load, 1..3 requests per nexus, so LQD/LB/ST scan every path
      // (an idle path would end their scan early and flatter them).
      for (std::size_t k = 0; k <= i % 3; ++k) p.nexus->counters.StartIo(65536 * (k + 1));
      disk.paths.push_back(std::move(p));
    }
    disk.settings.policy = policy;
    disk.settings.explicit_policy = true;
    snap = BuildSnapshot(disk, state, nullptr, DsmOptions{}, 0);
  }
};

// One fixture per (policy, paths), shared by the threads of a run.
Fixture& Shared(LoadBalancePolicy policy, std::size_t paths) {
  static std::unique_ptr<Fixture> by_key[8][65];
  auto& slot = by_key[static_cast<std::size_t>(policy)][paths];
  if (!slot) slot = std::make_unique<Fixture>(policy, paths);
  return *slot;
}

void BM_Select(benchmark::State& st, LoadBalancePolicy policy) {
  const auto paths = static_cast<std::size_t>(st.range(0));
  static std::mutex setup;  // fixture creation only, outside the timed loop
  Fixture* f;
  {
    std::lock_guard<std::mutex> lock(setup);
    f = &Shared(policy, paths);
  }
  const SelectionSnapshot& snap = *f->snap;
  // Random-looking LBAs so Least Blocks' stickiness does not short-cut the scan;
  // a different stream per thread.
  std::uint64_t lba = 0x9E3779B97F4A7C15ULL * (static_cast<std::uint64_t>(static_cast<unsigned>(st.thread_index())) + 1);
  IoHint hint;
  hint.blocks = 8;
  hint.bytes = 4096;
  hint.kind = IoKind::kRead;
  for (auto _ : st) {
    lba = lba * 6364136223846793005ULL + 1442695040888963407ULL;
    hint.lba = lba >> 20;
    const SnapshotEntry* e = snap.Select(f->state, hint);
    snap.StartIo(*e, hint);
    benchmark::DoNotOptimize(e);
    snap.EndIo(*e, hint, 40'000);
  }
  st.SetItemsProcessed(st.iterations());
}

void Register() {
  const struct {
    const char* name;
    LoadBalancePolicy policy;
  } policies[] = {
      {"foo", LoadBalancePolicy::kFailOverOnly},  {"rr", LoadBalancePolicy::kRoundRobin},
      {"rrws", LoadBalancePolicy::kRoundRobinWithSubset},
      {"lqd", LoadBalancePolicy::kLeastQueueDepth}, {"wp", LoadBalancePolicy::kWeightedPaths},
      {"lb", LoadBalancePolicy::kLeastBlocks},    {"st", LoadBalancePolicy::kServiceTime},
  };
  for (const auto& p : policies) {
    auto* b = benchmark::RegisterBenchmark((std::string("BM_Select/") + p.name).c_str(), BM_Select,
                                           p.policy);
    for (int n : {2, 4, 8, 16, 64}) b->Arg(n);
    b->Threads(1)->Threads(2)->UseRealTime();
  }
}

const bool registered = (Register(), true);

}  // namespace
}  // namespace openmpio::dsm

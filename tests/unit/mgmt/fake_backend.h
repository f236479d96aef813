// A fake of the engine behind mgmt::Backend, built on real dsm::Disk objects
// and the real dsm checks/commit: the neighbour of the management layer, for
// its unit tests only (DESIGN.md "What the sim is"). It records every call
// that would change something, so a test of a bad request can assert that
// nothing reached the engine. Callbacks run synchronously unless a method is
// named in `defer`: then they wait in `deferred` until RunDeferred().
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "../dsm/dsm_fixture.h"
#include "dsm/lb_defaults.h"
#include "dsm/lb_management.h"
#include "dsm/path_state.h"
#include "mgmt/backend.h"
#include "mgmt/json_api.h"
#include "scsi/vpd.h"

namespace openmpio::mgmt::testing {

using dsm::testing::DiskBuilder;
using dsm::testing::kAN;
using dsm::testing::kAO;
using dsm::testing::kSB;
using dsm::testing::kUA;

struct FakeDisk {
  DiskName name;
  dsm::Disk disk;
  std::string hardware_id =
      "OPENMPIO"
      "SIMDISK         ";  // VID 8 + PID 16
  std::vector<PathPerf> perf;
  std::uint64_t generation = 1;
};

class FakeSim : public SimControl {
 public:
  void Execute(const SimRequest& request, StatusCallback done) override {
    {
      std::lock_guard<std::mutex> lock(mu);
      requests.push_back(request);
    }
    done(Status());
  }
  std::mutex mu;
  std::vector<SimRequest> requests;
};

class FakeBackend : public Backend {
 public:
  // A non-ALUA disk of n paths ("naa.6001405011223301"-style designator).
  FakeDisk& AddDisk(dsm::Disk disk, std::string alias = {}) {
    FakeDisk d;
    d.disk = std::move(disk);
    d.name.designator = scsi::DesignatorText(d.disk.lu_designator);
    d.name.alias = std::move(alias);
    for (const dsm::Path& p : d.disk.paths) {
      PathPerf perf;
      perf.path_id = p.id();
      perf.number_reads = 10;
      perf.number_writes = 5;
      perf.bytes_read = 40960;
      perf.bytes_written = 20480;
      perf.retries = 2;
      perf.latency = {LatencyBucket{128, 256, 12}, LatencyBucket{1048576, 0, 1}};
      d.perf.push_back(perf);
    }
    disks.push_back(std::move(d));
    return disks.back();
  }

  dsm::DsmOptions options() const override { return opts; }

  std::vector<Event> events;
  void ReadEvents(std::function<void(std::vector<Event>)> done) override {
    Run("ReadEvents", [done = std::move(done), e = events] { done(e); });
  }

  void ListDisks(std::function<void(std::vector<DiskName>)> done) override {
    std::vector<DiskName> names;
    for (const FakeDisk& d : disks) names.push_back(d.name);
    Run("ListDisks", [done = std::move(done), names = std::move(names)] { done(names); });
  }

  void ReadDisk(const std::string& designator, bool refresh_alua,
                std::function<void(Expected<DiskSnapshot>)> done) override {
    FakeDisk* d = Find(designator);
    if (d == nullptr) {
      Run("ReadDisk", [done] { done(MakeUnexpected(Status(NtStatus::kNoSuchDevice, "gone"))); });
      return;
    }
    for (PathPerf& p : d->perf) {  // I/O running between two reads
      p.number_reads += reads_per_read_disk;
      p.bytes_read += std::uint64_t{reads_per_read_disk} * 4096;
    }
    DiskSnapshot s;
    s.name = d->name;
    s.disk = d->disk;
    s.hardware_id = d->hardware_id;
    s.selection = dsm::ComputePathStates(d->disk, dsm::EffectivePolicy(d->disk, opts), 0, 0);
    s.perf = d->perf;
    s.generation = d->generation;
    if (refresh_alua && dsm::QueryNeedsAluaRefresh(d->disk)) {
      ++refreshes;
      s.refresh = refresh_status;
    }
    Run("ReadDisk", [done, s = std::move(s)]() mutable { done(std::move(s)); });
  }

  void ExecuteSetPolicy(const std::string& designator, std::uint64_t generation,
                        dsm::SetPolicyPlan plan, StatusCallback done) override {
    ++execute_calls;
    FakeDisk* d = Find(designator);
    Status st;
    if (d == nullptr) {
      st = Status(NtStatus::kNoSuchDevice);
    } else if (generation != d->generation) {
      st = InvalidParameter("disk changed");
    } else {
      if (plan.stpg) {
        // Step 14 as a perfect array does it: the groups become A/O.
        for (dsm::LuGroupState& g : d->disk.groups) {
          for (const std::uint16_t id : plan.stpg->tpg_ids) {
            if (g.tpg_id == id) g.state = scsi::AccessStateField::From(kAO);
          }
        }
      }
      st = dsm::CommitSetPolicy(d->disk, plan);
      if (st.ok() && plan.clear) defaults.ApplyTo(d->disk, d->hardware_id);
      if (st.ok()) ++d->generation;
    }
    Run("ExecuteSetPolicy", [done, st] { done(st); });
  }

  void ReadDefaults(std::function<void(dsm::PolicyDefaults)> done) override {
    dsm::PolicyDefaults copy = defaults;
    Run("ReadDefaults", [done, copy] { done(copy); });
  }

  void UpdateDefaults(DefaultsEdit edit, StatusCallback done) override {
    ++update_calls;
    Status st = edit(defaults, opts);
    Run("UpdateDefaults", [done, st] { done(st); });
  }

  void ClearCounters(const std::string& designator, StatusCallback done) override {
    ++clear_calls;
    FakeDisk* d = Find(designator);
    if (d != nullptr) {
      for (PathPerf& p : d->perf) p = PathPerf{p.path_id, 0, 0, 0, 0, 0, {}};
    }
    Run("ClearCounters", [done] { done(Status()); });
  }

  void SaveConfig(std::optional<std::string> path, StatusCallback done) override {
    ++save_calls;
    saved_path = path.value_or("(config file)");
    Run("SaveConfig", [done] { done(Status()); });
  }

  SimControl* sim() override { return has_sim ? &fake_sim : nullptr; }

  FakeDisk* Find(const std::string& designator) {
    for (FakeDisk& d : disks) {
      if (d.name.designator == designator) return &d;
    }
    return nullptr;
  }

  // Runs the callbacks held back by `defer`; returns how many ran.
  std::size_t RunDeferred() {
    std::vector<std::function<void()>> todo;
    {
      std::lock_guard<std::mutex> lock(mu);
      todo.swap(deferred);
    }
    for (auto& f : todo) f();
    return todo.size();
  }
  std::size_t DeferredCount() {
    std::lock_guard<std::mutex> lock(mu);
    return deferred.size();
  }

  std::vector<FakeDisk> disks;
  dsm::PolicyDefaults defaults;
  dsm::DsmOptions opts;
  Status refresh_status;
  bool has_sim = true;
  FakeSim fake_sim;
  std::set<std::string> defer;  // method names whose callbacks wait
  // Each ReadDisk first adds this many 4 KiB reads to every path of the
  // disk, as if I/O ran between two queries (0: counters stand still).
  std::uint32_t reads_per_read_disk = 0;
  int execute_calls = 0, update_calls = 0, clear_calls = 0, save_calls = 0, refreshes = 0;
  std::string saved_path;

 private:
  void Run(const std::string& method, std::function<void()> f) {
    {
      std::lock_guard<std::mutex> lock(mu);
      if (defer.count(method) != 0) {
        deferred.push_back(std::move(f));
        return;
      }
    }
    f();
  }
  std::mutex mu;
  std::vector<std::function<void()>> deferred;
};

// The standard fake: disk 0 = explicit-ALUA LU, paths 0,1 in group 1 (A/O),
// paths 2,3 in group 2 (Standby), alias "data"; disk 1 = non-ALUA LU of two
// paths, alias "logs".
inline void Populate(FakeBackend& b) {
  DiskBuilder alua(4, dsm::AluaSupport::kImplicitAndExplicit);
  alua.Group(1, kAO, true).Group(2, kSB).InGroup(0, 1).InGroup(1, 1).InGroup(2, 2).InGroup(3, 2);
  alua.disk.symmetric_access = false;
  alua.disk.lu_designator = dsm::testing::Naa(1);
  b.AddDisk(alua.disk, "data");
  DiskBuilder plain(2);
  plain.disk.lu_designator = dsm::testing::Naa(2);
  // Distinct nexuses from disk 0's (other portals).
  for (std::size_t i = 0; i < plain.disk.paths.size(); ++i) {
    plain.disk.paths[i].nexus = dsm::testing::MakeNexus(10 + i);
  }
  b.AddDisk(plain.disk, "logs");
}

}  // namespace openmpio::mgmt::testing

// Preflight (preflight.h): the checks of Runtime::Start and Build, in the
// order they run there, without building anything.
#include "runtime/preflight.h"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "array/array.h"
#include "common/executor.h"
#include "dsm/types.h"
#include "runtime/from_config.h"

namespace openmpio::runtime {
namespace {

// ToLinkModels makes microseconds Durations (nanoseconds) that the
// sim adds to the clock's now: half the range leaves room for now.
constexpr std::uint64_t kMaxLinkDelayUs = static_cast<std::uint64_t>(
    std::chrono::duration_cast<std::chrono::microseconds>(Duration::max()).count() / 2);

Status SimProblem(const std::string& what) {
  return InvalidParameter("[sim]: " + what);
}

// The engine's limit, which would otherwise drop paths silently: every portal
// of a target is a path of each of its LUs.
Status TargetsProblem(const std::vector<config::IscsiTargetConfig>& targets) {
  for (const config::IscsiTargetConfig& t : targets) {
    if (t.portals.size() > dsm::kMaxPathsPerDisk) {
      return InvalidParameter(
          t.origins.Of("", "[[target]]") + " (" + t.name +
          "): " + std::to_string(t.portals.size()) +
          " portals; every portal is a path of each LU, and a disk has at most " +
          std::to_string(dsm::kMaxPathsPerDisk) + " paths");
    }
  }
  return OkStatus();
}

}  // namespace

Status Preflight(const config::Config& config) {
  // Runtime::Start calls this first too. [[target]]s, [sim], or both.
  if (Status s = TargetsProblem(config.targets); !s.ok()) return s;
  if (!config.sim) {
    if (!config.targets.empty()) return OkStatus();
    return InvalidParameter("the configuration has neither [sim] nor [[target]]: nothing to serve");
  }
  const config::SimConfig& sim = *config.sim;

  // ToArrayLu divides the size by the block size.
  for (const config::SimLuConfig& lu : sim.lus) {
    if (lu.block_size == 0 || lu.size_bytes % lu.block_size != 0) {
      return SimProblem("LU " + std::to_string(lu.lun) + ": size " + std::to_string(lu.size_bytes) +
                        " bytes is not a multiple of the block size " +
                        std::to_string(lu.block_size));
    }
  }
  // Runtime::Build: Array::Create checks with CheckConfig first.
  if (Status s = array::CheckConfig(ToArrayConfig(sim)); !s.ok()) {
    return Status::FromCode(s.code(), "[sim]: " + s.message());
  }

  // The engine's limits, which would otherwise drop paths or LUs silently.
  if (sim.ports.size() > dsm::kMaxPathsPerDisk) {
    return SimProblem(std::to_string(sim.ports.size()) +
                      " ports; every port is a path of each LU, and a disk has at most " +
                      std::to_string(dsm::kMaxPathsPerDisk) + " paths");
  }
  for (const config::SimPortConfig& p : sim.ports) {
    if (p.latency_us > kMaxLinkDelayUs || p.service_time_us > kMaxLinkDelayUs) {
      return SimProblem("port " + std::to_string(p.relative_target_port) +
                        ": latency_us or service_time_us above " + std::to_string(kMaxLinkDelayUs) +
                        " (the engine's clock range)");
    }
  }
  return OkStatus();
}

}  // namespace openmpio::runtime

// Service time (openmpio's DSM_LB_VENDOR_SPECIFIC, 7; off under strict_msdsm):
// the usable path whose nexus would finish this request soonest, estimated as
// (bytes in flight + this request's bytes) / measured throughput, as Linux
// dm-service-time and dm-historical-service-time do. Ties go to the higher
// throughput, then to the first in path order. Failover and the transition
// window as LQD (its per-path fields and checks are LQD's).
//
// The throughput of a nexus is a moving average (weight 1/8) of bytes / service
// time, fed by EndIo with the latency the engine measured (no clock read here).
#include "dsm/policy.h"

namespace openmpio::dsm {
namespace {

__extension__ typedef unsigned __int128 Wide;  // bytes x 10^9 in EndIo

class ServiceTime final : public Policy {
 public:
  LoadBalancePolicy kind() const noexcept override { return LoadBalancePolicy::kServiceTime; }

  const SnapshotEntry* Select(const SelectionSnapshot& snap, SelectorState& state,
                              const IoHint& hint) const noexcept override {
    const std::span<const SnapshotEntry> usable = snap.usable();
    if (usable.empty()) return nullptr;
    // load/tp < best_load/best_tp, cross-multiplied (st_compare_load's way, no
    // division). In double: 64-bit integers would overflow (2^44 bytes x 2^36
    // bytes/s), 128-bit products cost 3x more per path, and 53 bits of
    // mantissa are far finer than the estimate itself.
    const SnapshotEntry* best = &usable[0];
    double best_load = static_cast<double>(best->counters->outstanding_bytes() + hint.bytes);
    double best_tp = static_cast<double>(best->counters->throughput());
    for (std::size_t i = 1; i < usable.size(); ++i) {
      const double load = static_cast<double>(usable[i].counters->outstanding_bytes() + hint.bytes);
      const double tp = static_cast<double>(usable[i].counters->throughput());
      const double lhs = load * best_tp;
      const double rhs = best_load * tp;
      if (lhs < rhs || (lhs == rhs && tp > best_tp)) {
        best = &usable[i];
        best_load = load;
        best_tp = tp;
      }
    }
    RememberLastPath(state, best->id);
    return best;
  }

  void EndIo(const SnapshotEntry& e, const IoHint& hint,
             std::uint64_t service_ns) const noexcept override {
    e.counters->EndIo(hint.bytes);
    if (service_ns == 0 || hint.bytes == 0) return;
    const Wide sample_w = Wide{hint.bytes} * 1'000'000'000U / service_ns;
    const std::uint64_t sample =
        sample_w > ~std::uint64_t{0} >> 4 ? ~std::uint64_t{0} >> 4 : static_cast<std::uint64_t>(sample_w);
    const std::uint64_t old = e.counters->throughput();
    e.counters->set_throughput(old - old / 8 + sample / 8);
  }
};

}  // namespace

const Policy& ServiceTimePolicy() noexcept {
  static const ServiceTime policy;
  return policy;
}

}  // namespace openmpio::dsm

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

__extension__ typedef unsigned __int128 Wide;  // bytes x 10^9 in EndIo, exact compares

// Whether a path with `load` bytes ahead of this request and throughput `tp`
// finishes it sooner than the best so far: load/tp < best_load/best_tp, ties
// to the higher throughput. Throughputs are never 0. Cross-multiplied as
// dm-service-time's st_compare_load does, but exactly: bytes in flight reach
// 2^44 and throughputs 2^60, so a product can need 104 bits. The 64-bit
// products come first (every realistic load x throughput fits, and then the
// test is two multiplies and two compares); only when one overflows are they
// redone in 128 bits. Doubles (53-bit products) or st_compare_load's shifts
// would round near-ties.
inline bool Sooner(std::uint64_t load, std::uint64_t tp, std::uint64_t best_load,
                   std::uint64_t best_tp) noexcept {
  std::uint64_t lhs = 0;
  std::uint64_t rhs = 0;
  const bool wide_l = __builtin_mul_overflow(load, best_tp, &lhs);
  const bool wide_r = __builtin_mul_overflow(best_load, tp, &rhs);
  if (!wide_l && !wide_r) [[likely]] {
    if (lhs != rhs) return lhs < rhs;
    return tp > best_tp;
  }
  const Wide wl = Wide{load} * best_tp;
  const Wide wr = Wide{best_load} * tp;
  if (wl != wr) return wl < wr;
  return tp > best_tp;
}

class ServiceTime final : public Policy {
 public:
  LoadBalancePolicy kind() const noexcept override { return LoadBalancePolicy::kServiceTime; }

  const SnapshotEntry* Select(const SelectionSnapshot& snap, SelectorState& state,
                              const IoHint& hint) const noexcept override {
    const std::span<const SnapshotEntry> usable = snap.usable();
    if (usable.empty()) return nullptr;
    // load/tp < best_load/best_tp, cross-multiplied (st_compare_load's way, no
    // division), exactly, ties to the higher throughput. The scan first assumes
    // every load < 2^30 and throughput < 2^34 (1 GiB in flight, 17 GB/s), so
    // plain 64-bit products are exact; the sizes seen are OR-ed as it goes, and
    // if one was larger the scan is redone with Sooner's 128-bit fallback.
    const SnapshotEntry* best = &usable[0];
    std::uint64_t best_load = best->counters->outstanding_bytes() + hint.bytes;
    std::uint64_t best_tp = best->counters->throughput();
    std::uint64_t seen_load = best_load;
    std::uint64_t seen_tp = best_tp;
    for (std::size_t i = 1; i < usable.size(); ++i) {
      const std::uint64_t load = usable[i].counters->outstanding_bytes() + hint.bytes;
      const std::uint64_t tp = usable[i].counters->throughput();
      seen_load |= load;
      seen_tp |= tp;
      const std::uint64_t lhs = load * best_tp;
      const std::uint64_t rhs = best_load * tp;
      if (lhs < rhs || (lhs == rhs && tp > best_tp)) {
        // A branch, not a conditional move: a cmov would chain each
        // iteration's multiplies to the previous one's compare.
        asm volatile("");
        best = &usable[i];
        best_load = load;
        best_tp = tp;
      }
    }
    if (((seen_load >> 30) | (seen_tp >> 34)) != 0) [[unlikely]] {
      best = &usable[0];
      best_load = best->counters->outstanding_bytes() + hint.bytes;
      best_tp = best->counters->throughput();
      for (std::size_t i = 1; i < usable.size(); ++i) {
        const std::uint64_t load = usable[i].counters->outstanding_bytes() + hint.bytes;
        const std::uint64_t tp = usable[i].counters->throughput();
        if (Sooner(load, tp, best_load, best_tp)) {
          best = &usable[i];
          best_load = load;
          best_tp = tp;
        }
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

// Service time (openmpio's DSM_LB_VENDOR_SPECIFIC, 7; off under strict_msdsm):
// the usable path whose nexus would finish this request soonest, estimated as
// (bytes in flight + this request's bytes) / measured throughput, as Linux
// dm-service-time and dm-historical-service-time do. Failover and the
// transition window as LQD (ReusesPathInTransition; RememberLastPath).
//
// The throughput of a nexus is a moving average (weight 1/8) of bytes / service
// time, fed by EndIo with the latency the engine measured (no clock read here).
// EndIo also stores its reciprocal (NexusCounters::seconds_per_byte), so the
// scan multiplies once per path instead of cross-multiplying against the best
// so far, and each path's estimate is independent of the others.
//
// How exact the choice is. The request counts as at least 1 byte (so idle
// nexuses still compare by throughput, the faster first, as dm-service-time's
// equal-load rule has it) and at most NexusCounters::kMaxCountedTransfer; the
// load L = bytes in flight + request < 2^45 is exact as a double. A path's
// estimate is the double L x (1/tp), a few roundings away from L/tp
// (relative error < 2^-51), and its 6 low mantissa bits are then replaced by
// the path's index, so estimates equal to 46 bits go to the first in path order.
// Hence:
//   - the chosen path's L/tp is within a factor 1 + 2^-44 of the smallest
//     L/tp of the usable paths (the exact ratios, not their roundings);
//   - when the throughputs are equal the choice is exact: the fewest bytes in
//     flight, then path order (L and L + 1 differ by more than 2^-45);
//   - of two paths with equal loads the faster one wins when the throughputs
//     differ by more than 2^-44 relative; other ties of L/tp, and near-ties
//     within the bound above, go to the first in path order, not (as in
//     dm-service-time) to the faster path.
// dm-service-time itself compares approximately (it shifts both products
// right when they would overflow).
//
// Two scans compute the same keys and pick the same entry: the scalar one is
// the reference (and the scan for few paths, and the only one without SSE2);
// the SSE2 one is property-tested against it (policy_st.h).
#include <algorithm>
#include <atomic>
#include <bit>

#if defined(__x86_64__) && defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "dsm/policy.h"
#include "dsm/policy_st.h"

namespace openmpio::dsm {
namespace {

__extension__ typedef unsigned __int128 Wide;  // bytes x 10^9 in EndIo

static_assert(kMaxPathsPerDisk <= 64, "an entry index must fit a key's 6 low bits");
constexpr std::uint64_t kIndexBits = 0x3F;

// 2^52 as a double and as its bit pattern: OR-ing an integer x < 2^52 into the
// pattern gives the double 2^52 + x exactly, so subtracting 2^52 - request
// yields x + request exactly, without an integer-to-double conversion (which
// SSE2 lacks for 64-bit integers).
constexpr double kTwoTo52 = 4503599627370496.0;
constexpr std::uint64_t kTwoTo52Bits = 0x4330'0000'0000'0000;

// The key of entry `index` of a nexus with in-flight word `raw`: the bit
// pattern of the double (bytes + request) x seconds_per_byte with its 6 low
// bits replaced by the index. Positive doubles order as their bit patterns
// do, so the smallest key is the soonest path, and of keys equal but for the
// index the first in path order. minus_request is 2^52 - request.
inline std::uint64_t Key(std::uint64_t raw, double seconds_per_byte, double minus_request,
                         std::uint64_t index) noexcept {
  const double load =
      std::bit_cast<double>(NexusCounters::BytesOf(raw) | kTwoTo52Bits) - minus_request;
  return (std::bit_cast<std::uint64_t>(load * seconds_per_byte) & ~kIndexBits) | index;
}

// 2^52 - request, for Key(); the request counts as 1 to kMaxCountedTransfer
// bytes. Exact: request < 2^40 converts exactly, and so does 2^52 - request.
inline double MinusRequest(std::uint64_t request_bytes) noexcept {
  const std::uint64_t request =
      std::clamp<std::uint64_t>(request_bytes, 1, NexusCounters::kMaxCountedTransfer);
  return kTwoTo52 - static_cast<double>(static_cast<std::int64_t>(request));
}

// Up to this many paths the scan is the scalar loop, which updates its minimum
// with a branch; above it, branch-free (SSE2 on x86-64). With few paths the
// loop is short and a predicted branch lets the caller go on with the choice
// before the scan has finished; a misprediction (a new winner) costs about as
// much as the branch-free scan's longer dependency chain. With many paths the
// branch-free scan's throughput wins (bench/README.md has the numbers).
constexpr std::size_t kMaxPathsForBranchyScan = 8;

// The scalar scan, the reference (see the header comment). Both scans are
// forced inline: with the test's entry points beside Select the compiler would
// otherwise call them, which costs Select a call and the spills around it.
[[gnu::always_inline]] inline std::size_t SoonestScalar(std::span<const SnapshotEntry> usable, double minus_request) noexcept {
  std::uint64_t best = ~std::uint64_t{0};  // above every key
  for (std::size_t i = 0; i < usable.size(); ++i) {
    const NexusCounters& c = *usable[i].counters;
    const std::uint64_t key = Key(c.raw(), c.seconds_per_byte(), minus_request, i);
    if (key < best) {
      asm volatile("");  // a branch, not a conditional move
      best = key;
    }
  }
  return best & kIndexBits;
}

#if defined(__x86_64__) && defined(__SSE2__)
// A relaxed load of an 8-byte atomic straight into the low half of an SSE
// register. An aligned 8-byte load is single-copy atomic on x86-64, which is
// all a relaxed std::atomic load is; the compiler's own atomic loads go through
// a general-purpose register, and those round trips (two per path) cost more
// than the rest of the scan. The asm is opaque to the compiler, so the load is
// never split, merged with another or hoisted out of a selection.
template <typename T>
inline __m128i LoadRelaxed(const std::atomic<T>& word) noexcept {
  static_assert(sizeof(word) == 8 && std::atomic<T>::is_always_lock_free);
  __m128i v;
  asm("movq %1, %0" : "=x"(v) : "m"(word));
  return v;
}
// Two such loads side by side (lane 0, lane 1).
template <typename T>
inline __m128i LoadRelaxed(const std::atomic<T>& word0, const std::atomic<T>& word1) noexcept {
  return _mm_unpacklo_epi64(LoadRelaxed(word0), LoadRelaxed(word1));
}

// Key() for two entries at once, even entries in lane 0 and odd ones in lane 1,
// and a running minimum per lane (minpd: the keys are positive doubles). A
// scalar scan is bound by the integer units (mask, add, compare, two selects
// per path); here the integer units only walk the entries.
[[gnu::always_inline]] inline std::size_t SoonestSse2(std::span<const SnapshotEntry> usable,
                                                      double minus_request) noexcept {
  const std::size_t n = usable.size();
  const __m128i byte_mask = _mm_set1_epi64x(static_cast<long long>(NexusCounters::kByteMask));
  const __m128i two_to_52 = _mm_set1_epi64x(static_cast<long long>(kTwoTo52Bits));
  const __m128i clear_index = _mm_set1_epi64x(static_cast<long long>(~kIndexBits));
  const __m128d minus = _mm_set1_pd(minus_request);
  const __m128i two = _mm_set1_epi64x(2);
  __m128i index = _mm_set_epi64x(1, 0);
  __m128d best = _mm_set1_pd(__builtin_inf());  // above every key
  const auto keys = [&](__m128i raw, __m128i seconds_per_byte) {
    const __m128i biased = _mm_or_si128(_mm_and_si128(raw, byte_mask), two_to_52);
    const __m128d load = _mm_sub_pd(_mm_castsi128_pd(biased), minus);
    const __m128i time = _mm_castpd_si128(_mm_mul_pd(load, _mm_castsi128_pd(seconds_per_byte)));
    return _mm_castsi128_pd(_mm_or_si128(_mm_and_si128(time, clear_index), index));
  };
  const auto pair = [&](const SnapshotEntry* at) {
    const NexusCounters& even = *at[0].counters;
    const NexusCounters& odd = *at[1].counters;
    const __m128i raw = LoadRelaxed(even.in_flight_word(), odd.in_flight_word());
    const __m128i spb = LoadRelaxed(even.seconds_per_byte_word(), odd.seconds_per_byte_word());
    const __m128d k = keys(raw, spb);
    index = _mm_add_epi64(index, two);
    return k;
  };
  // Four entries a step into two running minima, which halves the minpd
  // chain. min_pd(best, k) is best < k ? best : k, in place; keys never tie.
  const SnapshotEntry* e = usable.data();
  __m128d best2 = best;
  for (const SnapshotEntry* const end = e + (n & ~std::size_t{3}); e != end; e += 4) {
    best = _mm_min_pd(best, pair(e));
    best2 = _mm_min_pd(best2, pair(e + 2));
  }
  best = _mm_min_pd(best, best2);
  if ((n & 2) != 0) {
    best = _mm_min_pd(best, pair(e));
    e += 2;
  }
  if ((n & 1) != 0) {  // the last of an odd count, in lane 0
    const NexusCounters& last = *e->counters;
    const __m128i raw = LoadRelaxed(last.in_flight_word());
    const __m128i spb = LoadRelaxed(last.seconds_per_byte_word());
    best = _mm_min_sd(best, keys(raw, spb));  // lane 1 from the first operand
  }
  best = _mm_min_sd(best, _mm_unpackhi_pd(best, best));
  return static_cast<std::uint64_t>(_mm_cvtsi128_si64(_mm_castpd_si128(best))) & kIndexBits;
}
#endif

// EndIo's sample is bytes x 10^9 / ns, at most kMaxSample B/s; below 2^34
// bytes the product fits 64 bits.
constexpr std::uint64_t kNarrowBytes = std::uint64_t{1} << 34;
constexpr std::uint64_t kMaxSample = ~std::uint64_t{0} >> 4;

class ServiceTime final : public Policy {
 public:
  LoadBalancePolicy kind() const noexcept override { return LoadBalancePolicy::kServiceTime; }
  bool ReusesPathInTransition() const noexcept override { return true; }

  const SnapshotEntry* Select(const SelectionSnapshot& snap, SelectorState& state,
                              const IoHint& hint) const noexcept override {
    const std::span<const SnapshotEntry> usable = snap.usable();
    if (usable.empty()) return nullptr;
    const double minus_request = MinusRequest(hint.bytes);
#if defined(__x86_64__) && defined(__SSE2__)
    const std::size_t index = usable.size() <= kMaxPathsForBranchyScan
                                  ? SoonestScalar(usable, minus_request)
                                  : SoonestSse2(usable, minus_request);
#else
    const std::size_t index = SoonestScalar(usable, minus_request);
#endif
    const SnapshotEntry* best = &usable[index];
    RememberLastPath(state, best->id);
    return best;
  }

  void EndIo(const SnapshotEntry& e, const IoHint& hint,
             std::uint64_t service_ns) const noexcept override {
    NexusCounters& c = *e.counters;
    c.EndIo(hint.bytes);
    if (service_ns == 0 || hint.bytes == 0) return;
    std::uint64_t sample;
    if (hint.bytes < kNarrowBytes) [[likely]] {  // one 64-bit division, no __udivti3 call
      sample = hint.bytes * 1'000'000'000U / service_ns;
      sample = sample > kMaxSample ? kMaxSample : sample;
    } else {
      const Wide wide = Wide{hint.bytes} * 1'000'000'000U / service_ns;
      sample = wide > kMaxSample ? kMaxSample : static_cast<std::uint64_t>(wide);
    }
    const std::uint64_t old = c.throughput();
    c.set_throughput(old - old / 8 + sample / 8);
  }

  std::string StatusLine(const SelectionSnapshot& snap, const SelectorState&) const override {
    const std::span<const SnapshotEntry> usable = snap.usable();
    std::string line = PerPathLine(
        "us to drain the bytes in flight at the measured throughput", usable,
        [](const SnapshotEntry& e) {  // bytes < 2^44: times 10^6 fits 64 bits
          return e.counters->outstanding_bytes() * 1'000'000U / e.counters->throughput();
        });
    if (!usable.empty()) {
      const std::size_t next = SoonestScalar(usable, MinusRequest(kStatusRequestBytes));
      line += "; a 4 KiB request would go to " + PathIdText(usable[next].id);
    }
    return line;
  }

 private:
  static constexpr std::uint64_t kStatusRequestBytes = 4096;
};

}  // namespace

std::size_t service_time::SoonestByScalarScan(std::span<const SnapshotEntry> usable,
                                              std::uint64_t request_bytes) noexcept {
  return SoonestScalar(usable, MinusRequest(request_bytes));
}

std::size_t service_time::SoonestByVectorScan(std::span<const SnapshotEntry> usable,
                                              std::uint64_t request_bytes) noexcept {
#if defined(__x86_64__) && defined(__SSE2__)
  return SoonestSse2(usable, MinusRequest(request_bytes));
#else
  return SoonestScalar(usable, MinusRequest(request_bytes));
#endif
}

const Policy& ServiceTimePolicy() noexcept {
  static const ServiceTime policy;
  return policy;
}

}  // namespace openmpio::dsm

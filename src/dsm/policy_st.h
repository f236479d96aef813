// Service time's two scans (policy_st.cpp), declared for their property test
// (tests/unit/dsm/policy_lqd_lb_st_test.cpp): the SSE2 scan must pick exactly the
// entry the scalar reference picks. Selection itself goes through the Policy.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "dsm/snapshot.h"

namespace openmpio::dsm::service_time {

// Whether SoonestByVectorScan is the SSE2 scan (x86-64) rather than the scalar one.
inline constexpr bool kHasVectorScan =
#if defined(__x86_64__) && defined(__SSE2__)
    true;
#else
    false;
#endif

// The index into `usable` (not empty) of the entry that would finish a request
// of request_bytes soonest, by the scalar reference scan.
[[nodiscard]] std::size_t SoonestByScalarScan(std::span<const SnapshotEntry> usable,
                                              std::uint64_t request_bytes) noexcept;
// The same by the SSE2 scan, which Select uses above 8 paths; the scalar scan
// where SSE2 is not built.
[[nodiscard]] std::size_t SoonestByVectorScan(std::span<const SnapshotEntry> usable,
                                              std::uint64_t request_bytes) noexcept;

}  // namespace openmpio::dsm::service_time

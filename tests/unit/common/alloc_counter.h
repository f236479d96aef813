// Test helper: a replacement of the global operator new / delete that counts
// every allocation of the test program, so a test can prove a region of code
// allocates nothing (read g_allocations before and after).
//
// This header DEFINES the replacement functions (they cannot be inline): a
// test program must include it from exactly ONE .cpp, or it will not link.
// Today: unit_dsm from tests/unit/dsm/snapshot_test.cpp, unit_transport from
// tests/unit/transport/sim_transport_test.cpp, unit_common from
// tests/unit/common/reactor_test.cpp, unit_array from
// tests/unit/array/write_cache_test.cpp. Each program keeps a test that
// the counter sees a plain `new` (AllocationCounterWorks), so its
// allocate-nothing tests could fail.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <new>

// gcc's -Wmismatched-new-delete sees the inlined malloc/free pair of the
// replacement and warns falsely at -O2, anywhere in the including file (so
// the pragma is not popped).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

namespace openmpio::testing {
inline std::atomic<long> g_allocations{0};
// The same, of the calling thread only: for a region whose other threads
// (reactors, timers) may allocate for reasons of their own.
inline thread_local long t_allocations = 0;
}  // namespace openmpio::testing

void* operator new(std::size_t n) {
  openmpio::testing::g_allocations.fetch_add(1, std::memory_order_relaxed);
  ++openmpio::testing::t_allocations;
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

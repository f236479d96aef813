// Test helper: replacements of malloc, calloc, realloc and free that count
// the calls of the whole process (libiscsi is C, so operator new counters
// such as tests/unit/common/alloc_counter.h do not see it; operator new ends
// in malloc and is counted here too). They forward to glibc's own
// __libc_* functions. Counting is off unless a test turns it on: then one
// relaxed load per call is all it costs.
//
// This header DEFINES the replacements: include it in exactly one
// translation unit of a program (iscsi_nexus_test.cpp); a second would not
// link.
//
// A sanitizer brings its own malloc: then nothing is replaced and
// kMallocCountWorks is false (the tests that need it skip).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define OPENMPIO_MALLOC_COUNT 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || \
    __has_feature(memory_sanitizer)
#define OPENMPIO_MALLOC_COUNT 0
#endif
#endif
#ifndef OPENMPIO_MALLOC_COUNT
#define OPENMPIO_MALLOC_COUNT 1
#endif

namespace openmpio::testing::malloc_count {

inline constexpr bool kMallocCountWorks = OPENMPIO_MALLOC_COUNT != 0;

// Written by Start/Stop (any thread); read by every allocation.
inline std::atomic<bool> g_counting{false};
// malloc + calloc + realloc calls, and free calls of non-null pointers,
// while counting is on.
inline std::atomic<std::uint64_t> g_mallocs{0};
inline std::atomic<std::uint64_t> g_frees{0};

inline void Start() {
  g_mallocs.store(0, std::memory_order_relaxed);
  g_frees.store(0, std::memory_order_relaxed);
  g_counting.store(true, std::memory_order_release);
}
inline void Stop() {
  g_counting.store(false, std::memory_order_release);
}

}  // namespace openmpio::testing::malloc_count

#if OPENMPIO_MALLOC_COUNT

extern "C" {
void* __libc_malloc(std::size_t size);                 // NOLINT(bugprone-reserved-identifier)
void* __libc_calloc(std::size_t n, std::size_t size);  // NOLINT(bugprone-reserved-identifier)
void* __libc_realloc(void* p, std::size_t size);       // NOLINT(bugprone-reserved-identifier)
void __libc_free(void* p);                             // NOLINT(bugprone-reserved-identifier)

void* malloc(std::size_t size) noexcept {
  namespace mc = openmpio::testing::malloc_count;
  if (mc::g_counting.load(std::memory_order_relaxed)) {
    mc::g_mallocs.fetch_add(1, std::memory_order_relaxed);
  }
  return __libc_malloc(size);
}

void* calloc(std::size_t n, std::size_t size) noexcept {
  namespace mc = openmpio::testing::malloc_count;
  if (mc::g_counting.load(std::memory_order_relaxed)) {
    mc::g_mallocs.fetch_add(1, std::memory_order_relaxed);
  }
  return __libc_calloc(n, size);
}

void* realloc(void* p, std::size_t size) noexcept {
  namespace mc = openmpio::testing::malloc_count;
  if (mc::g_counting.load(std::memory_order_relaxed)) {
    mc::g_mallocs.fetch_add(1, std::memory_order_relaxed);
  }
  return __libc_realloc(p, size);
}

void free(void* p) noexcept {
  namespace mc = openmpio::testing::malloc_count;
  if (p != nullptr && mc::g_counting.load(std::memory_order_relaxed)) {
    mc::g_frees.fetch_add(1, std::memory_order_relaxed);
  }
  __libc_free(p);
}
}  // extern "C"

#endif  // OPENMPIO_MALLOC_COUNT

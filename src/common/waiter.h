// Waiter: one thread waits for one event that another thread signals — a
// synchronous caller (an nbdkit worker in pread) waiting for its request's
// completion on a reactor. It lives on the waiting thread's stack and costs,
// when the completion comes first, no system call at all, otherwise one
// FUTEX_WAIT and one FUTEX_WAKE (the cheapest sleep and wake Linux has).
//
// Lifetime: Signal's last touch of the object is the atomic exchange; the
// FUTEX_WAKE that may follow only names the address. So the waiter may
// return (and its stack frame die) as soon as it sees the exchange. A wake on
// an address that a later Waiter reuses is a spurious wake-up for it, which
// Wait tolerates (it re-checks the state), as every futex user must.
//
// Spin: Wait may first spin up to spin_ns before it sleeps. On this
// project's 2-core machine that takes the core the reactor needs, so the
// default is 0 (bench/README.md has the measurement).
#pragma once

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>

namespace openmpio {

class Waiter {
 public:
  Waiter() = default;
  Waiter(const Waiter&) = delete;
  Waiter& operator=(const Waiter&) = delete;

  // Any thread, once. Whatever the signaller wrote before is visible to the
  // waiter after Wait returns.
  void Signal() noexcept {
    std::atomic<std::uint32_t>* addr = &state_;
    if (state_.exchange(kDone, std::memory_order_acq_rel) == kSleeping) {
      // `this` may be gone now: only the address is used.
      syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(addr), FUTEX_WAKE_PRIVATE, 1, nullptr,
              nullptr, 0);
    }
  }

  // The waiting thread: busy-waits up to spin_ns for Signal; true if it came.
  bool Spin(std::uint64_t spin_ns) noexcept {
    const auto until = std::chrono::steady_clock::now() + std::chrono::nanoseconds(spin_ns);
    do {
      for (int i = 0; i < 64; ++i) {
        if (state_.load(std::memory_order_acquire) == kDone) return true;
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#endif
      }
    } while (std::chrono::steady_clock::now() < until);
    return false;
  }

  // The waiting thread, once: returns after Signal.
  void Wait(std::uint64_t spin_ns = 0) noexcept {
    if (spin_ns > 0 && Spin(spin_ns)) return;
    std::uint32_t expected = kPending;
    if (!state_.compare_exchange_strong(expected, kSleeping, std::memory_order_acq_rel)) return;
    while (state_.load(std::memory_order_acquire) != kDone) {
      syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&state_), FUTEX_WAIT_PRIVATE, kSleeping,
              nullptr, nullptr, 0);
    }
  }

  [[nodiscard]] bool signalled() const noexcept {
    return state_.load(std::memory_order_acquire) == kDone;
  }

 private:
  static constexpr std::uint32_t kPending = 0;
  static constexpr std::uint32_t kSleeping = 1;
  static constexpr std::uint32_t kDone = 2;
  static_assert(sizeof(std::atomic<std::uint32_t>) == sizeof(std::uint32_t));
  std::atomic<std::uint32_t> state_{kPending};
};

}  // namespace openmpio

// Synchronous wrappers over DiskHandle's asynchronous calls, and the one
// Status → errno table (runtime.h).
#include <atomic>
#include <cerrno>
#include <optional>
#include <string>

#include "common/waiter.h"
#include "runtime/runtime.h"

namespace openmpio::runtime {
namespace {

// The waiter lives on the caller's stack and the callback captures only its
// address, which std::function keeps in place: a request that succeeds
// allocates nothing here (the nbdkit plugin's every pread / pwrite comes
// through). The reactor that completes the request wakes the caller with one
// futex wake, or none when the caller has not gone to sleep yet (waiter.h).
std::atomic<std::uint64_t> g_wait_spin_ns{0};
// At most this many callers spin at once (the others sleep at once): on a
// small machine every spinner beyond the cores left by the reactors takes a
// core a reactor or the client needs.
std::atomic<int> g_max_spinners{1};
std::atomic<int> g_spinners{0};

struct SyncWait {
  Waiter waiter;
  Status status;
};

template <typename Start>
Status Wait(const engine::DiskHandle& disk, Start start) {
  if (!disk.valid()) return Status(NtStatus::kNoSuchDevice, "no such disk");
  SyncWait w;
  start([&w](const Status& s) {
    w.status = s;
    w.waiter.Signal();  // the last touch of w
  });
  const std::uint64_t spin = g_wait_spin_ns.load(std::memory_order_relaxed);
  if (spin > 0 && !w.waiter.signalled()) {
    if (g_spinners.fetch_add(1, std::memory_order_relaxed) <
        g_max_spinners.load(std::memory_order_relaxed)) {
      w.waiter.Spin(spin);
    }
    g_spinners.fetch_sub(1, std::memory_order_relaxed);
  }
  w.waiter.Wait();
  return std::move(w.status);
}

// SBC-3 / SPC-4 4.5.6 sense codes that NBD has a better errno for than EIO.
// Read from the Status's data (status.h), which the engine sets where it
// fails a request with a CHECK CONDITION (request.cpp Describe).
int ErrnoFromSense(SenseCode s) noexcept {
  constexpr std::uint8_t kIllegalRequest = 0x5, kDataProtect = 0x7;
  if (s.key == kDataProtect && s.asc == 0x27) {
    return s.ascq == 0x07 ? ENOSPC  // SPACE ALLOCATION FAILED WRITE PROTECT
                          : EPERM;  // WRITE PROTECTED (and its other qualifiers)
  }
  if (s.key == kIllegalRequest && s.ascq == 0x00) {
    if (s.asc == 0x20) return ENOTSUP;  // INVALID COMMAND OPERATION CODE
    if (s.asc == 0x21) return EINVAL;   // LOGICAL BLOCK ADDRESS OUT OF RANGE
    if (s.asc == 0x24) return ENOTSUP;  // INVALID FIELD IN CDB (e.g. UNMAP off)
    if (s.asc == 0x26) return ENOTSUP;  // INVALID FIELD IN PARAMETER LIST
  }
  return EIO;
}

}  // namespace

void SetSyncWaitSpin(Duration spin, int max_spinners) noexcept {
  g_wait_spin_ns.store(spin.count() > 0 ? static_cast<std::uint64_t>(spin.count()) : 0,
                       std::memory_order_relaxed);
  g_max_spinners.store(max_spinners > 0 ? max_spinners : 0, std::memory_order_relaxed);
}

Status SyncRead(const engine::DiskHandle& disk, std::uint64_t offset, std::span<std::byte> buffer) {
  return Wait(disk, [&](engine::IoCallback cb) { disk.Read(offset, buffer, std::move(cb)); });
}

Status SyncWrite(const engine::DiskHandle& disk, std::uint64_t offset,
                 std::span<const std::byte> data, bool fua) {
  return Wait(disk, [&](engine::IoCallback cb) { disk.Write(offset, data, fua, std::move(cb)); });
}

Status SyncFlush(const engine::DiskHandle& disk) {
  return Wait(disk, [&](engine::IoCallback cb) { disk.Flush(std::move(cb)); });
}

Status SyncUnmap(const engine::DiskHandle& disk, std::uint64_t offset, std::uint64_t length) {
  return Wait(disk, [&](engine::IoCallback cb) { disk.Unmap(offset, length, std::move(cb)); });
}

Status SyncWriteZeroes(const engine::DiskHandle& disk, std::uint64_t offset, std::uint64_t length,
                       bool may_unmap) {
  return Wait(disk, [&](engine::IoCallback cb) {
    disk.WriteZeroes(offset, length, may_unmap, std::move(cb));
  });
}

int ErrnoFromStatus(const Status& status) noexcept {
  switch (status.nt()) {
    case NtStatus::kSuccess:
      return 0;
    case NtStatus::kInvalidParameter:
    case NtStatus::kBufferTooSmall:
      return EINVAL;
    case NtStatus::kNotSupported:
    case NtStatus::kInvalidDeviceRequest:
      return ENOTSUP;
    case NtStatus::kInsufficientResources:
      return ENOMEM;
    case NtStatus::kIoDeviceError: {
      if (const auto sense = status.sense()) return ErrnoFromSense(*sense);
      return EIO;  // RESERVATION CONFLICT (status.reservation_conflict()) included
    }
    case NtStatus::kDeviceNotReady:  // no usable path within the no-path time
    case NtStatus::kIoTimeout:
    case NtStatus::kNoSuchDevice:
    default:
      return EIO;
  }
}

}  // namespace openmpio::runtime

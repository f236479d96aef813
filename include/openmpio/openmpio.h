// The openmpio library API (DESIGN.md "Who uses it": a developer embedding
// multipath in a userspace storage stack). A program builds an engine from a
// configuration, lists its multipath disks, opens one and does I/O on it,
// asynchronously or synchronously, and changes its load-balance policy.
//
//   auto config = openmpio::Configuration::Demo();          // or Load("file.toml")
//   auto engine = openmpio::MultipathEngine::Create(*config);
//   if (!engine) { fprintf(stderr, "%s\n", engine.error().ToString().c_str()); ... }
//   auto disk = (*engine)->OpenDisk((*engine)->Disks().front().name);
//   std::vector<std::byte> block(disk->block_size());
//   openmpio::Status s = disk->Read(0, block);               // synchronous
//   disk->Write(0, block, [](const openmpio::Status& s) { ... });  // asynchronous
//
// Only this header, openmpio/status.h and openmpio/expected.h are public:
// nothing of the engine's internals leaks (the classes are handles over a
// private implementation). The nbdkit plugin (plugins/nbdkit) is built on
// them alone: what a front end needs is here.
//
// Errors are Status values (NTSTATUS codes with a message, status.h):
// STATUS_INVALID_PARAMETER for a bad offset / length / configuration,
// STATUS_NO_SUCH_DEVICE for an unknown disk, STATUS_DEVICE_NOT_READY when a
// disk had no usable path for the whole no-path time (PDORemovePeriod),
// STATUS_IO_DEVICE_ERROR when the target failed the request (the message
// carries the sense), STATUS_NOT_SUPPORTED for what this build cannot do
// (iSCSI targets, for now).
//
// Threading:
//  - MultipathEngine methods and the synchronous Disk calls block the calling
//    thread until the engine answers. Never call them from an asynchronous
//    completion callback: those run on the engine's own threads; the call
//    fails with STATUS_INVALID_DEVICE_REQUEST rather than deadlock.
//  - Asynchronous Disk calls may be made from any thread, including a
//    completion callback. Callbacks run on an engine thread and must not
//    block. Buffers stay valid (and unchanged, for writes) until the callback.
//  - Offsets and lengths are bytes and must be multiples of block_size().
//  - Disk handles are valid while their MultipathEngine is, and until Stop().
//    Stop() (and the destructor) must come after every asynchronous request
//    has completed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "openmpio/expected.h"
#include "openmpio/status.h"

namespace openmpio {

// A parsed configuration file (examples/demo.toml describes every section).
class Configuration {
 public:
  // Reads and checks a TOML file: STATUS_INVALID_PARAMETER with
  // "FILE:LINE:COL: key: what" on any mistake.
  [[nodiscard]] static Expected<Configuration> Load(const std::string& path);
  // The same from text; `name` is what messages call it.
  [[nodiscard]] static Expected<Configuration> Parse(std::string_view toml,
                                                     std::string_view name = "config");
  // The embedded demo array: two target port groups of two ports each, LU 0
  // owned by group 1 and LU 1 by group 2, 1 GiB each, in memory.
  [[nodiscard]] static Configuration Demo();

  // Every check MultipathEngine::Create makes before it starts a thread (the
  // embedded array's geometry, what this build supports, ...): a program
  // that forks into a daemon calls it first, so a configuration the engine
  // cannot serve fails in the foreground.
  [[nodiscard]] Status Check() const;
  // The file Load read (as given), where `mpioctl config save` writes back
  // by default; empty for Parse and Demo.
  [[nodiscard]] const std::string& path() const noexcept;

  Configuration(const Configuration&);
  Configuration& operator=(const Configuration&);
  Configuration(Configuration&&) noexcept;
  Configuration& operator=(Configuration&&) noexcept;
  ~Configuration();

  // The configuration as TOML text (reads back to an equal configuration).
  [[nodiscard]] std::string ToToml() const;

  struct Impl;

 private:
  friend class MultipathEngine;
  explicit Configuration(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Load-balance policies, numbered as mpiodisk.h's DSM_LB_* values.
enum class LoadBalancePolicy : std::uint32_t {
  kFailOverOnly = 1,
  kRoundRobin = 2,
  kRoundRobinWithSubset = 3,
  kLeastQueueDepth = 4,
  kWeightedPaths = 5,
  kLeastBlocks = 6,
  kServiceTime = 7,
};

struct PathDescription {
  std::uint64_t path_id = 0;  // DsmPathId: one I_T nexus, stable across restarts
  std::uint16_t relative_target_port = 0;
  std::optional<std::uint16_t> target_port_group;
  std::string state;    // "active/optimized", "active/unoptimized", "standby", "unavailable"
  bool online = false;  // the nexus is logged in
  bool usable = false;  // carries I/O now
  std::uint64_t commands = 0;
  std::uint64_t errors = 0;
};

struct DiskDescription {
  std::string name;        // alias from the configuration, else the designator
  std::string designator;  // VPD 0x83 LU designator ("naa.6...")
  std::string vendor, product;
  bool ready = false;  // capacity known: I/O accepted
  std::uint64_t size_bytes = 0;
  std::uint32_t block_size = 0;  // logical block: the unit of every offset and length
  // Sizes, from discovery: the physical block (READ CAPACITY(16)'s
  // exponent), the LU's optimal transfer length (VPD 0xB0; 0 when not
  // reported) and its maximum (VPD 0xB0, the smallest over the paths; larger
  // requests are split by the engine).
  std::uint32_t physical_block_bytes = 0;
  std::uint64_t optimal_transfer_bytes = 0;
  std::uint64_t max_transfer_bytes = 0;
  // Capabilities (SBC-3 5.16.2 LBPME, 6.6.6 LBPU / LBPWS): Trim deallocates
  // (UNMAP); WriteZeroes with IoFlags::kMayUnmap may deallocate (WRITE SAME
  // with UNMAP). Without them the LU may refuse Trim (ENOTSUP), and
  // kMayUnmap is ignored.
  bool can_trim = false;
  bool can_zero_unmap = false;
  // The LU writes through with FUA itself (MODE SENSE DPOFUA); without it,
  // IoFlags::kFua is a write followed by a cache flush. Either way kFua holds.
  bool native_fua = false;
  std::uint32_t policy = 0;  // LoadBalancePolicy value in force
  std::vector<PathDescription> paths;
};

// Flags of a request (an OR of them). kFua: the data is on stable storage
// when the request completes (WRITE(16) FUA, or a write then SYNCHRONIZE
// CACHE). kMayUnmap: WriteZeroes may deallocate the blocks where the LU can
// (can_zero_unmap). Other requests ignore the flags they do not name.
enum class IoFlags : std::uint32_t { kNone = 0, kFua = 1, kMayUnmap = 2 };
[[nodiscard]] constexpr IoFlags operator|(IoFlags a, IoFlags b) noexcept {
  return IoFlags(static_cast<std::uint32_t>(a) | static_cast<std::uint32_t>(b));
}
[[nodiscard]] constexpr bool HasFlag(IoFlags flags, IoFlags f) noexcept {
  return (static_cast<std::uint32_t>(flags) & static_cast<std::uint32_t>(f)) != 0;
}

// The errno a POSIX or NBD front end reports for a failed request's Status
// (0 for success): EINVAL for a bad request or an LBA out of range, ENOTSUP
// for what the LU refuses (INVALID COMMAND OPERATION CODE, INVALID FIELD IN
// CDB), ENOSPC / EPERM for a thin LU out of space / write protected, ENOMEM,
// and EIO for the rest (no path within the no-path time included). Only
// errnos the NBD protocol carries.
[[nodiscard]] int ErrnoOf(const Status& status) noexcept;

using IoCallback = std::function<void(const Status&)>;

// One multipath disk. Cheap to copy.
class Disk {
 public:
  Disk() = default;
  [[nodiscard]] bool valid() const noexcept { return impl_ != nullptr; }
  [[nodiscard]] const std::string& name() const;
  [[nodiscard]] std::uint32_t block_size() const noexcept;
  [[nodiscard]] std::uint64_t size_bytes() const noexcept;

  // Asynchronous: `done` runs once, on an engine thread.
  void Read(std::uint64_t offset, std::span<std::byte> buffer, IoCallback done) const;
  void Write(std::uint64_t offset, std::span<const std::byte> data, IoCallback done) const;
  void Write(std::uint64_t offset, std::span<const std::byte> data, IoFlags flags,
             IoCallback done) const;
  void Flush(IoCallback done) const;
  // UNMAP: the blocks are deallocated (thin LUs); a hint where the LU ignores it.
  void Trim(std::uint64_t offset, std::uint64_t length, IoCallback done) const;
  // WRITE SAME of a zero block (with UNMAP under kMayUnmap where the LU can).
  void WriteZeroes(std::uint64_t offset, std::uint64_t length, IoCallback done) const;
  void WriteZeroes(std::uint64_t offset, std::uint64_t length, IoFlags flags,
                   IoCallback done) const;

  // Synchronous: block the calling thread (never an engine thread). They
  // allocate nothing of their own: a front end's data path may use them.
  [[nodiscard]] Status Read(std::uint64_t offset, std::span<std::byte> buffer) const;
  [[nodiscard]] Status Write(std::uint64_t offset, std::span<const std::byte> data,
                             IoFlags flags = IoFlags::kNone) const;
  [[nodiscard]] Status Flush() const;
  [[nodiscard]] Status Trim(std::uint64_t offset, std::uint64_t length) const;
  [[nodiscard]] Status WriteZeroes(std::uint64_t offset, std::uint64_t length,
                                   IoFlags flags = IoFlags::kNone) const;

  struct Impl;

 private:
  friend class MultipathEngine;
  explicit Disk(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<const Impl> impl_;
};

struct EngineEvent {
  std::string disk;  // the disk's designator; empty for the engine as a whole
  std::string text;
};

struct EngineOptions {
  std::size_t reactor_threads = 0;  // threads carrying the paths; 0: half the CPUs, 1..8
  std::uint32_t discovery_timeout_ms = 20'000;  // Create waits this long at most
  // A reactor polls this long for new work before it sleeps: the next
  // request of a queue-depth-1 caller then needs no wake-up (bench/README.md).
  std::uint32_t reactor_spin_us = 50;
  // One synchronous caller at a time polls this long for its completion
  // before it sleeps (process-wide). Off by default: on a small machine a
  // spinning caller takes the core other callers need.
  std::uint32_t wait_spin_us = 0;
};

// A running engine: its threads, the paths of the configuration, and the
// multipath disks found behind them.
class MultipathEngine {
 public:
  // Starts the threads, logs in to every path ([sim] or the portals of each
  // [[target]]), and waits (bounded) until discovery settles.
  // STATUS_DEVICE_NOT_READY when no disk was found.
  [[nodiscard]] static Expected<std::unique_ptr<MultipathEngine>> Create(
      const Configuration& config, EngineOptions options = {});
  ~MultipathEngine();  // Stop()
  MultipathEngine(const MultipathEngine&) = delete;
  MultipathEngine& operator=(const MultipathEngine&) = delete;

  // Ends every path and thread. Every asynchronous request must have completed.
  void Stop();

  // Reactor threads in use (EngineOptions::reactor_threads resolved).
  [[nodiscard]] std::size_t reactor_threads() const noexcept;

  [[nodiscard]] std::vector<DiskDescription> Disks() const;
  // What happened, oldest first: the last events the engine keeps (a path
  // failed and why, a path reinstated, an ALUA change, a write fenced and
  // by what). Empty once stopped.
  [[nodiscard]] std::vector<EngineEvent> Events() const;
  // By name (alias or designator). STATUS_NO_SUCH_DEVICE when unknown,
  // STATUS_DEVICE_NOT_READY when its capacity is not known yet.
  [[nodiscard]] Expected<Disk> OpenDisk(std::string_view name) const;

  // ---- management (DsmSetLoadBalancePolicy's execution; mpioctl has the full set) ----
  [[nodiscard]] Expected<DiskDescription> Describe(std::string_view name) const;
  // preferred_path: a PathId of the disk, for Fail Over Only; 0 for none.
  [[nodiscard]] Status SetLoadBalancePolicy(std::string_view name, LoadBalancePolicy policy,
                                            std::uint64_t preferred_path = 0);

  struct Impl;

 private:
  explicit MultipathEngine(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace openmpio

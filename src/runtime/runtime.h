// Runtime: a running engine built from a configuration (DESIGN.md
// "Processes"). It owns the threads (N reactor Reactors that carry the
// nexuses, one control executor that owns the Engine), the embedded array and
// its SimFabric for [sim], one SimNexus per array port, and the Engine.
// Front ends (plugins/nbdkit, the library API of include/openmpio/openmpio.h)
// build one and talk to the engine only through it.
//
// Threading:
//  - Start, Stop, Disks, Disk, ExportName, SetLoadBalancePolicy and RunOnControl
//    are called from a thread of the caller's (never a reactor or the control
//    thread: they block on a future until the control executor answers; called
//    there they would wait on themselves). They are serialized by nothing but
//    the control executor; Stop must not race with the others.
//  - DiskHandle I/O may be issued from any thread (engine.h); the completion
//    runs on a reactor thread and must not block.
//  - Stop order (each step needs the previous one): the management server
//    stops first (joined: no new management call reaches the backend), the
//    reactors stop next
//    (joined: nothing of a nexus runs any more, and tasks still queued are
//    dropped), then the Engine is destroyed on the control thread (it destroys
//    the nexuses: their executors are stopped, so nothing races), then the
//    control thread stops, then the management backend, the fabric and the
//    array go. I/O still
//    outstanding at Stop never completes: front ends drain their own I/O
//    first (the nbdkit plugin is unloaded only after every connection closed).
//
// Transports: [sim] (the embedded array, one SimNexus per port) or
// [[target]] (one IscsiNexus per portal of each target: runtime/from_config.h
// ToIscsiPaths), or both: the embedded array beside real storage.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <span>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "array/array.h"
#include "common/reactor.h"
#include "config/config.h"
#include "engine/engine.h"
#include "mgmt/server.h"
#include "openmpio/expected.h"
#include "openmpio/status.h"
#include "runtime/mgmt_backend.h"
#include "transport/sim/sim_fabric.h"

namespace openmpio::runtime {

struct RuntimeOptions {
  // Reactor threads carrying the nexuses (round robin). 0: half the CPUs,
  // at least 1 and at most 8 (DefaultReactors) — the callers (nbdkit's
  // workers) and the client need the other half; on this project's 2-core
  // machine two reactors that spin take both cores (bench/README.md). The
  // control thread is extra and mostly idle.
  std::size_t reactors = 0;
  // How long Start waits for discovery to settle (every nexus discovered and
  // every disk's capacity known). Disks still not ready then are listed but
  // not ready (their I/O fails STATUS_DEVICE_NOT_READY).
  Duration discovery_timeout = std::chrono::seconds(20);
  // Serve the management socket (config::SocketPath) when [management]
  // enables it. Off: the backend still exists (management_backend()), no
  // socket is opened — for tests and programs that do not want one.
  bool management = true;
  // Sync* callers spin this long before they sleep, one caller at a time
  // (SetSyncWaitSpin). Off: on 2 cores a spinning caller takes the core that
  // nbdkit's other workers need (bench/README.md).
  Duration sync_wait_spin{0};
  // Reactor threads spin this long for new work before they sleep
  // (ReactorOptions): the next request of a QD1 client then needs no
  // wake-up, which costs ~15 us on a VM whose idle vCPUs halt. Spinning
  // happens only after work, never on an idle engine.
  Duration reactor_spin = std::chrono::microseconds(50);
  // The file the configuration came from: where SaveConfig writes when the
  // request names no path. Empty: none (demo, or a Config built in code).
  std::string config_path;
};

// [timers] and [defaults] of the configuration as the engine takes them.
// PathRecoveryInterval applies only with UseCustomPathRecoveryInterval, as in
// MSDSM (spec/msdsm.md §5); otherwise the engine's default (40 s).
[[nodiscard]] engine::EngineConfig ToEngineConfig(const config::Config& config);

// The NBD export / library name of a disk: its alias from [[disk]] when the
// configuration names its designator, else the designator itself.
[[nodiscard]] std::string DiskName(const config::Config& config, const std::string& designator);

class Runtime {
 public:
  // Builds and starts everything and waits (bounded) for discovery. Errors:
  // STATUS_INVALID_PARAMETER for a
  // configuration with neither [sim] nor [[target]] or a [sim] the array
  // refuses; STATUS_DEVICE_NOT_READY when discovery found no disk at all.
  [[nodiscard]] static Expected<std::unique_ptr<Runtime>> Start(const config::Config& config,
                                                                RuntimeOptions options = {});
  ~Runtime();  // Stop()
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  // See the file comment for the order. Idempotent.
  void Stop();
  [[nodiscard]] bool stopped() const noexcept { return stopped_; }

  // Runs fn(engine) on the control executor and returns its result, blocking
  // the calling thread (which must not be one of ours).
  template <typename F>
  auto RunOnControl(F fn) -> std::invoke_result_t<F&, engine::Engine&> {
    using R = std::invoke_result_t<F&, engine::Engine&>;
    auto promise = std::make_shared<std::promise<R>>();
    std::future<R> result = promise->get_future();
    control_->Post([this, promise, fn = std::move(fn)]() mutable {
      if constexpr (std::is_void_v<R>) {
        fn(*engine_);
        promise->set_value();
      } else {
        promise->set_value(fn(*engine_));
      }
    });
    return result.get();
  }

  // Starts fn(engine, done) on the control executor and waits for the
  // Status it hands to `done` — there or later (an STPG answered). The same
  // threads rule as RunOnControl.
  template <typename F>
  Status AwaitOnControl(F fn) {
    auto promise = std::make_shared<std::promise<Status>>();
    std::future<Status> result = promise->get_future();
    control_->Post([this, promise, fn = std::move(fn)]() mutable {
      fn(*engine_, [promise](Status s) { promise->set_value(std::move(s)); });
    });
    return result.get();
  }

  [[nodiscard]] std::vector<engine::DiskInfo> Disks();
  [[nodiscard]] engine::DiskHandle Disk(std::size_t index);
  [[nodiscard]] std::string ExportName(const engine::DiskInfo& disk) const {
    return DiskName(config_, disk.name);
  }
  [[nodiscard]] Status SetLoadBalancePolicy(std::size_t disk, dsm::LoadBalancePolicy policy,
                                            dsm::DsmPathId preferred_path = dsm::kNoPreferredPath);

  // True on a reactor or the control thread: blocking there would stall or
  // deadlock the engine.
  [[nodiscard]] bool OnEngineThread() const;

  [[nodiscard]] const config::Config& config() const noexcept { return config_; }
  // As Start resolved them (reactors: the number running).
  [[nodiscard]] const RuntimeOptions& options() const noexcept { return options_; }
  // The embedded array and its fabric (tests and the sim control); nullptr
  // without [sim].
  [[nodiscard]] array::Array* sim_array() noexcept { return array_.get(); }
  [[nodiscard]] transport::sim::SimFabric* sim_fabric() noexcept { return fabric_.get(); }
  // The management backend (mgmt_backend.h): a program may serve it itself
  // or drive a mgmt::JsonApi with it. nullptr once stopped.
  [[nodiscard]] EngineBackend* management_backend() noexcept { return backend_.get(); }
  // The socket the management server listens on; empty when none is served.
  [[nodiscard]] std::string management_socket() const {
    return server_ ? server_->path() : std::string();
  }

 private:
  Runtime(config::Config config, RuntimeOptions options);
  [[nodiscard]] Status Build();
  void WaitForDiscovery();
  [[nodiscard]] Status StartManagement();

  config::Config config_;
  RuntimeOptions options_;
  bool stopped_ = false;
  // Declaration order is destruction order in reverse: executors outlive the
  // array, the fabric and the engine; Stop() tears them down explicitly.
  std::unique_ptr<Reactor> control_;
  std::vector<std::unique_ptr<Reactor>> reactors_;
  std::unique_ptr<array::Array> array_;
  std::unique_ptr<transport::sim::SimFabric> fabric_;
  std::unique_ptr<engine::Engine> engine_;  // created and destroyed on control_
  // Used on control_ (backend) and on the server's thread (server); both go
  // after control_ has stopped, the server first (it refers to the backend).
  std::unique_ptr<EngineBackend> backend_;
  std::unique_ptr<mgmt::Server> server_;
};

// ---- synchronous I/O -------------------------------------------------------------
// Each call issues the engine's asynchronous request and blocks the CALLING
// thread (common/waiter.h: a futex) until the completion arrives. Never call
// them on a reactor or the control thread (the completion would have to run
// there).
//
// How long a caller spins before it sleeps, and how many callers may spin at
// once (process-wide; RuntimeOptions).
void SetSyncWaitSpin(Duration spin, int max_spinners = 1) noexcept;
// RuntimeOptions::reactors when 0: half the CPUs, 1..8.
[[nodiscard]] std::size_t DefaultReactors() noexcept;
[[nodiscard]] Status SyncRead(const engine::DiskHandle& disk, std::uint64_t offset,
                              std::span<std::byte> buffer);
// fua: forced unit access (WRITE(16) FUA where the LU has DPOFUA, else the
// engine writes then synchronizes the cache).
[[nodiscard]] Status SyncWrite(const engine::DiskHandle& disk, std::uint64_t offset,
                               std::span<const std::byte> data, bool fua = false);
[[nodiscard]] Status SyncFlush(const engine::DiskHandle& disk);
[[nodiscard]] Status SyncUnmap(const engine::DiskHandle& disk, std::uint64_t offset,
                               std::uint64_t length);
// may_unmap: the LU may deallocate the zeroed blocks (WRITE SAME(16) UNMAP
// where the LU reports LBPWS).
[[nodiscard]] Status SyncWriteZeroes(const engine::DiskHandle& disk, std::uint64_t offset,
                                     std::uint64_t length, bool may_unmap = false);

// ---- errno at the edge -------------------------------------------------------------
// The one table from an I/O Status to an errno that NBD can carry (the NBD
// protocol knows EPERM, EIO, ENOMEM, EINVAL, ENOSPC, EOVERFLOW, ENOTSUP and
// ESHUTDOWN; nbdkit sends anything else as EINVAL). 0 for success.
[[nodiscard]] int ErrnoFromStatus(const Status& status) noexcept;

}  // namespace openmpio::runtime

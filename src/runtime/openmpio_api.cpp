// The public library API (include/openmpio/openmpio.h): handles over the
// Runtime. Conversions from engine names to the public ones live here only.
#include "openmpio/openmpio.h"

#include <algorithm>
#include <filesystem>
#include <system_error>
#include <utility>

#include "config/config.h"
#include "dsm/names.h"
#include "dsm/types.h"
#include "runtime/preflight.h"
#include "runtime/runtime.h"

namespace openmpio {
namespace {

// The public policy numbers are mpiodisk.h's DSM_LB_* values, and so are
// dsm's: a cast between them is exact (and stays so: these fail to compile
// otherwise).
constexpr bool SamePolicy(LoadBalancePolicy pub, dsm::LoadBalancePolicy ours) {
  return static_cast<std::uint32_t>(pub) == static_cast<std::uint32_t>(ours);
}
static_assert(SamePolicy(LoadBalancePolicy::kFailOverOnly, dsm::LoadBalancePolicy::kFailOverOnly));
static_assert(SamePolicy(LoadBalancePolicy::kRoundRobin, dsm::LoadBalancePolicy::kRoundRobin));
static_assert(SamePolicy(LoadBalancePolicy::kRoundRobinWithSubset,
                         dsm::LoadBalancePolicy::kRoundRobinWithSubset));
static_assert(SamePolicy(LoadBalancePolicy::kLeastQueueDepth,
                         dsm::LoadBalancePolicy::kLeastQueueDepth));
static_assert(SamePolicy(LoadBalancePolicy::kWeightedPaths,
                         dsm::LoadBalancePolicy::kWeightedPaths));
static_assert(SamePolicy(LoadBalancePolicy::kLeastBlocks, dsm::LoadBalancePolicy::kLeastBlocks));
static_assert(SamePolicy(LoadBalancePolicy::kServiceTime, dsm::LoadBalancePolicy::kServiceTime));

dsm::LoadBalancePolicy ToDsm(LoadBalancePolicy p) noexcept {
  return static_cast<dsm::LoadBalancePolicy>(static_cast<std::uint32_t>(p));
}

Status EngineThreadCall() {
  return Status(NtStatus::kInvalidDeviceRequest,
                "a blocking openmpio call on an engine thread (a completion callback) would "
                "deadlock; use the asynchronous form");
}

}  // namespace

// ---- Configuration ----------------------------------------------------------------

struct Configuration::Impl {
  config::Config config;
  std::string path;  // Load's file, absolute; empty for Parse and Demo
};

Configuration::Configuration(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Configuration::Configuration(const Configuration& o) : impl_(std::make_unique<Impl>(*o.impl_)) {}
Configuration& Configuration::operator=(const Configuration& o) {
  if (this != &o) impl_ = std::make_unique<Impl>(*o.impl_);
  return *this;
}
Configuration::Configuration(Configuration&&) noexcept = default;
Configuration& Configuration::operator=(Configuration&&) noexcept = default;
Configuration::~Configuration() = default;

Expected<Configuration> Configuration::Load(const std::string& path) {
  auto c = config::LoadConfig(path);
  if (!c) return MakeUnexpected(c.error());
  // Absolute: a daemon's working folder changes after it forks, and
  // SaveConfig compares folders.
  std::error_code ec;
  std::filesystem::path abs = std::filesystem::canonical(path, ec);
  return Configuration(std::make_unique<Impl>(Impl{std::move(*c), ec ? path : abs.string()}));
}

Expected<Configuration> Configuration::Parse(std::string_view toml, std::string_view name) {
  auto c = config::ParseConfig(toml, name);
  if (!c) return MakeUnexpected(c.error());
  return Configuration(std::make_unique<Impl>(Impl{std::move(*c), {}}));
}

Configuration Configuration::Demo() {
  return Configuration(std::make_unique<Impl>(Impl{config::DemoConfig(), {}}));
}

std::string Configuration::ToToml() const {
  return config::FormatConfig(impl_->config);
}

Status Configuration::Check() const {
  return runtime::Preflight(impl_->config);
}

const std::string& Configuration::path() const noexcept {
  return impl_->path;
}

int ErrnoOf(const Status& status) noexcept {
  return runtime::ErrnoFromStatus(status);
}

// ---- Disk -----------------------------------------------------------------------------

struct Disk::Impl {
  runtime::Runtime* runtime = nullptr;
  engine::DiskHandle handle;
  std::string name;
};

const std::string& Disk::name() const {
  static const std::string kNone;
  return impl_ ? impl_->name : kNone;
}
std::uint32_t Disk::block_size() const noexcept {
  return impl_ ? impl_->handle.block_size() : 0;
}
std::uint64_t Disk::size_bytes() const noexcept {
  return impl_ ? impl_->handle.size_bytes() : 0;
}

// A default-constructed Disk fails every call instead of crashing.
#define OPENMPIO_ASYNC_GUARD                                   \
  if (!impl_ || !impl_->handle.valid()) {                      \
    done(Status(NtStatus::kNoSuchDevice, "not an open disk")); \
    return;                                                    \
  }

void Disk::Read(std::uint64_t offset, std::span<std::byte> buffer, IoCallback done) const {
  OPENMPIO_ASYNC_GUARD
  impl_->handle.Read(offset, buffer, std::move(done));
}
void Disk::Write(std::uint64_t offset, std::span<const std::byte> data, IoCallback done) const {
  Write(offset, data, IoFlags::kNone, std::move(done));
}
void Disk::Write(std::uint64_t offset, std::span<const std::byte> data, IoFlags flags,
                 IoCallback done) const {
  OPENMPIO_ASYNC_GUARD
  impl_->handle.Write(offset, data, HasFlag(flags, IoFlags::kFua), std::move(done));
}
void Disk::Flush(IoCallback done) const {
  OPENMPIO_ASYNC_GUARD
  impl_->handle.Flush(std::move(done));
}
void Disk::Trim(std::uint64_t offset, std::uint64_t length, IoCallback done) const {
  OPENMPIO_ASYNC_GUARD
  impl_->handle.Unmap(offset, length, std::move(done));
}
void Disk::WriteZeroes(std::uint64_t offset, std::uint64_t length, IoCallback done) const {
  WriteZeroes(offset, length, IoFlags::kNone, std::move(done));
}
void Disk::WriteZeroes(std::uint64_t offset, std::uint64_t length, IoFlags flags,
                       IoCallback done) const {
  OPENMPIO_ASYNC_GUARD
  impl_->handle.WriteZeroes(offset, length, HasFlag(flags, IoFlags::kMayUnmap), std::move(done));
}
#undef OPENMPIO_ASYNC_GUARD

Status Disk::Read(std::uint64_t offset, std::span<std::byte> buffer) const {
  if (!impl_) return Status(NtStatus::kNoSuchDevice, "not an open disk");
  if (impl_->runtime->OnEngineThread()) return EngineThreadCall();
  return runtime::SyncRead(impl_->handle, offset, buffer);
}
Status Disk::Write(std::uint64_t offset, std::span<const std::byte> data, IoFlags flags) const {
  if (!impl_) return Status(NtStatus::kNoSuchDevice, "not an open disk");
  if (impl_->runtime->OnEngineThread()) return EngineThreadCall();
  return runtime::SyncWrite(impl_->handle, offset, data, HasFlag(flags, IoFlags::kFua));
}
Status Disk::Flush() const {
  if (!impl_) return Status(NtStatus::kNoSuchDevice, "not an open disk");
  if (impl_->runtime->OnEngineThread()) return EngineThreadCall();
  return runtime::SyncFlush(impl_->handle);
}
Status Disk::Trim(std::uint64_t offset, std::uint64_t length) const {
  if (!impl_) return Status(NtStatus::kNoSuchDevice, "not an open disk");
  if (impl_->runtime->OnEngineThread()) return EngineThreadCall();
  return runtime::SyncUnmap(impl_->handle, offset, length);
}
Status Disk::WriteZeroes(std::uint64_t offset, std::uint64_t length, IoFlags flags) const {
  if (!impl_) return Status(NtStatus::kNoSuchDevice, "not an open disk");
  if (impl_->runtime->OnEngineThread()) return EngineThreadCall();
  return runtime::SyncWriteZeroes(impl_->handle, offset, length,
                                  HasFlag(flags, IoFlags::kMayUnmap));
}

// ---- MultipathEngine -------------------------------------------------------------------

struct MultipathEngine::Impl {
  std::unique_ptr<runtime::Runtime> runtime;

  DiskDescription Convert(const engine::DiskInfo& d) const {
    DiskDescription out;
    out.name = runtime->ExportName(d);
    out.designator = d.name;
    out.vendor = d.vendor;
    out.product = d.product;
    out.ready = d.ready;
    out.size_bytes = d.blocks * d.block_size;
    out.block_size = d.block_size;
    out.physical_block_bytes = static_cast<std::uint32_t>(std::min<std::uint64_t>(
        std::uint64_t{d.block_size} << (d.physical_block_exponent & 15), 0xFFFFFFFFU));
    out.optimal_transfer_bytes = std::uint64_t{d.optimal_transfer_blocks} * d.block_size;
    out.max_transfer_bytes = std::uint64_t{d.max_transfer_blocks} * d.block_size;
    out.can_trim = d.lbpme && d.lbpu;
    out.can_zero_unmap = d.lbpme && d.lbpws;
    out.native_fua = d.dpofua;
    out.policy = static_cast<std::uint32_t>(d.policy);
    for (const engine::PathInfo& p : d.paths) {
      PathDescription pd;
      pd.path_id = p.id;
      pd.relative_target_port = p.relative_target_port;
      pd.target_port_group = p.tpg_id;
      pd.state = std::string(dsm::NameOf(p.state, dsm::Spelling::kApi));
      pd.online = p.online;
      pd.usable = p.usable;
      pd.commands = p.commands;
      pd.errors = p.errors;
      out.paths.push_back(std::move(pd));
    }
    return out;
  }

  // The engine's index of the disk called `name`, or nullopt.
  std::optional<engine::DiskInfo> Find(std::string_view name) const {
    for (engine::DiskInfo& d : runtime->Disks()) {
      if (d.name == name || runtime->ExportName(d) == name) return std::move(d);
    }
    return std::nullopt;
  }
};

MultipathEngine::MultipathEngine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
MultipathEngine::~MultipathEngine() {
  Stop();
}

Expected<std::unique_ptr<MultipathEngine>> MultipathEngine::Create(const Configuration& config,
                                                                   EngineOptions options) {
  runtime::RuntimeOptions ro;
  ro.reactors = options.reactor_threads;
  ro.discovery_timeout = std::chrono::milliseconds(options.discovery_timeout_ms);
  ro.reactor_spin = std::chrono::microseconds(options.reactor_spin_us);
  ro.sync_wait_spin = std::chrono::microseconds(options.wait_spin_us);
  ro.config_path = config.path();  // mpioctl config save writes it back
  auto rt = runtime::Runtime::Start(config.impl_->config, ro);
  if (!rt) return MakeUnexpected(rt.error());
  auto impl = std::make_unique<Impl>();
  impl->runtime = std::move(*rt);
  return std::unique_ptr<MultipathEngine>(new MultipathEngine(std::move(impl)));
}

void MultipathEngine::Stop() {
  if (impl_ && impl_->runtime) impl_->runtime->Stop();
}

std::size_t MultipathEngine::reactor_threads() const noexcept {
  return impl_->runtime->options().reactors;
}

std::vector<DiskDescription> MultipathEngine::Disks() const {
  std::vector<DiskDescription> out;
  if (impl_->runtime->OnEngineThread()) return out;
  for (const engine::DiskInfo& d : impl_->runtime->Disks()) out.push_back(impl_->Convert(d));
  return out;
}

std::vector<EngineEvent> MultipathEngine::Events() const {
  std::vector<EngineEvent> out;
  if (impl_->runtime->OnEngineThread() || impl_->runtime->stopped()) return out;
  for (engine::EngineEvent& e :
       impl_->runtime->RunOnControl([](engine::Engine& en) { return en.Events(); })) {
    out.push_back(EngineEvent{std::move(e.disk), std::move(e.text)});
  }
  return out;
}

Expected<Disk> MultipathEngine::OpenDisk(std::string_view name) const {
  if (impl_->runtime->OnEngineThread()) return MakeUnexpected(EngineThreadCall());
  if (impl_->runtime->stopped()) {
    return MakeUnexpected(Status(NtStatus::kDeviceNotReady, "the engine is stopped"));
  }
  auto d = impl_->Find(name);
  if (!d) {
    return MakeUnexpected(Status(NtStatus::kNoSuchDevice, "no disk named " + std::string(name)));
  }
  if (!d->ready) {
    return MakeUnexpected(Status(NtStatus::kDeviceNotReady,
                                 "disk " + std::string(name) + ": capacity not known yet"));
  }
  auto di = std::make_shared<Disk::Impl>();
  di->runtime = impl_->runtime.get();
  di->handle = impl_->runtime->Disk(d->index);
  di->name = impl_->runtime->ExportName(*d);
  return Disk(std::move(di));
}

Expected<DiskDescription> MultipathEngine::Describe(std::string_view name) const {
  if (impl_->runtime->OnEngineThread()) return MakeUnexpected(EngineThreadCall());
  auto d = impl_->Find(name);
  if (!d) {
    return MakeUnexpected(Status(NtStatus::kNoSuchDevice, "no disk named " + std::string(name)));
  }
  return impl_->Convert(*d);
}

Status MultipathEngine::SetLoadBalancePolicy(std::string_view name, LoadBalancePolicy policy,
                                             std::uint64_t preferred_path) {
  if (impl_->runtime->OnEngineThread()) return EngineThreadCall();
  auto d = impl_->Find(name);
  if (!d) return Status(NtStatus::kNoSuchDevice, "no disk named " + std::string(name));
  return impl_->runtime->SetLoadBalancePolicy(
      d->index, ToDsm(policy), preferred_path == 0 ? dsm::kNoPreferredPath : preferred_path);
}

}  // namespace openmpio

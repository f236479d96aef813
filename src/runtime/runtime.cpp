// Runtime: building, discovery wait and teardown (runtime.h).
#include "runtime/runtime.h"

#include <algorithm>
#include <cstdio>
#include <future>
#include <memory>
#include <thread>
#include <utility>

#include "runtime/from_config.h"
#include "runtime/policy_request.h"
#include "runtime/preflight.h"
#include "transport/iscsi/iscsi_nexus.h"
#include "transport/sim/sim_nexus.h"

namespace openmpio::runtime {
namespace {

constexpr std::uint64_t kIsidBase = 0x023D00000000ULL;  // random-format ISID (RFC 7143 10.12.5)

}  // namespace

engine::EngineConfig ToEngineConfig(const config::Config& config) {
  const config::TimersConfig& t = config.timers;
  engine::EngineConfig e;
  e.command_timeout = std::chrono::seconds(t.command_timeout);
  e.no_path_time = std::chrono::seconds(t.pdo_remove_period);
  e.retry_count = t.retry_count;
  e.retry_interval = std::chrono::seconds(t.retry_interval);
  e.path_verify_enabled = t.path_verify_enabled;
  e.path_verification_period = std::chrono::seconds(t.path_verification_period);
  if (t.use_custom_path_recovery_interval) {
    e.path_recovery_interval = std::chrono::seconds(t.path_recovery_interval);
  }
  e.hedge_floor = std::chrono::milliseconds(t.hedge_floor_ms);
  e.hedge_multiplier = t.hedge_multiplier;
  e.default_policy = config.defaults.load_balance_policy;
  e.strict_msdsm = config.defaults.strict_msdsm;
  return e;
}

std::string DiskName(const config::Config& config, const std::string& designator) {
  for (const config::DiskConfig& d : config.disks) {
    if (!d.alias.empty() && d.designator == designator) return d.alias;
  }
  return designator;
}

Runtime::Runtime(config::Config config, RuntimeOptions options)
    : config_(std::move(config)), options_(options) {}

Runtime::~Runtime() {
  Stop();
}

std::size_t DefaultReactors() noexcept {
  const unsigned cpus = std::thread::hardware_concurrency();
  return std::clamp<std::size_t>(cpus / 2, 1, 8);
}

Expected<std::unique_ptr<Runtime>> Runtime::Start(const config::Config& config,
                                                  RuntimeOptions options) {
  // Everything that can be checked before a thread starts (preflight.h),
  // the checks a forking front end makes before its fork.
  if (Status s = Preflight(config); !s.ok()) return MakeUnexpected(std::move(s));
  if (options.reactors == 0) options.reactors = DefaultReactors();
  std::unique_ptr<Runtime> rt(new Runtime(config, options));
  if (Status s = rt->Build(); !s.ok()) {
    rt->Stop();
    return MakeUnexpected(std::move(s));
  }
  rt->WaitForDiscovery();
  std::size_t ready = 0;
  std::vector<engine::DiskInfo> disks = rt->Disks();
  for (const engine::DiskInfo& d : disks) ready += d.ready ? 1 : 0;
  if (ready == 0) {
    rt->Stop();
    return MakeUnexpected(
        Status(NtStatus::kDeviceNotReady, "discovery found no ready multipath disk (" +
                                              std::to_string(disks.size()) + " disk(s) seen)"));
  }
  if (Status s = rt->StartManagement(); !s.ok()) {
    rt->Stop();
    return MakeUnexpected(std::move(s));
  }
  return rt;
}

Status Runtime::StartManagement() {
  backend_ = std::make_unique<EngineBackend>(*control_, *engine_, config_, options_.config_path,
                                             array_.get(), fabric_.get());
  EngineBackend* backend = backend_.get();
  const Status init = RunOnControl([backend](engine::Engine&) { return backend->Initialize(); });
  if (!init.ok()) {
    std::fprintf(stderr, "openmpio: configuration defaults: %s\n", init.ToString().c_str());
  }
  // [[disk]] settings: as the management method would take them; a refused
  // one is a start-up error naming its line (issue 13 item 2).
  const Status disks = AwaitOnControl(
      [backend](engine::Engine&, auto done) { backend->ApplyDiskConfig(std::move(done)); });
  if (!disks.ok()) return disks;
  if (!options_.management || !config_.management.enabled) return OkStatus();
  // A configured socket that cannot be served is a start-up error: an engine
  // that runs on without its management (another engine's socket, a missing
  // folder) cannot be operated (issue 13 item 4). [management] enabled =
  // false turns it off on purpose.
  auto server = std::make_unique<mgmt::Server>(*backend_);
  const std::string path = config::SocketPath(config_.management);
  if (Status s = server->Start(path); !s.ok()) {
    return Status::FromCode(s.code(), "management socket " + path + ": " + s.message() +
                                          " ([management] enabled = false runs without one)");
  }
  server_ = std::move(server);
  return OkStatus();
}

Status Runtime::Build() {
  std::vector<std::pair<std::uint16_t, transport::sim::LinkModel>> links;
  if (config_.sim) {
    const config::SimConfig& sim = *config_.sim;
    auto made = array::Array::Create(ToArrayConfig(sim));
    if (!made) return made.error();
    array_ = std::move(*made);
    fabric_ = std::make_unique<transport::sim::SimFabric>(*array_, sim.target_name);
    links = ToLinkModels(sim);
    for (const auto& [rtp, model] : links) fabric_->AddPort(rtp, model);
  }

  // Threads start here: after nbdkit's fork when the plugin calls us from
  // .after_fork.
  control_ = std::make_unique<Reactor>();
  ReactorOptions ro;
  ro.spin_ns =
      static_cast<std::uint64_t>(std::max<Duration::rep>(0, options_.reactor_spin.count()));
  for (std::size_t i = 0; i < options_.reactors; ++i) {
    reactors_.push_back(std::make_unique<Reactor>(ro));
  }
  SetSyncWaitSpin(options_.sync_wait_spin);

  const engine::EngineConfig ec = ToEngineConfig(config_);
  // SendTargets first (bounded per portal by login_timeout), on this thread.
  std::vector<std::string> problems;
  const DiscoveredPortals discovered = DiscoverPortals(config_, &problems);
  for (const std::string& p : problems) std::fprintf(stderr, "openmpio: %s\n", p.c_str());
  std::vector<IscsiPath> paths = ToIscsiPaths(config_, ec.command_timeout, discovered);
  auto promise = std::make_shared<std::promise<void>>();
  auto built = promise->get_future();
  control_->Post([this, promise, ec, links, &paths]() {
    engine_ = std::make_unique<engine::Engine>(ec, *control_);
    // Nexuses go round robin over the reactors, each owned by its one thread.
    std::size_t i = 0;
    auto next = [this, &i]() -> Reactor& { return *reactors_[i++ % reactors_.size()]; };
    for (const auto& link : links) {
      Reactor& ex = next();
      transport::sim::SimNexusOptions o;
      o.isid = kIsidBase + link.first;
      o.command_timeout = ec.command_timeout;
      engine_->AddNexus(fabric_->CreateNexus(ex, link.first, o), ex);
    }
    for (IscsiPath& p : paths) {
      Reactor& ex = next();
      engine_->AddNexus(
          std::make_unique<transport::iscsi::IscsiNexus>(ex, std::move(p.address), p.options), ex,
          std::move(p.use));
    }
    promise->set_value();
  });
  built.get();
  return OkStatus();
}

void Runtime::WaitForDiscovery() {
  const auto deadline = Clock::now() + options_.discovery_timeout;
  while (!RunOnControl([](engine::Engine& e) { return e.DiscoveryIdle(); })) {
    if (Clock::now() >= deadline) {
      std::fprintf(stderr, "openmpio: discovery did not settle within %lld ms; continuing\n",
                   static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                              options_.discovery_timeout)
                                              .count()));
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

void Runtime::Stop() {
  if (stopped_) return;
  stopped_ = true;
  if (server_) server_->Stop();
  for (auto& r : reactors_) r->Stop();
  if (control_) {
    if (engine_) {
      auto promise = std::make_shared<std::promise<void>>();
      auto gone = promise->get_future();
      control_->Post([this, promise]() {
        engine_.reset();
        promise->set_value();
      });
      gone.get();
    }
    control_->Stop();
  }
  server_.reset();
  backend_.reset();
  fabric_.reset();
  array_.reset();
  reactors_.clear();
  control_.reset();
}

std::vector<engine::DiskInfo> Runtime::Disks() {
  if (stopped_) return {};
  return RunOnControl([](engine::Engine& e) { return e.Disks(); });
}

engine::DiskHandle Runtime::Disk(std::size_t index) {
  if (stopped_) return {};
  return RunOnControl([index](engine::Engine& e) { return e.Disk(index); });
}

Status Runtime::SetLoadBalancePolicy(std::size_t disk, dsm::LoadBalancePolicy policy,
                                     dsm::DsmPathId preferred_path) {
  if (stopped_) return Status(NtStatus::kDeviceNotReady, "the engine is stopped");
  // Through checks 1-13 and the STPG, as DsmSetLoadBalancePolicyALUA.
  PolicyRequest request;
  request.policy = policy;
  if (preferred_path != dsm::kNoPreferredPath) request.preferred_path = preferred_path;
  return AwaitOnControl([disk, request](engine::Engine& e, auto done) {
    SetPolicyChecked(e, disk, request, std::move(done));
  });
}

bool Runtime::OnEngineThread() const {
  if (control_ && control_->InExecutorThread()) return true;
  for (const auto& r : reactors_) {
    if (r->InExecutorThread()) return true;
  }
  return false;
}

}  // namespace openmpio::runtime

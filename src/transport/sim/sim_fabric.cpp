#include "transport/sim/sim_fabric.h"

#include <algorithm>
#include <utility>

#include "transport/sim/sim_nexus.h"

namespace openmpio::transport::sim {

SimFabric::SimFabric(array::DeviceServer& server, std::string target_name)
    : server_(server), target_name_(std::move(target_name)) {}

SimFabric::SimFabric(std::unique_ptr<array::DeviceServer> server, std::string target_name)
    : owned_server_(std::move(server)),
      server_(*owned_server_),
      target_name_(std::move(target_name)) {}

SimFabric::~SimFabric() = default;

void SimFabric::AddPort(std::uint16_t relative_target_port, LinkModel model) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (Port* p = FindPort(relative_target_port)) {
    p->model = model;
    return;
  }
  Port p;
  p.rtp = relative_target_port;
  p.model = model;
  ports_.push_back(p);
}

void SimFabric::SetLinkModel(std::uint16_t relative_target_port, LinkModel model) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (Port* p = FindPort(relative_target_port)) p->model = model;
}

std::unique_ptr<SimNexus> SimFabric::CreateNexus(Executor& executor,
                                                 std::uint16_t relative_target_port,
                                                 SimNexusOptions options) {
  NexusAddress address;
  address.initiator_name = options.initiator_name;
  address.isid = options.isid & 0xFFFFFFFFFFFFULL;  // 48 bits (RFC 7143 11.12.5)
  address.target_name = target_name_;
  // One portal group per target port in the sim: the tag is the port id.
  address.portal_group_tag = relative_target_port;
  address.portal = "sim:" + std::to_string(relative_target_port);

  std::lock_guard<std::mutex> lock(mutex_);
  const std::uint64_t id = ++last_nexus_id_;
  std::unique_ptr<SimNexus> nexus(new SimNexus(*this, executor, id, relative_target_port,
                                               std::move(address), std::move(options)));
  NexusRecord r;
  r.id = id;
  r.nexus = nexus.get();
  r.executor = &executor;
  r.rtp = relative_target_port;
  nexuses_.push_back(r);
  return nexus;
}

void SimFabric::Drop(std::uint16_t relative_target_port) {
  std::vector<std::pair<std::uint64_t, Executor*>> targets;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    Port* p = FindPort(relative_target_port);
    if (p == nullptr) return;
    const bool strands = p->hung;
    p->hung = false;  // new connections flow; the dead ones' data stays stranded
    for (NexusRecord& r : nexuses_) {
      if (r.rtp != relative_target_port) continue;
      r.loss_pending = true;
      r.loss_strands = r.loss_strands || strands;
      targets.emplace_back(r.id, r.executor);
    }
  }
  for (auto& [id, ex] : targets) PostEvent(id, ex, Event::kLinkLoss);
}

void SimFabric::Hang(std::uint16_t relative_target_port) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (Port* p = FindPort(relative_target_port)) p->hung = true;
}

void SimFabric::Release(std::uint16_t relative_target_port) {
  std::vector<std::pair<std::uint64_t, Executor*>> targets;
  bool was_hung = false;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    Port* p = FindPort(relative_target_port);
    if (p == nullptr) return;
    was_hung = p->hung;
    p->hung = false;
    for (const NexusRecord& r : nexuses_) {
      if (r.rtp == relative_target_port) targets.emplace_back(r.id, r.executor);
    }
  }
  for (auto& [id, ex] : targets) {
    PostEvent(id, ex, was_hung ? Event::kRelease : Event::kReleaseStranded);
  }
}

void SimFabric::Delay(std::uint16_t relative_target_port, Duration extra) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (Port* p = FindPort(relative_target_port)) {
    p->extra_delay = extra > Duration::zero() ? extra : Duration::zero();
  }
}

void SimFabric::RefuseReconnect(std::uint16_t relative_target_port, bool refuse) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (Port* p = FindPort(relative_target_port)) p->refuse_logins = refuse;
}

void SimFabric::Restore(std::uint16_t relative_target_port) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    Port* p = FindPort(relative_target_port);
    if (p == nullptr) return;
    p->extra_delay = Duration::zero();
    p->refuse_logins = false;
  }
  Release(relative_target_port);
}

PortCounters SimFabric::Counters(std::uint16_t relative_target_port) const {
  std::lock_guard<std::mutex> lock(mutex_);
  for (const Port& p : ports_) {
    if (p.rtp == relative_target_port) return p.counters;
  }
  return {};
}

SimFabric::Port* SimFabric::FindPort(std::uint16_t rtp) {
  for (Port& p : ports_) {
    if (p.rtp == rtp) return &p;
  }
  return nullptr;
}

SimFabric::NexusRecord* SimFabric::FindRecord(std::uint64_t nexus_id) {
  for (NexusRecord& r : nexuses_) {
    if (r.id == nexus_id) return &r;
  }
  return nullptr;
}

bool SimFabric::SessionOpen(array::ItNexusId session) const {
  return session != 0 &&
         std::find(open_sessions_.begin(), open_sessions_.end(), session) != open_sessions_.end();
}

void SimFabric::CloseSession(array::ItNexusId session, std::vector<std::uint32_t>* released,
                             std::uint64_t caller_id) {
  auto it = std::find(open_sessions_.begin(), open_sessions_.end(), session);
  if (it == open_sessions_.end()) return;
  open_sessions_.erase(it);
  server_.DetachNexus(session);
  // The target ends the session's tasks: none of them will execute. A session
  // belongs to one nexus (the caller, for logout and reinstatement).
  for (std::size_t i = 0; i < task_set_.size();) {
    if (task_set_[i].session == session) {
      if (task_set_[i].nexus_id == caller_id && released != nullptr) {
        released->push_back(task_set_[i].slot);
      }
      task_set_.erase(task_set_.begin() + static_cast<std::ptrdiff_t>(i));
    } else {
      ++i;
    }
  }
}

void SimFabric::PostEvent(std::uint64_t nexus_id, Executor* executor, Event ev) {
  // Looked up again when it runs: the nexus may be gone by then.
  executor->Post([this, nexus_id, ev] { Deliver(nexus_id, ev); });
}

void SimFabric::Deliver(std::uint64_t nexus_id, Event ev) {
  SimNexus* nexus = nullptr;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (NexusRecord* r = FindRecord(nexus_id)) nexus = r->nexus;
  }
  // Runs on the nexus's own executor, which is also where it is destroyed, so
  // it cannot disappear between the lookup and the call.
  if (nexus != nullptr) nexus->OnFabricEvent(ev);
}

}  // namespace openmpio::transport::sim

#include "dsm/topology.h"

#include <algorithm>
#include <string_view>
#include <utility>

#include "common/fnv1a.h"

namespace openmpio::dsm {
namespace {

bool AllZero(const std::vector<std::byte>& v) noexcept {
  return std::all_of(v.begin(), v.end(), [](std::byte b) { return b == std::byte{0}; });
}

bool AllGroupsSameState(const std::vector<LuGroupState>& groups) noexcept {
  for (const LuGroupState& g : groups) {
    if (!(g.state == groups.front().state)) return false;
  }
  return true;
}

}  // namespace

DsmPathId MakeDsmPathId(const NexusIdentity& identity) noexcept {
  Fnv1a64 f;
  f.Str(identity.initiator_name);
  f.Int(identity.isid & 0xFFFF'FFFF'FFFFULL, 6);  // ISID is 48 bits (RFC 7143 10.12.5)
  f.Str(identity.target_name);
  f.Int(identity.portal_group_tag, 2);
  // 0 is MSDSM's "failed path" id in a query and 0xFFFFFFFF its "no preferred
  // path": a nexus may be neither. The remap target is neither value.
  const std::uint64_t h = f.value();
  if (h == 0 || h == kNoPreferredPath) return h ^ 0x9E3779B97F4A7C15ULL;
  return h;
}

bool SameIdentity(const scsi::Designator& a, const scsi::Designator& b) noexcept {
  if (a.value.empty() || AllZero(a.value)) return false;
  return a.association == b.association && a.type == b.type && a.value == b.value;
}

const TargetPortGroup* TargetDevice::GroupOfPort(std::uint16_t relative_target_port) const {
  for (const TargetPortGroup& g : groups) {
    if (std::find(g.relative_target_ports.begin(), g.relative_target_ports.end(),
                  relative_target_port) != g.relative_target_ports.end()) {
      return &g;
    }
  }
  return nullptr;
}

std::optional<std::size_t> Disk::IndexOf(DsmPathId id) const noexcept {
  for (std::size_t i = 0; i < paths.size(); ++i) {
    if (paths[i].id() == id) return i;
  }
  return std::nullopt;
}

Path* Disk::FindPath(DsmPathId id) noexcept {
  const auto i = IndexOf(id);
  return i ? &paths[*i] : nullptr;
}

const Path* Disk::FindPath(DsmPathId id) const noexcept {
  const auto i = IndexOf(id);
  return i ? &paths[*i] : nullptr;
}

const LuGroupState* Disk::GroupState(std::uint16_t tpg_id) const noexcept {
  for (const LuGroupState& g : groups) {
    if (g.tpg_id == tpg_id) return &g;
  }
  return nullptr;
}

const LuGroupState* Disk::GroupStateOf(const Path& path) const noexcept {
  if (!HasAlua(alua)) return nullptr;
  std::optional<std::uint16_t> tpg = path.tpg_id;
  if (!tpg && device) {
    if (const TargetPortGroup* g = device->GroupOfPort(path.relative_target_port)) tpg = g->id;
  }
  return tpg ? GroupState(*tpg) : nullptr;
}

std::uint64_t Disk::TransitionWindowMs() const noexcept {
  constexpr std::uint64_t kDefaultMs = 60'000;  // DESIGN.md "Timers"
  return implicit_transition_time_s ? std::uint64_t{*implicit_transition_time_s} * 1000
                                    : kDefaultMs;
}

Status Disk::CanClaim(const PathCandidate& c) const {
  if (!SameIdentity(lu_designator, c.lu_designator)) {
    return Status(NtStatus::kInvalidDeviceRequest, "LU designator differs from this disk's");
  }
  bool same_device = !c.target_name.empty() && c.target_name == device->target_name;
  for (const scsi::Designator& mine : device->designators) {
    for (const scsi::Designator& theirs : c.target_device_designators) {
      if (SameIdentity(mine, theirs)) same_device = true;
    }
  }
  if (!same_device) {
    return Status(NtStatus::kInvalidDeviceRequest,
                  "same LU designator but target '" + c.target_name +
                      "' cannot be shown to be the device of '" + device->target_name +
                      "' (different target name, no common target-device designator); "
                      "not merged");
  }
  if (!c.nexus) return InvalidParameter("path candidate has no nexus");
  if (IndexOf(c.nexus->id)) {
    return Status(NtStatus::kInvalidDeviceRequest, "nexus is already a path of this disk");
  }
  if (paths.size() >= kMaxPathsPerDisk) {
    return Status(NtStatus::kInvalidDeviceRequest,
                  "disk already has the maximum of " + std::to_string(kMaxPathsPerDisk) + " paths");
  }
  return OkStatus();
}

void Disk::UpdateGroups(std::span<const LuGroupState> states,
                        std::optional<std::uint8_t> transition_time_s, std::uint64_t now_ms) {
  std::vector<LuGroupState> next(states.begin(), states.end());
  for (LuGroupState& g : next) {
    const LuGroupState* old = GroupState(g.tpg_id);
    g.since_ms = (old && old->state == g.state) ? old->since_ms : now_ms;
  }
  groups = std::move(next);
  implicit_transition_time_s = transition_time_s;
  // spec §3: a later RTPG only ever clears symmetric access.
  if (HasExplicitAlua(alua) || !AllGroupsSameState(groups)) symmetric_access = false;
}

Status Disk::SetVerification(DsmPathId id, PathVerification v) {
  Path* p = FindPath(id);
  if (!p) return Status(NtStatus::kNoSuchDevice, "no such path on this disk");
  p->verification = v;
  return OkStatus();
}

LoadBalancePolicy DefaultPolicy(const Disk& disk) noexcept {
  return HasAlua(disk.alua) ? LoadBalancePolicy::kRoundRobinWithSubset
                            : LoadBalancePolicy::kRoundRobin;
}

LoadBalancePolicy EffectivePolicy(const Disk& disk, const DsmOptions& options) noexcept {
  const LoadBalancePolicy p = disk.settings.policy;
  if (!IsSelectablePolicy(p, options.strict_msdsm)) return DefaultPolicy(disk);
  // A default RR becomes RRWS on ALUA LUNs (spec §3, as PolicyDefaults::Resolve
  // applies it); an explicit RR stays, the sets refuse it where access is not
  // symmetric.
  if (p == LoadBalancePolicy::kRoundRobin && !disk.settings.explicit_policy && HasAlua(disk.alua)) {
    return LoadBalancePolicy::kRoundRobinWithSubset;
  }
  return p;
}

std::vector<LoadBalancePolicy> SupportedPolicies(const Disk& disk, const DsmOptions& options) {
  std::vector<LoadBalancePolicy> out;
  for (std::uint32_t v = 1; v <= 7; ++v) {
    const auto p = static_cast<LoadBalancePolicy>(v);
    if (!IsSelectablePolicy(p, options.strict_msdsm)) continue;
    if (p == LoadBalancePolicy::kRoundRobin && !disk.symmetric_access) continue;
    out.push_back(p);
  }
  return out;
}

std::shared_ptr<Nexus> Topology::AddNexus(const NexusIdentity& identity) {
  const DsmPathId id = MakeDsmPathId(identity);
  if (auto existing = FindNexus(id)) return existing;
  auto n = std::make_shared<Nexus>();
  n->id = id;
  n->identity = identity;
  nexuses_.push_back(n);
  return n;
}

std::shared_ptr<Nexus> Topology::FindNexus(DsmPathId id) const {
  for (const auto& n : nexuses_) {
    if (n->id == id) return n;
  }
  return nullptr;
}

Disk* Topology::FindDisk(const scsi::Designator& lu) noexcept {
  for (auto& d : disks_) {
    if (SameIdentity(d->lu_designator, lu)) return d.get();
  }
  return nullptr;
}

std::shared_ptr<TargetDevice> Topology::DeviceFor(const PathCandidate& c) {
  for (auto& d : devices_) {
    if (!c.target_name.empty() && d->target_name == c.target_name) return d;
    for (const auto& mine : d->designators) {
      for (const auto& theirs : c.target_device_designators) {
        if (SameIdentity(mine, theirs)) return d;
      }
    }
  }
  auto d = std::make_shared<TargetDevice>();
  d->target_name = c.target_name;
  d->designators = c.target_device_designators;
  devices_.push_back(d);
  return d;
}

Expected<Disk*> Topology::Claim(const PathCandidate& c) {
  if (c.peripheral_qualifier != 0 || c.peripheral_device_type != 0) {
    return MakeUnexpected(Status(NtStatus::kInvalidDeviceRequest,
                                 "peripheral qualifier " + std::to_string(c.peripheral_qualifier) +
                                     " type " + std::to_string(c.peripheral_device_type) +
                                     ": only qualifier 0, type 0 (direct access) is claimed"));
  }
  if (c.lu_designator.value.empty() || AllZero(c.lu_designator.value)) {
    return MakeUnexpected(Status(NtStatus::kInvalidDeviceRequest,
                                 "no usable LU designator (empty or all zero): not claimed"));
  }
  if (!c.nexus) return MakeUnexpected(InvalidParameter("path candidate has no nexus"));

  Disk* disk = FindDisk(c.lu_designator);
  std::unique_ptr<Disk> fresh;
  if (!disk) {
    fresh = std::make_unique<Disk>();
    fresh->lu_designator = c.lu_designator;
    fresh->device = DeviceFor(c);
    disk = fresh.get();
  }
  if (Status s = disk->CanClaim(c); !s.ok()) return MakeUnexpected(std::move(s));

  Path p;
  p.nexus = c.nexus;
  p.relative_target_port = c.relative_target_port;
  p.tpg_id = c.tpg_id;
  disk->paths.push_back(std::move(p));
  disk->alua = c.alua;
  // Learn a target-device designator this device did not list yet.
  for (const auto& theirs : c.target_device_designators) {
    bool known = false;
    for (const auto& mine : disk->device->designators) known = known || SameIdentity(mine, theirs);
    if (!known) disk->device->designators.push_back(theirs);
  }
  // spec §3: symmetric access is (re)established at path arrival.
  disk->symmetric_access =
      !HasExplicitAlua(disk->alua) && (!HasAlua(disk->alua) || AllGroupsSameState(disk->groups));
  if (fresh) disks_.push_back(std::move(fresh));
  return disk;
}

}  // namespace openmpio::dsm

// Test helpers for the DSM core: a Disk built by hand (plain data), with one
// nexus per path, so each test states its topology in a few lines.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "dsm/path_state.h"
#include "dsm/policy.h"
#include "dsm/snapshot.h"
#include "dsm/topology.h"

namespace openmpio::dsm::testing {

using scsi::AccessStateField;
using scsi::AsymmetricAccessState;

inline constexpr AsymmetricAccessState kAO = AsymmetricAccessState::kActiveOptimized;
inline constexpr AsymmetricAccessState kAN = AsymmetricAccessState::kActiveNonOptimized;
inline constexpr AsymmetricAccessState kSB = AsymmetricAccessState::kStandby;
inline constexpr AsymmetricAccessState kUA = AsymmetricAccessState::kUnavailable;
inline constexpr AsymmetricAccessState kLBD = AsymmetricAccessState::kLogicalBlockDependent;
inline constexpr AsymmetricAccessState kOFF = AsymmetricAccessState::kOffline;
inline constexpr AsymmetricAccessState kTR = AsymmetricAccessState::kTransitioning;

// An NAA-6 LU designator (association 00, type 3), last byte varied.
inline scsi::Designator Naa(std::uint8_t last) {
  scsi::Designator d;
  d.code_set = scsi::CodeSet::kBinary;
  d.association = scsi::Association::kLogicalUnit;
  d.type = scsi::DesignatorType::kNaa;
  d.value = {std::byte{0x60}, std::byte{0x01}, std::byte{0x40}, std::byte{0x50},
             std::byte{0x11}, std::byte{0x22}, std::byte{0x33}, std::byte{last}};
  return d;
}

inline std::shared_ptr<Nexus> MakeNexus(std::size_t i) {
  NexusIdentity id;
  id.initiator_name = "iqn.2024-01.org.openmpio:test";
  id.isid = std::uint64_t{0x23d000000000} + i;
  id.target_name = "iqn.2024-01.org.openmpio:array";
  id.portal_group_tag = static_cast<std::uint16_t>(i + 1);
  id.portal = "192.0.2." + std::to_string(i + 1) + ":3260";
  auto n = std::make_shared<Nexus>();
  n->id = MakeDsmPathId(id);
  n->identity = id;
  return n;
}

// A disk of n online paths. With alua set, path i sits in group tpg[i] and each
// group's state is given by groups (id → state).
struct DiskBuilder {
  Disk disk;

  explicit DiskBuilder(std::size_t n, AluaSupport alua = AluaSupport::kNotSupported) {
    disk.lu_designator = Naa(1);
    disk.device = std::make_shared<TargetDevice>();
    disk.device->target_name = "iqn.2024-01.org.openmpio:array";
    disk.alua = alua;
    disk.symmetric_access = !HasAlua(alua);
    for (std::size_t i = 0; i < n; ++i) {
      Path p;
      p.nexus = MakeNexus(i);
      p.relative_target_port = static_cast<std::uint16_t>(i + 1);
      p.verification = PathVerification::kOnline;
      disk.paths.push_back(std::move(p));
    }
  }
  DiskBuilder& Group(std::uint16_t id, AsymmetricAccessState s, bool pref = false,
                     std::uint64_t since_ms = 0) {
    LuGroupState g;
    g.tpg_id = id;
    g.state = AccessStateField::From(s);
    g.preferred = pref;
    g.since_ms = since_ms;
    for (LuGroupState& old : disk.groups) {
      if (old.tpg_id == id) {
        old = g;
        return *this;
      }
    }
    disk.groups.push_back(g);
    return *this;
  }
  DiskBuilder& InGroup(std::size_t path, std::uint16_t id) {
    disk.paths[path].tpg_id = id;
    return *this;
  }
  DiskBuilder& Failed(std::size_t path) {
    disk.paths[path].verification = PathVerification::kFailed;
    return *this;
  }
  DiskBuilder& Requested(std::size_t path, PathState s) {
    disk.paths[path].requested_state = s;
    return *this;
  }
  DiskBuilder& Policy(LoadBalancePolicy p) {
    disk.settings.policy = p;
    disk.settings.explicit_policy = true;
    return *this;
  }
  DiskBuilder& Preferred(std::size_t path) {
    disk.settings.preferred_path = disk.paths[path].id();
    return *this;
  }
  DiskBuilder& Weight(std::size_t path, std::uint32_t w) {
    disk.paths[path].weight = w;
    return *this;
  }
  DsmPathId id(std::size_t path) const { return disk.paths[path].id(); }
};

// Indices (into Disk::paths) of the usable paths of a result.
inline std::vector<std::size_t> UsableIndices(const PathStateResult& r) {
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < r.paths.size(); ++i) {
    if (r.paths[i].usable) out.push_back(i);
  }
  return out;
}

// Puts requests in flight on a path's nexus.
inline void Load(Disk& d, std::size_t path, std::uint32_t requests, std::uint64_t bytes_each) {
  for (std::uint32_t i = 0; i < requests; ++i) d.paths[path].nexus->counters.StartIo(bytes_each);
}

// A request that is not sequential with anything (LB stickiness off).
inline IoHint RandomRead(std::uint64_t lba, std::uint64_t bytes = 4096) {
  IoHint h;
  h.lba = lba;
  h.blocks = static_cast<std::uint32_t>(bytes / 512);
  h.bytes = bytes;
  h.kind = IoKind::kRead;
  return h;
}

}  // namespace openmpio::dsm::testing

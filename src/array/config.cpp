// ArrayConfig: CheckConfig (one message per mistake), the demo shape, and the
// identities derived from the target name.
#include <algorithm>
#include <cstdio>
#include <map>
#include <set>

#include "array/array_state.h"
#include "common/fnv1a.h"

namespace openmpio::array {
namespace {

bool PrintableAscii(const std::string& s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= 0x20 && c < 0x7F; });
}

Status Bad(const std::string& what) {
  return InvalidParameter("array config: " + what);
}

Status ValidateLu(const ArrayConfig& c, const LuConfig& lu, const std::set<std::uint16_t>& groups) {
  const std::string name = "LU " + std::to_string(lu.lun);
  if (lu.lun > kMaxLun) {
    return Bad(name + ": LUN above 16383 (flat space addressing, SAM-5 4.7)");
  }
  if (lu.block_size != 512 && lu.block_size != 1024 && lu.block_size != 2048 &&
      lu.block_size != 4096) {
    return Bad(name + ": block size " + std::to_string(lu.block_size) +
               " (512, 1024, 2048 or 4096)");
  }
  if (lu.blocks == 0) return Bad(name + ": zero blocks");
  if (lu.blocks > kMaxLuBlocks) {
    return Bad(name + ": " + std::to_string(lu.blocks) + " blocks of " +
               std::to_string(lu.block_size) + " bytes; at most 2^48 (" +
               std::to_string(kMaxLuBlocks) + ") blocks");
  }
  if (lu.backing == BackingKind::kSparseFile && lu.backing_path.empty()) {
    return Bad(name + ": sparse file backing without a path");
  }
  if (lu.serial.size() > 64 || !PrintableAscii(lu.serial)) {
    return Bad(name + ": serial must be at most 64 printable ASCII characters");
  }
  std::set<std::uint16_t> listed;
  for (const GroupStateConfig& g : lu.initial_states) {
    if (groups.count(g.target_port_group) == 0) {
      return Bad(name + ": initial state for unknown target port group " +
                 std::to_string(g.target_port_group));
    }
    if (!listed.insert(g.target_port_group).second) {
      return Bad(name + ": target port group " + std::to_string(g.target_port_group) +
                 " listed twice");
    }
    if (!scsi::IsDefinedAccessState(static_cast<std::uint8_t>(g.state)) ||
        g.state == AsymmetricAccessState::kTransitioning ||
        g.state == AsymmetricAccessState::kLogicalBlockDependent) {
      return Bad(name + ": initial state must be A/O, A/N, Standby, Unavailable or Offline");
    }
    if (c.tpgs == scsi::Tpgs::kNone && g.state != AsymmetricAccessState::kActiveOptimized) {
      return Bad(name + ": without ALUA (TPGS none) every group is Active/Optimized");
    }
  }
  if (c.tpgs != scsi::Tpgs::kNone && listed.size() != groups.size()) {
    return Bad(name + ": needs an initial state for each of the " + std::to_string(groups.size()) +
               " target port groups");
  }
  if (lu.preferred_group && groups.count(*lu.preferred_group) == 0) {
    return Bad(name + ": preferred group " + std::to_string(*lu.preferred_group) + " unknown");
  }
  return OkStatus();
}

}  // namespace

Status CheckConfig(const ArrayConfig& c) {
  if (c.target_name.empty() || c.target_name.size() > 223 || !PrintableAscii(c.target_name)) {
    return Bad("target name must be 1..223 printable characters (RFC 7143 4.2.7.1)");
  }
  if (c.vendor.size() > 8 || c.product.size() > 16 || c.revision.size() > 4 ||
      !PrintableAscii(c.vendor) || !PrintableAscii(c.product) || !PrintableAscii(c.revision)) {
    return Bad("vendor/product/revision: at most 8/16/4 printable ASCII characters");
  }
  if (c.implicit_transition_time < Duration::zero() ||
      c.implicit_transition_time > std::chrono::seconds(255)) {
    return Bad("implicit transition time must be 0..255 s (one byte in RTPG, SPC-4 6.36)");
  }
  if (c.ieee_company_id > 0xFFFFFF) return Bad("IEEE company id is 24 bits");
  if (c.ports.empty()) return Bad("no target ports");
  std::set<std::uint16_t> ports;
  std::map<std::uint16_t, std::size_t> group_ports;
  for (const PortConfig& p : c.ports) {
    if (p.relative_target_port == 0) return Bad("relative target port 0 is reserved");
    if (p.target_port_group == 0) return Bad("target port group 0 is reserved");
    if (!ports.insert(p.relative_target_port).second) {
      return Bad("relative target port " + std::to_string(p.relative_target_port) +
                 " listed twice");
    }
    if (++group_ports[p.target_port_group] > kMaxPortsPerGroup) {
      return Bad("target port group " + std::to_string(p.target_port_group) + " has more than " +
                 std::to_string(kMaxPortsPerGroup) +
                 " ports (RTPG's TARGET PORT COUNT is one byte, SPC-4 6.36)");
    }
  }
  std::set<std::uint16_t> groups;
  for (const auto& [g, n] : group_ports) groups.insert(g);
  std::set<std::uint64_t> luns;
  for (const LuConfig& lu : c.lus) {
    if (!luns.insert(lu.lun).second) return Bad("LU " + std::to_string(lu.lun) + " listed twice");
    Status st = ValidateLu(c, lu, groups);
    if (!st.ok()) return st;
  }
  return OkStatus();
}

std::vector<std::byte> NaaDesignator(const ArrayConfig& c, std::uint64_t lun) {
  // SPC-4 7.8.6.6.5 table 466, NAA IEEE Registered Extended (16 bytes):
  // byte 0 NAA 6 (7..4) | OUI 23..20; bytes 1..2 OUI 19..4; byte 3 OUI 3..0
  // (7..4) | vendor specific identifier 35..32; bytes 4..7 VSI 31..0;
  // bytes 8..15 vendor specific identifier extension. VSI: 36 bits of the
  // target name's hash (same on every port); extension: the LUN.
  std::vector<std::byte> v(16);
  const scsi::MutableBytes b{v};
  const std::uint32_t oui = c.ieee_company_id & 0xFFFFFFU;
  const std::uint64_t vsi = Fnv1a64Of(c.target_name) & 0xFFFFFFFFFULL;
  scsi::Put8(b, 0, static_cast<std::uint8_t>(0x60U | (oui >> 20)));
  scsi::PutBe16(b, 1, static_cast<std::uint16_t>(oui >> 4));
  scsi::Put8(b, 3, static_cast<std::uint8_t>(((oui & 0x0FU) << 4) | (vsi >> 32)));
  scsi::PutBe32(b, 4, static_cast<std::uint32_t>(vsi));
  scsi::PutBe64(b, 8, lun);
  return v;
}

std::string DefaultSerial(const ArrayConfig& c, std::uint64_t lun) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%012llx%04llx",
                static_cast<unsigned long long>(Fnv1a64Of(c.target_name) & 0xFFFFFFFFFFFFULL),
                static_cast<unsigned long long>(lun & 0xFFFFU));
  return buf;
}

ArrayConfig DemoArrayConfig(std::uint64_t blocks) {
  ArrayConfig c;
  c.tpgs = scsi::Tpgs::kBoth;
  c.ports = {{1, 1}, {2, 1}, {3, 2}, {4, 2}};
  LuConfig a;
  a.lun = 0;
  a.blocks = blocks;
  a.initial_states = {{1, AsymmetricAccessState::kActiveOptimized},
                      {2, AsymmetricAccessState::kActiveNonOptimized}};
  LuConfig b = a;
  b.lun = 1;
  b.initial_states = {{1, AsymmetricAccessState::kActiveNonOptimized},
                      {2, AsymmetricAccessState::kActiveOptimized}};
  c.lus = {a, b};
  return c;
}

}  // namespace openmpio::array

#include "scsi/stpg.h"

#include <vector>

#include "scsi/cdb_checks.h"

namespace openmpio::scsi {

Cdb BuildStpgCdb(const StpgCdb& c) {
  Cdb cdb;
  cdb.length = static_cast<std::uint8_t>(kStpgCdbLength);
  const MutableBytes b = cdb.mutable_span();
  // SPC-4 6.44 table 188.
  Put8(b, 0, op::kMaintenanceOut);
  Put8(b, 1, kSaSetTargetPortGroups);
  PutBe32(b, 6, c.parameter_list_length);
  Put8(b, 11, c.control);
  return cdb;
}

ParseResult<StpgCdb> ParseStpgCdb(Bytes cdb) {
  if (auto e = CheckCdbHead(cdb, {.opcode = op::kMaintenanceOut,
                                  .length = kStpgCdbLength,
                                  .empty = "STPG CDB: empty",
                                  .wrong_opcode = "not MAINTENANCE OUT",
                                  .too_short = "STPG CDB: short"})) {
    return *e;
  }
  if (auto e = CheckServiceAction(cdb, kSaSetTargetPortGroups,
                                  "MAINTENANCE OUT: unsupported service action")) {
    return *e;
  }
  if (Bits(cdb, 1, 7, 5) != 0) return Fail(ParseErrc::kReservedValue, 1, "STPG CDB: reserved bits");
  if (auto e = CheckZeroBytes(cdb, {2, 3, 4, 5, 10}, "STPG CDB: reserved byte set")) return *e;
  StpgCdb c;
  c.parameter_list_length = Be32(cdb, 6);
  c.control = U8(cdb, 11);
  return c;
}

std::size_t BuildStpgParameterList(std::span<const StpgDescriptor> descriptors, MutableBytes out) {
  std::vector<std::byte> full(StpgParameterListLength(descriptors.size()));
  const MutableBytes b{full};
  // SPC-4 6.44 table 189/190: 4 reserved bytes, then per descriptor byte 0
  // bits 3..0 the requested state, bytes 2..3 the target port group.
  std::size_t pos = kStpgHeaderLength;
  for (const auto& d : descriptors) {
    Put8(b, pos, static_cast<std::uint8_t>(static_cast<unsigned>(d.state) & 0x0FU));
    PutBe16(b, pos + 2, d.target_port_group);
    pos += kStpgDescriptorLength;
  }
  return CopyTruncated(full, out);
}

ParseResult<std::vector<StpgDescriptor>> ParseStpgParameterList(Bytes list) {
  if (list.empty()) return Fail(ParseErrc::kEmpty, 0, "STPG list: empty");
  if (list.size() < kStpgHeaderLength ||
      (list.size() - kStpgHeaderLength) % kStpgDescriptorLength != 0) {
    return Fail(ParseErrc::kInconsistent, list.size(), "STPG list: length not 4 + 4n");
  }
  std::vector<StpgDescriptor> out;
  out.reserve((list.size() - kStpgHeaderLength) / kStpgDescriptorLength);
  for (std::size_t pos = kStpgHeaderLength; pos < list.size(); pos += kStpgDescriptorLength) {
    const std::uint8_t state = Bits(list, pos, 3, 0);
    if (!IsRequestableState(state)) {
      return Fail(ParseErrc::kReservedValue, pos, "STPG list: state may not be requested");
    }
    out.push_back(StpgDescriptor{static_cast<AsymmetricAccessState>(state), Be16(list, pos + 2)});
  }
  return out;
}

}  // namespace openmpio::scsi

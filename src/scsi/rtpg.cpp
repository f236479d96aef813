#include "scsi/rtpg.h"

#include <algorithm>
#include <vector>

#include "scsi/cdb_checks.h"

namespace openmpio::scsi {

Cdb BuildRtpgCdb(const RtpgCdb& c) {
  Cdb cdb;
  cdb.length = static_cast<std::uint8_t>(kRtpgCdbLength);
  const MutableBytes b = cdb.mutable_span();
  // SPC-4 6.36 table 163.
  Put8(b, 0, op::kMaintenanceIn);
  Put8(b, 1,
       static_cast<std::uint8_t>((static_cast<unsigned>(c.format) & 0x7U) << 5 |
                                 kSaReportTargetPortGroups));
  PutBe32(b, 6, c.allocation_length);
  Put8(b, 11, c.control);
  return cdb;
}

ParseResult<RtpgCdb> ParseRtpgCdb(Bytes cdb) {
  if (auto e = CheckCdbHead(cdb, {.opcode = op::kMaintenanceIn,
                                  .length = kRtpgCdbLength,
                                  .empty = "RTPG CDB: empty",
                                  .wrong_opcode = "not MAINTENANCE IN",
                                  .too_short = "RTPG CDB: short"})) {
    return *e;
  }
  if (auto e = CheckServiceAction(cdb, kSaReportTargetPortGroups,
                                  "MAINTENANCE IN: unsupported service action")) {
    return *e;
  }
  const std::uint8_t format = Bits(cdb, 1, 7, 5);
  if (format > static_cast<std::uint8_t>(RtpgFormat::kExtended)) {
    return Fail(ParseErrc::kReservedValue, 1, "RTPG CDB: reserved parameter data format");
  }
  if (auto e = CheckZeroBytes(cdb, {2, 3, 4, 5, 10}, "RTPG CDB: reserved byte set")) return *e;
  RtpgCdb c;
  c.format = static_cast<RtpgFormat>(format);
  c.allocation_length = Be32(cdb, 6);
  c.control = U8(cdb, 11);
  return c;
}

ParseResult<RtpgData> ParseRtpg(Bytes data) {
  if (data.empty()) return Fail(ParseErrc::kEmpty, 0, "RTPG data: empty");
  if (data.size() < 4) return Fail(ParseErrc::kTooShort, data.size(), "RTPG data: no length");

  RtpgData out;
  out.return_data_length = Be32(data, 0);
  out.required_allocation_length = std::uint64_t{out.return_data_length} + 4;
  out.truncated = out.required_allocation_length > data.size();
  // Everything below is read inside `end`: the claimed data, or less when the
  // buffer was cut. Bytes past the claimed length (padding) are ignored.
  const std::size_t end =
      out.truncated ? data.size() : static_cast<std::size_t>(out.required_allocation_length);

  if (out.return_data_length == 0) return out;  // no groups, length-only
  if (end < 5) return out;                      // truncated before the format byte

  // SPC-4 6.36.2/6.36.3: byte 4 bits 6..4 is FORMAT TYPE in the extended
  // header; in the length-only format byte 4 is descriptor byte 0, whose
  // bits 6..4 are reserved (zero), so 000 reads as length-only either way.
  std::size_t pos = 4;
  switch (Bits(data, 4, 6, 4)) {
    case 0:
      out.format = RtpgFormat::kLengthOnly;
      break;
    case 1:
      out.format = RtpgFormat::kExtended;
      if (out.return_data_length < 4) {
        return Fail(ParseErrc::kInconsistent, 0, "RTPG data: extended header cut by length");
      }
      if (end < 8) return out;  // truncated inside the extended header
      out.implicit_transition_time = U8(data, 5);
      pos = 8;
      break;
    default:
      return Fail(ParseErrc::kReservedValue, 4, "RTPG data: reserved format type");
  }

  // Target port group descriptors (SPC-4 6.36.2 table 166), each 8 bytes plus
  // 4 per target port (table 169). A descriptor that does not fit in `end`
  // is either cut by a short buffer (truncated: stop, re-issue) or overruns
  // RETURN DATA LENGTH itself (malformed).
  while (pos < end) {
    if (end - pos < kTpgDescriptorLength) {
      if (out.truncated) return out;
      return Fail(ParseErrc::kLengthOverflow, pos, "RTPG data: descriptor overruns length");
    }
    const std::size_t count = U8(data, pos + 7);
    const std::size_t need = kTpgDescriptorLength + count * kTargetPortDescriptorLength;
    if (end - pos < need) {
      if (out.truncated) return out;
      return Fail(ParseErrc::kLengthOverflow, pos + 7,
                  "RTPG data: target port count overruns length");
    }
    TargetPortGroupDescriptor g;
    g.pref = Bit(data, pos, 7);
    g.state = AccessStateField::FromNibble(Bits(data, pos, 3, 0));
    g.supported = SupportedStates::FromByte(U8(data, pos + 1));
    g.target_port_group = Be16(data, pos + 2);
    g.status_code = U8(data, pos + 5);
    g.target_port_count = static_cast<std::uint8_t>(count);
    g.relative_target_ports.reserve(count);
    for (std::size_t i = 0; i < count; ++i) {
      // Relative target port id: bytes 2..3 of each port descriptor.
      g.relative_target_ports.push_back(
          Be16(data, pos + kTpgDescriptorLength + i * kTargetPortDescriptorLength + 2));
    }
    out.groups.push_back(std::move(g));
    pos += need;
  }
  return out;
}

ParseResult<RtpgData> ParseRtpg(Bytes data, std::uint32_t allocation_length) {
  auto r = ParseRtpg(data);
  if (r && r->truncated && data.size() < allocation_length) {
    return Fail(ParseErrc::kLengthOverflow, data.size(),
                "RTPG data: shorter than both allocation and return data length");
  }
  return r;
}

std::size_t RtpgEncodedLength(const RtpgData& data, RtpgFormat format) {
  std::size_t n = format == RtpgFormat::kExtended ? 8 : 4;
  for (const auto& g : data.groups) {
    const std::size_t ports = std::min<std::size_t>(g.relative_target_ports.size(), 255);
    n += kTpgDescriptorLength + ports * kTargetPortDescriptorLength;
  }
  return n;
}

std::size_t EncodeRtpg(const RtpgData& data, RtpgFormat format, MutableBytes out) {
  std::vector<std::byte> full(RtpgEncodedLength(data, format));
  const MutableBytes b{full};
  PutBe32(b, 0, static_cast<std::uint32_t>(full.size() - 4));
  std::size_t pos = 4;
  if (format == RtpgFormat::kExtended) {
    Put8(b, 4, static_cast<std::uint8_t>(1U << 4));  // FORMAT TYPE 001
    Put8(b, 5, data.implicit_transition_time.value_or(0));
    pos = 8;
  }
  for (const auto& g : data.groups) {
    const std::size_t ports = std::min<std::size_t>(g.relative_target_ports.size(), 255);
    Put8(b, pos, static_cast<std::uint8_t>((g.pref ? 0x80U : 0U) | (g.state.raw & 0x0FU)));
    Put8(b, pos + 1, g.supported.ToByte());
    PutBe16(b, pos + 2, g.target_port_group);
    Put8(b, pos + 5, g.status_code);
    Put8(b, pos + 7, static_cast<std::uint8_t>(ports));
    for (std::size_t i = 0; i < ports; ++i) {
      PutBe16(b, pos + kTpgDescriptorLength + i * kTargetPortDescriptorLength + 2,
              g.relative_target_ports[i]);
    }
    pos += kTpgDescriptorLength + ports * kTargetPortDescriptorLength;
  }
  return CopyTruncated(full, out);
}

}  // namespace openmpio::scsi

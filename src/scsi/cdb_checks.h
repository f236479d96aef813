// Checks every target-side CDB parser (ParseXxxCdb) makes in the same way:
// the head (non-empty, right opcode, long enough), the service action of a
// MAINTENANCE IN/OUT or SERVICE ACTION IN(16) CDB, and reserved bytes that
// must be zero. Each returns the error to hand back, or nothing when the
// field is fine, so a parser reads
//   if (auto e = CheckCdbHead(cdb, {...})) return *e;
// The texts stay per command (a log line names the command); the codes and
// offsets are those block_commands.h documents for IllegalRequestFor.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>

#include "scsi/bytes.h"
#include "scsi/parse_error.h"

namespace openmpio::scsi {

using CdbCheck = std::optional<Unexpected<ParseError>>;

struct CdbHead {
  std::uint8_t opcode = 0;
  std::size_t length = 0;  // the opcode's CDB length; longer spans are accepted (iSCSI pads to 16)
  const char* empty = "";
  const char* wrong_opcode = "";
  const char* too_short = "";
};

// kEmpty at 0, kUnsupported at 0 (another opcode), kTooShort at cdb.size().
// The opcode is checked before the length so that a short CDB of another
// command reads as "not this command".
[[nodiscard]] inline CdbCheck CheckCdbHead(Bytes cdb, const CdbHead& head) {
  if (cdb.empty()) return Fail(ParseErrc::kEmpty, 0, head.empty);
  if (U8(cdb, 0) != head.opcode) return Fail(ParseErrc::kUnsupported, 0, head.wrong_opcode);
  if (cdb.size() < head.length) return Fail(ParseErrc::kTooShort, cdb.size(), head.too_short);
  return std::nullopt;
}

// SERVICE ACTION is byte 1 bits 4..0 in the CDBs that carry one (RTPG SPC-4
// 6.36 table 163, STPG 6.44 table 188, READ CAPACITY(16) SBC-3 5.16.1 table 65).
// Another value is kUnsupported at 1 (INVALID FIELD IN CDB, pointer 1).
// Call after CheckCdbHead.
[[nodiscard]] inline CdbCheck CheckServiceAction(Bytes cdb, std::uint8_t service_action,
                                                 const char* what) {
  if (Bits(cdb, 1, 4, 0) != service_action) return Fail(ParseErrc::kUnsupported, 1, what);
  return std::nullopt;
}

// The first non-zero byte of `offsets`, in the order given, is kReservedValue
// at that byte. Call after CheckCdbHead has checked the length.
[[nodiscard]] inline CdbCheck CheckZeroBytes(Bytes cdb, std::initializer_list<std::size_t> offsets,
                                             const char* what) {
  for (const std::size_t i : offsets) {
    if (U8(cdb, i) != 0) return Fail(ParseErrc::kReservedValue, i, what);
  }
  return std::nullopt;
}

// The same for the bytes [from, to).
[[nodiscard]] inline CdbCheck CheckZeroByteRange(Bytes cdb, std::size_t from, std::size_t to,
                                                 const char* what) {
  for (std::size_t i = from; i < to; ++i) {
    if (U8(cdb, i) != 0) return Fail(ParseErrc::kReservedValue, i, what);
  }
  return std::nullopt;
}

}  // namespace openmpio::scsi

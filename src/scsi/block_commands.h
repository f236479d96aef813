// Block and housekeeping commands: READ(16)/WRITE(16) (SBC-3 5.13/5.40),
// WRITE SAME(16) (SBC-3 5.45), SYNCHRONIZE CACHE(16) (SBC-3 5.23), TEST UNIT
// READY (SPC-4 6.37), REQUEST SENSE (SPC-4 6.29); and the target-side
// ParseCdb that decodes every opcode of cdb.h into a typed command.
//
// Target-side errors are ParseErrors whose offset is the CDB byte of the bad
// field, so the array can answer ILLEGAL REQUEST with a field pointer
// (IllegalRequestFor below): kUnsupported at 0 = unknown opcode (20/00),
// kUnsupported at 1 = unknown service action, kReservedValue = a reserved bit
// or value set, kInconsistent = a value the command forbids, kTooShort = fewer
// CDB bytes than the opcode's length. Longer spans are accepted (iSCSI pads
// CDBs to 16 bytes); the control byte is returned raw, not checked.
#pragma once

#include <cstddef>
#include <cstdint>
#include <variant>

#include "scsi/bytes.h"
#include "scsi/cdb.h"
#include "scsi/inquiry.h"  // InquiryCdb / ParseInquiryCdb (the VPD engineer's)
#include "scsi/mode_sense.h"
#include "scsi/parse_error.h"
#include "scsi/read_capacity.h"
#include "scsi/report_luns.h"
#include "scsi/rtpg.h"
#include "scsi/stpg.h"
#include "scsi/unmap.h"

namespace openmpio::scsi {

// READ(16): byte 1 RDPROTECT(7..5) DPO(4) FUA(3) RARC(2) FUA_NV(1, obsolete);
// bytes 2..9 LBA; 10..13 transfer length; 14 bits 4..0 group number.
struct Read16Cdb {
  std::uint64_t lba = 0;
  std::uint32_t transfer_length = 0;  // blocks
  bool dpo = false;
  bool fua = false;
  std::uint8_t protect = 0;  // RDPROTECT, raw (the array decides whether it supports PI)
  std::uint8_t group_number = 0;
  std::uint8_t control = 0;
  friend bool operator==(const Read16Cdb&, const Read16Cdb&) = default;
};

// WRITE(16): as READ(16) with WRPROTECT; byte 1 bit 2 reserved.
struct Write16Cdb {
  std::uint64_t lba = 0;
  std::uint32_t transfer_length = 0;
  bool dpo = false;
  bool fua = false;
  std::uint8_t protect = 0;  // WRPROTECT, raw
  std::uint8_t group_number = 0;
  std::uint8_t control = 0;
  friend bool operator==(const Write16Cdb&, const Write16Cdb&) = default;
};

// WRITE SAME(16): byte 1 WRPROTECT(7..5) ANCHOR(4) UNMAP(3) PBDATA/LBDATA
// (2..1, obsolete: rejected) NDOB(0); LBA 2..9; number of blocks 10..13.
struct WriteSame16Cdb {
  std::uint64_t lba = 0;
  std::uint32_t number_of_blocks = 0;  // 0: to the end of the medium (SBC-3)
  bool unmap = false;
  bool anchor = false;
  bool ndob = false;  // no data-out buffer: write zeros
  std::uint8_t protect = 0;
  std::uint8_t group_number = 0;
  std::uint8_t control = 0;
  friend bool operator==(const WriteSame16Cdb&, const WriteSame16Cdb&) = default;
};

// SYNCHRONIZE CACHE(16): byte 1 IMMED(1); LBA 2..9; number of blocks 10..13
// (0: to the end of the medium).
struct SynchronizeCache16Cdb {
  std::uint64_t lba = 0;
  std::uint32_t number_of_blocks = 0;
  bool immed = false;
  std::uint8_t group_number = 0;
  std::uint8_t control = 0;
  friend bool operator==(const SynchronizeCache16Cdb&, const SynchronizeCache16Cdb&) = default;
};

struct TestUnitReadyCdb {
  std::uint8_t control = 0;
  friend bool operator==(const TestUnitReadyCdb&, const TestUnitReadyCdb&) = default;
};

// REQUEST SENSE: byte 1 DESC(0), byte 4 allocation length.
struct RequestSenseCdb {
  bool desc = false;
  std::uint8_t allocation_length = 252;  // SPC-4: 252 holds any sense data
  std::uint8_t control = 0;
  friend bool operator==(const RequestSenseCdb&, const RequestSenseCdb&) = default;
};

[[nodiscard]] Cdb BuildRead16Cdb(const Read16Cdb& c);
[[nodiscard]] Cdb BuildWrite16Cdb(const Write16Cdb& c);
[[nodiscard]] Cdb BuildWriteSame16Cdb(const WriteSame16Cdb& c);
[[nodiscard]] Cdb BuildSynchronizeCache16Cdb(const SynchronizeCache16Cdb& c);
[[nodiscard]] Cdb BuildTestUnitReadyCdb(const TestUnitReadyCdb& c = {});
[[nodiscard]] Cdb BuildRequestSenseCdb(const RequestSenseCdb& c);

[[nodiscard]] ParseResult<Read16Cdb> ParseRead16Cdb(Bytes cdb);
[[nodiscard]] ParseResult<Write16Cdb> ParseWrite16Cdb(Bytes cdb);
// kReservedValue at 1 for the obsolete PBDATA/LBDATA bits (we never
// support them); NDOB alone is valid (SBC-3: write zeros).
[[nodiscard]] ParseResult<WriteSame16Cdb> ParseWriteSame16Cdb(Bytes cdb);
[[nodiscard]] ParseResult<SynchronizeCache16Cdb> ParseSynchronizeCache16Cdb(Bytes cdb);
[[nodiscard]] ParseResult<TestUnitReadyCdb> ParseTestUnitReadyCdb(Bytes cdb);
[[nodiscard]] ParseResult<RequestSenseCdb> ParseRequestSenseCdb(Bytes cdb);

// One decoded command of any opcode in cdb.h.
using DecodedCdb = std::variant<TestUnitReadyCdb, RequestSenseCdb, InquiryCdb, ModeSense10Cdb,
                                UnmapCdb, Read16Cdb, Write16Cdb, SynchronizeCache16Cdb,
                                WriteSame16Cdb, ReadCapacity16Cdb, ReportLunsCdb, RtpgCdb, StpgCdb>;

// Target side: dispatches on byte 0. kEmpty for no bytes; kUnsupported at 0
// for an opcode not in cdb.h; otherwise the per-command parser's error.
[[nodiscard]] ParseResult<DecodedCdb> ParseCdb(Bytes cdb);

// The ILLEGAL REQUEST sense an array answers for a ParseError (SPC-4 4.5.2.4.2
// sense-key specific field pointer; BPV is 0, we point at bytes, not bits).
struct IllegalRequestSense {
  std::uint8_t asc = 0;
  std::uint8_t ascq = 0;
  bool command_data = true;         // C/D: 1 the error is in the CDB, 0 in the parameter list
  std::uint16_t field_pointer = 0;  // byte of the bad field
  friend bool operator==(const IllegalRequestSense&, const IllegalRequestSense&) = default;
};

// Which bytes the error came from.
enum class ErrorSource : std::uint8_t { kCdb, kParameterList };

// CDB: kUnsupported at 0 → 20/00 INVALID COMMAND OPERATION CODE, anything
// else → 24/00 INVALID FIELD IN CDB at e.offset. Parameter list: kEmpty,
// kTooShort or kInconsistent list length → 1A/00 PARAMETER LIST LENGTH ERROR;
// anything else → 26/00 INVALID FIELD IN PARAMETER LIST at e.offset.
[[nodiscard]] IllegalRequestSense IllegalRequestFor(const ParseError& e, ErrorSource source);

}  // namespace openmpio::scsi

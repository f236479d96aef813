// Building the CommandResponse: status, fixed-format sense (as tgt and istgt
// answer), data-in length.
#include <algorithm>

#include "array/array_state.h"
#include "scsi/cdb.h"

namespace openmpio::array {

CommandClass ClassOf(std::uint8_t opcode) noexcept {
  switch (opcode) {
    case scsi::op::kInquiry:
    case scsi::op::kReportLuns:
    case scsi::op::kMaintenanceIn:
    case scsi::op::kMaintenanceOut:
    case scsi::op::kRequestSense:
      return CommandClass::kManagement;
    case scsi::op::kModeSense10:
      return CommandClass::kModeSense;
    case scsi::op::kTestUnitReady:
    case scsi::op::kRead16:
    case scsi::op::kWrite16:
    case scsi::op::kWriteSame16:
    case scsi::op::kUnmap:
    case scsi::op::kSynchronizeCache16:
    case scsi::op::kServiceActionIn16:
      return CommandClass::kMedia;
    default:
      return CommandClass::kUnknown;
  }
}

void CheckCondition(CommandResponse& r, const scsi::SenseSpec& sense) {
  r.status = scsi::ScsiStatus::kCheckCondition;
  r.data_in_length = 0;
  r.sense = {};
  const std::size_t n = scsi::BuildFixedSense(sense, r.sense);
  r.sense_length = static_cast<std::uint8_t>(std::min(n, kMaxSense));
}

void IllegalField(CommandResponse& r, std::uint8_t asc, bool in_cdb, std::uint16_t field_pointer) {
  CheckCondition(r, scsi::SenseSpec{scsi::SenseKey::kIllegalRequest, {asc, 0x00}, {}, false});
  // SPC-4 4.5.2.4.2 table 53, fixed-format bytes 15..17: SKSV (7), C/D (6),
  // BPV (3) = 0 (we point at a byte), FIELD POINTER in 16..17.
  const scsi::MutableBytes s{r.sense};
  scsi::Put8(s, 15, static_cast<std::uint8_t>(0x80U | (in_cdb ? 0x40U : 0x00U)));
  scsi::PutBe16(s, 16, field_pointer);
}

void IllegalRequest(CommandResponse& r, const scsi::IllegalRequestSense& s) {
  if (s.asc == 0x24 || s.asc == 0x26) {
    IllegalField(r, s.asc, s.command_data, s.field_pointer);
    return;
  }
  CheckCondition(r, scsi::SenseSpec{scsi::SenseKey::kIllegalRequest, {s.asc, s.ascq}, {}, false});
}

std::size_t Room(const CommandRequest& req, std::uint64_t allocation_length) {
  return static_cast<std::size_t>(std::min<std::uint64_t>(req.data_in.size(), allocation_length));
}

void GoodWithData(CommandResponse& r, std::size_t full, std::size_t room) {
  r.status = scsi::ScsiStatus::kGood;
  r.sense_length = 0;
  r.data_in_length = static_cast<std::uint32_t>(std::min(full, room));
}

}  // namespace openmpio::array

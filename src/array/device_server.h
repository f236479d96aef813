// The target side as a transport sees it: a SCSI device server that executes
// one command at a time to completion. The array model (array.h) implements
// it; the sim connector (transport/sim) and later mpio-array's iSCSI front end
// deliver commands to it. Time is a parameter (the transport's clock), so the
// device server reads no clock of its own.
//
// Threading: implementations are safe to call from several threads (several
// reactor threads may carry nexuses to one array); each call is atomic with
// respect to the others.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

#include "common/executor.h"
#include "scsi/bytes.h"
#include "scsi/cdb.h"

namespace openmpio::array {

// One I_T nexus as the device server knows it (unit attentions, the STPG
// originator, reservations are per nexus). Never 0.
using ItNexusId = std::uint64_t;

inline constexpr std::size_t kMaxSense = 252;

struct CommandRequest {
  ItNexusId nexus = 0;
  std::uint64_t lun = 0;
  scsi::Bytes cdb;
  scsi::Bytes data_out;       // write data / parameter list
  scsi::MutableBytes data_in;  // room for data-in (the transfer length / allocation length)
};

struct CommandResponse {
  scsi::ScsiStatus status = scsi::ScsiStatus::kGood;
  std::uint8_t sense_length = 0;
  std::array<std::byte, kMaxSense> sense{};
  std::uint32_t data_in_length = 0;  // bytes of data_in filled
};

enum class TaskManagementResult : std::uint8_t {
  kFunctionComplete,
  kLunDoesNotExist,
  kRejected,
};

class DeviceServer {
 public:
  virtual ~DeviceServer() = default;

  // A login on a target port (identified by its relative target port id):
  // returns the nexus id, or 0 when the port does not exist or refuses logins.
  // A new nexus gets the power-on unit attention (29/00) like a real target.
  virtual ItNexusId AttachNexus(std::uint16_t relative_target_port,
                                const std::string& initiator_name, std::uint64_t isid) = 0;
  // The nexus ended (logout, session reinstatement, connection loss).
  virtual void DetachNexus(ItNexusId nexus) = 0;

  virtual CommandResponse Execute(const CommandRequest& request, TimePoint now) = 0;

  // LOGICAL UNIT RESET from nexus: the device server's part (reset state,
  // unit attention 29/03 for every nexus of that LU, SAM-5 6.3.3). Tasks the
  // transport still holds for that LU are the transport's to abort.
  virtual TaskManagementResult LogicalUnitReset(ItNexusId nexus, std::uint64_t lun,
                                                TimePoint now) = 0;
};

}  // namespace openmpio::array

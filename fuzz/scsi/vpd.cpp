// Fuzz target: the VPD page decoders, dispatched on byte 1 (the page code)
// as discovery would, plus the identity helpers on every 0x83 page decoded.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "scsi/vpd.h"

namespace vpd = openmpio::scsi::vpd;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto b = std::as_bytes(std::span(data, size));
  if (size < 2) {
    (void)openmpio::scsi::ParseVpdHeader(b, 0x83);
    return 0;
  }
  switch (data[1]) {
    case vpd::kSupportedPages:
      (void)openmpio::scsi::ParseSupportedVpdPages(b);
      break;
    case vpd::kUnitSerialNumber:
      (void)openmpio::scsi::ParseUnitSerialNumber(b);
      break;
    case vpd::kBlockLimits:
      (void)openmpio::scsi::ParseBlockLimits(b);
      break;
    case vpd::kLogicalBlockProvisioning:
      (void)openmpio::scsi::ParseLogicalBlockProvisioning(b);
      break;
    case vpd::kDeviceIdentification: {
      auto p = openmpio::scsi::ParseDeviceIdentification(b);
      if (!p.has_value()) break;
      // Never more designators than 4-byte headers fit in the page.
      if (p->designators.size() > p->header.page_length / 4u) std::abort();
      if (p->header.claimed_length > size) std::abort();
      auto id = ChooseLuIdentity(*p);
      if (id.has_value() &&
          id->designator.association != openmpio::scsi::Association::kLogicalUnit) {
        std::abort();
      }
      (void)p->relative_target_port();
      (void)p->target_port_group();
      (void)p->logical_unit_group();
      (void)p->TargetDeviceDesignator();
      (void)p->TargetName();
      break;
    }
    default:
      (void)openmpio::scsi::ParseVpdHeader(b, data[1]);
      break;
  }
  return 0;
}

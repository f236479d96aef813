// Fuzz MODE SENSE(10) parameter data (header + page walk) and CDB decoding.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "scsi/mode_sense.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace openmpio::scsi;
  const Bytes bytes(reinterpret_cast<const std::byte*>(data), size);
  auto r = ParseModeSense10(bytes);
  if (r && r->truncated != (r->required_allocation_length > size)) std::abort();
  (void)ParseModeSense10Cdb(bytes);
  return 0;
}

// Fuzz the array's CDB decoder (bytes from an initiator): every error must
// map to an ILLEGAL REQUEST sense with a field pointer inside the CDB.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "scsi/block_commands.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace openmpio::scsi;
  const Bytes bytes(reinterpret_cast<const std::byte*>(data), size);
  auto r = ParseCdb(bytes);
  if (!r) {
    const auto s = IllegalRequestFor(r.error(), ErrorSource::kCdb);
    if (s.asc != 0x20 && s.asc != 0x24) std::abort();
    if (size != 0 && s.field_pointer >= size) std::abort();
  }
  return 0;
}

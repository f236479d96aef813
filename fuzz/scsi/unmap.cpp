// Fuzz the target side of UNMAP: parameter list and CDB.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "scsi/unmap.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace openmpio::scsi;
  const Bytes bytes(reinterpret_cast<const std::byte*>(data), size);
  auto r = ParseUnmapParameterList(bytes);
  if (r) {
    if (UnmapParameterListLength(r->size()) > size) std::abort();
    std::vector<std::byte> out(UnmapParameterListLength(r->size()));
    (void)BuildUnmapParameterList(*r, out);
    auto again = ParseUnmapParameterList(out);
    if (!again || *again != *r) std::abort();
  }
  (void)ParseUnmapCdb(bytes);
  return 0;
}

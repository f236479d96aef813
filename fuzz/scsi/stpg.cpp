// Fuzz the target side of SET TARGET PORT GROUPS: CDB and parameter list.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "scsi/stpg.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace openmpio::scsi;
  const Bytes bytes(reinterpret_cast<const std::byte*>(data), size);
  auto r = ParseStpgParameterList(bytes);
  if (r) {
    if (StpgParameterListLength(r->size()) != size) std::abort();
    std::vector<std::byte> out(size);
    (void)BuildStpgParameterList(*r, out);
    auto again = ParseStpgParameterList(out);
    if (!again || *again != *r) std::abort();
  }
  (void)ParseStpgCdb(bytes);
  return 0;
}

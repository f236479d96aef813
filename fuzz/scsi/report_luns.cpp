// Fuzz REPORT LUNS parameter data and CDB decoding.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "scsi/report_luns.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace openmpio::scsi;
  const Bytes bytes(reinterpret_cast<const std::byte*>(data), size);
  auto r = ParseReportLuns(bytes);
  if (r) {
    if (r->truncated != (r->required_allocation_length > size)) std::abort();
    for (const auto& l : r->luns) {
      if (auto n = l.number(); n && Lun::FromNumber(*n)->number() != n) std::abort();
    }
    std::vector<std::byte> out(8 + 8 * r->luns.size());
    (void)EncodeReportLuns(r->luns, out);
    auto again = ParseReportLuns(out);
    if (!again || again->luns != r->luns) std::abort();
  }
  (void)ParseReportLunsCdb(bytes);
  return 0;
}

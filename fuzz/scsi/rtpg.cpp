// Fuzz ParseRtpg (bytes from a target) and ParseRtpgCdb (bytes from an
// initiator). A successful decode must re-encode to something that decodes
// to the same groups.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "scsi/rtpg.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace openmpio::scsi;
  const Bytes bytes(reinterpret_cast<const std::byte*>(data), size);
  auto r = ParseRtpg(bytes);
  if (r) {
    if (r->truncated != (r->required_allocation_length > size)) std::abort();
    std::vector<std::byte> out(RtpgEncodedLength(*r, r->format));
    if (EncodeRtpg(*r, r->format, out) != out.size()) std::abort();
    auto again = ParseRtpg(out);
    if (!again || again->groups != r->groups || again->truncated) std::abort();
  }
  (void)ParseRtpg(bytes, 4096);
  (void)ParseRtpgCdb(bytes);
  return 0;
}

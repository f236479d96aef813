// Fuzz target: ParseSense on arbitrary bytes (sense data comes from the
// target). Checks the decoder's own promises, not only that it survives.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "scsi/sense.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto b = std::as_bytes(std::span(data, size));
  auto s = openmpio::scsi::ParseSense(b);
  if (s.has_value()) {
    // Only 8+ byte buffers decode, and the claim is what byte 7 says.
    if (size < 8 || s->claimed_length != 8u + data[7]) std::abort();
    if (s->truncated != (size < s->claimed_length)) std::abort();
    // Re-encoding what was decoded must decode to the same key and code.
    openmpio::scsi::SenseSpec spec{s->key, s->code(), s->information, !s->current};
    std::byte out[32];
    const std::size_t n =
        s->descriptor_format ? BuildDescriptorSense(spec, out) : BuildFixedSense(spec, out);
    auto again = openmpio::scsi::ParseSense(std::span<const std::byte>(out, n));
    if (!again.has_value() || again->key != s->key || again->code() != s->code()) std::abort();
  }
  return 0;
}

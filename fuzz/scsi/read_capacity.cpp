// Fuzz READ CAPACITY(16) parameter data and CDB decoding.
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "scsi/read_capacity.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace openmpio::scsi;
  const Bytes bytes(reinterpret_cast<const std::byte*>(data), size);
  auto r = ParseReadCapacity16(bytes);
  if (r) {
    std::array<std::byte, kReadCapacity16DataLength> out{};
    (void)EncodeReadCapacity16(*r, out);
    auto again = ParseReadCapacity16(out);
    if (!again || !(*again == *r)) std::abort();
  }
  (void)ParseReadCapacity16Cdb(bytes);
  return 0;
}

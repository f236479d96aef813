// Little-endian access to the WMI buffers of the management classes
// (mpiodisk.h, msdsmwmi.h, mpiowmi.h are x64 little-endian, spec/msdsm.md §2).
// scsi/bytes.h is big-endian (SCSI); these are its LE siblings. Callers check
// the length first; the asserts catch a caller that did not.
#pragma once

#include <cassert>
#include <cstddef>
#include <cstdint>
#include <span>

namespace openmpio::dsm::lb_bytes {

inline std::uint8_t U8(std::span<const std::byte> b, std::size_t off) {
  assert(off < b.size());
  return std::to_integer<std::uint8_t>(b[off]);
}
inline std::uint16_t Le16(std::span<const std::byte> b, std::size_t off) {
  assert(off + 2 <= b.size());
  return static_cast<std::uint16_t>(U8(b, off) | (U8(b, off + 1) << 8));
}
inline std::uint32_t Le32(std::span<const std::byte> b, std::size_t off) {
  assert(off + 4 <= b.size());
  return std::uint32_t{Le16(b, off)} | (std::uint32_t{Le16(b, off + 2)} << 16);
}
inline std::uint64_t Le64(std::span<const std::byte> b, std::size_t off) {
  assert(off + 8 <= b.size());
  return std::uint64_t{Le32(b, off)} | (std::uint64_t{Le32(b, off + 4)} << 32);
}

inline void Put8(std::span<std::byte> b, std::size_t off, std::uint8_t v) {
  assert(off < b.size());
  b[off] = std::byte{v};
}
inline void PutLe16(std::span<std::byte> b, std::size_t off, std::uint16_t v) {
  Put8(b, off, static_cast<std::uint8_t>(v));
  Put8(b, off + 1, static_cast<std::uint8_t>(v >> 8));
}
inline void PutLe32(std::span<std::byte> b, std::size_t off, std::uint32_t v) {
  PutLe16(b, off, static_cast<std::uint16_t>(v));
  PutLe16(b, off + 2, static_cast<std::uint16_t>(v >> 16));
}
inline void PutLe64(std::span<std::byte> b, std::size_t off, std::uint64_t v) {
  PutLe32(b, off, static_cast<std::uint32_t>(v));
  PutLe32(b, off + 4, static_cast<std::uint32_t>(v >> 32));
}

}  // namespace openmpio::dsm::lb_bytes

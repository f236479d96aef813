// Access to bytes through spans: big-endian for target bytes (SCSI), and
// little-endian for the WMI buffers of the management classes (mpiodisk.h,
// msdsmwmi.h, mpiowmi.h are x64 little-endian, spec/msdsm.md §2). Reads are
// checked by the caller against size() first (decoders test a length once,
// then read); the helpers assert in debug builds and never read past the span.
#pragma once

#include <cassert>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace openmpio::scsi {

using Bytes = std::span<const std::byte>;
using MutableBytes = std::span<std::byte>;

inline std::uint8_t U8(Bytes b, std::size_t off) {
  assert(off < b.size());
  return std::to_integer<std::uint8_t>(b[off]);
}
inline std::uint16_t Be16(Bytes b, std::size_t off) {
  assert(off + 2 <= b.size());
  return static_cast<std::uint16_t>((U8(b, off) << 8) | U8(b, off + 1));
}
inline std::uint32_t Be24(Bytes b, std::size_t off) {
  assert(off + 3 <= b.size());
  return (std::uint32_t{U8(b, off)} << 16) | (std::uint32_t{U8(b, off + 1)} << 8) |
         U8(b, off + 2);
}
inline std::uint32_t Be32(Bytes b, std::size_t off) {
  assert(off + 4 <= b.size());
  return (std::uint32_t{Be16(b, off)} << 16) | Be16(b, off + 2);
}
inline std::uint64_t Be64(Bytes b, std::size_t off) {
  assert(off + 8 <= b.size());
  return (std::uint64_t{Be32(b, off)} << 32) | Be32(b, off + 4);
}
inline std::uint16_t Le16(Bytes b, std::size_t off) {
  assert(off + 2 <= b.size());
  return static_cast<std::uint16_t>(U8(b, off) | (U8(b, off + 1) << 8));
}
inline std::uint32_t Le32(Bytes b, std::size_t off) {
  assert(off + 4 <= b.size());
  return std::uint32_t{Le16(b, off)} | (std::uint32_t{Le16(b, off + 2)} << 16);
}
inline std::uint64_t Le64(Bytes b, std::size_t off) {
  assert(off + 8 <= b.size());
  return std::uint64_t{Le32(b, off)} | (std::uint64_t{Le32(b, off + 4)} << 32);
}
// Bits hi..lo (inclusive, 7..0) of byte off.
inline std::uint8_t Bits(Bytes b, std::size_t off, unsigned hi, unsigned lo) {
  const unsigned width = hi - lo + 1;
  return static_cast<std::uint8_t>((U8(b, off) >> lo) & ((1U << width) - 1U));
}
inline bool Bit(Bytes b, std::size_t off, unsigned bit) { return Bits(b, off, bit, bit) != 0; }

inline void Put8(MutableBytes b, std::size_t off, std::uint8_t v) {
  assert(off < b.size());
  b[off] = std::byte{v};
}
inline void PutBe16(MutableBytes b, std::size_t off, std::uint16_t v) {
  Put8(b, off, static_cast<std::uint8_t>(v >> 8));
  Put8(b, off + 1, static_cast<std::uint8_t>(v));
}
inline void PutBe24(MutableBytes b, std::size_t off, std::uint32_t v) {
  Put8(b, off, static_cast<std::uint8_t>(v >> 16));
  PutBe16(b, off + 1, static_cast<std::uint16_t>(v));
}
inline void PutBe32(MutableBytes b, std::size_t off, std::uint32_t v) {
  PutBe16(b, off, static_cast<std::uint16_t>(v >> 16));
  PutBe16(b, off + 2, static_cast<std::uint16_t>(v));
}
inline void PutBe64(MutableBytes b, std::size_t off, std::uint64_t v) {
  PutBe32(b, off, static_cast<std::uint32_t>(v >> 32));
  PutBe32(b, off + 4, static_cast<std::uint32_t>(v));
}
inline void PutLe16(MutableBytes b, std::size_t off, std::uint16_t v) {
  Put8(b, off, static_cast<std::uint8_t>(v));
  Put8(b, off + 1, static_cast<std::uint8_t>(v >> 8));
}
inline void PutLe32(MutableBytes b, std::size_t off, std::uint32_t v) {
  PutLe16(b, off, static_cast<std::uint16_t>(v));
  PutLe16(b, off + 2, static_cast<std::uint16_t>(v >> 16));
}
inline void PutLe64(MutableBytes b, std::size_t off, std::uint64_t v) {
  PutLe32(b, off, static_cast<std::uint32_t>(v));
  PutLe32(b, off + 4, static_cast<std::uint32_t>(v >> 32));
}
// ORs v (already shifted into place) into byte off.
inline void OrBits(MutableBytes b, std::size_t off, std::uint8_t v) {
  assert(off < b.size());
  b[off] |= std::byte{v};
}

// ASCII field of a fixed width with trailing spaces and NULs removed
// (INQUIRY vendor/product/revision, serial numbers).
std::string TrimmedAscii(Bytes b);

// Writes as much of `full` as fits into `out` (SCSI truncates data-in to the
// allocation length) and returns full.size(): the length the caller would
// need, as a target reports it.
std::size_t CopyTruncated(Bytes full, MutableBytes out);

}  // namespace openmpio::scsi

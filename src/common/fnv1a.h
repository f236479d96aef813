// FNV-1a, 64 bits (Fowler, Noll, Vo): the one hash of the tree, for values
// that must stay the same across runs and machines — DsmPathId
// (dsm/topology.h), DsmUniqueId (mgmt/json_api.h), the embedded array's
// default serial numbers — and for the management fingerprints. Not for hash
// tables fed by a peer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace openmpio {

class Fnv1a64 {
 public:
  static constexpr std::uint64_t kOffsetBasis = 0xcbf29ce484222325ULL;
  static constexpr std::uint64_t kPrime = 0x100000001b3ULL;

  constexpr void Byte(std::uint8_t b) noexcept {
    h_ ^= b;
    h_ *= kPrime;
  }
  constexpr void Bytes(std::span<const std::byte> bytes) noexcept {
    for (const std::byte b : bytes) Byte(static_cast<std::uint8_t>(b));
  }
  // The characters, nothing else.
  constexpr void Text(std::string_view s) noexcept {
    for (const char c : s) Byte(static_cast<std::uint8_t>(c));
  }
  // Little-endian, `width` bytes.
  constexpr void Int(std::uint64_t v, unsigned width = 8) noexcept {
    for (unsigned i = 0; i < width; ++i) Byte(static_cast<std::uint8_t>(v >> (8 * i)));
  }
  // A 4-byte length, then the characters: field boundaries cannot shift.
  constexpr void Str(std::string_view s) noexcept {
    Int(s.size(), 4);
    Text(s);
  }
  [[nodiscard]] constexpr std::uint64_t value() const noexcept { return h_; }

 private:
  std::uint64_t h_ = kOffsetBasis;
};

// FNV-1a 64 of the characters of `s`.
[[nodiscard]] constexpr std::uint64_t Fnv1a64Of(std::string_view s) noexcept {
  Fnv1a64 h;
  h.Text(s);
  return h.value();
}

// The published test vectors (draft-eastlake-fnv, "FNV-1a 64").
static_assert(Fnv1a64Of("") == 0xcbf29ce484222325ULL);
static_assert(Fnv1a64Of("a") == 0xaf63dc4c8601ec8cULL);
static_assert(Fnv1a64Of("foobar") == 0x85944171f73967e8ULL);

}  // namespace openmpio

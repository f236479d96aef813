// Test helper: bytes from a hex string ("00 8a 0b", spaces and newlines
// ignored), so hand-worked vectors read like the standard's tables.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/hex.h"

namespace openmpio::testing {

inline std::vector<std::byte> Hex(std::string_view s) {
  auto bytes = ParseHexBytes(s);
  if (!bytes) throw std::invalid_argument("not a hex byte string: " + std::string(s));
  return std::move(*bytes);
}

inline std::string ToHex(std::span<const std::byte> b) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s;
  for (std::size_t i = 0; i < b.size(); ++i) {
    if (i != 0) s.push_back(' ');
    const auto v = std::to_integer<unsigned>(b[i]);
    s.push_back(kDigits[v >> 4]);
    s.push_back(kDigits[v & 15]);
  }
  return s;
}

}  // namespace openmpio::testing

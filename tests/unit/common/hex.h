// Test helper: bytes from a hex string ("00 8a 0b", spaces and newlines
// ignored), so hand-worked vectors read like the standard's tables.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace openmpio::testing {

inline std::vector<std::byte> Hex(std::string_view s) {
  std::vector<std::byte> out;
  int hi = -1;
  for (char c : s) {
    int v;
    if (c >= '0' && c <= '9') v = c - '0';
    else if (c >= 'a' && c <= 'f') v = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F') v = c - 'A' + 10;
    else if (c == ' ' || c == '\n' || c == '\t' || c == ':' || c == '|') continue;
    else throw std::invalid_argument("bad hex character");
    if (hi < 0) {
      hi = v;
    } else {
      out.push_back(static_cast<std::byte>((hi << 4) | v));
      hi = -1;
    }
  }
  if (hi >= 0) throw std::invalid_argument("odd number of hex digits");
  return out;
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

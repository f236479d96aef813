// Hex, read: the one parser of hex digits and byte strings (the config's
// DsmPathId, the capture tool's CDB argument, the tests' hand-worked vectors).
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>
#include <vector>

namespace openmpio {

// The value of one hex digit (either case), or -1.
[[nodiscard]] constexpr int HexDigitValue(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The bytes of "12 01 83", "120183" or "12:01:83" (spaces, tabs, newlines,
// ':', ',' and '|' between digits are skipped, so a vector can be laid out
// like the standard's tables); nullopt for any other character or an odd
// number of digits.
[[nodiscard]] inline std::optional<std::vector<std::byte>> ParseHexBytes(std::string_view s) {
  std::vector<std::byte> out;
  int hi = -1;
  for (const char c : s) {
    if (c == ' ' || c == '\t' || c == '\n' || c == ':' || c == ',' || c == '|') continue;
    const int v = HexDigitValue(c);
    if (v < 0) return std::nullopt;
    if (hi < 0) {
      hi = v;
    } else {
      out.push_back(static_cast<std::byte>((hi << 4) | v));
      hi = -1;
    }
  }
  if (hi >= 0) return std::nullopt;
  return out;
}

}  // namespace openmpio

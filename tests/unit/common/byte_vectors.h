// Test helper: a byte vector from small integers, for vectors built in code
// (loops, generated values) where a hex.h string would not fit.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace openmpio::testing {

inline std::vector<std::byte> FromU8(const std::vector<std::uint8_t>& v) {
  std::vector<std::byte> out;
  out.reserve(v.size());
  for (const auto x : v) out.push_back(std::byte{x});
  return out;
}

}  // namespace openmpio::testing

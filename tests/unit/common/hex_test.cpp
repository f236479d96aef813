// common/hex.h: the one hex parser (DsmPathId in the config, the capture
// tool's CDB, the tests' vectors).
#include "common/hex.h"

#include <gtest/gtest.h>

#include <cstddef>
#include <vector>

namespace openmpio {
namespace {

std::vector<std::byte> Bytes(std::initializer_list<unsigned> v) {
  std::vector<std::byte> out;
  for (unsigned x : v) out.push_back(static_cast<std::byte>(x));
  return out;
}

TEST(Hex, DigitValuesInEitherCase) {
  EXPECT_EQ(HexDigitValue('0'), 0);
  EXPECT_EQ(HexDigitValue('9'), 9);
  EXPECT_EQ(HexDigitValue('a'), 10);
  EXPECT_EQ(HexDigitValue('F'), 15);
  EXPECT_EQ(HexDigitValue('g'), -1);
  EXPECT_EQ(HexDigitValue('/'), -1);
  EXPECT_EQ(HexDigitValue(':'), -1);
}

TEST(Hex, BytesWithTheSeparatorsOfTheStandardsTables) {
  EXPECT_EQ(ParseHexBytes("12 01 83"), Bytes({0x12, 0x01, 0x83}));
  EXPECT_EQ(ParseHexBytes("120183"), Bytes({0x12, 0x01, 0x83}));
  EXPECT_EQ(ParseHexBytes("12:01,83\n|fF\t"), Bytes({0x12, 0x01, 0x83, 0xFF}));
  EXPECT_EQ(ParseHexBytes(""), Bytes({}));
}

TEST(Hex, AnOddDigitCountOrAnotherCharacterIsRefused) {
  EXPECT_FALSE(ParseHexBytes("123").has_value());
  EXPECT_FALSE(ParseHexBytes("1 2 3").has_value());
  EXPECT_FALSE(ParseHexBytes("0x12").has_value());
  EXPECT_FALSE(ParseHexBytes("12-34").has_value());
}

}  // namespace
}  // namespace openmpio

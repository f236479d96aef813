// dsm/names.h: one table per enum holds every context's spelling. The
// spellings are what users already type (the config's "ao", the JSON's "AO",
// the library's "active/optimized"): pinned here so a change is deliberate.
#include "dsm/names.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace openmpio::dsm {
namespace {

TEST(Names, EveryPathStateHasOneNameInEachContextAndReadsBack) {
  const PathState all[] = {PathState::kActiveOptimized, PathState::kActiveUnoptimized,
                           PathState::kStandby, PathState::kUnavailable};
  for (Spelling s : {Spelling::kJson, Spelling::kConfig, Spelling::kApi}) {
    std::set<std::string_view> seen;
    for (PathState st : all) {
      const std::string_view name = NameOf(st, s);
      EXPECT_FALSE(name.empty());
      EXPECT_TRUE(seen.insert(name).second) << "two states spelled " << name;
      EXPECT_EQ(PathStateFromName(name, s), st) << name;
    }
  }
}

TEST(Names, PathStateSpellingsAreTheOnesUsersKnow) {
  EXPECT_EQ(NameOf(PathState::kActiveOptimized, Spelling::kJson), "AO");
  EXPECT_EQ(NameOf(PathState::kStandby, Spelling::kJson), "SB");
  EXPECT_EQ(NameOf(PathState::kActiveUnoptimized, Spelling::kConfig), "au");
  EXPECT_EQ(NameOf(PathState::kUnavailable, Spelling::kConfig), "ua");
  EXPECT_EQ(NameOf(PathState::kActiveOptimized, Spelling::kApi), "active/optimized");
  EXPECT_EQ(NameOf(PathState::kStandby, Spelling::kApi), "standby");
  // Each context reads only its own spelling.
  EXPECT_FALSE(PathStateFromName("AO", Spelling::kConfig).has_value());
  EXPECT_FALSE(PathStateFromName("ao", Spelling::kJson).has_value());
  EXPECT_FALSE(PathStateFromName("", Spelling::kApi).has_value());
}

TEST(Names, EveryPolicyHasAShortNameAndNoneHasNone) {
  std::set<std::string_view> seen;
  for (std::uint32_t v = 1; v <= 7; ++v) {
    const auto p = static_cast<LoadBalancePolicy>(v);
    const std::string_view name = ShortName(p);
    EXPECT_FALSE(name.empty()) << v;
    EXPECT_TRUE(seen.insert(name).second) << name;
    EXPECT_EQ(PolicyFromShortName(name), p);
  }
  EXPECT_TRUE(ShortName(LoadBalancePolicy::kNone).empty());
  EXPECT_TRUE(ShortName(static_cast<LoadBalancePolicy>(8)).empty());
  EXPECT_EQ(ShortName(LoadBalancePolicy::kRoundRobinWithSubset), "rrws");
  EXPECT_EQ(ShortName(LoadBalancePolicy::kServiceTime), "st");
  EXPECT_FALSE(PolicyFromShortName("none").has_value());  // each context names "no policy"
  EXPECT_FALSE(PolicyFromShortName("RRWS").has_value());
}

}  // namespace
}  // namespace openmpio::dsm

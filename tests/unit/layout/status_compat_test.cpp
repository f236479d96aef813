// status.h first, then the MSDSM headers: the include order layout_test.cpp
// does not use. Compiling this file is most of the test — the STATUS_* macros
// of mpiodisk.h must not collide with openmpio::NtStatus or Status.
#include "openmpio/status.h"

#include "openmpio/mpiodisk.h"
#include "openmpio/mpiowmi.h"
#include "openmpio/msdsmwmi.h"

#include <gtest/gtest.h>

#include <cstdint>

namespace openmpio {
namespace {

// A C++ name that equals a Windows method id is not rewritten: the ids are
// enumerators, not macros (a `#define DsmSetLoadBalancePolicy 1` would turn
// this declaration into `int 1(int)` and fail to compile).
int DsmSetLoadBalancePolicy(int x) {
  return x + 40;
}

TEST(MsdsmStatusCompat, StatusHAndMpiodiskTogether) {
  const Status s = Status::FromCode(STATUS_INVALID_PARAMETER);
  EXPECT_TRUE(s.Is(NtStatus::kInvalidParameter));
  EXPECT_EQ(s.Name(), "STATUS_INVALID_PARAMETER");
  EXPECT_EQ(Status::FromCode(STATUS_SUCCESS), OkStatus());
  EXPECT_EQ(static_cast<std::uint32_t>(NtStatus::kNotSupported), STATUS_NOT_SUPPORTED);
}

TEST(MsdsmStatusCompat, MethodIdNamesStayUsable) {
  EXPECT_EQ(DsmSetLoadBalancePolicy(2), 42);  // ours, in this namespace
  EXPECT_EQ(::DsmSetLoadBalancePolicy, 1);    // the global enumerator
  EXPECT_EQ(::DsmSetLoadBalancePolicyALUA, 2);
}

}  // namespace
}  // namespace openmpio

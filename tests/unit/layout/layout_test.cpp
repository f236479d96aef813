// The MSDSM structure headers against spec/msdsm.md §1–§2 and §4.
//
// The oracle is the spec's table, written out literally below; offsetof of our
// own header is what is being checked, never the reference. The same numbers
// are checked as C sees them (layout_c.c), and a hand-built buffer is read back
// through the structure fields.
//
// mpiodisk.h comes before status.h on purpose: the other order is compiled by
// status_compat_test.cpp.
#include "openmpio/mpiodisk.h"
#include "openmpio/mpiowmi.h"
#include "openmpio/msdsmwmi.h"
#include "openmpio/status.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "hex.h"

extern "C" {
std::size_t openmpio_c_field_count(void);
int openmpio_c_field(std::size_t index, const char** type, const char** field, std::size_t* offset,
                     std::size_t* size);
std::size_t openmpio_c_sizeof(const char* type);
std::size_t openmpio_c_alignof(const char* type);
std::size_t openmpio_c_wire_size(const char* type, ULONG count);
int openmpio_c_constant(const char* name, std::uint32_t* value);
int openmpio_c_guid(const char* class_name, GUID* out);
}

namespace openmpio {
namespace {

struct Field {
  std::string type;
  std::string field;
  std::size_t offset;
  std::size_t size;
};

// spec/msdsm.md §2, "Off | Field | Type" and the structure table. Sizes are
// the field types' (ULONGLONG 8, ULONG 4, USHORT 2, UCHAR 1); a [1] array
// counts one element. Rows marked [I] are not in the spec's table (V1 query
// classes; the supported-devices list's DeviceId element) and follow [H]/[S].
const std::vector<Field> kSpecFields = {
    {"MPIO_DSM_Path_V2", "DsmPathId", 0, 8},
    {"MPIO_DSM_Path_V2", "Reserved", 8, 8},
    {"MPIO_DSM_Path_V2", "PathWeight", 16, 4},
    {"MPIO_DSM_Path_V2", "PrimaryPath", 20, 4},
    {"MPIO_DSM_Path_V2", "OptimizedPath", 24, 4},
    {"MPIO_DSM_Path_V2", "PreferredPath", 28, 4},
    {"MPIO_DSM_Path_V2", "FailedPath", 32, 4},
    {"MPIO_DSM_Path_V2", "TargetPortGroup_State", 36, 4},
    {"MPIO_DSM_Path_V2", "ALUASupport", 40, 4},
    {"MPIO_DSM_Path_V2", "SymmetricLUA", 44, 1},
    {"MPIO_DSM_Path_V2", "TargetPortGroup_Preferred", 45, 1},
    {"MPIO_DSM_Path_V2", "TargetPortGroup_Identifier", 46, 2},
    {"MPIO_DSM_Path_V2", "TargetPort_Identifier", 48, 4},
    {"MPIO_DSM_Path_V2", "Reserved32", 52, 4},
    {"MPIO_DSM_Path_V2", "Reserved64", 56, 8},
    {"DSM_Load_Balance_Policy_V2", "Version", 0, 4},
    {"DSM_Load_Balance_Policy_V2", "LoadBalancePolicy", 4, 4},
    {"DSM_Load_Balance_Policy_V2", "DSMPathCount", 8, 4},
    {"DSM_Load_Balance_Policy_V2", "Reserved", 12, 4},
    {"DSM_Load_Balance_Policy_V2", "DSM_Paths", 16, 64},
    {"DSM_QueryLBPolicy_V2", "LoadBalancePolicy", 0, 80},
    {"DSM_QuerySupportedLBPolicies_V2", "SupportedLBPoliciesCount", 0, 4},
    {"DSM_QuerySupportedLBPolicies_V2", "Reserved", 4, 4},
    {"DSM_QuerySupportedLBPolicies_V2", "Supported_LB_Policies", 8, 80},
    {"MPIO_DSM_Path", "DsmPathId", 0, 8},
    {"MPIO_DSM_Path", "Reserved", 8, 8},
    {"MPIO_DSM_Path", "PathWeight", 16, 4},
    {"MPIO_DSM_Path", "PrimaryPath", 20, 4},
    {"DSM_Load_Balance_Policy", "Version", 0, 4},
    {"DSM_Load_Balance_Policy", "LoadBalancePolicy", 4, 4},
    {"DSM_Load_Balance_Policy", "DSMPathCount", 8, 4},
    {"DSM_Load_Balance_Policy", "Reserved", 12, 4},
    {"DSM_Load_Balance_Policy", "DSM_Paths", 16, 24},
    {"DSM_QueryLBPolicy", "LoadBalancePolicy", 0, 40},                   // [I]
    {"DSM_QuerySupportedLBPolicies", "SupportedLBPoliciesCount", 0, 4},  // [I]
    {"DSM_QuerySupportedLBPolicies", "Reserved", 4, 4},                  // [I]
    {"DSM_QuerySupportedLBPolicies", "Supported_LB_Policies", 8, 40},    // [I]
    {"DsmSetLoadBalancePolicy_IN", "LoadBalancePolicy", 0, 40},
    {"DsmSetLoadBalancePolicy_OUT", "Status", 0, 4},
    {"DsmSetLoadBalancePolicyALUA_IN", "LoadBalancePolicy", 0, 80},
    {"DsmSetLoadBalancePolicyALUA_OUT", "Status", 0, 4},
    {"DSM_QueryUniqueId", "DsmUniqueId", 0, 8},
    {"MSDSM_DEFAULT_LOAD_BALANCE_POLICY", "LoadBalancePolicy", 0, 4},
    {"MSDSM_DEFAULT_LOAD_BALANCE_POLICY", "Reserved", 4, 4},
    {"MSDSM_DEFAULT_LOAD_BALANCE_POLICY", "PreferredPath", 8, 8},
    {"MSDSM_TARGET_DEFAULT_POLICY_INFO", "HardwareId", 0, 64},
    {"MSDSM_TARGET_DEFAULT_POLICY_INFO", "LoadBalancePolicy", 64, 4},
    {"MSDSM_TARGET_DEFAULT_POLICY_INFO", "Reserved", 68, 4},
    {"MSDSM_TARGET_DEFAULT_POLICY_INFO", "PreferredPath", 72, 8},
    {"MSDSM_TARGETS_DEFAULT_LOAD_BALANCE_POLICY", "NumberDevices", 0, 4},
    {"MSDSM_TARGETS_DEFAULT_LOAD_BALANCE_POLICY", "Reserved", 4, 4},
    {"MSDSM_TARGETS_DEFAULT_LOAD_BALANCE_POLICY", "TargetDefaultPolicyInfo", 8, 80},
    {"MSDSM_SUPPORTED_DEVICES_LIST", "NumberDevices", 0, 4},
    {"MSDSM_SUPPORTED_DEVICES_LIST", "Reserved", 4, 4},
    {"MSDSM_SUPPORTED_DEVICES_LIST", "DeviceId", 8, 2},  // offset: spec; size: [I] WCHAR[1]
    {"MSDSM_DEVICEPATH_PERF", "PathId", 0, 8},
    {"MSDSM_DEVICEPATH_PERF", "NumberReads", 8, 4},
    {"MSDSM_DEVICEPATH_PERF", "NumberWrites", 12, 4},
    {"MSDSM_DEVICEPATH_PERF", "BytesRead", 16, 8},
    {"MSDSM_DEVICEPATH_PERF", "BytesWritten", 24, 8},
    {"MSDSM_DEVICE_PERF", "NumberPaths", 0, 4},
    {"MSDSM_DEVICE_PERF", "PerfInfo", 8, 32},
    {"MPIO_TIMERS_COUNTERS", "PathVerifyEnabled", 0, 4},
    {"MPIO_TIMERS_COUNTERS", "PathVerificationPeriod", 4, 4},
    {"MPIO_TIMERS_COUNTERS", "PDORemovePeriod", 8, 4},
    {"MPIO_TIMERS_COUNTERS", "RetryCount", 12, 4},
    {"MPIO_TIMERS_COUNTERS", "RetryInterval", 16, 4},
    {"DSM_COUNTERS", "PathVerifyEnabled", 0, 4},
    {"DSM_COUNTERS", "PathVerificationPeriod", 4, 4},
    {"DSM_COUNTERS", "PDORemovePeriod", 8, 4},
    {"DSM_COUNTERS", "RetryCount", 12, 4},
    {"DSM_COUNTERS", "RetryInterval", 16, 4},
    {"DSM_COUNTERS", "Reserved32", 20, 4},
    {"DSM_COUNTERS", "Reserved64", 24, 8},
};

struct TypeSize {
  std::string type;
  std::size_t size;
  std::size_t align;
};

// spec §2 "sizeof" column; alignment is the largest member's (x64 natural).
const std::vector<TypeSize> kSpecSizes = {
    {"MPIO_DSM_Path_V2", 64, 8},
    {"DSM_Load_Balance_Policy_V2", 80, 8},
    {"DSM_QueryLBPolicy_V2", 80, 8},
    {"DSM_QuerySupportedLBPolicies_V2", 88, 8},
    {"MPIO_DSM_Path", 24, 8},
    {"DSM_Load_Balance_Policy", 40, 8},
    {"DSM_QueryLBPolicy", 40, 8},             // [I]
    {"DSM_QuerySupportedLBPolicies", 48, 8},  // [I]: 8 + one 40-byte policy
    {"DsmSetLoadBalancePolicy_IN", 40, 8},
    {"DsmSetLoadBalancePolicy_OUT", 4, 4},
    {"DsmSetLoadBalancePolicyALUA_IN", 80, 8},
    {"DsmSetLoadBalancePolicyALUA_OUT", 4, 4},
    {"DSM_QueryUniqueId", 8, 8},
    {"MSDSM_DEFAULT_LOAD_BALANCE_POLICY", 16, 8},
    {"MSDSM_TARGET_DEFAULT_POLICY_INFO", 80, 8},
    {"MSDSM_TARGETS_DEFAULT_LOAD_BALANCE_POLICY", 88, 8},
    {"MSDSM_SUPPORTED_DEVICES_LIST", 12, 4},  // spec "–"; [I] 4 + 4 + WCHAR[1], padded to 4
    {"MSDSM_DEVICEPATH_PERF", 32, 8},
    {"MSDSM_DEVICE_PERF", 40, 8},
    {"MPIO_TIMERS_COUNTERS", 20, 4},
    {"DSM_COUNTERS", 32, 8},
};

// What C++ computes from our headers: the thing under test.
// clang-format off
#define CXX_FIELD(T, f) Field{#T, #f, offsetof(T, f), sizeof(T::f)}
// clang-format on
const std::vector<Field> kCxxFields = {
    CXX_FIELD(MPIO_DSM_Path_V2, DsmPathId),
    CXX_FIELD(MPIO_DSM_Path_V2, Reserved),
    CXX_FIELD(MPIO_DSM_Path_V2, PathWeight),
    CXX_FIELD(MPIO_DSM_Path_V2, PrimaryPath),
    CXX_FIELD(MPIO_DSM_Path_V2, OptimizedPath),
    CXX_FIELD(MPIO_DSM_Path_V2, PreferredPath),
    CXX_FIELD(MPIO_DSM_Path_V2, FailedPath),
    CXX_FIELD(MPIO_DSM_Path_V2, TargetPortGroup_State),
    CXX_FIELD(MPIO_DSM_Path_V2, ALUASupport),
    CXX_FIELD(MPIO_DSM_Path_V2, SymmetricLUA),
    CXX_FIELD(MPIO_DSM_Path_V2, TargetPortGroup_Preferred),
    CXX_FIELD(MPIO_DSM_Path_V2, TargetPortGroup_Identifier),
    CXX_FIELD(MPIO_DSM_Path_V2, TargetPort_Identifier),
    CXX_FIELD(MPIO_DSM_Path_V2, Reserved32),
    CXX_FIELD(MPIO_DSM_Path_V2, Reserved64),
    CXX_FIELD(DSM_Load_Balance_Policy_V2, Version),
    CXX_FIELD(DSM_Load_Balance_Policy_V2, LoadBalancePolicy),
    CXX_FIELD(DSM_Load_Balance_Policy_V2, DSMPathCount),
    CXX_FIELD(DSM_Load_Balance_Policy_V2, Reserved),
    CXX_FIELD(DSM_Load_Balance_Policy_V2, DSM_Paths),
    CXX_FIELD(DSM_QueryLBPolicy_V2, LoadBalancePolicy),
    CXX_FIELD(DSM_QuerySupportedLBPolicies_V2, SupportedLBPoliciesCount),
    CXX_FIELD(DSM_QuerySupportedLBPolicies_V2, Reserved),
    CXX_FIELD(DSM_QuerySupportedLBPolicies_V2, Supported_LB_Policies),
    CXX_FIELD(MPIO_DSM_Path, DsmPathId),
    CXX_FIELD(MPIO_DSM_Path, Reserved),
    CXX_FIELD(MPIO_DSM_Path, PathWeight),
    CXX_FIELD(MPIO_DSM_Path, PrimaryPath),
    CXX_FIELD(DSM_Load_Balance_Policy, Version),
    CXX_FIELD(DSM_Load_Balance_Policy, LoadBalancePolicy),
    CXX_FIELD(DSM_Load_Balance_Policy, DSMPathCount),
    CXX_FIELD(DSM_Load_Balance_Policy, Reserved),
    CXX_FIELD(DSM_Load_Balance_Policy, DSM_Paths),
    CXX_FIELD(DSM_QueryLBPolicy, LoadBalancePolicy),
    CXX_FIELD(DSM_QuerySupportedLBPolicies, SupportedLBPoliciesCount),
    CXX_FIELD(DSM_QuerySupportedLBPolicies, Reserved),
    CXX_FIELD(DSM_QuerySupportedLBPolicies, Supported_LB_Policies),
    CXX_FIELD(DsmSetLoadBalancePolicy_IN, LoadBalancePolicy),
    CXX_FIELD(DsmSetLoadBalancePolicy_OUT, Status),
    CXX_FIELD(DsmSetLoadBalancePolicyALUA_IN, LoadBalancePolicy),
    CXX_FIELD(DsmSetLoadBalancePolicyALUA_OUT, Status),
    CXX_FIELD(DSM_QueryUniqueId, DsmUniqueId),
    CXX_FIELD(MSDSM_DEFAULT_LOAD_BALANCE_POLICY, LoadBalancePolicy),
    CXX_FIELD(MSDSM_DEFAULT_LOAD_BALANCE_POLICY, Reserved),
    CXX_FIELD(MSDSM_DEFAULT_LOAD_BALANCE_POLICY, PreferredPath),
    CXX_FIELD(MSDSM_TARGET_DEFAULT_POLICY_INFO, HardwareId),
    CXX_FIELD(MSDSM_TARGET_DEFAULT_POLICY_INFO, LoadBalancePolicy),
    CXX_FIELD(MSDSM_TARGET_DEFAULT_POLICY_INFO, Reserved),
    CXX_FIELD(MSDSM_TARGET_DEFAULT_POLICY_INFO, PreferredPath),
    CXX_FIELD(MSDSM_TARGETS_DEFAULT_LOAD_BALANCE_POLICY, NumberDevices),
    CXX_FIELD(MSDSM_TARGETS_DEFAULT_LOAD_BALANCE_POLICY, Reserved),
    CXX_FIELD(MSDSM_TARGETS_DEFAULT_LOAD_BALANCE_POLICY, TargetDefaultPolicyInfo),
    CXX_FIELD(MSDSM_SUPPORTED_DEVICES_LIST, NumberDevices),
    CXX_FIELD(MSDSM_SUPPORTED_DEVICES_LIST, Reserved),
    CXX_FIELD(MSDSM_SUPPORTED_DEVICES_LIST, DeviceId),
    CXX_FIELD(MSDSM_DEVICEPATH_PERF, PathId),
    CXX_FIELD(MSDSM_DEVICEPATH_PERF, NumberReads),
    CXX_FIELD(MSDSM_DEVICEPATH_PERF, NumberWrites),
    CXX_FIELD(MSDSM_DEVICEPATH_PERF, BytesRead),
    CXX_FIELD(MSDSM_DEVICEPATH_PERF, BytesWritten),
    CXX_FIELD(MSDSM_DEVICE_PERF, NumberPaths),
    CXX_FIELD(MSDSM_DEVICE_PERF, PerfInfo),
    CXX_FIELD(MPIO_TIMERS_COUNTERS, PathVerifyEnabled),
    CXX_FIELD(MPIO_TIMERS_COUNTERS, PathVerificationPeriod),
    CXX_FIELD(MPIO_TIMERS_COUNTERS, PDORemovePeriod),
    CXX_FIELD(MPIO_TIMERS_COUNTERS, RetryCount),
    CXX_FIELD(MPIO_TIMERS_COUNTERS, RetryInterval),
    CXX_FIELD(DSM_COUNTERS, PathVerifyEnabled),
    CXX_FIELD(DSM_COUNTERS, PathVerificationPeriod),
    CXX_FIELD(DSM_COUNTERS, PDORemovePeriod),
    CXX_FIELD(DSM_COUNTERS, RetryCount),
    CXX_FIELD(DSM_COUNTERS, RetryInterval),
    CXX_FIELD(DSM_COUNTERS, Reserved32),
    CXX_FIELD(DSM_COUNTERS, Reserved64),
};
#undef CXX_FIELD

// clang-format off
#define CXX_TYPE(T) TypeSize{#T, sizeof(T), alignof(T)}
// clang-format on
const std::vector<TypeSize> kCxxSizes = {
    CXX_TYPE(MPIO_DSM_Path_V2),
    CXX_TYPE(DSM_Load_Balance_Policy_V2),
    CXX_TYPE(DSM_QueryLBPolicy_V2),
    CXX_TYPE(DSM_QuerySupportedLBPolicies_V2),
    CXX_TYPE(MPIO_DSM_Path),
    CXX_TYPE(DSM_Load_Balance_Policy),
    CXX_TYPE(DSM_QueryLBPolicy),
    CXX_TYPE(DSM_QuerySupportedLBPolicies),
    CXX_TYPE(DsmSetLoadBalancePolicy_IN),
    CXX_TYPE(DsmSetLoadBalancePolicy_OUT),
    CXX_TYPE(DsmSetLoadBalancePolicyALUA_IN),
    CXX_TYPE(DsmSetLoadBalancePolicyALUA_OUT),
    CXX_TYPE(DSM_QueryUniqueId),
    CXX_TYPE(MSDSM_DEFAULT_LOAD_BALANCE_POLICY),
    CXX_TYPE(MSDSM_TARGET_DEFAULT_POLICY_INFO),
    CXX_TYPE(MSDSM_TARGETS_DEFAULT_LOAD_BALANCE_POLICY),
    CXX_TYPE(MSDSM_SUPPORTED_DEVICES_LIST),
    CXX_TYPE(MSDSM_DEVICEPATH_PERF),
    CXX_TYPE(MSDSM_DEVICE_PERF),
    CXX_TYPE(MPIO_TIMERS_COUNTERS),
    CXX_TYPE(DSM_COUNTERS),
};
#undef CXX_TYPE

std::vector<Field> CFields() {
  std::vector<Field> out;
  for (std::size_t i = 0; i < openmpio_c_field_count(); ++i) {
    const char* type = nullptr;
    const char* field = nullptr;
    std::size_t offset = 0;
    std::size_t size = 0;
    if (openmpio_c_field(i, &type, &field, &offset, &size) == 0) break;
    out.push_back(Field{type, field, offset, size});
  }
  return out;
}

const Field* Find(const std::vector<Field>& fields, const Field& key) {
  for (const Field& f : fields) {
    if (f.type == key.type && f.field == key.field) return &f;
  }
  return nullptr;
}

std::set<std::pair<std::string, std::string>> Names(const std::vector<Field>& fields) {
  std::set<std::pair<std::string, std::string>> out;
  for (const Field& f : fields) out.emplace(f.type, f.field);
  return out;
}

// Checks `actual` against the spec table: every spec field present at the
// spec's offset and size, and no field the spec does not list.
void ExpectMatchesSpec(const std::vector<Field>& actual, const char* who) {
  for (const Field& spec : kSpecFields) {
    SCOPED_TRACE(std::string(who) + " " + spec.type + "." + spec.field);
    const Field* got = Find(actual, spec);
    ASSERT_NE(got, nullptr) << "field missing";
    EXPECT_EQ(got->offset, spec.offset);
    EXPECT_EQ(got->size, spec.size);
  }
  EXPECT_EQ(Names(actual), Names(kSpecFields)) << who << ": field sets differ";
  EXPECT_EQ(actual.size(), kSpecFields.size()) << who << ": duplicate rows";
}

TEST(MsdsmLayout, CxxFieldOffsetsMatchSpec) {
  ExpectMatchesSpec(kCxxFields, "C++");
}

TEST(MsdsmLayout, CFieldOffsetsMatchSpec) {
  ExpectMatchesSpec(CFields(), "C");
}

TEST(MsdsmLayout, CAndCxxAgreeFieldByField) {
  const std::vector<Field> c = CFields();
  ASSERT_EQ(c.size(), kCxxFields.size());
  for (const Field& cxx : kCxxFields) {
    SCOPED_TRACE(cxx.type + "." + cxx.field);
    const Field* got = Find(c, cxx);
    ASSERT_NE(got, nullptr);
    EXPECT_EQ(got->offset, cxx.offset);
    EXPECT_EQ(got->size, cxx.size);
  }
}

TEST(MsdsmLayout, SizesAndAlignmentMatchSpecInCAndCxx) {
  ASSERT_EQ(kCxxSizes.size(), kSpecSizes.size());
  for (const TypeSize& spec : kSpecSizes) {
    SCOPED_TRACE(spec.type);
    bool found = false;
    for (const TypeSize& cxx : kCxxSizes) {
      if (cxx.type != spec.type) continue;
      found = true;
      EXPECT_EQ(cxx.size, spec.size) << "C++ sizeof";
      EXPECT_EQ(cxx.align, spec.align) << "C++ alignof";
    }
    EXPECT_TRUE(found) << "no C++ row";
    EXPECT_EQ(openmpio_c_sizeof(spec.type.c_str()), spec.size) << "C sizeof";
    EXPECT_EQ(openmpio_c_alignof(spec.type.c_str()), spec.align) << "C _Alignof";
  }
}

// The WDK's <Class>_SIZE macros: end of the last field (spec §2 sizes).
TEST(MsdsmLayout, WindowsSizeMacros) {
  EXPECT_EQ(MPIO_DSM_Path_V2_SIZE, 64U);
  EXPECT_EQ(MPIO_DSM_Path_SIZE, 24U);
  EXPECT_EQ(DSM_QueryLBPolicy_V2_SIZE, 80U);
  EXPECT_EQ(DSM_QueryLBPolicy_SIZE, 40U);
  EXPECT_EQ(DsmSetLoadBalancePolicyALUA_IN_SIZE, 80U);
  EXPECT_EQ(DsmSetLoadBalancePolicyALUA_OUT_SIZE, 4U);
  EXPECT_EQ(DsmSetLoadBalancePolicy_IN_SIZE, 40U);
  EXPECT_EQ(DsmSetLoadBalancePolicy_OUT_SIZE, 4U);
  EXPECT_EQ(DSM_QueryUniqueId_SIZE, 8U);
  EXPECT_EQ(MSDSM_DEFAULT_LOAD_BALANCE_POLICY_SIZE, 16U);
  EXPECT_EQ(MSDSM_TARGET_DEFAULT_POLICY_INFO_SIZE, 80U);
  EXPECT_EQ(MSDSM_DEVICEPATH_PERF_SIZE, 32U);
  EXPECT_EQ(MPIO_TIMERS_COUNTERS_SIZE, 20U);
  EXPECT_EQ(DSM_COUNTERS_SIZE, 32U);
}

// ---- Wire sizes: spec §2 "wire" column ----

struct WireRule {
  const char* type;
  std::size_t header;
  std::size_t stride;
  std::size_t (*cxx)(ULONG);
};

const std::array<WireRule, 6> kWireRules = {{
    {"DSM_Load_Balance_Policy_V2", 16, 64, DSM_Load_Balance_Policy_V2_WireSize},
    {"DSM_Load_Balance_Policy", 16, 24, DSM_Load_Balance_Policy_WireSize},
    {"DSM_QuerySupportedLBPolicies_V2", 8, 16, DSM_QuerySupportedLBPolicies_V2_WireSize},
    {"MSDSM_TARGETS_DEFAULT_LOAD_BALANCE_POLICY", 8, 80,
     MSDSM_TARGETS_DEFAULT_LOAD_BALANCE_POLICY_WireSize},
    {"MSDSM_SUPPORTED_DEVICES_LIST", 8, 64, MSDSM_SUPPORTED_DEVICES_LIST_WireSize},
    {"MSDSM_DEVICE_PERF", 8, 32, MSDSM_DEVICE_PERF_WireSize},
}};

TEST(MsdsmWireSize, HandWorkedValues) {
  // spec §4 step 4: two V2 paths need 16 + 64·2 = 144 bytes; V1: 16 + 24·2 = 64.
  EXPECT_EQ(DSM_Load_Balance_Policy_V2_WireSize(0), 16U);
  EXPECT_EQ(DSM_Load_Balance_Policy_V2_WireSize(1), 80U);
  EXPECT_EQ(DSM_Load_Balance_Policy_V2_WireSize(2), 144U);
  EXPECT_EQ(DSM_Load_Balance_Policy_V2_WireSize(32), 2064U);  // MSDSM's 32-path maximum (§5)
  EXPECT_EQ(DSM_Load_Balance_Policy_WireSize(2), 64U);
  // Six supported policies as bare headers: 8 + 16·6.
  EXPECT_EQ(DSM_QuerySupportedLBPolicies_V2_WireSize(6), 104U);
  EXPECT_EQ(MSDSM_TARGETS_DEFAULT_LOAD_BALANCE_POLICY_WireSize(1), 88U);
  EXPECT_EQ(MSDSM_SUPPORTED_DEVICES_LIST_WireSize(3), 200U);
  EXPECT_EQ(MSDSM_DEVICE_PERF_WireSize(1), 40U);
  // No overflow at the top of ULONG: size_t is 64-bit.
  EXPECT_EQ(DSM_Load_Balance_Policy_V2_WireSize(0xFFFFFFFFU), 16U + 64ULL * 0xFFFFFFFFULL);
}

TEST(MsdsmWireSize, CAndCxxFollowSpecFormula) {
  for (const WireRule& rule : kWireRules) {
    SCOPED_TRACE(rule.type);
    for (ULONG n : {0U, 1U, 2U, 7U, 32U, 1000U, 0xFFFFFFFFU}) {
      const std::size_t want = rule.header + rule.stride * std::size_t{n};
      EXPECT_EQ(rule.cxx(n), want) << "C++ n=" << n;
      EXPECT_EQ(openmpio_c_wire_size(rule.type, n), want) << "C n=" << n;
    }
  }
}

RC_GTEST_PROP(MsdsmWireSize, AnyCountIsHeaderPlusStride, (std::uint32_t n)) {
  for (const WireRule& rule : kWireRules) {
    const std::size_t want = rule.header + rule.stride * std::size_t{n};
    RC_ASSERT(rule.cxx(n) == want);
    RC_ASSERT(openmpio_c_wire_size(rule.type, n) == want);
  }
}

// ---- Constants (spec §2 [H], §1 method ids) ----

void ExpectConstant(const char* name, std::uint32_t cxx_value, std::uint32_t spec_value) {
  SCOPED_TRACE(name);
  EXPECT_EQ(cxx_value, spec_value) << "C++";
  std::uint32_t c_value = 0xDEADBEEF;
  ASSERT_EQ(openmpio_c_constant(name, &c_value), 1) << "C does not know it";
  EXPECT_EQ(c_value, spec_value) << "C";
}

#define EXPECT_CONSTANT(name, spec_value) \
  ExpectConstant(#name, static_cast<std::uint32_t>(name), spec_value)

TEST(MsdsmConstants, LoadBalancePolicies) {
  EXPECT_CONSTANT(DSM_LB_FAILOVER, 1);
  EXPECT_CONSTANT(DSM_LB_ROUND_ROBIN, 2);
  EXPECT_CONSTANT(DSM_LB_ROUND_ROBIN_WITH_SUBSET, 3);
  EXPECT_CONSTANT(DSM_LB_DYN_LEAST_QUEUE_DEPTH, 4);
  EXPECT_CONSTANT(DSM_LB_WEIGHTED_PATHS, 5);
  EXPECT_CONSTANT(DSM_LB_LEAST_BLOCKS, 6);
  EXPECT_CONSTANT(DSM_LB_VENDOR_SPECIFIC, 7);
}

TEST(MsdsmConstants, TargetPortGroupStatesAndAluaSupport) {
  EXPECT_CONSTANT(STATE_ACTIVE_OPTIMIZED, 0);
  EXPECT_CONSTANT(STATE_ACTIVE_UNOPTIMIZED, 1);
  EXPECT_CONSTANT(STATE_STANDBY, 2);
  EXPECT_CONSTANT(STATE_UNAVAILABLE, 3);
  EXPECT_CONSTANT(STATE_NOT_USED, 16);
  EXPECT_CONSTANT(ALUA_NOT_SUPPORTED, 0);
  EXPECT_CONSTANT(ALUA_IMPLICIT_ONLY, 1);
  EXPECT_CONSTANT(ALUA_EXPLICIT_ONLY, 2);
  EXPECT_CONSTANT(ALUA_IMPLICIT_AND_EXPLICIT, 3);
}

TEST(MsdsmConstants, WmiMethodIds) {
  EXPECT_CONSTANT(DsmSetLoadBalancePolicy, 1);
  EXPECT_CONSTANT(DsmSetLoadBalancePolicyALUA, 2);
  EXPECT_CONSTANT(MSDsmClearCounters, 1);
}

TEST(MsdsmConstants, CountedStringSizes) {
  // spec §2: HardwareId is WCHAR[32], first WCHAR the byte length 62; VID 8 + PID 16.
  EXPECT_CONSTANT(MSDSM_MAX_DEVICE_ID_LENGTH, 31);
  EXPECT_CONSTANT(MSDSM_MAX_DEVICE_ID_SIZE, 62);
  EXPECT_CONSTANT(MSDSM_DEVICE_ID_ENTRY_SIZE, 64);
  EXPECT_CONSTANT(DSM_VENDPROD_ID_LEN, 24);
}

// spec §4 NTSTATUS table; must equal status.h's NtStatus, which the engine uses.
TEST(MsdsmConstants, NtstatusMacrosMatchSpecAndStatusH) {
  EXPECT_CONSTANT(STATUS_SUCCESS, 0x00000000U);
  EXPECT_CONSTANT(STATUS_INVALID_PARAMETER, 0xC000000DU);
  EXPECT_CONSTANT(STATUS_NOT_SUPPORTED, 0xC00000BBU);
  EXPECT_CONSTANT(STATUS_BUFFER_TOO_SMALL, 0xC0000023U);
  EXPECT_CONSTANT(STATUS_INSUFFICIENT_RESOURCES, 0xC000009AU);
  EXPECT_CONSTANT(STATUS_OBJECT_NAME_NOT_FOUND, 0xC0000034U);
  EXPECT_CONSTANT(STATUS_WMI_GUID_NOT_FOUND, 0xC0000295U);
  EXPECT_CONSTANT(STATUS_WMI_INSTANCE_NOT_FOUND, 0xC0000296U);
  EXPECT_CONSTANT(STATUS_WMI_ITEMID_NOT_FOUND, 0xC0000297U);
  EXPECT_CONSTANT(STATUS_NO_SUCH_DEVICE, 0xC000000EU);
  EXPECT_CONSTANT(STATUS_INVALID_DEVICE_REQUEST, 0xC0000010U);
  EXPECT_CONSTANT(STATUS_IO_DEVICE_ERROR, 0xC0000185U);

  const std::pair<std::uint32_t, NtStatus> same[] = {
      {STATUS_SUCCESS, NtStatus::kSuccess},
      {STATUS_INVALID_PARAMETER, NtStatus::kInvalidParameter},
      {STATUS_NOT_SUPPORTED, NtStatus::kNotSupported},
      {STATUS_BUFFER_TOO_SMALL, NtStatus::kBufferTooSmall},
      {STATUS_INSUFFICIENT_RESOURCES, NtStatus::kInsufficientResources},
      {STATUS_OBJECT_NAME_NOT_FOUND, NtStatus::kObjectNameNotFound},
      {STATUS_WMI_GUID_NOT_FOUND, NtStatus::kWmiGuidNotFound},
      {STATUS_WMI_INSTANCE_NOT_FOUND, NtStatus::kWmiInstanceNotFound},
      {STATUS_WMI_ITEMID_NOT_FOUND, NtStatus::kWmiItemIdNotFound},
      {STATUS_NO_SUCH_DEVICE, NtStatus::kNoSuchDevice},
      {STATUS_INVALID_DEVICE_REQUEST, NtStatus::kInvalidDeviceRequest},
      {STATUS_IO_DEVICE_ERROR, NtStatus::kIoDeviceError},
  };
  for (const auto& [macro, nt] : same) {
    EXPECT_EQ(macro, static_cast<std::uint32_t>(nt));
    EXPECT_TRUE(Status::FromCode(macro).Is(nt));
  }
  // The Status field of the _OUT classes carries one of these.
  DsmSetLoadBalancePolicyALUA_OUT out{};
  out.Status = STATUS_BUFFER_TOO_SMALL;
  EXPECT_EQ(Status::FromCode(out.Status).nt(), NtStatus::kBufferTooSmall);
}

#undef EXPECT_CONSTANT

// ---- GUIDs ----

std::string GuidText(const GUID& g) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%08x-%04x-%04x-%02x%02x-%02x%02x%02x%02x%02x%02x",
                static_cast<unsigned>(g.Data1), static_cast<unsigned>(g.Data2),
                static_cast<unsigned>(g.Data3), static_cast<unsigned>(g.Data4[0]),
                static_cast<unsigned>(g.Data4[1]), static_cast<unsigned>(g.Data4[2]),
                static_cast<unsigned>(g.Data4[3]), static_cast<unsigned>(g.Data4[4]),
                static_cast<unsigned>(g.Data4[5]), static_cast<unsigned>(g.Data4[6]),
                static_cast<unsigned>(g.Data4[7]));
  return buf;
}

void ExpectGuid(const char* cls, const GUID& cxx, const char* text) {
  SCOPED_TRACE(cls);
  EXPECT_EQ(GuidText(cxx), text) << "C++";
  GUID c{};
  ASSERT_EQ(openmpio_c_guid(cls, &c), 1) << "C does not know it";
  EXPECT_EQ(GuidText(c), text) << "C";
}

#define EXPECT_GUID(cls, text)  \
  do {                          \
    const GUID g_ = cls##Guid;  \
    ExpectGuid(#cls, g_, text); \
  } while (0)

TEST(MsdsmGuids, ClassGuidsFromSpecSection1) {
  EXPECT_GUID(DSM_LB_Operations, "c944053c-c90f-4012-b775-1f1a261d4be4");
  EXPECT_GUID(DSM_QueryLBPolicy_V2, "d14fed0e-bdfb-4615-8578-350c4c2b06d7");
  EXPECT_GUID(DSM_QuerySupportedLBPolicies_V2, "fc777b74-7bcc-47ae-aa63-59656ba593fe");
  EXPECT_GUID(DSM_QueryUniqueId, "7b47cbe2-63d0-4e6b-b987-4bfcbd6c368e");
  EXPECT_GUID(MSDSM_DEFAULT_LOAD_BALANCE_POLICY, "c81b5681-f3ca-4c98-9325-707d0d62ffc4");
  EXPECT_GUID(MSDSM_TARGETS_DEFAULT_LOAD_BALANCE_POLICY, "5ccbcd91-1b56-4327-a2f3-0960335f8846");
  EXPECT_GUID(MSDSM_TARGET_DEFAULT_POLICY_INFO, "ddb00a72-0fab-418b-a89e-97370ae293a4");
  EXPECT_GUID(MSDSM_SUPPORTED_DEVICES_LIST, "c362d67c-371e-44d8-8bba-044619e4f245");
  EXPECT_GUID(MSDSM_DEVICE_PERF, "875b8871-4889-4114-93f6-cd064c001cea");
}

// Not in the spec's table: from the WDK mpiodisk.h / mpiowmi.h public copies
// and the sample's msdsm.mof (spec §6 sources).
TEST(MsdsmGuids, OtherClassGuidsFromWdkAndMof) {
  EXPECT_GUID(MPIO_DSM_Path_V2, "ac4e13b0-7cb6-4599-b397-fb36faec5c96");
  EXPECT_GUID(DSM_Load_Balance_Policy_V2, "6f4474ce-d20e-426c-9371-9b87c2e2cd5a");
  EXPECT_GUID(MPIO_DSM_Path, "80ebd5b4-3baf-41f1-9c41-bd36c5282b67");
  EXPECT_GUID(DSM_Load_Balance_Policy, "3078b89b-a34f-4ff6-810a-c56ad3ba947d");
  EXPECT_GUID(DSM_QueryLBPolicy, "20a4663b-bf54-4738-b403-0cfc71ecfc90");
  EXPECT_GUID(DSM_QuerySupportedLBPolicies, "ffcf3f4e-bab6-455c-ba99-d60cfbc5887d");
  EXPECT_GUID(MSDSM_DEVICEPATH_PERF, "a34d03ec-6b0b-46a1-9178-82525f41133f");
  EXPECT_GUID(MSDSM_WMI_METHODS, "04517f7e-92bb-4ebe-aed0-54339fa5f544");
  EXPECT_GUID(MPIO_TIMERS_COUNTERS, "ce49b95b-690f-4cd0-8a95-ece3fad8efc2");
  EXPECT_GUID(DSM_COUNTERS, "39026ae4-9e81-468b-819c-253448127fd5");
}

#undef EXPECT_GUID

// ---- Bytes on the wire read back through the structures ----

template <std::size_t N>
void PutLe(std::array<unsigned char, N>& buf, std::size_t off, std::uint64_t v, std::size_t width) {
  ASSERT_LE(off + width, N);
  for (std::size_t i = 0; i < width; ++i) {
    buf[off + i] = static_cast<unsigned char>(v >> (8 * i));
  }
}

// A 16 + 64·2 = 144-byte DSM_Load_Balance_Policy_V2 (spec §4 step 4), each
// value written little-endian at the offset the spec's §2 table gives, then
// read through the fields the way a Windows caller overlays the buffer.
TEST(MsdsmBuffer, HandBuiltPolicyV2WithTwoPathsReadsBack) {
  std::array<unsigned char, 144> wire{};
  // Header.
  PutLe(wire, 0, 2, 4);   // Version
  PutLe(wire, 4, 5, 4);   // LoadBalancePolicy = Weighted Paths
  PutLe(wire, 8, 2, 4);   // DSMPathCount
  PutLe(wire, 12, 0, 4);  // Reserved
  // Path 0 at 16: Active/Optimized on implicit+explicit ALUA.
  PutLe(wire, 16 + 0, 0x1122334455667788ULL, 8);  // DsmPathId
  PutLe(wire, 16 + 8, 0x1, 8);                    // Reserved (SB mask)
  PutLe(wire, 16 + 16, 10, 4);                    // PathWeight
  PutLe(wire, 16 + 20, 1, 4);                     // PrimaryPath
  PutLe(wire, 16 + 24, 1, 4);                     // OptimizedPath
  PutLe(wire, 16 + 28, 0, 4);                     // PreferredPath
  PutLe(wire, 16 + 32, 0, 4);                     // FailedPath
  PutLe(wire, 16 + 36, 0, 4);                     // TargetPortGroup_State = AO
  PutLe(wire, 16 + 40, 3, 4);                     // ALUASupport
  PutLe(wire, 16 + 44, 0, 1);                     // SymmetricLUA
  PutLe(wire, 16 + 45, 1, 1);                     // TargetPortGroup_Preferred
  PutLe(wire, 16 + 46, 0x0102, 2);                // TargetPortGroup_Identifier
  PutLe(wire, 16 + 48, 3, 4);                     // TargetPort_Identifier
  // Path 1 at 80: every field distinct, reserved ones non-zero to catch shifts.
  PutLe(wire, 80 + 0, 0x8877665544332211ULL, 8);
  PutLe(wire, 80 + 8, 0x3, 8);
  PutLe(wire, 80 + 16, 0xFFFFFFFFU, 4);
  PutLe(wire, 80 + 20, 1, 4);
  PutLe(wire, 80 + 24, 0, 4);
  PutLe(wire, 80 + 28, 1, 4);
  PutLe(wire, 80 + 32, 1, 4);
  PutLe(wire, 80 + 36, 1, 4);  // AU
  PutLe(wire, 80 + 40, 1, 4);  // implicit only
  PutLe(wire, 80 + 44, 1, 1);
  PutLe(wire, 80 + 45, 0, 1);
  PutLe(wire, 80 + 46, 0xBEEF, 2);
  PutLe(wire, 80 + 48, 0x00010002, 4);
  PutLe(wire, 80 + 52, 0xA5A5A5A5U, 4);
  PutLe(wire, 80 + 56, 0xDEADBEEFCAFEF00DULL, 8);
  // Little-endian, spot-checked by hand: the low byte comes first.
  EXPECT_EQ(wire[80], 0x11);
  EXPECT_EQ(wire[80 + 46], 0xEF);
  EXPECT_EQ(wire[80 + 47], 0xBE);

  ASSERT_EQ(wire.size(), DSM_Load_Balance_Policy_V2_WireSize(2));
  alignas(DSM_Load_Balance_Policy_V2) unsigned char storage[144];
  std::memcpy(storage, wire.data(), wire.size());
  const auto* policy = reinterpret_cast<const DSM_Load_Balance_Policy_V2*>(storage);

  EXPECT_EQ(policy->Version, 2U);
  EXPECT_EQ(policy->LoadBalancePolicy, static_cast<ULONG>(DSM_LB_WEIGHTED_PATHS));
  EXPECT_EQ(policy->DSMPathCount, 2U);
  EXPECT_EQ(policy->Reserved, 0U);

  const MPIO_DSM_Path_V2* paths = policy->DSM_Paths;
  const MPIO_DSM_Path_V2& p0 = paths[0];
  EXPECT_EQ(p0.DsmPathId, 0x1122334455667788ULL);
  EXPECT_EQ(p0.Reserved, 1U);
  EXPECT_EQ(p0.PathWeight, 10U);
  EXPECT_EQ(p0.PrimaryPath, 1U);
  EXPECT_EQ(p0.OptimizedPath, 1U);
  EXPECT_EQ(p0.PreferredPath, 0U);
  EXPECT_EQ(p0.FailedPath, 0U);
  EXPECT_EQ(p0.TargetPortGroup_State, static_cast<ULONG>(STATE_ACTIVE_OPTIMIZED));
  EXPECT_EQ(p0.ALUASupport, static_cast<ULONG>(ALUA_IMPLICIT_AND_EXPLICIT));
  EXPECT_EQ(p0.SymmetricLUA, 0);
  EXPECT_EQ(p0.TargetPortGroup_Preferred, 1);
  EXPECT_EQ(p0.TargetPortGroup_Identifier, 0x0102);
  EXPECT_EQ(p0.TargetPort_Identifier, 3U);
  EXPECT_EQ(p0.Reserved32, 0U);
  EXPECT_EQ(p0.Reserved64, 0U);

  const MPIO_DSM_Path_V2& p1 = paths[1];
  EXPECT_EQ(p1.DsmPathId, 0x8877665544332211ULL);
  EXPECT_EQ(p1.Reserved, 3U);
  EXPECT_EQ(p1.PathWeight, 0xFFFFFFFFU);
  EXPECT_EQ(p1.PrimaryPath, 1U);
  EXPECT_EQ(p1.OptimizedPath, 0U);
  EXPECT_EQ(p1.PreferredPath, 1U);
  EXPECT_EQ(p1.FailedPath, 1U);
  EXPECT_EQ(p1.TargetPortGroup_State, static_cast<ULONG>(STATE_ACTIVE_UNOPTIMIZED));
  EXPECT_EQ(p1.ALUASupport, static_cast<ULONG>(ALUA_IMPLICIT_ONLY));
  EXPECT_EQ(p1.SymmetricLUA, 1);
  EXPECT_EQ(p1.TargetPortGroup_Preferred, 0);
  EXPECT_EQ(p1.TargetPortGroup_Identifier, 0xBEEF);
  EXPECT_EQ(p1.TargetPort_Identifier, 0x00010002U);
  EXPECT_EQ(p1.Reserved32, 0xA5A5A5A5U);
  EXPECT_EQ(p1.Reserved64, 0xDEADBEEFCAFEF00DULL);
}

// One MPIO_DSM_Path_V2 typed out as hex, 16 bytes a line (spec §2 offsets):
// a standby path of TPG 5 behind relative target port 2, explicit-only ALUA.
TEST(MsdsmBuffer, HandWrittenHexPathV2ReadsBack) {
  const auto bytes = testing::Hex(
      // 0: DsmPathId 0x0000000077010203       8: Reserved 1 (SB)
      "03 02 01 77 00 00 00 00   01 00 00 00 00 00 00 00"
      // 16: PathWeight 7  20: Primary 0  24: Optimized 1  28: Preferred 0
      "07 00 00 00 00 00 00 00   01 00 00 00 00 00 00 00"
      // 32: Failed 0  36: TPG_State 2 (SB)  40: ALUASupport 2  44: Sym 0, Pref 1, 46: TPG 5
      "00 00 00 00 02 00 00 00   02 00 00 00 00 01 05 00"
      // 48: TargetPort_Identifier 2  52: Reserved32 0  56: Reserved64 0
      "02 00 00 00 00 00 00 00   00 00 00 00 00 00 00 00");
  ASSERT_EQ(bytes.size(), sizeof(MPIO_DSM_Path_V2));
  MPIO_DSM_Path_V2 path;
  std::memcpy(&path, bytes.data(), sizeof path);
  EXPECT_EQ(path.DsmPathId, 0x77010203ULL);
  EXPECT_EQ(path.Reserved, 1U);
  EXPECT_EQ(path.PathWeight, 7U);
  EXPECT_EQ(path.PrimaryPath, 0U);
  EXPECT_EQ(path.OptimizedPath, 1U);  // (0,1) = Standby [D MOF]
  EXPECT_EQ(path.PreferredPath, 0U);
  EXPECT_EQ(path.FailedPath, 0U);
  EXPECT_EQ(path.TargetPortGroup_State, static_cast<ULONG>(STATE_STANDBY));
  EXPECT_EQ(path.ALUASupport, static_cast<ULONG>(ALUA_EXPLICIT_ONLY));
  EXPECT_EQ(path.SymmetricLUA, 0);
  EXPECT_EQ(path.TargetPortGroup_Preferred, 1);
  EXPECT_EQ(path.TargetPortGroup_Identifier, 5);
  EXPECT_EQ(path.TargetPort_Identifier, 2U);
  EXPECT_EQ(path.Reserved32, 0U);
  EXPECT_EQ(path.Reserved64, 0U);
}

// A 24-character VID/PID entry as MSDSM writes it (spec §2: first WCHAR 62).
TEST(MsdsmBuffer, TargetDefaultPolicyInfoCountedString) {
  std::array<unsigned char, 88> wire{};
  PutLe(wire, 0, 1, 4);  // NumberDevices
  const char* vidpid = "VENDOR  PRODUCT_NAME____";
  ASSERT_EQ(std::strlen(vidpid), 24U);
  PutLe(wire, 8, 62, 2);  // the counted string's byte length
  for (std::size_t i = 0; i < 24; ++i) {
    PutLe(wire, 8 + 2 + 2 * i, static_cast<unsigned char>(vidpid[i]), 2);
  }
  PutLe(wire, 8 + 64, DSM_LB_ROUND_ROBIN_WITH_SUBSET, 4);
  PutLe(wire, 8 + 72, 0xFFFFFFFFU, 8);  // no preferred path
  ASSERT_EQ(wire.size(), MSDSM_TARGETS_DEFAULT_LOAD_BALANCE_POLICY_WireSize(1));

  alignas(MSDSM_TARGETS_DEFAULT_LOAD_BALANCE_POLICY) unsigned char storage[88];
  std::memcpy(storage, wire.data(), wire.size());
  const auto* targets = reinterpret_cast<const MSDSM_TARGETS_DEFAULT_LOAD_BALANCE_POLICY*>(storage);
  EXPECT_EQ(targets->NumberDevices, 1U);
  const MSDSM_TARGET_DEFAULT_POLICY_INFO& info = targets->TargetDefaultPolicyInfo[0];
  EXPECT_EQ(info.HardwareId[0], MSDSM_MAX_DEVICE_ID_SIZE);
  std::string read;
  for (std::size_t i = 1; i < 32 && info.HardwareId[i] != 0; ++i) {
    read.push_back(static_cast<char>(info.HardwareId[i]));
  }
  EXPECT_EQ(read, vidpid);
  EXPECT_EQ(read.size(), static_cast<std::size_t>(DSM_VENDPROD_ID_LEN));
  EXPECT_EQ(info.LoadBalancePolicy, static_cast<ULONG>(DSM_LB_ROUND_ROBIN_WITH_SUBSET));
  EXPECT_EQ(info.PreferredPath, 0xFFFFFFFFULL);
}

std::uint64_t GetLe(const unsigned char* p, std::size_t width) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < width; ++i) v |= std::uint64_t{p[i]} << (8 * i);
  return v;
}

// Field writes land at the spec's literal offsets, little-endian, for any values.
RC_GTEST_PROP(MsdsmBuffer, PathV2FieldsLandAtSpecOffsets,
              (std::uint64_t id, std::uint64_t reserved, std::uint32_t weight, std::uint32_t state,
               std::uint8_t sym, std::uint8_t pref, std::uint16_t tpg, std::uint32_t port,
               std::uint64_t reserved64)) {
  MPIO_DSM_Path_V2 path{};
  path.DsmPathId = id;
  path.Reserved = reserved;
  path.PathWeight = weight;
  path.PrimaryPath = weight ^ 1U;
  path.OptimizedPath = weight ^ 2U;
  path.PreferredPath = weight ^ 3U;
  path.FailedPath = weight ^ 4U;
  path.TargetPortGroup_State = state;
  path.ALUASupport = state ^ 5U;
  path.SymmetricLUA = sym;
  path.TargetPortGroup_Preferred = pref;
  path.TargetPortGroup_Identifier = tpg;
  path.TargetPort_Identifier = port;
  path.Reserved32 = port ^ 6U;
  path.Reserved64 = reserved64;
  unsigned char b[64];
  std::memcpy(b, &path, sizeof b);
  RC_ASSERT(GetLe(b + 0, 8) == id);
  RC_ASSERT(GetLe(b + 8, 8) == reserved);
  RC_ASSERT(GetLe(b + 16, 4) == weight);
  RC_ASSERT(GetLe(b + 20, 4) == (weight ^ 1U));
  RC_ASSERT(GetLe(b + 24, 4) == (weight ^ 2U));
  RC_ASSERT(GetLe(b + 28, 4) == (weight ^ 3U));
  RC_ASSERT(GetLe(b + 32, 4) == (weight ^ 4U));
  RC_ASSERT(GetLe(b + 36, 4) == state);
  RC_ASSERT(GetLe(b + 40, 4) == (state ^ 5U));
  RC_ASSERT(GetLe(b + 44, 1) == sym);
  RC_ASSERT(GetLe(b + 45, 1) == pref);
  RC_ASSERT(GetLe(b + 46, 2) == tpg);
  RC_ASSERT(GetLe(b + 48, 4) == port);
  RC_ASSERT(GetLe(b + 52, 4) == (port ^ 6U));
  RC_ASSERT(GetLe(b + 56, 8) == reserved64);
}

}  // namespace
}  // namespace openmpio

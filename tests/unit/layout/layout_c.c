/*
 * The MSDSM structure headers as a C compiler sees them.
 *
 * Compiling this file proves mpiodisk.h, mpiowmi.h and msdsmwmi.h are C11
 * (their _Static_asserts run here too). The functions below report sizeof,
 * alignment and offsetof of every field, the wire-size helpers, constants and
 * GUIDs as C computes them; layout_test.cpp checks them against the spec's
 * numbers and against what C++ computes. Only primitive types and GUID cross
 * the language boundary, so no shared declaration header is needed.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "openmpio/mpiodisk.h"
#include "openmpio/mpiowmi.h"
#include "openmpio/msdsmwmi.h"

/* Every exported name is declared first, so -Wmissing-prototypes stays quiet. */
size_t openmpio_c_field_count(void);
int openmpio_c_field(size_t index, const char** type, const char** field, size_t* offset,
                     size_t* size);
size_t openmpio_c_sizeof(const char* type);
size_t openmpio_c_alignof(const char* type);
size_t openmpio_c_wire_size(const char* type, ULONG count);
int openmpio_c_constant(const char* name, uint32_t* value);
int openmpio_c_guid(const char* class_name, GUID* out);

struct c_field {
  const char* type;
  const char* field;
  size_t offset;
  size_t size;
};

/* sizeof of a member without an object: the operand is never evaluated. */
/* clang-format off */
#define C_FIELD(T, f) {#T, #f, offsetof(T, f), sizeof(((T*)0)->f)}
/* clang-format on */

static const struct c_field kFields[] = {
    C_FIELD(MPIO_DSM_Path_V2, DsmPathId),
    C_FIELD(MPIO_DSM_Path_V2, Reserved),
    C_FIELD(MPIO_DSM_Path_V2, PathWeight),
    C_FIELD(MPIO_DSM_Path_V2, PrimaryPath),
    C_FIELD(MPIO_DSM_Path_V2, OptimizedPath),
    C_FIELD(MPIO_DSM_Path_V2, PreferredPath),
    C_FIELD(MPIO_DSM_Path_V2, FailedPath),
    C_FIELD(MPIO_DSM_Path_V2, TargetPortGroup_State),
    C_FIELD(MPIO_DSM_Path_V2, ALUASupport),
    C_FIELD(MPIO_DSM_Path_V2, SymmetricLUA),
    C_FIELD(MPIO_DSM_Path_V2, TargetPortGroup_Preferred),
    C_FIELD(MPIO_DSM_Path_V2, TargetPortGroup_Identifier),
    C_FIELD(MPIO_DSM_Path_V2, TargetPort_Identifier),
    C_FIELD(MPIO_DSM_Path_V2, Reserved32),
    C_FIELD(MPIO_DSM_Path_V2, Reserved64),
    C_FIELD(DSM_Load_Balance_Policy_V2, Version),
    C_FIELD(DSM_Load_Balance_Policy_V2, LoadBalancePolicy),
    C_FIELD(DSM_Load_Balance_Policy_V2, DSMPathCount),
    C_FIELD(DSM_Load_Balance_Policy_V2, Reserved),
    C_FIELD(DSM_Load_Balance_Policy_V2, DSM_Paths),
    C_FIELD(DSM_QueryLBPolicy_V2, LoadBalancePolicy),
    C_FIELD(DSM_QuerySupportedLBPolicies_V2, SupportedLBPoliciesCount),
    C_FIELD(DSM_QuerySupportedLBPolicies_V2, Reserved),
    C_FIELD(DSM_QuerySupportedLBPolicies_V2, Supported_LB_Policies),
    C_FIELD(MPIO_DSM_Path, DsmPathId),
    C_FIELD(MPIO_DSM_Path, Reserved),
    C_FIELD(MPIO_DSM_Path, PathWeight),
    C_FIELD(MPIO_DSM_Path, PrimaryPath),
    C_FIELD(DSM_Load_Balance_Policy, Version),
    C_FIELD(DSM_Load_Balance_Policy, LoadBalancePolicy),
    C_FIELD(DSM_Load_Balance_Policy, DSMPathCount),
    C_FIELD(DSM_Load_Balance_Policy, Reserved),
    C_FIELD(DSM_Load_Balance_Policy, DSM_Paths),
    C_FIELD(DSM_QueryLBPolicy, LoadBalancePolicy),
    C_FIELD(DSM_QuerySupportedLBPolicies, SupportedLBPoliciesCount),
    C_FIELD(DSM_QuerySupportedLBPolicies, Reserved),
    C_FIELD(DSM_QuerySupportedLBPolicies, Supported_LB_Policies),
    C_FIELD(DsmSetLoadBalancePolicy_IN, LoadBalancePolicy),
    C_FIELD(DsmSetLoadBalancePolicy_OUT, Status),
    C_FIELD(DsmSetLoadBalancePolicyALUA_IN, LoadBalancePolicy),
    C_FIELD(DsmSetLoadBalancePolicyALUA_OUT, Status),
    C_FIELD(DSM_QueryUniqueId, DsmUniqueId),
    C_FIELD(MSDSM_DEFAULT_LOAD_BALANCE_POLICY, LoadBalancePolicy),
    C_FIELD(MSDSM_DEFAULT_LOAD_BALANCE_POLICY, Reserved),
    C_FIELD(MSDSM_DEFAULT_LOAD_BALANCE_POLICY, PreferredPath),
    C_FIELD(MSDSM_TARGET_DEFAULT_POLICY_INFO, HardwareId),
    C_FIELD(MSDSM_TARGET_DEFAULT_POLICY_INFO, LoadBalancePolicy),
    C_FIELD(MSDSM_TARGET_DEFAULT_POLICY_INFO, Reserved),
    C_FIELD(MSDSM_TARGET_DEFAULT_POLICY_INFO, PreferredPath),
    C_FIELD(MSDSM_TARGETS_DEFAULT_LOAD_BALANCE_POLICY, NumberDevices),
    C_FIELD(MSDSM_TARGETS_DEFAULT_LOAD_BALANCE_POLICY, Reserved),
    C_FIELD(MSDSM_TARGETS_DEFAULT_LOAD_BALANCE_POLICY, TargetDefaultPolicyInfo),
    C_FIELD(MSDSM_SUPPORTED_DEVICES_LIST, NumberDevices),
    C_FIELD(MSDSM_SUPPORTED_DEVICES_LIST, Reserved),
    C_FIELD(MSDSM_SUPPORTED_DEVICES_LIST, DeviceId),
    C_FIELD(MSDSM_DEVICEPATH_PERF, PathId),
    C_FIELD(MSDSM_DEVICEPATH_PERF, NumberReads),
    C_FIELD(MSDSM_DEVICEPATH_PERF, NumberWrites),
    C_FIELD(MSDSM_DEVICEPATH_PERF, BytesRead),
    C_FIELD(MSDSM_DEVICEPATH_PERF, BytesWritten),
    C_FIELD(MSDSM_DEVICE_PERF, NumberPaths),
    C_FIELD(MSDSM_DEVICE_PERF, PerfInfo),
    C_FIELD(MPIO_TIMERS_COUNTERS, PathVerifyEnabled),
    C_FIELD(MPIO_TIMERS_COUNTERS, PathVerificationPeriod),
    C_FIELD(MPIO_TIMERS_COUNTERS, PDORemovePeriod),
    C_FIELD(MPIO_TIMERS_COUNTERS, RetryCount),
    C_FIELD(MPIO_TIMERS_COUNTERS, RetryInterval),
    C_FIELD(DSM_COUNTERS, PathVerifyEnabled),
    C_FIELD(DSM_COUNTERS, PathVerificationPeriod),
    C_FIELD(DSM_COUNTERS, PDORemovePeriod),
    C_FIELD(DSM_COUNTERS, RetryCount),
    C_FIELD(DSM_COUNTERS, RetryInterval),
    C_FIELD(DSM_COUNTERS, Reserved32),
    C_FIELD(DSM_COUNTERS, Reserved64),
};

struct c_type {
  const char* type;
  size_t size;
  size_t align;
};

/* clang-format off */
#define C_TYPE(T) {#T, sizeof(T), _Alignof(T)}
/* clang-format on */

static const struct c_type kTypes[] = {
    C_TYPE(MPIO_DSM_Path_V2),
    C_TYPE(DSM_Load_Balance_Policy_V2),
    C_TYPE(DSM_QueryLBPolicy_V2),
    C_TYPE(DSM_QuerySupportedLBPolicies_V2),
    C_TYPE(MPIO_DSM_Path),
    C_TYPE(DSM_Load_Balance_Policy),
    C_TYPE(DSM_QueryLBPolicy),
    C_TYPE(DSM_QuerySupportedLBPolicies),
    C_TYPE(DsmSetLoadBalancePolicy_IN),
    C_TYPE(DsmSetLoadBalancePolicy_OUT),
    C_TYPE(DsmSetLoadBalancePolicyALUA_IN),
    C_TYPE(DsmSetLoadBalancePolicyALUA_OUT),
    C_TYPE(DSM_QueryUniqueId),
    C_TYPE(MSDSM_DEFAULT_LOAD_BALANCE_POLICY),
    C_TYPE(MSDSM_TARGET_DEFAULT_POLICY_INFO),
    C_TYPE(MSDSM_TARGETS_DEFAULT_LOAD_BALANCE_POLICY),
    C_TYPE(MSDSM_SUPPORTED_DEVICES_LIST),
    C_TYPE(MSDSM_DEVICEPATH_PERF),
    C_TYPE(MSDSM_DEVICE_PERF),
    C_TYPE(MPIO_TIMERS_COUNTERS),
    C_TYPE(DSM_COUNTERS),
};

struct c_constant {
  const char* name;
  uint32_t value;
};

/* clang-format off */
#define C_CONSTANT(name) {#name, name}
/* clang-format on */

static const struct c_constant kConstants[] = {
    C_CONSTANT(DSM_LB_FAILOVER),
    C_CONSTANT(DSM_LB_ROUND_ROBIN),
    C_CONSTANT(DSM_LB_ROUND_ROBIN_WITH_SUBSET),
    C_CONSTANT(DSM_LB_DYN_LEAST_QUEUE_DEPTH),
    C_CONSTANT(DSM_LB_WEIGHTED_PATHS),
    C_CONSTANT(DSM_LB_LEAST_BLOCKS),
    C_CONSTANT(DSM_LB_VENDOR_SPECIFIC),
    C_CONSTANT(STATE_ACTIVE_OPTIMIZED),
    C_CONSTANT(STATE_ACTIVE_UNOPTIMIZED),
    C_CONSTANT(STATE_STANDBY),
    C_CONSTANT(STATE_UNAVAILABLE),
    C_CONSTANT(STATE_NOT_USED),
    C_CONSTANT(ALUA_NOT_SUPPORTED),
    C_CONSTANT(ALUA_IMPLICIT_ONLY),
    C_CONSTANT(ALUA_EXPLICIT_ONLY),
    C_CONSTANT(ALUA_IMPLICIT_AND_EXPLICIT),
    C_CONSTANT(DsmSetLoadBalancePolicy),
    C_CONSTANT(DsmSetLoadBalancePolicyALUA),
    C_CONSTANT(MSDsmClearCounters),
    C_CONSTANT(MSDSM_MAX_DEVICE_ID_LENGTH),
    C_CONSTANT(MSDSM_MAX_DEVICE_ID_SIZE),
    C_CONSTANT(MSDSM_DEVICE_ID_ENTRY_SIZE),
    C_CONSTANT(DSM_VENDPROD_ID_LEN),
    C_CONSTANT(STATUS_SUCCESS),
    C_CONSTANT(STATUS_INVALID_PARAMETER),
    C_CONSTANT(STATUS_NO_SUCH_DEVICE),
    C_CONSTANT(STATUS_INVALID_DEVICE_REQUEST),
    C_CONSTANT(STATUS_BUFFER_TOO_SMALL),
    C_CONSTANT(STATUS_OBJECT_NAME_NOT_FOUND),
    C_CONSTANT(STATUS_INSUFFICIENT_RESOURCES),
    C_CONSTANT(STATUS_NOT_SUPPORTED),
    C_CONSTANT(STATUS_IO_DEVICE_ERROR),
    C_CONSTANT(STATUS_WMI_GUID_NOT_FOUND),
    C_CONSTANT(STATUS_WMI_INSTANCE_NOT_FOUND),
    C_CONSTANT(STATUS_WMI_ITEMID_NOT_FOUND),
};

struct c_guid {
  const char* class_name;
  GUID guid;
};

/* clang-format off */
#define C_GUID(cls) {#cls, cls##Guid}
/* clang-format on */

static const struct c_guid kGuids[] = {
    C_GUID(MPIO_DSM_Path_V2),
    C_GUID(DSM_Load_Balance_Policy_V2),
    C_GUID(DSM_QueryLBPolicy_V2),
    C_GUID(DSM_QuerySupportedLBPolicies_V2),
    C_GUID(MPIO_DSM_Path),
    C_GUID(DSM_Load_Balance_Policy),
    C_GUID(DSM_QueryLBPolicy),
    C_GUID(DSM_QuerySupportedLBPolicies),
    C_GUID(DSM_LB_Operations),
    C_GUID(DSM_QueryUniqueId),
    C_GUID(MSDSM_DEFAULT_LOAD_BALANCE_POLICY),
    C_GUID(MSDSM_TARGET_DEFAULT_POLICY_INFO),
    C_GUID(MSDSM_TARGETS_DEFAULT_LOAD_BALANCE_POLICY),
    C_GUID(MSDSM_SUPPORTED_DEVICES_LIST),
    C_GUID(MSDSM_DEVICEPATH_PERF),
    C_GUID(MSDSM_DEVICE_PERF),
    C_GUID(MSDSM_WMI_METHODS),
    C_GUID(MPIO_TIMERS_COUNTERS),
    C_GUID(DSM_COUNTERS),
};

#define COUNT_OF(a) (sizeof(a) / sizeof((a)[0]))

size_t openmpio_c_field_count(void) {
  return COUNT_OF(kFields);
}

int openmpio_c_field(size_t index, const char** type, const char** field, size_t* offset,
                     size_t* size) {
  if (index >= COUNT_OF(kFields)) return 0;
  *type = kFields[index].type;
  *field = kFields[index].field;
  *offset = kFields[index].offset;
  *size = kFields[index].size;
  return 1;
}

static const struct c_type* find_type(const char* type) {
  size_t i;
  for (i = 0; i < COUNT_OF(kTypes); ++i) {
    if (strcmp(kTypes[i].type, type) == 0) return &kTypes[i];
  }
  return NULL;
}

size_t openmpio_c_sizeof(const char* type) {
  const struct c_type* t = find_type(type);
  return t != NULL ? t->size : 0;
}

size_t openmpio_c_alignof(const char* type) {
  const struct c_type* t = find_type(type);
  return t != NULL ? t->align : 0;
}

/* 0 for a type without a wire-size helper. */
size_t openmpio_c_wire_size(const char* type, ULONG count) {
  if (strcmp(type, "DSM_Load_Balance_Policy_V2") == 0) {
    return DSM_Load_Balance_Policy_V2_WireSize(count);
  }
  if (strcmp(type, "DSM_Load_Balance_Policy") == 0) {
    return DSM_Load_Balance_Policy_WireSize(count);
  }
  if (strcmp(type, "DSM_QuerySupportedLBPolicies_V2") == 0) {
    return DSM_QuerySupportedLBPolicies_V2_WireSize(count);
  }
  if (strcmp(type, "MSDSM_TARGETS_DEFAULT_LOAD_BALANCE_POLICY") == 0) {
    return MSDSM_TARGETS_DEFAULT_LOAD_BALANCE_POLICY_WireSize(count);
  }
  if (strcmp(type, "MSDSM_SUPPORTED_DEVICES_LIST") == 0) {
    return MSDSM_SUPPORTED_DEVICES_LIST_WireSize(count);
  }
  if (strcmp(type, "MSDSM_DEVICE_PERF") == 0) {
    return MSDSM_DEVICE_PERF_WireSize(count);
  }
  return 0;
}

int openmpio_c_constant(const char* name, uint32_t* value) {
  size_t i;
  for (i = 0; i < COUNT_OF(kConstants); ++i) {
    if (strcmp(kConstants[i].name, name) == 0) {
      *value = kConstants[i].value;
      return 1;
    }
  }
  return 0;
}

int openmpio_c_guid(const char* class_name, GUID* out) {
  size_t i;
  for (i = 0; i < COUNT_OF(kGuids); ++i) {
    if (strcmp(kGuids[i].class_name, class_name) == 0) {
      *out = kGuids[i].guid;
      return 1;
    }
  }
  return 0;
}

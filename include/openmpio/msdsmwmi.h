/*
 * msdsmwmi.h — MSDSM's own WMI classes (spec/msdsm.md §1–§2, tags [S]): the
 * MSDSM-wide and per-VID/PID default policies, the supported-devices list and
 * the per-path performance counters, as the WMI compiler generates them from
 * the sample's msdsmdsm.mof and msdsm.mof (Windows-driver-samples
 * storage/msdsm); Windows ships them in the generated msdsmwmi.h.
 *
 * Same conventions as mpiodisk.h: Windows' names, field order and types, the
 * x64 layout asserted against the spec's table, little-endian on the wire,
 * plain C11 or C++; the method id is an enumerator, not a macro.
 *
 * WMI strings with MaxLen(31) are counted strings of 32 WCHARs (64 bytes):
 * the first WCHAR is the byte length (MSDSM writes 62), then at most 30
 * characters and a NUL [S].
 */
#ifndef OPENMPIO_MSDSMWMI_H_
#define OPENMPIO_MSDSMWMI_H_

#include "openmpio/wintypes.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Class GUIDs (msdsmdsm.mof, msdsm.mof) [S] ---- */
/* clang-format off */
#define MSDSM_DEFAULT_LOAD_BALANCE_POLICYGuid \
  { 0xc81b5681, 0xf3ca, 0x4c98, { 0x93, 0x25, 0x70, 0x7d, 0x0d, 0x62, 0xff, 0xc4 } }
#define MSDSM_TARGET_DEFAULT_POLICY_INFOGuid \
  { 0xddb00a72, 0x0fab, 0x418b, { 0xa8, 0x9e, 0x97, 0x37, 0x0a, 0xe2, 0x93, 0xa4 } }
#define MSDSM_TARGETS_DEFAULT_LOAD_BALANCE_POLICYGuid \
  { 0x5ccbcd91, 0x1b56, 0x4327, { 0xa2, 0xf3, 0x09, 0x60, 0x33, 0x5f, 0x88, 0x46 } }
#define MSDSM_SUPPORTED_DEVICES_LISTGuid \
  { 0xc362d67c, 0x371e, 0x44d8, { 0x8b, 0xba, 0x04, 0x46, 0x19, 0xe4, 0xf2, 0x45 } }
#define MSDSM_DEVICEPATH_PERFGuid \
  { 0xa34d03ec, 0x6b0b, 0x46a1, { 0x91, 0x78, 0x82, 0x52, 0x5f, 0x41, 0x13, 0x3f } }
#define MSDSM_DEVICE_PERFGuid \
  { 0x875b8871, 0x4889, 0x4114, { 0x93, 0xf6, 0xcd, 0x06, 0x4c, 0x00, 0x1c, 0xea } }
#define MSDSM_WMI_METHODSGuid \
  { 0x04517f7e, 0x92bb, 0x4ebe, { 0xae, 0xd0, 0x54, 0x33, 0x9f, 0xa5, 0xf5, 0x44 } }
/* clang-format on */

/* ---- Method ids of MSDSM_WMI_METHODS [S] ---- */
enum MSDSM_WMI_METHODS_MethodId {
  MSDsmClearCounters = 1 /* no input, no output: zero the MSDSM_DEVICE_PERF counters */
};

/* ---- Counted-string sizes (the sample's wmi.c / msdsm.h names) [S] ---- */
#define MSDSM_MAX_DEVICE_ID_LENGTH 31 /* MOF MaxLen(31), in WCHARs */
#define MSDSM_MAX_DEVICE_ID_SIZE 62   /* the length prefix MSDSM writes, in bytes */
#define DSM_VENDPROD_ID_LEN 24        /* VID (8) + PID (16) characters, exact on set */
/* openmpio's name: the wire stride of one counted string (62 + the NUL's 2). */
#define MSDSM_DEVICE_ID_ENTRY_SIZE 64
OPENMPIO_LAYOUT_ASSERT(sizeof(WCHAR[MSDSM_MAX_DEVICE_ID_LENGTH + 1]) == MSDSM_DEVICE_ID_ENTRY_SIZE,
                       "counted string stride");

/* ---- MSDSM_DEFAULT_LOAD_BALANCE_POLICY: 16 bytes, spec §2 ---- */
typedef struct _MSDSM_DEFAULT_LOAD_BALANCE_POLICY {
  ULONG LoadBalancePolicy; /* 0: DSM_LB_*, 0 deletes */
  ULONG Reserved;          /* 4 */
  ULONGLONG PreferredPath; /* 8 */
} MSDSM_DEFAULT_LOAD_BALANCE_POLICY, *PMSDSM_DEFAULT_LOAD_BALANCE_POLICY;

#define MSDSM_DEFAULT_LOAD_BALANCE_POLICY_SIZE \
  (offsetof(MSDSM_DEFAULT_LOAD_BALANCE_POLICY, PreferredPath) + sizeof(ULONGLONG))

OPENMPIO_LAYOUT_ASSERT(sizeof(MSDSM_DEFAULT_LOAD_BALANCE_POLICY) == 16, "MSDSM_DEFAULT...");
OPENMPIO_LAYOUT_ASSERT(offsetof(MSDSM_DEFAULT_LOAD_BALANCE_POLICY, LoadBalancePolicy) == 0, "LBP");
OPENMPIO_LAYOUT_ASSERT(offsetof(MSDSM_DEFAULT_LOAD_BALANCE_POLICY, Reserved) == 4, "Reserved");
OPENMPIO_LAYOUT_ASSERT(offsetof(MSDSM_DEFAULT_LOAD_BALANCE_POLICY, PreferredPath) == 8, "Pref");

/* ---- MSDSM_TARGET_DEFAULT_POLICY_INFO (embedded): 80 bytes ---- */
typedef struct _MSDSM_TARGET_DEFAULT_POLICY_INFO {
  WCHAR HardwareId[31 + 1]; /*  0: counted string, VID 8 + PID 16 characters */
  ULONG LoadBalancePolicy;  /* 64: DSM_LB_*, 0 deletes the entry */
  ULONG Reserved;           /* 68 */
  ULONGLONG PreferredPath;  /* 72 */
} MSDSM_TARGET_DEFAULT_POLICY_INFO, *PMSDSM_TARGET_DEFAULT_POLICY_INFO;

#define MSDSM_TARGET_DEFAULT_POLICY_INFO_SIZE \
  (offsetof(MSDSM_TARGET_DEFAULT_POLICY_INFO, PreferredPath) + sizeof(ULONGLONG))

OPENMPIO_LAYOUT_ASSERT(sizeof(MSDSM_TARGET_DEFAULT_POLICY_INFO) == 80, "TARGET_DEFAULT_POLICY");
OPENMPIO_LAYOUT_ASSERT(offsetof(MSDSM_TARGET_DEFAULT_POLICY_INFO, HardwareId) == 0, "HardwareId");
OPENMPIO_LAYOUT_ASSERT(offsetof(MSDSM_TARGET_DEFAULT_POLICY_INFO, LoadBalancePolicy) == 64, "LBP");
OPENMPIO_LAYOUT_ASSERT(offsetof(MSDSM_TARGET_DEFAULT_POLICY_INFO, Reserved) == 68, "Reserved");
OPENMPIO_LAYOUT_ASSERT(offsetof(MSDSM_TARGET_DEFAULT_POLICY_INFO, PreferredPath) == 72, "Pref");

/* ---- MSDSM_TARGETS_DEFAULT_LOAD_BALANCE_POLICY: 8 + 80n ---- */
typedef struct _MSDSM_TARGETS_DEFAULT_LOAD_BALANCE_POLICY {
  ULONG NumberDevices;                                         /* 0 */
  ULONG Reserved;                                              /* 4 */
  MSDSM_TARGET_DEFAULT_POLICY_INFO TargetDefaultPolicyInfo[1]; /* 8 */
} MSDSM_TARGETS_DEFAULT_LOAD_BALANCE_POLICY, *PMSDSM_TARGETS_DEFAULT_LOAD_BALANCE_POLICY;

OPENMPIO_LAYOUT_ASSERT(sizeof(MSDSM_TARGETS_DEFAULT_LOAD_BALANCE_POLICY) == 88, "TARGETS...");
OPENMPIO_LAYOUT_ASSERT(offsetof(MSDSM_TARGETS_DEFAULT_LOAD_BALANCE_POLICY, NumberDevices) == 0,
                       "NumberDevices");
OPENMPIO_LAYOUT_ASSERT(offsetof(MSDSM_TARGETS_DEFAULT_LOAD_BALANCE_POLICY, Reserved) == 4,
                       "Reserved");
OPENMPIO_LAYOUT_ASSERT(offsetof(MSDSM_TARGETS_DEFAULT_LOAD_BALANCE_POLICY,
                                TargetDefaultPolicyInfo) == 8,
                       "TargetDefaultPolicyInfo");

/* ---- MSDSM_SUPPORTED_DEVICES_LIST: 8 + 64n ----
 * DeviceId is NumberDevices counted strings of MSDSM_DEVICE_ID_ENTRY_SIZE
 * bytes each; the sample walks it as a WCHAR pointer, 32 WCHARs per entry
 * [S]. Declared as a WCHAR [1] array (our reading of the generated header,
 * [I]); its sizeof (12) means nothing, use the wire-size helper. */
typedef struct _MSDSM_SUPPORTED_DEVICES_LIST {
  ULONG NumberDevices; /* 0 */
  ULONG Reserved;      /* 4 */
  WCHAR DeviceId[1];   /* 8 */
} MSDSM_SUPPORTED_DEVICES_LIST, *PMSDSM_SUPPORTED_DEVICES_LIST;

OPENMPIO_LAYOUT_ASSERT(offsetof(MSDSM_SUPPORTED_DEVICES_LIST, NumberDevices) == 0, "NumberDevices");
OPENMPIO_LAYOUT_ASSERT(offsetof(MSDSM_SUPPORTED_DEVICES_LIST, Reserved) == 4, "Reserved");
OPENMPIO_LAYOUT_ASSERT(offsetof(MSDSM_SUPPORTED_DEVICES_LIST, DeviceId) == 8, "DeviceId");

/* ---- MSDSM_DEVICEPATH_PERF (embedded): 32 bytes ---- */
typedef struct _MSDSM_DEVICEPATH_PERF {
  ULONGLONG PathId;       /*  0 */
  ULONG NumberReads;      /*  8 */
  ULONG NumberWrites;     /* 12 */
  ULONGLONG BytesRead;    /* 16 */
  ULONGLONG BytesWritten; /* 24 */
} MSDSM_DEVICEPATH_PERF, *PMSDSM_DEVICEPATH_PERF;

#define MSDSM_DEVICEPATH_PERF_SIZE \
  (offsetof(MSDSM_DEVICEPATH_PERF, BytesWritten) + sizeof(ULONGLONG))

OPENMPIO_LAYOUT_ASSERT(sizeof(MSDSM_DEVICEPATH_PERF) == 32, "MSDSM_DEVICEPATH_PERF");
OPENMPIO_LAYOUT_ASSERT(offsetof(MSDSM_DEVICEPATH_PERF, PathId) == 0, "PathId");
OPENMPIO_LAYOUT_ASSERT(offsetof(MSDSM_DEVICEPATH_PERF, NumberReads) == 8, "NumberReads");
OPENMPIO_LAYOUT_ASSERT(offsetof(MSDSM_DEVICEPATH_PERF, NumberWrites) == 12, "NumberWrites");
OPENMPIO_LAYOUT_ASSERT(offsetof(MSDSM_DEVICEPATH_PERF, BytesRead) == 16, "BytesRead");
OPENMPIO_LAYOUT_ASSERT(offsetof(MSDSM_DEVICEPATH_PERF, BytesWritten) == 24, "BytesWritten");

/* ---- MSDSM_DEVICE_PERF: 8 + 32n ----
 * No field at 4: the MOF has none, the 4 bytes are alignment padding before
 * the 8-aligned array (zero on the wire). */
typedef struct _MSDSM_DEVICE_PERF {
  ULONG NumberPaths;                 /* 0 */
  MSDSM_DEVICEPATH_PERF PerfInfo[1]; /* 8 */
} MSDSM_DEVICE_PERF, *PMSDSM_DEVICE_PERF;

OPENMPIO_LAYOUT_ASSERT(sizeof(MSDSM_DEVICE_PERF) == 40, "MSDSM_DEVICE_PERF");
OPENMPIO_LAYOUT_ASSERT(offsetof(MSDSM_DEVICE_PERF, NumberPaths) == 0, "NumberPaths");
OPENMPIO_LAYOUT_ASSERT(offsetof(MSDSM_DEVICE_PERF, PerfInfo) == 8, "PerfInfo");

/* ---- Wire sizes: header + n elements, following the declared layout ---- */

/* 8 + 80n */
static inline size_t MSDSM_TARGETS_DEFAULT_LOAD_BALANCE_POLICY_WireSize(ULONG device_count) {
  size_t n = device_count;
  return offsetof(MSDSM_TARGETS_DEFAULT_LOAD_BALANCE_POLICY, TargetDefaultPolicyInfo) +
         n * sizeof(MSDSM_TARGET_DEFAULT_POLICY_INFO);
}

/* 8 + 64n */
static inline size_t MSDSM_SUPPORTED_DEVICES_LIST_WireSize(ULONG device_count) {
  size_t n = device_count;
  return offsetof(MSDSM_SUPPORTED_DEVICES_LIST, DeviceId) + n * MSDSM_DEVICE_ID_ENTRY_SIZE;
}

/* 8 + 32n */
static inline size_t MSDSM_DEVICE_PERF_WireSize(ULONG path_count) {
  size_t n = path_count;
  return offsetof(MSDSM_DEVICE_PERF, PerfInfo) + n * sizeof(MSDSM_DEVICEPATH_PERF);
}

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* OPENMPIO_MSDSMWMI_H_ */

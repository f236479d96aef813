/*
 * mpiowmi.h — the MPIO timer classes of Windows' WDK mpiowmi.h that openmpio
 * serves (spec/msdsm.md §1–§2 and §5, tags [D]): MPIO_TIMERS_COUNTERS (the
 * global timers on the MPIO control object) and DSM_COUNTERS (per DSM).
 *
 * Same conventions as mpiodisk.h: Windows' names, field order and types, the
 * x64 layout asserted against the spec's table, little-endian on the wire,
 * plain C11 or C++. Units are seconds unless noted (spec §5 for defaults).
 */
#ifndef OPENMPIO_MPIOWMI_H_
#define OPENMPIO_MPIOWMI_H_

#include "openmpio/wintypes.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Class GUIDs (WDK mpiowmi.h) ---- */
/* clang-format off */
#define MPIO_TIMERS_COUNTERSGuid \
  { 0xce49b95b, 0x690f, 0x4cd0, { 0x8a, 0x95, 0xec, 0xe3, 0xfa, 0xd8, 0xef, 0xc2 } }
#define DSM_COUNTERSGuid \
  { 0x39026ae4, 0x9e81, 0x468b, { 0x81, 0x9c, 0x25, 0x34, 0x48, 0x12, 0x7f, 0xd5 } }
/* clang-format on */

/* ---- MPIO_TIMERS_COUNTERS [D]: 20 bytes, spec §2 ---- */
typedef struct _MPIO_TIMERS_COUNTERS {
  ULONG PathVerifyEnabled;      /*  0: 0/1 */
  ULONG PathVerificationPeriod; /*  4 */
  ULONG PDORemovePeriod;        /*  8 */
  ULONG RetryCount;             /* 12 */
  ULONG RetryInterval;          /* 16 */
} MPIO_TIMERS_COUNTERS, *PMPIO_TIMERS_COUNTERS;

#define MPIO_TIMERS_COUNTERS_SIZE (offsetof(MPIO_TIMERS_COUNTERS, RetryInterval) + sizeof(ULONG))

OPENMPIO_LAYOUT_ASSERT(sizeof(MPIO_TIMERS_COUNTERS) == 20, "MPIO_TIMERS_COUNTERS");
OPENMPIO_LAYOUT_ASSERT(offsetof(MPIO_TIMERS_COUNTERS, PathVerifyEnabled) == 0, "PathVerifyEnabled");
OPENMPIO_LAYOUT_ASSERT(offsetof(MPIO_TIMERS_COUNTERS, PathVerificationPeriod) == 4, "PVPeriod");
OPENMPIO_LAYOUT_ASSERT(offsetof(MPIO_TIMERS_COUNTERS, PDORemovePeriod) == 8, "PDORemovePeriod");
OPENMPIO_LAYOUT_ASSERT(offsetof(MPIO_TIMERS_COUNTERS, RetryCount) == 12, "RetryCount");
OPENMPIO_LAYOUT_ASSERT(offsetof(MPIO_TIMERS_COUNTERS, RetryInterval) == 16, "RetryInterval");

/* ---- DSM_COUNTERS [D]: the same five timers per DSM, 32 bytes ---- */
typedef struct _DSM_COUNTERS {
  ULONG PathVerifyEnabled;      /*  0 */
  ULONG PathVerificationPeriod; /*  4 */
  ULONG PDORemovePeriod;        /*  8 */
  ULONG RetryCount;             /* 12 */
  ULONG RetryInterval;          /* 16 */
  ULONG Reserved32;             /* 20: zero */
  ULONGLONG Reserved64;         /* 24: zero */
} DSM_COUNTERS, *PDSM_COUNTERS;

#define DSM_COUNTERS_SIZE (offsetof(DSM_COUNTERS, Reserved64) + sizeof(ULONGLONG))

OPENMPIO_LAYOUT_ASSERT(sizeof(DSM_COUNTERS) == 32, "DSM_COUNTERS");
OPENMPIO_LAYOUT_ASSERT(offsetof(DSM_COUNTERS, PathVerifyEnabled) == 0, "PathVerifyEnabled");
OPENMPIO_LAYOUT_ASSERT(offsetof(DSM_COUNTERS, PathVerificationPeriod) == 4, "PVPeriod");
OPENMPIO_LAYOUT_ASSERT(offsetof(DSM_COUNTERS, PDORemovePeriod) == 8, "PDORemovePeriod");
OPENMPIO_LAYOUT_ASSERT(offsetof(DSM_COUNTERS, RetryCount) == 12, "RetryCount");
OPENMPIO_LAYOUT_ASSERT(offsetof(DSM_COUNTERS, RetryInterval) == 16, "RetryInterval");
OPENMPIO_LAYOUT_ASSERT(offsetof(DSM_COUNTERS, Reserved32) == 20, "Reserved32");
OPENMPIO_LAYOUT_ASSERT(offsetof(DSM_COUNTERS, Reserved64) == 24, "Reserved64");

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* OPENMPIO_MPIOWMI_H_ */

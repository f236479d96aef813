/*
 * mpiodisk.h — the MPIO/DSM WMI classes of Windows' WDK mpiodisk.h, byte for
 * byte (spec/msdsm.md §1–§2, tags [H]).
 *
 * Names, field order and types are Windows'; so are the GUIDs, the method ids
 * and the DSM_LB_* / STATE_* / ALUA_* constants. The structures are the x64
 * layout (natural alignment, /Zp8, no #pragma pack in [H]); every size and
 * field offset is asserted below against the spec's table, so a compiler or
 * ABI that lays them out differently stops the build instead of decoding the
 * wrong bytes. All multi-byte fields are little-endian on the wire.
 *
 * Arrays declared [1] stay [1] as in Windows: sizeof counts one element, and
 * the *_WireSize() helpers give header + n elements. Code that decodes bytes
 * from a client goes through spans (dsm/), not through these overlays.
 *
 * Plain C11 or C++: no casts, no C++-only syntax, static inline helpers only.
 * Differences from the WDK text, on purpose:
 *  - the method ids are enumerators, not macros, so that a C++ function named
 *    DsmSetLoadBalancePolicy elsewhere is not silently rewritten to "1";
 *  - the class GUIDs are initializer macros (<Class>Guid, as Windows spells
 *    them) for our own GUID struct; DEFINE_GUID objects are not emitted;
 *  - the STATUS_* values are unsigned (ULONG, like the Status fields that
 *    carry them) and defined only when nobody defined STATUS_SUCCESS first.
 */
#ifndef OPENMPIO_MPIODISK_H_
#define OPENMPIO_MPIODISK_H_

#include "openmpio/wintypes.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Class GUIDs [H] (initializers for GUID) ---- */
/* clang-format off */
#define MPIO_DSM_Path_V2Guid \
  { 0xac4e13b0, 0x7cb6, 0x4599, { 0xb3, 0x97, 0xfb, 0x36, 0xfa, 0xec, 0x5c, 0x96 } }
#define DSM_Load_Balance_Policy_V2Guid \
  { 0x6f4474ce, 0xd20e, 0x426c, { 0x93, 0x71, 0x9b, 0x87, 0xc2, 0xe2, 0xcd, 0x5a } }
#define DSM_QueryLBPolicy_V2Guid \
  { 0xd14fed0e, 0xbdfb, 0x4615, { 0x85, 0x78, 0x35, 0x0c, 0x4c, 0x2b, 0x06, 0xd7 } }
#define DSM_QuerySupportedLBPolicies_V2Guid \
  { 0xfc777b74, 0x7bcc, 0x47ae, { 0xaa, 0x63, 0x59, 0x65, 0x6b, 0xa5, 0x93, 0xfe } }
#define MPIO_DSM_PathGuid \
  { 0x80ebd5b4, 0x3baf, 0x41f1, { 0x9c, 0x41, 0xbd, 0x36, 0xc5, 0x28, 0x2b, 0x67 } }
#define DSM_Load_Balance_PolicyGuid \
  { 0x3078b89b, 0xa34f, 0x4ff6, { 0x81, 0x0a, 0xc5, 0x6a, 0xd3, 0xba, 0x94, 0x7d } }
#define DSM_QueryLBPolicyGuid \
  { 0x20a4663b, 0xbf54, 0x4738, { 0xb4, 0x03, 0x0c, 0xfc, 0x71, 0xec, 0xfc, 0x90 } }
#define DSM_QuerySupportedLBPoliciesGuid \
  { 0xffcf3f4e, 0xbab6, 0x455c, { 0xba, 0x99, 0xd6, 0x0c, 0xfb, 0xc5, 0x88, 0x7d } }
#define DSM_LB_OperationsGuid \
  { 0xc944053c, 0xc90f, 0x4012, { 0xb7, 0x75, 0x1f, 0x1a, 0x26, 0x1d, 0x4b, 0xe4 } }
#define DSM_QueryUniqueIdGuid \
  { 0x7b47cbe2, 0x63d0, 0x4e6b, { 0xb9, 0x87, 0x4b, 0xfc, 0xbd, 0x6c, 0x36, 0x8e } }
/* clang-format on */

/* ---- Method ids of DSM_LB_Operations [H] ---- */
enum DSM_LB_Operations_MethodId {
  DsmSetLoadBalancePolicy = 1,    /* in DSM_Load_Balance_Policy, out ULONG Status */
  DsmSetLoadBalancePolicyALUA = 2 /* in DSM_Load_Balance_Policy_V2, out ULONG Status */
};

/* ---- DSM_Load_Balance_Policy*.LoadBalancePolicy [H] (0 = clear, spec §4 step 3) ---- */
#define DSM_LB_FAILOVER 1
#define DSM_LB_ROUND_ROBIN 2
#define DSM_LB_ROUND_ROBIN_WITH_SUBSET 3
#define DSM_LB_DYN_LEAST_QUEUE_DEPTH 4
#define DSM_LB_WEIGHTED_PATHS 5
#define DSM_LB_LEAST_BLOCKS 6
#define DSM_LB_VENDOR_SPECIFIC 7

/* ---- MPIO_DSM_Path_V2.TargetPortGroup_State [H] (16: not ALUA) ---- */
#define STATE_ACTIVE_OPTIMIZED 0
#define STATE_ACTIVE_UNOPTIMIZED 1
#define STATE_STANDBY 2
#define STATE_UNAVAILABLE 3
#define STATE_NOT_USED 16

/* ---- MPIO_DSM_Path_V2.ALUASupport [H] (the INQUIRY TPGS field) ---- */
#define ALUA_NOT_SUPPORTED 0
#define ALUA_IMPLICIT_ONLY 1
#define ALUA_EXPLICIT_ONLY 2
#define ALUA_IMPLICIT_AND_EXPLICIT 3

/* ---- MPIO_DSM_Path_V2 [H]: one path of a LUN, 64 bytes, spec §2 ---- */
typedef struct _MPIO_DSM_Path_V2 {
  ULONGLONG DsmPathId;               /*  0 */
  ULONGLONG Reserved;                /*  8: supported-states mask in MSDSM queries [S] */
  ULONG PathWeight;                  /* 16 */
  ULONG PrimaryPath;                 /* 20: (Primary, Optimized) = AO 11, AU 10, SB 01, UA 00 */
  ULONG OptimizedPath;               /* 24 */
  ULONG PreferredPath;               /* 28: FOO failback target */
  ULONG FailedPath;                  /* 32 */
  ULONG TargetPortGroup_State;       /* 36: STATE_* */
  ULONG ALUASupport;                 /* 40: ALUA_* */
  UCHAR SymmetricLUA;                /* 44 */
  UCHAR TargetPortGroup_Preferred;   /* 45 */
  USHORT TargetPortGroup_Identifier; /* 46 */
  ULONG TargetPort_Identifier;       /* 48: relative target port id */
  ULONG Reserved32;                  /* 52 */
  ULONGLONG Reserved64;              /* 56 */
} MPIO_DSM_Path_V2, *PMPIO_DSM_Path_V2;

#define MPIO_DSM_Path_V2_SIZE (offsetof(MPIO_DSM_Path_V2, Reserved64) + sizeof(ULONGLONG))

OPENMPIO_LAYOUT_ASSERT(sizeof(MPIO_DSM_Path_V2) == 64, "MPIO_DSM_Path_V2 size");
OPENMPIO_LAYOUT_ASSERT(OPENMPIO_ALIGNOF(MPIO_DSM_Path_V2) == 8, "MPIO_DSM_Path_V2 align");
OPENMPIO_LAYOUT_ASSERT(offsetof(MPIO_DSM_Path_V2, DsmPathId) == 0, "DsmPathId");
OPENMPIO_LAYOUT_ASSERT(offsetof(MPIO_DSM_Path_V2, Reserved) == 8, "Reserved");
OPENMPIO_LAYOUT_ASSERT(offsetof(MPIO_DSM_Path_V2, PathWeight) == 16, "PathWeight");
OPENMPIO_LAYOUT_ASSERT(offsetof(MPIO_DSM_Path_V2, PrimaryPath) == 20, "PrimaryPath");
OPENMPIO_LAYOUT_ASSERT(offsetof(MPIO_DSM_Path_V2, OptimizedPath) == 24, "OptimizedPath");
OPENMPIO_LAYOUT_ASSERT(offsetof(MPIO_DSM_Path_V2, PreferredPath) == 28, "PreferredPath");
OPENMPIO_LAYOUT_ASSERT(offsetof(MPIO_DSM_Path_V2, FailedPath) == 32, "FailedPath");
OPENMPIO_LAYOUT_ASSERT(offsetof(MPIO_DSM_Path_V2, TargetPortGroup_State) == 36, "TPG_State");
OPENMPIO_LAYOUT_ASSERT(offsetof(MPIO_DSM_Path_V2, ALUASupport) == 40, "ALUASupport");
OPENMPIO_LAYOUT_ASSERT(offsetof(MPIO_DSM_Path_V2, SymmetricLUA) == 44, "SymmetricLUA");
OPENMPIO_LAYOUT_ASSERT(offsetof(MPIO_DSM_Path_V2, TargetPortGroup_Preferred) == 45, "TPG_Pref");
OPENMPIO_LAYOUT_ASSERT(offsetof(MPIO_DSM_Path_V2, TargetPortGroup_Identifier) == 46, "TPG_Id");
OPENMPIO_LAYOUT_ASSERT(offsetof(MPIO_DSM_Path_V2, TargetPort_Identifier) == 48, "TP_Id");
OPENMPIO_LAYOUT_ASSERT(offsetof(MPIO_DSM_Path_V2, Reserved32) == 52, "Reserved32");
OPENMPIO_LAYOUT_ASSERT(offsetof(MPIO_DSM_Path_V2, Reserved64) == 56, "Reserved64");

/* ---- DSM_Load_Balance_Policy_V2 [H]: 16-byte header + DSMPathCount paths ---- */
typedef struct _DSM_Load_Balance_Policy_V2 {
  ULONG Version;                 /*  0: 2 */
  ULONG LoadBalancePolicy;       /*  4: DSM_LB_* */
  ULONG DSMPathCount;            /*  8 */
  ULONG Reserved;                /* 12 */
  MPIO_DSM_Path_V2 DSM_Paths[1]; /* 16: DSMPathCount entries of 64 bytes */
} DSM_Load_Balance_Policy_V2, *PDSM_Load_Balance_Policy_V2;

OPENMPIO_LAYOUT_ASSERT(sizeof(DSM_Load_Balance_Policy_V2) == 80, "DSM_Load_Balance_Policy_V2");
OPENMPIO_LAYOUT_ASSERT(offsetof(DSM_Load_Balance_Policy_V2, Version) == 0, "Version");
OPENMPIO_LAYOUT_ASSERT(offsetof(DSM_Load_Balance_Policy_V2, LoadBalancePolicy) == 4, "Policy");
OPENMPIO_LAYOUT_ASSERT(offsetof(DSM_Load_Balance_Policy_V2, DSMPathCount) == 8, "DSMPathCount");
OPENMPIO_LAYOUT_ASSERT(offsetof(DSM_Load_Balance_Policy_V2, Reserved) == 12, "Reserved");
OPENMPIO_LAYOUT_ASSERT(offsetof(DSM_Load_Balance_Policy_V2, DSM_Paths) == 16, "DSM_Paths");

/* ---- DSM_QueryLBPolicy_V2 [H]: the LUN's policy and one entry per path ---- */
typedef struct _DSM_QueryLBPolicy_V2 {
  DSM_Load_Balance_Policy_V2 LoadBalancePolicy; /* 0 */
} DSM_QueryLBPolicy_V2, *PDSM_QueryLBPolicy_V2;

#define DSM_QueryLBPolicy_V2_SIZE \
  (offsetof(DSM_QueryLBPolicy_V2, LoadBalancePolicy) + sizeof(DSM_Load_Balance_Policy_V2))

OPENMPIO_LAYOUT_ASSERT(sizeof(DSM_QueryLBPolicy_V2) == 80, "DSM_QueryLBPolicy_V2");
OPENMPIO_LAYOUT_ASSERT(offsetof(DSM_QueryLBPolicy_V2, LoadBalancePolicy) == 0, "LoadBalancePolicy");

/* ---- DSM_QuerySupportedLBPolicies_V2 [H]: the policies allowed on a LUN ----
 * MSDSM writes each element as a bare 16-byte header (DSMPathCount 0), so the
 * wire stride is 16, not sizeof(DSM_Load_Balance_Policy_V2) [S]. */
typedef struct _DSM_QuerySupportedLBPolicies_V2 {
  ULONG SupportedLBPoliciesCount;                      /* 0 */
  ULONG Reserved;                                      /* 4 */
  DSM_Load_Balance_Policy_V2 Supported_LB_Policies[1]; /* 8 */
} DSM_QuerySupportedLBPolicies_V2, *PDSM_QuerySupportedLBPolicies_V2;

OPENMPIO_LAYOUT_ASSERT(sizeof(DSM_QuerySupportedLBPolicies_V2) == 88, "SupportedLBPolicies_V2");
OPENMPIO_LAYOUT_ASSERT(offsetof(DSM_QuerySupportedLBPolicies_V2, SupportedLBPoliciesCount) == 0,
                       "SupportedLBPoliciesCount");
OPENMPIO_LAYOUT_ASSERT(offsetof(DSM_QuerySupportedLBPolicies_V2, Reserved) == 4, "Reserved");
OPENMPIO_LAYOUT_ASSERT(offsetof(DSM_QuerySupportedLBPolicies_V2, Supported_LB_Policies) == 8,
                       "Supported_LB_Policies");

/* ---- MPIO_DSM_Path (V1) [H]: no Optimized/Preferred/ALUA fields, 24 bytes ---- */
typedef struct _MPIO_DSM_Path {
  ULONGLONG DsmPathId; /*  0 */
  ULONGLONG Reserved;  /*  8 */
  ULONG PathWeight;    /* 16 */
  ULONG PrimaryPath;   /* 20: 1 = Active/Optimized, 0 = Standby (spec §4) */
} MPIO_DSM_Path, *PMPIO_DSM_Path;

#define MPIO_DSM_Path_SIZE (offsetof(MPIO_DSM_Path, PrimaryPath) + sizeof(ULONG))

OPENMPIO_LAYOUT_ASSERT(sizeof(MPIO_DSM_Path) == 24, "MPIO_DSM_Path");
OPENMPIO_LAYOUT_ASSERT(offsetof(MPIO_DSM_Path, DsmPathId) == 0, "DsmPathId");
OPENMPIO_LAYOUT_ASSERT(offsetof(MPIO_DSM_Path, Reserved) == 8, "Reserved");
OPENMPIO_LAYOUT_ASSERT(offsetof(MPIO_DSM_Path, PathWeight) == 16, "PathWeight");
OPENMPIO_LAYOUT_ASSERT(offsetof(MPIO_DSM_Path, PrimaryPath) == 20, "PrimaryPath");

/* ---- DSM_Load_Balance_Policy (V1) [H]: same 16-byte header, 24-byte paths ---- */
typedef struct _DSM_Load_Balance_Policy {
  ULONG Version;              /*  0: 1 */
  ULONG LoadBalancePolicy;    /*  4 */
  ULONG DSMPathCount;         /*  8 */
  ULONG Reserved;             /* 12 */
  MPIO_DSM_Path DSM_Paths[1]; /* 16 */
} DSM_Load_Balance_Policy, *PDSM_Load_Balance_Policy;

OPENMPIO_LAYOUT_ASSERT(sizeof(DSM_Load_Balance_Policy) == 40, "DSM_Load_Balance_Policy");
OPENMPIO_LAYOUT_ASSERT(offsetof(DSM_Load_Balance_Policy, Version) == 0, "Version");
OPENMPIO_LAYOUT_ASSERT(offsetof(DSM_Load_Balance_Policy, LoadBalancePolicy) == 4, "Policy");
OPENMPIO_LAYOUT_ASSERT(offsetof(DSM_Load_Balance_Policy, DSMPathCount) == 8, "DSMPathCount");
OPENMPIO_LAYOUT_ASSERT(offsetof(DSM_Load_Balance_Policy, Reserved) == 12, "Reserved");
OPENMPIO_LAYOUT_ASSERT(offsetof(DSM_Load_Balance_Policy, DSM_Paths) == 16, "DSM_Paths");

/* ---- DSM_QueryLBPolicy (V1) [H] ---- */
typedef struct _DSM_QueryLBPolicy {
  DSM_Load_Balance_Policy LoadBalancePolicy; /* 0 */
} DSM_QueryLBPolicy, *PDSM_QueryLBPolicy;

#define DSM_QueryLBPolicy_SIZE \
  (offsetof(DSM_QueryLBPolicy, LoadBalancePolicy) + sizeof(DSM_Load_Balance_Policy))

OPENMPIO_LAYOUT_ASSERT(sizeof(DSM_QueryLBPolicy) == 40, "DSM_QueryLBPolicy");
OPENMPIO_LAYOUT_ASSERT(offsetof(DSM_QueryLBPolicy, LoadBalancePolicy) == 0, "LoadBalancePolicy");

/* ---- DSM_QuerySupportedLBPolicies (V1) [H] ---- */
typedef struct _DSM_QuerySupportedLBPolicies {
  ULONG SupportedLBPoliciesCount;                   /* 0 */
  ULONG Reserved;                                   /* 4 */
  DSM_Load_Balance_Policy Supported_LB_Policies[1]; /* 8 */
} DSM_QuerySupportedLBPolicies, *PDSM_QuerySupportedLBPolicies;

OPENMPIO_LAYOUT_ASSERT(sizeof(DSM_QuerySupportedLBPolicies) == 48, "SupportedLBPolicies");
OPENMPIO_LAYOUT_ASSERT(offsetof(DSM_QuerySupportedLBPolicies, SupportedLBPoliciesCount) == 0,
                       "SupportedLBPoliciesCount");
OPENMPIO_LAYOUT_ASSERT(offsetof(DSM_QuerySupportedLBPolicies, Reserved) == 4, "Reserved");
OPENMPIO_LAYOUT_ASSERT(offsetof(DSM_QuerySupportedLBPolicies, Supported_LB_Policies) == 8,
                       "Supported_LB_Policies");

/* ---- DsmSetLoadBalancePolicy (method 1) [H]; in and out share one buffer ---- */
typedef struct _DsmSetLoadBalancePolicy_IN {
  DSM_Load_Balance_Policy LoadBalancePolicy; /* 0, WmiDataId 1 */
} DsmSetLoadBalancePolicy_IN, *PDsmSetLoadBalancePolicy_IN;

#define DsmSetLoadBalancePolicy_IN_SIZE \
  (offsetof(DsmSetLoadBalancePolicy_IN, LoadBalancePolicy) + sizeof(DSM_Load_Balance_Policy))

typedef struct _DsmSetLoadBalancePolicy_OUT {
  ULONG Status; /* 0, WmiDataId 2: an NTSTATUS */
} DsmSetLoadBalancePolicy_OUT, *PDsmSetLoadBalancePolicy_OUT;

#define DsmSetLoadBalancePolicy_OUT_SIZE \
  (offsetof(DsmSetLoadBalancePolicy_OUT, Status) + sizeof(ULONG))

OPENMPIO_LAYOUT_ASSERT(sizeof(DsmSetLoadBalancePolicy_IN) == 40, "DsmSetLoadBalancePolicy_IN");
OPENMPIO_LAYOUT_ASSERT(offsetof(DsmSetLoadBalancePolicy_IN, LoadBalancePolicy) == 0, "LBP");
OPENMPIO_LAYOUT_ASSERT(sizeof(DsmSetLoadBalancePolicy_OUT) == 4, "DsmSetLoadBalancePolicy_OUT");
OPENMPIO_LAYOUT_ASSERT(offsetof(DsmSetLoadBalancePolicy_OUT, Status) == 0, "Status");

/* ---- DsmSetLoadBalancePolicyALUA (method 2) [H] ---- */
typedef struct _DsmSetLoadBalancePolicyALUA_IN {
  DSM_Load_Balance_Policy_V2 LoadBalancePolicy; /* 0, WmiDataId 1 */
} DsmSetLoadBalancePolicyALUA_IN, *PDsmSetLoadBalancePolicyALUA_IN;

#define DsmSetLoadBalancePolicyALUA_IN_SIZE \
  (offsetof(DsmSetLoadBalancePolicyALUA_IN, LoadBalancePolicy) + sizeof(DSM_Load_Balance_Policy_V2))

typedef struct _DsmSetLoadBalancePolicyALUA_OUT {
  ULONG Status; /* 0, WmiDataId 2: an NTSTATUS */
} DsmSetLoadBalancePolicyALUA_OUT, *PDsmSetLoadBalancePolicyALUA_OUT;

#define DsmSetLoadBalancePolicyALUA_OUT_SIZE \
  (offsetof(DsmSetLoadBalancePolicyALUA_OUT, Status) + sizeof(ULONG))

OPENMPIO_LAYOUT_ASSERT(sizeof(DsmSetLoadBalancePolicyALUA_IN) == 80, "ALUA_IN");
OPENMPIO_LAYOUT_ASSERT(offsetof(DsmSetLoadBalancePolicyALUA_IN, LoadBalancePolicy) == 0, "LBP");
OPENMPIO_LAYOUT_ASSERT(sizeof(DsmSetLoadBalancePolicyALUA_OUT) == 4, "ALUA_OUT");
OPENMPIO_LAYOUT_ASSERT(offsetof(DsmSetLoadBalancePolicyALUA_OUT, Status) == 0, "Status");

/* ---- DSM_QueryUniqueId [H] ---- */
typedef struct _DSM_QueryUniqueId {
  ULONGLONG DsmUniqueId; /* 0 */
} DSM_QueryUniqueId, *PDSM_QueryUniqueId;

#define DSM_QueryUniqueId_SIZE (offsetof(DSM_QueryUniqueId, DsmUniqueId) + sizeof(ULONGLONG))

OPENMPIO_LAYOUT_ASSERT(sizeof(DSM_QueryUniqueId) == 8, "DSM_QueryUniqueId");
OPENMPIO_LAYOUT_ASSERT(offsetof(DSM_QueryUniqueId, DsmUniqueId) == 0, "DsmUniqueId");

/* ---- Wire sizes: header + n elements, following the declared layout ---- */

/* 16 + 64n: DSM_Load_Balance_Policy_V2, DSM_QueryLBPolicy_V2, ALUA_IN. */
static inline size_t DSM_Load_Balance_Policy_V2_WireSize(ULONG path_count) {
  size_t n = path_count;
  return offsetof(DSM_Load_Balance_Policy_V2, DSM_Paths) + n * sizeof(MPIO_DSM_Path_V2);
}

/* 16 + 24n: DSM_Load_Balance_Policy, DSM_QueryLBPolicy, DsmSetLoadBalancePolicy_IN. */
static inline size_t DSM_Load_Balance_Policy_WireSize(ULONG path_count) {
  size_t n = path_count;
  return offsetof(DSM_Load_Balance_Policy, DSM_Paths) + n * sizeof(MPIO_DSM_Path);
}

/* 8 + 16n: each supported policy is a bare 16-byte header (see above) [S]. */
static inline size_t DSM_QuerySupportedLBPolicies_V2_WireSize(ULONG policy_count) {
  size_t n = policy_count;
  return offsetof(DSM_QuerySupportedLBPolicies_V2, Supported_LB_Policies) +
         n * offsetof(DSM_Load_Balance_Policy_V2, DSM_Paths);
}

/* ---- NTSTATUS values MSDSM returns (spec §4 table; Windows' ntstatus.h) ----
 * ULONG-valued (unsigned), as they travel in the Status fields above. C++
 * code uses openmpio::NtStatus (status.h); these are for C and for code that
 * mirrors Windows. Skipped as a group if someone defined STATUS_SUCCESS. */
#ifndef STATUS_SUCCESS
#define STATUS_SUCCESS 0x00000000U
#define STATUS_INVALID_PARAMETER 0xC000000DU
#define STATUS_NO_SUCH_DEVICE 0xC000000EU
#define STATUS_INVALID_DEVICE_REQUEST 0xC0000010U
#define STATUS_BUFFER_TOO_SMALL 0xC0000023U
#define STATUS_OBJECT_NAME_NOT_FOUND 0xC0000034U
#define STATUS_INSUFFICIENT_RESOURCES 0xC000009AU
#define STATUS_NOT_SUPPORTED 0xC00000BBU
#define STATUS_IO_DEVICE_ERROR 0xC0000185U
#define STATUS_WMI_GUID_NOT_FOUND 0xC0000295U
#define STATUS_WMI_INSTANCE_NOT_FOUND 0xC0000296U
#define STATUS_WMI_ITEMID_NOT_FOUND 0xC0000297U
#endif

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* OPENMPIO_MPIODISK_H_ */

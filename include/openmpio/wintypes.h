/*
 * wintypes.h — the Windows base types the MSDSM headers (mpiodisk.h,
 * mpiowmi.h, msdsmwmi.h) are written in, with their Windows widths (LLP64:
 * ULONG is 32-bit), plus the layout-assertion macros shared by the three.
 * Plain C11 or C++.
 */
#ifndef OPENMPIO_WINTYPES_H_
#define OPENMPIO_WINTYPES_H_
#include <stddef.h>
#include <stdint.h>
typedef uint8_t UCHAR;
typedef uint8_t BOOLEAN;
typedef uint16_t USHORT;
typedef uint16_t WCHAR; /* UTF-16 code unit (Linux wchar_t is 32-bit) */
typedef uint32_t ULONG; /* Windows is LLP64: ULONG is 32-bit */
typedef uint64_t ULONGLONG;
#ifndef GUID_DEFINED
#define GUID_DEFINED
typedef struct _GUID {
  uint32_t Data1;
  uint16_t Data2;
  uint16_t Data3;
  uint8_t Data4[8];
} GUID;
#endif
#ifdef __cplusplus
#define OPENMPIO_LAYOUT_ASSERT(cond, msg) static_assert(cond, msg)
#define OPENMPIO_ALIGNOF(type) alignof(type)
#else
#define OPENMPIO_LAYOUT_ASSERT(cond, msg) _Static_assert(cond, msg)
#define OPENMPIO_ALIGNOF(type) _Alignof(type)
#endif
#endif /* OPENMPIO_WINTYPES_H_ */

/*
 * The freestanding C runtime Embedded Swift output links against: nothing but
 * memset/memcpy/memmove/memcmp. Built with -fno-builtin so the loops are not
 * turned back into calls to themselves. There is deliberately no malloc,
 * posix_memalign or free: any allocation in the firmware fails the link.
 */
#include <stddef.h>
#include <stdint.h>

void *memset(void *dst, int value, size_t n) {
  unsigned char *d = dst;
  if ((((uintptr_t)d | n) & 7) == 0 && value == 0) {
    uint64_t *w = (uint64_t *)d;
    for (size_t i = 0; i < n / 8; i++) w[i] = 0;
    return dst;
  }
  while (n--) *d++ = (unsigned char)value;
  return dst;
}

void *memcpy(void *restrict dst, const void *restrict src, size_t n) {
  unsigned char *d = dst;
  const unsigned char *s = src;
  if ((((uintptr_t)d | (uintptr_t)s | n) & 7) == 0) {
    uint64_t *dw = (uint64_t *)d;
    const uint64_t *sw = (const uint64_t *)s;
    for (size_t i = 0; i < n / 8; i++) dw[i] = sw[i];
    return dst;
  }
  while (n--) *d++ = *s++;
  return dst;
}

void *memmove(void *dst, const void *src, size_t n) {
  unsigned char *d = dst;
  const unsigned char *s = src;
  if (d < s) {
    while (n--) *d++ = *s++;
  } else {
    d += n;
    s += n;
    while (n--) *--d = *--s;
  }
  return dst;
}

int memcmp(const void *a, const void *b, size_t n) {
  const unsigned char *x = a, *y = b;
  for (; n; n--, x++, y++)
    if (*x != *y) return *x - *y;
  return 0;
}

/* The VMIDs in use (Sources/RMMFirmware/StageTwo.swift): the only per-realm state the
 * RMM keeps outside the realm's own granules. */
__attribute__((visibility("hidden"))) uint64_t rmm_vmid_bitmap[1024];

/* The audit log's records: 32 CPUs x 1024 records x 40 bytes (5 words) (Sources/RMMFirmware/AuditLog.swift). */
__attribute__((visibility("hidden"), aligned(16))) uint64_t rmm_audit_storage[32 * 1024 * 40 / 8];
/* Per-CPU audit state (ring header, counters, current call): 32 x 128 bytes. */
__attribute__((visibility("hidden"), aligned(64))) uint64_t rmm_audit_state[32 * 128 / 8];
/* The host's FP/SIMD registers while a REC runs on the CPU: 32 x 528 bytes. */
__attribute__((visibility("hidden"), aligned(16))) uint64_t rmm_ns_fp_state[32 * 66];

/*
 * The freestanding C runtime Embedded Swift output links against: nothing but
 * memset/memcpy/memmove/memcmp. Built with -fno-builtin so the loops are not
 * turned back into calls to themselves. There is deliberately no malloc,
 * posix_memalign or free: any allocation in the firmware fails the link.
 */
#include <stddef.h>
#include <stdint.h>

/* Word loops, 32 bytes a step, whenever both pointers are 8-byte aligned (whatever
 * the length: the odd tail of an Optional<struct> is copied bytewise), bytes
 * otherwise. -mstrict-align: a word access is only ever made at an aligned address. */
void *memset(void *dst, int value, size_t n) {
  unsigned char *d = dst;
  if (((uintptr_t)d & 7) == 0 && value == 0) {
    uint64_t *w = (uint64_t *)d;
    for (; n >= 32; n -= 32, w += 4) { w[0] = 0; w[1] = 0; w[2] = 0; w[3] = 0; }
    for (; n >= 8; n -= 8) *w++ = 0;
    d = (unsigned char *)w;
  }
  while (n--) *d++ = (unsigned char)value;
  return dst;
}

static inline void copy_words_forward(uint64_t *d, const uint64_t *s, size_t words) {
  for (; words >= 4; words -= 4, d += 4, s += 4) {
    uint64_t a = s[0], b = s[1], c = s[2], e = s[3];
    d[0] = a; d[1] = b; d[2] = c; d[3] = e;
  }
  for (; words; words--) *d++ = *s++;
}

void *memcpy(void *restrict dst, const void *restrict src, size_t n) {
  unsigned char *d = dst;
  const unsigned char *s = src;
  if ((((uintptr_t)d | (uintptr_t)s) & 7) == 0) {
    copy_words_forward((uint64_t *)d, (const uint64_t *)s, n / 8);
    d += n & ~(size_t)7;
    s += n & ~(size_t)7;
    n &= 7;
  }
  while (n--) *d++ = *s++;
  return dst;
}

void *memmove(void *dst, const void *src, size_t n) {
  unsigned char *d = dst;
  const unsigned char *s = src;
  int aligned = (((uintptr_t)d | (uintptr_t)s) & 7) == 0;
  if (d < s) {
    if (aligned) {  /* ascending word copy: safe for overlap with d below s */
      copy_words_forward((uint64_t *)d, (const uint64_t *)s, n / 8);
      d += n & ~(size_t)7;
      s += n & ~(size_t)7;
      n &= 7;
    }
    while (n--) *d++ = *s++;
  } else {
    d += n;
    s += n;
    if (aligned) {  /* the odd tail first (bytewise), then descending words */
      for (size_t tail = n & 7; tail; tail--, n--) *--d = *--s;
      uint64_t *dw = (uint64_t *)d;
      const uint64_t *sw = (const uint64_t *)s;
      for (; n; n -= 8) *--dw = *--sw;
      return dst;
    }
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
/* The host's FP/SIMD registers (and ZCR_EL2, ZCR_EL1) while a REC runs on the CPU:
 * 32 x 544 bytes (RMM_NS_FP_AREA_WORDS, arch.h). */
__attribute__((visibility("hidden"), aligned(16))) uint64_t rmm_ns_fp_state[32 * 68];
__attribute__((visibility("hidden"), aligned(16))) uint64_t rmm_ns_sve_state[32 * 1092];  /* RMM_MAX_CPUS x RMM_NS_SVE_AREA_WORDS (arch.h) */
/* The host's PMU registers while a REC of a realm with a PMU runs: 32 x 70 words. */
__attribute__((visibility("hidden"), aligned(16))) uint64_t rmm_ns_pmu_state[32 * 70];
/* The host's EL1/EL0 system registers and EL1 timers while a REC runs (arch.h). */
__attribute__((visibility("hidden"), aligned(16))) uint64_t rmm_ns_el1_state[32 * 40];

/* Attestation material obtained from EL3 at cold boot (Sources/RMMFirmware/Attestation.swift):
 * the platform token, the RAK public key (COSE_Key), and the arena used once at boot
 * to derive that public key (scrubbed afterwards). */
__attribute__((visibility("hidden"), aligned(16))) uint8_t rmm_platform_token[8192];
__attribute__((visibility("hidden"), aligned(16))) uint8_t rmm_rak_public_key[128];
__attribute__((visibility("hidden"), aligned(16))) uint64_t rmm_boot_crypto_arena[16384 / 8];
__attribute__((visibility("hidden"))) uint32_t rmm_shared_page_lock;

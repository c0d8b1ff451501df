/*
 * ECDSA P-384 signing for the realm attestation token on mbedTLS 3.6, with every byte
 * of state in a caller-provided arena (design: docs/CRYPTO.md).
 *
 * Arena layout: [struct arena: header + mbedTLS objects][heap: blocks ...]. mbedTLS's
 * calloc/free (MBEDTLS_PLATFORM_{CALLOC,FREE}_MACRO) allocate from the heap of the
 * arena the current CPU is working on, so a signature's restart context, its nonce
 * DRBG and every bignum live in the arena and the signature can be resumed later,
 * on any CPU, as long as the arena keeps its VA.
 */
#include "rmm_crypto.h"

#include <string.h>

#include "mbedtls/bignum.h"
#include "mbedtls/ecdsa.h"
#include "mbedtls/ecp.h"
#include "mbedtls/hmac_drbg.h"
#include "mbedtls/md.h"
#include "mbedtls/platform_util.h"

#define ARENA_MAGIC 0x54505952434d4d52ull /* "RMMCRYPT" */

enum arena_phase {
  PHASE_PUBLIC_KEY = 1, /* inside rmm_p384_public_key: op.key is live */
  PHASE_SIGNING,     /* rmm_p384_sign_start done, steps to go: op.sign is live */
  PHASE_SIGNED,      /* a step returned DONE: r and s are ready for finish */
  PHASE_KEY_DONE,    /* rmm_p384_public_key ran: only the header (peak) is left */
};

/* Every heap block starts with this. Payloads are 8-byte aligned, all mbedTLS needs
 * (64-bit limbs and pointers); 8 rather than 16 keeps the whole signature within one
 * 4 KiB granule (docs/CRYPTO.md). */
struct block_header {
  uint32_t size; /* whole block, header included; a multiple of BLOCK_ALIGN */
  uint32_t in_use;
};

#define BLOCK_ALIGN 8
#define BLOCK_MIN (sizeof(struct block_header) + BLOCK_ALIGN) /* smallest block worth splitting off */
#define ARENA_MAX ((size_t)UINT32_MAX & ~(size_t)15)          /* block sizes are 32-bit */

struct arena {
  uint64_t magic;
  uint32_t phase;
  uint32_t allocation_failed; /* set when the heap could not satisfy a request */
  size_t size;                /* usable bytes from the arena start, a multiple of 16 */
  size_t peak;                /* high-water mark: bytes from the arena start */
  size_t heap_offset;         /* first block */
  /* The operation's mbedTLS objects; their limbs and sub-contexts are heap blocks. */
  union {
    struct {
      mbedtls_ecp_group group;
      mbedtls_mpi scalar;
      mbedtls_mpi r, s;
      mbedtls_ecdsa_restart_ctx restart;
      uint8_t hash[RMM_P384_BYTES];
    } sign;
    mbedtls_ecp_keypair key; /* public key: only the keypair API reaches the base point */
  } op;
  mbedtls_hmac_drbg_context blinding; /* randomises projective coordinates */
};

static size_t round_up(size_t n, size_t alignment) { return (n + alignment - 1) & ~(alignment - 1); }

/* --- The arena the current CPU works on ------------------------------------- */

/* Set on entry to every API call and cleared before returning, so a calloc outside a
 * call (there is none) would fail instead of writing somewhere stale. */
#ifdef RMM_CRYPTO_HOST
static struct arena *host_current_arena; /* the host harness is single-threaded */
static struct arena **current_arena_slot(void) { return &host_current_arena; }
#else
#include "rmm_layout.h" /* RMM_MAX_CPUS */
static struct arena *current_arena_per_cpu[RMM_MAX_CPUS];
static struct arena **current_arena_slot(void) {
  uint64_t cpu; /* the RMM keeps its CPU index in TPIDR_EL2 (boot/rmm_entry.S) */
  __asm__ volatile("mrs %0, tpidr_el2" : "=r"(cpu));
  return cpu < RMM_MAX_CPUS ? &current_arena_per_cpu[cpu] : NULL;
}
#endif

static int enter(struct arena *a) {
  struct arena **slot = current_arena_slot();
  if (slot == NULL) return 0;
  *slot = a;
  return 1;
}

static void leave(void) {
  struct arena **slot = current_arena_slot();
  if (slot != NULL) *slot = NULL;
}

/* --- Heap: first fit, blocks tile the heap, coalesced on free ----------------- */

static struct block_header *block_at(struct arena *a, size_t offset) {
  return (struct block_header *)((uint8_t *)a + offset);
}

/* A header that does not tile the heap means the arena was overwritten: stop walking
 * (and fail the allocation) rather than follow it. */
static int block_is_sane(const struct arena *a, size_t offset, const struct block_header *b) {
  return b->size >= sizeof(struct block_header) && (b->size & (BLOCK_ALIGN - 1)) == 0 && b->size <= a->size - offset;
}

void *rmm_crypto_calloc(size_t count, size_t size) {
  struct arena **slot = current_arena_slot();
  struct arena *a = slot != NULL ? *slot : NULL;
  if (a == NULL) return NULL;
  if (size != 0 && count > a->size / size) { /* also catches count * size overflowing */
    a->allocation_failed = 1;
    return NULL;
  }
  size_t bytes = count * size;
  size_t need = sizeof(struct block_header) + round_up(bytes != 0 ? bytes : 1, BLOCK_ALIGN);
  for (size_t offset = a->heap_offset; offset < a->size;) {
    struct block_header *b = block_at(a, offset);
    if (!block_is_sane(a, offset, b)) break;
    if (!b->in_use && b->size >= need) {
      if (b->size - need >= BLOCK_MIN) {
        struct block_header *rest = block_at(a, offset + need);
        rest->size = (uint32_t)(b->size - need);
        rest->in_use = 0;
        b->size = (uint32_t)need;
      }
      b->in_use = 1;
      if (offset + need > a->peak) a->peak = offset + need;
      memset(b + 1, 0, b->size - sizeof(*b));
      return b + 1;
    }
    offset += b->size;
  }
  a->allocation_failed = 1; /* mbedTLS reports it as *_ALLOC_FAILED and unwinds */
  return NULL;
}

/* Unknown pointers and double frees are ignored: the block must be found in use. */
void rmm_crypto_free(void *ptr) {
  struct arena **slot = current_arena_slot();
  struct arena *a = slot != NULL ? *slot : NULL;
  if (ptr == NULL || a == NULL) return;
  struct block_header *previous = NULL;
  for (size_t offset = a->heap_offset; offset < a->size;) {
    struct block_header *b = block_at(a, offset);
    if (!block_is_sane(a, offset, b)) return;
    if ((void *)(b + 1) == ptr) {
      if (!b->in_use) return;
      /* Freed memory never keeps what it held (mbedTLS zeroizes bignums itself;
       * this also covers DRBG and restart sub-contexts). */
      mbedtls_platform_zeroize(b + 1, b->size - sizeof(*b));
      b->in_use = 0;
      size_t next_offset = offset + b->size;
      if (next_offset < a->size) {
        struct block_header *next = block_at(a, next_offset);
        if (block_is_sane(a, next_offset, next) && !next->in_use) {
          b->size += next->size;
          memset(next, 0, sizeof(*next));
        }
      }
      if (previous != NULL && !previous->in_use) {
        previous->size += b->size;
        memset(b, 0, sizeof(*b));
      }
      return;
    }
    previous = b;
    offset += b->size;
  }
}

/* --- Arena life cycle ------------------------------------------------------- */

/* Lays out a fresh arena: header, objects, one free block for the rest. */
static int arena_open(void *memory, size_t memory_size, struct arena **out) {
  if (memory == NULL || ((uintptr_t)memory & 15) != 0) return RMM_CRYPTO_ERR_ARGS;
  size_t size = (memory_size < ARENA_MAX ? memory_size : ARENA_MAX) & ~(size_t)15;
  size_t heap_offset = round_up(sizeof(struct arena), 16);
  if (size < heap_offset + BLOCK_MIN) {
    mbedtls_platform_zeroize(memory, memory_size); /* every error leaves the arena scrubbed */
    return RMM_CRYPTO_ERR_ARENA;
  }
  struct arena *a = memory;
  memset(a, 0, heap_offset);
  a->size = size;
  a->heap_offset = heap_offset;
  a->peak = heap_offset;
  struct block_header *first = block_at(a, heap_offset);
  first->size = (uint32_t)(size - heap_offset);
  first->in_use = 0;
  mbedtls_hmac_drbg_init(&a->blinding);
  a->magic = ARENA_MAGIC;
  *out = a;
  return 0;
}

/* The arena behind an API handle, if it holds a live operation. */
static struct arena *arena_live(const void *memory) {
  if (memory == NULL || ((uintptr_t)memory & 15) != 0) return NULL;
  struct arena *a = (struct arena *)memory;
  return a->magic == ARENA_MAGIC ? a : NULL;
}

/* Returns every heap block through mbedTLS's own free functions (which zeroize). */
static void arena_free_objects(struct arena *a) {
  if (!enter(a)) return;
  if (a->phase == PHASE_PUBLIC_KEY) {
    mbedtls_ecp_keypair_free(&a->op.key);
  } else if (a->phase == PHASE_SIGNING || a->phase == PHASE_SIGNED) {
    mbedtls_ecdsa_restart_free(&a->op.sign.restart);
    mbedtls_mpi_free(&a->op.sign.s);
    mbedtls_mpi_free(&a->op.sign.r);
    mbedtls_mpi_free(&a->op.sign.scalar);
    mbedtls_ecp_group_free(&a->op.sign.group);
  }
  mbedtls_hmac_drbg_free(&a->blinding);
  leave();
}

static void arena_scrub(void *memory, size_t size) { mbedtls_platform_zeroize(memory, size); }

static int map_error(const struct arena *a, int mbedtls_ret) {
  if (a->allocation_failed) return RMM_CRYPTO_ERR_ARENA;
  switch (mbedtls_ret) {
    case MBEDTLS_ERR_ECP_ALLOC_FAILED:
    case MBEDTLS_ERR_MPI_ALLOC_FAILED:
    case MBEDTLS_ERR_MD_ALLOC_FAILED:
      return RMM_CRYPTO_ERR_ARENA;
    case MBEDTLS_ERR_ECP_INVALID_KEY:
      return RMM_CRYPTO_ERR_KEY;
    default:
      return RMM_CRYPTO_ERR_INTERNAL;
  }
}

static int seed_blinding(struct arena *a, const uint8_t seed[RMM_P384_BYTES]) {
  const mbedtls_md_info_t *sha384 = mbedtls_md_info_from_type(MBEDTLS_MD_SHA384);
  if (sha384 == NULL) return MBEDTLS_ERR_MD_FEATURE_UNAVAILABLE;
  return mbedtls_hmac_drbg_seed_buf(&a->blinding, sha384, seed, RMM_P384_BYTES);
}

/* mbedTLS leaves copies of secrets in its stack frames (the RFC 6979 DRBG is seeded
 * from a stack buffer holding the private key, bignum temporaries, ...). Every API
 * call wipes the stack its callees used before returning, so the scalar really lives
 * only in the arena. RMM_CRYPTO_STACK_SCRUB covers the deepest call chain below an
 * API function, which scripts/check-crypto bounds from the firmware call graph. */
#define RMM_CRYPTO_STACK_SCRUB 6144

static __attribute__((noinline)) void scrub_stack(void) {
  uint8_t callee_frames[RMM_CRYPTO_STACK_SCRUB];
  mbedtls_platform_zeroize(callee_frames, sizeof(callee_frames));
}

/* --- Operations (each API function below runs one, then scrub_stack) ------------ */

static int public_key(void *arena, size_t arena_size, const uint8_t scalar[RMM_P384_BYTES],
                      uint8_t x[RMM_P384_BYTES], uint8_t y[RMM_P384_BYTES]) {
  if (scalar == NULL || x == NULL || y == NULL) return RMM_CRYPTO_ERR_ARGS;
  struct arena *a;
  int rc = arena_open(arena, arena_size, &a);
  if (rc != 0) return rc;
  if (!enter(a)) {
    arena_scrub(arena, arena_size);
    return RMM_CRYPTO_ERR_STATE;
  }
  a->phase = PHASE_PUBLIC_KEY;
  mbedtls_ecp_keypair_init(&a->op.key);
  /* Loads the group and checks the scalar is in 1..n-1 (variable time: it reveals
   * only whether the scalar is valid). */
  int ret = mbedtls_ecp_read_key(MBEDTLS_ECP_DP_SECP384R1, &a->op.key, scalar, RMM_P384_BYTES);
  /* No caller-provided seed here: the blinding RNG is keyed by the scalar itself, so it
   * is unpredictable to an observer though the same for every derivation of one key. */
  if (ret == 0) ret = seed_blinding(a, scalar);
  if (ret == 0) ret = mbedtls_ecp_keypair_calc_public(&a->op.key, mbedtls_hmac_drbg_random, &a->blinding);
  uint8_t point[1 + 2 * RMM_P384_BYTES]; /* 04 || x || y */
  size_t point_length = 0;
  if (ret == 0)
    ret = mbedtls_ecp_write_public_key(&a->op.key, MBEDTLS_ECP_PF_UNCOMPRESSED, &point_length, point, sizeof(point));
  if (ret == 0 && point_length != sizeof(point)) ret = MBEDTLS_ERR_ECP_BUFFER_TOO_SMALL;
  if (ret == 0) {
    memcpy(x, point + 1, RMM_P384_BYTES);
    memcpy(y, point + 1 + RMM_P384_BYTES, RMM_P384_BYTES);
  }
  leave();
  rc = ret == 0 ? 0 : map_error(a, ret);
  size_t peak = a->peak;
  arena_free_objects(a);
  arena_scrub(arena, a->size);
  /* Only the high-water mark survives, for rmm_crypto_arena_peak. */
  a->magic = ARENA_MAGIC;
  a->phase = PHASE_KEY_DONE;
  a->peak = peak;
  return rc;
}

static void sign_abort(void *arena, size_t arena_size);

static int sign_start(void *arena, size_t arena_size, const uint8_t scalar[RMM_P384_BYTES],
                      const uint8_t hash[RMM_P384_BYTES], const uint8_t blinding_seed[RMM_P384_BYTES]) {
  if (scalar == NULL || hash == NULL || blinding_seed == NULL) return RMM_CRYPTO_ERR_ARGS;
  struct arena *a;
  int rc = arena_open(arena, arena_size, &a);
  if (rc != 0) return rc;
  if (!enter(a)) {
    arena_scrub(arena, arena_size);
    return RMM_CRYPTO_ERR_STATE;
  }
  a->phase = PHASE_SIGNING;
  mbedtls_ecp_group_init(&a->op.sign.group);
  mbedtls_mpi_init(&a->op.sign.scalar);
  mbedtls_mpi_init(&a->op.sign.r);
  mbedtls_mpi_init(&a->op.sign.s);
  mbedtls_ecdsa_restart_init(&a->op.sign.restart);
  memcpy(a->op.sign.hash, hash, RMM_P384_BYTES);
  int ret = mbedtls_ecp_group_load(&a->op.sign.group, MBEDTLS_ECP_DP_SECP384R1);
  if (ret == 0) ret = mbedtls_mpi_read_binary(&a->op.sign.scalar, scalar, RMM_P384_BYTES);
  /* 1..n-1, compared in variable time: that reveals only whether the scalar is valid. */
  if (ret == 0) ret = mbedtls_ecp_check_privkey(&a->op.sign.group, &a->op.sign.scalar);
  if (ret == 0) ret = seed_blinding(a, blinding_seed);
  leave();
  if (ret != 0) {
    rc = map_error(a, ret);
    sign_abort(arena, arena_size);
    return rc;
  }
  return 0;
}

#ifdef RMM_CRYPTO_HOST
static unsigned step_ops = RMM_P384_STEP_OPS;
void rmm_crypto_host_set_step_ops(unsigned ops) { step_ops = ops; }
#else
#define step_ops RMM_P384_STEP_OPS
#endif

static int sign_step(void *arena) {
  struct arena *a = arena_live(arena);
  if (a == NULL) return RMM_CRYPTO_ERR_STATE;
  if (a->phase == PHASE_SIGNED) return RMM_CRYPTO_DONE;
  if (a->phase != PHASE_SIGNING) return RMM_CRYPTO_ERR_STATE;
  if (!enter(a)) return RMM_CRYPTO_ERR_STATE;
  /* mbedTLS keeps the budget in a global; every CPU stores the same constant, so
   * concurrent signatures on other CPUs see the same value. */
  mbedtls_ecp_set_max_ops(step_ops);
  int ret = mbedtls_ecdsa_sign_det_restartable(&a->op.sign.group, &a->op.sign.r, &a->op.sign.s,
                                               &a->op.sign.scalar, a->op.sign.hash, RMM_P384_BYTES,
                                               MBEDTLS_MD_SHA384, mbedtls_hmac_drbg_random, &a->blinding,
                                               &a->op.sign.restart);
  leave();
  if (ret == MBEDTLS_ERR_ECP_IN_PROGRESS) return RMM_CRYPTO_IN_PROGRESS;
  if (ret == 0) {
    a->phase = PHASE_SIGNED;
    return RMM_CRYPTO_DONE;
  }
  int rc = map_error(a, ret);
  sign_abort(arena, a->size);
  return rc;
}

static int sign_finish(void *arena, uint8_t signature[2 * RMM_P384_BYTES]) {
  struct arena *a = arena_live(arena);
  if (a == NULL || a->phase != PHASE_SIGNED) return RMM_CRYPTO_ERR_STATE;
  if (signature == NULL) return RMM_CRYPTO_ERR_ARGS;
  /* r and s are already in 1..n-1, so they always fit in 48 bytes. */
  int ret = mbedtls_mpi_write_binary(&a->op.sign.r, signature, RMM_P384_BYTES);
  if (ret == 0) ret = mbedtls_mpi_write_binary(&a->op.sign.s, signature + RMM_P384_BYTES, RMM_P384_BYTES);
  int rc = ret == 0 ? 0 : RMM_CRYPTO_ERR_INTERNAL;
  if (rc != 0) memset(signature, 0, 2 * RMM_P384_BYTES);
  sign_abort(arena, a->size);
  return rc;
}

static void sign_abort(void *arena, size_t arena_size) {
  if (arena == NULL) return;
  struct arena *a = arena_size >= sizeof(struct arena) ? arena_live(arena) : NULL;
  if (a != NULL && a->size <= arena_size) arena_free_objects(a);
  arena_scrub(arena, arena_size);
}

/* --- API ------------------------------------------------------------------------ */

int rmm_p384_public_key(void *arena, size_t arena_size, const uint8_t scalar[RMM_P384_BYTES],
                        uint8_t x[RMM_P384_BYTES], uint8_t y[RMM_P384_BYTES]) {
  int rc = public_key(arena, arena_size, scalar, x, y);
  if (rc != 0 && x != NULL && y != NULL) {
    memset(x, 0, RMM_P384_BYTES);
    memset(y, 0, RMM_P384_BYTES);
  }
  scrub_stack();
  return rc;
}

int rmm_p384_sign_start(void *arena, size_t arena_size, const uint8_t scalar[RMM_P384_BYTES],
                        const uint8_t hash[RMM_P384_BYTES], const uint8_t blinding_seed[RMM_P384_BYTES]) {
  int rc = sign_start(arena, arena_size, scalar, hash, blinding_seed);
  scrub_stack();
  return rc;
}

int rmm_p384_sign_step(void *arena) {
  int rc = sign_step(arena);
  scrub_stack();
  return rc;
}

int rmm_p384_sign_finish(void *arena, uint8_t signature[2 * RMM_P384_BYTES]) {
  int rc = sign_finish(arena, signature);
  scrub_stack();
  return rc;
}

void rmm_p384_sign_abort(void *arena, size_t arena_size) {
  sign_abort(arena, arena_size);
  scrub_stack();
}

/* Rounded up to 16, the granularity of arena sizes: an arena this big would have sufficed. */
size_t rmm_crypto_arena_peak(const void *arena) {
  const struct arena *a = arena_live(arena);
  return a != NULL ? round_up(a->peak, 16) : 0;
}

/* MBEDTLS_PLATFORM_ZEROIZE_ALT (see mbedtls_rmm_config.h). The empty asm takes the
 * buffer and clobbers memory, so the compiler must assume the zeros are read and
 * cannot drop the stores as dead, however the call is inlined or optimised. */
void mbedtls_platform_zeroize(void *buf, size_t len) {
  if (len == 0) return;
  memset(buf, 0, len);
  __asm__ volatile("" : : "r"(buf) : "memory");
}

/* --- C library functions mbedTLS references that boot/runtime.c does not have --- */

#ifndef RMM_CRYPTO_HOST
/* Only reachable from mbedTLS's by-name lookups (curve and digest names, decimal
 * bignum strings), which the RMM never calls; defined so the library links alone. */
size_t strlen(const char *s) {
  size_t n = 0;
  while (s[n] != '\0') n++;
  return n;
}

int strcmp(const char *a, const char *b) {
  const unsigned char *x = (const unsigned char *)a, *y = (const unsigned char *)b;
  while (*x != '\0' && *x == *y) x++, y++;
  return *x - *y;
}
#endif

/*
 * ECDSA P-384 signing for the realm attestation token on mbedTLS 3.6, with every byte
 * of state in a caller-provided arena (design: docs/CRYPTO.md).
 *
 * The signature is our own restartable composition of mbedTLS primitives rather than
 * mbedtls_ecdsa_sign_det_restartable: RFC 6979 nonce (HMAC_DRBG + mbedtls_ecp_gen_privkey,
 * exactly as mbedTLS does it), R = k*G with mbedtls_ecp_mul_restartable, then a last
 * step that is blinded by a random t and computed with constant-time Montgomery
 * arithmetic modulo n (sign_final below). mbedTLS 3.6.6 computes that last step
 * unblinded, with variable-time multiplications and a long division.
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
#include "mbedtls/ecp.h"
#include "mbedtls/hmac_drbg.h"
#include "mbedtls/md.h"
#include "mbedtls/platform.h"
#include "mbedtls/platform_util.h"
/* mbedTLS's fixed-size constant-time bignum layer (library/bignum_core.h: Montgomery
 * multiplication, the constant-time inversion, ...). Internal to mbedTLS but stable
 * within the 3.6 LTS branch; ecdsa.c reaches the inversion the same way. */
#include "bignum_core.h"

#define ARENA_MAGIC 0x54505952434d4d52ull /* "RMMCRYPT" */

/* Progress of a signature between steps (op.sign.stage). */
enum sign_stage {
  STAGE_SEED = 0, /* seed the RFC 6979 DRBG from the scalar and the digest */
  STAGE_NONCE,    /* draw the next RFC 6979 candidate k */
  STAGE_MUL,      /* R = k*G in progress (restart context live) */
  STAGE_FINAL,    /* R done and r != 0: the blinded s computation is next */
};

/* RFC 6979 candidates before giving up. A candidate is only rejected when r or s is 0
 * (probability about 2^-383 each); mbedTLS also gives up after 11 tries. */
#define MAX_NONCE_CANDIDATES 11

/* Limbs of a number modulo n (P-384: 6 64-bit limbs). */
#define LIMBS (RMM_P384_BYTES / sizeof(mbedtls_mpi_uint))

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
      mbedtls_mpi scalar;              /* d, checked to be in 1..n-1 */
      mbedtls_mpi k;                   /* the current RFC 6979 nonce candidate */
      mbedtls_ecp_point R;             /* k*G */
      mbedtls_mpi r, s;                /* the signature, once DONE */
      mbedtls_ecp_restart_ctx restart; /* the scalar multiplication's state between steps */
      mbedtls_hmac_drbg_context nonce; /* RFC 6979's HMAC_DRBG(SHA-384) */
      uint8_t hash[RMM_P384_BYTES];
      uint8_t e[RMM_P384_BYTES];       /* bits2int(hash) mod n (public) */
      uint32_t stage;                  /* enum sign_stage */
      uint32_t candidates;             /* nonce candidates drawn so far */
    } sign;
    mbedtls_ecp_keypair key; /* public key: only the keypair API reaches the base point */
  } op;
  mbedtls_hmac_drbg_context blinding; /* randomises projective coordinates; draws t */
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
    mbedtls_ecp_restart_free(&a->op.sign.restart);
    mbedtls_hmac_drbg_free(&a->op.sign.nonce);
    mbedtls_ecp_point_free(&a->op.sign.R);
    mbedtls_mpi_free(&a->op.sign.k);
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

/* Opens a fresh arena for an operation and makes it this CPU's current one. */
static int arena_begin(void *arena, size_t arena_size, enum arena_phase phase, struct arena **out) {
  int rc = arena_open(arena, arena_size, out);
  if (rc != 0) return rc;
  if (!enter(*out)) {
    arena_scrub(arena, arena_size);
    return RMM_CRYPTO_ERR_STATE;
  }
  (*out)->phase = phase;
  return 0;
}

static int public_key(void *arena, size_t arena_size, const uint8_t scalar[RMM_P384_BYTES],
                      uint8_t x[RMM_P384_BYTES], uint8_t y[RMM_P384_BYTES]) {
  if (scalar == NULL || x == NULL || y == NULL) return RMM_CRYPTO_ERR_ARGS;
  struct arena *a;
  int rc = arena_begin(arena, arena_size, PHASE_PUBLIC_KEY, &a);
  if (rc != 0) return rc;
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

/* --- Numbers modulo n as fixed-size limb arrays (mbedTLS's bignum_core) -------------- */

/* A bignum's value as LIMBS limbs (it must be below 2^384), through a big-endian byte
 * buffer: mbedtls_mpi_write_binary and mbedtls_mpi_core_read_be copy every byte of a
 * 6-limb number whatever its value (no branch on it). */
static int load_limbs(mbedtls_mpi_uint x[LIMBS], const mbedtls_mpi *value, uint8_t bytes[RMM_P384_BYTES]) {
  int ret = mbedtls_mpi_write_binary(value, bytes, RMM_P384_BYTES);
  if (ret == 0) ret = mbedtls_mpi_core_read_be(x, LIMBS, bytes, RMM_P384_BYTES);
  return ret;
}

/* out = in mod n for a 48-byte number in < 2^384 < 2n (the digest, R.x): one
 * subtraction, undone if it borrowed. */
static int reduce_once(const mbedtls_ecp_group *group, const uint8_t in[RMM_P384_BYTES],
                       uint8_t out[RMM_P384_BYTES]) {
  mbedtls_mpi_uint n[LIMBS], x[LIMBS];
  uint8_t bytes[RMM_P384_BYTES];
  int ret = load_limbs(n, &group->N, bytes);
  if (ret == 0) ret = mbedtls_mpi_core_read_be(x, LIMBS, in, RMM_P384_BYTES);
  if (ret == 0) {
    mbedtls_mpi_uint borrow = mbedtls_mpi_core_sub(x, x, n, LIMBS);
    (void)mbedtls_mpi_core_add_if(x, n, LIMBS, (unsigned)borrow);
    ret = mbedtls_mpi_core_write_be(x, LIMBS, out, RMM_P384_BYTES);
  }
  return ret;
}

/* --- The blinded last step: s = k^-1 (e + r d) mod n ---------------------------------
 *
 * mbedTLS 3.6.6 computes this with variable-time multiplications and a long division
 * (mbedtls_mpi_mod_mpi) on k, d and their products, unblinded. Here every product is a
 * constant-time Montgomery multiplication modulo n (mbedtls_mpi_core_montmul,
 * M(a, b) = a b R^-1 mod n, R = 2^384: fixed limb count, final subtraction by masking)
 * and the inversion is mbedTLS's constant-time one; on top of that the secret values
 * are blinded by t, uniform in 1..n-1 from the blinding DRBG:
 *
 *   a = M(t, k)           = t k R^-1          masks k (only this call sees k)
 *   w = a^-1              = t^-1 k^-1 R       constant-time inversion
 *   b = M(t, M(M(r, RR), RR)) = t r R        "t r mod n" (RR = R^2 mod n; r public)
 *   c = M(b, d)           = t r d             masks d (only this call sees d)
 *   f = M(t, M(e, RR))    = t e
 *   g = f + c mod n       = t (e + r d)
 *   s = M(w, g)           = k^-1 (e + r d)
 *
 * Every call but two only ever sees values multiplied by t (times a power of R) or
 * public ones; k and d each enter exactly one (constant-time) multiplication, by t and
 * by t r R. The blinding is defence in depth: it is what protects the last step if a
 * constant-time primitive turns out not to be (a compiler, a CPU's multiplier). The
 * remaining variable-time work is on public values: R^2 mod n (from n alone), e and r
 * (from the digest and R.x), the s == 0 test. The host self-test checks every call's
 * operands (rmm_crypto_host_set_trace). */

struct final_scratch {
  mbedtls_mpi_uint n[LIMBS];  /* the group order */
  mbedtls_mpi_uint rr[LIMBS]; /* R^2 mod n */
  mbedtls_mpi_uint t[LIMBS];  /* the blinding factor */
  mbedtls_mpi_uint w[LIMBS], x[LIMBS], y[LIMBS], z[LIMBS];
  mbedtls_mpi_uint work[5 * LIMBS]; /* montmul needs 2 * LIMBS + 1, the inversion 5 * LIMBS */
  mbedtls_mpi_uint mm;              /* -n^-1 mod 2^64, Montgomery's constant */
  uint8_t bytes[RMM_P384_BYTES];
};

#ifdef RMM_CRYPTO_HOST
/* Host self-test only: records each arithmetic call of sign_final (operands before
 * the call, the result after it) so the test can check what each one received. */
static struct rmm_crypto_host_trace *host_trace;
void rmm_crypto_host_set_trace(struct rmm_crypto_host_trace *trace) { host_trace = trace; }

static void trace_number(uint8_t out[RMM_P384_BYTES], const mbedtls_mpi_uint *x) {
  if (x != NULL) (void)mbedtls_mpi_core_write_be(x, LIMBS, out, RMM_P384_BYTES);
  else memset(out, 0, RMM_P384_BYTES);
}

static void trace_begin(int what, const mbedtls_mpi_uint *a, const mbedtls_mpi_uint *b) {
  if (host_trace == NULL || host_trace->calls >= RMM_CRYPTO_HOST_TRACE_CALLS) return;
  host_trace->call[host_trace->calls].what = what;
  trace_number(host_trace->call[host_trace->calls].a, a);
  trace_number(host_trace->call[host_trace->calls].b, b);
}

static void trace_end(const mbedtls_mpi_uint *result) {
  if (host_trace == NULL || host_trace->calls >= RMM_CRYPTO_HOST_TRACE_CALLS) return;
  trace_number(host_trace->call[host_trace->calls].result, result);
  host_trace->calls++;
}

static void trace_start(const mbedtls_mpi_uint *t) {
  if (host_trace == NULL) return;
  host_trace->calls = 0;
  trace_number(host_trace->t, t);
}

/* Host self-test only: treat the next candidates as if r, or s, were 0 (the retry
 * paths are otherwise unreachable: probability about 2^-383). */
static unsigned host_reject_r, host_reject_s;
void rmm_crypto_host_reject(unsigned r_count, unsigned s_count) {
  host_reject_r = r_count;
  host_reject_s = s_count;
}

static void host_rejection(unsigned *count, int *zero) {
  if (*count == 0) return;
  (*count)--;
  *zero = 1;
}
#define host_reject_r(zero) host_rejection(&host_reject_r, zero)
#define host_reject_s(zero) host_rejection(&host_reject_s, zero)
#else
#define trace_begin(what, a, b) ((void)0)
#define trace_end(result) ((void)0)
#define trace_start(t) ((void)0)
#define host_reject_r(zero) ((void)0)
#define host_reject_s(zero) ((void)0)
#endif

/* x = a b R^-1 mod n (a, b < n; x may alias either): constant time. */
static void mul_mod_n(struct final_scratch *f, mbedtls_mpi_uint *x, const mbedtls_mpi_uint *a,
                      const mbedtls_mpi_uint *b) {
  trace_begin(RMM_CRYPTO_HOST_MONTMUL, a, b);
  mbedtls_mpi_core_montmul(x, a, b, LIMBS, f->n, LIMBS, f->mm, f->work);
  trace_end(x);
}

/* x = a^-1 mod n for 0 < a < n (x must not alias a), constant time (the number of
 * iterations depends only on the limb count). gcd is scratch: gcd(a, n), always 1 as n
 * is prime; checked anyway (it is public). */
static int inv_mod_n(struct final_scratch *f, mbedtls_mpi_uint *x, const mbedtls_mpi_uint *a,
                     mbedtls_mpi_uint *gcd) {
  trace_begin(RMM_CRYPTO_HOST_INVERSE, a, NULL);
  mbedtls_mpi_core_gcd_modinv_odd(gcd, x, a, LIMBS, f->n, LIMBS, f->work);
  trace_end(x);
  mbedtls_mpi_uint high = 0;
  for (size_t i = 1; i < LIMBS; i++) high |= gcd[i];
  return gcd[0] == 1 && high == 0 ? 0 : MBEDTLS_ERR_MPI_NOT_ACCEPTABLE;
}

/* x = a + b mod n (a, b < n; x must not alias b), constant time: a - (n - b), plus n
 * when that borrowed. */
static void add_mod_n(struct final_scratch *f, mbedtls_mpi_uint *x, const mbedtls_mpi_uint *a,
                      const mbedtls_mpi_uint *b) {
  trace_begin(RMM_CRYPTO_HOST_ADD, a, b);
  mbedtls_mpi_uint *n_minus_b = f->work;
  (void)mbedtls_mpi_core_sub(n_minus_b, f->n, b, LIMBS);
  mbedtls_mpi_uint borrow = mbedtls_mpi_core_sub(x, a, n_minus_b, LIMBS);
  (void)mbedtls_mpi_core_add_if(x, f->n, LIMBS, (unsigned)borrow);
  trace_end(x);
}

/* s from k, d, r and e (see above); *s_is_zero when the candidate must be rejected. */
static int sign_final(struct arena *a, int *s_is_zero) {
  const mbedtls_ecp_group *group = &a->op.sign.group;
  /* In the arena, not on the stack: freeing the block zeroises it. The mul's restart
   * state is gone by now, so this fits in what it left. */
  struct final_scratch *f = mbedtls_calloc(1, sizeof(*f));
  if (f == NULL) return MBEDTLS_ERR_MPI_ALLOC_FAILED;
  mbedtls_mpi rr;
  mbedtls_mpi_init(&rr);
  int ret;

  /* Public constants: n, R^2 mod n (a long division, of public values), -n^-1 mod 2^64. */
  MBEDTLS_MPI_CHK(load_limbs(f->n, &group->N, f->bytes));
  MBEDTLS_MPI_CHK(mbedtls_mpi_lset(&rr, 1));
  MBEDTLS_MPI_CHK(mbedtls_mpi_shift_l(&rr, 2 * LIMBS * 64));
  MBEDTLS_MPI_CHK(mbedtls_mpi_mod_mpi(&rr, &rr, &group->N));
  MBEDTLS_MPI_CHK(load_limbs(f->rr, &rr, f->bytes));
  f->mm = mbedtls_mpi_core_montmul_init(f->n);

  /* t uniform in 1..n-1: candidates compared in constant time; a rejection (about
   * 2^-194 per candidate) reveals only that a discarded candidate was out of range. */
  MBEDTLS_MPI_CHK(mbedtls_mpi_core_random(f->t, 1, f->n, LIMBS, mbedtls_hmac_drbg_random, &a->blinding));
  trace_start(f->t);

  MBEDTLS_MPI_CHK(load_limbs(f->x, &a->op.sign.k, f->bytes));
  mul_mod_n(f, f->x, f->t, f->x);                     /* x = t k R^-1 */
  MBEDTLS_MPI_CHK(inv_mod_n(f, f->w, f->x, f->y));    /* w = t^-1 k^-1 R */

  MBEDTLS_MPI_CHK(load_limbs(f->x, &a->op.sign.r, f->bytes));
  mul_mod_n(f, f->x, f->x, f->rr);                    /* x = r R */
  mul_mod_n(f, f->x, f->x, f->rr);                    /* x = r R^2 */
  mul_mod_n(f, f->x, f->t, f->x);                     /* x = t r R */
  MBEDTLS_MPI_CHK(load_limbs(f->y, &a->op.sign.scalar, f->bytes));
  mul_mod_n(f, f->y, f->x, f->y);                     /* y = t r d */

  MBEDTLS_MPI_CHK(mbedtls_mpi_core_read_be(f->z, LIMBS, a->op.sign.e, RMM_P384_BYTES));
  mul_mod_n(f, f->z, f->z, f->rr);                    /* z = e R */
  mul_mod_n(f, f->z, f->t, f->z);                     /* z = t e */
  add_mod_n(f, f->x, f->z, f->y);                     /* x = t (e + r d) */
  mul_mod_n(f, f->z, f->w, f->x);                     /* z = k^-1 (e + r d) = s */

  MBEDTLS_MPI_CHK(mbedtls_mpi_core_write_be(f->z, LIMBS, f->bytes, RMM_P384_BYTES));
  MBEDTLS_MPI_CHK(mbedtls_mpi_read_binary(&a->op.sign.s, f->bytes, RMM_P384_BYTES));
  *s_is_zero = mbedtls_mpi_cmp_int(&a->op.sign.s, 0) == 0;
  host_reject_s(s_is_zero);

cleanup:
  mbedtls_mpi_free(&rr);
  mbedtls_free(f); /* zeroised by rmm_crypto_free */
  return ret;
}

/* --- Signing: start and the restartable stages ---------------------------------------- */

static int sign_start(void *arena, size_t arena_size, const uint8_t scalar[RMM_P384_BYTES],
                      const uint8_t hash[RMM_P384_BYTES], const uint8_t blinding_seed[RMM_P384_BYTES]) {
  if (scalar == NULL || hash == NULL || blinding_seed == NULL) return RMM_CRYPTO_ERR_ARGS;
  struct arena *a;
  int rc = arena_begin(arena, arena_size, PHASE_SIGNING, &a);
  if (rc != 0) return rc;
  mbedtls_ecp_group_init(&a->op.sign.group);
  mbedtls_mpi_init(&a->op.sign.scalar);
  mbedtls_mpi_init(&a->op.sign.k);
  mbedtls_ecp_point_init(&a->op.sign.R);
  mbedtls_mpi_init(&a->op.sign.r);
  mbedtls_mpi_init(&a->op.sign.s);
  mbedtls_ecp_restart_init(&a->op.sign.restart);
  mbedtls_hmac_drbg_init(&a->op.sign.nonce);
  a->op.sign.stage = STAGE_SEED;
  a->op.sign.candidates = 0;
  memcpy(a->op.sign.hash, hash, RMM_P384_BYTES);
  int ret = mbedtls_ecp_group_load(&a->op.sign.group, MBEDTLS_ECP_DP_SECP384R1);
  if (ret == 0) ret = mbedtls_mpi_read_binary(&a->op.sign.scalar, scalar, RMM_P384_BYTES);
  /* 1..n-1, compared in variable time: that reveals only whether the scalar is valid. */
  if (ret == 0) ret = mbedtls_ecp_check_privkey(&a->op.sign.group, &a->op.sign.scalar);
  /* e = bits2int(hash) mod n (SEC1 4.1.3 step 5; RFC 6979 bits2octets): qlen is 384,
   * so no shift, and one subtraction reduces it. Public. */
  if (ret == 0) ret = reduce_once(&a->op.sign.group, hash, a->op.sign.e);
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

/* RFC 6979 section 3.2 steps b-f, as mbedTLS seeds it: HMAC_DRBG(SHA-384) with
 * int2octets(d) || bits2octets(h) (V = 01.., K = 00.., then K and V updated twice). */
static int sign_seed_nonce(struct arena *a) {
  const mbedtls_md_info_t *sha384 = mbedtls_md_info_from_type(MBEDTLS_MD_SHA384);
  if (sha384 == NULL) return MBEDTLS_ERR_MD_FEATURE_UNAVAILABLE;
  uint8_t material[2 * RMM_P384_BYTES];
  int ret = mbedtls_mpi_write_binary(&a->op.sign.scalar, material, RMM_P384_BYTES);
  memcpy(material + RMM_P384_BYTES, a->op.sign.e, RMM_P384_BYTES);
  if (ret == 0) ret = mbedtls_hmac_drbg_seed_buf(&a->op.sign.nonce, sha384, material, sizeof(material));
  mbedtls_platform_zeroize(material, sizeof(material));
  return ret;
}

/* r = R.x mod n (R.x < p < 2n), then R is no longer needed. */
static int sign_r(struct arena *a, int *r_is_zero) {
  uint8_t point[1 + 2 * RMM_P384_BYTES]; /* 04 || x || y, public */
  size_t length = 0;
  int ret = mbedtls_ecp_point_write_binary(&a->op.sign.group, &a->op.sign.R, MBEDTLS_ECP_PF_UNCOMPRESSED, &length,
                                           point, sizeof(point));
  if (ret == 0 && length != sizeof(point)) ret = MBEDTLS_ERR_ECP_BAD_INPUT_DATA; /* R at infinity: k is 1..n-1 */
  if (ret == 0) ret = reduce_once(&a->op.sign.group, point + 1, point + 1);
  if (ret == 0) ret = mbedtls_mpi_read_binary(&a->op.sign.r, point + 1, RMM_P384_BYTES);
  if (ret == 0) *r_is_zero = mbedtls_mpi_cmp_int(&a->op.sign.r, 0) == 0;
  if (ret == 0) host_reject_r(r_is_zero);
  mbedtls_ecp_point_free(&a->op.sign.R);
  return ret;
}

/* Runs the signature on from its stage until it is done (0), the step's operation
 * budget is spent (MBEDTLS_ERR_ECP_IN_PROGRESS) or an error. The budget is that of
 * mbedtls_ecdsa_sign_det_restartable: the multiplication counts its doublings and
 * additions, and the last step reserves an inversion and 4 operations and runs in the
 * same step only if they still fit. A rejected candidate (r or s zero) ends the step,
 * so no step runs two multiplications. */
static int sign_advance(struct arena *a) {
  int ret, zero = 0;
  switch (a->op.sign.stage) {
    case STAGE_SEED:
      if ((ret = sign_seed_nonce(a)) != 0) return ret;
      a->op.sign.stage = STAGE_NONCE;
      /* fall through */
    case STAGE_NONCE:
      /* RFC 6979 3.2 h: the next candidate in 1..n-1 (mbedtls_mpi_random keeps drawing
       * from the DRBG until one is in range, comparing in constant time). */
      if (a->op.sign.candidates++ >= MAX_NONCE_CANDIDATES) return MBEDTLS_ERR_ECP_RANDOM_FAILED;
      ret = mbedtls_ecp_gen_privkey(&a->op.sign.group, &a->op.sign.k, mbedtls_hmac_drbg_random, &a->op.sign.nonce);
      if (ret != 0) return ret;
      a->op.sign.stage = STAGE_MUL;
      /* fall through */
    case STAGE_MUL:
      /* Resets the operation count (top-level call), then counts against the budget;
       * the blinding DRBG re-randomises the projective coordinates. */
      ret = mbedtls_ecp_mul_restartable(&a->op.sign.group, &a->op.sign.R, &a->op.sign.k, &a->op.sign.group.G,
                                        mbedtls_hmac_drbg_random, &a->blinding, &a->op.sign.restart);
      if (ret != 0) return ret;
      if ((ret = sign_r(a, &zero)) != 0) return ret;
      if (zero) {
        a->op.sign.stage = STAGE_NONCE;
        return MBEDTLS_ERR_ECP_IN_PROGRESS;
      }
      a->op.sign.stage = STAGE_FINAL;
      ret = mbedtls_ecp_check_budget(&a->op.sign.group, &a->op.sign.restart, MBEDTLS_ECP_OPS_INV + 4);
      if (ret != 0) return ret;
      /* fall through */
    case STAGE_FINAL:
      if ((ret = sign_final(a, &zero)) != 0) return ret;
      if (zero) {
        a->op.sign.stage = STAGE_NONCE;
        return MBEDTLS_ERR_ECP_IN_PROGRESS;
      }
      /* Done: the nonce and its generator are no longer needed. */
      mbedtls_mpi_free(&a->op.sign.k);
      mbedtls_hmac_drbg_free(&a->op.sign.nonce);
      return 0;
    default:
      return MBEDTLS_ERR_ECP_BAD_INPUT_DATA;
  }
}

static int sign_step(void *arena) {
  struct arena *a = arena_live(arena);
  if (a == NULL) return RMM_CRYPTO_ERR_STATE;
  if (a->phase == PHASE_SIGNED) return RMM_CRYPTO_DONE;
  if (a->phase != PHASE_SIGNING) return RMM_CRYPTO_ERR_STATE;
  if (!enter(a)) return RMM_CRYPTO_ERR_STATE;
  /* mbedTLS keeps the budget in a global; every CPU stores the same constant, so
   * concurrent signatures on other CPUs see the same value. */
  mbedtls_ecp_set_max_ops(step_ops);
  int ret = sign_advance(a);
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

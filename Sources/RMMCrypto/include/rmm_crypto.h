/*
 * ECDSA P-384 for the realm attestation token (ES384), on mbedTLS 3.6.
 * Design: docs/CRYPTO.md.
 *
 * All state lives in a caller-provided arena: no heap, no globals that outlive a
 * call (except the per-CPU "arena in use" pointer, set on entry and cleared on exit).
 * The arena must be 16-byte aligned and stay at the same VA for the whole of one
 * signature (it holds pointers into itself); the RMM uses the REC's aux granules,
 * mapped at the same VA on every CPU, so a signature can be resumed on any CPU.
 * One arena serves one operation at a time: the caller serialises calls on it.
 *
 * Return values: 0 (RMM_CRYPTO_DONE) = success, RMM_CRYPTO_IN_PROGRESS from
 * rmm_p384_sign_step when more steps are needed, negative = error.
 * All byte strings are big-endian.
 */
#ifndef RMM_CRYPTO_H
#define RMM_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#define RMM_P384_BYTES 48

/* Work done by one rmm_p384_sign_step, in mbedTLS's operation units (a point doubling
 * counts 8, an addition 11, an inversion 120); docs/CRYPTO.md has the measured steps
 * per signature and time per step. */
#define RMM_P384_STEP_OPS 1000u

#define RMM_CRYPTO_DONE 0
#define RMM_CRYPTO_IN_PROGRESS 1

#define RMM_CRYPTO_ERR_ARGS (-1)     /* NULL or misaligned pointer */
#define RMM_CRYPTO_ERR_ARENA (-2)    /* the arena is too small for the operation */
#define RMM_CRYPTO_ERR_KEY (-3)      /* the scalar is not in 1..n-1 */
#define RMM_CRYPTO_ERR_STATE (-4)    /* call out of sequence (no signature started, not done, ...) */
#define RMM_CRYPTO_ERR_INTERNAL (-5) /* any other failure inside mbedTLS */

/* Public key (x, y) = scalar * G. The arena is scrubbed before returning, except for
 * a small header recording the high-water mark (see rmm_crypto_arena_peak). */
int rmm_p384_public_key(void *arena, size_t arena_size, const uint8_t scalar[RMM_P384_BYTES],
                        uint8_t x[RMM_P384_BYTES], uint8_t y[RMM_P384_BYTES]);

/* Starts a deterministic (RFC 6979, SHA-384) signature of a SHA-384 digest. The scalar
 * is copied into the arena; blinding_seed seeds the RNG that randomises the projective
 * coordinates (it does not change the signature). No curve arithmetic is done here.
 * On error the arena is scrubbed. */
int rmm_p384_sign_start(void *arena, size_t arena_size, const uint8_t scalar[RMM_P384_BYTES],
                        const uint8_t hash[RMM_P384_BYTES], const uint8_t blinding_seed[RMM_P384_BYTES]);

/* One bounded chunk of work: RMM_CRYPTO_DONE, RMM_CRYPTO_IN_PROGRESS or < 0. After an
 * error the arena has been scrubbed; after DONE further steps return DONE again. */
int rmm_p384_sign_step(void *arena);

/* Writes r || s (96 bytes) once a step returned DONE, then scrubs the whole arena. */
int rmm_p384_sign_finish(void *arena, uint8_t signature[2 * RMM_P384_BYTES]);

/* Frees and scrubs the whole arena (arena_size bytes), whatever state it is in. */
void rmm_p384_sign_abort(void *arena, size_t arena_size);

/* The arena's high-water mark in bytes (control block included, rounded up to 16):
 * the smallest arena_size that would have sufficed for the operation. Valid
 * while a signature is in progress or done (before finish) and after
 * rmm_p384_public_key; 0 for a scrubbed arena. */
size_t rmm_crypto_arena_peak(const void *arena);

#ifdef RMM_CRYPTO_HOST
/* Host self-test only: the mbedTLS operation budget of one rmm_p384_sign_step
 * (0 = unlimited); the firmware always uses the built-in budget. */
void rmm_crypto_host_set_step_ops(unsigned ops);

/* Host self-test only: while a trace is set, the last signing step (the blinded
 * s = k^-1 (e + r d) mod n, docs/CRYPTO.md) records the blinding factor t it drew and,
 * in order, each mbedTLS arithmetic call it makes: operands before the call and result
 * after it, as 48-byte big-endian numbers (an absent operand is zero). NULL stops it. */
#define RMM_CRYPTO_HOST_MONTMUL 1 /* result = a b R^-1 mod n, R = 2^384 */
#define RMM_CRYPTO_HOST_INVERSE 2 /* result = a^-1 mod n */
#define RMM_CRYPTO_HOST_ADD 3     /* result = a + b mod n */
#define RMM_CRYPTO_HOST_TRACE_CALLS 16
struct rmm_crypto_host_trace {
  uint8_t t[RMM_P384_BYTES];
  unsigned calls;
  struct {
    int what; /* RMM_CRYPTO_HOST_MONTMUL, _INVERSE or _ADD */
    uint8_t a[RMM_P384_BYTES], b[RMM_P384_BYTES], result[RMM_P384_BYTES];
  } call[RMM_CRYPTO_HOST_TRACE_CALLS];
};
void rmm_crypto_host_set_trace(struct rmm_crypto_host_trace *trace);

/* Host self-test only: the next r_count nonce candidates are treated as if r were 0 and
 * the next s_count as if s were 0, so the RFC 6979 retry paths can be tested. */
void rmm_crypto_host_reject(unsigned r_count, unsigned s_count);
#endif

#endif /* RMM_CRYPTO_H */

/*
 * mbedTLS 3.6 configuration for the RMM's attestation signer (MBEDTLS_CONFIG_FILE).
 *
 * Only what ECDSA P-384 signing with RFC 6979 nonces needs, restartable so a
 * signature can be spread over many short RMI calls. Everything else of the
 * default mbedtls_config.h is off: no PSA, no entropy sources, no time, no file
 * or network IO, no self-tests, no printf, no hardware-accelerated code paths.
 * The same file is used for the firmware (aarch64, freestanding) and the host
 * self-test build, so what is tested on the host is the configuration that ships.
 */
#ifndef MBEDTLS_RMM_CONFIG_H
#define MBEDTLS_RMM_CONFIG_H

#include <stddef.h>

/* --- System support ------------------------------------------------------ */

/* Inline assembly for the bignum inner loops (bn_mul.h) and for the constant-time
 * selection helpers (constant_time_impl.h). On aarch64 both use general registers
 * only (mul/umulh/adds/csel), and the asm keeps the compiler from turning the
 * constant-time selections back into branches. */
#define MBEDTLS_HAVE_ASM

/* The bignum code may divide a 128-bit value by a 64-bit one; with a native
 * 128-bit type that becomes a call to __udivti3, which a freestanding firmware
 * does not have. This selects mbedTLS's own long division instead. */
#define MBEDTLS_NO_UDBL_DIVISION

/* No MBEDTLS_HAVE_TIME / MBEDTLS_HAVE_TIME_DATE: nothing here needs a clock. */

/* --- Platform: no libc heap, no stdio -------------------------------------- */

#define MBEDTLS_PLATFORM_C
#define MBEDTLS_PLATFORM_MEMORY
/* Do not default mbedtls_printf/snprintf/exit/... to the C library: there is none. */
#define MBEDTLS_PLATFORM_NO_STD_FUNCTIONS
/* Every allocation goes to the arena of the signature in progress (rmm_crypto.c).
 * Macros rather than mbedtls_platform_set_calloc_free(): no writable function
 * pointers, and nothing to initialise before the first call. */
void *rmm_crypto_calloc(size_t count, size_t size);
void rmm_crypto_free(void *ptr);
#define MBEDTLS_PLATFORM_CALLOC_MACRO rmm_crypto_calloc
#define MBEDTLS_PLATFORM_FREE_MACRO rmm_crypto_free

/* mbedtls_platform_zeroize comes from rmm_crypto.c (memset plus a compiler barrier).
 * mbedTLS's portable version calls memset through a const volatile function
 * pointer: an absolute address in .rodata, which would make the RMM image depend on
 * its link address (scripts/check-image relinks it elsewhere and compares). */
#define MBEDTLS_PLATFORM_ZEROIZE_ALT

/* --- Modules --------------------------------------------------------------- */

#define MBEDTLS_BIGNUM_C
#define MBEDTLS_ECP_C
#define MBEDTLS_ECP_DP_SECP384R1_ENABLED   /* the only curve: CCA realm attestation keys are P-384 */
#define MBEDTLS_ECDSA_C
#define MBEDTLS_ECDSA_DETERMINISTIC        /* RFC 6979: the nonce never depends on an RNG */
#define MBEDTLS_HMAC_DRBG_C                /* RFC 6979's nonce generator, and our blinding RNG */
#define MBEDTLS_MD_C                       /* HMAC_DRBG needs the generic message-digest layer */
#define MBEDTLS_SHA384_C                   /* ES384; SHA-512 itself is not needed */
/* Only because check_config.h requires them with MBEDTLS_ECDSA_C (for the DER
 * signature helpers, which we do not call: the token wants raw r || s). The
 * firmware link drops them with --gc-sections. */
#define MBEDTLS_ASN1_PARSE_C
#define MBEDTLS_ASN1_WRITE_C

/* Lets a scalar multiplication stop after a bounded number of operations
 * (mbedtls_ecp_set_max_ops) and resume from a context held in the arena. */
#define MBEDTLS_ECP_RESTARTABLE

/* Reduction modulo the P-384 prime by its special form (a fixed sequence of word
 * additions) instead of a generic bignum division: much faster, and it leaves only
 * the final carry corrections data dependent, on coordinates the blinding has
 * randomised (docs/CRYPTO.md, "constant time"). */
#define MBEDTLS_ECP_NIST_OPTIM

/* --- Sizes ----------------------------------------------------------------- */

/* Comb width for scalar multiplication (signing and public keys multiply only G).
 * MBEDTLS_ECP_FIXED_POINT_OPTIM 1 would use mbedTLS's precomputed table for G: a const
 * table in .rodata, about 2.5x faster, but its points hold absolute pointers to their
 * limbs, so the RMM image would no longer be position independent. With 0 every
 * multiplication first computes a table of 2^(w-1) points into the arena, w capped by
 * MBEDTLS_ECP_WINDOW_SIZE. Measured (docs/CRYPTO.md): window 2 keeps a signature within
 * one 4 KiB granule (peak about 3.6 KiB); 3, 4 and 5 are only about 10% faster but need
 * 4.4, 6.5 and 10.2 KiB, since what a wider comb saves in additions it spends precomputing. */
#define MBEDTLS_ECP_FIXED_POINT_OPTIM 0
#define MBEDTLS_ECP_WINDOW_SIZE 2

#endif /* MBEDTLS_RMM_CONFIG_H */

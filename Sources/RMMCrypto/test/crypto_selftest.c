/*
 * Host self-test of the ECDSA P-384 signer (Sources/RMMCrypto), run by scripts/check-crypto.
 * Links the host build of librmmcrypto.a and OpenSSL's libcrypto (the independent
 * verifier). One "ok ..." / "FAIL ..." line per check; exit status 1 on any failure.
 */
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rmm_crypto.h"

#define ARENA_BYTES (32 * 1024) /* roomy; the measured peak is far below */
#define CANARY_BYTES 4096       /* after the arena: must never be written */
#define CANARY 0xA5

static _Alignas(16) uint8_t arena_memory[ARENA_BYTES + CANARY_BYTES];
static _Alignas(16) uint8_t second_arena[ARENA_BYTES];
static _Alignas(16) uint8_t saved_arena[ARENA_BYTES];

static int failures;

static void check(int condition, const char *format, ...) {
  va_list args;
  va_start(args, format);
  printf("%s ", condition ? "ok  " : "FAIL");
  vprintf(format, args);
  printf("\n");
  va_end(args);
  if (!condition) failures++;
}

static void from_hex(const char *hex, uint8_t *out, size_t length) {
  for (size_t i = 0; i < length; i++) sscanf(hex + 2 * i, "%2hhx", &out[i]);
}

static int all_zero(const uint8_t *p, size_t n) {
  uint8_t acc = 0;
  for (size_t i = 0; i < n; i++) acc |= p[i];
  return acc == 0;
}

static int canary_intact(void) {
  for (size_t i = 0; i < CANARY_BYTES; i++)
    if (arena_memory[ARENA_BYTES + i] != CANARY) return 0;
  return 1;
}

static double now_seconds(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void sha384(const void *message, size_t length, uint8_t digest[48]) {
  unsigned int digest_length = 0;
  if (!EVP_Digest(message, length, digest, &digest_length, EVP_sha384(), NULL) || digest_length != 48) {
    fprintf(stderr, "OpenSSL SHA-384 failed\n");
    exit(2);
  }
}

/* --- Signing through the API ------------------------------------------------- */

struct sign_result {
  int rc;            /* 0 or the first negative return */
  unsigned steps;    /* calls to rmm_p384_sign_step */
  size_t peak;       /* arena high-water mark before finish */
  double max_step_s; /* slowest single step */
};

/* Signs with the given step budget (0 = unlimited) in the given arena. */
static struct sign_result sign_with(uint8_t *arena, size_t arena_size, unsigned step_ops, const uint8_t scalar[48],
                                    const uint8_t hash[48], const uint8_t seed[48], uint8_t signature[96]) {
  struct sign_result result = {0};
  rmm_crypto_host_set_step_ops(step_ops);
  result.rc = rmm_p384_sign_start(arena, arena_size, scalar, hash, seed);
  while (result.rc == 0) {
    double t0 = now_seconds();
    int step = rmm_p384_sign_step(arena);
    double dt = now_seconds() - t0;
    if (dt > result.max_step_s) result.max_step_s = dt;
    result.steps++;
    if (step == RMM_CRYPTO_DONE) break;
    if (step != RMM_CRYPTO_IN_PROGRESS) result.rc = step;
  }
  if (result.rc == 0) {
    result.peak = rmm_crypto_arena_peak(arena);
    result.rc = rmm_p384_sign_finish(arena, signature);
  }
  rmm_crypto_host_set_step_ops(RMM_P384_STEP_OPS);
  return result;
}

static struct sign_result sign_default(const uint8_t scalar[48], const uint8_t hash[48], const uint8_t seed[48],
                                       uint8_t signature[96]) {
  return sign_with(arena_memory, ARENA_BYTES, RMM_P384_STEP_OPS, scalar, hash, seed, signature);
}

/* --- OpenSSL as the verifier ------------------------------------------------ */

static EVP_PKEY *openssl_public_key(const uint8_t x[48], const uint8_t y[48]) {
  uint8_t point[97];
  point[0] = 0x04;
  memcpy(point + 1, x, 48);
  memcpy(point + 49, y, 48);
  OSSL_PARAM params[] = {
    OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, "secp384r1", 0),
    OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, point, sizeof(point)),
    OSSL_PARAM_construct_end(),
  };
  EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
  EVP_PKEY *key = NULL;
  if (ctx == NULL || EVP_PKEY_fromdata_init(ctx) <= 0 || EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_PUBLIC_KEY, params) <= 0)
    key = NULL;
  EVP_PKEY_CTX_free(ctx);
  return key;
}

static int openssl_verify(EVP_PKEY *key, const uint8_t hash[48], const uint8_t signature[96]) {
  ECDSA_SIG *sig = ECDSA_SIG_new();
  BIGNUM *r = BN_bin2bn(signature, 48, NULL), *s = BN_bin2bn(signature + 48, 48, NULL);
  if (sig == NULL || r == NULL || s == NULL || !ECDSA_SIG_set0(sig, r, s)) return -1;
  unsigned char *der = NULL;
  int der_length = i2d_ECDSA_SIG(sig, &der);
  EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(key, NULL);
  int ok = ctx != NULL && der_length > 0 && EVP_PKEY_verify_init(ctx) > 0 &&
           EVP_PKEY_verify(ctx, der, (size_t)der_length, hash, 48) == 1;
  EVP_PKEY_CTX_free(ctx);
  OPENSSL_free(der);
  ECDSA_SIG_free(sig);
  return ok;
}

/* --- Vectors ------------------------------------------------------------------ */

/* RFC 6979 appendix A.2.6 (P-384). */
static const char *rfc_key = "6B9D3DAD2E1B8C1C05B19875B6659F4DE23C3B667BF297BA9AA47740787137D896D5724E4C70A825F872C9EA60D2EDF5";
static const char *rfc_ux = "EC3A4E415B4E19A4568618029F427FA5DA9A8BC4AE92E02E06AAE5286B300C64DEF8F0EA9055866064A254515480BC13";
static const char *rfc_uy = "8015D9B72D7D57244EA8EF9AC0C621896708A59367F9DFB9F54CA84B3F1C9DB1288B231C3AE0D4FE7344FD2533264720";
static const struct {
  const char *message, *r, *s;
} rfc_sha384[] = {
  {"sample", "94EDBB92A5ECB8AAD4736E56C691916B3F88140666CE9FA73D64C4EA95AD133C81A648152E44ACF96E36DD1E80FABE46",
   "99EF4AEB15F178CEA1FE40DB2603138F130E740A19624526203B6351D0A3A94FA329C145786E679E7B82C71A38628AC8"},
  {"test", "8203B63D3C853E8D77227FB377BCF7B7B772E97892A80F36AB775D509D7A5FEB0542A7F0812998DA8F1DD3CA3CF023DB",
   "DDD0760448D42D8A43AF45AF836FCE4DE8BE06B485E9B61B827C2F13173923E06A739F040649A667BF3B828246BAA5A5"},
};

/* The QEMU test platform's realm attestation key. */
static const char *rak_key = "2011C7F03CEE4325176E524F033C0CE1E21A76E6C1A4F0B839AA1DF61E0E8A5C8A05740F9B69EFA7EB1A4185BD117F68";
static const char *rak_x = "76f988091be585ed41801aecfab858548c63057e16b0e676120bbd0d2f9c29e056c5d41a0130eb9c21517899dc23146b";
static const char *rak_y = "28e1b062bd3ea4b315fd219f1cbb528cb6e74ca49be16773734f61a1ca61031b2bbf3d918f2f94ffc4228e50919544ae";

static const char *p384_order = "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC7634D81F4372DDF581A0DB248B0A77AECEC196ACCC52973";

/* --- Checks ---------------------------------------------------------------------- */

static void test_rfc6979(void) {
  uint8_t key[48], seed[48], ux[48], uy[48], x[48], y[48];
  from_hex(rfc_key, key, 48);
  from_hex(rfc_ux, ux, 48);
  from_hex(rfc_uy, uy, 48);
  memset(seed, 0x5a, sizeof(seed));
  int rc = rmm_p384_public_key(arena_memory, ARENA_BYTES, key, x, y);
  check(rc == 0 && memcmp(x, ux, 48) == 0 && memcmp(y, uy, 48) == 0, "RFC 6979 A.2.6 public key U");
  for (size_t i = 0; i < sizeof(rfc_sha384) / sizeof(rfc_sha384[0]); i++) {
    uint8_t hash[48], expected[96], signature[96];
    sha384(rfc_sha384[i].message, strlen(rfc_sha384[i].message), hash);
    from_hex(rfc_sha384[i].r, expected, 48);
    from_hex(rfc_sha384[i].s, expected + 48, 48);
    struct sign_result result = sign_default(key, hash, seed, signature);
    check(result.rc == 0 && memcmp(signature, expected, 96) == 0, "RFC 6979 A.2.6 P-384/SHA-384 \"%s\": r and s exact",
          rfc_sha384[i].message);
  }
}

static size_t test_rak_public_key(uint8_t x[48], uint8_t y[48]) {
  uint8_t key[48], ex[48], ey[48];
  from_hex(rak_key, key, 48);
  from_hex(rak_x, ex, 48);
  from_hex(rak_y, ey, 48);
  memset(arena_memory + ARENA_BYTES, CANARY, CANARY_BYTES);
  int rc = rmm_p384_public_key(arena_memory, ARENA_BYTES, key, x, y);
  check(rc == 0 && memcmp(x, ex, 48) == 0 && memcmp(y, ey, 48) == 0, "QEMU test RAK public key (x, y)");
  size_t peak = rmm_crypto_arena_peak(arena_memory);
  check(all_zero(arena_memory + 64, ARENA_BYTES - 64) && canary_intact(),
        "public key: arena scrubbed after the header, nothing written past it");
  return peak;
}

static size_t test_openssl_verifies(const uint8_t x[48], const uint8_t y[48]) {
  uint8_t key[48];
  from_hex(rak_key, key, 48);
  EVP_PKEY *public_key = openssl_public_key(x, y);
  check(public_key != NULL, "OpenSSL accepts the RAK public key as a P-384 point");
  if (public_key == NULL) return 0;
  const int count = 500;
  int verified = 0, signed_ok = 0;
  size_t peak = 0;
  for (int i = 0; i < count; i++) {
    uint8_t hash[48], seed[48], signature[96];
    RAND_bytes(hash, 48);
    RAND_bytes(seed, 48);
    struct sign_result result = sign_default(key, hash, seed, signature);
    if (result.rc == 0) signed_ok++;
    if (result.peak > peak) peak = result.peak;
    if (result.rc == 0 && openssl_verify(public_key, hash, signature) == 1) verified++;
    if (i == 0) { /* the verifier is not vacuous */
      signature[95] ^= 1;
      check(openssl_verify(public_key, hash, signature) == 0, "OpenSSL rejects a signature with one bit flipped");
    }
  }
  check(signed_ok == count && verified == count, "%d/%d signatures over random hashes verify under OpenSSL", verified, count);
  EVP_PKEY_free(public_key);
  return peak;
}

/* Random keys: the public key agrees with OpenSSL's scalar multiplication and the
 * signatures verify under it. Returns the largest arena peak seen. */
static size_t test_random_keys(void) {
  const int count = 300;
  EC_GROUP *group = EC_GROUP_new_by_curve_name(NID_secp384r1);
  BN_CTX *bn = BN_CTX_new();
  BIGNUM *order = BN_new();
  if (group == NULL || bn == NULL || order == NULL || !EC_GROUP_get_order(group, order, bn)) {
    check(0, "OpenSSL P-384 group");
    return 0;
  }
  int keys_agree = 0, verified = 0;
  size_t peak = 0;
  for (int i = 0; i < count; i++) {
    uint8_t scalar[48], x[48], y[48], hash[48], seed[48], signature[96], expected_point[97];
    BIGNUM *d = NULL;
    do { /* uniform in 1..n-1 */
      BN_free(d);
      RAND_bytes(scalar, 48);
      d = BN_bin2bn(scalar, 48, NULL);
    } while (BN_is_zero(d) || BN_cmp(d, order) >= 0);
    EC_POINT *q = EC_POINT_new(group);
    int openssl_ok = q != NULL && EC_POINT_mul(group, q, d, NULL, NULL, bn) &&
                     EC_POINT_point2oct(group, q, POINT_CONVERSION_UNCOMPRESSED, expected_point, 97, bn) == 97;
    int rc = rmm_p384_public_key(arena_memory, ARENA_BYTES, scalar, x, y);
    if (rc == 0 && openssl_ok && memcmp(x, expected_point + 1, 48) == 0 && memcmp(y, expected_point + 49, 48) == 0)
      keys_agree++;
    size_t key_peak = rmm_crypto_arena_peak(arena_memory);
    if (key_peak > peak) peak = key_peak;
    RAND_bytes(hash, 48);
    RAND_bytes(seed, 48);
    struct sign_result result = sign_default(scalar, hash, seed, signature);
    if (result.peak > peak) peak = result.peak;
    EVP_PKEY *key = openssl_public_key(x, y);
    if (result.rc == 0 && key != NULL && openssl_verify(key, hash, signature) == 1) verified++;
    EVP_PKEY_free(key);
    EC_POINT_free(q);
    BN_free(d);
  }
  check(keys_agree == count, "%d/%d random scalars: public key equals OpenSSL's d*G", keys_agree, count);
  check(verified == count, "%d/%d signatures with random keys verify under OpenSSL", verified, count);
  BN_free(order);
  BN_CTX_free(bn);
  EC_GROUP_free(group);
  return peak;
}

/* --- The blinded last step ---------------------------------------------------------
 *
 * The host build of rmm_crypto.c records every arithmetic call of the step computing
 * s = k^-1 (e + r d) mod n (rmm_crypto_host_set_trace). With OpenSSL as the reference
 * (k recovered from the signature as s^-1 (e + r d) and confirmed by k*G), this checks
 * each call's operands and result against the intended blinded values, and, whatever
 * the sequence, that no operand or result is an unblinded secret value (k, k^-1, d,
 * r d, e + r d, or one of those times R^j, R = 2^384 the Montgomery radix) except k
 * and d going into the two masking multiplications, by t and by t r R. A different
 * blinding seed must give a different t and different values in every secret-dependent
 * call, and the same signature. */

static BIGNUM *bn_from(const uint8_t bytes[48]) { return BN_bin2bn(bytes, 48, NULL); }

struct expected_call {
  int what;
  BIGNUM *a, *b, *result; /* NULL: not checked (b of the inversion) */
};

/* Montgomery product a b R^-1 mod n. */
static BIGNUM *mont(const BIGNUM *a, const BIGNUM *b, const BIGNUM *r_inverse, const BIGNUM *n, BN_CTX *bn) {
  BIGNUM *x = BN_new();
  BN_mod_mul(x, a, b, n, bn);
  BN_mod_mul(x, x, r_inverse, n, bn);
  return x;
}

/* Checks one traced signature; returns a bit mask of what failed (0 = all good). */
static int check_trace(const struct rmm_crypto_host_trace *trace, const uint8_t scalar[48], const uint8_t hash[48],
                       const uint8_t signature[96], EC_GROUP *group, BN_CTX *bn) {
  int failed = 0;
  BIGNUM *n = BN_new(), *radix = BN_new(), *r_inverse = BN_new(), *rr = BN_new(), *k_inverse = BN_new();
  BIGNUM *d = bn_from(scalar), *e = bn_from(hash), *r = bn_from(signature), *s = bn_from(signature + 48);
  BIGNUM *t = bn_from(trace->t), *k = BN_new(), *rd = BN_new(), *e_rd = BN_new(), *x = BN_new();
  EC_GROUP_get_order(group, n, bn);
  BN_nnmod(e, e, n, bn);
  BN_set_bit(radix, 384);
  BN_nnmod(radix, radix, n, bn);
  BN_mod_inverse(r_inverse, radix, n, bn);
  BN_mod_sqr(rr, radix, n, bn);
  BN_mod_mul(rd, r, d, n, bn);
  BN_mod_add(e_rd, e, rd, n, bn);
  BN_mod_inverse(x, s, n, bn);
  BN_mod_mul(k, x, e_rd, n, bn); /* k = s^-1 (e + r d) */
  BN_mod_inverse(k_inverse, k, n, bn);

  /* k is the nonce: (k*G).x mod n == r. */
  EC_POINT *point = EC_POINT_new(group);
  if (point == NULL || !EC_POINT_mul(group, point, k, NULL, NULL, bn) ||
      !EC_POINT_get_affine_coordinates(group, point, x, NULL, bn) || !BN_nnmod(x, x, n, bn) || BN_cmp(x, r) != 0)
    failed |= 1;
  EC_POINT_free(point);
  if (BN_is_zero(t) || BN_is_one(t) || BN_cmp(t, n) >= 0) failed |= 2;

  /* The intended sequence (rmm_crypto.c, sign_final). */
  BIGNUM *tk = mont(t, k, r_inverse, n, bn), *w = BN_new();
  BN_mod_inverse(w, tk, n, bn);
  BIGNUM *r1 = mont(r, rr, r_inverse, n, bn), *r2 = mont(r1, rr, r_inverse, n, bn);
  BIGNUM *tr = mont(t, r2, r_inverse, n, bn), *trd = mont(tr, d, r_inverse, n, bn);
  BIGNUM *e1 = mont(e, rr, r_inverse, n, bn), *te = mont(t, e1, r_inverse, n, bn), *g = BN_new();
  BN_mod_add(g, te, trd, n, bn);
  BIGNUM *s_check = mont(w, g, r_inverse, n, bn);
  struct expected_call expected[] = {
    {RMM_CRYPTO_HOST_MONTMUL, t, k, tk},     {RMM_CRYPTO_HOST_INVERSE, tk, NULL, w},
    {RMM_CRYPTO_HOST_MONTMUL, r, rr, r1},    {RMM_CRYPTO_HOST_MONTMUL, r1, rr, r2},
    {RMM_CRYPTO_HOST_MONTMUL, t, r2, tr},    {RMM_CRYPTO_HOST_MONTMUL, tr, d, trd},
    {RMM_CRYPTO_HOST_MONTMUL, e, rr, e1},    {RMM_CRYPTO_HOST_MONTMUL, t, e1, te},
    {RMM_CRYPTO_HOST_ADD, te, trd, g},       {RMM_CRYPTO_HOST_MONTMUL, w, g, s_check},
  };
  const unsigned count = sizeof(expected) / sizeof(expected[0]);
  if (trace->calls != count || BN_cmp(s_check, s) != 0) failed |= 4;
  for (unsigned i = 0; i < count && i < trace->calls; i++) {
    BIGNUM *a = bn_from(trace->call[i].a), *b = bn_from(trace->call[i].b), *result = bn_from(trace->call[i].result);
    if (trace->call[i].what != expected[i].what || BN_cmp(a, expected[i].a) != 0 ||
        (expected[i].b != NULL && BN_cmp(b, expected[i].b) != 0) || BN_cmp(result, expected[i].result) != 0)
      failed |= 8;
    BN_free(a);
    BN_free(b);
    BN_free(result);
  }

  /* Whatever the sequence: unblinded secrets (times R^j, j = -3..3) appear only as the
   * secret operand of a multiplication whose other operand is t or t r R. */
  const BIGNUM *secrets[] = {k, k_inverse, d, rd, e_rd};
  BIGNUM *unblinded[5 * 7];
  unsigned unblinded_count = 0;
  for (unsigned i = 0; i < 5; i++) {
    BIGNUM *v = BN_dup(secrets[i]);
    for (int j = 0; j < 3; j++) BN_mod_mul(v, v, r_inverse, n, bn); /* times R^-3 */
    for (int j = -3; j <= 3; j++) {
      unblinded[unblinded_count++] = BN_dup(v);
      BN_mod_mul(v, v, radix, n, bn);
    }
    BN_free(v);
  }
  unsigned masked_inputs = 0;
  for (unsigned i = 0; i < trace->calls; i++) {
    const uint8_t *numbers[] = {trace->call[i].a, trace->call[i].b, trace->call[i].result};
    for (unsigned j = 0; j < 3; j++) {
      BIGNUM *v = bn_from(numbers[j]);
      int secret = 0;
      for (unsigned u = 0; u < unblinded_count; u++) secret |= BN_cmp(v, unblinded[u]) == 0;
      if (secret) {
        BIGNUM *other = bn_from(trace->call[i].a);
        int masking = trace->call[i].what == RMM_CRYPTO_HOST_MONTMUL && j == 1 &&
                      (BN_cmp(other, t) == 0 || BN_cmp(other, tr) == 0);
        if (masking) masked_inputs++;
        else failed |= 16;
        BN_free(other);
      }
      BN_free(v);
    }
  }
  if (masked_inputs != 2) failed |= 32; /* exactly k (by t) and d (by t r R) */

  for (unsigned u = 0; u < unblinded_count; u++) BN_free(unblinded[u]);
  BIGNUM *all[] = {n, radix, r_inverse, rr, k_inverse, d, e, r, s, t, k, rd, e_rd, x, tk, w, r1, r2, tr, trd, e1, te, g, s_check};
  for (unsigned i = 0; i < sizeof(all) / sizeof(all[0]); i++) BN_free(all[i]);
  return failed;
}

static void test_final_step_blinded(void) {
  EC_GROUP *group = EC_GROUP_new_by_curve_name(NID_secp384r1);
  BN_CTX *bn = BN_CTX_new();
  static struct rmm_crypto_host_trace trace[2];
  const int count = 50;
  int checked = 0, differ = 0, failed_mask = 0;
  for (int i = 0; i < count; i++) {
    uint8_t key[48], hash[48], seed[2][48], signature[2][96];
    if (i == 0) from_hex(rak_key, key, 48);
    else {
      RAND_bytes(key, 48);
      key[0] &= 0x7f; /* below n */
    }
    RAND_bytes(hash, 48);
    RAND_bytes(seed[0], 48);
    RAND_bytes(seed[1], 48);
    int ok = 1;
    for (int j = 0; j < 2; j++) {
      memset(&trace[j], 0, sizeof(trace[j]));
      rmm_crypto_host_set_trace(&trace[j]);
      ok &= sign_default(key, hash, seed[j], signature[j]).rc == 0;
      rmm_crypto_host_set_trace(NULL);
      int failed = ok ? check_trace(&trace[j], key, hash, signature[j], group, bn) : 64;
      failed_mask |= failed;
      ok &= failed == 0;
    }
    if (ok && memcmp(signature[0], signature[1], 96) == 0) checked++;
    /* Secret-dependent calls (all but the three scalings of the public r and e): the
     * first operand (t or a blinded value) and the result differ, except the last
     * result, which is s itself. */
    int all_differ = memcmp(trace[0].t, trace[1].t, 48) != 0 && trace[0].calls == trace[1].calls;
    for (unsigned c = 0; c < trace[0].calls && c < trace[1].calls; c++) {
      if (c == 2 || c == 3 || c == 6) continue;
      all_differ &= memcmp(trace[0].call[c].a, trace[1].call[c].a, 48) != 0;
      if (c + 1 < trace[0].calls) all_differ &= memcmp(trace[0].call[c].result, trace[1].call[c].result, 48) != 0;
    }
    if (all_differ) differ++;
  }
  check(checked == count && failed_mask == 0,
        "last signing step blinded (%d/%d signatures, failures 0x%x): the inversion and the final products see only "
        "values times t; k and d enter only a constant-time multiplication by t or t*r",
        checked, count, failed_mask);
  check(differ == count, "another blinding seed: a new t and new operands in every secret-dependent call (%d/%d), same signature",
        differ, count);
  BN_CTX_free(bn);
  EC_GROUP_free(group);
}

/* r == 0 and s == 0 (probability about 2^-383) are forced through a host hook: the
 * signature moves on to the next RFC 6979 candidate, so it still verifies but with
 * another nonce, one multiplication later; 11 rejected candidates fail cleanly. */
static void test_rejected_candidates(void) {
  uint8_t key[48], x[48], y[48], hash[48], seed[48], normal[96], retried[96], failed[96];
  from_hex(rak_key, key, 48);
  from_hex(rak_x, x, 48);
  from_hex(rak_y, y, 48);
  RAND_bytes(hash, 48);
  RAND_bytes(seed, 48);
  EVP_PKEY *public_key = openssl_public_key(x, y);
  struct sign_result first = sign_default(key, hash, seed, normal);
  rmm_crypto_host_reject(1, 1); /* the first candidate's r, then the second's s */
  struct sign_result again = sign_default(key, hash, seed, retried);
  rmm_crypto_host_reject(1, 1);
  uint8_t unlimited[96];
  struct sign_result one_go = sign_with(arena_memory, ARENA_BYTES, 0, key, hash, seed, unlimited);
  check(first.rc == 0 && again.rc == 0 && one_go.rc == 0 && public_key != NULL &&
            openssl_verify(public_key, hash, retried) == 1 && memcmp(retried, normal, 96) != 0 &&
            memcmp(retried, unlimited, 96) == 0 && memcmp(retried, normal, 48) != 0 &&
            again.steps >= first.steps + 2 * (first.steps - 2) && one_go.steps == 3,
        "r == 0 and s == 0 (forced): next RFC 6979 candidate, verifies under OpenSSL, %u steps instead of %u",
        again.steps, first.steps);
  memset(arena_memory, 0x33, ARENA_BYTES);
  rmm_crypto_host_reject(11, 0);
  struct sign_result exhausted = sign_with(arena_memory, ARENA_BYTES, 0, key, hash, seed, failed);
  rmm_crypto_host_reject(0, 0);
  check(exhausted.rc == RMM_CRYPTO_ERR_INTERNAL && exhausted.steps == 12 && all_zero(arena_memory, ARENA_BYTES),
        "11 rejected candidates: the 12th step fails with RMM_CRYPTO_ERR_INTERNAL (%d, after %u steps), arena scrubbed",
        exhausted.rc, exhausted.steps);
  EVP_PKEY_free(public_key);
}

/* Fills a large stack area with junk, so nothing can survive between steps on the stack. */
static __attribute__((noinline)) void trash_stack(void) {
  volatile uint8_t junk[64 * 1024];
  for (size_t i = 0; i < sizeof(junk); i++) junk[i] = (uint8_t)(i * 131 + 7);
}

static unsigned test_steps(void) {
  uint8_t key[48], hash[48], seed[48], other_seed[48], one_go[96], stepped[96], tiny[96], other[96];
  from_hex(rak_key, key, 48);
  RAND_bytes(hash, 48);
  RAND_bytes(seed, 48);
  RAND_bytes(other_seed, 48);
  struct sign_result big = sign_with(arena_memory, ARENA_BYTES, 0, key, hash, seed, one_go);
  struct sign_result huge = sign_with(arena_memory, ARENA_BYTES, 0xFFFFFFFFu, key, hash, seed, other);
  struct sign_result normal = sign_with(arena_memory, ARENA_BYTES, RMM_P384_STEP_OPS, key, hash, seed, stepped);
  struct sign_result minimal = sign_with(arena_memory, ARENA_BYTES, 1, key, hash, seed, tiny);
  check(big.rc == 0 && big.steps == 1 && huge.rc == 0 && huge.steps == 1 && memcmp(other, one_go, 96) == 0,
        "unlimited budget and a budget of 2^32-1 each sign in one step, same bytes");
  check(normal.rc == 0 && memcmp(stepped, one_go, 96) == 0,
        "step API with the firmware budget (%u ops): %u steps, same bytes as one step", RMM_P384_STEP_OPS, normal.steps);
  check(minimal.rc == 0 && memcmp(tiny, one_go, 96) == 0, "step API with a budget of 1 op: %u steps, same bytes",
        minimal.steps);
  struct sign_result reseeded = sign_with(arena_memory, ARENA_BYTES, RMM_P384_STEP_OPS, key, hash, other_seed, other);
  check(reseeded.rc == 0 && memcmp(other, one_go, 96) == 0, "another blinding seed gives the same (RFC 6979) signature");

  /* Resumption with nothing but the arena: two signatures interleaved step by step in two
   * arenas, the stack trashed and the arena saved, overwritten and restored between steps. */
  uint8_t hash2[48], sig1[96] = {0}, sig2[96] = {0}, expected2[96];
  RAND_bytes(hash2, 48);
  sign_with(arena_memory, ARENA_BYTES, 0, key, hash2, seed, expected2);
  rmm_crypto_host_set_step_ops(RMM_P384_STEP_OPS);
  int rc1 = rmm_p384_sign_start(arena_memory, ARENA_BYTES, key, hash, seed);
  int rc2 = rmm_p384_sign_start(second_arena, sizeof(second_arena), key, hash2, other_seed);
  int done1 = 0, done2 = 0, errors = rc1 != 0 || rc2 != 0;
  for (unsigned guard = 0; !errors && !(done1 && done2) && guard < 10000; guard++) {
    if (!done1) {
      int s = rmm_p384_sign_step(arena_memory);
      done1 = s == RMM_CRYPTO_DONE;
      errors |= s < 0;
    }
    memcpy(saved_arena, arena_memory, ARENA_BYTES);
    memset(arena_memory, 0xEE, ARENA_BYTES);
    trash_stack();
    memcpy(arena_memory, saved_arena, ARENA_BYTES);
    if (!done2) {
      int s = rmm_p384_sign_step(second_arena);
      done2 = s == RMM_CRYPTO_DONE;
      errors |= s < 0;
    }
  }
  errors |= rmm_p384_sign_finish(arena_memory, sig1) != 0 || rmm_p384_sign_finish(second_arena, sig2) != 0;
  check(!errors && memcmp(sig1, one_go, 96) == 0 && memcmp(sig2, expected2, 96) == 0,
        "two signatures interleaved, arena saved/overwritten/restored and stack trashed between steps: same bytes");
  return normal.steps;
}

/* Looks through the stack below the caller (where the API's callees had their frames)
 * for any 16-byte window of the secret. Reads memory the compiler considers
 * uninitialised: volatile, and only ever compared. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wpragmas"
#pragma GCC diagnostic ignored "-Wunknown-warning-option"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
static __attribute__((noinline)) int secret_on_stack(const uint8_t secret[48]) {
  volatile uint8_t below[32 * 1024];
  for (size_t i = 0; i + 16 <= sizeof(below); i++)
    for (size_t j = 0; j + 16 <= 48; j += 8) {
      size_t k = 0;
      while (k < 16 && below[i + k] == secret[j + k]) k++;
      if (k == 16) return 1;
    }
  return 0;
}
#pragma GCC diagnostic pop

static void test_stack_scrubbed(void) {
  uint8_t key[48], hash[48], seed[48], signature[96], x[48], y[48];
  RAND_bytes(key, 48);
  key[0] &= 0x7f; /* below n */
  RAND_bytes(hash, 48);
  RAND_bytes(seed, 48);
  int found = 0;
  rmm_crypto_host_set_step_ops(RMM_P384_STEP_OPS);
  int rc = rmm_p384_sign_start(arena_memory, ARENA_BYTES, key, hash, seed);
  found |= secret_on_stack(key) << 0;
  int step = RMM_CRYPTO_IN_PROGRESS;
  while (rc == 0 && step == RMM_CRYPTO_IN_PROGRESS) {
    step = rmm_p384_sign_step(arena_memory);
    found |= secret_on_stack(key) << 1;
  }
  rc |= rmm_p384_sign_finish(arena_memory, signature);
  found |= secret_on_stack(key) << 2;
  rc |= rmm_p384_public_key(arena_memory, ARENA_BYTES, key, x, y);
  found |= secret_on_stack(key) << 3;
  check(rc == 0 && step == RMM_CRYPTO_DONE && found == 0,
        "no piece of the private scalar left on the stack after any call (found mask %d)", found);
}

static void test_invalid_scalars(void) {
  uint8_t hash[48], seed[48], x[48], y[48], signature[96];
  RAND_bytes(hash, 48);
  RAND_bytes(seed, 48);
  uint8_t zero[48] = {0}, order[48], ones[48], order_minus_1[48], one[48] = {0};
  from_hex(p384_order, order, 48);
  memset(ones, 0xFF, 48);
  memcpy(order_minus_1, order, 48);
  order_minus_1[47] -= 1;
  one[47] = 1;
  struct {
    const char *name;
    const uint8_t *scalar;
  } bad[] = {{"0", zero}, {"n", order}, {"all-FF", ones}};
  for (size_t i = 0; i < 3; i++) {
    memset(arena_memory, 0x33, ARENA_BYTES);
    int rc = rmm_p384_sign_start(arena_memory, ARENA_BYTES, bad[i].scalar, hash, seed);
    int scrubbed = all_zero(arena_memory, ARENA_BYTES);
    int step = rmm_p384_sign_step(arena_memory);
    int pk = rmm_p384_public_key(arena_memory, ARENA_BYTES, bad[i].scalar, x, y);
    check(rc == RMM_CRYPTO_ERR_KEY && scrubbed && step == RMM_CRYPTO_ERR_STATE && pk == RMM_CRYPTO_ERR_KEY &&
              all_zero(x, 48) && all_zero(y, 48),
          "scalar %s refused (sign_start %d, public_key %d), arena scrubbed, no step possible", bad[i].name, rc, pk);
  }
  struct sign_result low = sign_default(one, hash, seed, signature);
  struct sign_result high = sign_default(order_minus_1, hash, seed, signature);
  check(low.rc == 0 && high.rc == 0, "scalars 1 and n-1 accepted");
}

static void test_arena_limits(size_t peak) {
  uint8_t key[48], hash[48], seed[48], expected[96], signature[96];
  from_hex(rak_key, key, 48);
  RAND_bytes(hash, 48);
  RAND_bytes(seed, 48);
  sign_with(arena_memory, ARENA_BYTES, 0, key, hash, seed, expected);

  /* 1 KiB: a clean error from whichever call runs out, never a crash. */
  memset(arena_memory + 1024, CANARY, ARENA_BYTES + CANARY_BYTES - 1024);
  struct sign_result small = sign_with(arena_memory, 1024, RMM_P384_STEP_OPS, key, hash, seed, signature);
  int outside_untouched = 1;
  for (size_t i = 1024; i < ARENA_BYTES + CANARY_BYTES; i++) outside_untouched &= arena_memory[i] == CANARY;
  check(small.rc == RMM_CRYPTO_ERR_ARENA && all_zero(arena_memory, 1024) && outside_untouched,
        "1 KiB arena: clean RMM_CRYPTO_ERR_ARENA (%d) after %u steps, arena scrubbed, nothing written past it",
        small.rc, small.steps);

  /* Every size from 64 bytes up to the peak, then the peak itself: each either fails
   * cleanly or gives the right signature, and never writes past its end. */
  int sweep_ok = 1;
  size_t first_success = 0;
  for (size_t size = 64; size <= peak + 256; size += 16) {
    memset(arena_memory + size, CANARY, ARENA_BYTES + CANARY_BYTES - size);
    struct sign_result r = sign_with(arena_memory, size, RMM_P384_STEP_OPS, key, hash, seed, signature);
    int untouched = 1;
    for (size_t i = size; i < size + CANARY_BYTES; i++) untouched &= arena_memory[i] == CANARY;
    if (!untouched || !all_zero(arena_memory, size)) sweep_ok = 0;
    if (r.rc == 0) {
      if (memcmp(signature, expected, 96) != 0) sweep_ok = 0;
      if (first_success == 0) first_success = size;
    } else if (r.rc != RMM_CRYPTO_ERR_ARENA || first_success != 0) {
      sweep_ok = 0; /* only "too small" errors, and none once a size worked */
    }
  }
  check(sweep_ok && first_success != 0 && first_success <= peak,
        "arena sizes 64..peak+256 (16-byte steps): clean errors below %zu bytes, correct signatures from there on",
        first_success);

  /* Scrubbing: after finish and after an abort mid-signature the arena is all zero. */
  memset(arena_memory, 0x77, ARENA_BYTES);
  struct sign_result done = sign_default(key, hash, seed, signature);
  check(done.rc == 0 && all_zero(arena_memory, ARENA_BYTES), "after finish the whole arena is zero");
  memset(arena_memory, 0x77, ARENA_BYTES);
  rmm_crypto_host_set_step_ops(RMM_P384_STEP_OPS);
  int rc = rmm_p384_sign_start(arena_memory, ARENA_BYTES, key, hash, seed);
  int step = rc == 0 ? rmm_p384_sign_step(arena_memory) : rc;
  int early_finish = rmm_p384_sign_finish(arena_memory, signature);
  rmm_p384_sign_abort(arena_memory, ARENA_BYTES);
  check(step == RMM_CRYPTO_IN_PROGRESS && early_finish == RMM_CRYPTO_ERR_STATE && all_zero(arena_memory, ARENA_BYTES),
        "finish before DONE refused; abort mid-signature leaves the whole arena zero");
  check(rmm_p384_sign_step(arena_memory) == RMM_CRYPTO_ERR_STATE &&
            rmm_p384_sign_finish(arena_memory, signature) == RMM_CRYPTO_ERR_STATE &&
            rmm_p384_sign_start(arena_memory + 8, 4096, key, hash, seed) == RMM_CRYPTO_ERR_ARGS &&
            rmm_p384_sign_start(NULL, 4096, key, hash, seed) == RMM_CRYPTO_ERR_ARGS,
        "step/finish on a scrubbed arena, a misaligned or NULL arena: refused");
}

static void test_timing(void) {
  uint8_t key[48], hash[48], seed[48], signature[96];
  from_hex(rak_key, key, 48);
  RAND_bytes(seed, 48);
  const int count = 50;
  double max_step = 0, t0 = now_seconds();
  unsigned steps = 0;
  for (int i = 0; i < count; i++) {
    RAND_bytes(hash, 48);
    struct sign_result r = sign_default(key, hash, seed, signature);
    if (r.max_step_s > max_step) max_step = r.max_step_s;
    steps = r.steps;
  }
  double per_signature = (now_seconds() - t0) / count;
  printf("info host sign time: %.2f ms per signature, %u steps of %u ops: %.3f ms per step on average"
         " (slowest %.3f ms, scheduling noise included)\n",
         per_signature * 1e3, steps, RMM_P384_STEP_OPS, per_signature * 1e3 / steps, max_step * 1e3);
}

int main(void) {
  uint8_t x[48], y[48];
  test_rfc6979();
  size_t public_key_peak = test_rak_public_key(x, y);
  size_t sign_peak = test_openssl_verifies(x, y);
  size_t random_key_peak = test_random_keys();
  if (random_key_peak > sign_peak) sign_peak = random_key_peak;
  unsigned steps = test_steps();
  test_final_step_blinded();
  test_rejected_candidates();
  test_stack_scrubbed();
  test_invalid_scalars();
  test_arena_limits(sign_peak);
  test_timing();
  printf("info arena peak: %zu bytes (max over 800 signatures and 300 public keys; RAK public key alone %zu)\n", sign_peak,
         public_key_peak);
  printf("info steps per signature at the firmware budget (%u ops): %u\n", RMM_P384_STEP_OPS, steps);
  if (failures) printf("%d check(s) FAILED\n", failures);
  return failures ? 1 : 0;
}

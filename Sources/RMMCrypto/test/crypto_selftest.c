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

/*
 * Constant-time check of the ECDSA P-384 signer (Sources/RMMCrypto), run by
 * scripts/check-constant-time under valgrind (docs/CRYPTO.md, "Constant time").
 *
 * The ctgrind/TIMECOP method: the secret inputs are marked undefined with memcheck's
 * client requests, so memcheck reports every conditional branch and every memory
 * address that depends on them ("Conditional jump or move depends on uninitialised
 * value(s)", "Use of uninitialised value of size N"). Secret here is what the RMM
 * hands the library: the private scalar (the RAK) and the blinding seed (RNDR output
 * in the firmware). Everything derived from them - the RFC 6979 nonce k, the blinding
 * factor t, the randomised coordinates, k^-1, s - inherits the mark without being
 * marked again. Only public results are marked defined, before they are compared:
 * the public key (x, y) and the signature (r, s).
 *
 * The calls are those the RMM makes (Sources/RMMFirmware/Attestation.swift): at cold
 * boot rmm_p384_public_key, then for each token rmm_p384_sign_start, rmm_p384_sign_step
 * until DONE (the firmware's 1000-operation budget), rmm_p384_sign_finish.
 *
 *   ct_harness memcheck       (memcheck) every vector: public key, then a signature, with
 *                             the secrets marked; results compared exactly with the
 *                             expected bytes; one "ok"/"FAIL" line each
 *   ct_harness callgrind      (callgrind, --collect-atstart=no) one warm-up signature not
 *                             collected, then every vector's public key and signature
 *                             with a dump after each API call (trigger "<label> <call>
 *                             <n>"), and the QEMU RAK with two more blinding seeds
 *                             (labels b0, b1); scripts/lib/ct_counts.py compares them
 *   ct_harness broken-branch  deliberately not constant time: a branch on a key bit, and
 *   ct_harness broken-index   a table index from a key byte; memcheck must report them
 *                             (scripts/check-constant-time checks that it does)
 *
 * Without valgrind the client requests do nothing and the program just signs.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <valgrind/callgrind.h>
#include <valgrind/memcheck.h>

#include "rmm_crypto.h"

/* The arenas the RMM uses: for a signature, the REC's two aux granules from
 * AttestationLayout.arena (0x600) on; at boot, RMM_BOOT_CRYPTO_ARENA_SIZE (arch.h). */
static _Alignas(16) uint8_t arena[2 * 4096 - 0x600];
static _Alignas(16) uint8_t boot_arena[16384];

/* Keys, digests and blinding seeds: the RFC 6979 A.2.6 key with the "sample" digest, the
 * QEMU test RAK, and scalars of unusual shape (1, n-1, top limb zero, and an ordinary
 * one): the key's value, the digest and so the nonce must change nothing but the result.
 * Expected public keys and signatures computed independently with OpenSSL (Python
 * cryptography 48, deterministic_signing=True, i.e. RFC 6979); the first is the RFC's. */
struct vector {
  const char *name, *key, *hash, *seed, *x, *y, *signature;
};
static const struct vector vectors[] = {
  {"RFC 6979 A.2.6 key, \"sample\"",
   "6b9d3dad2e1b8c1c05b19875b6659f4de23c3b667bf297ba9aa47740787137d896d5724e4c70a825f872c9ea60d2edf5",
   "9a9083505bc92276aec4be312696ef7bf3bf603f4bbd381196a029f340585312313bca4a9b5b890efee42c77b1ee25fe",
   "5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a",
   "ec3a4e415b4e19a4568618029f427fa5da9a8bc4ae92e02e06aae5286b300c64def8f0ea9055866064a254515480bc13",
   "8015d9b72d7d57244ea8ef9ac0c621896708a59367f9dfb9f54ca84b3f1c9db1288b231c3ae0d4fe7344fd2533264720",
   "94edbb92a5ecb8aad4736e56c691916b3f88140666ce9fa73d64c4ea95ad133c81a648152e44acf96e36dd1e80fabe4699ef4aeb15f178cea1fe40db2603138f130e740a19624526203b6351d0a3a94fa329c145786e679e7b82c71a38628ac8"},
  {"QEMU test RAK",
   "2011c7f03cee4325176e524f033c0ce1e21a76e6c1a4f0b839aa1df61e0e8a5c8a05740f9b69efa7eb1a4185bd117f68",
   "bfd50440c0612b4e9cb346c382869d10e610b7c3f9cbe4b7fc596698350f0721731dc76aff3d8ed9761f7b88e8a59654",
   "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f",
   "76f988091be585ed41801aecfab858548c63057e16b0e676120bbd0d2f9c29e056c5d41a0130eb9c21517899dc23146b",
   "28e1b062bd3ea4b315fd219f1cbb528cb6e74ca49be16773734f61a1ca61031b2bbf3d918f2f94ffc4228e50919544ae",
   "36d5d45b58b9aa2fe3699febe8f1f4f545cfd90913727b6649233cf5574d9b8a50dd40648d88dbd0d275a5ecff9a600f741aedc97af990a18815beacc43c56e84ca3009520d8dc88eb5f58a366d109cf04ed1698ecab2a121cb21f5d1e214024"},
  {"scalar 1",
   "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000001",
   "1fb6ccefd31c025440c803c690aaa49ce3a7004daf83a6f0724b75c5d3cb44de6ae96398dd5579284b135a13e0f889ec",
   "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
   "aa87ca22be8b05378eb1c71ef320ad746e1d3b628ba79b9859f741e082542a385502f25dbf55296c3a545e3872760ab7",
   "3617de4a96262c6f5d9e98bf9292dc29f8f41dbd289a147ce9da3113b5f0b8c00a60b1ce1d7e819d7a431d7c90ea0e5f",
   "776f69ea67558d8b5811accc9c76cd6217621a093b76bd538aa8d13a1e8a4f120e0d4b5bf6b29a0033eb3a7fb742e33e1185a6c42ed65f095af89fe1c59a3b8c3b9917dc93cf7dc4bd2366ffde038cf55385517478594ec0e6e0bf63632c3d82"},
  {"scalar n-1",
   "ffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52972",
   "cd67c701bfd9c3b9bd26e897d7b9ad0f3d6cb010131a6bcce243ee75f71c16c13be7ecfebf943ed691bbb48d25ca739c",
   "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
   "aa87ca22be8b05378eb1c71ef320ad746e1d3b628ba79b9859f741e082542a385502f25dbf55296c3a545e3872760ab7",
   "c9e821b569d9d390a26167406d6d23d6070be242d765eb831625ceec4a0f473ef59f4e30e2817e6285bce2846f15f1a0",
   "dd07bac91d82f102dd1ab850cf8eab1face1730303365da22c44c07777d536359b1f9a1986f4181779ed778600f2dba8dc897a0d2386d54654512399af470e8d92403a13972f52b9d5e7008853abd465ebf7f77d6f85d6c187539f90bbfa0f3e"},
  {"scalar 2^256 + 2^63 (top limb zero)",
   "000000000000000000000000000000010000000000000000000000000000000000000000000000008000000000000000",
   "567a50a714c13d94f83e83f2b412289a092a7e650d60c85445b5b977b739a2d7161aac0cc38c8ec46d13f6d56c40f807",
   "20fadc9657f8b7417b000aea697e925448d4f8d825b22ade78b6a9fcf4bec83672b574d1e5b3040a72dc1de7ef41ebb1",
   "cf88c37594bd225befa899459aa844784a91a44b7a84af589a5a3546ec022f3d93ef7fdadb22dc48749368a55d4205ad",
   "6c223a472cff1f2a7a0499d729d22ad76f710a80c6043582d3cb75ca6828e38db1bb5d2c4e1bb57a4871e5cb2c38e748",
   "c7111c40522360cbd2c87659370011e557586489d1af2e1a268d3b0250a2d85cd33b18e30bd181c7aa782401b32a9fa84075f48bec7fbbfc6b70f7a81473f33247ff8798f0131de19c4b3bed3f508b0aaff73b9bf4df55936534d3debcb54221"},
  {"scalar from SHA-384(\"key 5\")",
   "39452ec912b9464ef47900c84fca01f1dde4569edc48e181afa5be6bd1e7859296bf9c8188c764d143b99de87df744e8",
   "691d8560d2586d904292cfad65d8cc88ba78ca77487eda61c7144a2e58322fb4c741931e39067b45329feb6d8a288841",
   "ae3bb0c02696a701c3cec1694d4084fac95914ff3e556e8f98e157e78976874d1f5c76cc41cb81da0506e1a847385e70",
   "85722b3f5428f49e381516cf5181e4f58101bccde135664165d1db446bded3b2aa8a26f8ce954920bfa16932c08ca560",
   "99bb240ea87fbdd0314bd2882b7915da1fda177fe158414ccf83d9c435c586b346bdea78bc5692860a9efc6909266c3a",
   "2af7572136fee6454acc76ff362c48d8f910f60665078f2ad8776c951c37d4152dca57e64243871463c81119c2e16b6940f8df68040046c67fce935a48dc4053b7121f20325d1dd969c179e45da650706882236971c4c16947e11dd8935b2788"},
};

#define VECTORS (sizeof(vectors) / sizeof(vectors[0]))

static int failures;

static void check(int condition, const char *what, const char *name) {
  printf("%s %s (%s)\n", condition ? "ok  " : "FAIL", what, name);
  if (!condition) failures++;
}

static void from_hex(const char *hex, uint8_t *out, size_t length) {
  for (size_t i = 0; i < length; i++) sscanf(hex + 2 * i, "%2hhx", &out[i]);
}

static void to_hex(const uint8_t *in, size_t length, char *out) {
  for (size_t i = 0; i < length; i++) sprintf(out + 2 * i, "%02x", in[i]);
}

/* Secret: memcheck treats the bytes as undefined until marked public again. */
#define SECRET(p, n) VALGRIND_MAKE_MEM_UNDEFINED((p), (n))
#define PUBLIC(p, n) VALGRIND_MAKE_MEM_DEFINED((p), (n))

static void dump(const char *label, const char *call, int n) {
  char name[64];
  snprintf(name, sizeof(name), "%s %s %d", label, call, n);
  CALLGRIND_DUMP_STATS_AT(name);
}

/* As the RMM signs: start, steps until DONE, finish. Returns the number of steps, or
 * -1 on an error. With a label (callgrind mode), a dump after each call. */
static int sign(const char *label, const uint8_t key[48], const uint8_t hash[48], const uint8_t seed[48],
                uint8_t signature[96]) {
  int rc = rmm_p384_sign_start(arena, sizeof(arena), key, hash, seed);
  if (label != NULL) dump(label, "start", 0);
  /* Return codes are public (DONE, IN_PROGRESS): they decide the caller's next call. */
  PUBLIC(&rc, sizeof(rc));
  if (rc != 0) return -1;
  int steps = 0;
  for (;;) {
    int step = rmm_p384_sign_step(arena);
    steps++;
    if (label != NULL) dump(label, "step", steps);
    PUBLIC(&step, sizeof(step));
    if (step == RMM_CRYPTO_DONE) break;
    if (step != RMM_CRYPTO_IN_PROGRESS) return -1;
  }
  rc = rmm_p384_sign_finish(arena, signature);
  if (label != NULL) dump(label, "finish", 0);
  PUBLIC(&rc, sizeof(rc));
  PUBLIC(signature, 96);
  return rc == 0 ? steps : -1;
}

struct material {
  uint8_t key[48], hash[48], seed[48], x[48], y[48], signature[96];
};

static void load(const struct vector *v, struct material *m) {
  from_hex(v->key, m->key, 48);
  from_hex(v->hash, m->hash, 48);
  from_hex(v->seed, m->seed, 48);
  from_hex(v->x, m->x, 48);
  from_hex(v->y, m->y, 48);
  from_hex(v->signature, m->signature, 96);
}

static void run_memcheck(void) {
  for (unsigned i = 0; i < VECTORS; i++) {
    struct material m;
    load(&vectors[i], &m);
    uint8_t key[48], seed[48], x[48], y[48], signature[96];

    /* Cold boot: the public key from the RAK. */
    memcpy(key, m.key, 48);
    SECRET(key, sizeof(key));
    int rc = rmm_p384_public_key(boot_arena, sizeof(boot_arena), key, x, y);
    PUBLIC(&rc, sizeof(rc));
    PUBLIC(x, sizeof(x));
    PUBLIC(y, sizeof(y));
    check(rc == 0 && memcmp(x, m.x, 48) == 0 && memcmp(y, m.y, 48) == 0,
          "public key from a secret scalar: expected (x, y)", vectors[i].name);

    /* A token signature: the scalar and the blinding seed secret. */
    memcpy(key, m.key, 48);
    memcpy(seed, m.seed, 48);
    SECRET(key, sizeof(key));
    SECRET(seed, sizeof(seed));
    int steps = sign(NULL, key, m.hash, seed, signature);
    char got[193];
    to_hex(signature, 96, got);
    check(steps > 0 && memcmp(signature, m.signature, 96) == 0, "signature with secret scalar and blinding seed: expected r || s",
          vectors[i].name);
    if (steps <= 0 || memcmp(signature, m.signature, 96) != 0) printf("info got %s\n", got);
  }
}

/* Signs vector i with the given seed, a callgrind dump after every call, labelled
 * "<label> <call> <n>" (callgrind zeroes its counters at each dump, so every dump holds
 * exactly one call). */
static void traced(unsigned i, const char *label, const uint8_t seed[48]) {
  struct material m;
  uint8_t x[48], y[48], signature[96];
  load(&vectors[i], &m);
  char name[32];
  snprintf(name, sizeof(name), "%s public-key 0", label);
  CALLGRIND_TOGGLE_COLLECT;
  CALLGRIND_DUMP_STATS_AT("before");
  int rc = rmm_p384_public_key(boot_arena, sizeof(boot_arena), m.key, x, y);
  CALLGRIND_DUMP_STATS_AT(name);
  int steps = sign(label, m.key, m.hash, seed != NULL ? seed : m.seed, signature);
  CALLGRIND_TOGGLE_COLLECT;
  int ok = rc == 0 && memcmp(x, m.x, 48) == 0 && steps > 0 && memcmp(signature, m.signature, 96) == 0;
  printf("%s %s: public key and signature as expected, %d steps (%s)\n", ok ? "ok  " : "FAIL", label, steps,
         vectors[i].name);
  if (!ok) failures++;
}

static void run_callgrind(void) {
  struct material m;
  uint8_t signature[96], x[48], y[48];
  /* Warm-up (lazy binding of memcpy/memset, first-touch effects): not collected. */
  load(&vectors[0], &m);
  (void)rmm_p384_public_key(boot_arena, sizeof(boot_arena), m.key, x, y);
  (void)sign(NULL, m.key, m.hash, m.seed, signature);
  for (unsigned i = 0; i < VECTORS; i++) {
    char label[16];
    snprintf(label, sizeof(label), "v%u", i);
    traced(i, label, NULL);
  }
  /* The QEMU RAK and its digest again, with other blinding seeds: what varies then is
   * driven by the blinding alone. */
  for (unsigned j = 0; j < 2; j++) {
    uint8_t seed[48];
    for (unsigned b = 0; b < 48; b++) seed[b] = (uint8_t)(0x3c + 7 * b + 101 * j);
    char label[16];
    snprintf(label, sizeof(label), "b%u", j);
    traced(1, label, seed);
  }
}

/* Deliberately broken, to show the check catches what it should. Each computes the
 * same harmless value, once with a branch on a key bit and once with a table index
 * from a key byte; memcheck must report both. */
static volatile unsigned sink;
static volatile unsigned table[256];
static __attribute__((noinline)) void odd(void) { sink = sink + 1; }
static __attribute__((noinline)) void even(void) { sink = sink + 2; }

static void run_broken(int index) {
  uint8_t key[48];
  from_hex(vectors[0].key, key, 48);
  SECRET(key, sizeof(key));
  if (index) sink = table[key[0]]; /* a secret-dependent address */
  else if (key[0] & 1) odd();      /* a secret-dependent branch */
  else even();
  printf("ok   broken variant ran\n");
}

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "memcheck";
  if (strcmp(mode, "memcheck") == 0) run_memcheck();
  else if (strcmp(mode, "callgrind") == 0) run_callgrind();
  else if (strcmp(mode, "broken-branch") == 0) run_broken(0);
  else if (strcmp(mode, "broken-index") == 0) run_broken(1);
  else {
    fprintf(stderr, "usage: ct_harness [memcheck|callgrind|broken-branch|broken-index]\n");
    return 2;
  }
  return failures == 0 ? 0 : 1;
}

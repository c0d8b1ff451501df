#!/usr/bin/env python3
"""Independent verifier of CCA attestation tokens (RMM 1.0), with cbor2 and cryptography.

A second opinion on cca-token (Sources/cca-token): written separately and sharing no
code with it, so that a bug in one is unlikely to be repeated in the other. Same checks:

  - the collection is tag 399 holding the platform (44234) and realm (44241) tokens;
  - both are tagged COSE_Sign1 with protected header {alg: ES384}; the platform token's
    signature is not checked (EL3's key; on QEMU TF-A's fixed sample token);
  - the realm token's ES384 signature over Sig_structure verifies with the COSE_Key the
    token carries (44237);
  - the platform challenge is SHA-256 of the 44237 bytes (the binding);
  - the realm claims are exactly RMM 1.0's, with their types and sizes, the realm
    profile, and RIM/REM sizes matching the measurement algorithm;
  - optionally, the challenge and RIM the caller expects.

Input: a binary token (starts with d9 01 8f) or console output with CCA_TOKEN lines
(--name picks a token by label; default the first). Prints "verified" and exits 0, or
prints the reason and exits 1.

    verify_cca_token.py <token-or-log> [--name X] [--challenge HEX] [--rim HEX] [--quiet]
"""
import argparse
import hashlib
import re
import sys
from collections.abc import Mapping

import cbor2
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

# RMM 1.0 / CCA token profile (kept apart from the Swift constants on purpose).
COLLECTION_TAG = 399
COSE_SIGN1_TAG = 18
PLATFORM_TOKEN = 44234
REALM_TOKEN = 44241

CHALLENGE = 10
PROFILE = 265
PERSONALIZATION = 44235
HASH_ALGO = 44236
PUBLIC_KEY = 44237
RIM = 44238
REMS = 44239
PUBLIC_KEY_HASH_ALGO = 44240
REALM_CLAIMS = {
    CHALLENGE: "challenge", PROFILE: "profile", PERSONALIZATION: "personalization value",
    HASH_ALGO: "measurement hash algorithm", PUBLIC_KEY: "public key", RIM: "RIM",
    REMS: "REMs", PUBLIC_KEY_HASH_ALGO: "public key hash algorithm",
}
REALM_PROFILE = "tag:arm.com,2023:realm#1.0.0"
DIGEST_SIZES = {"sha-256": 32, "sha-512": 64}
REM_COUNT = 4
CHALLENGE_SIZE = 64

ALG, CRIT = 1, 2
ES384 = -35
ES384_SIGNATURE_SIZE = 96
KTY, CRV, X, Y = 1, -1, -2, -3
EC2, P384 = 2, 2
P384_COORDINATE_SIZE = 48

BINARY_START = bytes([0xD9, 0x01, 0x8F])


class Reject(Exception):
    pass


def is_int(v):
    return type(v) is int  # bool is an int subclass in Python: not a CBOR integer


def is_map(v):
    return isinstance(v, Mapping)  # cbor2 gives frozendicts inside tags


def is_array(v):
    return isinstance(v, (list, tuple))  # and tuples there


def strict_decode(data, what):
    """Decodes CBOR that must be in its one accepted encoding.

    cbor2 accepts over-long arguments, indefinite lengths and duplicate keys (the last
    wins) and may ignore trailing bytes; re-encoding the value gives the shortest
    definite form, so any such departure shows as a difference in bytes.
    """
    try:
        value = cbor2.loads(data)
    except Exception as error:  # cbor2 raises several types for malformed input
        raise Reject(f"{what}: malformed CBOR ({error})")
    try:
        same = cbor2.dumps(value) == data
    except Exception as error:
        raise Reject(f"{what}: CBOR that cannot be re-encoded ({error})")
    if not same:
        raise Reject(f"{what}: CBOR not in strict form (over-long or indefinite encoding, "
                     "duplicate map key or trailing bytes)")
    return value


def parse_sign1(data, what):
    message = strict_decode(data, what)
    if not isinstance(message, cbor2.CBORTag) or message.tag != COSE_SIGN1_TAG:
        raise Reject(f"{what}: not a tagged COSE_Sign1 (tag {COSE_SIGN1_TAG})")
    fields = message.value
    if not is_array(fields) or len(fields) != 4:
        raise Reject(f"{what}: COSE_Sign1 is not an array of 4")
    protected_bytes, unprotected, payload, signature = fields
    if not isinstance(protected_bytes, bytes):
        raise Reject(f"{what}: protected header is not a byte string")
    protected = strict_decode(protected_bytes, f"{what} protected header")
    if not is_map(protected):
        raise Reject(f"{what}: protected header is not a map")
    if not is_map(unprotected):
        raise Reject(f"{what}: unprotected header is not a map")
    if any(label in protected for label in unprotected):
        raise Reject(f"{what}: a header label is both protected and unprotected")
    if CRIT in protected:
        raise Reject(f"{what}: critical headers are not supported")
    alg = protected.get(ALG)
    if not is_int(alg) or alg != ES384:
        raise Reject(f"{what}: algorithm {alg!r}, expected ES384 ({ES384})")
    if not isinstance(payload, bytes):
        raise Reject(f"{what}: payload is not a byte string")
    if not isinstance(signature, bytes) or len(signature) != ES384_SIGNATURE_SIZE:
        raise Reject(f"{what}: signature is not {ES384_SIGNATURE_SIZE} bytes")
    return protected_bytes, payload, signature


def realm_public_key(key_bytes):
    key = strict_decode(key_bytes, "realm public key (44237)")
    if not is_map(key) or list(key.keys()) != [KTY, CRV, X, Y]:
        raise Reject("realm public key (44237): not a COSE_Key with exactly kty, crv, x, y in that order")
    if not is_int(key[KTY]) or key[KTY] != EC2 or not is_int(key[CRV]) or key[CRV] != P384:
        raise Reject("realm public key (44237): not an EC2 P-384 key")
    x, y = key[X], key[Y]
    if not (isinstance(x, bytes) and isinstance(y, bytes)
            and len(x) == P384_COORDINATE_SIZE and len(y) == P384_COORDINATE_SIZE):
        raise Reject(f"realm public key (44237): x and y are not {P384_COORDINATE_SIZE}-byte strings")
    try:
        return ec.EllipticCurvePublicNumbers(int.from_bytes(x, "big"), int.from_bytes(y, "big"),
                                             ec.SECP384R1()).public_key()
    except ValueError as error:
        raise Reject(f"realm public key (44237): {error}")


def realm_claims(payload):
    claims = strict_decode(payload, "realm claims")
    if not is_map(claims):
        raise Reject("realm claims: not a map")
    for key in claims:
        if not is_int(key) or key not in REALM_CLAIMS:
            raise Reject(f"realm claims: unexpected claim {key!r}")
    for key, name in REALM_CLAIMS.items():
        if key not in claims:
            raise Reject(f"realm claims: missing {name} ({key})")
    for key in (CHALLENGE, PERSONALIZATION, PUBLIC_KEY, RIM):
        if not isinstance(claims[key], bytes):
            raise Reject(f"realm claims: {REALM_CLAIMS[key]} ({key}) is not a byte string")
    for key in (PROFILE, HASH_ALGO, PUBLIC_KEY_HASH_ALGO):
        if not isinstance(claims[key], str):
            raise Reject(f"realm claims: {REALM_CLAIMS[key]} ({key}) is not a text string")
    rems = claims[REMS]
    if not is_array(rems) or not all(isinstance(rem, bytes) for rem in rems):
        raise Reject(f"realm claims: REMs ({REMS}) is not an array of byte strings")
    return claims


def check_realm_claims(claims):
    if claims[PROFILE] != REALM_PROFILE:
        raise Reject(f"realm claims: profile {claims[PROFILE]!r}, expected {REALM_PROFILE!r}")
    for key in (CHALLENGE, PERSONALIZATION):
        if len(claims[key]) != CHALLENGE_SIZE:
            raise Reject(f"realm claims: {REALM_CLAIMS[key]} ({key}) is {len(claims[key])} bytes, "
                         f"expected {CHALLENGE_SIZE}")
    if claims[PUBLIC_KEY_HASH_ALGO] != "sha-256":
        raise Reject(f"realm claims: public key hash algorithm {claims[PUBLIC_KEY_HASH_ALGO]!r}, expected 'sha-256'")
    algorithm = claims[HASH_ALGO]
    if algorithm not in DIGEST_SIZES:
        raise Reject(f"realm claims: unknown measurement hash algorithm {algorithm!r}")
    size = DIGEST_SIZES[algorithm]
    if len(claims[RIM]) != size:
        raise Reject(f"realm claims: RIM is {len(claims[RIM])} bytes, but {algorithm} digests are {size}")
    if len(claims[REMS]) != REM_COUNT:
        raise Reject(f"realm claims: {len(claims[REMS])} REMs, expected {REM_COUNT}")
    for index, rem in enumerate(claims[REMS]):
        if len(rem) != size:
            raise Reject(f"realm claims: REM[{index}] is {len(rem)} bytes, but {algorithm} digests are {size}")


def verify(token, expected_challenge=None, expected_rim=None):
    """Returns (realm claims, platform claims) or raises Reject."""
    collection = strict_decode(token, "CCA token")
    if not isinstance(collection, cbor2.CBORTag) or collection.tag != COLLECTION_TAG:
        raise Reject(f"CCA token: not tag {COLLECTION_TAG}")
    tokens = collection.value
    if not is_map(tokens) or set(tokens.keys()) != {PLATFORM_TOKEN, REALM_TOKEN}:
        raise Reject(f"CCA token: not a map of exactly {PLATFORM_TOKEN} and {REALM_TOKEN}")
    if not all(isinstance(t, bytes) for t in tokens.values()):
        raise Reject("CCA token: a token is not a byte string")

    _, platform_payload, _ = parse_sign1(tokens[PLATFORM_TOKEN], "platform token")
    platform = strict_decode(platform_payload, "platform claims")
    if not is_map(platform):
        raise Reject("platform claims: not a map")

    protected, payload, signature = parse_sign1(tokens[REALM_TOKEN], "realm token")
    claims = realm_claims(payload)
    key = realm_public_key(claims[PUBLIC_KEY])
    to_be_signed = cbor2.dumps(["Signature1", protected, b"", payload])
    half = ES384_SIGNATURE_SIZE // 2
    der = encode_dss_signature(int.from_bytes(signature[:half], "big"), int.from_bytes(signature[half:], "big"))
    try:
        key.verify(der, to_be_signed, ec.ECDSA(hashes.SHA384()))
    except InvalidSignature:
        raise Reject("realm token: ES384 signature does not verify with the key in 44237")

    check_realm_claims(claims)

    platform_challenge = platform.get(CHALLENGE)
    if not isinstance(platform_challenge, bytes):
        raise Reject("platform claims: challenge (10) missing or not a byte string")
    key_hash = hashlib.sha256(claims[PUBLIC_KEY]).digest()
    if platform_challenge != key_hash:
        raise Reject(f"binding: platform challenge {platform_challenge.hex()} is not SHA-256 of 44237 ({key_hash.hex()})")

    if expected_challenge is not None and claims[CHALLENGE] != expected_challenge:
        raise Reject(f"realm challenge {claims[CHALLENGE].hex()} is not the expected {expected_challenge.hex()}")
    if expected_rim is not None and claims[RIM] != expected_rim:
        raise Reject(f"realm RIM {claims[RIM].hex()} is not the expected {expected_rim.hex()}")
    return claims, platform


def token_from_console(text, name):
    """The token labelled `name` (or the first) in console output."""
    blocks = []  # (name, bytes or None, problem)
    current = None
    for number, line in enumerate(text.split("\n"), start=1):
        at = line.find("CCA_TOKEN")
        if at < 0:
            continue
        line = line[at:].strip()
        if line.startswith("CCA_TOKEN_BEGIN"):
            if current:
                blocks.append((current["name"], None, "no CCA_TOKEN_END before the next CCA_TOKEN_BEGIN"))
            fields = dict(f.split("=", 1) for f in line.split()[1:] if "=" in f)
            current = {"name": fields.get("name", ""), "data": bytearray(), "problem": None, "line": number}
            length = fields.get("length", "")
            current["length"] = int(length) if length.isdigit() else None
            if not current["name"]:
                current["problem"] = "CCA_TOKEN_BEGIN without a name"
            elif current["length"] is None:
                current["problem"] = "CCA_TOKEN_BEGIN without a valid length"
        elif line.startswith("CCA_TOKEN_END"):
            if current:
                problem = current["problem"]
                if problem is None and len(current["data"]) != current["length"]:
                    problem = f"{len(current['data'])} bytes, but CCA_TOKEN_BEGIN said {current['length']}"
                blocks.append((current["name"], bytes(current["data"]), problem))
                current = None
        elif line == "CCA_TOKEN" or line.startswith("CCA_TOKEN "):
            if current and current["problem"] is None:
                digits = line[len("CCA_TOKEN"):].strip()
                if len(digits) <= 64 and len(digits) % 2 == 0 and re.fullmatch("[0-9a-fA-F]*", digits):
                    current["data"] += bytes.fromhex(digits)
                else:
                    current["problem"] = f"line {number}: malformed data line"
    if current:
        blocks.append((current["name"], None, "no CCA_TOKEN_END (capture cut short?)"))
    if not blocks:
        raise Reject("no CCA_TOKEN_BEGIN block in the input")
    chosen = blocks[0] if name is None else next((b for b in blocks if b[0] == name), None)
    if chosen is None:
        raise Reject(f"no token named {name!r} (tokens: {', '.join(b[0] for b in blocks)})")
    if chosen[2]:
        raise Reject(f"token {chosen[0]!r}: {chosen[2]}")
    return chosen[1]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("input", help="binary token or console output with CCA_TOKEN lines")
    parser.add_argument("--name", help="label of the token in console output (default: the first)")
    parser.add_argument("--challenge", help="expected challenge (hex)")
    parser.add_argument("--rim", help="expected RIM (hex)")
    parser.add_argument("--quiet", action="store_true", help="print only the verdict")
    args = parser.parse_args()
    try:
        expected_challenge = bytes.fromhex(args.challenge) if args.challenge is not None else None
        expected_rim = bytes.fromhex(args.rim) if args.rim is not None else None
    except ValueError:
        parser.error("--challenge and --rim take hex")

    try:
        with open(args.input, "rb") as f:
            data = f.read()
        token = data if data.startswith(BINARY_START) else token_from_console(data.decode("utf-8", "replace"), args.name)
        claims, platform = verify(token, expected_challenge, expected_rim)
    except Reject as reason:
        print(f"not verified: {reason}")
        return 1
    except OSError as error:
        print(f"not verified: {error}")
        return 1
    if not args.quiet:
        lines = [("realm challenge", claims[CHALLENGE].hex()),
                 (f"realm RIM ({claims[HASH_ALGO]})", claims[RIM].hex())]
        lines += [(f"realm REM[{index}]", rem.hex()) for index, rem in enumerate(claims[REMS])]
        lines.append(("platform challenge", f"{platform[CHALLENGE].hex()} (SHA-256 of the realm key)"))
        if isinstance(platform.get(PROFILE), str):
            lines.append(("platform profile", platform[PROFILE]))
        for label, value in lines:
            print(f"{label + ':':24}{value}")
    print("verified")
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Writes corrupted copies of a CCA token, for scripts/verify-token.

    cca_token_variants.py <token.cbor> <out-dir>

Each copy differs from the token in one byte, found by structure (not by a fixed
offset), so it works on any token the RMM produces:

  realm-challenge.cbor     a byte of the realm challenge value (10), inside the signed payload
  realm-rim.cbor           a byte of the realm RIM value (44238), inside the signed payload
  realm-signature.cbor     a byte of the realm token's signature
  platform-challenge.cbor  a byte of the platform challenge (10): breaks only the binding

Also writes the token's realm challenge and RIM as hex (challenge.hex, rim.hex), from
which wrong expectations are made.
"""
import os
import sys

import cbor2

CHALLENGE, RIM = 10, 44238
PLATFORM_TOKEN, REALM_TOKEN = 44234, 44241


def only_offset(haystack, needle, what):
    at = haystack.find(needle)
    if at < 0 or haystack.find(needle, at + 1) >= 0:
        sys.exit(f"cca_token_variants: cannot locate {what} unambiguously")
    return at


def claim_value_offset(payload, key, value, what):
    """Offset in `payload` of the bytes of claim `key`'s byte-string value."""
    entry = cbor2.dumps(key) + cbor2.dumps(value)
    return only_offset(payload, entry, what) + len(entry) - len(value)


def flipped(token, offset):
    corrupted = bytearray(token)
    corrupted[offset] ^= 0x01
    return bytes(corrupted)


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    token = open(sys.argv[1], "rb").read()
    out = sys.argv[2]
    tokens = cbor2.loads(token).value
    realm, platform = tokens[REALM_TOKEN], tokens[PLATFORM_TOKEN]
    realm_at = only_offset(token, realm, "the realm token")
    platform_at = only_offset(token, platform, "the platform token")
    _, _, realm_payload, signature = cbor2.loads(realm).value
    _, _, platform_payload, _ = cbor2.loads(platform).value
    realm_claims = cbor2.loads(realm_payload)
    platform_claims = cbor2.loads(platform_payload)
    realm_payload_at = realm_at + only_offset(realm, realm_payload, "the realm payload")
    platform_payload_at = platform_at + only_offset(platform, platform_payload, "the platform payload")

    challenge, rim = realm_claims[CHALLENGE], realm_claims[RIM]
    variants = {
        "realm-challenge": realm_payload_at
        + claim_value_offset(realm_payload, CHALLENGE, challenge, "the realm challenge") + len(challenge) // 2,
        "realm-rim": realm_payload_at + claim_value_offset(realm_payload, RIM, rim, "the RIM") + len(rim) // 2,
        # COSE_Sign1 ends with the signature.
        "realm-signature": realm_at + len(realm) - len(signature) + len(signature) // 2,
        "platform-challenge": platform_payload_at
        + claim_value_offset(platform_payload, CHALLENGE, platform_claims[CHALLENGE], "the platform challenge"),
    }
    assert realm.endswith(signature)
    for name, offset in variants.items():
        with open(os.path.join(out, name + ".cbor"), "wb") as f:
            f.write(flipped(token, offset))
    for name, value in (("challenge", challenge), ("rim", rim)):
        with open(os.path.join(out, name + ".hex"), "w") as f:
            f.write(value.hex() + "\n")


if __name__ == "__main__":
    main()

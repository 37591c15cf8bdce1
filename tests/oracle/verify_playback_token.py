#!/usr/bin/env python3
"""Verifies one IVS playback token with the `cryptography` package, as an independent
oracle for the C signer's tests.

Usage: verify_playback_token.py PUBLIC_KEY_PEM_FILE < token

Prints one JSON object: {"valid": true, "header": {...}, "claims": {...}} when the ES384
signature checks out with the public key, {"valid": false, "reason": "..."} otherwise (exit
status 1). Exits 77 when `cryptography` cannot be imported, so callers can skip.
"""
import base64
import json
import sys

try:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
except ImportError:
    sys.exit(77)

P384_SCALAR_BYTES = 48


def b64url_decode(part):
    if "=" in part:
        raise ValueError("base64url part carries padding")
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def verify(token, public_key):
    parts = token.split(".")
    if len(parts) != 3:
        return {"valid": False, "reason": "expected three dot-separated parts"}
    header = json.loads(b64url_decode(parts[0]))
    claims = json.loads(b64url_decode(parts[1]))
    raw = b64url_decode(parts[2])
    if len(raw) != 2 * P384_SCALAR_BYTES:
        return {"valid": False, "reason": "signature is %d bytes, not 96" % len(raw)}
    if not isinstance(public_key, ec.EllipticCurvePublicKey) or public_key.curve.name != "secp384r1":
        return {"valid": False, "reason": "public key is not P-384"}
    r = int.from_bytes(raw[:P384_SCALAR_BYTES], "big")
    s = int.from_bytes(raw[P384_SCALAR_BYTES:], "big")
    signing_input = (parts[0] + "." + parts[1]).encode("ascii")
    try:
        public_key.verify(encode_dss_signature(r, s), signing_input, ec.ECDSA(hashes.SHA384()))
    except InvalidSignature:
        return {"valid": False, "reason": "signature does not verify"}
    return {"valid": True, "header": header, "claims": claims}


def main():
    if len(sys.argv) != 2:
        sys.stderr.write(__doc__)
        return 2
    with open(sys.argv[1], "rb") as f:
        public_key = serialization.load_pem_public_key(f.read())
    token = sys.stdin.read().strip()
    try:
        result = verify(token, public_key)
    except ValueError as e:  # bad base64 or JSON
        result = {"valid": False, "reason": "malformed token: %s" % e}
    json.dump(result, sys.stdout, sort_keys=True)
    sys.stdout.write("\n")
    return 0 if result["valid"] else 1


if __name__ == "__main__":
    sys.exit(main())

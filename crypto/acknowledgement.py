"""Signed acknowledgements (proof of disclosure): Ed25519 (RFC 8032) signatures by the installation
over a canonical JSON statement, and the salted commitment to a disclosure's text that a statement
carries.

The file is the canonical JSON (sorted keys, no spaces, ASCII only) of ``{"signature": hex,
"signing_key": hex, "statement": {...}}`` followed by one newline; the signature covers
``SIGNATURE_CONTEXT || canonical(statement)``. A verifier accepts only the exact canonical bytes, so
any changed byte of the file fails (SECURITY.md, "Signed acknowledgement").
"""

from __future__ import annotations

import json
import re

import nacl.encoding
import nacl.exceptions
import nacl.hash
import nacl.signing
import nacl.utils

from ._format import lp, require_bytes, text
from .errors import CryptoError
from .kdf import derive_subkey

SIGNATURE_CONTEXT = b"protected-disclosure-acknowledgement/1\n"
COMMITMENT_PERSON = b"ack-commitment"
SALT_LABEL = "ack-salt"
_HEX32 = re.compile(r"[0-9a-f]{64}")
_HEX64 = re.compile(r"[0-9a-f]{128}")
MAX_FILE_BYTES = 64 * 1024


class BadAcknowledgement(CryptoError):
    """The acknowledgement is malformed, altered, or not signed by the expected key."""


def new_signing_key() -> bytes:
    """A fresh Ed25519 private key: its 32-byte seed (RFC 8032, section 5.1.5)."""
    return nacl.utils.random(32)


def signing_public_key(seed: bytes) -> bytes:
    """The 32-byte Ed25519 public key of a seed."""
    return bytes(nacl.signing.SigningKey(require_bytes(seed, 32, "seed")).verify_key)


def commitment_salt(case_key: bytes) -> bytes:
    """The 32-byte salt of a case's commitment: derive_subkey(case_key, "ack-salt"). Only holders of
    the case key (its readers and the discloser) can recompute it, so nobody else can test a guessed
    text.
    """
    return derive_subkey(case_key, SALT_LABEL)


def commit(salt: bytes, parts: list[str]) -> bytes:
    """BLAKE2b-256(key = salt, person = "ack-commitment", message = lp(parts as UTF-8)): 32
    bytes."""
    salt = require_bytes(salt, 32, "salt")
    message = lp(*(text(p, "part") for p in parts))
    return nacl.hash.blake2b(
        message,
        digest_size=32,
        key=salt,
        person=COMMITMENT_PERSON,
        encoder=nacl.encoding.RawEncoder,
    )


def canonical(value) -> bytes:
    """Canonical JSON: sorted keys, no whitespace, ASCII with \\u escapes."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode(
        "ascii"
    )


def sign_acknowledgement(seed: bytes, statement: dict[str, str]) -> bytes:
    """The acknowledgement file (bytes) for a statement of string values, signed with the seed's
    key."""
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in statement.items()):
        raise TypeError("statement keys and values must be str")
    key = nacl.signing.SigningKey(require_bytes(seed, 32, "seed"))
    signature = key.sign(SIGNATURE_CONTEXT + canonical(statement)).signature
    envelope = {
        "signature": signature.hex(),
        "signing_key": bytes(key.verify_key).hex(),
        "statement": statement,
    }
    return canonical(envelope) + b"\n"


def verify_acknowledgement(
    data: bytes, expected_key: bytes | None = None
) -> tuple[dict[str, str], bytes]:
    """Check an acknowledgement file: (its statement, the public key that signed it).

    Raises BadAcknowledgement unless `data` is exactly a canonical file whose signature verifies,
    and, when `expected_key` is given, was made by that key."""
    data = require_bytes(data, None, "data")
    if len(data) > MAX_FILE_BYTES or not data.endswith(b"\n"):
        raise BadAcknowledgement("not an acknowledgement file (wrong size or ending)")
    try:
        envelope = json.loads(data[:-1].decode("ascii"))
    except (UnicodeDecodeError, ValueError):
        raise BadAcknowledgement("not an acknowledgement file (not canonical JSON)") from None
    if (
        not isinstance(envelope, dict)
        or set(envelope) != {"signature", "signing_key", "statement"}
        or not isinstance(envelope["statement"], dict)
        or not all(isinstance(v, str) for v in envelope["statement"].values())
        or not isinstance(envelope["signature"], str)
        or not _HEX64.fullmatch(envelope["signature"])
        or not isinstance(envelope["signing_key"], str)
        or not _HEX32.fullmatch(envelope["signing_key"])
    ):
        raise BadAcknowledgement("not an acknowledgement file (fields missing or malformed)")
    if canonical(envelope) + b"\n" != data:
        raise BadAcknowledgement("the file was changed: it is not in its signed, canonical form")
    public_key = bytes.fromhex(envelope["signing_key"])
    if expected_key is not None and public_key != require_bytes(expected_key, 32, "expected_key"):
        raise BadAcknowledgement("signed by a different key than the one expected")
    try:
        nacl.signing.VerifyKey(public_key).verify(
            SIGNATURE_CONTEXT + canonical(envelope["statement"]),
            bytes.fromhex(envelope["signature"]),
        )
    except (nacl.exceptions.BadSignatureError, ValueError):
        raise BadAcknowledgement(
            "the signature does not match: the statement or signature was changed"
        ) from None
    return envelope["statement"], public_key

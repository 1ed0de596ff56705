"""The signed roster's statement format (SECURITY.md, "Signed roster"): canonical JSON bodies,
Ed25519 signatures over a context line and the body, and the hash that links a body to the next.

Pure functions over bytes; the chain rules are in crypto/roster.py.
"""

from __future__ import annotations

import datetime
import json
import re
from dataclasses import dataclass

import nacl.bindings
import nacl.encoding
import nacl.exceptions
import nacl.hash
import nacl.signing
import nacl.utils

from ._format import require_bytes
from .errors import CryptoError
from .kdf import derive_subkey

SIGNATURE_CONTEXT = b"protected-disclosure-roster/1\n"
HASH_PERSON = b"roster-link"
CUSTODIANS_LABEL = "roster-custodian"  # derive_subkey labels are at most 16 characters
VERSION = 1
KINDS = ("root", "admit", "replace", "remove", "recovery", "handover")
GENESIS = bytes(32)  # the "prev" of seq 1, and the head of an empty chain
MAX_BODY_BYTES = 1024
MAX_ID = 2**63 - 1  # ids fit a SQLite INTEGER
SIGNATURE_RECORD = 32 + 64
_FIELDS = frozenset(("v", "channel", "seq", "prev", "kind", "officer", "key", "signing_key", "day"))
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_HEX32 = re.compile(r"[0-9a-f]{64}")
_P25519 = 2**255 - 19
# A clamped X25519 scalar: its product with any point of order dividing 8 is the neutral element,
# which libsodium's crypto_scalarmult refuses (all-zero output).
_PROBE_SCALAR = bytes([0x48]) + bytes(30) + bytes([0x40])

# Which of officer / key / signing_key each kind carries: True required, False null, None either.
_SHAPE = {
    "root": (True, True, True),
    "admit": (True, True, True),
    "replace": (True, True, True),
    "remove": (True, False, False),
    "recovery": (False, True, None),
    "handover": (True, False, True),
}


class RosterError(CryptoError):
    """A roster statement, key or signature that is malformed (refused by encode/decode/sign)."""


@dataclass(frozen=True)
class Statement:
    """One decoded statement body. `prev`, `key` and `signing_key` are 32 raw bytes (key and
    signing_key may be None, as the kind says); `day` is YYYY-MM-DD."""

    channel: int
    seq: int
    prev: bytes
    kind: str
    officer: int | None
    key: bytes | None
    signing_key: bytes | None
    day: str
    v: int = VERSION


@dataclass(frozen=True)
class SignedStatement:
    """A canonical body and its signatures: ((signer Ed25519 public key 32, signature 64), ...)."""

    body: bytes
    signatures: tuple[tuple[bytes, bytes], ...]


def check_x25519_public(key, name: str = "key") -> bytes:
    """The 32-byte X25519 public key, or RosterError if it is not canonical (u >= 2^255 - 19) or of
    low order (any point whose product with a clamped scalar is the neutral element)."""
    key = _bytes32(key, name)
    if int.from_bytes(key, "little") >= _P25519:
        raise RosterError(f"{name} is not a canonical X25519 public key")
    try:
        nacl.bindings.crypto_scalarmult(_PROBE_SCALAR, key)
    except RuntimeError:
        raise RosterError(
            f"{name} is a low-order X25519 point: nothing can be sealed to it"
        ) from None
    return key


def check_ed25519_public(key, name: str = "signing_key") -> bytes:
    """The 32-byte Ed25519 public key, or RosterError unless it is the canonical encoding of a
    point of the prime-order subgroup (libsodium's crypto_core_ed25519_is_valid_point)."""
    key = _bytes32(key, name)
    if not nacl.bindings.crypto_core_ed25519_is_valid_point(key):
        raise RosterError(f"{name} is not a valid Ed25519 public key")
    return key


def _bytes32(value, name: str) -> bytes:
    try:
        return require_bytes(value, 32, name)
    except (TypeError, ValueError) as exc:
        raise RosterError(str(exc)) from None


def _identifier(value, name: str, *, nullable: bool = False) -> int | None:
    if value is None and nullable:
        return None
    if type(value) is not int or not 1 <= value <= MAX_ID:
        raise RosterError(f"{name} must be an integer from 1 to 2^63 - 1")
    return value


def _day(value) -> str:
    if not isinstance(value, str) or not _DAY.fullmatch(value):
        raise RosterError("day must be YYYY-MM-DD")
    try:
        datetime.date.fromisoformat(value)
    except ValueError:
        raise RosterError(f"day {value} is not a date") from None
    return value


def _canonical(value) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode(
        "ascii"
    )


def encode_statement(
    channel: int,
    seq: int,
    prev: bytes,
    kind: str,
    officer: int | None,
    key: bytes | None,
    signing_key: bytes | None,
    day: str,
) -> bytes:
    """The canonical body (ASCII bytes) of a statement; RosterError for anything malformed: ids
    outside 1..2^63-1, a prev that is not 32 bytes (32 zero bytes exactly for seq 1), root other
    than at seq 1, an unknown kind, a field present or missing against its kind, an X25519 key not
    canonical or of low order, an Ed25519 key that is not a valid point, a day that is not a date.
    """
    channel = _identifier(channel, "channel")
    seq = _identifier(seq, "seq")
    prev = _bytes32(prev, "prev")
    if (seq == 1) != (prev == GENESIS):
        raise RosterError("prev must be 32 zero bytes for seq 1, and only for seq 1")
    if kind not in KINDS:
        raise RosterError(f"unknown statement kind {kind!r}")
    if (seq == 1) != (kind == "root"):
        raise RosterError("a chain starts with its root statement, and has only that one")
    wants_officer, wants_key, wants_signing = _SHAPE[kind]
    officer = _identifier(officer, "officer", nullable=not wants_officer)
    if officer is not None and not wants_officer:
        raise RosterError(f"a {kind} statement names no officer")
    key = _optional(key, wants_key, kind, "key", check_x25519_public)
    signing_key = _optional(signing_key, wants_signing, kind, "signing_key", check_ed25519_public)
    body = _canonical(
        {
            "v": VERSION,
            "channel": channel,
            "seq": seq,
            "prev": prev.hex(),
            "kind": kind,
            "officer": officer,
            "key": None if key is None else key.hex(),
            "signing_key": None if signing_key is None else signing_key.hex(),
            "day": _day(day),
        }
    )
    if len(body) > MAX_BODY_BYTES:  # cannot happen with the checks above; kept as the bound
        raise RosterError("statement body too long")
    return body


def _optional(value, wanted: bool | None, kind: str, name: str, check) -> bytes | None:
    if value is None:
        if wanted:
            raise RosterError(f"a {kind} statement needs {name}")
        return None
    if wanted is False:
        raise RosterError(f"a {kind} statement has no {name}")
    return check(value, name)


def decode_statement(body: bytes) -> Statement:
    """Parse a body; RosterError unless it is exactly the canonical bytes encode_statement makes
    (any other spelling of the same JSON, upper-case hex, a duplicate or extra field is refused)."""
    if not isinstance(body, (bytes, bytearray, memoryview)):
        raise RosterError("a statement body must be bytes")
    body = bytes(body)
    if len(body) > MAX_BODY_BYTES:
        raise RosterError("statement body too long")
    try:
        value = json.loads(body.decode("ascii"))
    except (UnicodeDecodeError, ValueError):
        raise RosterError("statement body is not ASCII JSON") from None
    if not isinstance(value, dict) or set(value) != _FIELDS:
        raise RosterError("statement body has missing or unknown fields")
    if type(value["v"]) is not int or value["v"] != VERSION:
        raise RosterError(f"unknown statement version {value['v']!r}")
    hexes = {}
    for name in ("prev", "key", "signing_key"):
        text = value[name]
        if text is not None and not (isinstance(text, str) and _HEX32.fullmatch(text)):
            raise RosterError(f"{name} must be 64 lower-case hexadecimal characters")
        hexes[name] = None if text is None else bytes.fromhex(text)
    if hexes["prev"] is None:
        raise RosterError("prev must be 64 lower-case hexadecimal characters")
    fields = dict(value, **hexes)
    del fields["v"]
    if encode_statement(**fields) != body:
        raise RosterError("statement body is not in its canonical form")
    return Statement(**fields)


def statement_hash(body: bytes) -> bytes:
    """BLAKE2b-256(body, person="roster-link"), unkeyed: 32 bytes, the next statement's prev."""
    return nacl.hash.blake2b(
        require_bytes(body, None, "body"),
        digest_size=32,
        person=HASH_PERSON,
        encoder=nacl.encoding.RawEncoder,
    )


def new_signing_seed() -> bytes:
    """32 random bytes: an Ed25519 seed (RFC 8032, section 5.1.5)."""
    return nacl.utils.random(32)


def signing_public(seed: bytes) -> bytes:
    """The 32-byte Ed25519 public key of a 32-byte seed."""
    return bytes(nacl.signing.SigningKey(_bytes32(seed, "seed")).verify_key)


def sign_statement(seed: bytes, body: bytes) -> tuple[bytes, bytes]:
    """(signer public key 32, Ed25519 signature 64) over SIGNATURE_CONTEXT || body. RosterError
    for a seed that is not 32 bytes or a body that does not decode (decode_statement)."""
    decode_statement(body)
    key = nacl.signing.SigningKey(_bytes32(seed, "seed"))
    return bytes(key.verify_key), key.sign(SIGNATURE_CONTEXT + bytes(body)).signature


def signature_verifies(signer: bytes, signature: bytes, body: bytes) -> bool:
    """True if `signature` is `signer`'s Ed25519 signature (RFC 8032) over SIGNATURE_CONTEXT ||
    body. Never raises: a malformed key or signature is simply False."""
    try:
        key = nacl.signing.VerifyKey(bytes(signer))
        key.verify(SIGNATURE_CONTEXT + bytes(body), bytes(signature))
        return True
    except (nacl.exceptions.BadSignatureError, ValueError, TypeError, nacl.exceptions.CryptoError):
        return False


def custodians_signing_seed(recovery_secret: bytes) -> bytes:
    """The custodians' Ed25519 seed: derive_subkey(recovery secret, "roster-custodian"), where the
    recovery secret is the 32-byte SLIP-39 master secret (crypto.recovery_private_key)."""
    return derive_subkey(_bytes32(recovery_secret, "recovery_secret"), CUSTODIANS_LABEL)


def custodians_signing_public(recovery_secret: bytes) -> bytes:
    """The public half of custodians_signing_seed: what a recovery statement's signing_key is."""
    return signing_public(custodians_signing_seed(recovery_secret))


def pack_signatures(signatures) -> bytes:
    """A storage form of a statement's signatures: signer(32) || signature(64) for each, in order.
    RosterError for a signer or signature of the wrong size."""
    out = []
    for signer, signature in signatures:
        out.append(_bytes32(signer, "signer"))
        if not isinstance(signature, (bytes, bytearray)) or len(signature) != 64:
            raise RosterError("a signature must be 64 bytes")
        out.append(bytes(signature))
    return b"".join(out)


def unpack_signatures(blob: bytes) -> tuple[tuple[bytes, bytes], ...]:
    """The inverse of pack_signatures; RosterError unless the length is a multiple of 96 bytes."""
    if not isinstance(blob, (bytes, bytearray, memoryview)) or len(blob) % SIGNATURE_RECORD:
        raise RosterError("packed signatures must be a whole number of 96-byte records")
    blob = bytes(blob)
    return tuple(
        (blob[i : i + 32], blob[i + 32 : i + SIGNATURE_RECORD])
        for i in range(0, len(blob), SIGNATURE_RECORD)
    )

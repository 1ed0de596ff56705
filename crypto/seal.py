"""Case keys sealed (crypto_box_seal) to each recipient's X25519 public key."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import nacl.bindings
import nacl.utils
from nacl._sodium import ffi as _ffi
from nacl._sodium import lib as _lib

from ._format import KIND_SEALED, check_header, header, require_bytes
from .errors import CryptoError, DecryptionError
from .roster_format import RosterError, check_x25519_public

CASE_KEY_SIZE = 32
SEAL_OVERHEAD = 2 + 32 + 16  # header, ephemeral public key, MAC
SHARED_FROM = 64  # boxes from which open_sealed_many shares them between two threads


def new_case_key() -> bytes:
    return nacl.utils.random(CASE_KEY_SIZE)


def seal_to(public_key: bytes, secret: bytes) -> bytes:
    """01 02 | crypto_box_seal(secret, public_key). Anonymous: the sender holds no key."""
    public_key = require_bytes(public_key, 32, "public_key")
    return header(KIND_SEALED) + nacl.bindings.crypto_box_seal(
        require_bytes(secret, None, "secret"), public_key
    )


def open_sealed(private_key: bytes, sealed: bytes, public_key: bytes | None = None) -> bytes:
    """DecryptionError unless sealed was made for this private key and is unaltered.
    `public_key`: the private key's own (crypto.public_key_of), when the caller opens many boxes
    with one key and has worked it out once; a wrong one only makes the box not open."""
    private_key = require_bytes(private_key, 32, "private_key")
    if public_key is None:
        public_key = nacl.bindings.crypto_scalarmult_base(private_key)
    else:
        public_key = require_bytes(public_key, 32, "public_key")
    return _open(private_key, public_key, sealed)


def open_sealed_many(
    private_key: bytes, boxes: list[bytes], public_key: bytes | None = None
) -> list[bytes | None]:
    """open_sealed for each of `boxes` (a list of sealed boxes, one private key): the opened
    secret, or None for a box that does not open (DecryptionError: not made for this key, altered,
    too short) or is of an unknown format version. From SHARED_FROM boxes on, two threads share
    them: each box costs one X25519 (crypto_box_seal_open: X25519, HSalsa20, XSalsa20-Poly1305),
    which libsodium computes without Python's global lock, so the two run on two cores."""
    private_key = require_bytes(private_key, 32, "private_key")
    if public_key is None:
        public_key = nacl.bindings.crypto_scalarmult_base(private_key)
    public_key = require_bytes(public_key, 32, "public_key")

    def run(part: list[bytes]) -> list[bytes | None]:
        opened: list[bytes | None] = []
        for sealed in part:
            try:
                opened.append(_open(private_key, public_key, sealed))
            except CryptoError:
                opened.append(None)
        return opened

    if len(boxes) < SHARED_FROM:
        return run(boxes)
    half = len(boxes) // 2
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="open-sealed") as other:
        second = other.submit(run, boxes[half:])
        return run(boxes[:half]) + second.result()


def _open(private_key: bytes, public_key: bytes, sealed: bytes) -> bytes:
    """One box; the keys checked by the caller. libsodium called directly (as crypto/fields.py
    does): PyNaCl's binding checks every argument again, a quarter of the cost besides the
    X25519."""
    sealed = require_bytes(sealed, None, "sealed")
    check_header(sealed, KIND_SEALED, "sealed box")
    if len(sealed) < SEAL_OVERHEAD:
        raise DecryptionError("sealed box: too short")
    size = len(sealed) - SEAL_OVERHEAD
    out = _ffi.new("unsigned char[]", max(size, 1))
    if _lib.crypto_box_seal_open(out, sealed[2:], len(sealed) - 2, public_key, private_key):
        raise DecryptionError("sealed box: cannot open (not a recipient, or altered)")
    return _ffi.buffer(out, size)[:]


def sealed_shape(sealed: bytes, secret_size: int = CASE_KEY_SIZE) -> None:
    """Check a sealed secret's structure without the recipient's key (one made in a browser):
    header 01 02, exactly SEAL_OVERHEAD + `secret_size` bytes, and an ephemeral public key that is
    canonical and of no low order (crypto.check_x25519_public). DecryptionError otherwise."""
    sealed = require_bytes(sealed, None, "sealed")
    check_header(sealed, KIND_SEALED, "sealed box")
    if len(sealed) != SEAL_OVERHEAD + secret_size:
        raise DecryptionError(f"sealed box: not {SEAL_OVERHEAD + secret_size} bytes")
    try:
        check_x25519_public(sealed[2:34], "its ephemeral key")
    except RosterError as exc:
        raise DecryptionError(f"sealed box: {exc}") from None

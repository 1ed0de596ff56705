"""Case keys sealed (crypto_box_seal) to each recipient's X25519 public key."""

from __future__ import annotations

import nacl.bindings
import nacl.exceptions
import nacl.utils

from ._format import KIND_SEALED, check_header, header, require_bytes
from .errors import DecryptionError
from .roster_format import RosterError, check_x25519_public

CASE_KEY_SIZE = 32
SEAL_OVERHEAD = 2 + 32 + 16  # header, ephemeral public key, MAC


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
    sealed = require_bytes(sealed, None, "sealed")
    check_header(sealed, KIND_SEALED, "sealed box")
    if len(sealed) < SEAL_OVERHEAD:
        raise DecryptionError("sealed box: too short")
    if public_key is None:
        public_key = nacl.bindings.crypto_scalarmult_base(private_key)
    else:
        public_key = require_bytes(public_key, 32, "public_key")
    try:
        return nacl.bindings.crypto_box_seal_open(sealed[2:], public_key, private_key)
    except nacl.exceptions.CryptoError:
        raise DecryptionError("sealed box: cannot open (not a recipient, or altered)") from None


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

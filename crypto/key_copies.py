"""A reader's own copy of a case key (kind 0x06), under a subkey of the reader's private key, so
that opening many cases at once costs no X25519 each (issue 25: an officer's first search).

It adds no reader: whoever opens a copy holds the private key, which opens the sealed copy
(crypto/seal.py) beside it too. The AD binds the case and the recipient, so a copy moved to another
row does not open.
"""

from __future__ import annotations

import nacl.utils

from ._format import KIND_KEY_COPY, check_header, header, lp, require_bytes, text
from .errors import DecryptionError
from .fields import NONCE_SIZE, TAG_SIZE, aead_decrypt, aead_encrypt
from .kdf import derive_subkey

COPY_KEY_LABEL = "case-key-copy"
SECRET_SIZE = 32
KEY_COPY_SIZE = 2 + NONCE_SIZE + SECRET_SIZE + TAG_SIZE  # 74 bytes


def copy_key_of(private_key: bytes) -> bytes:
    """The key of this reader's copies: derive_subkey(private_key, "case-key-copy"), 32 bytes."""
    return derive_subkey(require_bytes(private_key, 32, "private_key"), COPY_KEY_LABEL)


def _ad(case_id: str, recipient: str) -> bytes:
    return header(KIND_KEY_COPY) + lp(text(case_id, "case_id"), text(recipient, "recipient"))


def copy_secret(
    copy_key: bytes, secret: bytes, case_id: str, recipient: str, *, _nonce: bytes | None = None
) -> bytes:
    """01 06 | nonce(24) | XChaCha20-Poly1305(copy_key, nonce, secret, AD = 01 06 |
    lp(case_id, recipient)): KEY_COPY_SIZE bytes for a 32-byte secret."""
    secret = require_bytes(secret, SECRET_SIZE, "secret")
    nonce = nacl.utils.random(NONCE_SIZE) if _nonce is None else _nonce
    return (
        header(KIND_KEY_COPY)
        + nonce
        + aead_encrypt(copy_key, nonce, secret, _ad(case_id, recipient))
    )


def open_copy(copy_key: bytes, copy: bytes, case_id: str, recipient: str) -> bytes:
    """The 32-byte secret; DecryptionError for another key, case or recipient, or an altered
    copy."""
    copy = require_bytes(copy, None, "copy")
    check_header(copy, KIND_KEY_COPY, "key copy")
    if len(copy) != KEY_COPY_SIZE:
        raise DecryptionError(f"key copy: not {KEY_COPY_SIZE} bytes")
    return aead_decrypt(
        copy_key, copy[2 : 2 + NONCE_SIZE], copy[2 + NONCE_SIZE :], _ad(case_id, recipient)
    )

"""A secret split between the client's cookie (a random key) and the server (a ciphertext)."""

from __future__ import annotations

import nacl.utils

from ._format import KIND_SESSION_HALF, check_header, header, require_bytes
from .errors import DecryptionError
from .fields import NONCE_SIZE, TAG_SIZE, aead_decrypt, aead_encrypt

SESSION_KEY_SIZE = 32


def split_secret(
    secret: bytes, *, _session_key: bytes | None = None, _nonce: bytes | None = None
) -> tuple[bytes, bytes]:
    """-> (session_key for the cookie, server_half = 01 05 | nonce | AEAD(secret)).
    Neither half alone reveals the secret; deleting either destroys it."""
    secret = require_bytes(secret, None, "secret")
    key = (
        nacl.utils.random(SESSION_KEY_SIZE)
        if _session_key is None
        else require_bytes(_session_key, SESSION_KEY_SIZE, "session_key")
    )
    nonce = nacl.utils.random(NONCE_SIZE) if _nonce is None else _nonce
    hdr = header(KIND_SESSION_HALF)
    return key, hdr + nonce + aead_encrypt(key, nonce, secret, hdr)


def join_secret(session_key: bytes, server_half: bytes) -> bytes:
    """DecryptionError on a wrong, truncated or altered key or half."""
    server_half = require_bytes(server_half, None, "server_half")
    check_header(server_half, KIND_SESSION_HALF, "session half")
    if (
        not isinstance(session_key, (bytes, bytearray, memoryview))
        or len(session_key) != SESSION_KEY_SIZE
    ):
        raise DecryptionError("session key malformed")  # it comes from a cookie: untrusted input
    if len(server_half) < 2 + NONCE_SIZE + TAG_SIZE:
        raise DecryptionError("session half: too short")
    return aead_decrypt(
        bytes(session_key),
        server_half[2 : 2 + NONCE_SIZE],
        server_half[2 + NONCE_SIZE :],
        server_half[:2],
    )

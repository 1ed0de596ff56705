"""XChaCha20-Poly1305 (IETF) for short values: case fields, names, messages."""

from __future__ import annotations

import nacl.utils
from nacl._sodium import ffi as _ffi
from nacl._sodium import lib as _lib

from ._format import (
    FORMAT_VERSION,
    KIND_FIELD,
    PADDED_VERSION,
    check_header,
    header,
    lp,
    require_bytes,
    text,
)
from .errors import DecryptionError
from .kdf import derive_subkey
from .padding import pad, padded_length, unpad

KEY_SIZE = 32
NONCE_SIZE = 24
TAG_SIZE = 16
FIELD_OVERHEAD = 2 + NONCE_SIZE + TAG_SIZE  # 42 bytes over the padded plaintext

def aead_encrypt(key: bytes, nonce: bytes, plaintext: bytes, ad: bytes) -> bytes:
    """Raw XChaCha20-Poly1305-IETF: returns ciphertext || 16-byte tag."""
    key = require_bytes(key, KEY_SIZE, "key")
    nonce = require_bytes(nonce, NONCE_SIZE, "nonce")
    plaintext = require_bytes(plaintext, None, "plaintext")
    ad = require_bytes(ad, None, "ad")
    # libsodium called directly, as _aead_open does: the arguments are checked above.
    size = len(plaintext) + TAG_SIZE
    out = _ffi.new("unsigned char[]", size)
    _lib.crypto_aead_xchacha20poly1305_ietf_encrypt(
        out, _ffi.NULL, plaintext, len(plaintext), ad, len(ad), _ffi.NULL, nonce, key
    )
    return _ffi.buffer(out, size)[:]


def aead_decrypt(key: bytes, nonce: bytes, ciphertext: bytes, ad: bytes) -> bytes:
    """Inverse of aead_encrypt; DecryptionError on any authentication failure."""
    key = require_bytes(key, KEY_SIZE, "key")
    nonce = require_bytes(nonce, NONCE_SIZE, "nonce")
    ciphertext = require_bytes(ciphertext, None, "ciphertext")
    if len(ciphertext) < TAG_SIZE:
        raise DecryptionError("ciphertext shorter than its tag")
    return _aead_open(key, nonce, ciphertext, require_bytes(ad, None, "ad"))


def _aead_open(key: bytes, nonce: bytes, ciphertext: bytes, ad: bytes) -> bytes:
    """libsodium's decryption called directly (as crypto/stream.py does): PyNaCl's binding checks
    each argument again, which cost three times the decryption of a short field when a search
    opens 30,000. The caller has checked the types, key and nonce sizes (the C function reads them
    without a length) and that the ciphertext holds its tag."""
    size = len(ciphertext) - TAG_SIZE
    out = _ffi.new("unsigned char[]", max(size, 1))
    out_size = _ffi.new("unsigned long long *")
    if _lib.crypto_aead_xchacha20poly1305_ietf_decrypt(
        out, out_size, _ffi.NULL, ciphertext, len(ciphertext), ad, len(ad), nonce, key
    ):
        raise DecryptionError("authentication failed")
    return _ffi.buffer(out, out_size[0])[:]


def field_ad(case_id: str, field: str, version: int = PADDED_VERSION) -> bytes:
    """AD of a field ciphertext: version, kind, then length-prefixed case id and field name."""
    return header(KIND_FIELD, version) + lp(text(case_id, "case_id"), text(field, "field"))


def encrypt_field(
    case_key: bytes, case_id: str, field: str, plaintext: bytes, *, _nonce: bytes | None = None
) -> bytes:
    """02 03 | nonce(24) | ciphertext+tag of pad(plaintext), under derive_subkey(case_key,
    "fields"): 42 + padded_length(len(plaintext)) bytes."""
    key = derive_subkey(require_bytes(case_key, KEY_SIZE, "case_key"), "fields")
    nonce = nacl.utils.random(NONCE_SIZE) if _nonce is None else _nonce
    padded = pad(require_bytes(plaintext, None, "plaintext"))
    return (
        header(KIND_FIELD, PADDED_VERSION)
        + nonce
        + aead_encrypt(key, nonce, padded, field_ad(case_id, field))
    )


def decrypt_field(case_key: bytes, case_id: str, field: str, ciphertext: bytes) -> bytes:
    """Fails with DecryptionError if the ciphertext belongs to another case, field or key. Opens
    both versions: 2 (padded) and 1 (unpadded, made before issue 26)."""
    key = derive_subkey(require_bytes(case_key, KEY_SIZE, "case_key"), "fields")
    return _open_field(key, case_id, field, ciphertext)


def decrypt_fields(
    case_key: bytes, case_id: str, ciphertexts: dict[str, bytes]
) -> dict[str, bytes]:
    """decrypt_field for several fields of one case (field name -> ciphertext), the fields' subkey
    worked out once; DecryptionError if any does not open."""
    key = derive_subkey(require_bytes(case_key, KEY_SIZE, "case_key"), "fields")
    return {field: _open_field(key, case_id, field, ct) for field, ct in ciphertexts.items()}


def _open_field(key: bytes, case_id: str, field: str, ciphertext: bytes) -> bytes:
    """One field under its subkey `key` (32 bytes, checked by the caller)."""
    ciphertext = require_bytes(ciphertext, None, "ciphertext")
    version = check_header(ciphertext, KIND_FIELD, "field", (FORMAT_VERSION, PADDED_VERSION))
    if len(ciphertext) < FIELD_OVERHEAD:
        raise DecryptionError("field: too short")
    plain = _aead_open(
        key,
        ciphertext[2 : 2 + NONCE_SIZE],
        ciphertext[2 + NONCE_SIZE :],
        field_ad(case_id, field, version),
    )
    return plain if version == FORMAT_VERSION else unpad(plain, "field")


def field_shape(ciphertext: bytes) -> int:
    """Check a version 2 field ciphertext's structure without its key (one made in a browser):
    header 02 03 and 42 + P bytes, P a padded length (crypto/padding.py). Returns P, the padded
    plaintext's length; DecryptionError otherwise. Says nothing of whether it opens."""
    ciphertext = require_bytes(ciphertext, None, "ciphertext")
    check_header(ciphertext, KIND_FIELD, "field", (PADDED_VERSION,))
    padded = len(ciphertext) - FIELD_OVERHEAD
    if padded < 1 or padded_length(padded - 1) != padded:
        raise DecryptionError("field: not the size of a padded plaintext")
    return padded

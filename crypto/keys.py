"""Officer X25519 key pairs and their passphrase-wrapped storage form."""

from __future__ import annotations

import base64
import unicodedata

import nacl.bindings
import nacl.encoding
import nacl.hash
import nacl.public
import nacl.utils

from . import kdf as _kdf
from ._format import KIND_WRAPPED_KEY, check_header, header, require_bytes
from .errors import DecryptionError, WrongPassphrase
from .fields import NONCE_SIZE, TAG_SIZE, aead_decrypt, aead_encrypt
from .kdf import PASSPHRASE_PARAMS, SALT_SIZE, KdfParams

KEY_SIZE = 32
# version, kind, params(8), salt(16) | nonce(24) | ciphertext(32) + tag(16)
_AD_END = 2 + 8 + SALT_SIZE
WRAPPED_SIZE = _AD_END + NONCE_SIZE + KEY_SIZE + TAG_SIZE  # 98


def generate_keypair() -> tuple[bytes, bytes]:
    """A fresh X25519 key pair: (private_key, public_key), 32 bytes each."""
    sk = nacl.public.PrivateKey.generate()
    return bytes(sk), bytes(sk.public_key)


def key_fingerprint(public_key: bytes) -> str:
    """A public key's fingerprint for people to compare aloud: the first 100 bits of unkeyed
    BLAKE2b-128(public_key, person="pd-key-fprint"), in RFC 4648 base32, five groups of four
    ("ABCD-EFGH-IJKL-MNOP-QRST"). Making another key with the same fingerprint is out of reach."""
    digest = nacl.hash.blake2b(
        require_bytes(public_key, KEY_SIZE, "public_key"),
        digest_size=16,
        person=b"pd-key-fprint",
        encoder=nacl.encoding.RawEncoder,
    )
    text = base64.b32encode(digest).decode()[:20]
    return "-".join(text[i : i + 4] for i in range(0, 20, 4))


def public_key_of(private_key: bytes) -> bytes:
    private_key = require_bytes(private_key, KEY_SIZE, "private_key")
    return nacl.bindings.crypto_scalarmult_base(private_key)


def _passphrase_bytes(passphrase: str) -> bytes:
    if not isinstance(passphrase, str):
        raise TypeError("passphrase must be str")
    # NFC so the same passphrase typed on another keyboard or OS gives the same bytes.
    return unicodedata.normalize("NFC", passphrase).encode("utf-8")


def wrap_private_key(
    private_key: bytes,
    passphrase: str,
    params: KdfParams = PASSPHRASE_PARAMS,
    *,
    _salt: bytes | None = None,
    _nonce: bytes | None = None,
) -> bytes:
    """Encrypt a private key under Argon2id(passphrase); params travel in the blob as AD."""
    private_key = require_bytes(private_key, KEY_SIZE, "private_key")
    secret = _passphrase_bytes(passphrase)
    if not secret:
        raise ValueError("empty passphrase")
    salt = (
        nacl.utils.random(SALT_SIZE) if _salt is None else require_bytes(_salt, SALT_SIZE, "salt")
    )
    nonce = (
        nacl.utils.random(NONCE_SIZE)
        if _nonce is None
        else require_bytes(_nonce, NONCE_SIZE, "nonce")
    )
    ad = header(KIND_WRAPPED_KEY) + params.to_bytes() + salt
    kek = _kdf.argon2id(secret, salt, params)
    return ad + nonce + aead_encrypt(kek, nonce, private_key, ad)


def wrapped_params(wrapped: bytes) -> KdfParams:
    """The (range-checked) KDF parameters stored in a wrapped key, e.g. to decide on re-wrapping."""
    wrapped = require_bytes(wrapped, None, "wrapped")
    check_header(wrapped, KIND_WRAPPED_KEY, "wrapped key")
    if len(wrapped) != WRAPPED_SIZE:
        raise DecryptionError("wrapped key: wrong length")
    return KdfParams.from_bytes(wrapped[2:10])


def unwrap_private_key(wrapped: bytes, passphrase: str) -> bytes:
    """Recover the private key; WrongPassphrase on a wrong passphrase or tampering, BadParameters
    (before any Argon2id work) on out-of-range stored parameters."""
    params = wrapped_params(wrapped)  # header, length and range checks come first
    wrapped = bytes(wrapped)
    salt = wrapped[10:_AD_END]
    nonce = wrapped[_AD_END : _AD_END + NONCE_SIZE]
    kek = _kdf.argon2id(_passphrase_bytes(passphrase), salt, params)
    try:
        return aead_decrypt(kek, nonce, wrapped[_AD_END + NONCE_SIZE :], wrapped[:_AD_END])
    except DecryptionError:
        raise WrongPassphrase("wrong passphrase (or the wrapped key was altered)") from None

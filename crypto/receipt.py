"""Receipt codes: 85 random bits a discloser writes down, and the identity derived from them.

Format: 17 data symbols + 1 check symbol from Crockford's base32 alphabet, shown as
XXXX-XXXX-XXXX-XXXX-XX. The check symbol makes the Horner evaluation of all 18 symbol values at
alpha = x in GF(2^5) (modulus x^5 + x^2 + 1) equal zero. That is a linear code whose position
weights are distinct non-zero powers of alpha, so every single-symbol substitution and every
adjacent (and jump) transposition changes the sum: caught before any Argon2id work.
"""

from __future__ import annotations

import secrets
import unicodedata
from typing import NamedTuple

import nacl.encoding
import nacl.hash
import nacl.public
import nacl.signing
import nacl.utils

from . import kdf as _kdf
from ._format import require_bytes
from .errors import ReceiptTypo
from .kdf import RECEIPT_PARAMS, SALT_SIZE, KdfParams, derive_subkey

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford: no I, L, O, U
DATA_SYMBOLS = 17  # 85 bits
RECEIPT_BITS = 5 * DATA_SYMBOLS
_VALUE = {c: i for i, c in enumerate(ALPHABET)}
# Look-alikes a person may write or read back; dashes of every kind and whitespace are dropped.
_TRANSLATE = str.maketrans(
    {
        "O": "0",
        "I": "1",
        "L": "1",
        "U": "V",
        **{d: None for d in "-\u2010\u2011\u2012\u2013\u2014\u2015\u2212"},
    }
)
SIGNING_LABEL = "receipt-signing"  # derive_subkey label of the discloser's Ed25519 seed
_MAX_INPUT = 100  # anything longer is not a receipt; do no more work on it


def _times_alpha(v: int) -> int:
    v <<= 1
    return v ^ 0b100101 if v & 0b100000 else v  # reduce by x^5 + x^2 + 1


def _horner(values) -> int:
    acc = 0
    for v in values:
        acc = _times_alpha(acc) ^ v
    return acc


def _group(symbols: str) -> str:
    return "-".join(symbols[i : i + 4] for i in range(0, len(symbols), 4))


def new_receipt() -> str:
    """A fresh receipt: 85 bits from the OS CSPRNG (secrets) plus a check symbol."""
    bits = secrets.randbits(RECEIPT_BITS)
    values = [(bits >> (5 * (DATA_SYMBOLS - 1 - i))) & 31 for i in range(DATA_SYMBOLS)]
    values.append(_times_alpha(_horner(values)))  # makes the full evaluation zero (char 2: -a = a)
    return _group("".join(ALPHABET[v] for v in values))


def normalise_receipt(text: str) -> str:
    """Canonical XXXX-XXXX-XXXX-XXXX-XX form; ReceiptTypo on any typo. Cheap: no KDF here."""
    if not isinstance(text, str) or len(text) > _MAX_INPUT:
        raise ReceiptTypo("not a receipt code")
    symbols = "".join(unicodedata.normalize("NFKC", text).upper().split()).translate(_TRANSLATE)
    if len(symbols) != DATA_SYMBOLS + 1:
        raise ReceiptTypo(f"a receipt code has {DATA_SYMBOLS + 1} characters")
    try:
        values = [_VALUE[c] for c in symbols]
    except KeyError:
        raise ReceiptTypo("a receipt code uses only digits and letters") from None
    if _horner(values):
        raise ReceiptTypo("the receipt code has a typo")
    return _group(symbols)


class _ReceiptKeys(NamedTuple):
    lookup_id: str  # hex, stored in the database
    private_key: bytes  # X25519, never stored
    public_key: bytes


class ReceiptIdentity(_ReceiptKeys):
    """What a receipt opens: a (lookup_id, private_key, public_key) tuple, as it always was, that
    also carries `signing_seed`, the Ed25519 seed (RFC 8032) of the discloser's signing key (never
    stored)."""

    def __new__(cls, lookup_id: str, private_key: bytes, public_key: bytes, signing_seed: bytes):
        self = super().__new__(cls, lookup_id, private_key, public_key)
        self.signing_seed = require_bytes(signing_seed, 32, "signing_seed")
        return self

    @property
    def signing_public_key(self) -> bytes:
        """The 32-byte Ed25519 public key of `signing_seed`."""
        return bytes(nacl.signing.SigningKey(self.signing_seed).verify_key)

    def __repr__(self) -> str:  # keep the private keys out of logs and tracebacks
        return (
            f"ReceiptIdentity(lookup_id={self.lookup_id!r}, public_key={self.public_key.hex()!r})"
        )


def new_install_salt() -> bytes:
    """The per-installation salt for receipt derivation (16 random bytes, stored once)."""
    return nacl.utils.random(SALT_SIZE)


def derive_receipt_identity(
    receipt: str, install_salt: bytes, params: KdfParams = RECEIPT_PARAMS
) -> ReceiptIdentity:
    """master = Argon2id(canonical receipt ASCII, install_salt, params); lookup_id = hex(subkey
    "receipt-lookup"); X25519 seed = subkey "receipt-x25519"; Ed25519 signing seed = subkey
    "receipt-signing" (the key that signs the discloser's consent answers)."""
    canonical = normalise_receipt(receipt)  # typos stop here, before any expensive work
    install_salt = require_bytes(install_salt, SALT_SIZE, "install_salt")
    master = _kdf.argon2id(canonical.encode("ascii"), install_salt, params)
    lookup_id = derive_subkey(master, "receipt-lookup").hex()
    sk = nacl.public.PrivateKey.from_seed(derive_subkey(master, "receipt-x25519"))
    signing_seed = derive_subkey(master, SIGNING_LABEL)
    return ReceiptIdentity(lookup_id, bytes(sk), bytes(sk.public_key), signing_seed)


LOOKUP_HASH_PREFIX = "h1:"
_LOOKUP_HASH_PERSON = b"receipt-lookup-h"


def lookup_hash(lookup_id: str) -> str:
    """What the database keeps of a lookup derived in the discloser's browser: "h1:" + hex of
    unkeyed BLAKE2b-256(the lookup's 32 bytes, person "receipt-lookup-h"). A copy of the database
    then holds no bearer value: the lookup itself, which a status check presents, cannot be read
    back from it. ValueError unless `lookup_id` is 64 hex characters."""
    if not isinstance(lookup_id, str) or len(lookup_id) != 64:
        raise ValueError("a lookup is 64 hex characters")
    raw = bytes.fromhex(lookup_id)
    digest = nacl.hash.blake2b(
        raw, digest_size=32, person=_LOOKUP_HASH_PERSON, encoder=nacl.encoding.RawEncoder
    )
    return LOOKUP_HASH_PREFIX + digest.hex()

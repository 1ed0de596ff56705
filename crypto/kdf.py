"""Argon2id for secrets people type, keyed BLAKE2b for subkeys."""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass

import nacl.bindings
import nacl.pwhash.argon2id

from ._format import require_bytes
from .errors import BadParameters

SALT_SIZE = 16  # crypto_pwhash_argon2id_SALTBYTES

# Accepted range for stored parameters. The ceiling exists so a tampered blob cannot make the server
# allocate or spin without bound; the floor so nobody stores a trivially cheap KDF.
OPSLIMIT_MIN = 1
OPSLIMIT_MAX = 16
MEMLIMIT_MIN = 8 * 1024 * 1024
MEMLIMIT_MAX = 1024 * 1024 * 1024

_PARAMS = struct.Struct(">II")  # opslimit, memlimit in KiB


@dataclass(frozen=True)
class KdfParams:
    """Argon2id (version 1.3) cost parameters; memlimit in bytes, a whole number of KiB."""

    opslimit: int
    memlimit: int

    def check(self) -> "KdfParams":
        """Raise BadParameters unless within the accepted range. Call before any Argon2id work."""
        for name in ("opslimit", "memlimit"):
            value = getattr(self, name)
            if type(value) is not int:
                raise BadParameters(f"{name} must be an int")
        if not OPSLIMIT_MIN <= self.opslimit <= OPSLIMIT_MAX:
            raise BadParameters(
                f"opslimit {self.opslimit} outside [{OPSLIMIT_MIN}, {OPSLIMIT_MAX}]"
            )
        if not MEMLIMIT_MIN <= self.memlimit <= MEMLIMIT_MAX:
            raise BadParameters(
                f"memlimit {self.memlimit} outside [{MEMLIMIT_MIN}, {MEMLIMIT_MAX}]"
            )
        if self.memlimit % 1024:
            # Argon2 counts memory in KiB; the stored form is KiB so each stored value is one cost.
            raise BadParameters("memlimit must be a whole number of KiB")
        return self

    def to_bytes(self) -> bytes:
        """8 bytes: opslimit u32 BE, memlimit in KiB u32 BE (the stored, authenticated form)."""
        self.check()
        return _PARAMS.pack(self.opslimit, self.memlimit // 1024)

    @classmethod
    def from_bytes(cls, data: bytes) -> "KdfParams":
        """Parse and range-check stored parameters; raises BadParameters."""
        if len(data) != _PARAMS.size:
            raise BadParameters("stored KDF parameters must be 8 bytes")
        ops, mem_kib = _PARAMS.unpack(data)
        return cls(ops, mem_kib * 1024).check()


PASSPHRASE_PARAMS = KdfParams(
    nacl.pwhash.argon2id.OPSLIMIT_MODERATE, nacl.pwhash.argon2id.MEMLIMIT_MODERATE
)  # ops 3, 256 MiB
# Receipt versions (SECURITY.md, "Argon2id parameters"): one parameter set each, the same in the
# browser and on the server. A receipt code carries no version, so a status check tries the newest
# version first, then the older ones the installation still has receipts of.
RECEIPT_PARAMS = KdfParams(
    nacl.pwhash.argon2id.OPSLIMIT_INTERACTIVE, nacl.pwhash.argon2id.MEMLIMIT_INTERACTIVE
)  # version 1: ops 2, 64 MiB (receipts made before version 2)
# Version 2: about 5 s in a browser without JIT (Tor Browser "Safer"); version 1 takes 19-22 s.
RECEIPT_V2_PARAMS = KdfParams(1, 32 * 1024 * 1024)
RECEIPT_VERSIONS = {1: RECEIPT_PARAMS, 2: RECEIPT_V2_PARAMS}
RECEIPT_VERSION = 2  # the version every new receipt is made at
# Only for tests, passed explicitly; never a default anywhere in crypto/ or portal/.
FAST_TEST_PARAMS = KdfParams(1, 8 * 1024 * 1024)


def argon2id(secret: bytes, salt: bytes, params: KdfParams, size: int = 32) -> bytes:
    """Argon2id13(secret, salt) -> size bytes. Parameters are range-checked first."""
    if not isinstance(params, KdfParams):
        raise TypeError("params must be KdfParams")
    params.check()
    secret = require_bytes(secret, None, "secret")
    salt = require_bytes(salt, SALT_SIZE, "salt")
    # Looked up at call time (not imported by name) so tests can prove it is never reached.
    return nacl.pwhash.argon2id.kdf(
        size, secret, salt, opslimit=params.opslimit, memlimit=params.memlimit
    )


def derive_subkey(key: bytes, label: str, size: int = 32) -> bytes:
    """Keyed BLAKE2b(key, message=b"", person=label): one independent subkey per label."""
    return _blake2b_kdf(key, label, b"", size)


def _blake2b_kdf(key: bytes, label: str, context: bytes, size: int = 32) -> bytes:
    """Keyed BLAKE2b with person=label over a context (empty for derive_subkey)."""
    key = require_bytes(key, None, "key")
    if not 16 <= len(key) <= 64:
        raise ValueError("key must be 16..64 bytes")
    person = label.encode("ascii")
    # person is zero-padded to 16 bytes by libsodium, so a NUL would alias a shorter label.
    if not 1 <= len(person) <= 16 or b"\0" in person:
        raise ValueError("label must be 1..16 ASCII characters without NUL")
    if not 16 <= size <= 64:
        raise ValueError("size must be 16..64")
    # hashlib's BLAKE2b is libsodium's generichash with salt and person (each zero-padded to 16
    # bytes): the same bytes (tests/crypto/test_kdf.py), without PyNaCl's checks on every call.
    return hashlib.blake2b(context, digest_size=size, key=key, person=person).digest()

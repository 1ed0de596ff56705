"""An organisation's archive key and the head of its archive (issue 29: an organisation leaving a
service takes its data with it, under a key it holds and the service operator does not).

The organisation makes an X25519 key pair on its own machine (`new_archive_key`) and gives the
service only the public half. An archive is then

    MAGIC | u32 length | head | stream

where `head` is lp(recipient public key, sealed archive key): the archive key (32 random
bytes) sealed to the recipient (crypto.seal.seal_to), and `stream` the archive's content encrypted
under that key (crypto.stream, padded, authenticated chunk by chunk) with `MAGIC | head` as its
associated data, so a head cannot be moved onto another stream. Only the private half opens it."""

from __future__ import annotations

import base64
import binascii
import struct

import nacl.utils

from ._format import lp, require_bytes
from .errors import DecryptionError
from .keys import generate_keypair, key_fingerprint, public_key_of
from .seal import open_sealed, seal_to

MAGIC = b"PD-ORGANISATION-ARCHIVE-1\n"
PUBLIC_PREFIX = "pd-archive-public-1:"
PRIVATE_PREFIX = "pd-archive-private-1:"
ARCHIVE_KEY_SIZE = 32
_U32 = struct.Struct(">I")
_MAX_HEAD = 4096


def new_archive_key() -> tuple[str, str]:
    """A fresh archive key pair as two one-line documents: (private, public), each a prefix and
    the 32-byte key in URL-safe base64. The private one is the organisation's to keep."""
    private, public = generate_keypair()
    return PRIVATE_PREFIX + _b64(private), PUBLIC_PREFIX + _b64(public)


def read_public_key(document: str) -> bytes:
    """The 32-byte public key of a document `new_archive_key` made. ValueError otherwise."""
    return _read(document, PUBLIC_PREFIX, "an archive's public key")


def read_private_key(document: str) -> bytes:
    """The 32-byte private key of a document `new_archive_key` made. ValueError otherwise."""
    return _read(document, PRIVATE_PREFIX, "an archive's private key")


def fingerprint(public_key: bytes) -> str:
    """The public key's fingerprint for people to compare (crypto.key_fingerprint)."""
    return key_fingerprint(public_key)


def start_archive(public_key: bytes) -> tuple[bytes, bytes, bytes]:
    """(archive key, the bytes that begin the archive, the stream's associated data) for an archive
    sealed to `public_key`. Nothing in the clear names the organisation."""
    public_key = require_bytes(public_key, 32, "public_key")
    key = nacl.utils.random(ARCHIVE_KEY_SIZE)
    head = lp(public_key, seal_to(public_key, key))
    return key, MAGIC + _U32.pack(len(head)) + head, MAGIC + head


def open_archive(private_key: bytes, source) -> tuple[bytes, bytes]:
    """Read an archive's beginning from the binary file `source` (left at its stream): returns
    (archive key, the stream's associated data). DecryptionError for a file that is no
    archive, or one sealed to another key."""
    private_key = require_bytes(private_key, 32, "private_key")
    if source.read(len(MAGIC)) != MAGIC:
        raise DecryptionError("archive: not an organisation's archive")
    size = source.read(_U32.size)
    if len(size) != _U32.size or not 0 < _U32.unpack(size)[0] <= _MAX_HEAD:
        raise DecryptionError("archive: damaged head")
    head = source.read(_U32.unpack(size)[0])
    parts = _parts(head)
    if len(parts) != 2 or len(parts[0]) != 32:
        raise DecryptionError("archive: damaged head")
    if parts[0] != public_key_of(private_key):
        raise DecryptionError("archive: sealed to another archive key")
    return open_sealed(private_key, parts[1]), MAGIC + head


def _parts(blob: bytes) -> list[bytes]:
    parts, at = [], 0
    while at < len(blob):
        if at + _U32.size > len(blob):
            raise DecryptionError("archive: damaged head")
        (n,) = _U32.unpack_from(blob, at)
        at += _U32.size
        if at + n > len(blob):
            raise DecryptionError("archive: damaged head")
        parts.append(blob[at : at + n])
        at += n
    return parts


def _b64(key: bytes) -> str:
    return base64.urlsafe_b64encode(key).decode().rstrip("=")


def _read(document: str, prefix: str, what: str) -> bytes:
    value = document.strip()
    if not value.startswith(prefix):
        raise ValueError(f"This is not {what} (it starts with {prefix!r}).")
    encoded = value[len(prefix) :]
    try:
        key = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
    except (binascii.Error, ValueError):
        raise ValueError(f"This is not {what}: it does not decode.") from None
    if len(key) != 32:
        raise ValueError(f"This is not {what}: it is not 32 bytes.")
    return key

"""Format constants shared by every ciphertext kind (see SECURITY.md, "Cryptographic format")."""

from __future__ import annotations

import struct

from .errors import DecryptionError, UnsupportedVersion

FORMAT_VERSION = 1
# Version 2 (issue 26) pads field and stream plaintexts before encryption (crypto/padding.py); the
# other kinds hold fixed-size secrets and stay at version 1. Version 1 fields and streams still
# open.
PADDED_VERSION = 2

# One kind byte per ciphertext kind, so a blob of one kind can never be read as another.
KIND_WRAPPED_KEY = 0x01
KIND_SEALED = 0x02
KIND_FIELD = 0x03
KIND_STREAM = 0x04
KIND_SESSION_HALF = 0x05
KIND_KEY_COPY = 0x06

_U32 = struct.Struct(">I")


def header(kind: int, version: int = FORMAT_VERSION) -> bytes:
    return bytes((version, kind))


def check_header(
    blob: bytes, kind: int, what: str, versions: tuple[int, ...] = (FORMAT_VERSION,)
) -> int:
    """Version first (so a future format is reported as such), then kind; returns the version."""
    if len(blob) < 2:
        raise DecryptionError(f"{what}: too short")
    if blob[0] not in versions:
        raise UnsupportedVersion(f"{what}: unknown format version {blob[0]}")
    if blob[1] != kind:
        raise DecryptionError(f"{what}: wrong kind byte {blob[1]:#04x}")
    return blob[0]


def lp(*parts: bytes) -> bytes:
    """Length-prefixed concatenation (u32 big-endian length before each part): unambiguous AD."""
    return b"".join([_U32.pack(len(p)) + p for p in parts])  # a list: quicker than a generator


def text(value: str, name: str) -> bytes:
    if not isinstance(value, str):
        raise TypeError(f"{name} must be str")
    return value.encode("utf-8")


def require_bytes(value, size: int | None, name: str) -> bytes:
    if type(value) is not bytes:  # bytes as they are (no copy: the search opens 30,000 at once)
        if not isinstance(value, (bytes, bytearray, memoryview)):
            raise TypeError(f"{name} must be bytes")
        value = bytes(value)
    if size is not None and len(value) != size:
        raise ValueError(f"{name} must be {size} bytes, got {len(value)}")
    return value

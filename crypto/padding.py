"""Padded sizes (format version 2): what a sealed object's length may tell of its plaintext.

A plaintext of n bytes is sealed as `padded_length(n)` bytes: the plaintext, one 0x80 byte, then
zeros (ISO/IEC 7816-4). Short values (the padded length is at most 4 KiB) take the smallest of a
few fixed buckets; longer ones take Padmé (Nikitin et al., "Reducing Metadata Leakage from Encrypted
Files and Communication with PURBs", PETS 2019), which costs at most 12% and leaves O(log log n)
bits of the length. See SECURITY.md, "Padded sizes".
"""

from __future__ import annotations

from .errors import DecryptionError

MARKER = 0x80
BUCKETS = (64, 128, 256, 512, 1024, 2048, 4096)


def padme(length: int) -> int:
    """Padmé: keep the top floor(log2 E) + 1 bits of the length's exponent E, round up the rest."""
    if length < 2:
        return length
    e = length.bit_length() - 1  # floor(log2 length)
    s = e.bit_length()  # floor(log2 e) + 1
    mask = (1 << (e - s)) - 1
    return (length + mask) & ~mask


def padded_length(n: int) -> int:
    """Bytes sealed for an n-byte plaintext: n + 1 (the marker), then a bucket or Padmé."""
    if n < 0:
        raise ValueError("length must not be negative")
    length = n + 1
    for bucket in BUCKETS:
        if length <= bucket:
            return bucket
    return padme(length)


def pad(data: bytes) -> bytes:
    size = padded_length(len(data))
    return data + b"\x80" + bytes(size - len(data) - 1)


def unpad(padded: bytes, what: str) -> bytes:
    """Inverse of pad, after authentication (so no padding oracle): DecryptionError if malformed."""
    body = padded.rstrip(b"\0")
    if not body or body[-1] != MARKER:
        raise DecryptionError(f"{what}: bad padding")
    return body[:-1]

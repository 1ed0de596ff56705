"""Keyed hash chain for the audit log (SECURITY.md, "Audit chain").

Each entry's link is keyed BLAKE2b-256 over the previous link and the entry's fields, so an entry
cannot be edited, removed or moved without breaking every link after it, and nobody without the key
can compute a new chain.
"""

from __future__ import annotations

from ._format import lp, require_bytes, text
from .kdf import _blake2b_kdf

LINK_SIZE = 32
GENESIS = bytes(LINK_SIZE)  # the "previous link" of the first entry


def audit_link(key: bytes, previous: bytes, fields: list[str]) -> bytes:
    """BLAKE2b-256(key, person="audit-link", message = previous(32) || lp(UTF-8 of each field)).

    `key` is 16..64 bytes (the portal uses derive_subkey(installation secret, "audit-chain"));
    `previous` is the link of the entry before, or GENESIS for the first. Returns 32 bytes.
    """
    previous = require_bytes(previous, LINK_SIZE, "previous")
    encoded = lp(*(text(value, "field") for value in fields))
    return _blake2b_kdf(
        require_bytes(key, None, "key"), "audit-link", previous + encoded, LINK_SIZE
    )

"""A file's SHA-256 as it is received, computed on a thread of its own (portal.intake.beside) beside
the one that reads the body and the one that encrypts and writes it: hashlib lets go of the
interpreter lock while it hashes a large piece, so with a core to spare the digest adds no time to
an upload (issue 23's profile: a quarter of the worker's time was the digest, done in line)."""

from __future__ import annotations

import hashlib

from portal.intake.beside import INLINE_BYTES, Beside

__all__ = ["INLINE_BYTES", "ReceivedDigest"]


class ReceivedDigest:
    """SHA-256 of the bytes given to `update`, in order. `hexdigest()` waits for the queue to drain;
    `close()` stops the thread without a result (an upload abandoned part way). `hashed` counts the
    bytes hashed (each byte once), for tests."""

    def __init__(self) -> None:
        self._hash = hashlib.sha256()
        self.hashed = 0
        self._beside = Beside(self._update, "upload-digest")

    def _update(self, piece: bytes) -> None:
        self._hash.update(piece)
        self.hashed += len(piece)

    def update(self, data: bytes) -> None:
        self._beside.put(data)

    def hexdigest(self) -> str:
        self._beside.finish()
        return self._hash.hexdigest()

    def close(self) -> None:
        self._beside.close()

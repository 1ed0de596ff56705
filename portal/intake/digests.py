"""A file's SHA-256 as it is received, computed in line on the request's thread while the file's
encryption and writing run on a thread of their own (portal.intake.pending_files, issue 23):
hashlib lets go of the interpreter lock while it hashes a large piece, so the two threads split an
upload's work about evenly (measured on 2 GiB: 2.2 s of CPU on each) and neither waits for the
other. A third thread for the digest alone (tried) cost more CPU for no gain on a 2-core machine."""

from __future__ import annotations

import hashlib


class ReceivedDigest:
    """SHA-256 of the bytes given to `update`, in order; `hashed` counts them (each byte once), for
    tests."""

    def __init__(self) -> None:
        self._hash = hashlib.sha256()
        self.hashed = 0

    def update(self, data: bytes) -> None:
        self._hash.update(data)
        self.hashed += len(data)

    def hexdigest(self) -> str:
        return self._hash.hexdigest()

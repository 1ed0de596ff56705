"""A file's digest (portal.intake.digests): the SHA-256 of its pieces in order, whatever their
kinds and sizes, computed in line: no thread is started for it (the file's encryption has one)."""
from __future__ import annotations

import hashlib
import os
import threading

from portal.intake.digests import ReceivedDigest


def test_the_digest_is_sha256_of_the_pieces_in_order_small_or_large_in_line():
    threads = threading.active_count()
    for pieces in ([b""], [b"a few bytes"], [os.urandom(1000)] * 3,
                   [os.urandom(512 * 1024 + 1) for _ in range(3)] + [bytearray(b"tail"), memoryview(b"!")],
                   [os.urandom(1 << 20) for _ in range(9)]):
        digest = ReceivedDigest()
        for piece in pieces:
            digest.update(piece)
        assert digest.hexdigest() == hashlib.sha256(b"".join(bytes(p) for p in pieces)).hexdigest()
        assert digest.hashed == sum(len(p) for p in pieces)
        assert threading.active_count() == threads

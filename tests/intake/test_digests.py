"""A file's digest is computed beside its encryption (portal.intake.digests): the same SHA-256 as in
line, for small files and large, and an upload abandoned part way leaves no thread behind."""
from __future__ import annotations

import hashlib
import os
import threading

from portal.intake.digests import INLINE_BYTES, ReceivedDigest


def _threads() -> int:
    return sum(1 for t in threading.enumerate() if t.name == "upload-digest")


def test_the_digest_is_sha256_of_the_pieces_in_order_small_or_large():
    for pieces in ([b""], [b"a few bytes"], [os.urandom(1000)] * 3,
                   [os.urandom(INLINE_BYTES // 2 + 1) for _ in range(3)] + [bytearray(b"tail"), memoryview(b"!")],
                   [os.urandom(1 << 20) for _ in range(9)]):
        digest = ReceivedDigest()
        for piece in pieces:
            digest.update(piece)
        assert digest.hexdigest() == hashlib.sha256(b"".join(bytes(p) for p in pieces)).hexdigest()
    assert _threads() == 0


def test_a_large_file_is_hashed_on_its_own_thread_and_close_ends_it():
    digest = ReceivedDigest()
    digest.update(os.urandom(INLINE_BYTES))
    assert _threads() == 0  # small enough: in line
    digest.update(os.urandom(1 << 20))
    assert _threads() == 1
    digest.close()  # abandoned part way: no result, no thread left waiting
    assert _threads() == 0

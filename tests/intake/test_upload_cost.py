"""What an upload costs the request's thread (issue 23), counted: every byte of a file hashed once
(in line) and encrypted once, on a thread of its own once the file passes its first MiB (so the
request's thread only reads, parses and hashes), with at most a chunk copied per piece on the way."""
from __future__ import annotations

import os
import threading

import pytest

import crypto
from portal.intake import digests
from portal.intake.beside import INLINE_BYTES, Beside
from tests.support.discloser import ATTACHMENT, disclose


def _worker_threads() -> set[str]:
    return {t.name for t in threading.enumerate() if t.name == "upload-encrypt"}


def test_a_large_file_is_hashed_once_in_line_and_encrypted_once_beside_the_request(client, installation, monkeypatch):
    done = []  # (thread, "encrypt" or "hash", bytes, the encryptor)
    real_write, real_update = crypto.StreamEncryptor.write, digests.ReceivedDigest.update

    def write(encryptor, data):
        done.append((threading.current_thread().name, "encrypt", len(data), encryptor))
        return real_write(encryptor, data)

    def update(digest, piece):
        done.append((threading.current_thread().name, "hash", len(piece), None))
        return real_update(digest, piece)

    monkeypatch.setattr(crypto.StreamEncryptor, "write", write)
    monkeypatch.setattr(digests.ReceivedDigest, "update", update)
    request_thread = threading.current_thread().name  # the test client runs the view here
    response = disclose(client)  # one file of 3 MiB and a bit, of no kind the checks clean
    assert response.status_code == 200, response.text

    by_thread: dict[tuple[str, str], int] = {}
    for thread, kind, n, _ in done:
        by_thread[kind, thread] = by_thread.get((kind, thread), 0) + n
    assert by_thread.pop(("hash", request_thread)) == len(ATTACHMENT)  # each byte once, in line
    assert by_thread.pop(("encrypt", "upload-encrypt")) >= len(ATTACHMENT) - INLINE_BYTES
    # ... and each byte encrypted once: on the request's thread, only the first MiB
    assert by_thread.pop(("encrypt", request_thread), 0) <= INLINE_BYTES
    assert sum(n for _, kind, n, _ in done if kind == "encrypt") == len(ATTACHMENT)
    assert by_thread == {}
    [encryptor] = {id(e): e for _, kind, _, e in done if kind == "encrypt"}.values()
    pieces = sum(1 for _, kind, _, _ in done if kind == "encrypt")
    assert encryptor.copied <= pieces * crypto.CHUNK_SIZE <= len(ATTACHMENT) // 8
    assert _worker_threads() == set()


def test_a_write_failing_beside_the_request_refuses_the_upload_and_leaves_nothing(client, installation,
                                                                                 monkeypatch):
    real_write = crypto.StreamEncryptor.write
    written = []

    def failing_write(encryptor, data):
        written.append(len(data))
        if sum(written) > INLINE_BYTES:  # on the encryption thread
            raise OSError(28, "No space left on device")
        return real_write(encryptor, data)

    monkeypatch.setattr(crypto.StreamEncryptor, "write", failing_write)
    response = disclose(client)
    assert response.status_code != 200
    assert list((installation.data_dir / "blobs").iterdir()) == []
    assert _worker_threads() == set()


def test_beside_raises_the_threads_error_on_the_request_thread_and_close_never_raises():
    done = []

    def work(piece):
        if piece == b"bad":
            raise ValueError("bad piece")
        done.append(len(piece))

    beside = Beside(work, "upload-encrypt")
    beside.put(os.urandom(INLINE_BYTES))  # in line
    assert not beside.threaded
    beside.put(b"bad")  # past the first MiB: on the thread, which fails
    assert beside.threaded
    with pytest.raises(ValueError):
        for _ in range(100):  # raised by a later put, or by finish
            beside.put(b"more")
        beside.finish()
    beside.close()
    assert done == [INLINE_BYTES] and _worker_threads() == set()

    beside = Beside(work, "upload-encrypt")
    beside.put(os.urandom(INLINE_BYTES + 1))
    beside.put(b"bad")
    beside.close()  # abandoned: no error, no thread
    assert _worker_threads() == set()

"""Streaming file encryption with secretstream (crypto/stream.py)."""
import io
import os
import random
import tracemalloc

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crypto import (
    CHUNK_SIZE,
    CryptoError,
    DecryptionError,
    StreamEncryptor,
    UnsupportedVersion,
    attachment_ad,
    decrypt_stream,
    encrypt_stream,
    iter_decrypt,
    new_case_key,
    padded_blob_size,
    padded_length,
    stream_key,
)

PROPS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
HEADER = 2 + 24
CT_CHUNK = CHUNK_SIZE + 17
KEY = stream_key(new_case_key(), "2026-0001", "att-1")
AD = attachment_ad("2026-0001", "att-1")
DATA = os.urandom(3 * CHUNK_SIZE + 1000)  # four chunks: three full, one short final


def enc(data: bytes, key=KEY, ad=AD) -> bytes:
    out = io.BytesIO()
    assert encrypt_stream(key, io.BytesIO(data), out, ad) == len(data)
    return out.getvalue()


def dec(blob: bytes, key=KEY, ad=AD) -> bytes:
    out = io.BytesIO()
    n = decrypt_stream(key, io.BytesIO(blob), out, ad)
    assert n == len(out.getvalue())
    return out.getvalue()


def split(blob: bytes):
    body = blob[HEADER:]
    return blob[:HEADER], [body[i : i + CT_CHUNK] for i in range(0, len(body), CT_CHUNK)]


BLOB = enc(DATA)


class ShortReads(io.RawIOBase):
    """A source that returns at most a random few bytes per read, like a pipe or socket."""

    def __init__(self, data: bytes, seed: int):
        self._data, self._pos, self._rng = data, 0, random.Random(seed)

    def readable(self):
        return True

    def read(self, n=-1):
        n = min(n if n >= 0 else len(self._data), self._rng.randint(1, 9000))
        out = self._data[self._pos : self._pos + n]
        self._pos += len(out)
        return out


class RepeatingSource(io.RawIOBase):
    def __init__(self, size: int):
        self._left, self._block = size, os.urandom(CHUNK_SIZE)

    def readable(self):
        return True

    def read(self, n=-1):
        n = min(n, self._left, CHUNK_SIZE)
        self._left -= n
        return self._block[:n]


class NullSink:
    def write(self, data):
        return len(data)


def test_layout():
    head, chunks = split(BLOB)
    assert head[:2] == b"\x02\x04"
    # 3 * 65536 + 1000 bytes pad (Padme) to 200704 = 3 * 65536 + 4096: the final chunk holds the
    # file's last 1000 bytes, the marker and the zeros
    assert padded_length(len(DATA)) == 200704
    assert [len(c) for c in chunks] == [CT_CHUNK] * 3 + [4096 + 17]
    assert len(enc(b"")) == HEADER + 64 + 17 == padded_blob_size(0)
    # an exact multiple of CHUNK_SIZE: the marker starts a chunk of its own
    assert padded_length(2 * CHUNK_SIZE) == 2 * CHUNK_SIZE + 4096
    assert len(enc(os.urandom(2 * CHUNK_SIZE))) == HEADER + 2 * CT_CHUNK + 4096 + 17
    for size in (0, 1, 63, 64, 4095, 4096, CHUNK_SIZE - 1, CHUNK_SIZE, 3 * CHUNK_SIZE + 1000):
        assert len(enc(DATA[:size])) == padded_blob_size(size)


@pytest.mark.parametrize("sizes", [(70_000, 71_000), (1, 62), (4096, 4300),
                                   (CHUNK_SIZE - 1, CHUNK_SIZE - 600)])
def test_two_files_in_one_bucket_make_blobs_of_one_size(sizes):
    a, b = (enc(os.urandom(n)) for n in sizes)
    assert len(a) == len(b)
    assert [len(dec(a)), len(dec(b))] == list(sizes)


def test_padding_spanning_chunks_is_pushed_and_stripped():
    # 4 MiB and a bit rounds up to 2**17: the zeros after the marker fill more than a chunk
    size = 4 * 1024 * 1024 + 10
    assert padded_length(size) == 4 * 1024 * 1024 + 2 * CHUNK_SIZE
    data = os.urandom(size)
    blob = enc(data)
    assert len(blob) == padded_blob_size(size)
    assert b"".join(iter_decrypt(KEY, io.BytesIO(blob), AD)) == data
    # a stream cut before its padding is over is truncated, not a shorter file
    with pytest.raises(DecryptionError):
        dec(blob[: len(blob) - CT_CHUNK])


def test_old_unpadded_stream_still_opens():
    # Format 1, as written before issue 26: raw secretstream of the file, TAG_FINAL on the last bytes
    import nacl.bindings as nb
    for data in (b"", b"minutes", DATA):
        state = nb.crypto_secretstream_xchacha20poly1305_state()
        out = [b"\x01\x04" + nb.crypto_secretstream_xchacha20poly1305_init_push(state, KEY)]
        pieces = [data[i : i + CHUNK_SIZE] for i in range(0, len(data), CHUNK_SIZE)] or [b""]
        for i, piece in enumerate(pieces):
            tag = 3 if i == len(pieces) - 1 else 0
            out.append(nb.crypto_secretstream_xchacha20poly1305_push(state, piece, b"\x01\x04" + AD, tag))
        assert dec(b"".join(out)) == data


@pytest.mark.parametrize("size", [0, 1, CHUNK_SIZE - 1, CHUNK_SIZE, CHUNK_SIZE + 1, 2 * CHUNK_SIZE, 3 * CHUNK_SIZE + 1000])
def test_round_trip_sizes(size):
    data = DATA[:size] if size <= len(DATA) else os.urandom(size)
    blob = enc(data)
    assert dec(blob) == data
    assert b"".join(iter_decrypt(KEY, io.BytesIO(blob), AD)) == data


@PROPS
@given(data=st.binary(max_size=3 * CHUNK_SIZE), seed=st.integers(0, 2**32))
def test_round_trip_property_with_short_reads(data, seed):
    out = io.BytesIO()
    assert encrypt_stream(KEY, ShortReads(data, seed), out, AD) == len(data)
    blob = out.getvalue()
    assert len(blob) == len(enc(data))
    plain = io.BytesIO()
    decrypt_stream(KEY, ShortReads(blob, seed + 1), plain, AD)
    assert plain.getvalue() == data


@PROPS
@given(size=st.sampled_from([0, 1, 100, CHUNK_SIZE - 1, CHUNK_SIZE, CHUNK_SIZE + 1, 2 * CHUNK_SIZE, 2 * CHUNK_SIZE + 7]),
       pieces=st.lists(st.one_of(st.integers(0, 3 * CHUNK_SIZE),
                                 st.sampled_from([0, 1, CHUNK_SIZE - 1, CHUNK_SIZE, CHUNK_SIZE + 1])), max_size=20))
def test_stream_encryptor_any_write_sizes_matches_encrypt_stream(size, pieces):
    data = DATA[:size]
    out = io.BytesIO()
    writer = StreamEncryptor(KEY, out, AD)
    pos = 0
    for n in pieces:  # arbitrary piece sizes, then the rest
        writer.write(data[pos : pos + n])
        pos += n
    writer.write(memoryview(data)[pos:])
    assert writer.close() == len(data)
    blob = out.getvalue()
    reference = enc(data)
    # Same format: same length and the same chunk boundaries (headers are random, so bytes differ).
    assert len(blob) == len(reference)
    assert [len(c) for c in iter_decrypt(KEY, io.BytesIO(blob), AD)] == [
        len(c) for c in iter_decrypt(KEY, io.BytesIO(reference), AD)
    ]
    assert dec(blob) == data


@pytest.mark.parametrize("tail", [b"", b"x", b"y" * (CHUNK_SIZE - 1)])
def test_stream_encryptor_chunk_sized_writes(tail):
    data = DATA[: 3 * CHUNK_SIZE] + tail
    out = io.BytesIO()
    w = StreamEncryptor(KEY, out, AD)
    for i in range(0, 3 * CHUNK_SIZE, CHUNK_SIZE):
        w.write(data[i : i + CHUNK_SIZE])
    w.write(tail)
    w.write(b"")
    assert w.copied == 0  # whole chunks given as bytes go to PyNaCl's push as they are
    assert w.close() == len(data)
    assert len(out.getvalue()) == len(enc(data))
    assert dec(out.getvalue()) == data


def test_stream_encryptor_context_manager_and_abort():
    out = io.BytesIO()
    with StreamEncryptor(KEY, out, AD) as w:
        w.write(b"abc")
    assert w.closed and dec(out.getvalue()) == b"abc"
    assert w.close() == 3  # idempotent
    with pytest.raises(ValueError):
        w.write(b"more")
    # an aborted upload (exception, no close) leaves a blob that never decrypts
    out = io.BytesIO()
    with pytest.raises(RuntimeError):
        with StreamEncryptor(KEY, out, AD) as w:
            w.write(DATA)
            raise RuntimeError("client went away")
    with pytest.raises(DecryptionError):
        dec(out.getvalue())


def test_wrong_key_or_ad_fails():
    with pytest.raises(DecryptionError):
        dec(BLOB, key=new_case_key())
    with pytest.raises(DecryptionError):
        dec(BLOB, ad=attachment_ad("2026-0001", "att-2"))
    with pytest.raises(DecryptionError):
        dec(BLOB, ad=attachment_ad("2026-0002", "att-1"))


def test_per_file_keys_differ():
    ck = new_case_key()
    keys = {stream_key(ck, c, a) for c, a in [("1", "a"), ("1", "b"), ("2", "a"), ("1a", ""), ("1", "a\0")]}
    assert len(keys) == 5
    assert attachment_ad("1", "a") != attachment_ad("1a", "")


def test_truncation_detected_at_every_chunk_boundary():
    head, chunks = split(BLOB)
    for k in range(len(chunks)):  # drop the tail from chunk k on: no TAG_FINAL
        with pytest.raises(DecryptionError):
            dec(head + b"".join(chunks[:k]))
    for cut in [0, 1, 2, HEADER - 1, HEADER, HEADER + 16, HEADER + 17, len(BLOB) - 1]:
        with pytest.raises(DecryptionError):
            dec(BLOB[:cut])


def test_empty_stream_truncated_fails():
    blob = enc(b"")
    with pytest.raises(DecryptionError):
        dec(blob[:HEADER])


def test_dropped_repeated_reordered_chunks_detected():
    head, chunks = split(BLOB)
    variants = [
        [chunks[0], chunks[2], chunks[3]],  # dropped
        [chunks[0], chunks[0], chunks[1], chunks[2], chunks[3]],  # repeated
        [chunks[1], chunks[0], chunks[2], chunks[3]],  # reordered
        [chunks[0], chunks[1], chunks[2], chunks[3], chunks[3]],  # final repeated
        [chunks[0], chunks[1], chunks[2]],  # final dropped
    ]
    for v in variants:
        with pytest.raises(DecryptionError):
            dec(head + b"".join(v))


def test_chunk_spliced_from_another_stream_fails():
    other_head, other_chunks = split(enc(DATA))
    head, chunks = split(BLOB)
    with pytest.raises(DecryptionError):
        dec(head + other_chunks[0] + b"".join(chunks[1:]))
    with pytest.raises(DecryptionError):
        dec(other_head + b"".join(chunks))


FULL_FINAL = enc(DATA[: 2 * CHUNK_SIZE])  # the final chunk is full-size: trailing bytes come in a separate read


@pytest.mark.parametrize("extra", [b"\x00", b"x" * 17, b"y" * CT_CHUNK, None])
@pytest.mark.parametrize("blob", [BLOB, FULL_FINAL, enc(b"")], ids=["short-final", "full-final", "empty"])
def test_trailing_data_detected(blob, extra):
    if extra is None:  # a whole second stream appended
        extra = enc(b"more")
    with pytest.raises(DecryptionError):
        dec(blob + extra)


def test_error_raised_only_after_authentic_chunks():
    head, chunks = split(BLOB)
    it = iter_decrypt(KEY, io.BytesIO(head + chunks[0] + chunks[1]), AD)
    assert next(it) == DATA[:CHUNK_SIZE]
    assert next(it) == DATA[CHUNK_SIZE : 2 * CHUNK_SIZE]
    with pytest.raises(DecryptionError):
        next(it)


def test_unknown_version():
    with pytest.raises(UnsupportedVersion):
        dec(b"\x03" + BLOB[1:])
    with pytest.raises(DecryptionError):  # made as version 2: as version 1 it does not authenticate
        dec(b"\x01" + BLOB[1:])


SMALL = enc(DATA[: CHUNK_SIZE + 50])  # two chunks: keeps each example cheap


@PROPS
@given(i=st.one_of(st.integers(0, HEADER + 20), st.integers(0, len(SMALL) - 1),
                   st.integers(HEADER + CT_CHUNK - 20, HEADER + CT_CHUNK + 20)),
       delta=st.integers(1, 255))
def test_any_single_byte_change_fails(i, delta):
    bad = bytearray(SMALL)
    bad[i] ^= delta
    with pytest.raises((DecryptionError, UnsupportedVersion)):
        dec(bytes(bad))


@PROPS
@given(bit=st.integers(0, 8 * len(BLOB) - 1))
def test_any_flipped_bit_fails(bit):
    bad = bytearray(BLOB)
    bad[bit // 8] ^= 1 << (bit % 8)
    with pytest.raises((DecryptionError, UnsupportedVersion)):
        dec(bytes(bad))


@PROPS
@given(cut=st.integers(0, len(SMALL) - 1), extra=st.binary(min_size=1, max_size=40))
def test_truncated_or_extended_fails(cut, extra):
    for bad in (SMALL[:cut], SMALL + extra):
        with pytest.raises(CryptoError):
            dec(bad)


def _peak(fn) -> int:
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_memory_stays_flat():
    # Peak Python allocation must not grow with the stream: 2 MiB vs 32 MiB within one chunk or so.
    def encrypt(size):
        return lambda: encrypt_stream(KEY, RepeatingSource(size), NullSink(), AD)

    def writer(size):
        def run():
            w = StreamEncryptor(KEY, NullSink(), AD)
            src = RepeatingSource(size)
            while piece := src.read(50_000):
                w.write(piece)
            w.close()
        return run

    for make in (encrypt, writer):
        small, large = _peak(make(2 * 1024 * 1024)), _peak(make(32 * 1024 * 1024))
        assert large < 8 * CHUNK_SIZE, (make.__name__, large)
        assert large < small + 2 * CHUNK_SIZE, (make.__name__, small, large)


def test_decrypt_memory_stays_flat(tmp_path):
    path = tmp_path / "blob"
    with open(path, "wb") as f:
        encrypt_stream(KEY, RepeatingSource(32 * 1024 * 1024), f, AD)

    def run():
        with open(path, "rb") as f:
            assert decrypt_stream(KEY, f, NullSink(), AD) == 32 * 1024 * 1024

    assert _peak(run) < 8 * CHUNK_SIZE


class CountingSink:
    """A sink that counts its writes and keeps a copy of what they carried."""

    def __init__(self):
        self.writes, self.out = 0, io.BytesIO()

    def write(self, data):
        self.writes += 1
        return self.out.write(data)


def test_stream_encryptor_copies_each_byte_once_and_writes_once_per_mib():
    # A multipart parser hands over ~1 MiB pieces, not aligned to chunks (the part's headers come
    # first). PyNaCl's public push takes bytes, so each byte is copied once, into the chunk it is
    # pushed in (issue 23: one copy more than libsodium's C function needs, the price of public
    # APIs); the bytes held between pieces are a view, not a copy; and the chunks reach the sink in
    # one write per MiB, not one per chunk.
    piece = os.urandom(16 * CHUNK_SIZE)
    pieces = [piece[121:]] + [piece] * 7
    sink = CountingSink()
    w = StreamEncryptor(KEY, sink, AD)
    header_writes = sink.writes
    for p in pieces:
        w.write(p)
    data_writes = sink.writes - header_writes
    total = sum(map(len, pieces))
    assert total % CHUNK_SIZE
    assert w.copied == total - total % CHUNK_SIZE  # every byte pushed once; the held tail not copied
    assert data_writes <= len(pieces) + 1
    assert w.close() == total
    assert dec(sink.out.getvalue()) == b"".join(pieces)


def test_stream_encryptor_writes_many_chunks_at_once_to_a_file(tmp_path, monkeypatch):
    # A file's descriptor gets the chunks in one writev each (no join, no copy), after what the
    # file object still buffers (the header), and close()'s buffered writes come after them.
    data = os.urandom(40 * CHUNK_SIZE + 5)
    path = tmp_path / "blob"
    calls = []
    real_writev = os.writev

    def writev(fd, buffers):
        calls.append(len(buffers))
        return real_writev(fd, buffers)

    monkeypatch.setattr(os, "writev", writev)
    with open(path, "wb") as f:
        w = StreamEncryptor(KEY, f, AD)
        for i in range(0, len(data), 16 * CHUNK_SIZE + 7):
            w.write(data[i : i + 16 * CHUNK_SIZE + 7])
        w.close()
    assert sum(calls) == 40 and len(calls) <= 4
    assert dec(path.read_bytes()) == data


def test_stream_encryptor_to_a_sink_with_no_file_descriptor():
    # Writes not aligned to chunks, to BytesIO (no file descriptor, so each batch is joined): every
    # chunk arrives as it was pushed, the held bytes of one write joined with the next's.
    data = os.urandom(40 * CHUNK_SIZE + 5)
    out = io.BytesIO()
    w = StreamEncryptor(KEY, out, AD)
    for i in range(0, len(data), 3 * CHUNK_SIZE + 11):
        w.write(data[i : i + 3 * CHUNK_SIZE + 11])
    w.close()
    assert dec(out.getvalue()) == data

"""Files through crypto_secretstream_xchacha20poly1305 in fixed chunks: memory stays flat.

Format 2 (written since issue 26): 02 04 | secretstream header (24) | chunk* over the padded
plaintext, the file's n bytes, 0x80, then zeros up to padded_length(n) (crypto/padding.py). Every
chunk is CHUNK_SIZE plaintext bytes + 17 except the last, which carries TAG_FINAL; the chunk holding
the 0x80 marker is the first whose tag has the PUSH bit (TAG_PUSH, or TAG_FINAL if it is the last),
so a reader yields the file chunk by chunk and knows where it ends without buffering the padding.
The blob's length depends on padded_length(n) alone. Format 1 (still read): 01 04 | header | the
file's bytes unpadded, TAG_FINAL on the last chunk (1..CHUNK_SIZE bytes, 0 only for an empty
file). Every chunk is authenticated with AD = version || 04 || ad, so the caller's AD (case,
attachment) and the format bytes are bound to every chunk, not only to the header.
"""

from __future__ import annotations

import io
import os
from typing import BinaryIO, Iterator

import nacl.bindings
import nacl.exceptions

from ._format import (
    FORMAT_VERSION,
    KIND_STREAM,
    PADDED_VERSION,
    check_header,
    header,
    lp,
    require_bytes,
    text,
)
from .errors import DecryptionError
from .kdf import _blake2b_kdf
from .padding import MARKER, padded_length

CHUNK_SIZE = 64 * 1024
ABYTES = nacl.bindings.crypto_secretstream_xchacha20poly1305_ABYTES  # 17
SS_HEADER_SIZE = nacl.bindings.crypto_secretstream_xchacha20poly1305_HEADERBYTES  # 24
HEADER_SIZE = 2 + SS_HEADER_SIZE
_CT_CHUNK = CHUNK_SIZE + ABYTES

_State = nacl.bindings.crypto_secretstream_xchacha20poly1305_state
_init_push = nacl.bindings.crypto_secretstream_xchacha20poly1305_init_push
_init_pull = nacl.bindings.crypto_secretstream_xchacha20poly1305_init_pull
_push = nacl.bindings.crypto_secretstream_xchacha20poly1305_push
_pull = nacl.bindings.crypto_secretstream_xchacha20poly1305_pull
TAG_MESSAGE = nacl.bindings.crypto_secretstream_xchacha20poly1305_TAG_MESSAGE
TAG_FINAL = nacl.bindings.crypto_secretstream_xchacha20poly1305_TAG_FINAL
TAG_PUSH = nacl.bindings.crypto_secretstream_xchacha20poly1305_TAG_PUSH
_ZEROS = bytes(CHUNK_SIZE)
# Chunks of ciphertext handed to the sink in one write (about 1 MiB: a multipart parser's piece).
_BATCH = 16


def padded_blob_size(n: int) -> int:
    """Bytes on disk of a version 2 blob of an n-byte file: a function of padded_length(n) only."""
    padded = padded_length(n)
    return HEADER_SIZE + padded + ABYTES * -(-padded // CHUNK_SIZE)


def blob_shape(size: int, head: bytes) -> int:
    """Check a version 2 blob's structure without its key (one made in a browser and uploaded in
    parts): `head`, its first two bytes, are 02 04, and `size` is padded_blob_size(n) for some n.
    Returns P, the padded plaintext's length; DecryptionError otherwise."""
    check_header(require_bytes(head, 2, "head"), KIND_STREAM, "stream", (PADDED_VERSION,))
    body = size - HEADER_SIZE
    chunks = max(1, -(-body // _CT_CHUNK))
    for count in (chunks - 1, chunks, chunks + 1):
        padded = body - ABYTES * count
        if padded < 1 or padded_length(padded - 1) != padded:
            continue
        if padded_blob_size(padded - 1) == size:
            return padded
    raise DecryptionError("stream: not the size of a padded blob")


def stream_key(case_key: bytes, case_id: str, attachment_id: str) -> bytes:
    """Per-file key: keyed BLAKE2b(case_key, person="stream-file") over lp(case_id,
    attachment_id)."""
    return _blake2b_kdf(
        require_bytes(case_key, 32, "case_key"),
        "stream-file",
        lp(text(case_id, "case_id"), text(attachment_id, "attachment_id")),
    )


def attachment_ad(case_id: str, attachment_id: str) -> bytes:
    """AD for an attachment's bytes: lp("attachment", case_id, attachment_id)."""
    return lp(b"attachment", text(case_id, "case_id"), text(attachment_id, "attachment_id"))


def _chunk_ad(ad: bytes, version: int = PADDED_VERSION) -> bytes:
    return header(KIND_STREAM, version) + require_bytes(ad, None, "ad")


def _read_full(source: BinaryIO, n: int, first: bytes | None = None) -> bytes:
    """Read exactly n bytes unless EOF comes first (raw files and pipes may return short reads)."""
    data = source.read(n) if first is None else first
    if data is None:
        raise ValueError("non-blocking source returned no data")
    if len(data) == n or not data:
        return data if type(data) is bytes else bytes(data)
    parts = [bytes(data)]
    got = len(data)
    while got < n:
        more = source.read(n - got)
        if not more:
            break
        parts.append(bytes(more))
        got += len(more)
    return b"".join(parts)


def _file_descriptor(sink: BinaryIO) -> int | None:
    """The sink's file descriptor if it is a file of the operating system's (writev can then write
    many chunks at once without joining them), else None (BytesIO, a test's sink)."""
    try:
        return sink.fileno()
    except (AttributeError, io.UnsupportedOperation, OSError, ValueError):
        return None


def _start_push(key: bytes, sink: BinaryIO):
    state = _State()
    ss_header = _init_push(state, require_bytes(key, 32, "key"))
    sink.write(header(KIND_STREAM, PADDED_VERSION) + ss_header)
    return state


def _finish(state, write, ad: bytes, last: bytes, total: int) -> None:
    """Push the file's last bytes (`last`, at most CHUNK_SIZE: the rest is pushed) with the marker
    and the padding up to padded_length(total), in whole chunks of zeros: no padding is held."""
    if len(last) == CHUNK_SIZE:  # a full last chunk: the marker starts the next one
        write(_push(state, last, ad, TAG_MESSAGE))
        last = b""
    rest = padded_length(total) - (total - len(last))  # plaintext still to push, marker included
    first = min(CHUNK_SIZE, rest)
    rest -= first
    chunk = last + b"\x80" + _ZEROS[: first - len(last) - 1]
    write(_push(state, chunk, ad, TAG_PUSH if rest else TAG_FINAL))
    while rest:
        n = min(CHUNK_SIZE, rest)
        rest -= n
        write(_push(state, _ZEROS if n == CHUNK_SIZE else _ZEROS[:n], ad,
                    TAG_MESSAGE if rest else TAG_FINAL))


def encrypt_stream(key: bytes, source: BinaryIO, sink: BinaryIO, ad: bytes) -> int:
    """Encrypt all of source, padded, into sink; returns the plaintext length (unpadded). Reads one
    chunk ahead so the file's last bytes go out with the marker (same output as StreamEncryptor).
    """
    chunk_ad = _chunk_ad(ad)
    state = _start_push(key, sink)
    read, write, push, size = source.read, sink.write, _push, CHUNK_SIZE
    total = 0
    cur = _read_full(source, size)
    # Hot loop: one read, one push, one write per chunk; the slow path only on short or odd reads.
    while len(cur) == size:
        nxt = read(size)
        if len(nxt) != size or type(nxt) is not bytes:
            nxt = _read_full(source, size, nxt)
            if not nxt:
                break
        write(push(state, cur, chunk_ad, TAG_MESSAGE))
        total += size
        cur = nxt
    total += len(cur)
    _finish(state, write, chunk_ad, cur, total)
    return total


class StreamEncryptor:
    """Push-style encryptor for callbacks (a streaming multipart parser calls .write with pieces of
    any size). Output is byte-for-byte the same format as encrypt_stream. If .close() is never
    called, the blob has no final chunk and will not decrypt: an aborted upload is never valid.
    close() pads the stream; the length it returns (the one limits count) is the file's own.

    Chunks are encrypted with PyNaCl's public push (nacl.bindings), which takes bytes: each
    plaintext byte is copied once into the chunk it is pushed in (a whole chunk given as bytes is
    pushed as it is), and the last bytes of a write are held as a view of it, not copied, when it is
    bytes. The ciphertext reaches the sink _BATCH chunks at a time in one write (issue 23: one
    sink write per MiB): os.writev of the chunks themselves when the sink is a file, so no copy is
    made to join them; one joined write otherwise (BytesIO). `copied` counts the plaintext bytes
    copied on the way, for tests."""

    def __init__(self, key: bytes, sink: BinaryIO, ad: bytes):
        self._ad = _chunk_ad(ad)
        self._sink = sink
        self._fd = _file_descriptor(sink)
        self._state = _start_push(key, sink)
        # The last 1..CHUNK_SIZE bytes written are held here, unpushed, until more arrives: close()
        # pushes them with the end marker. A view of the caller's bytes (immutable, so safe to
        # keep) or, once small writes pile up, a bytearray of their copies.
        self._held: memoryview | bytearray = bytearray()
        self._total = 0
        self.copied = 0
        self._closed = False

    def write(self, data) -> int:
        if self._closed:
            raise ValueError("write to a closed StreamEncryptor")
        mv = memoryview(data).cast("B")
        n = mv.nbytes
        if not n:
            return 0
        self._total += n
        held = self._held
        h = len(held)
        if h + n <= CHUNK_SIZE:
            if not h and type(data) is bytes:
                self._held = mv
            else:
                if type(held) is not bytearray:
                    self._held = held = bytearray(held)
                    self.copied += h
                held += mv
                self.copied += n
            return n
        # More than a chunk is available, so every full chunk pushed here is not the last one; the
        # last 1..CHUNK_SIZE bytes stay held.
        push, state, ad, out = _push, self._state, self._ad, []
        i = 0
        if h == CHUNK_SIZE and type(held) is memoryview and len(held.obj) == CHUNK_SIZE:
            out.append(push(state, held.obj, ad, TAG_MESSAGE))  # a whole chunk given as bytes
        elif h:
            i = CHUNK_SIZE - h
            out.append(push(state, b"".join((held, mv[:i])), ad, TAG_MESSAGE))
            self.copied += CHUNK_SIZE
        while n - i > CHUNK_SIZE:
            if len(out) == _BATCH:
                self._give(out)
                out = []
            out.append(push(state, mv[i : i + CHUNK_SIZE].tobytes(), ad, TAG_MESSAGE))
            self.copied += CHUNK_SIZE
            i += CHUNK_SIZE
        self._give(out)
        if type(data) is bytes:
            self._held = mv[i:]
        else:  # the caller may reuse its buffer once write returns
            self._held = bytearray(mv[i:])
            self.copied += n - i
        return n

    def _give(self, chunks: list[bytes]) -> None:
        """Chunks of ciphertext to the sink, in one write."""
        if not chunks:
            return
        if self._fd is None:
            self._sink.write(b"".join(chunks))
            return
        self._sink.flush()  # the header, or _finish's writes, may still be in the file's buffer
        while chunks:
            done = os.writev(self._fd, chunks)
            while chunks and done >= len(chunks[0]):
                done -= len(chunks[0])
                chunks = chunks[1:]
            if done:  # a short write (a signal): the rest of that chunk next
                chunks[0] = memoryview(chunks[0])[done:]

    def close(self) -> int:
        """Push the last bytes and the padding; returns the total plaintext length (unpadded).
        Idempotent."""
        if not self._closed:
            _finish(self._state, self._sink.write, self._ad, bytes(self._held), self._total)
            self._held = bytearray()
            self._closed = True
        return self._total

    @property
    def closed(self) -> bool:
        return self._closed

    def __enter__(self) -> "StreamEncryptor":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()  # on error, leave the blob unterminated (undecryptable)


def iter_decrypt(key: bytes, source: BinaryIO, ad: bytes) -> Iterator[bytes]:
    """Yield authenticated plaintext chunks (the padding stripped). Raises DecryptionError on
    tampering, a dropped, repeated or reordered chunk, truncation (no TAG_FINAL), bad padding or
    trailing data. A chunk yielded is authentic, but the stream is complete only when the iterator
    ends without error. Opens format 2 (padded) and format 1 (unpadded)."""
    key = require_bytes(key, 32, "key")
    head = _read_full(source, HEADER_SIZE)
    version = check_header(head, KIND_STREAM, "stream", (FORMAT_VERSION, PADDED_VERSION))
    if len(head) != HEADER_SIZE:
        raise DecryptionError("stream: truncated header")
    chunk_ad = _chunk_ad(ad, version)
    state = _State()
    _init_pull(state, head[2:], key)
    padded = version == PADDED_VERSION
    in_padding = False
    while True:
        c = _read_full(source, _CT_CHUNK)
        if len(c) < ABYTES:
            raise DecryptionError("stream: truncated (no final chunk)")
        try:
            m, tag = _pull(state, c, chunk_ad)
        except nacl.exceptions.CryptoError:
            raise DecryptionError("stream: chunk failed authentication") from None
        if tag != TAG_FINAL and (tag not in (TAG_MESSAGE, TAG_PUSH) or len(c) != _CT_CHUNK):
            raise DecryptionError("stream: malformed chunk")
        if padded and in_padding:
            if tag == TAG_PUSH or m.rstrip(b"\0"):
                raise DecryptionError("stream: bad padding")
            m = b""
        elif padded and tag & TAG_PUSH:  # the chunk that holds the end marker
            body = m.rstrip(b"\0")
            if not body or body[-1] != MARKER:
                raise DecryptionError("stream: bad padding")
            m, in_padding = body[:-1], True
        elif tag == TAG_PUSH or (padded and tag == TAG_FINAL):
            raise DecryptionError("stream: malformed chunk")
        if tag == TAG_FINAL:
            if source.read(1):
                raise DecryptionError("stream: data after the final chunk")
            if m:
                yield m
            return
        if m:
            yield m


def decrypt_stream(key: bytes, source: BinaryIO, sink: BinaryIO, ad: bytes) -> int:
    """Decrypt into sink; returns the plaintext length. On DecryptionError the sink may hold a
    prefix of the plaintext: the caller must discard it."""
    total = 0
    for m in iter_decrypt(key, source, ad):
        sink.write(m)
        total += len(m)
    return total

"""The ciphertext blobs in PostgreSQL (issue 30), for an installation whose nodes share one
database: what portal.store.blobs keeps as files in one data directory, kept as rows every node
reads (migration 48). SQLite installations keep the files.

Chunked rows, not large objects: a row goes with its blob's delete (ON DELETE CASCADE) and with
`pg_dump` of the tables, needs no `lo_unlink` sweep, and each chunk is one short statement, so no
transaction stays open while a slow upload arrives. A blob is written as its bytes arrive, in
chunks of CHUNK_BYTES, each committed by itself on the writer's own connection, and read back a
chunk at a time: never whole in memory.

While a writer lives its connection holds a session advisory lock on its blob's name, so
`sweep_unfinished` removes only the blobs of writers that are gone (a node killed mid-upload: its
connection ends, and the lock with it), never a live upload on another node. A blob no case refers
to is removed by `sweep` only once it is from before yesterday (a finished blob is referenced in
the transaction right after it is finished; a sealed upload waits in the data directory until
then). Each stored_blobs row keeps the day only, as the files' times do.

The same methods as BlobStore, which the portal's code uses on either.
"""

from __future__ import annotations

import functools
import os
import secrets
from pathlib import Path
from typing import Iterable

from portal.store import dialect
from portal.store.shared_state import lock_key

CHUNK_BYTES = 256 * 1024
DAY = 86400


def _connect(url: str):
    from portal.store import postgres

    return postgres.connect(url)


def _faults_as_sqlite(method):
    """The database's faults raised as sqlite3's (portal.store.postgres.as_sqlite_errors), so a
    full disk or a lost server gives the same pages as with blob files."""
    @functools.wraps(method)
    def mapped(*args, **kwargs):
        from portal.store.postgres import as_sqlite_errors

        with as_sqlite_errors():
            return method(*args, **kwargs)

    return mapped


def _today() -> int:
    import time

    now = int(time.time())
    return now - now % DAY


class _Chunks:
    """The writer's file: `write` keeps at most CHUNK_BYTES before it stores them as a chunk."""

    def __init__(self, conn, name: str) -> None:
        self._conn, self._name = conn, name
        self._pending = bytearray()
        self.seq = self.size = 0
        self.closed = False

    def write(self, data) -> int:
        self._pending += data
        while len(self._pending) >= CHUNK_BYTES:
            self._store(bytes(self._pending[:CHUNK_BYTES]))
            del self._pending[:CHUNK_BYTES]
        return len(data)

    @_faults_as_sqlite
    def _store(self, chunk: bytes) -> None:
        self._conn.execute(dialect.BLOB_CHUNK, (self._name, self.seq, chunk))
        self.seq += 1
        self.size += len(chunk)

    def flush(self) -> None:
        if self._pending:
            self._store(bytes(self._pending))
            self._pending.clear()

    def tell(self) -> int:
        return self.size + len(self._pending)


class DatabaseBlobWriter:
    """A blob being written (BlobWriter's methods): `file` takes its bytes; `close()` stores the
    last chunk and marks it finished; `commit()` also gives it its day; `discard()` removes it."""

    @_faults_as_sqlite
    def __init__(self, store: "DatabaseBlobStore") -> None:
        self._store = store
        self.name = secrets.token_hex(16)
        self._conn = _connect(store.url)
        self._conn.execute(dialect.ADVISORY_LOCK, (lock_key("blob:" + self.name),))
        self._conn.execute(dialect.BLOB_MAKE, (self.name, _today()))
        self.file = _Chunks(self._conn, self.name)
        self.committed = False
        self._finished = False

    def let_go(self) -> None:
        """Nothing to hand the kernel: each chunk is in the database once written."""

    @_faults_as_sqlite
    def close(self, day_timestamp: float | None = None) -> None:
        if not self._finished:
            self.file.flush()
            day = _today() if day_timestamp is None else int(day_timestamp)
            self._conn.execute(dialect.BLOB_FINISH, (self.file.size, day, self.name))
            self._finished = self.file.closed = True
            self._conn.close()  # the advisory lock goes with it

    @_faults_as_sqlite
    def commit(self, day_timestamp: float) -> str:
        if self._finished:  # closed before: only its day now
            with _connect(self._store.url) as conn:
                conn.execute(dialect.BLOB_DAY, (int(day_timestamp), self.name))
        self.close(day_timestamp)
        self.committed = True
        return self.name

    def discard(self) -> None:
        if not self._conn.closed:
            self._conn.close()
        self._finished = self.file.closed = True
        self._store.delete(self.name)


class _Reader:
    """A finished blob read back chunk by chunk: `read(n)` (n < 0: the rest), a context manager."""

    @_faults_as_sqlite
    def __init__(self, url: str, name: str) -> None:
        self._conn = _connect(url)
        row = self._conn.execute(dialect.BLOB_SIZE, (name,)).fetchone()
        if row is None:
            self._conn.close()
            raise FileNotFoundError(f"no blob {name}")
        self.size, self._name = row[0], name
        self._buffer, self._at, self._seq = b"", 0, 0

    @_faults_as_sqlite
    def read(self, n: int = -1) -> bytes:
        parts = []
        while n < 0 or n > 0:
            if self._at == len(self._buffer):
                row = self._conn.execute(dialect.BLOB_READ, (self._name, self._seq)).fetchone()
                if row is None:
                    break
                self._buffer, self._at, self._seq = bytes(row[0]), 0, self._seq + 1
            take = len(self._buffer) - self._at if n < 0 else min(n, len(self._buffer) - self._at)
            parts.append(self._buffer[self._at:self._at + take])
            self._at += take
            if n > 0:
                n -= take
        return b"".join(parts)

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> "_Reader":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class DatabaseBlobStore:
    """BlobStore's methods on the blobs in the database at `url`."""

    def __init__(self, url: str) -> None:
        self.url = url

    def writer(self) -> DatabaseBlobWriter:
        return DatabaseBlobWriter(self)

    def open(self, name: str) -> _Reader:
        """A reader of the finished blob `name`; FileNotFoundError when there is none."""
        return _Reader(self.url, name)

    def size(self, name: str) -> int:
        with self.open(name) as reader:
            return reader.size

    @_faults_as_sqlite
    def delete(self, name: str) -> None:
        with _connect(self.url) as conn:
            conn.execute(dialect.BLOB_DELETE, (name,))

    def adopt(self, path: Path, day_timestamp: float) -> str:
        """A finished file (a sealed upload's, portal.intake.sealed_uploads) copied into the
        database chunk by chunk, then removed; its name. FileNotFoundError when it is gone."""
        with open(path, "rb") as source:
            writer = self.writer()
            try:
                while chunk := source.read(CHUNK_BYTES):
                    writer.file.write(chunk)
                name = writer.commit(day_timestamp)
            except BaseException:
                writer.discard()
                raise
        os.unlink(path)
        return name

    def give_back(self, name: str, path: Path) -> None:
        """The blob written back to the file `path` (adopt undone), then removed here."""
        with self.open(name) as source, open(path, "wb") as target:
            while chunk := source.read(CHUNK_BYTES):
                target.write(chunk)
        self.delete(name)

    def settle(self) -> None:
        """Nothing to flush: every chunk is committed by the database."""

    @_faults_as_sqlite
    def sweep(self, referenced: Iterable[str]) -> tuple[int, int]:
        """At start-up: remove the blobs of writers that are gone (`sweep_unfinished`) and those
        no case refers to from before yesterday. Returns (unfinished, orphaned) counts."""
        unfinished = self.sweep_unfinished()
        with _connect(self.url) as conn:
            orphans = [row[0] for row in conn.execute(
                dialect.BLOB_UNREFERENCED, (_today() - DAY, list(referenced)))]
            for name in orphans:
                conn.execute(dialect.BLOB_DELETE, (name,))
        return unfinished, len(orphans)

    @_faults_as_sqlite
    def sweep_unfinished(self) -> int:
        """Remove the unfinished blobs whose writer's connection is gone (its advisory lock is
        free); a live upload, on any node, holds its lock and is kept."""
        removed = 0
        with _connect(self.url) as conn:
            for (name,) in conn.execute(dialect.BLOB_UNFINISHED).fetchall():
                key = lock_key("blob:" + name)
                (free,) = conn.execute(dialect.ADVISORY_TRY_LOCK, (key,)).fetchone()
                if free:
                    conn.execute(dialect.BLOB_DELETE, (name,))
                    conn.execute(dialect.ADVISORY_UNLOCK, (key,))
                    removed += 1
        return removed

"""What every `portal serve` node of one installation must share when its database is PostgreSQL
(issue 30), which one machine keeps in memory or in /dev/shm when it is SQLite: small state (a
ticket line, counts of the minute) and locks (the maintenance lock, the places of receipt checks).

`in_database()` says which: True when PORTAL_DATABASE_URL is set. Then:

- `update(settings, name, change)` reads and rewrites one row of `shared_state` (migration 47)
  under its row lock, in one transaction: `change(value)` gets the bytes kept (b"" at first) and
  gives (the bytes to keep, what to return). The row's name is a keyed hash of `name` and its value
  is sealed (XChaCha20-Poly1305) under subkeys of the installation's secret key, so the database
  server learns neither what a row is for (the minute a count is of) nor what it holds (the turns
  of a line). The table is UNLOGGED (portal.store.dialect): in no WAL, archive or replica.
- `count_minute(settings, name, add)` counts events of the current minute in such a row: (this
  minute's count, the previous minute's).
- `lock(name)` and `first_free(names, deadline)` are session-level advisory locks, held by a
  connection of their own for the block: a node killed mid-block releases them with its
  connection, so nothing waits for a node that is gone.

Each thread keeps one connection for `update` (reopened once if the server dropped it).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import struct
import threading
import time
from typing import Callable, Iterator, Sequence, TypeVar

import crypto
from portal.store import dialect
from portal.store.db import database_url

T = TypeVar("T")
LOCK_TIMEOUT_MS = 10_000  # a row's lock is held only while `change` runs: never this long
_NONCE = 24
_local = threading.local()


def in_database() -> bool:
    """Whether shared state and locks live in the database (PostgreSQL) rather than on the
    machine."""
    return database_url() is not None


def lock_key(name: str) -> int:
    """A signed 64-bit advisory-lock key for `name`, the same on every node."""
    return int.from_bytes(hashlib.sha256(b"portal lock|" + name.encode()).digest()[:8], "big",
                          signed=True)


def _connection():
    from portal.store import postgres

    url = database_url()
    conn = getattr(_local, "conn", None)
    if conn is None or conn.closed or getattr(_local, "url", None) != url:
        if conn is not None:
            conn.close()
        conn, _local.url = postgres.connect(url), url
        conn.execute(dialect.LOCK_TIMEOUT.format(milliseconds=LOCK_TIMEOUT_MS))
        _local.conn = conn
    return conn


def _row_name(secret_key: bytes, name: str) -> str:
    return hmac.new(crypto.derive_subkey(secret_key, "shared-names"), name.encode(),
                    "sha256").hexdigest()


def _sealed(secret_key: bytes, row: str, value: bytes) -> bytes:
    nonce = os.urandom(_NONCE)
    key = crypto.derive_subkey(secret_key, "shared-state")
    return nonce + crypto.aead_encrypt(key, nonce, value, row.encode())


def _opened(secret_key: bytes, row: str, sealed: bytes) -> bytes:
    if not sealed:
        return b""
    key = crypto.derive_subkey(secret_key, "shared-state")
    try:
        return crypto.aead_decrypt(key, sealed[:_NONCE], sealed[_NONCE:], row.encode())
    except crypto.DecryptionError:
        return b""  # another installation's key, or altered: start again, as after a crash


def update(settings, name: str, change: Callable[[bytes], tuple[bytes, T]]) -> T:
    """Apply `change` to the state named `name` atomically across every node; what it returns.
    Only with in_database(). A fault of the server is raised as sqlite3's errors are
    (portal.store.postgres.as_sqlite_errors)."""
    from portal.store.postgres import as_sqlite_errors

    with as_sqlite_errors():
        return _update(settings, name, change)


def _update(settings, name: str, change: Callable[[bytes], tuple[bytes, T]]) -> T:
    import psycopg

    row = _row_name(settings.secret_key, name)
    for attempt in (1, 2):
        conn = _connection()
        try:
            with conn.transaction():
                conn.execute(dialect.SHARED_STATE_MAKE, (row,))
                (sealed,) = conn.execute(dialect.SHARED_STATE_READ, (row,)).fetchone()
                kept = _opened(settings.secret_key, row, bytes(sealed))
                value, result = change(kept)
                if value != kept:  # a read (a page's difficulty) rewrites nothing
                    conn.execute(dialect.SHARED_STATE_WRITE,
                                 (_sealed(settings.secret_key, row, value), row))
            return result
        except psycopg.OperationalError:
            conn.close()  # the server restarted or dropped us: one more try on a new connection
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


_MINUTE = struct.Struct(">qqq")  # the minute, its count, the previous minute's


def count_minute(settings, name: str, add: int = 0) -> tuple[int, int]:
    """Add `add` to this minute's count of `name`, shared by every node; (this minute's count, the
    previous minute's)."""
    minute = int(time.time()) // 60

    def change(value: bytes):
        kept, now, before = _MINUTE.unpack(value) if len(value) == _MINUTE.size else (0, 0, 0)
        if kept != minute:
            now, before = 0, now if kept == minute - 1 else 0
        now += add
        return _MINUTE.pack(minute, now, before), (now, before)

    return update(settings, name, change)


@contextlib.contextmanager
def lock(name: str) -> Iterator[None]:
    """Hold the advisory lock `name` for the block, waiting for any node that holds it."""
    from portal.store import postgres

    with postgres.connect(database_url()) as conn:
        conn.execute(dialect.ADVISORY_LOCK, (lock_key(name),))
        yield


@contextlib.contextmanager
def first_free(names: Sequence[str], deadline: float, busy: Callable[[], Exception],
               poll: float = 0.02) -> Iterator[None]:
    """Hold the first of the advisory locks `names` that no node holds, for the block; polls until
    `deadline` (time.monotonic()), then raises busy()."""
    from portal.store import postgres

    with postgres.connect(database_url()) as conn:
        while True:
            for name in names:
                (had,) = conn.execute(dialect.ADVISORY_TRY_LOCK, (lock_key(name),)).fetchone()
                if had:
                    yield
                    return
            if time.monotonic() >= deadline:
                raise busy()
            time.sleep(poll)

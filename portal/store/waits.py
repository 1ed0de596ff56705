"""Writes that wait less than the others (issues 22 and 24): the flood's own small commits not
waiting for the disk, and housekeeping that can be put off waiting only briefly for the write
lock. On SQLite, settings of this request's connection (PRAGMA synchronous, busy_timeout); on
PostgreSQL their counterparts (synchronous_commit, lock_timeout: portal.store.dialect)."""

from __future__ import annotations

import contextlib
import sqlite3
from typing import Callable, Iterator

from sqlite_utils import Database

from portal.store import dialect
from portal.store.faults import Fault, put_off


@contextlib.contextmanager
def without_waiting_for_the_disk(db: Database) -> Iterator[None]:
    """The block's commits on `db` (this request's connection) not each waiting for the disk
    (synchronous NORMAL in WAL mode, then back to what it was): for the flood's own small writes
    (a spent proof, a count), made by every attacking request. Waiting for the disk at each one
    held the write lock long enough that a genuine request's write slept in SQLite's busy
    handler behind them (bench/bench_flood.py, issue 22). A power cut may lose the last such
    writes, never a case: the next ordinary commit makes them durable with its own. On
    PostgreSQL, synchronous_commit off for the block, then the server's setting again: a crash
    of the server may lose the last such commits (never a half of one: the WAL still orders
    them), and the next commit that waits flushes them with its own."""
    if not isinstance(db.conn, sqlite3.Connection):
        db.execute(dialect.NO_WAIT_FOR_DISK)
        try:
            yield
        finally:
            db.execute(dialect.WAIT_FOR_DISK_AGAIN)
        return
    before = db.execute("PRAGMA synchronous").fetchone()[0]
    db.execute("PRAGMA synchronous=NORMAL")
    try:
        yield
    finally:
        db.execute(f"PRAGMA synchronous={int(before)}")


# Housekeeping that can be put off (extending or ending a session) waits this long for the write
# lock, not the busy timeout: under a held lock it would otherwise hold up every signed-in page, and
# a sign-out, by the timeout once per write.
HOUSEKEEPING_WAIT_SECONDS = 0.25


def put_off_briefly(db: Database, work: Callable[..., object], *args) -> Fault | None:
    """faults.put_off(work, *args), its writes on `db` waiting at most HOUSEKEEPING_WAIT_SECONDS
    (or the busy timeout, if shorter) for the write lock: SQLite's busy_timeout, PostgreSQL's
    lock_timeout (the writers' advisory lock is taken under it)."""
    conn = db.conn
    if not isinstance(conn, sqlite3.Connection):
        before = conn.lock_timeout_ms
        briefly = min(before, int(HOUSEKEEPING_WAIT_SECONDS * 1000))
        conn.execute(dialect.LOCK_TIMEOUT.format(milliseconds=briefly))
        try:
            return put_off(work, *args)
        finally:
            conn.execute(dialect.LOCK_TIMEOUT.format(milliseconds=before))
    (before,) = conn.execute("PRAGMA busy_timeout").fetchone()
    briefly = min(int(before), int(HOUSEKEEPING_WAIT_SECONDS * 1000))
    conn.execute(f"PRAGMA busy_timeout={briefly}")
    try:
        return put_off(work, *args)
    finally:
        conn.execute(f"PRAGMA busy_timeout={int(before)}")

"""The database connection: hardened pragmas, numbered migrations, explicit transactions.

sqlite-utils' own insert/update helpers commit through `with conn:`, which would end an outer
transaction half way; multi-step writes therefore run raw statements inside `transaction()`.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from pathlib import Path
from typing import Callable, Iterator

from sqlite_utils import Database

from portal.store.migrations import MIGRATIONS

PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=FULL",
    "PRAGMA secure_delete=ON",
    "PRAGMA trusted_schema=OFF",
    "PRAGMA foreign_keys=ON",
    # Statement journals and sorts stay in memory: the server writes nothing beside its database and
    # blobs.
    "PRAGMA temp_store=MEMORY",
)


def connect(path: Path, busy_timeout: float = 10.0) -> Database:
    """Open a connection with the pragmas every connection needs (per request: no schema work).

    A write waits up to `busy_timeout` seconds for the write lock (the `busy_timeout_seconds`
    setting), then raises "database is locked" (portal.store.faults: 503, try again)."""
    conn = sqlite3.connect(
        str(path), isolation_level=None, check_same_thread=False, timeout=busy_timeout
    )
    conn.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")
    for pragma in PRAGMAS:
        conn.execute(pragma)
    return Database(conn)


def open_database(path: Path, busy_timeout: float = 10.0) -> Database:
    """Connect and bring the schema up to date: once at start-up, or for a command."""
    db = connect(path, busy_timeout)
    # Owner only: SQLite creates its -wal and -shm files with the database file's permissions.
    os.chmod(path, 0o600)
    migrate(db)
    return db


def schema_version(db: Database) -> int:
    """The highest migration applied (also kept in SQLite's user_version)."""
    return db.execute("PRAGMA user_version").fetchone()[0]


def applied_migrations(db: Database) -> set[int]:
    """The numbers of the migrations applied. Numbers are assigned per piece of work and may land
    out of order, so each applied number is recorded; a database from before this record existed had
    every migration up to its user_version applied, in order."""
    if db.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'"
    ).fetchone():
        return {row[0] for row in db.execute("SELECT number FROM schema_migrations")}
    return {number for number, _ in MIGRATIONS if number <= schema_version(db)}


def migrate(db: Database) -> None:
    """Apply each numbered migration not yet applied, each in its own transaction, in number order
    whatever order they were appended or landed in."""
    for number, statements in sorted(MIGRATIONS, key=lambda migration: migration[0]):
        if number in applied_migrations(db):
            continue
        with transaction(db):
            # Re-check inside the write lock: another worker may have migrated meanwhile.
            done = applied_migrations(db)
            if number in done:
                continue
            for statement in statements:
                db.execute(statement)
            db.execute("CREATE TABLE IF NOT EXISTS schema_migrations (number INTEGER PRIMARY KEY)")
            db.execute(
                "INSERT OR IGNORE INTO schema_migrations (number) VALUES "
                + ", ".join("(?)" for _ in done | {number}),
                sorted(done | {number}),
            )
            db.execute(f"PRAGMA user_version={max(int(number), schema_version(db))}")


def in_transaction(db: Database) -> bool:
    return db.conn.in_transaction


def after_commit(db: Database, callback: Callable[[], None], *, key: str | None = None) -> None:
    """Run `callback` once the current transaction() commits (never if it rolls back).

    For state kept outside the database that must not run ahead of it (the audit chain's head file).
    A callback given a `key` replaces an earlier one of the same key in this transaction: only the
    latest runs (one head write per transaction, however many entries).
    """
    callbacks = db.__dict__.setdefault("_portal_after_commit", {})
    callbacks[key if key is not None else object()] = callback


@contextlib.contextmanager
def transaction(db: Database) -> Iterator[Database]:
    """One atomic write: BEGIN IMMEDIATE, then COMMIT, or ROLLBACK on any exception."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        db.__dict__.pop("_portal_after_commit", None)
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
    for callback in db.__dict__.pop("_portal_after_commit", {}).values():
        callback()

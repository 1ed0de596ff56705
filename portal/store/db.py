"""The database connection: hardened pragmas, numbered migrations, explicit transactions.

sqlite-utils' own insert/update helpers commit through `with conn:`, which would end an outer
transaction half way; multi-step writes therefore run raw statements inside `transaction()`.
"""
from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path
from typing import Iterator

from sqlite_utils import Database

from portal.store.migrations import MIGRATIONS

PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=FULL",
    "PRAGMA secure_delete=ON",
    "PRAGMA trusted_schema=OFF",
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=10000",
)


def connect(path: Path) -> Database:
    """Open a connection with the pragmas every connection needs (per request: no schema work)."""
    conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False, timeout=10)
    for pragma in PRAGMAS:
        conn.execute(pragma)
    return Database(conn)


def open_database(path: Path) -> Database:
    """Connect and bring the schema up to date: once at start-up, or for a command."""
    db = connect(path)
    migrate(db)
    return db


def schema_version(db: Database) -> int:
    return db.execute("PRAGMA user_version").fetchone()[0]


def migrate(db: Database) -> None:
    """Apply each numbered migration above the stored version, each in its own transaction."""
    for number, statements in MIGRATIONS:
        if schema_version(db) >= number:
            continue
        with transaction(db):
            # Re-check inside the write lock: another worker may have migrated meanwhile.
            if schema_version(db) >= number:
                continue
            for statement in statements:
                db.execute(statement)
            db.execute(f"PRAGMA user_version={int(number)}")


@contextlib.contextmanager
def transaction(db: Database) -> Iterator[Database]:
    """One atomic write: BEGIN IMMEDIATE, then COMMIT, or ROLLBACK on any exception."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")

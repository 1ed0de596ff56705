"""The installation's database as a test reads or edits it behind the portal's back, on whichever
engine the run uses (SQLite by default, PostgreSQL with PORTAL_TEST_DATABASE=postgresql:
docs/interface.md). Statements are written in SQLite's SQL either way: on PostgreSQL they run as
portal.store.dialect translates them, as the portal's own do.

- `connect(data_dir)`: a connection in autocommit mode (each statement commits by itself unless
  the test runs BEGIN); `with connect(d) as conn:` commits at the end of the block, as sqlite3's
  does, and leaves the connection open; `conn.iterdump()` gives every row as a line of text.
- `every_row(conn)` and `stored_bytes(data_dir)`: every row of every table; every cell as bytes
  (on SQLite the file's bytes), to look for what must not be stored; `blobs(data_dir)`: the
  names of the blobs stored (files in blobs/, or rows); `blob_bytes(data_dir, name)`: one's bytes.
- `columns(db, table)`: a table's column names in order (SQLite's PRAGMA table_info).
- `lock_wait_ms(db)`: how long a write waits for the lock (busy_timeout, lock_timeout).
- `take_away(data_dir, monkeypatch)`: the database gone (its files, or the database the URL names).
- `on_each_statement(db, callback)`: every statement a connection of the portal's own (what
  portal.store.db.connect gave) runs is passed to `callback`, as sqlite3's trace callback does.
- `statements_run()`: every statement of every connection opened or used meanwhile.
"""

from __future__ import annotations

import contextlib
import sqlite3
import weakref
from typing import Callable, Iterator

from portal.store.db import database_url


def on_postgres() -> bool:
    """Whether the installation under test keeps its database in PostgreSQL."""
    return database_url() is not None


def _postgres_connection():
    from portal.store import postgres

    class Connection(postgres.Connection):
        def __enter__(self):
            return self

        def __exit__(self, kind, value, trace):
            if self.in_transaction:
                self.execute("ROLLBACK" if kind else "COMMIT")

        def iterdump(self) -> Iterator[str]:
            """Each row of each table as a line `INSERT INTO "table" VALUES(...);`, as sqlite3's
            iterdump gives them (blobs as hex, as there)."""
            for table, row in every_row(self):
                values = ", ".join(f"X'{bytes(v).hex()}'" if isinstance(v, (bytes, memoryview))
                                   else "NULL" if v is None else repr(v) for v in row)
                yield f'INSERT INTO "{table}" VALUES({values});'

    return Connection(database_url())


def connect(data_dir):
    """A connection to the installation's database, in autocommit mode: sqlite3's on the data
    directory's portal.db, or one of portal.store.postgres with PORTAL_DATABASE_URL set."""
    if on_postgres():
        return _postgres_connection()
    return sqlite3.connect(data_dir / "portal.db", isolation_level=None)


def every_row(conn) -> Iterator[tuple[str, tuple]]:
    """(table, row) for every row of every table of the database `conn` (from `connect`) is on;
    bytea cells as bytes, as SQLite gives its blobs."""
    if isinstance(conn, sqlite3.Connection):
        tables = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
        run = conn.execute
    else:
        tables = conn.raw.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema ="
            " current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name").fetchall()
        run = conn.raw.execute
    for (table,) in tables:
        for row in run(f'SELECT * FROM "{table}"').fetchall():
            yield table, tuple(bytes(v) if isinstance(v, memoryview) else v for v in row)


def stored_bytes(data_dir) -> bytes:
    """What the installation's database holds, to look for something that must not be there: on
    SQLite the bytes of portal.db; on PostgreSQL every cell of every table (text as UTF-8, bytea
    as its bytes), one after another."""
    if not on_postgres():
        return (data_dir / "portal.db").read_bytes()
    with contextlib.closing(connect(data_dir)) as conn:
        return b"\n".join(cell if isinstance(cell, bytes) else str(cell).encode()
                          for _, row in every_row(conn) for cell in row if cell is not None)


def columns(db, table: str) -> list[str]:
    """The names of `table`'s columns in order, through any connection to the database (sqlite3's,
    or one portal.store.db.connect or `connect` gave)."""
    if not on_postgres():
        return [row[1] for row in db.execute(f"PRAGMA table_info({table})").fetchall()]
    return [name for (name,) in db.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema()"
        " AND table_name = ? ORDER BY ordinal_position", [table]).fetchall()]


def blobs(data_dir, unfinished: bool = False) -> list[str]:
    """The names of the blobs stored, finished or not (`unfinished`: only those still being
    written): on SQLite each file in the data directory's blobs/ (a .part is unfinished); on
    PostgreSQL each row of stored_blobs (finished = 0)."""
    if not on_postgres():
        folder = data_dir / "blobs"
        names = sorted(path.name for path in folder.iterdir()) if folder.exists() else []
        return [name for name in names if name.endswith(".part")] if unfinished else names
    with contextlib.closing(connect(data_dir)) as conn:
        return sorted(name for (name,) in conn.execute(
            "SELECT name FROM stored_blobs" + (" WHERE finished = 0" if unfinished else "")))


def blob_bytes(data_dir, name: str) -> bytes:
    """The stored (ciphertext) bytes of the finished blob `name`: its file, or its chunks' rows."""
    if not on_postgres():
        return (data_dir / "blobs" / f"{name}.blob").read_bytes()
    with contextlib.closing(connect(data_dir)) as conn:
        return b"".join(bytes(chunk) for (chunk,) in conn.execute(
            "SELECT data FROM blob_chunks WHERE name = ? ORDER BY seq", [name]))


def lock_wait_ms(db) -> int:
    """How long a write on `db` (a connection portal.store.db.connect gave) waits for the write
    lock just now, in milliseconds: SQLite's busy_timeout, PostgreSQL's lock_timeout."""
    if not on_postgres():
        return db.execute("PRAGMA busy_timeout").fetchone()[0]
    return int(db.raw.execute("SELECT setting FROM pg_settings WHERE name = 'lock_timeout'"
                              ).fetchone()[0])


def take_away(data_dir, monkeypatch) -> None:
    """The database gone, as a fault a request meets: SQLite's files moved aside, or on
    PostgreSQL the URL naming a database the server does not have."""
    if on_postgres():
        monkeypatch.setenv("PORTAL_DATABASE_URL", database_url() + "_gone")
        return
    for name in ("portal.db", "portal.db-wal", "portal.db-shm"):
        if (data_dir / name).exists():
            (data_dir / name).rename(data_dir / (name + ".away"))


def on_each_statement(db, callback: Callable[[str], None] | None) -> None:
    """Have `db` (a connection portal.store.db.connect gave) pass each statement it runs, in
    SQLite's SQL, to `callback` (None: no longer)."""
    if not on_postgres():
        db.conn.set_trace_callback(callback)
        return
    if callback is None:
        db.__dict__.pop("execute", None)
        return
    run = db.execute

    def execute(statement, params=None):
        callback(statement)
        return run(statement, params)

    db.execute = execute  # db.conn is db itself: the portal's db.conn.execute comes here too


@contextlib.contextmanager
def statements_run(parameters: list | None = None) -> Iterator[list[tuple[int, str]]]:
    """On PostgreSQL, every statement run meanwhile on any connection of portal.store.postgres:
    (a number for its connection, the statement in SQLite's SQL); each one's parameters appended
    to `parameters` too when it is given (in the same order)."""
    from portal.store import postgres

    seen: list[tuple[int, str]] = []
    numbers: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
    run = postgres.Connection.execute

    def execute(self, statement, params=None):
        number = numbers.setdefault(self, len(seen) + 1)
        seen.append((number, statement))
        if parameters is not None:
            parameters.append(params)
        return run(self, statement, params)

    postgres.Connection.execute = execute
    try:
        yield seen
    finally:
        postgres.Connection.execute = run

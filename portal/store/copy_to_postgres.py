"""An SQLite installation's database and blob files copied into an empty PostgreSQL database
(issue 30, `portal migrate-to URL`; portal.operations.migrate_to_postgres decides when and checks
the result).

Everything here runs inside the caller's one transaction on the target (a
portal.store.postgres.Connection after BEGIN), so a refusal or a crash part way leaves the target
as it was before: empty. The schema is made in that transaction too, from the same numbered
migrations `portal database migrate` applies.

Rows go table by table, each after the tables its foreign keys name, read from SQLite in batches
of BATCH_ROWS and sent with COPY (never a whole table in memory). The tables' own triggers are off
while rows are copied: the rows they would derive (the work queue, its counts, the digests'
counts, a case's last activity) are copied as they are. Rows are copied in the order SQLite keeps
them, which for the tables whose rowids are random (migration 30) is that random order: the
target's heap keeps no arrival order the source did not. A blob file goes into the database's
chunked rows (portal.store.database_blobs) a chunk at a time, under its own name, so every row that
names it still does. Identity columns, given explicit ids, are moved past the largest copied.
"""

from __future__ import annotations

import graphlib
import os
import sqlite3
from pathlib import Path

from portal.store import dialect, postgres
from portal.store.database_blobs import CHUNK_BYTES
from portal.store.migrations import MIGRATIONS

BATCH_ROWS = 1000
# The target records its own migrations (make_schema); SQLite's own tables are not the portal's.
_NOT_COPIED = ("schema_migrations",)


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def source_tables(source: sqlite3.Connection) -> list[str]:
    """The portal's tables in the SQLite database, each after every table its foreign keys name
    (a table's rows can then be copied once those it refers to are there)."""
    names = [row[0] for row in source.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
    after = {
        name: {row[2] for row in source.execute(f"PRAGMA foreign_key_list({_quoted(name)})")}
        - {name}
        for name in names if name not in _NOT_COPIED
    }
    return list(graphlib.TopologicalSorter(after).static_order())


def columns(source: sqlite3.Connection, table: str) -> list[str]:
    """The table's columns in SQLite, in their order."""
    return [row[1] for row in source.execute(f"PRAGMA table_info({_quoted(table)})")]


def make_schema(target: postgres.Connection) -> None:
    """Every migration applied in the target's open transaction, under the schema's lock."""
    pg = target.raw
    postgres.lock_schema(pg)
    postgres.set_up(pg)
    for number, statements in sorted(MIGRATIONS, key=lambda migration: migration[0]):
        postgres.apply_migration(pg, number, statements)


def target_tables(target: postgres.Connection) -> list[str]:
    return [row[0] for row in target.raw.execute(dialect.PUBLIC_TABLES)]


def set_triggers(target: postgres.Connection, enabled: bool) -> None:
    """The portal's own triggers on every table turned on or off (ALTER TABLE is transactional:
    a rollback turns them back on)."""
    statement = dialect.ENABLE_TRIGGERS if enabled else dialect.DISABLE_TRIGGERS
    for table in target_tables(target):
        target.raw.execute(statement.format(table=_quoted(table)))


def empty_tables(target: postgres.Connection) -> None:
    """Remove the rows the migrations themselves wrote (not their own record): the source has its
    own copies of them."""
    tables = ", ".join(
        _quoted(table) for table in target_tables(target) if table not in _NOT_COPIED)
    target.raw.execute(dialect.TRUNCATE.format(tables=tables))


def copy_rows(source: sqlite3.Connection, target: postgres.Connection, table: str) -> int:
    """Copy every row of `table`, BATCH_ROWS at a time; the number of rows copied."""
    names = ", ".join(_quoted(name) for name in columns(source, table))
    rows = source.execute(f"SELECT {names} FROM {_quoted(table)}")
    copied = 0
    with target.raw.cursor().copy(dialect.COPY_IN.format(table=_quoted(table), columns=names)) \
            as copy:
        while batch := rows.fetchmany(BATCH_ROWS):
            for row in batch:
                copy.write_row(row)
            copied += len(batch)
    return copied


def count_rows(target: postgres.Connection, table: str) -> int:
    return target.raw.execute(f"SELECT count(*) FROM {_quoted(table)}").fetchone()[0]


def copy_blob(target: postgres.Connection, name: str, path: Path) -> int:
    """The blob file at `path` stored as the finished blob `name`, a chunk at a time, its day the
    file's own time (already blurred to its day, portal.store.blobs); its size in bytes. Raises
    FileNotFoundError when the file is missing."""
    with open(path, "rb") as source:
        day = int(os.fstat(source.fileno()).st_mtime)
        target.raw.execute(dialect.BLOB_MAKE, (name, day))
        size = seq = 0
        with target.raw.cursor().copy(dialect.COPY_CHUNKS) as copy:
            while chunk := source.read(CHUNK_BYTES):
                copy.write_row((name, seq, chunk))
                seq, size = seq + 1, size + len(chunk)
    target.raw.execute(dialect.BLOB_FINISH, (size, day, name))
    return size


def advance_identities(target: postgres.Connection) -> None:
    """Each identity column's sequence moved past the largest id copied into it, so the next row
    the portal inserts without an id takes a new one."""
    for table, column in target.raw.execute(dialect.IDENTITY_COLUMNS).fetchall():
        target.raw.execute(dialect.ADVANCE_IDENTITY.format(table=_quoted(table),
                                                           column=_quoted(column)),
                           (table, column))

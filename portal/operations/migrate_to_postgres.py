"""An SQLite installation moved into PostgreSQL (issue 30, `portal migrate-to URL`; docs/deploy.md
§9, "Moving an SQLite installation to PostgreSQL").

The data directory's database (`portal.db`) and the blob files its rows name go into an empty
PostgreSQL database in one transaction on it (portal.store.copy_to_postgres makes the schema and
copies): the target is empty afterwards, or whole and checked; never half of it. While it copies,
the SQLite database's write lock is held (BEGIN IMMEDIATE), so every row copied is of one moment
and nothing written meanwhile is left behind (a request that would write is told to try again),
and the maintenance lock, so retention deletes no blob meanwhile.

The audit chain is verified before (in the SQLite database, against its head file) and inside the
target's transaction before it commits, against the head read from the source: a chain that does
not verify there is rolled back, not accepted. Once committed it is verified again, read back as
the portal will read it.

What is not in the database stays in the data directory, which the installation on PostgreSQL
still uses: `installation.json` (the secrets and settings), the audit and roster heads, the
roster files, sealed uploads in progress. The SQLite database and blob files are left as they were,
unused once PORTAL_DATABASE_URL is set: the operator keeps them as a backup until the portal is
checked, then removes them (retention on PostgreSQL does not reach them).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from portal.core.config import load_settings
from portal.core.context import Context
from portal.core.words import N_, Sentence
from portal.records import audit_verify
from portal.records.audit_head import Head
from portal.records.case_attachments import referenced_blobs
from portal.store import copy_to_postgres as copying
from portal.store import dialect, postgres
from portal.store.blobs import BLOB_SUFFIX, BlobStore
from portal.store.database_blobs import DatabaseBlobStore
from portal.store.db import database_url, open_database
from portal.store.maintenance import maintenance_lock


class MigrationRefused(Exception):
    """A migration not done, in plain words (N_ or a Sentence): the target is as it was."""


@dataclass(frozen=True)
class Summary:
    cases: int
    blobs: int
    rows: int
    audit_length: int


def migrate_to(data_dir: Path, url: str) -> Summary:
    """Move the SQLite installation in `data_dir` into the empty PostgreSQL database at `url`
    (libpq's form). Raises MigrationRefused when PORTAL_DATABASE_URL is set already, when there is
    no SQLite database, when the target is not empty or cannot be reached, when a blob file is
    missing, or when the audit chain does not verify before or after; NotInitialised for a data
    directory with no installation; ImportError without psycopg."""
    if database_url():
        raise MigrationRefused(N_(
            "PORTAL_DATABASE_URL is set: this installation's database is PostgreSQL already."
            " Unset it to move the data directory's SQLite database."))
    settings = load_settings(data_dir)
    if not settings.database_path.is_file():
        raise MigrationRefused(Sentence(N_("There is no SQLite database in %(folder)s."),
                                        folder=str(data_dir)))
    source = open_database(settings.database_path, settings.busy_timeout_seconds)
    try:
        with maintenance_lock(data_dir):
            source.execute("BEGIN IMMEDIATE")  # no writer meanwhile: one moment, nothing left out
            try:
                ctx = Context(settings, source, BlobStore(settings.blob_dir))
                head = _verified(ctx, None, _BROKEN_BEFORE)
                summary = _into(ctx, url, head)
            finally:
                source.execute("ROLLBACK")
    finally:
        source.conn.close()
    target = _target(url)
    try:
        _verified(Context(settings, target, DatabaseBlobStore(url)), head, _BROKEN_AFTER)
    finally:
        target.close()
    return summary


def _target(url: str) -> postgres.Connection:
    try:
        return postgres.Connection(url)
    except sqlite3.OperationalError:
        raise MigrationRefused(N_(
            "The database server could not be reached, or refused the connection.")) from None


_BROKEN_BEFORE = N_("The audit chain does not verify in the SQLite database: %(why)s Nothing was"
                    " migrated.")
_BROKEN_INSIDE = N_("The audit chain does not verify in PostgreSQL: %(why)s Nothing was migrated.")
_BROKEN_AFTER = N_("The audit chain does not verify in PostgreSQL once migrated: %(why)s Do not"
                   " set PORTAL_DATABASE_URL to it: drop that database and migrate again.")


def _verified(ctx: Context, expected: Head | None, refusal: str) -> Head | None:
    """The chain verified (against `expected` if given, and the head file); its head, None for an
    empty chain. MigrationRefused saying `refusal` when it does not verify."""
    verdict = audit_verify.verify(ctx, expected)
    if not verdict.intact:
        raise MigrationRefused(Sentence(refusal, why=verdict.message))
    last = ctx.db.execute("SELECT seq, link FROM audit_log ORDER BY seq DESC LIMIT 1").fetchone()
    return Head(last[0], last[1]) if last else None


def _into(source: Context, url: str, head: Head | None) -> Summary:
    """The copy, in one transaction on the target: committed only once it is whole and its audit
    chain verifies; rolled back on anything else."""
    target = _target(url)
    pg = target.raw
    try:
        pg.execute("BEGIN")
        postgres.lock_schema(pg)
        if pg.execute(dialect.OWN_TABLES).fetchone()[0]:
            raise MigrationRefused(N_(
                "That database is not empty: the migration goes into a new, empty database."))
        summary = _copy(source, target)
        _verified(Context(source.settings, target, DatabaseBlobStore(url)), head, _BROKEN_INSIDE)
        pg.execute("COMMIT")
        return summary
    finally:
        target.close()  # without a COMMIT, everything above is rolled back


def _copy(source: Context, target: postgres.Connection) -> Summary:
    copying.make_schema(target)
    copying.set_triggers(target, enabled=False)
    copying.empty_tables(target)
    conn = source.db.conn
    tables = copying.source_tables(conn)
    if set(tables) != set(copying.target_tables(target)) - {"schema_migrations"}:
        raise MigrationRefused(N_(
            "The SQLite database's tables are not the schema's: upgrade the portal first."))
    rows = 0
    for table in tables:
        copied = copying.copy_rows(conn, target, table)
        if copying.count_rows(target, table) != copied:
            raise MigrationRefused(Sentence(N_("The rows of %(table)s were not all copied."),
                                            table=table))
        rows += copied
    names = sorted(referenced_blobs(source))
    for name in names:
        path = source.settings.blob_dir / f"{name}{BLOB_SUFFIX}"
        try:
            size = copying.copy_blob(target, name, path)
        except FileNotFoundError:
            raise MigrationRefused(Sentence(N_(
                "The database refers to %(file)s, which is missing from the data directory: the"
                " installation itself is damaged. Nothing was migrated."),
                file=f"blobs/{name}{BLOB_SUFFIX}")) from None
        if size != path.stat().st_size:
            raise MigrationRefused(Sentence(N_("%(file)s changed while it was copied."),
                                            file=f"blobs/{name}{BLOB_SUFFIX}"))
    copying.advance_identities(target)
    copying.set_triggers(target, enabled=True)
    (cases,) = conn.execute("SELECT count(*) FROM cases").fetchone()
    (length,) = conn.execute("SELECT count(*) FROM audit_log").fetchone()
    return Summary(cases, len(names), rows, length)

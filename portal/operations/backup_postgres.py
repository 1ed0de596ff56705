"""Backups and restore of an installation whose database is PostgreSQL (issue 30): the same
commands, folder and checks as SQLite's (portal.operations.backup), with PostgreSQL's own tools
for the database.

A backup folder of a PostgreSQL installation holds:

    manifest.json      as for SQLite, with "engine": "postgresql" and the blobs' count
    portal.pgdump      `pg_dump --format=custom` of the database, blobs included (they are rows
                       there, portal.store.database_blobs): ciphertext and workflow metadata only
    installation.json  the installation's secrets and settings
    audit-head.json    the audit chain's length and latest link in the dump's snapshot

The dump is taken from one read snapshot (`pg_dump --snapshot`), exported by a transaction that
reads the audit head and the counts from the same snapshot, so the head matches the dump. A
restore goes into a new data directory and an empty database (PORTAL_DATABASE_URL names it):
`pg_restore --single-transaction`, so it is all there or none of it, then the audit chain must
verify against the head the backup recorded, as for SQLite.

pg_dump and pg_restore come from the PostgreSQL client tools (Debian's postgresql-client, of the
server's major version or newer); the URL passes to them as it is (a passfile, never a password).
"""

from __future__ import annotations

import glob
import shutil
import subprocess
from pathlib import Path

from portal.store import dialect
from portal.store.db import database_url
from portal.store.maintenance import maintenance_lock

DUMP = "portal.pgdump"
ENGINE = "postgresql"


def tool(name: str) -> str:
    """The path of pg_dump or pg_restore: on PATH, else the newest in /usr/lib/postgresql."""
    found = shutil.which(name)
    if found is None:
        found = (sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}")) or [None])[-1]
    if found is None:
        raise DumpError(f"{name} is not installed: install PostgreSQL's client tools.")
    return found


class DumpError(Exception):
    """pg_dump or pg_restore missing or failed, or no database to restore into; in plain words
    (portal.operations.backup gives it as a BackupError)."""


def _run(*command: str) -> None:
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise DumpError(f"{Path(command[0]).name} failed: {last}")


def dump(data_dir: Path, dest: Path) -> dict:
    """Dump the database into `dest` (DUMP), under the maintenance lock (every node's), so
    retention deletes no blob meanwhile; the facts read from the dump's own snapshot: its cases,
    finished blobs, schema version and audit head."""
    import psycopg

    url = database_url()
    with maintenance_lock(data_dir), psycopg.connect(url, autocommit=True) as conn:
        conn.execute(dialect.SNAPSHOT_BEGIN)
        (snapshot,) = conn.execute(dialect.SNAPSHOT_EXPORT).fetchone()
        last = conn.execute(
            "SELECT seq, link FROM audit_log ORDER BY seq DESC LIMIT 1").fetchone()
        (cases,) = conn.execute("SELECT count(*) FROM cases").fetchone()
        (blobs,) = conn.execute(dialect.FINISHED_BLOBS).fetchone()
        (version,) = conn.execute(dialect.SCHEMA_VERSION).fetchone()
        _run(tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges",
             f"--snapshot={snapshot}", f"--file={dest / DUMP}", f"--dbname={url}")
        conn.execute("COMMIT")
    head = {"length": last[0], "head": last[1]} if last else {"length": 0, "head": "0" * 64}
    return {"cases": cases, "blobs": blobs, "schema_version": version, "audit_head": head}


def check_dump(src: Path) -> None:
    """The dump reads as one (its table of contents lists), or BackupError."""
    _run(tool("pg_restore"), "--list", str(src / DUMP))


def restore_database(src: Path) -> None:
    """The dump restored into the empty database PORTAL_DATABASE_URL names, in one transaction.
    BackupError when that database already has tables (an installation's), or when there is none
    to restore into (no PORTAL_DATABASE_URL)."""
    import psycopg

    url = database_url()
    if not url:
        raise DumpError("This backup is of a PostgreSQL installation: set PORTAL_DATABASE_URL"
                          " to a new, empty database to restore it into.")
    with psycopg.connect(url) as conn:
        (tables,) = conn.execute(dialect.OWN_TABLES).fetchone()
    if tables:
        raise DumpError("The database PORTAL_DATABASE_URL names is not empty: a restore goes"
                          " into a new, empty database.")
    _run(tool("pg_restore"), "--no-owner", "--no-privileges", "--single-transaction",
         "--exit-on-error", f"--dbname={url}", str(src / DUMP))

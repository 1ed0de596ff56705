"""The database layer: hardening pragmas, numbered migrations, and transactions that really roll back."""
from __future__ import annotations

import os
import sqlite3

import pytest

from portal.store import BlobStore, connect, open_database, transaction
from portal.store.db import schema_version
from portal.store.migrations import MIGRATIONS

pytestmark = pytest.mark.sqlite_only(reason="the SQLite store itself: its file, pragmas, migrations and"
                                 " blob files (test_postgres_connection.py runs its transactions on both engines)")


def test_connection_uses_wal_and_the_hardening_pragmas(tmp_path):
    db = open_database(tmp_path / "p.db")
    pragma = lambda name: db.execute(f"PRAGMA {name}").fetchone()[0]
    assert pragma("journal_mode") == "wal"
    assert pragma("secure_delete") == 1
    assert pragma("trusted_schema") == 0
    assert pragma("foreign_keys") == 1


def test_migrations_run_once_in_order_and_record_the_version(tmp_path):
    path = tmp_path / "p.db"
    db = open_database(path)
    numbers = [n for n, _ in MIGRATIONS]
    # Each helper appends its own assigned number: gaps are fine, duplicates are not.
    assert len(set(numbers)) == len(numbers) and numbers[0] == 1
    assert schema_version(db) == max(numbers)
    db.conn.close()
    db = open_database(path)  # a second connection finds nothing left to do
    assert schema_version(db) == max(numbers)
    assert "cases" in db.table_names()


def test_a_migration_numbered_below_the_stored_version_still_runs(tmp_path, monkeypatch):
    """Numbers are assigned per piece of work and can land out of order: a database already past a
    number that arrives later still gets that migration, once."""
    from portal.store import db as db_module
    path = tmp_path / "p.db"
    # 2 makes the invitations table, and 40 gives it a column: both arrive late.
    without = [m for m in MIGRATIONS if m[0] not in (2, 40)]
    monkeypatch.setattr(db_module, "MIGRATIONS", without)
    open_database(path).conn.close()
    monkeypatch.undo()
    db = open_database(path)
    assert "invitations" in db.table_names()
    assert {n for n, _ in MIGRATIONS} == {r[0] for r in db.execute("SELECT number FROM schema_migrations")}
    db.conn.close()
    open_database(path).conn.close()  # nothing runs twice


def test_a_failing_migration_leaves_the_previous_version(tmp_path, monkeypatch):
    from portal.store import db as db_module
    path = tmp_path / "p.db"
    open_database(path).conn.close()
    broken = MIGRATIONS + [(max(n for n, _ in MIGRATIONS) + 1, ["CREATE TABLE later (x)", "THIS IS NOT SQL"])]
    monkeypatch.setattr(db_module, "MIGRATIONS", broken)
    with pytest.raises(sqlite3.OperationalError):
        open_database(path)
    monkeypatch.undo()
    db = open_database(path)
    assert schema_version(db) == max(n for n, _ in MIGRATIONS)
    assert "later" not in db.table_names()


def test_transaction_rolls_back_every_statement_on_error(tmp_path):
    db = open_database(tmp_path / "p.db")
    with pytest.raises(RuntimeError):
        with transaction(db):
            db.execute("INSERT INTO channels (name) VALUES ('one')")
            db.execute("INSERT INTO channels (name) VALUES ('two')")
            raise RuntimeError("crash mid-write")
    assert db.execute("SELECT COUNT(*) FROM channels").fetchone()[0] == 0
    with transaction(db):
        db.execute("INSERT INTO channels (name) VALUES ('three')")
    assert db.execute("SELECT name FROM channels").fetchall() == [("three",)]


def test_a_crashed_process_leaves_no_partial_write(tmp_path):
    """A process killed mid-transaction: the next connection sees nothing of it."""
    import subprocess
    import sys
    path = tmp_path / "p.db"
    open_database(path).conn.close()
    code = (
        "import os; from pathlib import Path; from portal.store import open_database\n"
        f"db = open_database(Path({str(path)!r}))\n"
        "db.execute('BEGIN IMMEDIATE')\n"
        "db.execute(\"INSERT INTO channels (name) VALUES ('half')\")\n"
        "os._exit(9)\n")
    assert subprocess.run([sys.executable, "-c", code]).returncode == 9
    db = open_database(path)
    assert db.execute("SELECT COUNT(*) FROM channels").fetchone()[0] == 0


def test_blob_writer_renames_into_place_blurs_times_and_discards(tmp_path):
    store = BlobStore(tmp_path / "blobs")
    writer = store.writer()
    writer.file.write(b"ciphertext")
    assert writer.tmp_path.exists() and writer.tmp_path.suffix == ".part"
    midnight = 1_767_178_800.0  # 2026-01-01 00:00 in Auckland
    name = writer.commit(midnight)
    assert not writer.tmp_path.exists()
    assert store.path(name).read_bytes() == b"ciphertext"
    assert os.stat(store.path(name)).st_mtime == midnight
    assert os.stat(store.root).st_mtime == midnight
    assert oct(os.stat(store.path(name)).st_mode & 0o777) == "0o600"
    other = store.writer()
    other.discard()
    assert sorted(p.name for p in store.root.iterdir()) == [name + ".blob"]


def test_sweep_removes_unfinished_and_orphaned_blobs_only(tmp_path):
    store = BlobStore(tmp_path / "blobs")
    kept = store.writer(); kept.file.write(b"a"); kept_name = kept.commit(0)
    orphan = store.writer(); orphan.file.write(b"b"); orphan.commit(0)
    unfinished = store.writer(); unfinished.file.write(b"c"); unfinished.file.flush()
    unfinished.file.close()  # its writer is gone (a killed worker): nothing holds its lock
    live = store.writer(); live.file.write(b"d")  # still being written: it holds its lock
    assert store.sweep({kept_name}) == (1, 1)
    assert sorted(p.name for p in store.root.iterdir()) == sorted(
        [kept_name + ".blob", live.tmp_path.name])
    assert store.sweep_unfinished() == 0  # the live upload's .part is never removed
    live.file.write(b"e")
    assert live.commit(0) == live.name and store.path(live.name).read_bytes() == b"de"


def test_a_plain_connection_does_no_schema_work(tmp_path):
    """Requests only connect; migrations run once at start-up (open_database), not on every request."""
    path = tmp_path / "p.db"
    db = connect(path)
    assert schema_version(db) == 0 and db.table_names() == []
    assert db.execute("PRAGMA secure_delete").fetchone()[0] == 1

"""Every migration runs on PostgreSQL as well as SQLite (issue 30, first slice), on a real server
the test starts itself (tests/store/postgres_server.py):

- the schema is the same: the same tables, columns, nullability, primary keys and unique keys;
- the triggers do the same: the work queue's copies and counts, and the digest's counts, follow the
  same writes identically on both engines;
- an e-mail address is unique whatever its case on both (COLLATE NOCASE and its ICU collation);
- nodes starting together apply each migration once (the advisory lock), and a second start
  applies nothing;
- `portal database migrate` does it from the command line, and says plainly when it cannot.
"""

from __future__ import annotations

import threading
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner

from portal.cli import main as portal_cli
from portal.store import dialect, postgres
from portal.store.db import open_database
from portal.store.migrations import MIGRATIONS


@pytest.fixture
def engines(server, tmp_path: Path, monkeypatch):
    """(SQLite connection, PostgreSQL connection), each with every migration applied."""
    monkeypatch.delenv("PORTAL_DATABASE_URL", raising=False)  # the SQLite one in its file
    url = server.database("schema")
    postgres.migrate(url)
    sqlite = open_database(tmp_path / "portal.db").conn
    with psycopg.connect(url, autocommit=True) as pg:
        yield sqlite, pg
    sqlite.close()


def _sqlite_schema(conn) -> dict:
    tables = [row[0] for row in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
    schema = {}
    for table in tables:
        columns = conn.execute(f"PRAGMA table_info({table})").fetchall()
        unique = set()
        for index in conn.execute(f"PRAGMA index_list({table})").fetchall():
            if index[2] and index[3] != "pk":  # unique, and not the primary key itself
                unique.add(tuple(row[2] for row in conn.execute(f"PRAGMA index_info({index[1]})")))
        schema[table] = {
            # An INTEGER PRIMARY KEY is SQLite's row id: never NULL, whatever table_info says.
            "columns": {col[1]: bool(col[3] or col[5]) for col in columns},
            "primary_key": tuple(col[1] for col in sorted(columns, key=lambda c: c[5]) if col[5]),
            "unique": unique,
        }
    return schema


def _postgres_schema(conn) -> dict:
    schema: dict = {}
    for table, column, nullable in conn.execute(
        "SELECT table_name, column_name, is_nullable FROM information_schema.columns"
        " WHERE table_schema = 'public'"
    ):
        entry = schema.setdefault(table, {"columns": {}, "primary_key": (), "unique": set()})
        entry["columns"][column] = nullable == "NO"
    for table, primary, columns in conn.execute(
        """SELECT t.relname, i.indisprimary,
                  ARRAY(SELECT a.attname FROM unnest(i.indkey) WITH ORDINALITY AS k(n, o)
                        JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.n ORDER BY k.o)
             FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid
             JOIN pg_namespace s ON s.oid = t.relnamespace
            WHERE s.nspname = 'public' AND i.indisunique"""
    ):
        if primary:
            schema[table]["primary_key"] = tuple(columns)
        else:
            schema[table]["unique"].add(tuple(columns))
    return schema


def test_every_migration_gives_postgresql_the_same_tables_columns_and_keys(engines):
    sqlite, pg = engines
    on_postgres = _postgres_schema(pg)
    # SQLite's implicit row id is a column on PostgreSQL only where the code uses it.
    with_rowid = {table for table, entry in on_postgres.items()
                  if entry["columns"].pop("rowid", None) is not None}
    assert with_rowid == set(dialect.ROWID_TABLES)
    assert on_postgres == _sqlite_schema(sqlite)
    applied = {row[0] for row in pg.execute("SELECT number FROM schema_migrations")}
    assert applied == {number for number, _ in MIGRATIONS}


class _Both:
    """The same statement on both engines (`?` placeholders, written once)."""

    def __init__(self, sqlite, pg) -> None:
        self.sqlite, self.pg = sqlite, pg

    def run(self, statement: str, values: tuple = ()) -> None:
        self.sqlite.execute(statement, values)
        self.pg.execute(statement.replace("?", "%s"), values)

    def rows(self, query: str) -> tuple[list, list]:
        return (
            [tuple(row) for row in self.sqlite.execute(query).fetchall()],
            [tuple(row) for row in self.pg.execute(query).fetchall()],
        )


_KEPT_BY_TRIGGERS = (
    "SELECT account_id, case_id, ref, seen, unseen_kind, status, assigned_to, due_key,"
    " activity_day FROM case_queue ORDER BY account_id, case_id",
    "SELECT account_id, cases, unseen FROM queue_counts ORDER BY account_id",
    "SELECT account_id, unseen_new, unseen_message, unseen_other, became_unseen"
    " FROM digest_waiting ORDER BY account_id",
    "SELECT id, activity_day FROM cases ORDER BY id",
)


def test_the_queue_and_digest_triggers_keep_the_same_rows_on_both_engines(engines):
    both = _Both(*engines)
    both.run("INSERT INTO channels (id, name) VALUES (1, 'Integrity team')")
    for number in (1, 2):
        both.run(
            "INSERT INTO accounts (id, email, name, role, public_key, wrapped_private_key,"
            " totp_secret, created_day) VALUES (?, ?, ?, 'officer', ?, ?, 'S', '2026-12-01')",
            (number, f"officer{number}@agency.govt.nz", f"Officer {number}", b"k", b"w"),
        )
    both.run(
        "INSERT INTO cases (id, ref, channel_id, status, received_day, receipt_lookup,"
        " discloser_public_key) VALUES ('c1', 'PD-1', 1, 'received', '2026-12-01', 'l1', ?)",
        (b"d",),
    )
    steps = [
        # Two readers gain a key: each gets a queue row, unseen and new.
        ("INSERT INTO case_keys (case_id, recipient, account_id, sealed_key)"
         " VALUES ('c1', 'account:1', 1, ?)", (b"s",)),
        ("INSERT INTO case_keys (case_id, recipient, account_id, sealed_key)"
         " VALUES ('c1', 'account:2', 2, ?)", (b"s",)),
        ("UPDATE case_queue SET seen = 1, unseen_kind = NULL WHERE account_id = 1", ()),
        # The discloser writes: seen rows become unseen messages, and the activity day moves on.
        ("INSERT INTO messages (id, case_id, seq, author, day, body_ct)"
         " VALUES ('m1', 'c1', 1, 'discloser', '2026-12-03', ?)", (b"m",)),
        ("UPDATE case_queue SET seen = 1, unseen_kind = NULL", ()),
        ("UPDATE cases SET status = 'assessing', assigned_to = 2, due_day = '2026-12-29'", ()),
        # A reader loses their key: their row goes, and the others are told the readers changed.
        ("DELETE FROM case_keys WHERE account_id = 2", ()),
    ]
    for statement, values in steps:
        both.run(statement, values)
        for query in _KEPT_BY_TRIGGERS:
            from_sqlite, from_postgres = both.rows(query)
            assert from_postgres == from_sqlite, (statement, query)
    queue, _ = both.rows(_KEPT_BY_TRIGGERS[0])
    assert queue == [(1, "c1", "PD-1", 0, "readers", "assessing", 2, "2026-12-29", "2026-12-03")]


def test_an_email_address_is_unique_whatever_its_case_on_both_engines(engines):
    sqlite, pg = engines
    both = _Both(sqlite, pg)
    insert = (
        "INSERT INTO accounts (email, name, role, public_key, wrapped_private_key, totp_secret,"
        " created_day) VALUES (?, 'A', 'admin', ?, ?, 'S', '2026-12-01')"
    )
    both.run(insert, ("Ana@Agency.govt.nz", b"k", b"w"))
    with pytest.raises(Exception, match="UNIQUE"):
        sqlite.execute(insert, ("ana@agency.GOVT.nz", b"k", b"w"))
    with pytest.raises(psycopg.errors.UniqueViolation):
        pg.execute(insert.replace("?", "%s"), ("ana@agency.GOVT.nz", b"k", b"w"))


def test_nodes_starting_together_apply_each_migration_once(server):
    url = server.database("together")
    applied: list[list[int]] = []
    nodes = [threading.Thread(target=lambda: applied.append(postgres.migrate(url)))
             for _ in range(3)]
    for node in nodes:
        node.start()
    for node in nodes:
        node.join()
    every = sorted(number for numbers in applied for number in numbers)
    assert every == sorted(number for number, _ in MIGRATIONS)
    assert postgres.migrate(url) == []


def test_the_command_line_migrates_a_postgresql_database_once(server):
    url = server.database("by_command")
    first = CliRunner().invoke(portal_cli, ["database", "migrate"], env={"PORTAL_DATABASE_URL": url})
    assert first.exit_code == 0, first.output
    assert f"Applied {len(MIGRATIONS)} migrations, up to number {max(MIGRATIONS)[0]}." in first.output
    again = CliRunner().invoke(portal_cli, ["database", "migrate", "--url", url])
    assert again.exit_code == 0 and "nothing to apply" in again.output
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT count(*) FROM accounts").fetchone()[0] == 0
    unreachable = CliRunner().invoke(
        portal_cli, ["database", "migrate", "--url", f"host={server.place}/none dbname=x"])
    assert unreachable.exit_code == 1
    assert "could not be reached" in unreachable.output and "Traceback" not in unreachable.output

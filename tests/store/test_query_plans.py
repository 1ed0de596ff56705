"""Query plans at 100,000 cases (issue 23): every statement the queue, grants, recovery, statistics and
retention run, captured by tracing the connections while they are driven over HTTP and the command
line, is planned with EXPLAIN QUERY PLAN against statistics (sqlite_stat1) modelling 100,000 rows in
every table that grows with cases. A plan that scans such a table fails, unless the statement is one
whose purpose is to read the whole table (listed below with the reason).

On PostgreSQL (PORTAL_TEST_DATABASE=postgresql) the same statements, with the parameters they ran
with, are planned with EXPLAIN with sequential scans priced out (enable_seqscan off): a plan that
still reads such a table whole ("Seq Scan") has no index it could use, whatever the table's size."""
from __future__ import annotations

import re
import shutil
import sqlite3

import pytest

from portal.core.context import open_context
from portal.store.dialect import postgres_query
from tests.conftest import add_account, run_cli
from tests.support import database
from tests.keys.test_grant import grant
from tests.keys.test_recovery import decide_in_console, printed_fingerprint, recover, seal_in_console
from tests.support.console import case_links, sign_in
from tests.support.tracing import traced
from tests.support.workflow import disclose_to, post

ROWS = 100_000
GROWING = {
    "cases", "case_keys", "case_fields", "messages", "attachments", "status_events", "audit_log",
    "case_queue", "internal_keys", "identity_keys", "identity_fields", "identity_releases",
    "recovery_copies", "case_steps", "progress_updates", "case_notes", "referrals", "legal_holds",
    "deletion_requests", "case_quota", "oral_disclosures", "consent_requests", "legacy_records",
    "case_extensions", "statistics_snapshot_cases",
}
# Statements that read a whole table on purpose (a scan is their work, not an accident of planning).
WHOLE_TABLE = (
    re.compile(r"FROM audit_log\b(?!.*\bWHERE\b)", re.S),  # portal audit verify reads the chain
    re.compile(r"^\s*ANALYZE|^\s*PRAGMA", re.I),
    re.compile(r"\bIN \(\)"),  # an empty list: SQLite reads nothing whatever its plan says
)


# Words that may follow a table's name in FROM/JOIN/UPDATE/INTO where an alias would stand.
_NOT_ALIASES = {"WHERE", "ON", "JOIN", "LEFT", "INNER", "CROSS", "GROUP", "ORDER", "LIMIT", "USING",
                "SET", "VALUES", "AND", "OR", "NATURAL", "UNION", "SELECT", "AS", "INDEXED", "NOT"}


def tables_named(sql: str) -> dict[str, str]:
    """Each table of the statement, and each alias given to one, to the table's name: SQLite's plan
    says `SCAN c` for `FROM cases c` (review L4)."""
    named = {}
    for match in re.finditer(r"\b(?:FROM|JOIN|UPDATE|INTO)\s+(\w+)(?:\s+(?:AS\s+)?(\w+))?", sql, re.I):
        table, alias = match.groups()
        named[table] = table
        if alias and alias.upper() not in _NOT_ALIASES:
            named[alias] = table
    return named


def synthetic_stats(conn: sqlite3.Connection) -> None:
    """sqlite_stat1 as ANALYZE would write it for 100,000 rows in each growing table: each index's
    first column picks out 100 rows, a unique index's full key one."""
    conn.execute("ANALYZE")
    conn.execute("DELETE FROM sqlite_stat1")
    for (table,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall():
        if table.startswith("sqlite_"):
            continue
        rows = ROWS if table in GROWING else 20
        conn.execute("INSERT INTO sqlite_stat1 VALUES (?, NULL, ?)", [table, str(rows)])
        for _, index, unique, *_ in conn.execute(f"PRAGMA index_list({table})").fetchall():
            width = len(conn.execute(f"PRAGMA index_info({index})").fetchall())
            parts = [str(rows)] + [str(max(1, rows // 1000 if i == 0 else 2)) for i in range(width)]
            if unique:
                parts[-1] = "1"
            conn.execute("INSERT INTO sqlite_stat1 VALUES (?, ?, ?)", [table, index, " ".join(parts)])
    conn.commit()
    conn.execute("ANALYZE sqlite_schema")


def drive(app, installation):
    """The features, through their front doors, with every statement they run (a Trace)."""
    data_dir = installation.data_dir
    with traced() as trace:
        for number in range(3):
            disclose_to(app.test_client(), details=f"Case number {number}.")
        ana = app.test_client()
        assert sign_in(ana, installation.officer).status_code == 303
        for query in ("", "?status=received", "?sort=activity", "?due=overdue", "?assignee=me",
                      "?category=fraud", "?q=PD-"):
            assert ana.get("/console/" + query).status_code == 200
        [first, *_] = case_links(ana.get("/console/").text)
        assert ana.get(first).status_code == 200
        assert post(ana, first + "/status", status="acknowledged").status_code in (200, 303)
        shares, public, words = printed_fingerprint(data_dir)
        run_cli(data_dir, "channel", "set-recovery", "Audit and Risk", public)
        assert decide_in_console(ana, words).status_code == 303
        assert seal_in_console(ana).status_code == 303
        cat = add_account(data_dir, "officer", "cat@agency.govt.nz", "Cat Colleague", ["Audit and Risk"])
        assert grant(ana, installation.officer).status_code == 200
        assert recover(data_dir, shares[:3], cat.email).exit_code == 0
        for page in ("/console/statistics", "/console/statistics?from=2025-07-01&to=2026-06-30",
                     "/console/statistics.csv?from=2025-07-01&to=2026-06-30", "/console/retention/",
                     "/console/memberships", "/console/access/"):
            assert ana.get(page).status_code == 200, page
    return trace


def _planned(sql: str) -> bool:
    return bool(re.match(r"\s*(SELECT|UPDATE|DELETE|INSERT|WITH)", sql, re.I)) and not any(
        pattern.search(sql) for pattern in WHOLE_TABLE)


@pytest.mark.sqlite_only(reason="plans against SQLite's statistics (sqlite_stat1) of a copy of"
                                " portal.db; PostgreSQL's plans are the test below")
def test_no_plan_scans_a_table_that_grows_with_cases(app, installation, tmp_path):
    statements = drive(app, installation).sql()
    copy = tmp_path / "planned.db"
    ctx = open_context(installation.data_dir)
    ctx.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    shutil.copy(installation.data_dir / "portal.db", copy)
    conn = sqlite3.connect(copy)
    synthetic_stats(conn)
    scans, planned = [], 0
    for sql in dict.fromkeys(statements):
        if not _planned(sql):
            continue
        plan = conn.execute("EXPLAIN QUERY PLAN " + sql).fetchall()
        planned += 1
        named = tables_named(sql)
        for *_, detail in plan:
            match = re.match(r"SCAN (\w+)", detail)
            if match and named.get(match.group(1), match.group(1)) in GROWING:
                scans.append(f"{detail}: {sql[:300]}")
    assert planned > 50
    assert not scans, "\n".join(scans)


@pytest.mark.sqlite_only(reason="SQLite's EXPLAIN QUERY PLAN names a table by its alias")
def test_an_alias_in_a_plan_is_read_as_its_table():
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE cases (id TEXT PRIMARY KEY, channel_id INTEGER)")
    sql = "SELECT c.id FROM cases c WHERE c.channel_id = 3"
    [(*_, detail)] = conn.execute("EXPLAIN QUERY PLAN " + sql).fetchall()
    assert detail == "SCAN c" and tables_named(sql)["c"] == "cases"


@pytest.mark.sqlite_only(reason="SQLite's PRAGMAs; PostgreSQL's cascades are planned as any query")
def test_every_foreign_key_onto_a_growing_table_has_an_index_leading_with_its_column(installation):
    """EXPLAIN QUERY PLAN does not show what a foreign key's ON DELETE runs: deleting a case looks up
    each referring table by its column, a scan of that table when no index leads with it (review M2:
    statistics_snapshot_cases, 353 ms a case at 500,000 rows)."""
    conn = open_context(installation.data_dir).db.conn
    unindexed = []
    for (table,) in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").fetchall():
        leading = {conn.execute(f"PRAGMA index_info({index})").fetchall()[0][2]
                   for _, index, *_ in conn.execute(f"PRAGMA index_list({table})").fetchall()}
        keys = [row for row in conn.execute(f"PRAGMA table_info({table})").fetchall() if row[5]]
        if len(keys) == 1 and keys[0][2].upper() == "INTEGER":
            leading.add(keys[0][1])  # the rowid itself
        for _, _, parent, column, *_ in conn.execute(f"PRAGMA foreign_key_list({table})").fetchall():
            if parent in GROWING and column not in leading:
                unindexed.append(f"{table}.{column} -> {parent}")
    assert not unindexed, unindexed


@pytest.mark.postgres_only(reason="PostgreSQL's planner; SQLite's plans are the test above")
def test_no_postgresql_plan_reads_a_table_that_grows_with_cases_whole(app, installation):
    trace = drive(app, installation)
    conn = database.connect(installation.data_dir)
    conn.raw.execute("SET enable_seqscan = off")
    scans, planned, seen = [], 0, set()
    for (_, sql), params in zip(trace.statements, trace.parameters):
        if not _planned(sql) or (sql, repr(params)) in seen:
            continue
        seen.add((sql, repr(params)))
        [translated] = postgres_query(sql)
        plan = [line for (line,) in conn.raw.execute(
            "EXPLAIN " + translated,
            tuple(int(v) if isinstance(v, bool) else v for v in params or ()) if "%s" in translated
            else ())]
        planned += 1
        for line in plan:
            match = re.search(r"Seq Scan on (\w+)", line)
            if match and match.group(1) in GROWING:
                scans.append(f"{line.strip()}: {sql[:300]}")
    assert planned > 50
    assert not scans, "\n".join(scans)

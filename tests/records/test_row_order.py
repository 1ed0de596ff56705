"""No order that dates a discloser (issue 26): the rows a disclosure or a reply makes, and their place
in the audit chain, do not follow the order they came in between officers' timed actions."""
from __future__ import annotations

import datetime as dt
import json

import pytest

from portal.core import clock
from portal.core.context import open_context
from portal.records import case_history, casefiles
from portal.store.migrations.m0030_unordered_rows import RANDOM_ROWID_TABLES
from tests.conftest import officer_key, run_cli
from tests.support import csrf_token, database, form_for, post_multipart
from tests.support.console import case_links, disclose, sign_in
from tests.support.discloser import open_status

ROUNDS = 9  # an officer's reply, then a discloser's, 9 times: 9! arrival orders to come out in
DISCLOSURES = 4


def _db(installation):
    return database.connect(installation.data_dir)


def _interleaved(app, installation):
    """Cases and replies from disclosers between officers' timed actions; returns the case URLs in
    the order they came, the first case's URL, and every message's body in the order sent."""
    officer = app.test_client()
    assert sign_in(officer, installation.officer).status_code == 303
    cases, discloser = [], None
    for n in range(DISCLOSURES):
        known = set(case_links(officer.get("/console/").text))
        client = app.test_client()
        receipt = disclose(client, details=f"Disclosure {n}", files=())
        [case_url] = set(case_links(officer.get("/console/").text)) - known
        cases.append(case_url)
        officer.get(case_url)  # an officer's timed action (case_view) between disclosures
        if n == 0:
            discloser = client
            assert open_status(discloser, receipt).status_code == 303
    sent = []
    for n in range(ROUNDS):
        fields = dict(form_for(officer.get(cases[0]).text, cases[0] + "/reply")["fields"])
        reply = officer.post(cases[0] + "/reply", data=fields | {"message": f"Officer {n}"},
                             headers={"Sec-Fetch-Site": "same-origin"})
        assert reply.status_code == 303, reply.text
        token = csrf_token(discloser.get("/status").text)
        response = post_multipart(discloser, "/status/reply",
                                  [("csrf_token", token), ("message", f"Discloser {n}")],
                                  [("attachments", f"file-{n}.txt", b"file %d" % n)])
        assert response.status_code == 303, response.text
        sent += [f"Officer {n}", f"Discloser {n}"]
    return cases, sent


def _thread(installation, case_url):
    ctx = open_context(installation.data_dir)
    try:
        account, private_key = officer_key(ctx, installation.officer)
        case = casefiles.get_case(ctx, ref=case_url.rsplit("/", 1)[1])
        key = casefiles.open_case_key(ctx, case.id, f"account:{account.id}", private_key)
        return case, case_history.read_messages(ctx, case.id, key)
    finally:
        ctx.db.conn.close()


def _stored_in_random_order(conn, by_id: dict, came: list[str], cases: list[str]) -> None:
    """SQLite's rowids (its stored order): the discloser's messages by rowid are not in the order
    they came, and every row a disclosure or reply made has a random rowid, never 1, 2, 3 ...
    PostgreSQL has no rowids; its row versions order rows as they came, which SECURITY.md says."""
    stored = [by_id[mid] for (mid,) in conn.execute(
        "SELECT id FROM messages WHERE author = 'discloser' ORDER BY rowid")]
    assert sorted(stored) == sorted(came) and stored != came
    refs = [url.rsplit("/", 1)[1] for url in cases]
    by_rowid = [ref for (ref,) in conn.execute("SELECT ref FROM cases ORDER BY rowid")]
    assert sorted(by_rowid) == sorted(refs)
    rowid_tables = [name for (name,) in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND sql NOT LIKE '%WITHOUT ROWID%'"
        " AND name NOT LIKE 'sqlite_%'")]
    triggered = {name.removeprefix("random_rowid_") for (name,) in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'random_rowid_%'")}
    assert set(RANDOM_ROWID_TABLES) <= triggered
    for table in rowid_tables:
        columns = {row[1]: row for row in conn.execute(f"PRAGMA table_info({table})")}
        key = [c for c in columns.values() if c[5]]
        alias = len(key) == 1 and key[0][2].upper() == "INTEGER"  # the rowid is the key
        if "case_id" in columns and not alias:
            # a table holding a case's rows moves each new row to a random rowid ...
            assert table in triggered, table
    for table in triggered:
        low = conn.execute(f"SELECT COUNT(*) FROM {table} WHERE rowid < ?", [2**32]).fetchone()
        assert low == (0,), table  # ... and its rows have random rowids


def test_discloser_rows_and_audit_entries_do_not_follow_the_order_they_came_in(
        app, installation, monkeypatch):
    cases, sent = _interleaved(app, installation)
    case, thread = _thread(installation, cases[0])
    by_id = {m.id: m.body for m in thread}
    came = [body for body in sent if body.startswith("Discloser")]

    # The thread shows the day's officers' messages in the order sent, then the discloser's: where a
    # discloser's message stands says nothing of which officer message it came after.
    bodies = [m.body for m in thread]
    assert bodies[:ROUNDS] == [f"Officer {n}" for n in range(ROUNDS)]
    assert sorted(bodies[ROUNDS:]) == sorted(came) and bodies[ROUNDS:] != came
    keys = [m.seq for m in thread]
    assert keys == sorted(keys)

    with _db(installation) as conn:
        if not database.on_postgres():
            _stored_in_random_order(conn, by_id, came, cases)
        assert conn.execute("SELECT COUNT(*) FROM sessions").fetchone()[0] > 0

        # The audit chain holds nothing yet of what the disclosers did today: it waits, to the day.
        day = clock.today(app.config["PORTAL_SETTINGS"].timezone)
        assert conn.execute("SELECT COUNT(*) FROM audit_log WHERE actor IS NULL AND case_ref IS NOT"
                            " NULL").fetchone() == (0,)
        assert conn.execute("SELECT day, COUNT(*) FROM audit_pending GROUP BY day").fetchall() == [
            (day, DISCLOSURES + ROUNDS)]

    # The day ends; the first command (or request) after it appends the day's batch.
    tomorrow = clock.now_utc() + dt.timedelta(days=1)
    monkeypatch.setattr(clock, "now_utc", lambda: tomorrow)
    assert "The audit log is intact" in run_cli(installation.data_dir, "audit", "verify").output
    with _db(installation) as conn:
        rows = conn.execute("SELECT seq, at, event, actor, case_ref, detail FROM audit_log"
                            " ORDER BY seq").fetchall()
        assert conn.execute("SELECT COUNT(*) FROM audit_pending").fetchone() == (0,)
    officers = [r for r in rows if r[3] is not None]
    disclosers = [r for r in rows if r[2] in ("disclosure_received", "discloser_message")]
    assert len(disclosers) == DISCLOSURES + ROUNDS
    # Every discloser entry comes after every officer entry of the day, carries the day only, and
    # the batch's order is not the order they came in.
    assert min(r[0] for r in disclosers) > max(r[0] for r in officers)
    assert {r[1] for r in disclosers} == {day}
    chained = [by_id[json.loads(r[5])["message_id"]] for r in disclosers
               if r[2] == "discloser_message"]
    assert sorted(chained) == sorted(came) and chained != came
    # Each entry vouches for its record: a discloser's message changed in the database is found.
    with _db(installation) as conn:
        conn.execute("UPDATE messages SET day = '2000-01-01' WHERE author = 'discloser'"
                     " AND id = (SELECT id FROM messages WHERE author = 'discloser' LIMIT 1)")
    from click.testing import CliRunner
    from portal.cli import main as portal_cli
    tampered = CliRunner().invoke(portal_cli, ["--data", str(installation.data_dir), "audit", "verify"])
    assert tampered.exit_code == 1 and "does not match the audit log" in tampered.output


def test_a_day_with_nothing_waiting_costs_one_query_a_worker(app, installation, monkeypatch):
    from portal.records import audit
    ctx = open_context(installation.data_dir)
    try:
        statements = []
        database.on_each_statement(ctx.db, statements.append)
        assert audit.close_past_days(ctx) == 0 and audit.close_past_days(ctx) == 0
        assert len([s for s in statements if "audit_pending" in s]) <= 1
    finally:
        ctx.db.conn.close()


@pytest.mark.sqlite_only(reason="rowids and migration 30's triggers are SQLite's; PostgreSQL's tables have"
                                " neither (tests/store/test_postgres_schema.py)")
def test_an_installation_from_before_migration_30_gets_random_rowids_and_keeps_its_thread(app, installation):
    """Rows made in the order they came (rowids 1, 2, 3 ..., message numbers 1, 2, 3 ...) are given random
    rowids and day keys on upgrade; the thread reads as before and the audit chain still verifies."""
    from tests.support.messages import add_messages
    from tests.support.workflow import disclose_to
    disclose_to(app.test_client())
    with _db(installation) as conn:
        [(ref,)] = conn.execute("SELECT ref FROM cases").fetchall()
    add_messages(installation.data_dir, installation.officer, ref, 6)
    with _db(installation) as conn:  # back to how the schema before migration 30 left it
        for (name,) in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'random_rowid_%'").fetchall():
            conn.execute(f"DROP TRIGGER {name}")
        conn.execute("DROP TABLE audit_pending")
        conn.execute("DELETE FROM schema_migrations WHERE number = 30")
        ids = [mid for (mid,) in conn.execute("SELECT id FROM messages ORDER BY seq")]
        for number, mid in enumerate(ids, start=1):
            conn.execute("UPDATE messages SET seq = ?, rowid = ? WHERE id = ?", [number, number, mid])
        conn.execute("UPDATE cases SET rowid = 1")
        assert [r for (r,) in conn.execute("SELECT seq FROM messages ORDER BY seq")] == [1, 2, 3, 4, 5, 6]
    assert "The audit log is intact" in run_cli(installation.data_dir, "audit", "verify").output  # migrates
    with _db(installation) as conn:
        for table in ("cases", "messages", "case_fields", "case_keys", "status_events"):
            assert conn.execute(f"SELECT COUNT(*) FROM {table} WHERE rowid < ?", [2**32]).fetchone() == (0,), table
        assert conn.execute("SELECT MIN(seq) FROM messages").fetchone()[0] >= 2**40
    _, thread = _thread(installation, f"/console/cases/{ref}")
    assert [m.body for m in thread] == [f"Message number {n}." for n in range(1, 7)]
    assert all(m.verified for m in thread)

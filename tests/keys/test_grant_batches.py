"""Giving an officer every case of a channel in bounded batches (issue 23): at most
progress.BATCH_CASES cases per write transaction, counted from the statements the portal runs; a run
that stops part way (an exception, or the page's time budget) is carried on from the console and
shares every case exactly once, with the audit chain intact."""
from __future__ import annotations

import re
import threading

import pytest

from portal.core.context import open_context
from portal.keys import access
from portal.store import db as store_db
from portal.store import progress
from tests.conftest import add_account, run_cli
from tests.keys.test_grant import grant
from tests.support.console import case_links, sign_in
from tests.support.tracing import traced, written_into
from tests.support.workflow import disclose_to

CASES = 7
BATCH = 3


@pytest.fixture
def channel_cases(app, installation, monkeypatch):
    monkeypatch.setattr(progress, "BATCH_CASES", BATCH)
    for number in range(CASES):
        disclose_to(app.test_client(), details=f"Case number {number}.")
    cat = add_account(installation.data_dir, "officer", "cat@agency.govt.nz", "Cat Colleague",
                      ["Audit and Risk"])
    ana = app.test_client()
    assert sign_in(ana, installation.officer).status_code == 303
    return ana, cat


def grant_entries(data_dir) -> list[str]:
    ctx = open_context(data_dir)
    return [row[0] for row in ctx.db.execute("SELECT case_ref FROM audit_log WHERE event = 'grant'")]


def test_every_case_is_shared_a_bounded_batch_per_transaction(app, installation, channel_cases):
    ana, cat = channel_cases
    with traced() as trace:
        answer = grant(ana, installation.officer)
    assert answer.status_code == 200
    assert len(re.findall(r'data-ref="', answer.text.split('id="granted"')[1])) >= CASES
    batches = [t for t in trace.transactions() if written_into(t, "audit_log")
               and any("long_operations" in sql for sql in t)]
    assert len(batches) == -(-CASES // BATCH)  # ceil: every batch its own transaction
    for statements in batches:
        assert written_into(statements, "audit_log") <= BATCH
        assert written_into(statements, "case_keys") <= BATCH
        assert sum(written_into(statements, table) for table in access.key_tables()) \
            <= BATCH * len(access.key_tables())
    assert sorted(grant_entries(installation.data_dir)) == sorted(
        link.rsplit("/", 1)[1] for link in case_links(ana.get("/console/").text))
    assert run_cli(installation.data_dir, "audit", "verify").exit_code == 0


def test_a_grant_stopped_part_way_carries_on_without_sharing_twice(
        app, installation, channel_cases, monkeypatch):
    ana, cat = channel_cases
    real, calls = access.seal_keys_to, [0]

    def fails_on_the_fifth(*args, **kwargs):
        calls[0] += 1
        if calls[0] == 5:
            raise RuntimeError("the process was stopped")
        return real(*args, **kwargs)

    monkeypatch.setattr(access, "seal_keys_to", fails_on_the_fifth)
    with pytest.raises(RuntimeError):
        grant(ana, installation.officer)
    assert len(grant_entries(installation.data_dir)) == BATCH  # the first batch, committed whole
    page = ana.get("/console/access/").text
    assert "Sharing every case of Audit and Risk with Cat Colleague" in page
    assert f"{BATCH} of {CASES} cases done" in page
    # The command line points to the page whose form carries it on (review L2).
    assert run_cli(installation.data_dir, "under-way").stdout == (
        f"every case of a channel given to an officer: {BATCH} of {CASES} done; carried on by the"
        " console, Give an officer access (/console/access/), by the officer who began it\n")
    assert run_cli(installation.data_dir, "audit", "verify").exit_code == 0

    # The page's time budget: one batch per request, then it says how far it got.
    monkeypatch.setattr(access, "seal_keys_to", real)
    monkeypatch.setattr("portal.web.keys.access.GRANT_SECONDS", 0.0)
    answer = grant(ana, installation.officer)
    assert 'id="grant-progress"' in answer.text and f"{2 * BATCH} of {CASES} cases done" in answer.text
    answer = grant(ana, installation.officer)
    assert 'id="grant-progress"' not in answer.text
    assert f"{2 * BATCH} cases shared earlier" in answer.text
    assert "Sharing every case" not in ana.get("/console/access/").text

    entries = grant_entries(installation.data_dir)
    assert len(entries) == len(set(entries)) == CASES
    cat_client = app.test_client()
    assert sign_in(cat_client, cat).status_code == 303
    assert len(case_links(cat_client.get("/console/").text)) == CASES
    assert run_cli(installation.data_dir, "audit", "verify").exit_code == 0


def test_between_batches_the_grant_lets_the_writers_waiting_behind_it_go_first(
        app, installation, channel_cases, monkeypatch):
    """SQLite's busy handler is not fair: a disclosure waiting for the write lock could find every next
    batch holding it. After each batch but the last, the grant yields to the writers announced
    (portal.store.db.yield_to_writers), outside any transaction."""
    ana, cat = channel_cases
    yields = []

    def counted(db, longest=None):
        yields.append((db.conn.in_transaction, db.execute("SELECT done FROM long_operations").fetchone()[0]))
        return store_db.yield_to_writers(db, longest)

    monkeypatch.setattr(progress, "yield_to_writers", counted)
    assert grant(ana, installation.officer).status_code == 200
    assert yields == [(False, done) for done in range(BATCH, CASES, BATCH)]


def test_a_writer_is_announced_from_before_its_begin_until_its_commit(installation):
    """What a long operation sees between batches: a write transaction waiting or open elsewhere."""
    database = installation.data_dir / "portal.db"
    operation, other = store_db.connect(database), store_db.connect(database)
    opened, close = threading.Event(), threading.Event()

    def writer() -> None:
        with store_db.transaction(other):
            opened.set()
            close.wait(60)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        assert opened.wait(60)
        assert store_db.yield_to_writers(operation, longest=0) is True  # one look: a writer is there
    finally:
        close.set()
        thread.join(60)
    assert store_db.yield_to_writers(operation, longest=0) is False


def test_a_batch_that_runs_long_ends_early_and_the_rest_follows(app, installation, channel_cases, monkeypatch):
    """A busy machine can make a batch of BATCH cases hold the write lock for seconds: a batch also ends
    once it has run progress.BATCH_SECONDS (here none: every batch then ends after its first case), and
    every case is still shared exactly once."""
    ana, cat = channel_cases
    monkeypatch.setattr(progress, "BATCH_SECONDS", 0.0)
    with traced() as trace:
        assert grant(ana, installation.officer).status_code == 200
    batches = [t for t in trace.transactions() if written_into(t, "audit_log")
               and any("long_operations" in sql for sql in t)]
    assert [written_into(t, "case_keys") for t in batches] == [1] * CASES
    assert sorted(grant_entries(installation.data_dir)) == sorted(
        link.rsplit("/", 1)[1] for link in case_links(ana.get("/console/").text))
    assert run_cli(installation.data_dir, "audit", "verify").exit_code == 0

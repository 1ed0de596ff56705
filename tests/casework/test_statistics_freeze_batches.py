"""A period's first view freezes it in bounded batches (issue 23, review H1): at most FREEZE_ROWS rows
of its list of cases per write transaction, the figures last in a transaction of their own, so the
first view of a year of many cases never holds the write lock for long; a freeze stopped part way is
never shown, and the next view finishes it writing only the rows still missing."""
from __future__ import annotations

import sqlite3

import pytest

from portal.casework import statistics_snapshots
from portal.core.context import open_context
from tests.casework.test_statistics_frozen import FY, Q1, _disclosures, _officer, _verify
from tests.support.tracing import traced, written_into
from tests.support.workflow import today  # noqa: F401

CASES = 7
ROWS = 3


def _rows_written(trace) -> list[int]:
    """Rows of a case list written by each write transaction that writes any."""
    counts = [written_into(t, "statistics_snapshot_cases") for t in trace.transactions()]
    return [n for n in counts if n]


def _kept(data_dir) -> tuple[int, int]:
    db = open_context(data_dir).db
    return (db.execute("SELECT COUNT(*) FROM statistics_snapshots").fetchone()[0],
            db.execute("SELECT COUNT(*) FROM statistics_snapshot_cases").fetchone()[0])


def test_the_first_view_freezes_a_bounded_number_of_rows_per_transaction(
        app, installation, today, monkeypatch):  # noqa: F811
    monkeypatch.setattr(statistics_snapshots, "FREEZE_ROWS", ROWS)
    today.set("2026-02-02")
    _disclosures(app, CASES - 2)
    _disclosures(app, 2, "offence")
    today.set("2026-07-02")
    officer = _officer(app, installation)
    with traced() as trace:
        page = officer.get(f"/console/statistics?{FY}")
    assert page.status_code == 200
    assert _rows_written(trace) == [3, 3, 1]  # Q1's 7 cases; the other quarters have none
    for statements in trace.transactions():
        if written_into(statements, "statistics_snapshots"):
            assert written_into(statements, "statistics_snapshot_cases") == 0
            assert written_into(statements, "statistics_snapshots") == 1
    assert _kept(installation.data_dir) == (5, CASES)  # four quarters and the year
    batched = [officer.get(f"/console/statistics.csv?{p}").text for p in (Q1, FY)]
    assert f"status,received,{CASES}" in batched[0] and "category,offence,<5" in batched[0]
    assert _verify(installation.data_dir).exit_code == 0
    # The same figures as a freeze in one batch (as before issue 23's fix) gives.
    db = sqlite3.connect(installation.data_dir / "portal.db")
    with db:
        db.execute("DELETE FROM statistics_snapshot_cases")
        db.execute("DELETE FROM statistics_snapshots")
    db.close()
    monkeypatch.setattr(statistics_snapshots, "FREEZE_ROWS", 10**6)
    assert [officer.get(f"/console/statistics.csv?{p}").text for p in (Q1, FY)] == batched


def test_a_freeze_stopped_part_way_is_not_shown_and_the_next_view_finishes_it(
        app, installation, today, monkeypatch):  # noqa: F811
    monkeypatch.setattr(statistics_snapshots, "FREEZE_ROWS", ROWS)
    today.set("2026-02-02")
    _disclosures(app, CASES)
    today.set("2026-04-02")
    officer = _officer(app, installation)

    def stopped(db, longest=None):
        raise RuntimeError("the process was stopped")

    with monkeypatch.context() as m:
        m.setattr(statistics_snapshots, "yield_to_writers", stopped)  # after the first batch
        with pytest.raises(RuntimeError):
            officer.get(f"/console/statistics?{Q1}")
    assert _kept(installation.data_dir) == (0, ROWS)  # no figures: nothing half frozen is shown
    assert _verify(installation.data_dir).exit_code == 0
    with traced() as trace:
        csv = officer.get(f"/console/statistics.csv?{Q1}")
    assert csv.status_code == 200 and f"cases_received,,{CASES}" in csv.text, csv.text
    assert _rows_written(trace) == [3, 1]  # only the rows still missing
    assert _kept(installation.data_dir) == (1, CASES)
    assert officer.get(f"/console/statistics.csv?{Q1}").text == csv.text
    assert _verify(installation.data_dir).exit_code == 0

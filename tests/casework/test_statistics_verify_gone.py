"""`portal audit verify` accepts a frozen period's list of cases shorter than when frozen only where the
audit log records those cases leaving (issue 23, review M1): retention's 'case_deleted' and a move's
'case_moved_out' name the case's received day, so a row deleted by hand (to hide altered figures
from the rebuild) is named, and a case deleted by retention is not."""
from __future__ import annotations

import sqlite3

from tests.casework.test_statistics_frozen import (
    FY,
    Q1,
    _disclosures,
    _officer,
    _verify,
    frozen_quarter,
)
from tests.conftest import run_cli
from tests.operations.test_retention import cara, case_ref_for, close_case, confirm, post  # noqa: F401
from tests.support.console import sign_in
from tests.support.workflow import today  # noqa: F401


def _db(installation):
    return sqlite3.connect(installation.data_dir / "portal.db")


def test_a_covered_case_removed_by_hand_is_named_even_with_altered_figures(app, installation, today):  # noqa: F811
    today.set("2026-02-02")
    _disclosures(app, 7)
    _disclosures(app, 2, "offence")
    today.set("2026-07-02")
    assert _officer(app, installation).get(f"/console/statistics?{FY}").status_code == 200
    assert _verify(installation.data_dir).exit_code == 0
    db = _db(installation)
    with db:
        db.execute("UPDATE statistics_snapshots SET report = replace(report, '\"9\"', '\"10\"')"
                   " WHERE period_start = '2026-01-01'")
        db.execute("DELETE FROM statistics_snapshot_cases WHERE case_id = (SELECT MIN(case_id)"
                   " FROM statistics_snapshot_cases WHERE period_start = '2026-01-01')")
    db.close()
    result = _verify(installation.data_dir)
    assert result.exit_code == 1, result.output
    assert "cover 8 cases, not the 9" in result.output  # the year, or its quarter


def test_a_case_added_to_a_frozen_list_is_named(app, installation, today):  # noqa: F811
    frozen_quarter(app, installation, today)
    db = _db(installation)
    with db:
        db.execute("UPDATE statistics_snapshots SET covered = covered - 1")
    db.close()
    result = _verify(installation.data_dir)
    assert result.exit_code == 1 and "cover 6 cases, not the 5" in result.output, result.output


def test_a_case_deleted_by_retention_leaves_its_frozen_period_as_published(
        app, installation, cara, today):  # noqa: F811
    ana, first = frozen_quarter(app, installation, today)
    ref = case_ref_for(installation.data_dir, 0)
    run_cli(installation.data_dir, "channel", "retention", "Audit and Risk", "--months", "1")
    close_case(ana, ref)
    today.set("2026-06-02")
    assert post(ana, f"/console/retention/{ref}/request").status_code == 303
    second = app.test_client()
    sign_in(second, cara)
    assert confirm(second, ref, cara).status_code in (200, 303)
    db = _db(installation)
    assert db.execute("SELECT COUNT(*) FROM cases").fetchone()[0] == 5
    assert db.execute("SELECT COUNT(*) FROM statistics_snapshot_cases").fetchone()[0] == 5
    [detail] = db.execute("SELECT detail FROM audit_log WHERE event = 'case_deleted'").fetchone()
    assert '"received_day":"2026-02-02"' in detail
    db.close()
    assert ana.get(f"/console/statistics.csv?{Q1}").text == first  # as published
    result = _verify(installation.data_dir)
    assert result.exit_code == 0, result.output

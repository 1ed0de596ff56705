"""Building the digests costs statements in proportion to the officers told, not to the cases waiting
for them (issue 23): the unseen counts are kept per officer by triggers (migration 17)."""
from __future__ import annotations

import datetime as dt

from portal.core.context import open_context
from portal.operations import notifications
from tests.support import database
from tests.support.workflow import disclose_to, today  # noqa: F401


def _statements_to_build(data_dir) -> tuple[int, list]:
    ctx = open_context(data_dir)
    statements: list[str] = []
    database.on_each_statement(ctx.db, statements.append)
    # 07:30:01 on 2 March 2026 in Pacific/Auckland (UTC+13): the default digest time
    digests = notifications.due_digests(ctx, dt.datetime(2026, 3, 1, 18, 30, 1, tzinfo=dt.timezone.utc))
    database.on_each_statement(ctx.db, None)
    return len(statements), digests


def test_building_the_digests_runs_the_same_statements_for_2_or_12_unseen_cases(app, installation, today):
    today.set("2026-03-02")
    for _ in range(2):
        disclose_to(app.test_client())
    few, digests = _statements_to_build(installation.data_dir)
    assert [d.kinds for d in digests] == [["new"], []]  # every officer: Ben has nothing waiting
    for _ in range(10):
        disclose_to(app.test_client(), details="Another one.")
    many, digests = _statements_to_build(installation.data_dir)
    assert [d.kinds for d in digests] == [["new"], []]  # every officer: Ben has nothing waiting
    officers = open_context(installation.data_dir).db.execute(
        "SELECT COUNT(*) FROM accounts WHERE role = 'officer'").fetchone()[0]
    assert few == many <= 1 + 5 * officers, (few, many)


def test_the_kept_unseen_counts_follow_the_queue(app, installation, today):
    """What the triggers keep equals what the queue holds, after disclosures and a view."""
    from tests.support.console import case_links, sign_in

    today.set("2026-03-02")
    for _ in range(3):
        disclose_to(app.test_client())
    officer = app.test_client()
    assert sign_in(officer, installation.officer).status_code == 303
    officer.get(case_links(officer.get("/console/").text)[0])
    ctx = open_context(installation.data_dir)
    kept = dict(ctx.db.execute(
        "SELECT account_id, unseen_new + unseen_message + unseen_other FROM digest_waiting").fetchall())
    counted = dict(ctx.db.execute(
        "SELECT account_id, SUM(CASE WHEN seen = 0 THEN 1 ELSE 0 END) FROM case_queue GROUP BY account_id").fetchall())
    assert kept == counted and list(kept.values()) == [2]

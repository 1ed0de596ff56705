"""Frozen statistics: each completed period's figures, computed once per officer and kept
(portal.casework.statistics, SECURITY.md "Statistics").

A period is given only once it has ended (issue 26: figures of an unfinished quarter, compared from
one day to the next, tell what the newest case alleges). Its first view after the end computes the
figures as the cases stood on its last day and keeps them as shown (small counts already hidden),
with the list of cases they cover; every later view reads them back, in a fixed number of statements
whatever the number of cases. A financial year is built from its four quarters' frozen case lists.
Freezing never holds the write lock for long (issue 23): the list is written FREEZE_ROWS rows a
transaction, the figures last.

`verify` rebuilds every frozen period from the cases it covers and names the ones that differ
(`portal audit verify` runs it): drift between what was published and what the records support,
and a list of cases shorter than the audit log's deletions explain.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter

from portal.casework import statistics, statistics_source
from portal.casework.statistics_periods import Period, parse_period
from portal.core.context import Context
from portal.store import transaction
from portal.store.db import yield_to_writers

# At most this many rows of a period's case list per write transaction while it freezes: the
# first view of a year of 20,000 cases never holds the write lock for long (issue 23).
FREEZE_ROWS = 500


class PeriodNotEnded(Exception):
    """Statistics of a period that has not ended are not given; the message says when they are."""

    def __init__(self, period: Period) -> None:
        self.period = period
        super().__init__(
            f"{period.label} has not ended yet. Its statistics are given from "
            f"{period.end + dt.timedelta(days=1):%-d %B %Y}, so that figures cannot be compared "
            "from one day to the next to tell what a new disclosure is about. Choose a period "
            "that has ended."
        )


def report(ctx: Context, account_id: int, private_key: bytes, period: Period, today: dt.date):
    """The frozen statistics of a completed period for this officer (frozen now if this is their
    first view of it). Raises PeriodNotEnded when `today` is not after its last day, and
    workdays.UnknownYear when a deadline lies beyond the working-day table."""
    if today <= period.end:
        raise PeriodNotEnded(period)
    stored = _load(ctx, account_id, period)
    return stored if stored is not None else _freeze(ctx, account_id, private_key, period)


def _freeze(ctx: Context, account_id: int, private_key: bytes, period: Period):
    """Figures computed outside any write transaction (the period has ended); the cases it covers
    written FREEZE_ROWS a transaction, the figures last in a short one of their own. Until then the
    period is not shown; a period left half frozen (a stopped process) is finished at the next view,
    which writes only the rows still missing."""
    quarters = [_quarter(ctx, account_id, private_key, q) for q in period.quarters]
    if period.quarters:
        ids = [case_id for q in period.quarters for case_id in _case_ids(ctx, account_id, q)]
    else:
        ids = statistics_source.readable_case_ids(ctx, account_id, period.start, period.end)
        statistics_source.record_sealed_categories(ctx, account_id, private_key, ids)
        _write_case_list(ctx, account_id, period, ids)
    cases = statistics_source.cases_as_of(ctx, ids, period.end)
    result = statistics.build(
        cases, statistics_source.channel_names(ctx, account_id), period, quarters
    )
    with transaction(ctx.db):
        stored = _load(ctx, account_id, period)  # another view may have frozen it meanwhile
        if stored is not None:
            return stored
        ctx.db.execute(
            "INSERT INTO statistics_snapshots (account_id, period_start, period_end, report,"
            " covered) VALUES (?, ?, ?, ?, ?)",
            [account_id, period.start.isoformat(), period.end.isoformat(), _to_json(result),
             len(ids)],
        )
    return result


def _write_case_list(ctx: Context, account_id: int, period: Period, ids: list[str]) -> None:
    """The quarter's list of cases as `ids`, in transactions of at most FREEZE_ROWS rows, keeping
    the rows a stopped freeze already wrote (and dropping any it wrote that `ids` lacks)."""
    start = period.start.isoformat()
    kept = set(_case_ids(ctx, account_id, period))
    wanted = set(ids)
    stale = sorted(kept - wanted)
    missing = [case_id for case_id in ids if case_id not in kept]
    for first in range(0, len(stale), FREEZE_ROWS):
        with transaction(ctx.db):
            ctx.db.conn.executemany(
                "DELETE FROM statistics_snapshot_cases WHERE account_id = ? AND period_start = ?"
                " AND case_id = ?",
                [(account_id, start, case_id) for case_id in stale[first : first + FREEZE_ROWS]],
            )
    for first in range(0, len(missing), FREEZE_ROWS):
        if first:
            yield_to_writers(ctx.db)
        with transaction(ctx.db):
            ctx.db.conn.executemany(
                "INSERT OR IGNORE INTO statistics_snapshot_cases (account_id, period_start,"
                " case_id) VALUES (?, ?, ?)",
                [(account_id, start, case_id) for case_id in missing[first : first + FREEZE_ROWS]],
            )


def _quarter(ctx: Context, account_id: int, private_key: bytes, quarter: Period):
    stored = _load(ctx, account_id, quarter)
    return stored if stored is not None else _freeze(ctx, account_id, private_key, quarter)


def _load(ctx: Context, account_id: int, period: Period):
    row = ctx.db.execute(
        "SELECT report FROM statistics_snapshots WHERE account_id = ? AND period_start = ?"
        " AND period_end = ?",
        [account_id, period.start.isoformat(), period.end.isoformat()],
    ).fetchone()
    return None if row is None else _from_json(period, row[0])


def _case_ids(ctx: Context, account_id: int, quarter: Period) -> list[str]:
    return [
        row[0]
        for row in ctx.db.execute(
            "SELECT case_id FROM statistics_snapshot_cases WHERE account_id = ? AND"
            " period_start = ?",
            [account_id, quarter.start.isoformat()],
        )
    ]


def _to_json(result) -> str:
    return json.dumps(
        {
            "cases": result.cases,
            "tables": [[t.key, t.title, t.cells, t.total] for t in result.tables],
            "medians": result.medians,
        },
        separators=(",", ":"),
    )


def _from_json(period: Period, text: str):
    data = json.loads(text)
    return statistics.Report(
        period,
        data["cases"],
        [
            statistics.Table(key, title, [tuple(cell) for cell in cells], total)
            for key, title, cells, total in data["tables"]
        ],
        [tuple(median) for median in data["medians"]],
    )


def verify(ctx: Context) -> list[str]:
    """Rebuild every frozen period from the cases it covers, as they stood at its end, and name each
    one whose kept figures differ. A period some of whose cases have since left (retention's
    'case_deleted', a move's 'case_moved_out', each naming the case's received day) cannot be
    rebuilt and is left as published; a list of cases shorter than the audit log explains, or
    longer than when frozen, is named."""
    gone = _gone_by_quarter(ctx)
    problems = []
    for account_id, start, end, kept, covered in ctx.db.execute(
        "SELECT account_id, period_start, period_end, report, covered FROM statistics_snapshots"
        " ORDER BY account_id, period_start, period_end"
    ).fetchall():
        period = parse_period(start, end)
        rebuilt = _rebuild(ctx, account_id, period, _from_json(period, kept), covered, gone)
        if isinstance(rebuilt, str):
            problems.append(rebuilt)
        elif rebuilt is not None and _to_json(rebuilt) != kept:
            problems.append(
                f"The statistics kept for {period.label} (officer {account_id}) differ from what "
                "the case records support: they were altered, or the records were."
            )
    return problems


def _gone_by_quarter(ctx: Context) -> Counter:
    """How many cases the audit log records as gone, by the first day of the quarter they were
    received in; under None those whose entry names no received day (made before issue 23's
    fix), which may have been in any period."""
    gone: Counter = Counter()
    for (detail,) in ctx.db.execute(
        "SELECT detail FROM audit_log WHERE event IN ('case_deleted', 'case_moved_out')"
    ):
        day = json.loads(detail or "{}").get("received_day")
        if day is None:
            gone[None] += 1
        else:
            received = dt.date.fromisoformat(day)
            gone[dt.date(received.year, 3 * ((received.month - 1) // 3) + 1, 1)] += 1
    return gone


def _rebuild(ctx: Context, account_id: int, period: Period, kept, covered: int, gone: Counter):
    channels = next((
        [value for value, _, _ in table.cells] for table in kept.tables if table.key == "channel"
    ), [])
    periods = period.quarters or (period,)
    ids = [case_id for p in periods for case_id in _case_ids(ctx, account_id, p)]
    missing = covered - len(ids)
    if missing:
        explained = gone[None] + sum(gone[p.start] for p in periods)
        if not 0 < missing <= explained:
            return (
                f"The statistics kept for {period.label} (officer {account_id}) cover"
                f" {len(ids)} cases, not the {covered} they were frozen with, and the audit log"
                " records no such deletion: their list of cases was altered."
            )
        return None  # retention has deleted some of its cases since
    quarters = []
    for quarter in period.quarters:
        row = ctx.db.execute(
            "SELECT report, covered FROM statistics_snapshots WHERE account_id = ? AND"
            " period_start = ? AND period_end = ?",
            [account_id, quarter.start.isoformat(), quarter.end.isoformat()],
        ).fetchone()
        if row is None:
            return statistics.Report(period, "")  # a year without its quarters: altered
        rebuilt = _rebuild(ctx, account_id, quarter, _from_json(quarter, row[0]), row[1], gone)
        if not isinstance(rebuilt, statistics.Report):
            return rebuilt  # the quarter's own check names it
        quarters.append(rebuilt)
    cases = statistics_source.cases_as_of(ctx, ids, period.end)
    return statistics.build(cases, channels, period, quarters)

"""Statistics without content, for annual reporting (s 33 of the Protected Disclosures (Protection
of Whistleblowers) Act 2022 asks public sector organisations to publish how many disclosures they
received and dealt with) and the Public Service Commission's model standards.

Counts by channel, category, status, outcome and regime, how many met each deadline, and the median
working days to acknowledge and to respond, for one fixed period: a quarter or a New Zealand
financial year (1 July to 30 June), so that overlapping periods of any length cannot be subtracted
from each other. Small numbers could point at a person, so (SECURITY.md, "Statistics"):

- a count from 1 to 4 is shown as "<5" (primary suppression);
- when the shown cells and the total would let someone work out a hidden cell, the next smallest
  cell is hidden too (secondary suppression, shown as "suppressed"), and when nothing is left to
  hide, the total;
- with the total hidden, no count from 5 up is shown in any breakdown (each adds up to the total);
- a financial year's count is shown only where each of its quarters shows its own;
- a median of fewer than five cases is not shown.

An officer's statistics cover the cases they hold a key for, as those cases stood at the end of the
period (portal.casework.statistics_source: what the portal keeps in the clear, no key opened). Only
completed periods are given, each frozen once (portal.casework.statistics_snapshots), so that
figures cannot be compared from one day to the next to tell what the newest case alleges.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from portal.casework import deadlines
from portal.casework.categories import CATEGORIES, FORMER_CATEGORIES
from portal.casework.statistics_periods import Period
from portal.casework.statistics_source import Case
from portal.casework.statistics_suppression import (
    LESS_THAN,
    SMALL,
    SUPPRESSED,
    is_count,
    show_total,
    shown_median,
    suppress,
)
from portal.core import workdays
from portal.core.words import N_
from portal.records.casefiles import OFFICER_STATUSES

OUTCOMES: dict[str, str] = {
    "addressed": N_("Addressed: action taken or recommended"),
    "referred": N_("Referred to an appropriate authority (s 16)"),
    "no_further_action": N_("No further action (s 15)"),
    "none_yet": N_("No outcome yet"),
}
DEADLINE_RESULTS: dict[str, str] = {
    "met": N_("Met"),
    "missed": N_("Missed"),
    "pending": N_("Not yet due"),
}
REGIMES: dict[str, str] = {
    "nz": N_("New Zealand (2022 Act, s 13)"),
    "eu": N_("European Union (Directive 2019/1937)"),
}


@dataclass
class Table:
    """One breakdown of the period's cases: each cell shown as a number, "<5" or "suppressed"."""

    key: str
    title: str
    cells: list[tuple[str, str, str]]  # (machine value, label, shown count)
    total: str


@dataclass
class Report:
    period: Period
    cases: str  # the number of cases received in the period, as shown
    tables: list[Table] = field(default_factory=list)
    medians: list[tuple[str, str, str]] = field(default_factory=list)  # (key, label, shown value)


def _deadline_result(done: dt.date | None, due: dt.date, today: dt.date) -> str:
    if done is not None:
        return "met" if done <= due else "missed"
    return "missed" if today > due else "pending"


def _acknowledge_result(case: Case, today: dt.date) -> str:
    due = (
        deadlines.acknowledge_by(case.received)
        if case.regime == "eu"
        else deadlines.respond_by(case.received)
    )
    return _deadline_result(case.steps.get("acknowledge"), due, today)


def _respond_result(case: Case, today: dt.date) -> str:
    """nz: every s 13(1) step within 20 working days (the first three only, after an s 13(2)
    extension); eu: feedback (the `inform` step) within 3 months (Art 9(1)(f))."""
    if case.regime == "eu":
        return _deadline_result(
            case.steps.get("inform"),
            deadlines.feedback_by(case.received, case.steps.get("acknowledge")),
            today,
        )
    required = deadlines.FIRST_STEPS if case.extended else deadlines.STEPS
    days = [case.steps.get(step) for step in required]
    return _deadline_result(
        None if None in days else max(days), deadlines.respond_by(case.received), today
    )


def build(
    cases: list[Case], channels: list[str], period: Period, quarters: list[Report] = ()
) -> Report:
    """The period's statistics over these cases as they stood at its end (statistics_source),
    with a row for each of `channels`. A financial year is the sum of its `quarters`, which are
    published too, so a year's cell is shown only where each quarter shows its own: otherwise the
    year minus the quarters shown would give a hidden one."""
    result = _report(cases, channels, period, period.end)
    if quarters:
        _hide_what_quarters_hide(result, list(quarters))
    return result


def _hide_what_quarters_hide(year: Report, quarters: list[Report]) -> None:
    if not all(is_count(q.cases) for q in quarters):
        year.cases = LESS_THAN if year.cases == LESS_THAN else SUPPRESSED
    for i, table in enumerate(year.tables):
        by_quarter = [{value: shown for value, _, shown in q.tables[i].cells} for q in quarters]
        table.cells = [
            (
                value,
                label,
                (
                    shown
                    if shown == "0" or all(is_count(q.get(value, "0")) for q in by_quarter)
                    else SUPPRESSED
                ),
            )
            for value, label, shown in table.cells
        ]
        table.total = year.cases
    if not is_count(year.cases):
        _hide_counts_that_add_up_to_the_total(year.tables)


def _hide_counts_that_add_up_to_the_total(tables: list[Table]) -> None:
    """With the total hidden, a breakdown whose cells are all shown would give it back: so no cell
    from 5 up is shown (each breakdown adds up to the same total)."""
    for table in tables:
        table.cells = [
            (value, label, SUPPRESSED if is_count(shown) and int(shown) >= SMALL else shown)
            for value, label, shown in table.cells
        ]


def _report(cases: list[Case], channels: list[str], period: Period, today: dt.date) -> Report:
    total = len(cases)
    categories = {
        **CATEGORIES,
        **{k: v for k, v in FORMER_CATEGORIES.items() if any(c.category == k for c in cases)},
    }
    if any(c.category not in categories for c in cases):
        categories[""] = N_("Not recorded")
    channels = sorted({c.channel for c in cases} | set(channels))
    breakdowns = [
        ("channel", N_("By channel"), {name: name for name in channels}, lambda c: c.channel),
        (
            "category",
            N_("By category of wrongdoing (s 10)"),
            categories,
            lambda c: c.category if c.category in categories else "",
        ),
        ("status", N_("By status at the end of the period"), OFFICER_STATUSES, lambda c: c.status),
        ("outcome", N_("By outcome"), OUTCOMES, lambda c: c.outcome),
        ("regime", N_("By statutory regime"), REGIMES, lambda c: c.regime),
        (
            "acknowledged_in_time",
            N_("Acknowledged in time"),
            DEADLINE_RESULTS,
            lambda c: _acknowledge_result(c, today),
        ),
        (
            "responded_in_time",
            N_("Dealt with and the discloser informed in time"),
            DEADLINE_RESULTS,
            lambda c: _respond_result(c, today),
        ),
    ]
    tables, hide_total = [], False
    for key, title, labels, value_of in breakdowns:
        counts = {value: 0 for value in labels}
        for case in cases:
            counts[value_of(case)] = counts.get(value_of(case), 0) + 1
        shown, hide = suppress(counts, total)
        hide_total = hide_total or hide
        tables.append(
            Table(
                key,
                title,
                [(value, labels.get(value, value), shown[value]) for value in counts],
                "",
            )
        )
    # Every breakdown adds up to the same total: hidden in one, hidden in all.
    shown_total = show_total(total, hide_total)
    for table in tables:
        table.total = shown_total
    if hide_total:
        _hide_counts_that_add_up_to_the_total(tables)
    to_acknowledge = [
        workdays.working_days_between(c.received, c.steps["acknowledge"])
        for c in cases
        if "acknowledge" in c.steps
    ]
    to_respond = [
        workdays.working_days_between(c.received, c.steps["inform"])
        for c in cases
        if "inform" in c.steps
    ]
    medians = [
        (
            "median_working_days_to_acknowledge",
            N_("Median working days to acknowledge"),
            shown_median(to_acknowledge),
        ),
        (
            "median_working_days_to_respond",
            N_("Median working days to inform the discloser what is being done"),
            shown_median(to_respond),
        ),
    ]
    return Report(period, shown_total, tables, medians)


def csv_rows(result: Report) -> list[list[str]]:
    """The report as CSV rows: period_from, period_to, measure, value, count."""
    start, end = result.period.start.isoformat(), result.period.end.isoformat()
    rows = [
        ["period_from", "period_to", "measure", "value", "count"],
        [start, end, "cases_received", "", result.cases],
    ]
    for table in result.tables:
        rows += [[start, end, table.key, value, shown] for value, _, shown in table.cells]
        rows.append([start, end, table.key, "total", table.total])
    rows += [[start, end, key, "", shown] for key, _, shown in result.medians]
    return rows

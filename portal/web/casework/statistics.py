"""Statistics without content (portal.casework.statistics): a console page and a CSV export, for
fixed periods."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, g, render_template, request
from flask_babel import format_date, gettext

from portal.casework import statistics, statistics_periods, statistics_snapshots
from portal.core import clock, workdays
from portal.core.words import N_
from portal.records import audit
from portal.web.console_session import signed_in
from portal.web.context import portal_context
from portal.web.csv_export import csv_download
from portal.web.languages import day_words, said

bp = Blueprint("statistics", __name__, url_prefix="/console")

# The first column's heading of each table, by its key (statistics.Table.key); "" for the others.
COLUMNS = {
    "": N_("Result"),
    "channel": N_("Channel"),
    "category": N_("Category of wrongdoing (s 10)"),
    "status": N_("Status at the end of the period"),
    "outcome": N_("Outcome"),
    "regime": N_("Statutory regime"),
}


def period_words(period: statistics_periods.Period) -> str:
    """A period as the page names it, in its language: "January–March 2026 (quarter 1 of 2026)",
    "Financial year 1 July 2025 to 30 June 2026" (the frozen figures keep no words of it)."""
    if period.quarters:
        return gettext(
            "Financial year %(first)s to %(last)s",
            first=day_words(period.start),
            last=day_words(period.end),
        )
    return gettext(
        "%(first)s–%(last)s %(year)s (quarter %(quarter)s of %(year)s)",
        first=format_date(period.start, "LLLL"),
        last=format_date(period.end, "LLLL"),
        year=period.start.year,
        quarter=(period.start.month + 2) // 3,
    )


def _today() -> dt.date:
    return dt.date.fromisoformat(clock.today(portal_context().settings.timezone))


def _period_and_problem():
    day = _today()
    if not request.args.get("from") and not request.args.get("to"):
        return statistics_periods.last_completed_quarter(day), None
    try:
        return (
            statistics_periods.parse_period(request.args.get("from"), request.args.get("to")),
            None,
        )
    except statistics_periods.PeriodError as exc:
        return None, said(exc)


def _report(ctx, period, day):
    """(the frozen report, None) or (None, a plain message why there is none)."""
    try:
        who = g.who
        return statistics_snapshots.report(ctx, who.account.id, who.private_key, period, day), None
    except statistics_snapshots.PeriodNotEnded as exc:
        return None, gettext(
            "%(period)s has not ended yet. Its statistics are given from %(day)s, so that figures"
            " cannot be compared from one day to the next to tell what a new disclosure is about."
            " Choose a period that has ended.",
            period=period_words(exc.period),
            day=day_words(exc.period.end + dt.timedelta(days=1)),
        )
    except workdays.UnknownYear as exc:
        return None, gettext("These statistics cannot be counted: %(why)s", why=said(exc))


@bp.get("/statistics")
@signed_in("officer")
def page():
    ctx = portal_context()
    day = _today()
    period, problem = _period_and_problem()
    result = None
    if period is not None:
        result, problem = _report(ctx, period, day)
    if result is not None:
        audit.record(
            ctx,
            "statistics_view",
            actor=g.who.account.id,
            detail={"from": period.start.isoformat(), "to": period.end.isoformat()},
        )
    return render_template(
        "casework/statistics.html",
        report=result,
        problem=problem,
        periods=statistics_periods.recent_periods(day),
        today=day,  # a period not over yet is marked in the list
        typed_from=request.args.get("from", ""),
        typed_to=request.args.get("to", ""),
        period_words=period_words,
        columns=COLUMNS,
    ), (400 if problem else 200)


@bp.get("/statistics.csv")
@signed_in("officer")
def export():
    ctx = portal_context()
    period, problem = _period_and_problem()
    if period is None:
        title = gettext("Choose a fixed period")
        return render_template("error.html", title=title, message=problem), 400
    result, problem = _report(ctx, period, _today())
    if result is None:
        title = gettext("Choose a period that has ended")
        return render_template("error.html", title=title, message=problem), 400
    audit.record(
        ctx,
        "statistics_export",
        actor=g.who.account.id,
        detail={"from": period.start.isoformat(), "to": period.end.isoformat()},
    )
    return csv_download(
        statistics.csv_rows(result),
        f"statistics-{period.start.isoformat()}-{period.end.isoformat()}.csv",
    )

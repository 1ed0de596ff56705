"""The statutory clock: which deadline comes next for a case, and when. Pure functions, no storage.

Two regimes, chosen per channel:

``nz`` — Protected Disclosures (Protection of Whistleblowers) Act 2022, s 13 (guidance: what a
receiver
    *should* do). Within 20 working days after the day the disclosure was received (the
    `legislation`
    calendar of portal.core.workdays) the receiver should acknowledge it, consider it, check whether
    it was
    made elsewhere, deal with it and inform the discloser. Where dealing with it in that time is not
    practicable (s 13(2)), the first three steps are still due at 20 working days; the receiver
    tells
    the discloser how long it expects to take and updates them on progress, here every
    `update_every`
    working days from the extension or from the last update.

``eu`` — Directive (EU) 2019/1937, Art 9(1)(b) and (f): acknowledgement within 7 days of receipt;
    feedback within 3 months of the acknowledgement or, when none was sent within those 7 days, of
    the
    end of the 7 days. Calendar months come from python-dateutil (31 January + 3 months = 30 April).
    A late acknowledgement does not move the feedback deadline later (our reading, on the side of
    the
    reporting person).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from dateutil.relativedelta import relativedelta

from portal.core import workdays

REGIMES = ("nz", "eu")
NZ_WORKING_DAYS = 20
EU_ACKNOWLEDGE_DAYS = 7
EU_FEEDBACK_MONTHS = 3

# The s 13(1) steps, in the Act's order: (a) acknowledge, (b) consider, (c) check, (d) deal, (e)
# inform.
STEPS = ("acknowledge", "consider", "check", "deal", "inform")
FIRST_STEPS = STEPS[:3]  # still due at 20 working days under s 13(2)
FINAL_STATUSES = ("addressed", "referred", "no_further_action", "closed")

DEADLINE_KINDS = ("respond", "acknowledge", "feedback", "update", "timeframe")
# cases.due_kind of a case whose next deadline lies past the working-day table (due_day NULL): the
# date of Matariki is fixed in law only to workdays.LAST_KNOWN_YEAR, so the day is never guessed.
UNKNOWN_KIND = "unknown"


@dataclass(frozen=True)
class Deadline:
    kind: str  # one of DEADLINE_KINDS
    day: dt.date | None  # None for "timeframe": due by the expected timeframe, which has no date


@dataclass(frozen=True)
class ClockState:
    """What the clock needs to know of a case (all dates in the installation's time zone)."""

    regime: str
    received: dt.date
    status: str
    steps: dict[str, dt.date]  # step -> day it was done
    extended_on: dt.date | None = None  # s 13(2) extension recorded on this day
    update_every: int = 0  # working days between progress updates
    last_update: dt.date | None = None  # the latest progress update given


def respond_by(received: dt.date) -> dt.date:
    """20 working days after the received day (that day not counted), s 13(1). Raises
    workdays.UnknownYear."""
    return workdays.add_working_days(received, NZ_WORKING_DAYS, "legislation")


def acknowledge_by(received: dt.date) -> dt.date:
    """EU Art 9(1)(b): 7 days after receipt."""
    return received + relativedelta(days=EU_ACKNOWLEDGE_DAYS)


def feedback_by(received: dt.date, acknowledged: dt.date | None) -> dt.date:
    """EU Art 9(1)(f): 3 calendar months from the acknowledgement, or from the end of the 7 days."""
    end_of_seven = acknowledge_by(received)
    start = (
        acknowledged if acknowledged is not None and acknowledged <= end_of_seven else end_of_seven
    )
    return start + relativedelta(months=EU_FEEDBACK_MONTHS)


def next_update_by(state: ClockState) -> dt.date | None:
    """s 13(2): the next progress update, `update_every` working days after the extension or last
    update."""
    if state.extended_on is None:
        return None
    since = max(d for d in (state.extended_on, state.last_update) if d is not None)
    return workdays.add_working_days(since, state.update_every, "legislation")


def next_deadline(state: ClockState) -> Deadline | None:
    """The next statutory deadline of the case, or None when every step it owes is done."""
    done = state.steps
    if state.regime == "eu":
        if "acknowledge" not in done:
            return Deadline("acknowledge", acknowledge_by(state.received))
        if "inform" not in done:
            return Deadline("feedback", feedback_by(state.received, done["acknowledge"]))
        return None
    if not all(step in done for step in FIRST_STEPS):
        return Deadline("respond", respond_by(state.received))
    if state.extended_on is not None:
        # s 13(2): dealing and informing follow the expected timeframe told to the discloser, which
        # has no date here (step_due_dates leaves them out too); until the outcome, updates are due.
        if state.status in FINAL_STATUSES:
            # Referred or decided: no more updates, but steps not yet recorded (informing the
            # discloser, s 13(1)(e)) are still owed, by the timeframe, which has no date.
            return None if all(step in done for step in STEPS) else Deadline("timeframe", None)
        return Deadline("update", next_update_by(state))
    if not all(step in done for step in STEPS):
        return Deadline("respond", respond_by(state.received))
    return None


def step_due_dates(state: ClockState) -> dict[str, dt.date]:
    """When each s 13(1) step is due under the case's regime (the EU regime times two of them)."""
    if state.regime == "eu":
        return {
            "acknowledge": acknowledge_by(state.received),
            "inform": feedback_by(state.received, state.steps.get("acknowledge")),
        }
    base = respond_by(state.received)
    due = {step: base for step in STEPS}
    if state.extended_on is not None:
        # s 13(2): dealing and informing follow the expected timeframe told to the discloser.
        del due["deal"], due["inform"]
    return due


def days_left(deadline: dt.date, today: dt.date, regime: str) -> tuple[int, int | None]:
    """(calendar days, working days or None for the EU regime) from today until the deadline;
    negative when overdue."""
    calendar_days = (deadline - today).days
    if regime == "eu":
        return calendar_days, None
    return calendar_days, workdays.working_days_between(today, deadline, "legislation")

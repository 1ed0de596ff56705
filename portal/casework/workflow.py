"""The statutory case workflow's storage: the s 13 steps done on a case, the statuses they map to,
the s 13(2) extension and its progress updates, and the case's next deadline, stored whenever one of
these changes so that lists read it instead of computing it per row (portal.casework.deadlines
computes it).

These functions trust their caller to have checked access (triage opens the case key first); they
run inside the caller's transaction.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

import crypto
from portal.casework import deadlines
from portal.core import workdays
from portal.core.context import Context
from portal.core.words import N_

# What each step of s 13(1) asks of the receiver, in the Act's order. s 13 is guidance: "should".
STEP_LABELS: dict[str, str] = {
    "acknowledge": N_(
        "Acknowledge to the discloser the date the disclosure was received (s 13(1)(a))"
    ),
    "consider": N_("Consider the disclosure and whether it warrants investigation (s 13(1)(b))"),
    "check": N_(
        "Check with the discloser whether it has been disclosed elsewhere, and any outcome (s"
        " 13(1)(c))"
    ),
    "deal": N_(
        "Deal with the matter: investigate, address it by acting or recommending action, refer it "
        "(s 16), or decide that no action is required (s 15) (s 13(1)(d))"
    ),
    "inform": (
        N_("Inform the discloser, with reasons, what has been done or is being done (s 13(1)(e))")
    ),
}

# The same steps as the discloser reads them on the status page.
STEP_DISCLOSER_LABELS: dict[str, str] = {
    "acknowledge": N_("Your disclosure was acknowledged"),
    "consider": N_("It was considered, including whether it needs an investigation"),
    "check": N_("The officers checked whether you had raised it anywhere else"),
    "deal": N_("A decision was made on how to deal with it"),
    "inform": N_("You were told, with reasons, what is being done"),
}

# Setting a status records only the steps that setting it does (s 13(1)). Deciding to investigate
# answers (b), whether the disclosure warrants investigation, and is one way of dealing with it
# (d)(i); acting or recommending action is (d)(ii); a referral (s 16) is (d)(iii); deciding that
# no action is required (s 15) is (d)(iv). None of them acknowledges the date received (a), which
# only acknowledging does, nor checks whether it was disclosed elsewhere (c); "assessing" says that
# considering has begun, not that it is done; "closed" says the dealing is finished without
# saying how. An outcome given with a reason also informs the discloser, who reads it on the status
# page (s 13(1)(e), and s 15(2) for no action); a referral's reason explains the referral, and the
# receiver still owes the discloser word of what it did. A step no status records stays owed on
# the case page until an officer records it.
STATUS_STEPS: dict[str, tuple[str, ...]] = {
    "received": (),
    "acknowledged": ("acknowledge",),
    "assessing": (),
    "investigating": ("consider", "deal"),
    "addressed": ("deal",),
    "referred": ("deal",),
    "no_further_action": ("deal",),
    "closed": (),
}
INFORMING_STATUSES = ("investigating", "addressed", "no_further_action", "closed")

# What each status means, for the discloser (shown on the status page, with the current one marked).
STATUS_MEANINGS: dict[str, str] = {
    "received": N_(
        "Your disclosure has arrived. An integrity officer should acknowledge it, and the date it"
        " was received, within 20 working days."
    ),
    "acknowledged": N_(
        "An integrity officer has acknowledged your disclosure and the date it was received."
    ),
    "assessing": N_(
        "The officers are considering your disclosure and whether it warrants an investigation."
    ),
    "investigating": N_("The matter is being investigated."),
    "addressed": N_(
        "The organisation has acted on the wrongdoing, or has recommended action to deal with it."
    ),
    "referred": N_(
        "Your disclosure has been passed to an appropriate authority better placed to deal with it "
        "(s 16). You are told which one, and why."
    ),
    "no_further_action": N_(
        "The officers decided that no action is required, and must tell you why (s 15)."
    ),
    "closed": N_("The officers have finished dealing with the matter."),
}


# The EU regime's words where they differ (Directive 2019/1937, Art 9(1)(b)).
STATUS_MEANINGS_EU: dict[str, str] = {
    **STATUS_MEANINGS,
    "received": N_(
        "Your report has arrived. The organisation should acknowledge it within 7 days."
    ),
    "referred": N_(
        "Your report has been passed to an authority better placed to deal with it. You are told"
        " which one, and why."
    ),
    "no_further_action": N_(
        "The officers decided that no action is required, and should tell you why."
    ),
}


def status_meanings(regime: str) -> dict[str, str]:
    """What each status means, in the words of the channel's regime ('nz' or 'eu')."""
    return STATUS_MEANINGS_EU if regime == "eu" else STATUS_MEANINGS


REGIME_NAMES: dict[str, str] = {
    "nz": N_("New Zealand: Protected Disclosures (Protection of Whistleblowers) Act 2022, s 13"),
    "eu": N_("European Union: Whistleblowing Directive (EU) 2019/1937, Art 9"),
}

UNKNOWN_DUE = deadlines.UNKNOWN_KIND

DEADLINE_NAMES: dict[str, str] = {
    "respond": N_(
        "Acknowledge, consider, check, deal with it and inform the discloser (20 working days, s"
        " 13(1))"
    ),
    "acknowledge": N_("Acknowledge receipt (7 days)"),
    "feedback": N_("Give the discloser feedback (3 months)"),
    "update": N_("Next progress update to the discloser (s 13(2))"),
    UNKNOWN_DUE: N_("Not known"),
}


class WorkflowError(ValueError):
    """A workflow action that cannot be taken; the message says why, for the officer."""


@dataclass
class StepRecord:
    step: str
    label: str
    day: str | None  # when it was done, or None
    due: str | None  # when it is due under the case's regime, or None


@dataclass
class Clock:
    """The case's clock for display: regime, steps with dates, the next deadline and the
    extension."""

    regime: str
    steps: list[StepRecord]
    deadline: deadlines.Deadline | None
    days_left: int | None
    working_days_left: int | None
    extended_on: str | None = None
    update_every: int | None = None
    expected_timeframe: str = ""
    updates: list[str] | None = None
    due_unknown: bool = False  # the next deadline lies past the working-day table: not counted


def _date(day: str | None) -> dt.date | None:
    return dt.date.fromisoformat(day) if day else None


def steps_done(ctx: Context, case_id: str) -> dict[str, str]:
    rows = ctx.db.execute(
        "SELECT step, day FROM case_steps WHERE case_id = ?", [case_id]
    ).fetchall()
    return dict(rows)


def mark_steps(
    ctx: Context, case_id: str, steps: tuple[str, ...] | list[str], day: str, account_id: int | None
) -> list[str]:
    """Record steps as done on `day` unless they already are; return the ones newly recorded."""
    done = steps_done(ctx, case_id)
    new = [step for step in steps if step not in done]
    for step in new:
        ctx.db.execute(
            "INSERT INTO case_steps (case_id, step, day, account_id) VALUES (?, ?, ?, ?)",
            [case_id, step, day, account_id],
        )
    return new


def steps_for_status(status: str, reason: str) -> tuple[str, ...]:
    steps = STATUS_STEPS.get(status, ())
    if status in INFORMING_STATUSES and reason:
        steps += ("inform",)
    return steps


def _extension_row(ctx: Context, case_id: str):
    return ctx.db.execute(
        "SELECT day, update_every, detail_ct FROM case_extensions WHERE case_id = ?", [case_id]
    ).fetchone()


def _update_days(ctx: Context, case_id: str) -> list[str]:
    return [
        r[0]
        for r in ctx.db.execute(
            "SELECT day FROM progress_updates WHERE case_id = ? ORDER BY seq", [case_id]
        ).fetchall()
    ]


def clock_state(ctx: Context, case_id: str) -> deadlines.ClockState:
    regime, received, status = ctx.db.execute(
        "SELECT ch.regime, c.received_day, c.status FROM cases c JOIN channels ch ON ch.id ="
        " c.channel_id WHERE c.id = ?",
        [case_id],
    ).fetchone()
    extension = _extension_row(ctx, case_id)
    updates = _update_days(ctx, case_id)
    return deadlines.ClockState(
        regime=regime,
        received=_date(received),
        status=status,
        steps={step: _date(day) for step, day in steps_done(ctx, case_id).items()},
        extended_on=_date(extension[0]) if extension else None,
        update_every=extension[1] if extension else 0,
        last_update=_date(updates[-1]) if updates else None,
    )


def refresh_due(ctx: Context, case_id: str) -> deadlines.Deadline | None:
    """Recompute the case's next deadline and store it (cases.due_day, cases.due_kind). A deadline
    the working-day table cannot count (past LAST_KNOWN_YEAR) is stored as kind UNKNOWN_DUE with no
    day, never guessed: the pages say so plainly (`due_unknown`)."""
    try:
        deadline = deadlines.next_deadline(clock_state(ctx, case_id))
    except workdays.UnknownYear:
        ctx.db.execute(
            "UPDATE cases SET due_day = NULL, due_kind = ? WHERE id = ?", [UNKNOWN_DUE, case_id]
        )
        return None
    ctx.db.execute(
        "UPDATE cases SET due_day = ?, due_kind = ? WHERE id = ?",
        [
            deadline.day.isoformat() if deadline and deadline.day else None,
            deadline.kind if deadline else None,
            case_id,
        ],
    )
    return deadline


def due_unknown(ctx: Context, case_id: str) -> bool:
    """Whether the case's next deadline lies where the working-day table cannot count it."""
    row = ctx.db.execute("SELECT due_kind FROM cases WHERE id = ?", [case_id]).fetchone()
    return row is not None and row[0] == UNKNOWN_DUE


def record_extension(
    ctx: Context,
    case_id: str,
    case_key: bytes,
    *,
    day: str,
    account_id: int,
    expected_timeframe: str,
    update_every: int,
) -> None:
    """s 13(2): record that dealing with it in 20 working days is not practicable, the expected
    timeframe (encrypted under the case key: the discloser reads it) and the rhythm of progress
    updates."""
    state = clock_state(ctx, case_id)
    if state.regime != "nz":
        raise WorkflowError(
            N_(
                "This channel follows the EU regime, whose 3-month feedback period has no "
                "extension like s 13(2)."
            )
        )
    if not expected_timeframe.strip():
        raise WorkflowError(N_("Tell the discloser how long you expect to take (s 13(2))."))
    if not 1 <= update_every <= 60:
        raise WorkflowError(N_("Progress updates should be due every 1 to 60 working days."))
    detail = crypto.encrypt_field(
        case_key,
        case_id,
        "extension",
        json.dumps({"expected_timeframe": expected_timeframe.strip()}).encode(),
    )
    ctx.db.execute(
        "INSERT INTO case_extensions (case_id, day, update_every, account_id, detail_ct) VALUES (?,"
        " ?, ?, ?, ?) ON CONFLICT (case_id) DO UPDATE SET update_every = excluded.update_every,"
        " detail_ct = excluded.detail_ct, account_id = excluded.account_id",
        [case_id, day, update_every, account_id, detail],
    )


def record_progress_update(ctx: Context, case_id: str, *, day: str, account_id: int) -> None:
    if _extension_row(ctx, case_id) is None:
        raise WorkflowError(
            N_("Progress updates belong to an extension under s 13(2); record one first.")
        )
    seq = ctx.db.execute(
        "SELECT COALESCE(MAX(seq), 0) + 1 FROM progress_updates WHERE case_id = ?", [case_id]
    ).fetchone()[0]
    ctx.db.execute(
        "INSERT INTO progress_updates (case_id, seq, day, account_id) VALUES (?, ?, ?, ?)",
        [case_id, seq, day, account_id],
    )


def expected_timeframe(ctx: Context, case_id: str, case_key: bytes) -> str:
    """The s 13(2) expected timeframe told to the discloser, or '' when there is no extension."""
    row = _extension_row(ctx, case_id)
    if row is None:
        return ""
    return json.loads(crypto.decrypt_field(case_key, case_id, "extension", row[2]))[
        "expected_timeframe"
    ]


def stored_due(ctx: Context, case_id: str) -> deadlines.Deadline | None:
    row = ctx.db.execute("SELECT due_kind, due_day FROM cases WHERE id = ?", [case_id]).fetchone()
    return deadlines.Deadline(row[0], _date(row[1])) if row and row[1] else None


def clock(ctx: Context, case_id: str, case_key: bytes, today: str) -> Clock:
    """The clock of one case for its page: every step with its date, and the next deadline with days
    left."""
    state = clock_state(ctx, case_id)
    try:
        due = deadlines.step_due_dates(state)
    except workdays.UnknownYear:
        due = {}  # beyond the working-day table: shown as not known (due_unknown), not guessed
    done = steps_done(ctx, case_id)
    steps = [
        StepRecord(
            step, STEP_LABELS[step], done.get(step), due[step].isoformat() if step in due else None
        )
        for step in deadlines.STEPS
    ]
    deadline = stored_due(ctx, case_id)
    left = working_left = None
    if deadline is not None:
        try:
            left, working_left = deadlines.days_left(deadline.day, _date(today), state.regime)
        except workdays.UnknownYear:  # today is past the table: calendar days only
            left = (deadline.day - _date(today)).days
    extension = _extension_row(ctx, case_id)
    return Clock(
        state.regime,
        steps,
        deadline,
        left,
        working_left,
        extended_on=extension[0] if extension else None,
        update_every=extension[1] if extension else None,
        expected_timeframe=expected_timeframe(ctx, case_id, case_key),
        updates=_update_days(ctx, case_id),
        due_unknown=due_unknown(ctx, case_id),
    )

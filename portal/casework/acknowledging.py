"""Acknowledging a new case in one step (s 13(1)(a)): the message to the discloser, the step and the
status 'acknowledged' are recorded together or not at all; and the message offered for editing."""

from __future__ import annotations

import datetime as dt

from portal.casework import workflow
from portal.casework.cases import open_case, record_status
from portal.casework.deadlines import FINAL_STATUSES
from portal.casework.triage import StatusError
from portal.core.clock import today
from portal.core.context import Context
from portal.core.words import N_, Sentence
from portal.guard import submissions
from portal.keys.officer_sessions import SignedIn
from portal.records import audit, case_history
from portal.store import transaction


def written_day(day: str) -> str:
    """'2026-12-07' -> '7 December 2026', as people write dates in New Zealand."""
    d = dt.date.fromisoformat(day)
    return f"{d.day} {d:%B %Y}"


def opening_message(
    received_day: str, regime: str, status: str = "received", day_words=written_day
) -> Sentence:
    """The acknowledgement offered to the officer to edit before sending (plain text; a Sentence
    the page says in its own language, `day_words` writing the day received). For a case already
    at a final status (deadlines.FINAL_STATUSES) it promises no consideration still to come: the
    decision is made, and the discloser's page gives it with its reason."""
    if regime == "eu":
        law = Sentence(N_("Directive (EU) 2019/1937 (Art 9)"))
    else:
        law = Sentence(
            N_("s 13(1)(a) of the Protected Disclosures (Protection of Whistleblowers) Act 2022")
        )
    if status in FINAL_STATUSES:
        then = N_(
            "We have already decided what happens to it: this page shows that decision and the"
            " reason for it. You can still write to us here at any time."
        )
    else:
        then = N_(
            "We will consider it, and tell you what we are doing about it and why. You can write"
            " to us here at any time, for example if you have raised it anywhere else."
        )
    return Sentence(
        N_(
            "Thank you for your disclosure. We received it on %(day)s, and this message"
            " acknowledges it under %(law)s.\n\n%(then)s"
        ),
        day=day_words(received_day),
        law=law,
        then=Sentence(then),
    )


def acknowledge(
    ctx: Context, who: SignedIn, ref: str, message: str, submission_token: str | None = None
) -> None:
    """Send `message` to the discloser, record s 13(1)(a) as done today and, for a case still
    'received', set the status 'acknowledged', in one transaction. Raises StatusError (nothing
    written) for an empty message or a case already acknowledged; submissions.AlreadySubmitted for
    the same form sent twice; cases.CaseNotFound."""
    if not message.strip():
        raise StatusError(N_("Write the message to the discloser first."))
    case, case_key = open_case(ctx, who, ref)
    day = today(ctx.settings.timezone)
    with transaction(ctx.db):
        submissions.claim(ctx.db, submission_token, day)
        if "acknowledge" in workflow.steps_done(ctx, case.id):
            raise StatusError(N_("This case is already acknowledged; send a reply instead."))
        case_history.insert_message(
            ctx, case.id, case_key, author="officer", account_id=who.account.id, day=day,
            body=message,
        )
        if case.status == "received":
            # The status records the step (workflow.STATUS_STEPS) and moves the clock on.
            record_status(ctx, case, case_key, who.account.id, "acknowledged", "")
        else:
            workflow.mark_steps(ctx, case.id, ["acknowledge"], day, who.account.id)
            audit.record(
                ctx, "step_done", actor=who.account.id, case_ref=case.ref,
                detail={"step": "acknowledge"},
            )
            workflow.refresh_due(ctx, case.id)

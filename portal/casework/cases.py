"""A case as its officer opens it: the case key from the officer's own sealed copy, and the status
record that moves the case on. The lowest rung of casework that the case actions build on.

Access is decided by key possession: anyone without a sealed copy of the case key gets CaseNotFound,
exactly as for a case that does not exist.
"""

from __future__ import annotations

from portal.casework import workflow
from portal.core.clock import today
from portal.core.context import Context
from portal.keys.officer_sessions import SignedIn
from portal.records import audit, case_history, casefiles
from portal.records.casefiles import CaseRecord


def open_case(ctx: Context, who: SignedIn, ref: str) -> tuple[CaseRecord, bytes]:
    """The case and its key, opened with the officer's own sealed copy. Raises CaseNotFound
    otherwise."""
    case = casefiles.get_case(ctx, ref=ref)
    return case, casefiles.open_case_key(ctx, case.id, f"account:{who.account.id}", who.private_key)


def record_status(
    ctx: Context,
    case: CaseRecord,
    case_key: bytes,
    account_id: int,
    status: str,
    reason: str,
    expected_timeframe: str = "",
    event: str = "status_change",
    referred_to: dict[str, str] | None = None,
) -> None:
    """Inside a transaction: a status record (case_history.insert_status: encrypted reason the
    discloser reads, audit entry `event`), the s 13 steps the status means were done, and the case's
    next deadline.
    """
    day = today(ctx.settings.timezone)
    case_history.insert_status(
        ctx,
        case.id,
        case_key,
        status=status,
        day=day,
        account_id=account_id,
        reason=reason,
        expected_timeframe=expected_timeframe,
        event=event,
        referred_to=referred_to,
    )
    for step in workflow.mark_steps(
        ctx, case.id, workflow.steps_for_status(status, reason), day, account_id
    ):
        audit.record(ctx, "step_done", actor=account_id, case_ref=case.ref, detail={"step": step})
    workflow.refresh_due(ctx, case.id)

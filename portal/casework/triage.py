"""The officers' side of a case: the inbox, reading a case, replying and setting status.

Access is decided by key possession: an officer can open a case only with their own sealed copy of
the case key (portal.casework.cases). Anyone else (an officer of another channel, an administrator)
gets CaseNotFound, exactly as for a case that does not exist.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Iterator

from portal.casework import (
    identity,
    oral,
    queue,
    queue_filters,
    workflow,
)
from portal.casework.cases import open_case, record_status
from portal.core.clock import today
from portal.core.context import Context
from portal.core.words import N_, Sentence
from portal.guard import submissions
from portal.keys.officer_sessions import SignedIn
from portal.records import audit, case_attachments, case_history, casefiles
from portal.records.casefiles import REASON_REQUIRED, STATUSES, Attachment, CaseRecord, StatusUpdate
from portal.store import transaction

CONTACT_WITHHELD = N_(
    "(Sealed apart: you do not hold this case's identity key. Ask an officer who does.)"
)


class StatusError(ValueError):
    """A status change that cannot be made; the message says why."""


def queue_page(ctx: Context, who: SignedIn, wanted: queue_filters.QueueFilter) -> queue.QueuePage:
    """A page of the officer's work queue (portal.casework.queue); decrypts only the rows shown,
    audits nothing."""
    return queue.page(ctx, who.account.id, who.private_key, wanted, today(ctx.settings.timezone))


@dataclass
class CaseView:
    case: CaseRecord
    fields: dict[str, str]
    attachments: list[Attachment]
    messages: list[casefiles.Message]
    readers: list[Reader]
    history: list[StatusUpdate]
    integrity_problems: list[str]
    clock: workflow.Clock
    earlier: int | None = None  # `before` of the earlier messages' page; None: all are shown


@dataclass(frozen=True)
class Reader:
    id: int
    name: str
    email: str


def reader_accounts(ctx: Context, case_id: str) -> list[Reader]:
    """The officers who hold a sealed copy of the case key, each with display name and email (names
    alone could hide a look-alike double)."""
    rows = ctx.db.execute(
        "SELECT a.id, a.name, a.email FROM case_keys k JOIN accounts a ON a.id = k.account_id "
        "WHERE k.case_id = ? ORDER BY a.name",
        [case_id],
    ).fetchall()
    return [Reader(*row) for row in rows]


def _account_in(ctx: Context, case_id: str, column: str) -> Reader | None:
    row = ctx.db.execute(
        f"SELECT a.id, a.name, a.email FROM cases c JOIN accounts a ON a.id = c.{column} "
        "WHERE c.id = ?",
        [case_id],
    ).fetchone()
    return Reader(*row) if row else None


def assignee(ctx: Context, case_id: str) -> Reader | None:
    return _account_in(ctx, case_id, "assigned_to")


def former_assignee(ctx: Context, case_id: str) -> Reader | None:
    """The officer the case was assigned to when they left (offboarded), until it is assigned
    again (portal.keys.access.offboard clears `assigned_to`); None otherwise."""
    return _account_in(ctx, case_id, "assigned_before")


def assign(
    ctx: Context,
    who: SignedIn,
    ref: str,
    officer_id: int | None,
    submission_token: str | None = None,
) -> None:
    """Assign the case to one of its readers, or to nobody (None). Raises StatusError for anyone
    else."""
    case, _ = open_case(ctx, who, ref)
    if officer_id is not None and officer_id not in {r.id for r in reader_accounts(ctx, case.id)}:
        raise StatusError(N_("A case can be assigned only to an officer who can read it."))
    with transaction(ctx.db):
        submissions.claim(ctx.db, submission_token, today(ctx.settings.timezone))
        ctx.db.execute(
            "UPDATE cases SET assigned_to = ?, assigned_before = NULL WHERE id = ?",
            [officer_id, case.id],
        )
        audit.record(ctx, "assignment", actor=who.account.id, case_ref=case.ref, subject=officer_id)


def read_case(
    ctx: Context, who: SignedIn, ref: str, *, audited: bool = True, whole_thread: bool = False
) -> CaseView:
    """The decrypted case with its latest page of messages (`whole_thread`: every message, for the
    record and the export); `audited`: record the view (False when re-showing it after a form
    error)."""
    case, case_key = open_case(ctx, who, ref)
    if audited:
        audit.record(ctx, "case_view", actor=who.account.id, case_ref=case.ref)
    queue.mark_seen(ctx, who.account.id, case.id)
    history = case_history.status_history(ctx, case.id, case_key)
    latest, problems = case_history.trusted_status(case, history)
    if latest is not None:
        case.status = latest.status
    if whole_thread:
        thread = case_history.MessagePage(
            case_history.read_messages(ctx, case.id, case_key), None, None, True
        )
    else:
        thread = case_history.read_message_page(ctx, case.id, case_key)
    messages = thread.messages
    problems += [
        Sentence(
            N_(
                "The message of %(day)s was changed outside the portal (its author or day was"
                " edited)."
            ),
            day=m.day,
        )
        for m in messages
        if m.verified is False
    ]
    fields = casefiles.read_fields(ctx, case.id, case_key)
    sealed_apart = identity.read_identity(ctx, case.id, who.account.id, who.private_key, fields)
    fields.update(
        sealed_apart
        if sealed_apart is not None
        else dict.fromkeys(identity.IDENTITY_FIELDS, CONTACT_WITHHELD)
    )
    return CaseView(
        case,
        fields,
        case_attachments.read_attachments(ctx, case.id, case_key),
        messages,
        reader_accounts(ctx, case.id),
        history,
        problems,
        workflow.clock(ctx, case.id, case_key, today(ctx.settings.timezone)),
        thread.earlier,
    )


def read_earlier_messages(
    ctx: Context, who: SignedIn, ref: str, before: int | None
) -> tuple[CaseRecord, case_history.MessagePage | None]:
    """A page of the case's earlier messages (those numbered below `before`), audited as a read;
    None without a page to show (`before` missing), once the officer is known to hold the case."""
    case, case_key = open_case(ctx, who, ref)
    if before is None or before < 1:
        return case, None
    audit.record(
        ctx, "case_view", actor=who.account.id, case_ref=case.ref, detail={"before": before}
    )
    return case, case_history.read_message_page(ctx, case.id, case_key, before)


def download(
    ctx: Context, who: SignedIn, ref: str, attachment_id: str
) -> tuple[Attachment, Iterator[bytes]]:
    case, case_key = open_case(ctx, who, ref)
    attachment, chunks = case_attachments.attachment_stream(
        ctx, case.id, case_key, attachment_id, whole=case.sealed_by == "browser"
    )
    if case.sealed_by == "browser":
        # Its size is the browser's word, sealed with it: the download's length is its bytes'.
        attachment = dataclasses.replace(attachment, size=None)
    audit.record(
        ctx,
        "download",
        actor=who.account.id,
        case_ref=case.ref,
        detail={"attachment_id": attachment_id},
    )
    return attachment, chunks


def reply(
    ctx: Context,
    who: SignedIn,
    ref: str,
    message: str,
    submission_token: str | None = None,
    progress_update: bool = False,
) -> None:
    """A message to the discloser, under the case key: the discloser's receipt key and every reader
    open it.

    With `progress_update`, it also counts as the s 13(2) progress update and moves the next one on.
    Raises submissions.AlreadySubmitted (nothing sent again) when the same form is sent twice, and
    workflow.WorkflowError when there is no extension to update on."""
    case, case_key = open_case(ctx, who, ref)
    day = today(ctx.settings.timezone)
    with transaction(ctx.db):
        submissions.claim(ctx.db, submission_token, today(ctx.settings.timezone))
        case_history.insert_message(
            ctx,
            case.id,
            case_key,
            author="officer",
            account_id=who.account.id,
            day=day,
            body=message,
        )
        if progress_update:
            workflow.record_progress_update(ctx, case.id, day=day, account_id=who.account.id)
            audit.record(ctx, "progress_update", actor=who.account.id, case_ref=case.ref)
            workflow.refresh_due(ctx, case.id)


def set_status(
    ctx: Context,
    who: SignedIn,
    ref: str,
    status: str,
    reason: str = "",
    expected_timeframe: str = "",
    submission_token: str | None = None,
) -> None:
    """Change the status (CONTRACT: POST /console/cases/<ref>/status). `referred` and
    `no_further_action` need a reason (s 15, s 16); the discloser sees the reason and expected
    timeframe. The status it already has, with the same reason and timeframe, is refused
    (StatusError). Raises StatusError, or submissions.AlreadySubmitted for a resent form."""
    if status not in STATUSES:
        raise StatusError(N_("Choose one of the listed statuses."))
    reason, expected_timeframe = reason.strip(), expected_timeframe.strip()
    if status in REASON_REQUIRED and not reason:
        raise StatusError(N_("Give the discloser a reason for this status."))
    case, case_key = open_case(ctx, who, ref)
    with transaction(ctx.db):
        submissions.claim(ctx.db, submission_token, today(ctx.settings.timezone))
        latest, _ = case_history.trusted_status(
            case, case_history.status_history(ctx, case.id, case_key)
        )
        if (
            latest is not None
            and latest.status == case.status == status
            and (latest.reason, latest.expected_timeframe) == (reason, expected_timeframe)
        ):
            # Recorded twice, it would read in the history as two decisions.
            raise StatusError(
                f"The case already has the status {casefiles.OFFICER_STATUSES[status]!r}, with"
                " that reason and timeframe: nothing was changed. To tell the discloser more, give"
                " a new reason or timeframe."
            )
        record_status(ctx, case, case_key, who.account.id, status, reason, expected_timeframe)


def complete_step(ctx: Context, who: SignedIn, ref: str, step: str) -> None:
    """Record one s 13(1) step as done today. Acknowledging a case still 'received' also sets
    'acknowledged'. Raises StatusError for an unknown step or one already done."""
    if step not in workflow.STEP_LABELS:
        raise StatusError(N_("Choose one of the listed steps."))
    case, case_key = open_case(ctx, who, ref)
    with transaction(ctx.db):
        if not _mark_step(ctx, case, case_key, who.account.id, step, today(ctx.settings.timezone)):
            raise StatusError(N_("That step is already recorded as done."))


def _mark_step(
    ctx: Context, case: CaseRecord, case_key: bytes, account_id: int, step: str, day: str
) -> bool:
    """Inside a transaction: record the step as done on `day` (audited) unless it already is, and
    move the case on: acknowledging one still 'received' sets 'acknowledged'; otherwise its next
    deadline. Returns whether the step was newly recorded."""
    if not workflow.mark_steps(ctx, case.id, [step], day, account_id):
        return False
    audit.record(ctx, "step_done", actor=account_id, case_ref=case.ref, detail={"step": step})
    if step == "acknowledge" and case.status == "received":
        record_status(ctx, case, case_key, account_id, "acknowledged", "")
    else:
        workflow.refresh_due(ctx, case.id)
    return True


def extend(
    ctx: Context,
    who: SignedIn,
    ref: str,
    expected_timeframe: str,
    update_every: int,
    submission_token: str | None = None,
) -> None:
    """s 13(2): dealing with the matter within 20 working days is not practicable. Records the
    expected timeframe (the discloser sees it) and how often progress updates are due. Raises
    workflow.WorkflowError, submissions.AlreadySubmitted for the same form sent twice."""
    case, case_key = open_case(ctx, who, ref)
    with transaction(ctx.db):
        submissions.claim(ctx.db, submission_token, today(ctx.settings.timezone))
        workflow.record_extension(
            ctx,
            case.id,
            case_key,
            day=today(ctx.settings.timezone),
            account_id=who.account.id,
            expected_timeframe=expected_timeframe,
            update_every=update_every,
        )
        audit.record(
            ctx,
            "extension",
            actor=who.account.id,
            case_ref=case.ref,
            detail={"update_every": update_every},
        )
        workflow.refresh_due(ctx, case.id)


# --- Oral disclosures (portal.casework.oral)
# ----------------------------------------------------------------------

ORAL_UNDERSTANDING_HEADING = "Our understanding of what you told us (s 13 of the Act):"


def oral_record(ctx: Context, who: SignedIn, ref: str) -> oral.OralRecord | None:
    case, _ = open_case(ctx, who, ref)
    return oral.record_of(ctx, case.id)


def confirm_oral_record(ctx: Context, who: SignedIn, ref: str, understanding: str) -> None:
    """The officer confirms an oral disclosure's record and, in the same transaction, sends the
    discloser a summary of the receiver's understanding of it (s 13 asks for one when an oral
    disclosure is acknowledged), which also records the acknowledgement step. Raises
    oral.OralError."""
    case, case_key = open_case(ctx, who, ref)
    day = today(ctx.settings.timezone)
    with transaction(ctx.db):
        oral.confirm(ctx, case.id, case.ref, who.account.id, day)
        case_history.insert_message(
            ctx,
            case.id,
            case_key,
            author="officer",
            account_id=who.account.id,
            day=day,
            body=ORAL_UNDERSTANDING_HEADING + "\n\n" + understanding,
        )
        _mark_step(ctx, case, case_key, who.account.id, "acknowledge", day)

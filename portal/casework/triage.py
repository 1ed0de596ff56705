"""The officers' side of a case: sign-in sessions, the inbox, reading a case, replying and setting
status.

Access is decided by key possession: an officer can open a case only with their own sealed copy of
the
case key. Anyone else (an officer of another channel, an administrator) gets CaseNotFound, exactly
as
for a case that does not exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

from portal.keys import accounts, credentials, enrolment, rotation, sessions
from portal.records import audit, audit_entries, case_attachments, case_history, casefiles
from portal.casework import identity, oral, queue, workflow
from portal.guard import sign_in_budget, submissions, throttle
from portal.records.casefiles import REASON_REQUIRED, STATUSES, Attachment, CaseRecord, StatusUpdate
from portal.core.clock import today
from portal.core.context import Context
from portal.store import transaction

OFFICER_SESSION = "officer"
CONTACT_WITHHELD = (
    "(Sealed apart: you do not hold this case's identity key. Ask an officer who does.)"
)


class StatusError(ValueError):
    """A status change that cannot be made; the message says why."""


@dataclass(frozen=True)
class SignedIn:
    account: accounts.Account
    private_key: bytes

    @property
    def is_admin(self) -> bool:
        return self.account.role == "admin"


SignInPaused = sign_in_budget.SignInPaused


@dataclass(frozen=True)
class SignedInCookies:
    session: str  # the console session cookie's value (a set-up session when needs_setup)
    device: str  # the device cookie's value: this browser has signed in to this account before
    needs_setup: (
        bool  # the account's credentials are known to its maker: only the set-up steps open
    )


def sign_in(
    ctx: Context,
    email: str,
    passphrase: str,
    totp: str,
    *,
    replacing: str | None = None,
    device: str | None = None,
) -> SignedInCookies:
    """Check the credentials and open a session. An account whose credentials its maker knows gets
    only a
    set-up session (portal.keys.enrolment). Raises credentials.LoginFailed, or SignInPaused (before
    any key
    derivation) when this attempt's budget is spent (portal.guard.sign_in_budget).

    `replacing`: the browser's earlier console cookie; its session ends. `device`: the browser's
    device
    cookie, if any. Both outcomes are audited: a failure only when the email belongs to an account
    (its
    subject)."""
    known = accounts.account_id_for(ctx, email)
    attempt = sign_in_budget.begin(
        ctx,
        email,
        known,
        device,
        fresh_code=known is not None and credentials.holds_fresh_code(ctx, known, totp),
    )
    try:
        signed = credentials.authenticate(ctx, email, passphrase, totp)
    except credentials.LoginFailed:
        began = attempt.failed()
        if known is not None:
            audit.record(ctx, "sign_in_failed", actor=None, subject=known)
            if (
                began
            ):  # once per pause: the refused attempts during it derive no key and add nothing
                audit.record(
                    ctx,
                    "sign_in_paused",
                    actor=None,
                    subject=known,
                    detail={"locked": began == "locked"},
                )
        raise
    attempt.succeeded()
    audit.record(
        ctx,
        "sign_in",
        actor=signed.account.id,
        detail={"setup": True} if signed.must_change_credentials else None,
    )
    device_cookie = sign_in_budget.remember_device(ctx, signed.account.id, device)
    if signed.must_change_credentials:
        return SignedInCookies(
            enrolment.start_session(ctx, enrolment.from_sign_in(signed), replacing=replacing),
            device_cookie,
            True,
        )
    account, private_key = signed.account, signed.private_key
    if rotation.pending(ctx, account.id):
        # A key rotation was interrupted: finish it with the passphrase just given, so that no case
        # already re-sealed to the new key is out of this officer's reach.
        private_key = rotation.rotate(ctx, email, passphrase).private_key
        account = accounts.get_account(ctx, account.id)
    return SignedInCookies(
        start_session(ctx, account, private_key, replacing=replacing), device_cookie, False
    )


def start_session(
    ctx: Context, account: accounts.Account, private_key: bytes, *, replacing: str | None = None
) -> str:
    return sessions.start(
        ctx.db,
        OFFICER_SESSION,
        str(account.id),
        private_key,
        ctx.settings.officer_idle_seconds,
        ctx.settings.officer_session_seconds,
        replacing=replacing,
    )


def resume(ctx: Context, cookie: str | None) -> SignedIn | None:
    session = sessions.resume(ctx.db, OFFICER_SESSION, cookie, ctx.settings.officer_idle_seconds)
    if session is None or enrolment.is_setup_subject(session.subject):
        return None
    account = accounts.get_account(ctx, int(session.subject))
    if account is None:
        sessions.end(ctx.db, cookie)
        return None
    return SignedIn(account, session.secret)


def sign_out(ctx: Context, cookie: str | None) -> None:
    """End this session (whatever state it is in); audited when it belonged to an account."""
    ended = sessions.end(ctx.db, cookie)
    if (
        ended is not None
        and ended[0] == OFFICER_SESSION
        and not enrolment.is_setup_subject(ended[1])
    ):
        audit.record(ctx, "sign_out", actor=int(ended[1]))


def sign_out_everywhere(ctx: Context, who: SignedIn) -> int:
    """End every console session of this account, this one included; return how many ended."""
    with transaction(ctx.db):
        ended = sessions.end_all_for(ctx.db, OFFICER_SESSION, str(who.account.id))
        audit.record(ctx, "sign_out_everywhere", actor=who.account.id, detail={"sessions": ended})
    return ended


@dataclass(frozen=True)
class LastVisit:
    signed_in_at: (
        str | None
    )  # 'YYYY-MM-DD HH:MM' in the installation's zone; None for a first sign-in
    failed_since: int  # failed sign-ins for this account since then


def last_visit(ctx: Context, who: SignedIn) -> LastVisit:
    """From the audit log: the sign-in before this one, and failed attempts since (for the
    inbox)."""
    previous, failed = audit_entries.previous_sign_in(ctx, who.account.id)
    return LastVisit(
        audit_entries.local_time(previous, ctx.settings.timezone) if previous else None, failed
    )


REAUTH_FAILURES_ALLOWED = 5


class ConfirmationLocked(Exception):
    """Too many wrong passphrases when asked again: the session has been ended."""


def confirm_passphrase(ctx: Context, who: SignedIn, passphrase: str, cookie: str | None) -> bool:
    """Ask the passphrase again before a weighty action (exports, grants, identity release).

    True if it unwraps this account's private key; every answer is audited. After
    REAUTH_FAILURES_ALLOWED wrong answers in 15 minutes the session is ended: ConfirmationLocked."""
    if credentials.check_passphrase(ctx, who.account.id, passphrase):
        audit.record(ctx, "passphrase_confirmed", actor=who.account.id)
        return True
    audit.record(ctx, "passphrase_confirm_failed", actor=who.account.id)
    if (
        throttle.hit(ctx.db, f"reauth:{who.account.id}", REAUTH_FAILURES_ALLOWED, 15 * 60)
        is not None
    ):
        sign_out(ctx, cookie)
        raise ConfirmationLocked()
    return False


def queue_page(ctx: Context, who: SignedIn, wanted: queue.QueueFilter) -> queue.QueuePage:
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


def open_case(ctx: Context, who: SignedIn, ref: str) -> tuple[CaseRecord, bytes]:
    """The case and its key, opened with the officer's own sealed copy. Raises CaseNotFound
    otherwise."""
    case = casefiles.get_case(ctx, ref=ref)
    return case, casefiles.open_case_key(ctx, case.id, f"account:{who.account.id}", who.private_key)


@dataclass(frozen=True)
class Reader:
    id: int
    name: str
    email: str


def reader_accounts(ctx: Context, case_id: str) -> list[Reader]:
    """The officers who hold a sealed copy of the case key, each with display name and email (names
    alone
    could hide a look-alike double)."""
    rows = ctx.db.execute(
        "SELECT a.id, a.name, a.email FROM case_keys k JOIN accounts a ON a.id = k.account_id "
        "WHERE k.case_id = ? ORDER BY a.name",
        [case_id],
    ).fetchall()
    return [Reader(*row) for row in rows]


def assignee(ctx: Context, case_id: str) -> Reader | None:
    row = ctx.db.execute(
        "SELECT a.id, a.name, a.email FROM cases c JOIN accounts a ON a.id = c.assigned_to "
        "WHERE c.id = ?",
        [case_id],
    ).fetchone()
    return Reader(*row) if row else None


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
        raise StatusError("A case can be assigned only to an officer who can read it.")
    with transaction(ctx.db):
        submissions.claim(ctx.db, submission_token, today(ctx.settings.timezone))
        ctx.db.execute("UPDATE cases SET assigned_to = ? WHERE id = ?", [officer_id, case.id])
        audit.record(ctx, "assignment", actor=who.account.id, case_ref=case.ref, subject=officer_id)


def read_case(ctx: Context, who: SignedIn, ref: str, *, audited: bool = True) -> CaseView:
    """The decrypted case; `audited`: record the view (False when re-showing it after a form
    error)."""
    case, case_key = open_case(ctx, who, ref)
    if audited:
        audit.record(ctx, "case_view", actor=who.account.id, case_ref=case.ref)
    queue.mark_seen(ctx, who.account.id, case.id)
    history = case_history.status_history(ctx, case.id, case_key)
    latest, problems = case_history.trusted_status(case, history)
    if latest is not None:
        case.status = latest.status
    messages = case_history.read_messages(ctx, case.id, case_key)
    problems += [
        f"The message of {m.day} was changed outside the portal (its author or day was edited)."
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
    )


def download(
    ctx: Context, who: SignedIn, ref: str, attachment_id: str
) -> tuple[Attachment, Iterator[bytes]]:
    case, case_key = open_case(ctx, who, ref)
    found = case_attachments.attachment_stream(ctx, case.id, case_key, attachment_id)
    audit.record(
        ctx,
        "download",
        actor=who.account.id,
        case_ref=case.ref,
        detail={"attachment_id": attachment_id},
    )
    return found


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


def record_status(
    ctx: Context,
    case: CaseRecord,
    case_key: bytes,
    account_id: int,
    status: str,
    reason: str,
    expected_timeframe: str = "",
    event: str = "status_change",
) -> None:
    """Inside a transaction: a status record (case_history.insert_status: encrypted reason the
    discloser reads,
    audit entry `event`), the s 13 steps the status means were done, and the case's next deadline.
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
    )
    for step in workflow.mark_steps(
        ctx, case.id, workflow.steps_for_status(status, reason), day, account_id
    ):
        audit.record(ctx, "step_done", actor=account_id, case_ref=case.ref, detail={"step": step})
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
    `no_further_action`
    need a reason (s 15, s 16); the discloser sees the reason and expected timeframe.
    Raises StatusError, or submissions.AlreadySubmitted for a resent form."""
    if status not in STATUSES:
        raise StatusError("Choose one of the listed statuses.")
    reason, expected_timeframe = reason.strip(), expected_timeframe.strip()
    if status in REASON_REQUIRED and not reason:
        raise StatusError("Give the discloser a reason for this status.")
    case, case_key = open_case(ctx, who, ref)
    with transaction(ctx.db):
        submissions.claim(ctx.db, submission_token, today(ctx.settings.timezone))
        record_status(ctx, case, case_key, who.account.id, status, reason, expected_timeframe)


def complete_step(ctx: Context, who: SignedIn, ref: str, step: str) -> None:
    """Record one s 13(1) step as done today. Acknowledging a case still 'received' also sets
    'acknowledged'.
    Raises StatusError for an unknown step or one already done."""
    if step not in workflow.STEP_LABELS:
        raise StatusError("Choose one of the listed steps.")
    case, case_key = open_case(ctx, who, ref)
    with transaction(ctx.db):
        if not _mark_step(ctx, case, case_key, who.account.id, step, today(ctx.settings.timezone)):
            raise StatusError("That step is already recorded as done.")


def _mark_step(
    ctx: Context, case: CaseRecord, case_key: bytes, account_id: int, step: str, day: str
) -> bool:
    """Inside a transaction: record the step as done on `day` (audited) unless it already is, and
    move the
    case on: acknowledging one still 'received' sets 'acknowledged'; otherwise its next deadline.
    Returns
    whether the step was newly recorded."""
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
    expected
    timeframe (the discloser sees it) and how often progress updates are due. Raises
    workflow.WorkflowError,
    submissions.AlreadySubmitted for the same form sent twice."""
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


# --- Identity confidentiality (s 17) and exports: portal.casework.identity holds the rules
# -------------------------


def identity_record(
    ctx: Context, who: SignedIn, ref: str
) -> tuple[list[identity.Release], list[identity.ConsentRequest]]:
    """The case's identity releases and consent questions, for its readers."""
    case, case_key = open_case(ctx, who, ref)
    return identity.releases(ctx, case.id, case_key), identity.consent_requests(
        ctx, case.id, case_key
    )


def release_identity(
    ctx: Context,
    who: SignedIn,
    ref: str,
    recipient: str,
    ground: str,
    reason: str,
    consultation: str = "",
    consultation_note: str = "",
    submission_token: str | None = None,
) -> identity.Release:
    """See identity.request_release; raises identity.IdentityError (ConsentNotGiven) or
    CaseNotFound."""
    case, case_key = open_case(ctx, who, ref)
    return identity.request_release(
        ctx,
        case,
        case_key,
        who.account.id,
        recipient=recipient,
        ground=ground,
        reason=reason,
        consultation=consultation,
        consultation_note=consultation_note,
        submission_token=submission_token,
    )


def confirm_identity_release(ctx: Context, who: SignedIn, ref: str, seq: int) -> None:
    case, case_key = open_case(ctx, who, ref)
    identity.confirm_release(ctx, case, case_key, who.account.id, seq)


def export_case(
    ctx: Context, who: SignedIn, ref: str, *, include_identity: bool = False, recipient: str = ""
) -> tuple[str, str]:
    """A plain-text copy of the case for a referral (s 16) or an investigator: (file name, text),
    naming
    `recipient` and the case's referrals to it. The discloser's contact details are left out unless
    `include_identity` and a completed release to `recipient` is on record (identity.IdentityError
    otherwise). Attachments are not included. Audited."""
    from portal.casework import (
        referrals,
    )  # referrals builds on this module (open_case, record_status)

    case, case_key = open_case(ctx, who, ref)
    if include_identity and not identity.released_to(ctx, case.id, case_key, recipient):
        raise identity.IdentityError(
            "The contact details can go only to someone a release was recorded for "
            "(s 17): record the release first, or export without them."
        )
    view = read_case(ctx, who, ref, audited=False)
    lines = [
        f"Protected disclosure {case.ref}",
        f"Channel: {case.channel_name}",
        f"Received: {case.received_day}",
        f"Status: {view.case.status_label}",
    ]
    if recipient.strip():
        lines.append(f"Prepared for: {recipient.strip()}")
    # Only this recipient's own referrals: one authority is not told of a referral to another (s
    # 25).
    lines += [
        f"Referred (s 16) on {r.day} to {r.authority}"
        for r in referrals.read_referrals(ctx, who, case.id)
        if recipient.strip() and r.authority == recipient.strip()
    ]
    lines += [
        "",
        f"Kind of wrongdoing: {view.fields.get('category', '')}",
        f"Title: {view.fields.get('summary', '')}",
        "What happened:",
        view.fields.get("details", ""),
        "",
        f"Raised elsewhere: {view.fields.get('disclosed_elsewhere', '')}",
    ]
    if include_identity:
        lines.append(
            f"Contact details (released to {recipient}): {view.fields.get(identity.CONTACT, '')}"
        )
        lines.append(
            "What the discloser marked as identifying them:"
            f" {view.fields.get(identity.IDENTIFYING, '')}"
        )
    else:
        lines.append(
            "Contact details and what the discloser marked as identifying them: left out (the "
            "discloser's identity is protected by s 17 of the Act)."
        )
    lines += ["", "Messages:"]
    for m in view.messages:
        lines += [
            f"--- {'Officer ' + m.author_name if m.author == 'officer' else 'Discloser'}, {m.day}",
            m.body,
        ]
    lines += ["", f"Files: {len(view.attachments)} (not included in this export)."]
    audit.record(
        ctx,
        "case_export",
        actor=who.account.id,
        case_ref=case.ref,
        detail={"identity": include_identity},
    )
    return f"{case.ref}.txt", "\n".join(lines) + "\n"


# --- Oral disclosures (portal.casework.oral)
# ----------------------------------------------------------------------

ORAL_UNDERSTANDING_HEADING = "Our understanding of what you told us (s 13 of the Act):"


def oral_record(ctx: Context, who: SignedIn, ref: str) -> oral.OralRecord | None:
    case, _ = open_case(ctx, who, ref)
    return oral.record_of(ctx, case.id)


def confirm_oral_record(ctx: Context, who: SignedIn, ref: str, understanding: str) -> None:
    """The officer confirms an oral disclosure's record and, in the same transaction, sends the
    discloser a
    summary of the receiver's understanding of it (s 13 asks for one when an oral disclosure is
    acknowledged), which also records the acknowledgement step. Raises oral.OralError."""
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


def print_case_record(
    ctx: Context, who: SignedIn, ref: str
) -> tuple[str, list[audit_entries.Entry]]:
    """Record that this officer printed the case's record (audited) and return when ('YYYY-MM-DD
    HH:MM' in
    the installation's zone) with the case's audit entries, that printing included."""
    case, _ = open_case(ctx, who, ref)
    audit.record(ctx, "case_print", actor=who.account.id, case_ref=case.ref)
    entries = audit_entries.entries_for_case(ctx, case.ref)
    return audit_entries.local_time(entries[-1].at, ctx.settings.timezone), entries

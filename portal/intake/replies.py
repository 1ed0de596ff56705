"""The discloser's replies from the status session: receiving one and storing it whole, within the
per-session and per-case daily limits and the case's lifetime quota."""

from __future__ import annotations

from dataclasses import dataclass

import crypto
from portal.core.clock import today
from portal.core.context import Context
from portal.guard import submissions, throttle
from portal.intake import file_cleaning
from portal.intake.case_status import case_key_for
from portal.intake.receiving import DAY, Intake, Throttled, check_capacity, day_offset, has_room
from portal.keys import sessions
from portal.records import case_attachments, case_history
from portal.store import transaction


def begin_reply(
    ctx: Context, session: sessions.OpenSession, declared: int | None = None
) -> Intake:
    """As receiving.begin_disclosure: with `declared`, a body that would cross the free-space floor
    starts refused (its text read and given back) instead of raising here."""
    if declared is None:
        check_capacity(ctx)
    case, case_key = case_key_for(ctx, session)
    intake = Intake(ctx, case.id, case_key, today(ctx.settings.timezone))
    intake.refused = declared is not None and not has_room(ctx, declared)
    return intake


class QuotaReached(Exception):
    """This case has used its quota of discloser messages or bytes; officers see it on the case
    page."""


@dataclass(frozen=True)
class CaseQuota:
    messages: int
    bytes: int
    max_messages: int
    max_bytes: int


def case_quota(ctx: Context, case_id: str) -> CaseQuota:
    row = ctx.db.execute(
        "SELECT messages, bytes FROM case_quota WHERE case_id = ?", [case_id]
    ).fetchone()
    messages, size = row if row else (0, 0)
    return CaseQuota(
        messages, size, ctx.settings.case_quota_messages, ctx.settings.case_quota_bytes
    )


def check_reply_budgets(ctx: Context, case_id: str, size: int, session_id: str | None) -> None:
    """Per status session and per case, per day (Throttled), and the case's lifetime quota
    (QuotaReached); `size`: the reply's bytes as sealed (padded)."""
    quota = case_quota(ctx, case_id)
    if quota.messages + 1 > quota.max_messages or quota.bytes + size > quota.max_bytes:
        raise QuotaReached()
    settings = ctx.settings
    for bucket, limit in (
        (f"reply-session:{session_id}", settings.replies_per_session),
        (f"reply-case:{case_id}", settings.replies_per_case),
    ):
        if session_id is None and bucket.startswith("reply-session:"):
            continue
        if throttle.spent(ctx.db, bucket, DAY, day_offset(ctx)) >= limit:
            raise Throttled(throttle.seconds_left(DAY, day_offset(ctx)))


def complete_reply(
    ctx: Context,
    intake: Intake,
    message: str,
    submission_token: str | None = None,
    session_id: str | None = None,
    strip_metadata: bool = False,
) -> None:
    """Store the discloser's message and its files whole, their hidden details removed first when
    `strip_metadata` (portal.intake.file_cleaning; the originals kept for the discloser alone).
    Raises submissions.AlreadySubmitted on a resend, Throttled when this status session or case
    has sent its replies for the day or the disclosers' attachment budget is spent, QuotaReached
    when the case's lifetime quota is used up."""
    # The budgets first, with the text alone: a reply past them buys no file checks (CPU) at all.
    text_size = crypto.padded_length(len(message.encode()))
    check_reply_budgets(ctx, intake.case_id, text_size, session_id)
    file_cleaning.clean_received(intake, strip_metadata)
    # As sealed (padded), so the case's quota keeps no exact size either; the originals of cleaned
    # files are stored beside their cleaned copies, so they count too (issue 26).
    size = text_size + intake.attachment_bytes + intake.original_bytes
    check_reply_budgets(ctx, intake.case_id, size, session_id)
    intake.spend_upload_budget(len(message.encode()))
    attachments = intake.commit_files()
    with transaction(ctx.db):
        submissions.claim(ctx.db, submission_token, intake.day)
        message_id = case_history.insert_message(
            ctx,
            intake.case_id,
            intake.case_key,
            author="discloser",
            account_id=None,
            day=intake.day,
            body=message,
        )
        case_attachments.insert_attachments(
            ctx, intake.case_id, intake.case_key, message_id, attachments
        )
        discloser_key = count_reply(ctx, intake.case_id, size)
        file_cleaning.store_originals(intake, discloser_key)
    spend_reply_limits(ctx, intake.case_id, session_id)
    intake.completed = True


def count_reply(ctx: Context, case_id: str, size: int) -> bytes:
    """In the reply's transaction: the case's quota and the discloser's mark of where they wrote
    (case_history.discloser_wrote). Returns the discloser's public key."""
    ctx.db.execute(
        "INSERT INTO case_quota (case_id, messages, bytes) VALUES (?, 1, ?) ON CONFLICT"
        " (case_id) DO UPDATE SET messages = case_quota.messages + 1,"
        " bytes = case_quota.bytes + excluded.bytes",
        [case_id, size],
    )
    discloser_key = _discloser_public_key(ctx, case_id)
    case_history.discloser_wrote(ctx, case_id, discloser_key)
    return discloser_key


def spend_reply_limits(ctx: Context, case_id: str, session_id: str | None) -> None:
    """After a reply is stored: one more of this session's and this case's replies for the day."""
    for bucket in ([f"reply-session:{session_id}"] if session_id else []) + [
        f"reply-case:{case_id}"
    ]:
        throttle.add(ctx.db, bucket, 1, DAY, day_offset(ctx))


def _discloser_public_key(ctx: Context, case_id: str) -> bytes:
    (key,) = ctx.db.execute(
        "SELECT discloser_public_key FROM cases WHERE id = ?", [case_id]
    ).fetchone()
    return key

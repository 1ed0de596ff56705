"""Telling officers by email that something is waiting for them, without telling the mail system
anything.

`portal notify`, run at fixed times (on the hour: `portal serve` keeps `portal notify --every-hour`
running beside it while an SMTP server is set; SECURITY.md, "Notifications"), sends each officer at
most one digest per sending time, and only when what waits for them changed since their last digest.
The mail says which *kinds* of thing wait (a new disclosure, a discloser's message, a deadline
within 5 working days, a membership to confirm) and where to sign in: never a case reference,
category, channel name, count or any content, and its Date is the sending time's start, so the
organisation's mail logs cannot be matched against when a discloser acted. Requests never send mail,
so a slow or broken mail server can neither slow nor fail one.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import smtplib
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from portal.casework import queue_filters
from portal.core.clock import now_utc
from portal.core.context import Context
from portal.store import transaction

KINDS: dict[str, str] = {
    "new": "a new disclosure, or a case newly shared with you",
    "message": "a message from a discloser",
    "deadline": "a deadline within 5 working days (or passed)",
    "membership": "a channel membership waiting for you to confirm or refuse",
    "recovery": "a channel's recovery key waiting for you to confirm or refuse",
    "other": "a change to a case you read",
}
SUBJECT = "Something is waiting for you in the protected-disclosure portal"


class NotConfigured(Exception):
    """No SMTP server is set: notifications are off."""


@dataclass(frozen=True)
class Digest:
    account_id: int
    email: str
    kinds: list[str]
    fingerprint: str


def slot_of(moment: dt.datetime) -> dt.datetime:
    """The sending time a moment belongs to: the start of its hour (UTC)."""
    return moment.astimezone(dt.timezone.utc).replace(minute=0, second=0, microsecond=0)


def seconds_to_next_sending_time(moment: dt.datetime, period: int = 3600) -> float:
    """Seconds from `moment` to the next multiple of `period` seconds since the epoch (the next hour
    by default): when `portal notify --every-hour` next sends. Always > 0."""
    timestamp = moment.timestamp()
    return period - timestamp % period


def _waiting(ctx: Context, account_id: int, today: dt.date) -> list[tuple[str, str]]:
    """(kind, id) of each thing waiting for this officer."""
    items = [
        ("message" if kind == "message" else "new" if kind == "new" else "other", case_id)
        for case_id, kind in ctx.db.execute(
            "SELECT case_id, unseen_kind FROM case_queue WHERE account_id = ? AND seen = 0",
            [account_id],
        )
    ]
    soon = queue_filters.soon_until(today).isoformat()
    items += [
        ("deadline", f"{case_id}:{due}")
        for case_id, due in ctx.db.execute(
            "SELECT case_id, due_key FROM case_queue WHERE account_id = ? AND due_key <= ?",
            [account_id, soon],
        )
    ]
    items += [
        ("membership", f"{channel_id}:{member}")
        for channel_id, member in ctx.db.execute(
            "SELECT p.channel_id, p.account_id FROM channel_officers p JOIN channel_officers mine"
            " ON mine.channel_id = p.channel_id AND mine.account_id = ? AND mine.state ="
            " 'confirmed' WHERE p.state = 'pending'",
            [account_id],
        )
    ]
    items += [
        ("recovery", f"{channel_id}:{key.hex()}")
        for channel_id, key in ctx.db.execute(
            "SELECT r.channel_id, r.public_key FROM recovery_requests r JOIN channel_officers mine"
            " ON mine.channel_id = r.channel_id AND mine.account_id = ? AND mine.state ="
            " 'confirmed'",
            [account_id],
        )
    ]
    return items


def due_digests(ctx: Context, moment: dt.datetime) -> list[Digest]:
    """The digests to send at `moment`'s sending time: officers with something waiting that changed
    since their last digest, and no digest yet in this sending time."""
    slot = slot_of(moment).isoformat()
    today = dt.date.fromisoformat(moment.astimezone(dt.timezone.utc).date().isoformat())
    digests = []
    for account_id, email in ctx.db.execute(
        "SELECT id, email FROM accounts WHERE role = 'officer' "
        "AND offboarded_day IS NULL ORDER BY id"
    ).fetchall():
        items = sorted(set(_waiting(ctx, account_id, today)))
        if not items:
            continue
        fingerprint = hashlib.sha256(repr(items).encode()).hexdigest()
        last = ctx.db.execute(
            "SELECT slot, fingerprint FROM notification_digests WHERE account_id = ?", [account_id]
        ).fetchone()
        if last is not None and (last[0] == slot or last[1] == fingerprint):
            continue
        kinds = [kind for kind in KINDS if any(item[0] == kind for item in items)]
        digests.append(Digest(account_id, email, kinds, fingerprint))
    return digests


def compose(ctx: Context, digest: Digest, moment: dt.datetime) -> EmailMessage:
    """The digest mail: kinds of thing waiting and where to sign in; nothing about any case."""
    settings = ctx.settings
    message = EmailMessage()
    message["From"] = settings.smtp_from
    message["To"] = digest.email
    message["Subject"] = SUBJECT
    message["Date"] = format_datetime(slot_of(moment))
    message["Message-ID"] = make_msgid(domain=settings.smtp_from.rpartition("@")[2] or None)
    lines = ["Hello,", "", "Something is waiting for you in the protected-disclosure portal:", ""]
    lines += [f"- {KINDS[kind]}" for kind in digest.kinds]
    lines += [
        "",
        "Sign in to the portal's console to see it"
        + (f": {settings.public_url.rstrip('/')}/console/" if settings.public_url else "."),
        "",
        "This message says nothing more on purpose: details are only in the portal.",
    ]
    message.set_content("\n".join(lines) + "\n")
    return message


def send_due(ctx: Context, moment: dt.datetime | None = None) -> tuple[int, int]:
    """Send this sending time's digests over one SMTP connection; return (sent, failed). A digest
    that fails is tried again at the next sending time. Raises NotConfigured, or
    OSError/smtplib.SMTPException when the server cannot be reached at all (nothing is marked sent
    then)."""
    settings = ctx.settings
    if not settings.smtp_host:
        raise NotConfigured(
            "No SMTP server is set: `portal setting set smtp_host HOST` (and smtp_from)."
        )
    moment = moment or now_utc()
    return send_digests(ctx, due_digests(ctx, moment), moment)


def send_digests(ctx: Context, digests: list[Digest], moment: dt.datetime) -> tuple[int, int]:
    """Send these digests (from due_digests, perhaps by another sender a moment ago); return (sent,
    failed). Each is claimed for the sending time in its own transaction before it is sent and given
    back if sending fails, so two senders at the same hour (a cron job left beside `portal serve`)
    never both send one.
    """
    if not digests:
        return 0, 0
    settings, slot = ctx.settings, slot_of(moment).isoformat()
    sent = failed = 0
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=30) as smtp:
        if settings.smtp_starttls:
            smtp.starttls()
        if settings.smtp_username:
            smtp.login(settings.smtp_username, settings.smtp_password)
        for digest in digests:
            claimed, previous = _claim(ctx, digest, slot)
            if not claimed:
                continue
            try:
                smtp.send_message(compose(ctx, digest, moment))
            except smtplib.SMTPServerDisconnected:
                _give_back(ctx, digest.account_id, previous)
                raise
            except smtplib.SMTPException:  # this recipient refused: the others may still go
                _give_back(ctx, digest.account_id, previous)
                failed += 1
                continue
            except BaseException:
                _give_back(ctx, digest.account_id, previous)
                raise
            sent += 1
    return sent, failed


def _claim(ctx: Context, digest: Digest, slot: str) -> tuple[bool, tuple | None]:
    """Record the digest as sent at `slot` unless it was already, or nothing changed; return whether
    it was claimed and the row it replaced (to give back)."""
    with transaction(ctx.db):
        previous = ctx.db.execute(
            "SELECT slot, fingerprint FROM notification_digests WHERE account_id = ?",
            [digest.account_id],
        ).fetchone()
        if previous is not None and (previous[0] == slot or previous[1] == digest.fingerprint):
            return False, None
        ctx.db.execute(
            "INSERT INTO notification_digests (account_id, slot, fingerprint) VALUES (?, ?, ?) "
            "ON CONFLICT (account_id) DO UPDATE SET slot = excluded.slot, "
            "fingerprint = excluded.fingerprint",
            [digest.account_id, slot, digest.fingerprint],
        )
    return True, previous


def _give_back(ctx: Context, account_id: int, previous: tuple | None) -> None:
    with transaction(ctx.db):
        if previous is None:
            ctx.db.execute("DELETE FROM notification_digests WHERE account_id = ?", [account_id])
        else:
            ctx.db.execute(
                "UPDATE notification_digests SET slot = ?, fingerprint = ? WHERE account_id = ?",
                [*previous, account_id],
            )

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


def _waiting(ctx: Context, account_id: int, today: dt.date) -> tuple[list[str], tuple]:
    """The kinds of thing waiting for this officer, and a summary that changes when something new
    waits: a few statements whatever the number of cases (the unseen counts are kept by triggers on
    the queue, migration 17; the deadline is the latest one within the window, from its index)."""
    row = ctx.db.execute(
        "SELECT unseen_new, unseen_message, unseen_other, became_unseen FROM digest_waiting"
        " WHERE account_id = ?",
        [account_id],
    ).fetchone() or (0, 0, 0, 0)
    unseen = dict(zip(("new", "message", "other"), row[:3]))
    deadline = ctx.db.execute(
        "SELECT due_key, case_id FROM case_queue INDEXED BY queue_all_deadline"
        " WHERE account_id = ? AND due_key <= ? ORDER BY due_key DESC, ref DESC LIMIT 1",
        [account_id, queue_filters.soon_until(today).isoformat()],
    ).fetchone()
    memberships = ctx.db.execute(
        "SELECT p.channel_id, p.account_id FROM channel_officers p JOIN channel_officers mine"
        " ON mine.channel_id = p.channel_id AND mine.account_id = ? AND mine.state ="
        " 'confirmed' WHERE p.state = 'pending' ORDER BY 1, 2",
        [account_id],
    ).fetchall()
    recoveries = ctx.db.execute(
        "SELECT r.channel_id, r.public_key FROM recovery_requests r JOIN channel_officers mine"
        " ON mine.channel_id = r.channel_id AND mine.account_id = ? AND mine.state ="
        " 'confirmed' ORDER BY 1, 2",
        [account_id],
    ).fetchall()
    present = {
        **{kind: count > 0 for kind, count in unseen.items()},
        "deadline": deadline is not None,
        "membership": bool(memberships),
        "recovery": bool(recoveries),
    }
    kinds = [kind for kind in KINDS if present[kind]]
    # Something newly unseen, a deadline newly within the window, a new request: a new summary.
    summary = (kinds, row[3] if any(unseen.values()) else 0, deadline, memberships, recoveries)
    return kinds, summary


def due_digests(ctx: Context, moment: dt.datetime) -> list[Digest]:
    """The digests to send at `moment`'s sending time: officers with something waiting that changed
    since their last digest, and no digest yet in this sending time. Its cost grows with the
    officers, not with the cases waiting for them."""
    slot = slot_of(moment).isoformat()
    today = dt.date.fromisoformat(moment.astimezone(dt.timezone.utc).date().isoformat())
    digests = []
    for account_id, email, last_slot, last_fingerprint in ctx.db.execute(
        "SELECT a.id, a.email, d.slot, d.fingerprint FROM accounts a LEFT JOIN"
        " notification_digests d ON d.account_id = a.id WHERE a.role = 'officer'"
        " AND a.offboarded_day IS NULL ORDER BY a.id"
    ).fetchall():
        kinds, summary = _waiting(ctx, account_id, today)
        if not kinds:
            continue
        fingerprint = hashlib.sha256(repr(summary).encode()).hexdigest()
        if last_slot == slot or last_fingerprint == fingerprint:
            continue
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

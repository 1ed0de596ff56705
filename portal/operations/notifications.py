"""A daily reminder by email for officers that tells the mail system nothing of what disclosers did
(issue 26; SECURITY.md, "What the data around a disclosure reveals"; docs/deploy.md, "What the mail
system learns").

`portal notify`, kept running beside `portal serve` while an SMTP server is set (`portal notify
--keep-running`), sends at most one digest a day, at the operator's fixed time (`digest_time`,
"HH:MM" in the installation's zone, default 07:30), to every officer who wants one (the account
page's "Daily reminder" box, on by default) whether or not anything waits for them. Every digest has
the same subject and body, "Your daily reminder: sign in to see what needs you." and where to sign
in, padded to one size; with the operator's `digest_counts` setting it also gives how many things of
each kind wait, which tells the mail system on which days something came in (docs/deploy.md). Its
`Date` is the digest's time of the day (its slot), never the moment of sending, and its
`Message-ID` is random, holding no time, host or process id. Requests never send mail, so a slow or
broken mail server can neither slow nor fail one. It is written in the installation's
`default_language` (issue 28): one language for every officer, so the words stay the same for all;
a body in another script than ASCII is sent as UTF-8, 8bit, padded to the same size in bytes.
"""

from __future__ import annotations

import datetime as dt
import secrets
import smtplib
import textwrap
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import format_datetime
from zoneinfo import ZoneInfo

from babel.support import NullTranslations, Translations

from portal.casework import queue_filters
from portal.core import resources
from portal.core.clock import now_utc, time_of_day
from portal.core.context import Context
from portal.core.words import N_
from portal.store import transaction

KINDS: dict[str, str] = {
    "new": N_("new disclosures, or cases newly shared with you"),
    "message": N_("messages from disclosers"),
    "deadline": N_("deadlines within 5 working days (or passed)"),
    "membership": N_("channel memberships waiting for you to confirm or refuse"),
    "recovery": N_("channels' recovery keys waiting for you to confirm or refuse"),
    "other": N_("changes to cases you read"),
}
SUBJECT = N_("Your daily reminder from the protected-disclosure portal")
REMINDER = N_("Your daily reminder: sign in to see what needs you.")
SAME_FOR_ALL = N_(
    "Every officer who asked for it gets this reminder at the same time each day, with the same"
    " words, whether or not anything is waiting: details are only in the portal."
)
WRAP = 71  # the body's lines, at most this many characters
DAY = 86400
# Every digest's body is padded to this many bytes as sent (UTF-8, CRLF lines), whatever it says.
BODY_SIZE = 1536
# A run this long after the digest time still sends it (a server restarted just then); a later
# one sends nothing until the next day's: digests go out only at their time.
GRACE_SECONDS = 3600


class NotConfigured(Exception):
    """No SMTP server is set: notifications are off."""


@dataclass(frozen=True)
class Digest:
    account_id: int
    email: str
    kinds: list[str]  # the kinds of thing waiting, in KINDS order (told only with digest_counts)
    counts: dict[str, int] = field(default_factory=dict)


def slot_of(ctx: Context, moment: dt.datetime, period: int = DAY) -> dt.datetime:
    """The latest digest time at or before `moment` (aware, UTC): the day's `digest_time` in the
    installation's zone, today's or yesterday's. `period` shorter than a day (tests: the
    PORTAL_NOTIFY_PERIOD_SECONDS of `portal notify --keep-running`) makes a slot of every multiple
    of it since the epoch instead."""
    if period != DAY:
        stamp = int(moment.timestamp())
        return dt.datetime.fromtimestamp(stamp - stamp % period, dt.timezone.utc)
    zone = ZoneInfo(ctx.settings.timezone)
    local = moment.astimezone(zone)
    at = time_of_day(ctx.settings.digest_time)
    slot = dt.datetime.combine(local.date(), at, tzinfo=zone)
    if slot > local:
        slot = dt.datetime.combine(local.date() - dt.timedelta(days=1), at, tzinfo=zone)
    return slot.astimezone(dt.timezone.utc)


def seconds_to_next_sending_time(ctx: Context, moment: dt.datetime, period: int = DAY) -> float:
    """Seconds from `moment` to the next digest time (`portal notify --keep-running` sleeps this
    long). Always > 0."""
    if period != DAY:
        return period - moment.timestamp() % period
    zone = ZoneInfo(ctx.settings.timezone)
    local = moment.astimezone(zone)
    at = time_of_day(ctx.settings.digest_time)
    for days in (0, 1, 2):
        slot = dt.datetime.combine(local.date() + dt.timedelta(days=days), at, tzinfo=zone)
        if slot > local:
            return (slot - local).total_seconds()
    return float(DAY)  # not reached: a day later always has one


def _waiting(ctx: Context, account_id: int, today: dt.date) -> dict[str, int]:
    """How many things of each kind wait for this officer: a few statements whatever the number of
    cases (the unseen counts are kept by triggers on the queue, migration 17; the deadlines are one
    index range)."""
    row = ctx.db.execute(
        "SELECT unseen_new, unseen_message, unseen_other FROM digest_waiting WHERE account_id = ?",
        [account_id],
    ).fetchone() or (0, 0, 0)
    deadlines = ctx.db.execute(
        "SELECT COUNT(*) FROM case_queue INDEXED BY queue_all_deadline"
        " WHERE account_id = ? AND due_key <= ?",
        [account_id, queue_filters.soon_until(today).isoformat()],
    ).fetchone()[0]
    memberships = ctx.db.execute(
        "SELECT COUNT(*) FROM channel_officers p JOIN channel_officers mine"
        " ON mine.channel_id = p.channel_id AND mine.account_id = ? AND mine.state ="
        " 'confirmed' WHERE p.state = 'pending'",
        [account_id],
    ).fetchone()[0]
    recoveries = ctx.db.execute(
        "SELECT COUNT(*) FROM recovery_requests r JOIN channel_officers mine"
        " ON mine.channel_id = r.channel_id AND mine.account_id = ? AND mine.state ="
        " 'confirmed'",
        [account_id],
    ).fetchone()[0]
    counts = {
        **dict(zip(("new", "message", "other"), row)),
        "deadline": deadlines,
        "membership": memberships,
        "recovery": recoveries,
    }
    return {kind: counts[kind] for kind in KINDS}


def due_digests(ctx: Context, moment: dt.datetime, period: int = DAY) -> list[Digest]:
    """The digests of `moment`'s slot still to send: one for every officer who wants one and has
    not had this slot's, whether or not anything waits; none more than GRACE_SECONDS after the
    digest time. Its cost grows with the officers, not with the cases waiting for them."""
    slot = slot_of(ctx, moment, period)
    if period == DAY and (moment - slot).total_seconds() > GRACE_SECONDS:
        return []
    today = slot.astimezone(ZoneInfo(ctx.settings.timezone)).date()
    digests = []
    for account_id, email, last_slot in ctx.db.execute(
        "SELECT a.id, a.email, d.slot FROM accounts a LEFT JOIN notification_digests d"
        " ON d.account_id = a.id WHERE a.role = 'officer' AND a.offboarded_day IS NULL"
        " AND a.daily_digest = 1 ORDER BY a.id"
    ).fetchall():
        if last_slot == slot.isoformat():
            continue
        counts = _waiting(ctx, account_id, today)
        kinds = [kind for kind, count in counts.items() if count]
        digests.append(Digest(account_id, email, kinds, counts))
    return digests


def compose(ctx: Context, digest: Digest, moment: dt.datetime, period: int = DAY) -> EmailMessage:
    """The digest mail: the same words every day and where to sign in, the counts only with the
    `digest_counts` setting; padded to BODY_SIZE; Date the slot, Message-ID random."""
    settings = ctx.settings
    message = EmailMessage()
    message["From"] = settings.smtp_from
    message["To"] = digest.email
    words = mail_words(settings.default_language)
    message["Subject"] = words.gettext(SUBJECT)
    message["Date"] = format_datetime(slot_of(ctx, moment, period))
    domain = settings.smtp_from.rpartition("@")[2] or "portal.invalid"
    message["Message-ID"] = f"<{secrets.token_hex(16)}@{domain}>"
    say = words.gettext
    lines = [say(N_("Hello,")), "", *textwrap.wrap(say(REMINDER), WRAP), ""]
    if settings.digest_counts:
        lines += [say(N_("Waiting for you:"))]
        lines += [f"- {say(KINDS[kind])}: {digest.counts.get(kind, 0)}" for kind in KINDS]
        lines += [""]
    if settings.public_url:
        sign_in = say(N_("Sign in to the portal's console: %(url)s")) % {
            "url": f"{settings.public_url.rstrip('/')}/console/"
        }
    else:
        sign_in = say(N_("Sign in to the portal's console."))
    lines += [sign_in, "", *textwrap.wrap(say(SAME_FOR_ALL), WRAP)]
    body = _padded("\n".join(lines) + "\n")
    # 7bit (or 8bit for UTF-8): sent as written, so its size as sent is the padded size
    # (quoted-printable would not be).
    if body.isascii():
        message.set_content(body, cte="7bit")
    else:
        message.set_content(body, charset="utf-8", cte="8bit")
    return message


def mail_words(language: str) -> NullTranslations:
    """The catalogue of `language` (portal/translations, or PORTAL_TRANSLATIONS), read outside any
    request; English (the messages themselves) when there is none."""
    return Translations.load(str(resources.translations_dir()), [language])


def _padded(text: str) -> str:
    """The body (lines ending in LF, sent as CRLF) padded with lines of spaces to BODY_SIZE bytes as
    sent (never cut: a longer one is a bug the tests catch)."""
    left = BODY_SIZE - len(text.encode()) - text.count("\n")
    if left == 1:  # a line of padding takes at least 2 bytes
        text, left = text[:-1] + " \n", 0
    padding = []
    while left >= 2:
        width = min(76, left - 2)
        if left - width - 2 == 1:
            width -= 1
        padding.append(" " * width + "\n")
        left -= width + 2
    return text + "".join(padding)


def send_due(ctx: Context, moment: dt.datetime | None = None, period: int = DAY) -> tuple[int, int]:
    """Send this slot's digests over one SMTP connection; return (sent, failed). A digest that
    fails is tried again at the next run in the same slot. Raises NotConfigured, or
    OSError/smtplib.SMTPException when the server cannot be reached at all (nothing is marked sent
    then)."""
    settings = ctx.settings
    if not settings.smtp_host:
        raise NotConfigured(
            "No SMTP server is set: `portal setting set smtp_host HOST` (and smtp_from)."
        )
    moment = moment or now_utc()
    return send_digests(ctx, due_digests(ctx, moment, period), moment, period)


def send_digests(
    ctx: Context, digests: list[Digest], moment: dt.datetime, period: int = DAY
) -> tuple[int, int]:
    """Send these digests (from due_digests, perhaps by another sender a moment ago); return (sent,
    failed). Each is claimed for the slot in its own transaction before it is sent and given back if
    sending fails, so two senders in the same slot (a cron job left beside `portal serve`) never
    both send one.
    """
    if not digests:
        return 0, 0
    settings, slot = ctx.settings, slot_of(ctx, moment, period).isoformat()
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
                smtp.send_message(compose(ctx, digest, moment, period))
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
    """Record the digest as sent in `slot` unless it was already; return whether it was claimed and
    the row it replaced (to give back)."""
    with transaction(ctx.db):
        previous = ctx.db.execute(
            "SELECT slot, fingerprint FROM notification_digests WHERE account_id = ?",
            [digest.account_id],
        ).fetchone()
        if previous is not None and previous[0] == slot:
            return False, None
        ctx.db.execute(
            "INSERT INTO notification_digests (account_id, slot, fingerprint) VALUES (?, ?, '') "
            "ON CONFLICT (account_id) DO UPDATE SET slot = excluded.slot, fingerprint = ''",
            [digest.account_id, slot],
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


def set_wanted(ctx: Context, account_id: int, wanted: bool) -> None:
    """Whether this officer gets the daily reminder (their account page)."""
    with transaction(ctx.db):
        ctx.db.execute(
            "UPDATE accounts SET daily_digest = ? WHERE id = ?", [int(wanted), account_id]
        )


def wants_digest(ctx: Context, account_id: int) -> bool:
    row = ctx.db.execute("SELECT daily_digest FROM accounts WHERE id = ?", [account_id]).fetchone()
    return bool(row and row[0])

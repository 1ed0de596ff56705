"""A case's workflow records, bound to their case: messages between the discloser and officers and
the status records, each written with its audit entry and read back marked verified, older and
unverified, or changed outside the portal."""

from __future__ import annotations

import datetime as dt
import json
import secrets
from dataclasses import dataclass

import crypto
from portal.core.context import Context
from portal.core.words import N_, Sentence
from portal.records import audit
from portal.records.case_attachments import attachments_of_messages
from portal.records.casefiles import (
    REASON_REQUIRED,
    CaseRecord,
    Message,
    ReasonRequired,
    StatusUpdate,
    as_object,
    as_str,
    as_text,
    new_id,
)

# Workflow records made since schema 4 are bound to their case (binding = BOUND): the record's clear
# values are part of its ciphertext's field name, so of its associated data (SECURITY.md, "Field
# names"). Older records (binding 0) stay readable and are shown as unverified, if they are listed
# in legacy_records (the unbound records that existed when that list was made, migration 11); any
# other unbound record was written outside the portal.
BOUND = 2
TAMPERED_TEXT = "(This record was changed outside the portal: its content is withheld.)"


def status_field(seq: int, status: str, day: str, account_id: int | None) -> str:
    return "status:" + json.dumps([seq, status, day, account_id], separators=(",", ":"))


def message_field(message_id: str, author: str, account_id: int | None, day: str) -> str:
    return "message:" + json.dumps([message_id, author, account_id, day], separators=(",", ":"))


def _open_record(
    case_key: bytes,
    case_id: str,
    bound: bool,
    bound_name: str,
    legacy_name: str,
    ciphertext: bytes | None,
) -> tuple[bytes | None, bool | None]:
    """Decrypt a workflow record: (plaintext or None, verified: True / None for older records /
    False)."""
    if ciphertext is None:
        return None, False if bound else None
    try:
        return crypto.decrypt_field(
            case_key, case_id, bound_name if bound else legacy_name, ciphertext
        ), (True if bound else None)
    except crypto.DecryptionError:
        return None, False


def legacy_records(ctx: Context, case_id: str, kind: str) -> set[str]:
    """The case's records of `kind` ('status': seq as text, 'message': id) allowed to be unbound."""
    return {
        row[0]
        for row in ctx.db.execute(
            "SELECT record FROM legacy_records WHERE kind = ? AND case_id = ?", [kind, case_id]
        )
    }


MESSAGES_PER_PAGE = 30  # the latest messages a case page or status page shows at once


@dataclass
class MessagePage:
    """A page of a case's messages, oldest first: the latest `MESSAGES_PER_PAGE` before a point."""

    messages: list[Message]
    earlier: int | None  # `before` of the page of earlier messages; None: none are earlier
    later: int | None  # `before` of the next later page; None: the latest page follows
    latest: bool  # this is the latest page (it ends with the newest message)


def read_messages(
    ctx: Context, case_id: str, case_key: bytes, *, before: int | None = None, limit: int = -1
) -> list[Message]:
    """The case's messages in time order: every one, or the latest `limit` whose number is below
    `before`. Three queries whatever the number of messages (attachments in one)."""
    legacy = legacy_records(ctx, case_id, "message")
    rows = ctx.db.execute(
        "SELECT m.id, m.author, m.account_id, COALESCE(a.name, ''), m.day, m.body_ct, m.binding,"
        " m.seq FROM messages m LEFT JOIN accounts a ON a.id = m.account_id WHERE m.case_id = ?"
        " AND m.seq < ? ORDER BY m.seq DESC LIMIT ?",
        [case_id, before if before is not None else 2**62, limit],
    ).fetchall()
    rows.reverse()
    files = attachments_of_messages(ctx, case_id, case_key, [row[0] for row in rows])
    messages = []
    for mid, author, account_id, author_name, day, body_ct, binding, seq in rows:
        body, verified = _open_record(
            case_key,
            case_id,
            binding == BOUND,
            message_field(mid, author, account_id, day),
            f"message:{mid}",
            body_ct,
        )
        if binding != BOUND and mid not in legacy:
            body, verified = None, False
        text = as_text(body)
        if text is None:  # not opened, or not UTF-8 (a reply sealed in a browser: untrusted)
            verified = False if body is not None else verified
        messages.append(
            Message(
                mid,
                author,
                author_name if author == "officer" else "",
                day,
                TAMPERED_TEXT if text is None else text,
                files.get(mid, []),
                verified,
                seq,
            )
        )
    return messages


def discloser_wrote(ctx: Context, case_id: str, discloser_public_key: bytes) -> None:
    """Keep, sealed to the discloser alone, the officers' latest message key as the discloser writes
    (migration 35): what follows it is new to them, whatever the order within a day."""
    (seq,) = ctx.db.execute(
        "SELECT COALESCE(MAX(seq), 0) FROM messages WHERE case_id = ? AND author = 'officer'",
        [case_id],
    ).fetchone()
    ctx.db.execute(
        "INSERT INTO discloser_marks (case_id, seen_ct) VALUES (?, ?)"
        " ON CONFLICT (case_id) DO UPDATE SET seen_ct = excluded.seen_ct",
        [case_id, crypto.seal_to(discloser_public_key, seq.to_bytes(8, "big"))],
    )


def seen_by_discloser(ctx: Context, case_id: str, discloser_private_key: bytes) -> int | None:
    """The officers' latest message key when the discloser last wrote; None if they never wrote
    since marks were kept (migration 35)."""
    row = ctx.db.execute(
        "SELECT seen_ct FROM discloser_marks WHERE case_id = ?", [case_id]
    ).fetchone()
    if row is None:
        return None
    return int.from_bytes(crypto.open_sealed(discloser_private_key, row[0]), "big")


def officer_messages_since_discloser(ctx: Context, case_id: str, seen: int | None = None) -> int:
    """How many officers' messages came after `seen` (seen_by_discloser), or, with none kept, after
    the discloser's latest message (all of them when the discloser never wrote): counted, not
    capped at a page, and nothing decrypted."""
    if seen is not None:
        return ctx.db.execute(
            "SELECT COUNT(*) FROM messages WHERE case_id = ? AND author = 'officer' AND seq > ?",
            [case_id, seen],
        ).fetchone()[0]
    return ctx.db.execute(
        "SELECT COUNT(*) FROM messages WHERE case_id = ? AND author = 'officer' AND seq > COALESCE("
        "(SELECT MAX(seq) FROM messages WHERE case_id = ? AND author = 'discloser'), 0)",
        [case_id, case_id],
    ).fetchone()[0]


def read_message_page(
    ctx: Context,
    case_id: str,
    case_key: bytes,
    before: int | None = None,
    per_page: int = MESSAGES_PER_PAGE,
) -> MessagePage:
    """The latest `per_page` messages below `before` (None: the latest of all), in time order, and
    where the earlier and later pages start. A fixed number of queries, whatever the length."""
    messages = read_messages(ctx, case_id, case_key, before=before, limit=per_page + 1)
    earlier = None
    if len(messages) > per_page:
        messages = messages[1:]
        earlier = messages[0].seq
    later = None
    if before is not None:
        row = ctx.db.execute(
            "SELECT seq FROM messages WHERE case_id = ? AND seq >= ? ORDER BY seq LIMIT 1 OFFSET ?",
            [case_id, before, per_page],
        ).fetchone()
        later = row[0] if row else None
    return MessagePage(messages, earlier, later, before is None)


def _ref(ctx: Context, case_id: str) -> str:
    return ctx.db.execute("SELECT ref FROM cases WHERE id = ?", [case_id]).fetchone()[0]


DAY_SHIFT = 40  # a message's order key: the day's ordinal above these bits
DISCLOSER_HALF = 1 << (DAY_SHIFT - 1)  # the discloser's messages of a day: this half, at random


def message_place(ctx: Context, case_id: str, author: str, day: str) -> int:
    """The order key (`messages.seq`) of a new message of `day` ('YYYY-MM-DD'): the day's ordinal
    << 40, plus, for an officer's message, one more than the officers' latest of that day (they are
    timed in the audit log anyway), or, for the discloser's, 2**39 + a random 39-bit number: the
    thread reads by day, officers' messages first, and the key says nothing of when within the day
    a discloser wrote (migration 30)."""
    base = dt.date.fromisoformat(day).toordinal() << DAY_SHIFT
    if author == "discloser":
        return base + DISCLOSER_HALF + secrets.randbelow(DISCLOSER_HALF)
    return ctx.db.execute(
        "SELECT COALESCE(MAX(seq), ?) + 1 FROM messages WHERE case_id = ? AND seq >= ? AND seq < ?",
        [base, case_id, base, base + DISCLOSER_HALF],
    ).fetchone()[0]


def insert_message(
    ctx: Context,
    case_id: str,
    case_key: bytes,
    *,
    author: str,
    account_id: int | None,
    day: str,
    body: str,
) -> str:
    """Insert one message row, bound to its author and day, and its audit entry; the caller holds
    the transaction. Returns the message id."""
    message_id = new_id()
    body_ct = crypto.encrypt_field(
        case_key, case_id, message_field(message_id, author, account_id, day), body.encode()
    )
    _store_message(ctx, case_id, message_id, author, account_id, day, body_ct)
    return message_id


def insert_sealed_message(ctx: Context, case_id: str, message_id: str, day: str, body_ct: bytes):
    """A discloser's message sealed in their browser (field message_field(message_id, "discloser",
    None, day); docs/sealed-submission.md), stored and audited as insert_message stores theirs; the
    caller holds the transaction."""
    _store_message(ctx, case_id, message_id, "discloser", None, day, body_ct)


def _store_message(ctx, case_id, message_id, author, account_id, day, body_ct) -> None:
    seq = message_place(ctx, case_id, author, day)
    ctx.db.execute(
        "INSERT INTO messages (id, case_id, seq, author, account_id, day, body_ct, binding) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [message_id, case_id, seq, author, account_id, day, body_ct, BOUND],
    )
    detail = {"message_id": message_id, "author": author, "day": day}
    if author == "discloser":
        # Its place in the chain, between officers' timed entries, would tell when the discloser
        # wrote: it waits for the day's end and goes in with the day's others in random order.
        audit.record_for_the_day(
            ctx, "discloser_message", case_ref=_ref(ctx, case_id), detail=detail
        )
    else:
        audit.record(ctx, "reply", actor=account_id, case_ref=_ref(ctx, case_id), detail=detail)


def insert_status(
    ctx: Context,
    case_id: str,
    case_key: bytes,
    *,
    status: str,
    day: str,
    account_id: int | None,
    reason: str = "",
    expected_timeframe: str = "",
    event: str | None = "status_change",
    referred_to: dict[str, str] | None = None,
) -> int:
    """Record a status (and set it on the case), bound to its value, day and actor, with its audit
    entry (`event`, e.g. "status_change" or "referral"; None only for the first 'received' record,
    made by the discloser: audited at the day's end, see insert_message). The caller holds the
    transaction. Returns its number. Raises ReasonRequired for a status in REASON_REQUIRED without
    a reason. `referred_to` ({"authority", "contact"}: what the discloser of a referred case is
    given) is sealed in the record with the reason."""
    if status in REASON_REQUIRED and not reason.strip():
        raise ReasonRequired(f"The status {status!r} needs a reason.")
    seq = ctx.db.execute(
        "SELECT COALESCE(MAX(seq), 0) + 1 FROM status_events WHERE case_id = ?", [case_id]
    ).fetchone()[0]
    values: dict = {"reason": reason, "expected_timeframe": expected_timeframe}
    if referred_to is not None:
        values["referred_to"] = referred_to
    note = json.dumps(values).encode()
    reason_ct = crypto.encrypt_field(
        case_key, case_id, status_field(seq, status, day, account_id), note
    )
    _store_status(ctx, case_id, seq, status, day, account_id, reason_ct, event)
    return seq


def insert_sealed_status(ctx: Context, case_id: str, day: str, reason_ct: bytes) -> None:
    """The first 'received' record of a case sealed in the discloser's browser, its ciphertext made
    there (field status_field(1, "received", day, None); docs/sealed-submission.md), audited at the
    day's end like the server's own; the caller holds the transaction."""
    _store_status(ctx, case_id, 1, "received", day, None, reason_ct, None)


def _store_status(ctx, case_id, seq, status, day, account_id, reason_ct, event) -> None:
    ctx.db.execute(
        "INSERT INTO status_events (case_id, seq, status, day, account_id, reason_ct, binding) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        [case_id, seq, status, day, account_id, reason_ct, BOUND],
    )
    ctx.db.execute("UPDATE cases SET status = ? WHERE id = ?", [status, case_id])
    detail = {"status_seq": seq, "status": status, "day": day}
    if event is not None:
        audit.record(ctx, event, actor=account_id, case_ref=_ref(ctx, case_id), detail=detail)
    else:
        audit.record_for_the_day(
            ctx, "disclosure_received", case_ref=_ref(ctx, case_id), detail=detail
        )


def status_history(ctx: Context, case_id: str, case_key: bytes) -> list[StatusUpdate]:
    """Every status record, oldest first, each marked verified (True), older and unverified (None)
    or changed outside the portal (False: its reason is withheld)."""
    rows = ctx.db.execute(
        "SELECT seq, status, day, account_id, reason_ct, binding FROM status_events "
        "WHERE case_id = ? ORDER BY seq",
        [case_id],
    ).fetchall()
    legacy = legacy_records(ctx, case_id, "status")
    history = []
    for seq, status, day, account_id, reason_ct, binding in rows:
        note, verified = _open_record(
            case_key,
            case_id,
            binding == BOUND,
            status_field(seq, status, day, account_id),
            f"status:{seq}",
            reason_ct,
        )
        if binding != BOUND and reason_ct is None:
            verified = (
                None if seq == 1 and status == "received" else False
            )  # only the first record had none
        if binding != BOUND and str(seq) not in legacy:
            note, verified = None, False
        values = as_object(note) if note is not None else {}
        if values is None:  # opened, but not the JSON object the portal writes
            values, verified = {}, False
        if status in REASON_REQUIRED and not values.get("reason"):
            verified = False  # a status that needs a reason cannot exist without one
        history.append(
            StatusUpdate(
                status,
                day,
                as_str(values.get("reason")),
                as_str(values.get("expected_timeframe")),
                verified,
                values.get("referred_to") if isinstance(values.get("referred_to"), dict) else None,
            )
        )
    return history


def trusted_status(
    case: CaseRecord, history: list[StatusUpdate]
) -> tuple[StatusUpdate | None, list[str]]:
    """The latest status record that was not tampered with, and the integrity problems found (plain
    words)."""
    problems = [
        Sentence(
            N_("The status record of %(day)s (%(status)s) was changed outside the portal."),
            day=h.day,
            status=Sentence(h.status_label),
        )
        for h in history
        if h.verified is False
    ]
    trusted = [h for h in history if h.verified is not False]
    latest = trusted[-1] if trusted else None
    if latest is None or latest.status != case.status:
        problems.append(
            Sentence(
                N_(
                    "The case is marked '%(status)s' in the database, but its records do not"
                    " support that: it was changed outside the portal. The last recorded status"
                    " is shown."
                ),
                status=Sentence(case.status_label),
            )
        )
    return latest, problems

"""The audit log: who did what to which case or account, chained so that nobody can quietly rewrite
it.

Recording an event (the API other modules call):

    from portal import audit
    audit.record(ctx, "case_view", actor=who.account.id, case_ref=case.ref)
    audit.record(ctx, "membership_add", actor=admin_id, subject=officer_id, channel=channel_id)

    record(ctx, event, *, actor, case_ref=None, subject=None, channel=None, detail=None) -> int

- `event`: a short name, lower case letters, digits, `_` and `.` (e.g. "sign_in", "grant"); give it
  a plain-language label in EVENT_LABELS (portal/records/audit_entries.py) so the console can show
  it.
- `actor`: the account id that acted, or None (the discloser, an operator at the command line).
- `case_ref`: the case's reference (PD-...), when the event is about a case.
- `subject`: the account id the event is about, when that is not the actor (a membership, a failed
  sign-in for a known account).
- `channel`: the channel id, when the event is about a channel's settings or membership.
- `detail`: a small dict of ids, statuses, counts: str values of at most 100 characters, ints, bools
  or None. Never discloser content (no text anybody typed into a case), never an address or user
  agent.
- Returns the entry's sequence number (1, 2, 3 ...). Raises ValueError for a malformed event or
  detail.

It is written inside the caller's transaction when there is one (`with transaction(ctx.db): ...`),
so the entry exists exactly when the action does; otherwise in a transaction of its own.

The chain (SECURITY.md, "Audit chain"): entry n's `link` is crypto.audit_link(key, link(n-1),
fields(n)), keyed BLAKE2b-256, with key = derive_subkey(installation secret_key, "audit-chain") and
the all-zero link before the first entry. Someone who can write the database but not read
installation.json cannot forge a link. The chain's length and latest link are also written, once
after each commit however many entries it holds, to `audit-head.json` in the data directory
(atomically: a temporary file renamed into
place) and are printed by `portal audit head` for keeping where the server cannot write, so a
cut-off tail or a chain rebuilt with the key is found too. `verify()`
(portal/records/audit_verify.py) checks all of it, and that each status record and message stored
since this version matches its audit entry (a database edit of a status or a message's author).

Times: to the second (UTC) for what an account did; to the day, in the installation's zone, for what
a discloser or nobody in particular did (SECURITY.md, "Audit log": a discloser's actions are kept to
the day).

What a discloser did (a disclosure received, a message sent) is not appended when it happens: its
place in the chain, between officers' timed entries, would time it. `record_for_the_day()` keeps it
in `audit_pending` (a random id, the day, the entry; migration 30) and `close_past_days()` appends
every entry of a day that has ended in one batch, in random order, before anything else is appended
(the first request, command or audit entry after the day ends; `portal audit verify`, `portal
notify`).
"""

from __future__ import annotations

import json
import re
import secrets

import crypto
from portal.core.clock import now_utc, today
from portal.core.context import Context
from portal.records.audit_head import write_head
from portal.store import after_commit, in_transaction, transaction

_EVENT = re.compile(r"[a-z][a-z0-9_.]{0,63}")


def chain_key(ctx: Context) -> bytes:
    return crypto.derive_subkey(ctx.settings.secret_key, "audit-chain")


def _clean_detail(detail: dict | None) -> str:
    detail = detail or {}
    for key, value in detail.items():
        if not isinstance(key, str) or not _EVENT.fullmatch(key):
            raise ValueError(f"audit detail key {key!r} is not a plain name")
        if isinstance(value, str):
            if len(value) > 100:
                raise ValueError("audit detail values are ids and statuses, never free text")
        elif value is not None and not isinstance(value, (int, bool)):
            raise ValueError(f"audit detail {key!r} must be str, int, bool or None")
    return json.dumps(detail, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def chain_fields(
    seq: int, at: str, event: str, actor, subject, channel, case_ref, detail: str
) -> list[str]:
    def opt(value) -> str:
        return "" if value is None else str(value)

    return [str(seq), at, event, opt(actor), opt(subject), opt(channel), opt(case_ref), detail]


def record(
    ctx: Context,
    event: str,
    *,
    actor: int | None,
    case_ref: str | None = None,
    subject: int | None = None,
    channel: int | None = None,
    detail: dict | None = None,
) -> int:
    """Append one entry to the chain; see the module docstring. Returns its sequence number."""
    if not _EVENT.fullmatch(event):
        raise ValueError(f"bad audit event name {event!r}")
    detail_text = _clean_detail(detail)
    if actor is None and subject is None:
        at = today(ctx.settings.timezone)
    else:
        at = now_utc().strftime("%Y-%m-%dT%H:%M:%SZ")
    if in_transaction(ctx.db):
        close_past_days(ctx)
        return _append(ctx, event, at, actor, subject, channel, case_ref, detail_text)
    with transaction(ctx.db):
        close_past_days(ctx)
        return _append(ctx, event, at, actor, subject, channel, case_ref, detail_text)


def record_for_the_day(
    ctx: Context, event: str, *, case_ref: str | None, detail: dict | None = None
) -> None:
    """Keep an entry about a discloser's action for today's batch (no actor; its time is the day).
    Inside the caller's transaction when there is one. Raises ValueError as record() does."""
    if not _EVENT.fullmatch(event):
        raise ValueError(f"bad audit event name {event!r}")
    detail_text = _clean_detail(detail)
    statement = (
        "INSERT INTO audit_pending (id, day, event, case_ref, detail) VALUES (?, ?, ?, ?, ?)",
        [secrets.token_hex(16), today(ctx.settings.timezone), event, case_ref, detail_text],
    )
    if in_transaction(ctx.db):
        ctx.db.execute(*statement)
    else:
        with transaction(ctx.db):
            ctx.db.execute(*statement)


# Per data directory, the day up to which no ended day's entries were found waiting: a later check
# that day would find none either (entries wait under the day they were made), so it is skipped.
_closed_through: dict[str, str] = {}


def close_past_days(ctx: Context) -> int:
    """Append the waiting entries of every day before today, day by day, each day's in random order;
    return how many. One query at most per process and day when there is nothing to append. Inside
    the caller's transaction when there is one."""
    day = today(ctx.settings.timezone)
    where = str(ctx.settings.data_dir)
    if _closed_through.get(where) == day:
        return 0
    if not ctx.db.execute("SELECT 1 FROM audit_pending WHERE day < ? LIMIT 1", [day]).fetchone():
        _closed_through[where] = day
        return 0
    if in_transaction(ctx.db):
        return _close(ctx, day)
    with transaction(ctx.db):
        return _close(ctx, day)


def _close(ctx: Context, day: str) -> int:
    rows = ctx.db.execute(
        "SELECT id, day, event, case_ref, detail FROM audit_pending WHERE day < ?", [day]
    ).fetchall()
    shuffled = list(rows)
    secrets.SystemRandom().shuffle(shuffled)
    for _, at, event, case_ref, detail_text in sorted(shuffled, key=lambda row: row[1]):
        _append(ctx, event, at, None, None, None, case_ref, detail_text)
    ctx.db.execute("DELETE FROM audit_pending WHERE day < ?", [day])
    after_commit(ctx.db, lambda: _closed_through.__setitem__(str(ctx.settings.data_dir), day))
    return len(rows)


def _append(ctx: Context, event, at, actor, subject, channel, case_ref, detail_text) -> int:
    # Inside the write lock (BEGIN IMMEDIATE), so no other writer can slip an entry in between.
    last = ctx.db.execute("SELECT seq, link FROM audit_log ORDER BY seq DESC LIMIT 1").fetchone()
    seq, previous = (last[0] + 1, bytes.fromhex(last[1])) if last else (1, crypto.AUDIT_GENESIS)
    link = crypto.audit_link(
        chain_key(ctx),
        previous,
        chain_fields(seq, at, event, actor, subject, channel, case_ref, detail_text),
    )
    ctx.db.execute(
        "INSERT INTO audit_log (seq, at, event, actor, subject, channel_id, case_ref, detail, link)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [seq, at, event, actor, subject, channel, case_ref, detail_text, link.hex()],
    )
    data_dir = ctx.settings.data_dir
    # One head write per transaction, with its last entry (write_head never moves it backwards).
    after_commit(ctx.db, lambda: write_head(data_dir, seq, link.hex()), key="audit-head")
    return seq

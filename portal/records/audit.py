"""The audit log: who did what to which case or account, chained so that nobody can quietly rewrite
it.

Recording an event (the API other modules call):

    from portal import audit
    audit.record(ctx, "case_view", actor=who.account.id, case_ref=case.ref)
    audit.record(ctx, "membership_add", actor=admin_id, subject=officer_id, channel=channel_id)

    record(ctx, event, *, actor, case_ref=None, subject=None, channel=None, detail=None) -> int

- `event`: a short name, lower case letters, digits, `_` and `.` (e.g. "sign_in", "grant"); give it
  a
  plain-language label in EVENT_LABELS so the console can show it.
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
so
the entry exists exactly when the action does; otherwise in a transaction of its own.

The chain (SECURITY.md, "Audit chain"): entry n's `link` is crypto.audit_link(key, link(n-1),
fields(n)),
keyed BLAKE2b-256, with key = derive_subkey(installation secret_key, "audit-chain") and the all-zero
link before the first entry. Someone who can write the database but not read installation.json
cannot
forge a link. The chain's length and latest link are also written, after each commit, to
`audit-head.json` in the data directory (atomically: a temporary file renamed into place) and are
printed by `portal audit head` for keeping where the server cannot write, so a cut-off tail or a
chain
rebuilt with the key is found too. `verify()` checks all of it, and that each status record and
message
stored since this version matches its audit entry (a database edit of a status or a message's
author).

Times: to the second (UTC) for what an account did; to the day, in the installation's zone, for what
a
discloser or nobody in particular did (SECURITY.md, "Audit log": a discloser's actions are kept to
the day).
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator
from zoneinfo import ZoneInfo

import crypto
from portal.core.clock import now_utc, today
from portal.core.context import Context
from portal.store import after_commit, in_transaction, transaction

HEAD_FILE = "audit-head.json"
_LOCK_FILE = "audit-head.lock"
_EVENT = re.compile(r"[a-z][a-z0-9_.]{0,63}")

# Plain-language labels for the console; an event without one is shown by its name.
EVENT_LABELS: dict[str, str] = {
    "sign_in": "Signed in",
    "sign_in_failed": "Failed sign-in",
    "sign_in_paused": "Sign-in paused after failed attempts",
    "sign_out": "Signed out",
    "sign_out_everywhere": "Signed out on every device",
    "passphrase_confirmed": "Confirmed passphrase",
    "passphrase_confirm_failed": "Wrong passphrase when asked again",
    "account_add": "Account created at the command line",
    "channel_add": "Channel added",
    "membership_add": "Officer added to a channel",
    "membership_request": "Asked for an officer to join a channel",
    "membership_confirm": "Confirmed an officer's membership of a channel",
    "membership_refuse": "Refused an officer's membership of a channel",
    "membership_remove": "Removed an officer from a channel",
    "membership_withdraw": "Withdrew a request for an officer to join a channel",
    "second_factor_change_started": "Started replacing the second factor",
    "invitation": "Enrolment link made",
    "enrolment": "Officer enrolled",
    "credentials_replaced": "Set-up credentials replaced by the officer's own",
    "passphrase_change": "Passphrase changed",
    "second_factor_change": "Second factor replaced",
    "recovery_code_used": "Signed in with a recovery code",
    "settings_change": "Setting changed",
    "case_view": "Case read",
    "download": "Attachment downloaded",
    "reply": "Message sent to the discloser",
    "status_change": "Status changed",
    "step_done": "A step of s 13 recorded as done",
    "extension": "Extension under s 13(2) recorded",
    "progress_update": "Progress update given (s 13(2))",
    "referral": "Referred to an appropriate authority (s 16)",
    "assignment": "Case assigned",
    "note_added": "Internal note added",
    "exclusion": "Officers excluded by the discloser",
    "statistics_view": "Statistics viewed",
    "statistics_export": "Statistics exported",
    "identity_consent_asked": "Discloser asked to consent to releasing their identity (s 17)",
    "identity_release_requested": (
        "Release of the discloser's identity asked, awaiting a second officer (s 17)"
    ),
    "identity_release": "Discloser's identity released (s 17)",
    "case_export": "Case exported",
    "oral_disclosure": "Oral disclosure recorded by an officer",
    "oral_record_confirmed": "Record of an oral disclosure confirmed",
    "case_print": "Case record printed",
    "interest_declared": "Interest declared",
    "interest_removed": "Interest removed",
    "authority_change": "Appropriate-authority directory changed",
    "audit_export": "Audit log exported",
    "grant": "Access to a case given to another officer",
    "offboard": "Officer offboarded: their key copies deleted",
    "recovery_key_set": "Channel recovery key imported",
    "recovery_sealed": "Earlier cases sealed to the channel's recovery key",
    "recovery_used": "Channel recovery key used to re-seal cases to an officer",
    "key_rotation_started": "Key rotation started",
    "key_rotated": "Key pair replaced and case keys re-sealed",
    "retention_change": "Channel's retention period changed",
    "legal_hold": "Legal hold placed",
    "legal_hold_released": "Legal hold lifted",
    "deletion_requested": "Deletion requested (retention period over)",
    "deletion_withdrawn": "Deletion request withdrawn",
    "case_deleted": "Case deleted after its retention period (confirmed by a second officer)",
}

# An entry whose detail carries one of these keys vouches for a workflow record (casefiles writes
# both in one transaction): a status record by its case and sequence number, a message by its id.
RECORD_KEYS = {"status_seq": "status", "message_id": "message"}


def _chain_key(ctx: Context) -> bytes:
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


def _fields(
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
        return _append(ctx, event, at, actor, subject, channel, case_ref, detail_text)
    with transaction(ctx.db):
        return _append(ctx, event, at, actor, subject, channel, case_ref, detail_text)


def _append(ctx: Context, event, at, actor, subject, channel, case_ref, detail_text) -> int:
    # Inside the write lock (BEGIN IMMEDIATE), so no other writer can slip an entry in between.
    last = ctx.db.execute("SELECT seq, link FROM audit_log ORDER BY seq DESC LIMIT 1").fetchone()
    seq, previous = (last[0] + 1, bytes.fromhex(last[1])) if last else (1, crypto.AUDIT_GENESIS)
    link = crypto.audit_link(
        _chain_key(ctx),
        previous,
        _fields(seq, at, event, actor, subject, channel, case_ref, detail_text),
    )
    ctx.db.execute(
        "INSERT INTO audit_log (seq, at, event, actor, subject, channel_id, case_ref, detail, link)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [seq, at, event, actor, subject, channel, case_ref, detail_text, link.hex()],
    )
    data_dir = ctx.settings.data_dir
    after_commit(ctx.db, lambda: _write_head(data_dir, seq, link.hex()))
    return seq


# --- The head kept outside the database
# -------------------------------------------------------------


@dataclass(frozen=True)
class Head:
    length: int
    link: str  # hex

    def line(self) -> str:
        """How `portal audit head` prints it, and how `portal audit verify --expect` reads it
        back."""
        return f"length {self.length} head {self.link}"

    @classmethod
    def parse(cls, text: str) -> "Head":
        match = re.fullmatch(r"\s*length\s+(\d+)\s+head\s+([0-9a-f]{64})\s*", text)
        if not match:
            raise ValueError("expected a line like: length 42 head 3fa9... (64 hex digits)")
        return cls(int(match.group(1)), match.group(2))


def _write_head(data_dir: Path, length: int, link: str) -> None:
    """Write the head file atomically; never move it backwards (another worker may have committed
    later)."""
    lock_fd = os.open(data_dir / _LOCK_FILE, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        fcntl.flock(lock_fd, fcntl.LOCK_EX)
        current = read_head(data_dir)
        if isinstance(current, Head) and current.length >= length:
            return
        tmp = data_dir / (HEAD_FILE + ".part")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump({"length": length, "head": link}, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, data_dir / HEAD_FILE)
    finally:
        os.close(lock_fd)


def read_head(data_dir: Path) -> Head | None | str:
    """The head file's contents; None if there is none; a message (str) if it cannot be read."""
    path = data_dir / HEAD_FILE
    try:
        document = json.loads(path.read_text())
        head = Head(int(document["length"]), str(document["head"]))
        Head.parse(head.line())
        return head
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return f"the head file {path.name} cannot be read ({type(exc).__name__})"


# --- Verification --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    intact: bool
    length: int
    message: str
    broken_entry: int | None = None
    unverified_records: int = 0


def _rows(ctx: Context) -> Iterator[tuple]:
    yield from ctx.db.execute(
        "SELECT seq, at, event, actor, subject, channel_id, case_ref, detail, link FROM audit_log"
        " ORDER BY seq"
    )


def verify(ctx: Context, expected: Head | None = None) -> Verdict:
    """Check the whole chain, the head file (and `expected`, a head kept elsewhere) and the workflow
    records against it. Never raises for damage it finds: every problem is a Verdict naming the
    first
    broken entry."""
    try:
        return _verify(ctx, expected)
    except Exception as exc:  # a verdict, never a crash: a damaged database is a finding too
        return Verdict(False, 0, f"The audit log could not be read: {type(exc).__name__}: {exc}")


def _verify(ctx: Context, expected: Head | None) -> Verdict:
    key = _chain_key(ctx)
    previous, length = crypto.AUDIT_GENESIS, 0
    links: dict[int, str] = {}
    records: dict[tuple, dict] = {}
    case_refs: set[str] = set()
    deleted_refs: set[str] = set()
    for seq, at, event, actor, subject, channel, case_ref, detail, link in _rows(ctx):
        if seq != length + 1:
            if seq > length + 1:
                missing = length + 1 if length + 1 == seq - 1 else f"{length + 1} to {seq - 1}"
                return Verdict(
                    False,
                    length,
                    f"Entry {missing} is missing: deleted from the audit log.",
                    length + 1,
                )
            return Verdict(False, length, f"Entry {seq} is out of order.", seq)
        computed = crypto.audit_link(
            key, previous, _fields(seq, at, event, actor, subject, channel, case_ref, detail)
        )
        if not isinstance(link, str) or computed.hex() != link:
            return Verdict(
                False,
                length,
                f"Entry {seq} was altered or moved: its link does not match "
                "its contents and the entry before it.",
                seq,
            )
        previous, length = computed, seq
        links[seq] = link
        if case_ref:
            (deleted_refs if event == "case_deleted" else case_refs).add(case_ref)
        if "_seq" in detail or "_id" in detail:
            values = json.loads(detail)
            for record_key, kind in RECORD_KEYS.items():
                if record_key in values:
                    records[(kind, case_ref, values[record_key])] = {**values, "actor": actor}
    for head, where in (
        (read_head(ctx.settings.data_dir), "the head file"),
        (expected, "the head you gave"),
    ):
        if isinstance(head, str):
            return Verdict(
                False, length, f"The audit log cannot be checked against its head: {head}."
            )
        if head is None:
            if where == "the head file" and length > 0:
                return Verdict(
                    False,
                    length,
                    f"The head file {HEAD_FILE} is missing, so a cut-off tail cannot be ruled out.",
                )
            continue
        if head.length > length:
            return Verdict(
                False,
                length,
                f"The audit log was cut off: it ends at entry {length}, but {where} "
                f"records {head.length} entries (entry {length + 1} onwards is gone).",
                length + 1,
            )
        if head.length and links.get(head.length) != head.link:
            return Verdict(
                False,
                length,
                f"Entry {head.length} does not match {where}: the chain was rewritten.",
                head.length,
            )
    problem, unverified = _check_records(ctx, records, case_refs, deleted_refs)
    if problem:
        return Verdict(False, length, problem, unverified_records=unverified)
    note = (
        f" {unverified} older workflow record(s) predate record binding and are not verified."
        if unverified
        else ""
    )
    return Verdict(
        True,
        length,
        f"The audit log is intact: {length} entries.{note}",
        unverified_records=unverified,
    )


def _check_records(
    ctx: Context, records: dict[tuple, dict], case_refs: set[str], deleted_refs: set[str]
) -> tuple[str | None, int]:
    """Each bound status record and message must match its audit entry, and each audited record and
    case
    must still exist unless its case was deleted through the portal (retention); a case's status
    must be its
    latest record's."""
    unverified = 0
    latest: dict[str, tuple[int, str]] = {}
    present: set[tuple] = set()
    legacy = set(ctx.db.execute("SELECT kind, case_id, record FROM legacy_records").fetchall())
    for ref, case_id, seq, status, day, account_id, binding in ctx.db.execute(
        "SELECT c.ref, c.id, s.seq, s.status, s.day, s.account_id, s.binding FROM status_events s "
        "JOIN cases c ON c.id = s.case_id ORDER BY c.ref, s.seq"
    ):
        latest[ref] = (seq, status)
        present.add(("status", ref, seq))
        entry = records.get(("status", ref, seq))
        if binding != 2 and ("status", case_id, str(seq)) not in legacy:
            return (
                (
                    f"Status record {seq} of case {ref} is in the older, unverified format but was"
                    " not there when record binding began: it was written outside the portal."
                ),
                unverified,
            )
        if binding != 2 and entry is None:
            unverified += 1
            continue
        if entry is None and (seq, status, account_id) == (1, "received", None):
            continue  # the discloser's own first record is not audited (casefiles.insert_status)
        if (
            binding != 2
            or entry is None
            or (entry.get("status"), entry.get("day"), entry["actor"]) != (status, day, account_id)
        ):
            return (
                (
                    f"Status record {seq} of case {ref} does not match the audit log: it was"
                    " changed outside the portal."
                ),
                unverified,
            )
    for ref, status in ctx.db.execute("SELECT ref, status FROM cases"):
        if ref in latest and latest[ref][1] != status:
            return (
                f"Case {ref} shows the status {status!r}, which its records do not support.",
                unverified,
            )
    for ref, case_id, mid, author, account_id, day, binding in ctx.db.execute(
        "SELECT c.ref, c.id, m.id, m.author, m.account_id, m.day, m.binding FROM messages m "
        "JOIN cases c ON c.id = m.case_id"
    ):
        present.add(("message", ref, mid))
        entry = records.get(("message", ref, mid))
        if binding != 2 and ("message", case_id, mid) not in legacy:
            return (
                (
                    f"A message of case {ref} is in the older, unverified format but was not there"
                    " when record binding began: it was written outside the portal."
                ),
                unverified,
            )
        if binding != 2 and entry is None:
            unverified += 1
            continue
        if entry is None and (author, account_id) == ("discloser", None):
            continue  # a discloser's message is not audited (casefiles.insert_message)
        if (
            binding != 2
            or entry is None
            or (entry.get("author"), entry.get("day"), entry["actor"]) != (author, day, account_id)
        ):
            return (
                (
                    f"A message of case {ref} does not match the audit log: its author or day was "
                    "changed outside the portal."
                ),
                unverified,
            )
    existing = {row[0] for row in ctx.db.execute("SELECT ref FROM cases")}
    for ref in sorted(case_refs - deleted_refs - existing):
        return (
            (
                f"Case {ref} is in the audit log but gone from the database: it was deleted outside"
                " the portal."
            ),
            unverified,
        )
    for kind, ref, record_id in sorted(set(records) - present, key=str):
        if ref not in deleted_refs:
            what = f"Status record {record_id}" if kind == "status" else "A message"
            return (
                (
                    f"{what} of case {ref} is in the audit log but gone from the database: it was"
                    " deleted outside the portal."
                ),
                unverified,
            )
    return None, unverified


# --- Browsing ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    seq: int
    at: str
    event: str
    actor_name: str
    subject_name: str
    channel_name: str
    case_ref: str
    detail: dict

    @property
    def label(self) -> str:
        return EVENT_LABELS.get(self.event, self.event.replace("_", " ").capitalize())


_ENTRY_SQL = (
    "SELECT l.seq, l.at, l.event, COALESCE(a.name, ''), COALESCE(s.name, ''), COALESCE(ch.name,"
    " ''), COALESCE(l.case_ref, ''), l.detail FROM audit_log l LEFT JOIN accounts a ON a.id ="
    " l.actor LEFT JOIN accounts s ON s.id = l.subject LEFT JOIN channels ch ON ch.id ="
    " l.channel_id "
)


def _visible_to(account_id: int, role: str) -> tuple[str, list]:
    """Administrators: account and settings entries. Officers: their own account, their channels'
    settings, and the cases they hold a key for."""
    if role == "admin":
        return "WHERE l.case_ref IS NULL", []
    return (
        (
            "WHERE l.actor = ? OR l.subject = ? OR (l.case_ref IS NULL AND l.channel_id IN (SELECT"
            " channel_id FROM channel_officers WHERE account_id = ? AND state = 'confirmed')) OR"
            " l.case_ref IN (SELECT c.ref FROM cases c JOIN case_keys k ON k.case_id = c.id WHERE"
            " k.recipient = ?)"
        ),
        [account_id, account_id, account_id, f"account:{account_id}"],
    )


def entries_for(
    ctx: Context, account_id: int, role: str, *, limit: int = 100, before: int | None = None
) -> list[Entry]:
    """The entries this account may see, newest first, `limit` at a time (`before`: a sequence
    number)."""
    where, params = _visible_to(account_id, role)
    if before is not None:
        where = f"WHERE l.seq < ? AND ({where.removeprefix('WHERE ')})"
        params = [before, *params]
    rows = ctx.db.execute(
        _ENTRY_SQL + where + " ORDER BY l.seq DESC LIMIT ?", [*params, limit]
    ).fetchall()
    return [Entry(*row[:7], json.loads(row[7])) for row in rows]


def entries_for_case(ctx: Context, case_ref: str) -> list[Entry]:
    """Every entry about one case, oldest first (the caller has checked the account may read the
    case)."""
    rows = ctx.db.execute(_ENTRY_SQL + "WHERE l.case_ref = ? ORDER BY l.seq", [case_ref]).fetchall()
    return [Entry(*row[:7], json.loads(row[7])) for row in rows]


def all_entries_for(ctx: Context, account_id: int, role: str) -> Iterator[Entry]:
    """Every entry this account may see, oldest first (for an export)."""
    where, params = _visible_to(account_id, role)
    for row in ctx.db.execute(_ENTRY_SQL + where + " ORDER BY l.seq", params):
        yield Entry(*row[:7], json.loads(row[7]))


def previous_sign_in(ctx: Context, account_id: int) -> tuple[str | None, int]:
    """For the current session: when this account signed in before it (UTC, ISO 8601; None for a
    first
    sign-in), and how many failed sign-ins for the account came between that one and this."""
    rows = ctx.db.execute(
        "SELECT seq, at FROM audit_log WHERE event = 'sign_in' AND actor = ? "
        "ORDER BY seq DESC LIMIT 2",
        [account_id],
    ).fetchall()
    if not rows:
        return None, 0
    current = rows[0][0]
    previous_seq, previous_at = rows[1] if len(rows) > 1 else (0, None)
    failed = ctx.db.execute(
        "SELECT COUNT(*) FROM audit_log WHERE event = 'sign_in_failed' AND subject = ? "
        "AND seq > ? AND seq < ?",
        [account_id, previous_seq, current],
    ).fetchone()[0]
    return previous_at, failed


def detail_text(detail: dict) -> str:
    return ", ".join(f"{key}: {value}" for key, value in sorted(detail.items()))


def local_time(at: str, tz: str) -> str:
    """An entry's time for people: 'YYYY-MM-DD HH:MM' in the installation's zone, or the day as
    stored."""
    if "T" not in at:
        return at
    moment = dt.datetime.strptime(at, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.timezone.utc)
    return moment.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M")

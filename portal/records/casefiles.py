"""A case's encrypted contents: reading fields, messages and attachments with the case key, and
adding messages. Shared by the discloser's status page and the officers' console."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from typing import Iterator

import crypto
from portal.records import audit
from portal.core.context import Context
from portal.store import in_transaction, transaction

STATUSES: dict[str, str] = {
    "received": "Received: waiting for an integrity officer to acknowledge it",
    "acknowledged": "Acknowledged: an integrity officer has your disclosure",
    "assessing": "Being assessed: an officer is considering what to do",
    "investigating": "Being investigated",
    "addressed": "Addressed: action has been taken or recommended",
    "referred": "Referred to another authority",
    "no_further_action": "Closed: no further action will be taken",
    "closed": "Closed: the matter has been dealt with",
}

CASE_FIELDS = ("category", "summary", "details", "disclosed_elsewhere", "contact")
REASON_REQUIRED = ("referred", "no_further_action")

# Workflow records made since schema 4 are bound to their case (binding = BOUND): the record's clear
# values are part of its ciphertext's field name, so of its associated data (SECURITY.md, "Field
# names"). Older records (binding 0) stay readable and are shown as unverified, if they are listed
# in legacy_records (the unbound records that existed when that list was made, migration 11); any
# other unbound record was written outside the portal.
BOUND = 2
TAMPERED_TEXT = "(This record was changed outside the portal: its content is withheld.)"


class ReasonRequired(ValueError):
    """A status that needs a reason (REASON_REQUIRED) was given none."""


def status_field(seq: int, status: str, day: str, account_id: int | None) -> str:
    return "status:" + json.dumps([seq, status, day, account_id], separators=(",", ":"))


def message_field(message_id: str, author: str, account_id: int | None, day: str) -> str:
    return "message:" + json.dumps([message_id, author, account_id, day], separators=(",", ":"))


class CaseNotFound(Exception):
    """No such case, or not one this reader may open: the two are never told apart."""


@dataclass
class Attachment:
    id: str
    name: str
    content_type: str
    size: int
    sha256: str = ""  # hex digest of the bytes as received ("" for files stored before it was kept)


@dataclass
class Message:
    id: str
    author: str  # 'discloser' or 'officer'
    author_name: str  # an officer's display name; empty for the discloser
    day: str
    body: str
    attachments: list[Attachment] = field(default_factory=list)
    verified: bool | None = (
        True  # True: bound and authentic; None: older, unverified; False: tampered
    )


class HasStatus:
    """Anything with a machine `status`, shown to people by its plain-language label."""

    status: str

    @property
    def status_label(self) -> str:
        return STATUSES.get(self.status, self.status)


@dataclass
class StatusUpdate(HasStatus):
    status: str
    day: str
    reason: str
    expected_timeframe: str
    verified: bool | None = (
        True  # True: bound and authentic; None: older, unverified; False: tampered
    )


@dataclass
class CaseRecord(HasStatus):
    id: str
    ref: str
    channel_id: int
    channel_name: str
    status: str
    received_day: str


def new_id() -> str:
    return secrets.token_hex(16)


def get_case(ctx: Context, *, case_id: str | None = None, ref: str | None = None) -> CaseRecord:
    column, value = ("c.id", case_id) if case_id is not None else ("c.ref", ref)
    row = ctx.db.execute(
        "SELECT c.id, c.ref, c.channel_id, ch.name, c.status, c.received_day FROM cases c "
        f"JOIN channels ch ON ch.id = c.channel_id WHERE {column} = ?",
        [value],
    ).fetchone()
    if row is None:
        raise CaseNotFound()
    return CaseRecord(*row)


def open_case_key(ctx: Context, case_id: str, recipient: str, private_key: bytes) -> bytes:
    row = ctx.db.execute(
        "SELECT sealed_key FROM case_keys WHERE case_id = ? AND recipient = ?", [case_id, recipient]
    ).fetchone()
    if row is None:
        raise CaseNotFound()
    try:
        return crypto.open_sealed(private_key, row[0])
    except crypto.DecryptionError as exc:
        raise CaseNotFound() from exc


def read_fields(
    ctx: Context, case_id: str, case_key: bytes, names: tuple[str, ...] | None = None
) -> dict[str, str]:
    """The case's fields decrypted (only `names`, when given)."""
    only = f" AND name IN ({', '.join('?' for _ in names)})" if names is not None else ""
    rows = ctx.db.execute(
        "SELECT name, value_ct FROM case_fields WHERE case_id = ?" + only, [case_id, *(names or ())]
    ).fetchall()
    return {name: crypto.decrypt_field(case_key, case_id, name, ct).decode() for name, ct in rows}


def read_fields_of_cases(
    ctx: Context, recipient: str, private_key: bytes, case_ids: list[str], names: tuple[str, ...]
) -> dict[str, dict[str, str] | None]:
    """For a page of cases at once: each case's `names` fields, opened with this recipient's own
    sealed copy
    of its key (case id -> fields; None for a case whose key or fields do not open). Two queries in
    all.
    """
    if not case_ids:
        return {}
    marks = ", ".join("?" for _ in case_ids)
    sealed = dict(
        ctx.db.execute(
            "SELECT case_id, sealed_key FROM case_keys WHERE recipient = ? AND case_id IN"
            f" ({marks})",
            [recipient, *case_ids],
        ).fetchall()
    )
    stored: dict[str, dict[str, bytes]] = {}
    for case_id, name, ct in ctx.db.execute(
        f"SELECT case_id, name, value_ct FROM case_fields WHERE case_id IN ({marks}) "
        f"AND name IN ({', '.join('?' for _ in names)})",
        [*case_ids, *names],
    ).fetchall():
        stored.setdefault(case_id, {})[name] = ct
    found: dict[str, dict[str, str] | None] = {}
    for case_id in case_ids:
        try:
            case_key = crypto.open_sealed(private_key, sealed[case_id])
            found[case_id] = {
                name: crypto.decrypt_field(case_key, case_id, name, ct).decode()
                for name, ct in stored.get(case_id, {}).items()
            }
        except (KeyError, crypto.DecryptionError):
            found[case_id] = None
    return found


MOVED_FILE_NAME = "(This file was moved to another message outside the portal.)"


def _attachment(
    case_id: str, case_key: bytes, attachment_id: str, meta_ct: bytes, message_id: str | None = None
) -> Attachment:
    """The attachment's metadata. Its message (None: the disclosure itself) is inside the encrypted
    metadata
    of files stored since it was kept there: a file moved to another message in the database says
    so.
    """
    meta = json.loads(
        crypto.decrypt_field(case_key, case_id, f"attachment:{attachment_id}", meta_ct)
    )
    moved = "message" in meta and meta["message"] != message_id
    return Attachment(
        id=attachment_id,
        name=MOVED_FILE_NAME if moved else meta["name"],
        content_type=meta["type"],
        size=meta["size"],
        sha256=meta.get("sha256", ""),
    )


def read_attachments(
    ctx: Context, case_id: str, case_key: bytes, message_id: str | None = None
) -> list[Attachment]:
    rows = ctx.db.execute(
        "SELECT id, meta_ct FROM attachments WHERE case_id = ? AND message_id IS ? ORDER BY seq",
        [case_id, message_id],
    ).fetchall()
    return [_attachment(case_id, case_key, aid, ct, message_id) for aid, ct in rows]


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


def read_messages(ctx: Context, case_id: str, case_key: bytes) -> list[Message]:
    legacy = legacy_records(ctx, case_id, "message")
    rows = ctx.db.execute(
        "SELECT m.id, m.author, m.account_id, COALESCE(a.name, ''), m.day, m.body_ct, m.binding"
        " FROM messages m LEFT JOIN accounts a ON a.id = m.account_id WHERE m.case_id = ? ORDER BY"
        " m.seq",
        [case_id],
    ).fetchall()
    messages = []
    for mid, author, account_id, author_name, day, body_ct, binding in rows:
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
        messages.append(
            Message(
                mid,
                author,
                author_name if author == "officer" else "",
                day,
                TAMPERED_TEXT if body is None else body.decode(),
                read_attachments(ctx, case_id, case_key, mid),
                verified,
            )
        )
    return messages


def attachment_stream(
    ctx: Context, case_id: str, case_key: bytes, attachment_id: str
) -> tuple[Attachment, Iterator[bytes]]:
    """The attachment's metadata and a generator of its decrypted bytes, chunk by chunk."""
    row = ctx.db.execute(
        "SELECT meta_ct, blob, message_id FROM attachments WHERE case_id = ? AND id = ?",
        [case_id, attachment_id],
    ).fetchone()
    if row is None:
        raise CaseNotFound()
    attachment = _attachment(case_id, case_key, attachment_id, row[0], row[2])
    key = crypto.stream_key(case_key, case_id, attachment_id)
    ad = crypto.attachment_ad(case_id, attachment_id)

    def chunks() -> Iterator[bytes]:
        with ctx.blobs.open(row[1]) as source:
            yield from crypto.iter_decrypt(key, source, ad)

    return attachment, chunks()


def encrypt_attachment_meta(
    case_id: str, case_key: bytes, attachment: Attachment, message_id: str | None
) -> bytes:
    meta = {
        "name": attachment.name,
        "type": attachment.content_type,
        "size": attachment.size,
        "message": message_id,
    }
    if attachment.sha256:
        meta["sha256"] = attachment.sha256
    return crypto.encrypt_field(
        case_key, case_id, f"attachment:{attachment.id}", json.dumps(meta).encode()
    )


def _ref(ctx: Context, case_id: str) -> str:
    return ctx.db.execute("SELECT ref FROM cases WHERE id = ?", [case_id]).fetchone()[0]


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
    the
    transaction. Returns the message id."""
    message_id = new_id()
    seq = ctx.db.execute(
        "SELECT COALESCE(MAX(seq), 0) + 1 FROM messages WHERE case_id = ?", [case_id]
    ).fetchone()[0]
    body_ct = crypto.encrypt_field(
        case_key, case_id, message_field(message_id, author, account_id, day), body.encode()
    )
    ctx.db.execute(
        "INSERT INTO messages (id, case_id, seq, author, account_id, day, body_ct, binding) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [message_id, case_id, seq, author, account_id, day, body_ct, BOUND],
    )
    # A discloser's message is not audited: its place in the chain, between officers' timed entries,
    # would tell when the discloser wrote, which the portal keeps only to the day.
    if author != "discloser":
        audit.record(
            ctx,
            "reply",
            actor=account_id,
            case_ref=_ref(ctx, case_id),
            detail={"message_id": message_id, "author": author, "day": day},
        )
    return message_id


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
) -> int:
    """Record a status (and set it on the case), bound to its value, day and actor, with its audit
    entry
    (`event`, e.g. "status_change" or "referral"; None only for the first 'received' record, made by
    the
    discloser and not audited, see insert_message). The caller holds the transaction. Returns its
    number.
    Raises ReasonRequired for a status in REASON_REQUIRED without a reason."""
    if status in REASON_REQUIRED and not reason.strip():
        raise ReasonRequired(f"The status {status!r} needs a reason.")
    seq = ctx.db.execute(
        "SELECT COALESCE(MAX(seq), 0) + 1 FROM status_events WHERE case_id = ?", [case_id]
    ).fetchone()[0]
    note = json.dumps({"reason": reason, "expected_timeframe": expected_timeframe}).encode()
    ctx.db.execute(
        "INSERT INTO status_events (case_id, seq, status, day, account_id, reason_ct, binding) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            case_id,
            seq,
            status,
            day,
            account_id,
            crypto.encrypt_field(
                case_key, case_id, status_field(seq, status, day, account_id), note
            ),
            BOUND,
        ],
    )
    ctx.db.execute("UPDATE cases SET status = ? WHERE id = ?", [status, case_id])
    if event is not None:
        audit.record(
            ctx,
            event,
            actor=account_id,
            case_ref=_ref(ctx, case_id),
            detail={"status_seq": seq, "status": status, "day": day},
        )
    return seq


def insert_attachments(
    ctx: Context,
    case_id: str,
    case_key: bytes,
    message_id: str | None,
    attachments: list[tuple[Attachment, str]],
) -> None:
    """Insert attachment rows (metadata encrypted, blob name in the clear); the caller holds the
    transaction."""
    for seq, (attachment, blob_name) in enumerate(attachments, start=1):
        ctx.db.execute(
            "INSERT INTO attachments (id, case_id, message_id, seq, blob, meta_ct) VALUES (?, ?, ?,"
            " ?, ?, ?)",
            [
                attachment.id,
                case_id,
                message_id,
                seq,
                blob_name,
                encrypt_attachment_meta(case_id, case_key, attachment, message_id),
            ],
        )


def status_history(ctx: Context, case_id: str, case_key: bytes) -> list[StatusUpdate]:
    """Every status record, oldest first, each marked verified (True), older and unverified (None)
    or
    changed outside the portal (False: its reason is withheld)."""
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
        values = json.loads(note) if note is not None else {}
        if status in REASON_REQUIRED and not values.get("reason"):
            verified = False  # a status that needs a reason cannot exist without one
        history.append(
            StatusUpdate(
                status,
                day,
                values.get("reason", ""),
                values.get("expected_timeframe", ""),
                verified,
            )
        )
    return history


def trusted_status(
    case: CaseRecord, history: list[StatusUpdate]
) -> tuple[StatusUpdate | None, list[str]]:
    """The latest status record that was not tampered with, and the integrity problems found (plain
    words)."""
    problems = [
        f"The status record of {h.day} ({h.status_label}) was changed outside the portal."
        for h in history
        if h.verified is False
    ]
    trusted = [h for h in history if h.verified is not False]
    latest = trusted[-1] if trusted else None
    if latest is None or latest.status != case.status:
        problems.append(
            f"The case is marked '{case.status_label}' in the database, but its records do not "
            "support that: it was changed outside the portal. The last recorded status is shown."
        )
    return latest, problems


def referenced_blobs(ctx: Context) -> set[str]:
    return {row[0] for row in ctx.db.execute("SELECT blob FROM attachments").fetchall()}


# --- The officers-only key
# ---------------------------------------------------------------------------- The discloser holds
# the case key (sealed to their receipt key), so what only officers may read (internal notes,
# referral records, the list of excluded officers) is under a second random key per case, sealed to
# each officer reader and never to the discloser.


def insert_internal_keys(ctx: Context, case_id: str, internal_key: bytes, readers: list) -> None:
    """Seal the officers-only key to each reader (objects with `id` and `public_key`); in the
    caller's transaction."""
    for reader in readers:
        ctx.db.execute(
            "INSERT OR IGNORE INTO internal_keys (case_id, account_id, sealed_key) VALUES (?,"
            " ?, ?)",
            [case_id, reader.id, crypto.seal_to(reader.public_key, internal_key)],
        )


# Tables holding each officer's sealed copy of one of a case's further keys (the officers-only key,
# the identity key), all shaped (case_id, account_id, sealed_key). Whatever re-seals, grants or
# revokes an officer's access to a case must treat these exactly like the officer's row in
# case_keys.
OFFICER_SEALED_TABLES = ("internal_keys", "identity_keys")


def open_internal_key(
    ctx: Context, case_id: str, account_id: int, private_key: bytes
) -> bytes | None:
    """The officers-only key of a case for this officer; for a case made before it existed, a new
    one is
    made and sealed to every officer who reads the case. None if other readers have it and this one
    not.
    """
    row = ctx.db.execute(
        "SELECT sealed_key FROM internal_keys WHERE case_id = ? AND account_id = ?",
        [case_id, account_id],
    ).fetchone()
    if row is not None:
        return crypto.open_sealed(private_key, row[0])
    if ctx.db.execute("SELECT 1 FROM internal_keys WHERE case_id = ?", [case_id]).fetchone():
        return None
    internal_key = crypto.new_case_key()
    readers = ctx.db.execute(
        "SELECT a.id, a.public_key FROM case_keys k JOIN accounts a ON a.id = k.account_id "
        "WHERE k.case_id = ?",
        [case_id],
    ).fetchall()
    if in_transaction(ctx.db):
        insert_internal_keys(ctx, case_id, internal_key, [_Reader(*r) for r in readers])
    else:
        with transaction(ctx.db):
            insert_internal_keys(ctx, case_id, internal_key, [_Reader(*r) for r in readers])
    return open_internal_key(ctx, case_id, account_id, private_key)


@dataclass(frozen=True)
class _Reader:
    id: int
    public_key: bytes

"""A case's encrypted contents: reading fields, messages and attachments with the case key, and
adding messages. Shared by the discloser's status page and the officers' console."""
from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from typing import Iterator

import crypto
from portal.context import Context

STATUSES: dict[str, str] = {
    "received": "Received: waiting for an integrity officer to acknowledge it",
    "acknowledged": "Acknowledged: an integrity officer has your disclosure",
    "assessing": "Being assessed: an officer is considering what to do",
    "investigating": "Being investigated",
    "referred": "Referred to another authority",
    "no_further_action": "Closed: no further action will be taken",
    "closed": "Closed: the matter has been dealt with",
}

CASE_FIELDS = ("category", "summary", "details", "disclosed_elsewhere", "contact")


class CaseNotFound(Exception):
    """No such case, or not one this reader may open: the two are never told apart."""


@dataclass
class Attachment:
    id: str
    name: str
    content_type: str
    size: int


@dataclass
class Message:
    id: str
    author: str          # 'discloser' or 'officer'
    author_name: str     # an officer's display name; empty for the discloser
    day: str
    body: str
    attachments: list[Attachment] = field(default_factory=list)


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
        f"JOIN channels ch ON ch.id = c.channel_id WHERE {column} = ?", [value]).fetchone()
    if row is None:
        raise CaseNotFound()
    return CaseRecord(*row)


def open_case_key(ctx: Context, case_id: str, recipient: str, private_key: bytes) -> bytes:
    row = ctx.db.execute("SELECT sealed_key FROM case_keys WHERE case_id = ? AND recipient = ?",
                         [case_id, recipient]).fetchone()
    if row is None:
        raise CaseNotFound()
    try:
        return crypto.open_sealed(private_key, row[0])
    except crypto.DecryptionError as exc:
        raise CaseNotFound() from exc


def read_fields(ctx: Context, case_id: str, case_key: bytes) -> dict[str, str]:
    rows = ctx.db.execute("SELECT name, value_ct FROM case_fields WHERE case_id = ?", [case_id]).fetchall()
    return {name: crypto.decrypt_field(case_key, case_id, name, ct).decode() for name, ct in rows}


def _attachment(case_id: str, case_key: bytes, attachment_id: str, meta_ct: bytes) -> Attachment:
    meta = json.loads(crypto.decrypt_field(case_key, case_id, f"attachment:{attachment_id}", meta_ct))
    return Attachment(id=attachment_id, name=meta["name"], content_type=meta["type"], size=meta["size"])


def read_attachments(ctx: Context, case_id: str, case_key: bytes, message_id: str | None = None) -> list[Attachment]:
    rows = ctx.db.execute(
        "SELECT id, meta_ct FROM attachments WHERE case_id = ? AND message_id IS ? ORDER BY seq",
        [case_id, message_id]).fetchall()
    return [_attachment(case_id, case_key, aid, ct) for aid, ct in rows]


def read_messages(ctx: Context, case_id: str, case_key: bytes) -> list[Message]:
    rows = ctx.db.execute(
        "SELECT m.id, m.author, COALESCE(a.name, ''), m.day, m.body_ct FROM messages m "
        "LEFT JOIN accounts a ON a.id = m.account_id WHERE m.case_id = ? ORDER BY m.seq", [case_id]).fetchall()
    messages = []
    for mid, author, author_name, day, body_ct in rows:
        body = crypto.decrypt_field(case_key, case_id, f"message:{mid}", body_ct).decode()
        messages.append(Message(mid, author, author_name if author == "officer" else "", day, body,
                                read_attachments(ctx, case_id, case_key, mid)))
    return messages


def attachment_stream(ctx: Context, case_id: str, case_key: bytes, attachment_id: str) -> tuple[Attachment, Iterator[bytes]]:
    """The attachment's metadata and a generator of its decrypted bytes, chunk by chunk."""
    row = ctx.db.execute("SELECT meta_ct, blob FROM attachments WHERE case_id = ? AND id = ?",
                         [case_id, attachment_id]).fetchone()
    if row is None:
        raise CaseNotFound()
    attachment = _attachment(case_id, case_key, attachment_id, row[0])
    key = crypto.stream_key(case_key, case_id, attachment_id)
    ad = crypto.attachment_ad(case_id, attachment_id)

    def chunks() -> Iterator[bytes]:
        with ctx.blobs.open(row[1]) as source:
            yield from crypto.iter_decrypt(key, source, ad)

    return attachment, chunks()


def encrypt_attachment_meta(case_id: str, case_key: bytes, attachment: Attachment) -> bytes:
    meta = {"name": attachment.name, "type": attachment.content_type, "size": attachment.size}
    return crypto.encrypt_field(case_key, case_id, f"attachment:{attachment.id}", json.dumps(meta).encode())


def insert_message(ctx: Context, case_id: str, case_key: bytes, *, author: str, account_id: int | None,
                   day: str, body: str) -> str:
    """Insert one message row; the caller holds the transaction."""
    message_id = new_id()
    seq = ctx.db.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM messages WHERE case_id = ?", [case_id]).fetchone()[0]
    body_ct = crypto.encrypt_field(case_key, case_id, f"message:{message_id}", body.encode())
    ctx.db.execute("INSERT INTO messages (id, case_id, seq, author, account_id, day, body_ct) VALUES (?, ?, ?, ?, ?, ?, ?)",
                   [message_id, case_id, seq, author, account_id, day, body_ct])
    return message_id


def insert_attachments(ctx: Context, case_id: str, case_key: bytes, message_id: str | None,
                       attachments: list[tuple[Attachment, str]]) -> None:
    """Insert attachment rows (metadata encrypted, blob name in the clear); the caller holds the transaction."""
    for seq, (attachment, blob_name) in enumerate(attachments, start=1):
        ctx.db.execute("INSERT INTO attachments (id, case_id, message_id, seq, blob, meta_ct) VALUES (?, ?, ?, ?, ?, ?)",
                       [attachment.id, case_id, message_id, seq, blob_name,
                        encrypt_attachment_meta(case_id, case_key, attachment)])


def status_history(ctx: Context, case_id: str, case_key: bytes) -> list[StatusUpdate]:
    rows = ctx.db.execute("SELECT seq, status, day, reason_ct FROM status_events WHERE case_id = ? ORDER BY seq",
                          [case_id]).fetchall()
    history = []
    for seq, status, day, reason_ct in rows:
        note = {}
        if reason_ct is not None:
            note = json.loads(crypto.decrypt_field(case_key, case_id, f"status:{seq}", reason_ct))
        history.append(StatusUpdate(status, day, note.get("reason", ""), note.get("expected_timeframe", "")))
    return history


def referenced_blobs(ctx: Context) -> set[str]:
    return {row[0] for row in ctx.db.execute("SELECT blob FROM attachments").fetchall()}

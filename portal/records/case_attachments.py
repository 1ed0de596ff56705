"""A case's attachments: their encrypted metadata, reading and streaming the decrypted bytes from
the blob store, inserting attachment rows, and the blobs still referenced."""

from __future__ import annotations

import json
from typing import Iterator

import crypto
from portal.core.context import Context
from portal.records.casefiles import Attachment, CaseNotFound, as_object, as_str

MOVED_FILE_NAME = "(This file was moved to another message outside the portal.)"
UNNAMED_FILE = "(no name given)"
# A file whose sealed details do not open, or are not the JSON object a browser is to send.
UNOPENED_FILE = "(This file's details could not be opened: its name and kind are not known.)"


def _attachment(
    case_id: str, case_key: bytes, attachment_id: str, meta_ct: bytes, message_id: str | None = None
) -> Attachment:
    """The attachment's metadata. Its message (None: the disclosure itself) is inside the encrypted
    metadata of files stored since it was kept there: a file moved to another message in the
    database says so.
    """
    try:
        plain = crypto.decrypt_field(case_key, case_id, f"attachment:{attachment_id}", meta_ct)
    except crypto.DecryptionError:
        plain = None
    meta = as_object(plain)  # a browser's sealed details are untrusted: perhaps not JSON
    if meta is None:
        return Attachment(attachment_id, UNOPENED_FILE, "application/octet-stream", None)
    moved = "message" in meta and meta.get("message") != message_id
    # A file sealed in a browser states its own metadata: each member is taken only if it has
    # the type the server would have written (a size that is not a whole number is None).
    size = meta.get("size")
    kinds = meta.get("hidden_kinds") if isinstance(meta.get("hidden_kinds"), list) else ()
    return Attachment(
        id=attachment_id,
        name=MOVED_FILE_NAME if moved else as_str(meta.get("name"), UNNAMED_FILE),
        content_type=as_str(meta.get("type"), "application/octet-stream"),
        size=size if type(size) is int and size >= 0 else None,
        sha256=as_str(meta.get("sha256"), ""),
        hidden=as_str(meta.get("hidden"), ""),
        hidden_kinds=tuple(kind for kind in kinds if isinstance(kind, str)),
    )


def read_attachments(
    ctx: Context, case_id: str, case_key: bytes, message_id: str | None = None
) -> list[Attachment]:
    rows = ctx.db.execute(
        "SELECT id, meta_ct FROM attachments WHERE case_id = ? AND message_id IS ? ORDER BY seq",
        [case_id, message_id],
    ).fetchall()
    return [_attachment(case_id, case_key, aid, ct, message_id) for aid, ct in rows]


def attachments_of_messages(
    ctx: Context, case_id: str, case_key: bytes, message_ids: list[str]
) -> dict[str, list[Attachment]]:
    """The attachments of a page of the case's messages, in one query (message id -> its files, in
    order; a message without files is absent)."""
    found: dict[str, list[Attachment]] = {}
    if not message_ids:
        return found
    rows = ctx.db.execute(
        "SELECT id, meta_ct, message_id FROM attachments WHERE case_id = ? AND message_id IN"
        " (SELECT value FROM json_each(?)) ORDER BY message_id, seq",
        [case_id, json.dumps(message_ids)],
    ).fetchall()
    for aid, ct, message_id in rows:
        found.setdefault(message_id, []).append(
            _attachment(case_id, case_key, aid, ct, message_id)
        )
    return found


def stream_key_and_ad(case_id: str, case_key: bytes, attachment_id: str) -> tuple[bytes, bytes]:
    """The key and associated data an attachment's bytes are encrypted under."""
    return (
        crypto.stream_key(case_key, case_id, attachment_id),
        crypto.attachment_ad(case_id, attachment_id),
    )


class FileUnopened(Exception):
    """An attachment's bytes do not open: changed outside the portal, or sealed wrongly by a
    browser (a part of another file swapped in). Raised before any byte is sent."""


def attachment_stream(
    ctx: Context, case_id: str, case_key: bytes, attachment_id: str, *, whole: bool = False
) -> tuple[Attachment, Iterator[bytes]]:
    """The attachment's metadata and a generator of its decrypted bytes, chunk by chunk, its first
    chunk already opened (FileUnopened if it does not open). `whole`: every chunk opened once
    before (a file sealed in a browser, which the server never saw whole), so a download is never
    cut off part way; the bytes are then read twice."""
    row = ctx.db.execute(
        "SELECT meta_ct, blob, message_id FROM attachments WHERE case_id = ? AND id = ?",
        [case_id, attachment_id],
    ).fetchone()
    if row is None:
        raise CaseNotFound()
    attachment = _attachment(case_id, case_key, attachment_id, row[0], row[2])
    key, ad = stream_key_and_ad(case_id, case_key, attachment_id)
    try:
        if whole:
            for _ in decrypted_chunks(ctx, row[1], key, ad):
                pass
        chunks = decrypted_chunks(ctx, row[1], key, ad)
        first = next(chunks, None)
    except crypto.DecryptionError:
        raise FileUnopened() from None
    return attachment, _starting_with(first, chunks)


def _starting_with(first: bytes | None, chunks: Iterator[bytes]) -> Iterator[bytes]:
    """`first`, then the rest; FileUnopened for a later chunk that does not open (a clean copy
    reads the file whole before answering, so the officer gets the portal's page)."""
    if first is not None:
        yield first
    try:
        yield from chunks
    except crypto.DecryptionError:
        raise FileUnopened() from None


def decrypted_chunks(ctx: Context, blob: str, key: bytes, ad: bytes) -> Iterator[bytes]:
    """A generator of the blob's decrypted bytes, chunk by chunk. The file is opened now, not at
    the first chunk: a blob missing from the data directory raises FileNotFoundError here, before a
    response has begun, so the person gets the fault page (503) and not a download cut off."""
    source = ctx.blobs.open(blob)

    def chunks() -> Iterator[bytes]:
        with source:
            yield from crypto.iter_decrypt(key, source, ad)

    return chunks()


def write_blob(ctx: Context, key: bytes, ad: bytes, data: bytes):
    """`data` (bytes in memory) encrypted into a new blob, closed but not committed: (its writer,
    to commit or discard; the plaintext length)."""
    writer = ctx.blobs.writer()
    try:
        encryptor = crypto.StreamEncryptor(key, writer.file, ad)
        encryptor.write(data)
        size = encryptor.close()
        writer.close()
    except BaseException:
        writer.discard()
        raise
    return writer, size


def read_whole(ctx: Context, blob: str, key: bytes, ad: bytes) -> bytes:
    """A blob decrypted whole into memory (a file within the checks' size cap)."""
    with ctx.blobs.open(blob) as source:
        return b"".join(crypto.iter_decrypt(key, source, ad))


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
    if attachment.hidden:
        meta["hidden"] = attachment.hidden
        meta["hidden_kinds"] = list(attachment.hidden_kinds)
    return crypto.encrypt_field(
        case_key, case_id, f"attachment:{attachment.id}", json.dumps(meta).encode()
    )


def insert_attachments(
    ctx: Context,
    case_id: str,
    case_key: bytes,
    message_id: str | None,
    attachments: list[tuple[Attachment, str]],
    first_seq: int = 1,
) -> None:
    """Insert attachment rows (metadata encrypted, blob name in the clear), numbered from
    `first_seq` within their message; the caller holds the transaction."""
    insert_sealed_attachments(
        ctx,
        case_id,
        message_id,
        [
            (a.id, blob, encrypt_attachment_meta(case_id, case_key, a, message_id))
            for a, blob in attachments
        ],
        first_seq,
    )


def insert_sealed_attachments(
    ctx: Context,
    case_id: str,
    message_id: str | None,
    rows: list[tuple[str, str, bytes]],
    first_seq: int = 1,
) -> None:
    """Attachment rows (id, blob name, metadata ciphertext: field "attachment:ID"), the metadata
    sealed here or in the discloser's browser (portal.intake.sealed); in the caller's
    transaction."""
    for seq, (attachment_id, blob_name, meta_ct) in enumerate(rows, start=first_seq):
        ctx.db.execute(
            "INSERT INTO attachments (id, case_id, message_id, seq, blob, meta_ct) VALUES (?, ?, ?,"
            " ?, ?, ?)",
            [attachment_id, case_id, message_id, seq, blob_name, meta_ct],
        )


def any_exists(ctx: Context, attachment_ids: list[str]) -> bool:
    """Whether any of these attachment ids is taken (ids a browser chose, portal.intake.sealed)."""
    return any(
        ctx.db.execute("SELECT 1 FROM attachments WHERE id = ?", [aid]).fetchone()
        for aid in attachment_ids
    )


def referenced_blobs(ctx: Context) -> set[str]:
    """Every blob a row names: attachments and the originals kept for disclosers
    (portal.records.original_files)."""
    return {
        row[0]
        for row in ctx.db.execute(
            "SELECT blob FROM attachments UNION SELECT blob FROM original_files"
        ).fetchall()
    }


def all_attachments(ctx: Context, case_id: str, case_key: bytes) -> list[Attachment]:
    """Every file of a case, the disclosure's and its messages', in the order they came."""
    rows = ctx.db.execute(
        "SELECT a.id, a.meta_ct, a.message_id FROM attachments a LEFT JOIN messages m ON"
        " m.id = a.message_id WHERE a.case_id = ? ORDER BY m.seq IS NOT NULL, m.seq, a.seq",
        [case_id],
    ).fetchall()
    return [_attachment(case_id, case_key, aid, ct, mid) for aid, ct, mid in rows]


def next_seq(ctx: Context, case_id: str, message_id: str | None) -> int:
    (last,) = ctx.db.execute(
        "SELECT COALESCE(MAX(seq), 0) FROM attachments WHERE case_id = ? AND message_id IS ?",
        [case_id, message_id],
    ).fetchone()
    return last + 1


def message_of(ctx: Context, case_id: str, attachment_id: str) -> str | None:
    row = ctx.db.execute(
        "SELECT message_id FROM attachments WHERE case_id = ? AND id = ?", [case_id, attachment_id]
    ).fetchone()
    if row is None:
        raise CaseNotFound()
    return row[0]

"""The originals of files whose hidden details were removed at the discloser's request: sealed to
the discloser alone (a key of their own, sealed to the public key their receipt derives), not to
the officers, until the discloser chooses to hand one over; then that key is also kept under the
case key, and the officers can open it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Iterator

import crypto
from portal.core.context import Context
from portal.records.case_attachments import decrypted_chunks
from portal.records.casefiles import CaseNotFound


@dataclass(frozen=True)
class Original:
    id: str  # the id of the cleaned attachment it is the original of
    name: str
    size: int
    sha256: str
    handed_over_day: str | None  # None: still the discloser's alone


def _meta_field(original_id: str) -> str:
    return f"original:{original_id}"


def stream_ad(case_id: str, original_id: str) -> bytes:
    """The associated data of an original's bytes: never the same as its cleaned copy's."""
    return crypto.attachment_ad(case_id, _meta_field(original_id))


def encrypt_meta(key: bytes, case_id: str, original: Original) -> bytes:
    meta = {"name": original.name, "size": original.size, "sha256": original.sha256}
    return crypto.encrypt_field(key, case_id, _meta_field(original.id), json.dumps(meta).encode())


def insert_originals(
    ctx: Context,
    case_id: str,
    discloser_public_key: bytes,
    key: bytes,
    originals: list[tuple[Original, str]],
) -> None:
    """Inside the caller's transaction: one row per (original, blob name), its key sealed to the
    discloser only."""
    insert_sealed_originals(
        ctx,
        case_id,
        [
            (
                original.id,
                blob,
                crypto.seal_to(discloser_public_key, key),
                encrypt_meta(key, case_id, original),
            )
            for original, blob in originals
        ],
    )


def insert_sealed_originals(
    ctx: Context, case_id: str, rows: list[tuple[str, str, bytes, bytes]]
) -> None:
    """Inside the caller's transaction: (original id, blob name, its key sealed to the discloser,
    its meta under that key) as stored, sealed here or in the discloser's browser."""
    for original_id, blob, sealed_key, meta_ct in rows:
        ctx.db.execute(
            "INSERT INTO original_files (id, case_id, blob, sealed_key, meta_ct) VALUES (?, ?, ?,"
            " ?, ?)",
            [original_id, case_id, blob, sealed_key, meta_ct],
        )


def _open(case_id: str, key: bytes, original_id: str, meta_ct: bytes, day) -> Original:
    meta = json.loads(crypto.decrypt_field(key, case_id, _meta_field(original_id), meta_ct))
    return Original(original_id, meta["name"], meta["size"], meta["sha256"], day)


def _key_field(original_id: str) -> str:
    return f"original-key:{original_id}"


def discloser_originals(ctx: Context, case_id: str, private_key: bytes) -> list[Original]:
    """The originals kept for this case's discloser (their receipt-derived private key)."""
    found = []
    for oid, sealed, meta_ct, day in ctx.db.execute(
        "SELECT id, sealed_key, meta_ct, handed_over_day FROM original_files WHERE case_id = ?"
        " ORDER BY rowid",
        [case_id],
    ).fetchall():
        found.append(_open(case_id, crypto.open_sealed(private_key, sealed), oid, meta_ct, day))
    return found


def hand_over(
    ctx: Context, case_id: str, case_key: bytes, private_key: bytes, original_id: str, day: str
) -> None:
    """The discloser hands one original over: its key kept under the case key too. Raises
    CaseNotFound for an original that is not this case's."""
    row = ctx.db.execute(
        "SELECT sealed_key FROM original_files WHERE case_id = ? AND id = ?",
        [case_id, original_id],
    ).fetchone()
    if row is None:
        raise CaseNotFound()
    key = crypto.open_sealed(private_key, row[0])
    ctx.db.execute(
        "UPDATE original_files SET handed_over_key_ct = ?, handed_over_day = ? WHERE id = ?",
        [crypto.encrypt_field(case_key, case_id, _key_field(original_id), key), day, original_id],
    )


def _handed_over_key(case_id: str, case_key: bytes, original_id: str, key_ct: bytes) -> bytes:
    return crypto.decrypt_field(case_key, case_id, _key_field(original_id), key_ct)


def handed_over(ctx: Context, case_id: str, case_key: bytes) -> list[Original]:
    """The originals the discloser handed over, as the officers (the case key) see them."""
    return [
        _open(case_id, _handed_over_key(case_id, case_key, oid, key_ct), oid, meta_ct, day)
        for oid, key_ct, meta_ct, day in ctx.db.execute(
            "SELECT id, handed_over_key_ct, meta_ct, handed_over_day FROM original_files WHERE"
            " case_id = ? AND handed_over_key_ct IS NOT NULL ORDER BY rowid",
            [case_id],
        ).fetchall()
    ]


def original_stream(
    ctx: Context, case_id: str, case_key: bytes, original_id: str
) -> tuple[Original, Iterator[bytes]]:
    """A handed-over original and its decrypted bytes, chunk by chunk; CaseNotFound for one not
    handed over."""
    row = ctx.db.execute(
        "SELECT handed_over_key_ct, meta_ct, handed_over_day, blob FROM original_files WHERE"
        " case_id = ? AND id = ? AND handed_over_key_ct IS NOT NULL",
        [case_id, original_id],
    ).fetchone()
    if row is None:
        raise CaseNotFound()
    key = _handed_over_key(case_id, case_key, original_id, row[0])
    original = _open(case_id, key, original_id, row[1], row[2])

    return original, decrypted_chunks(
        ctx, row[3], crypto.stream_key(key, case_id, original_id), stream_ad(case_id, original_id)
    )

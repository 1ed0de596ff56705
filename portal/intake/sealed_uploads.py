"""Files sealed in the discloser's browser, uploaded in parts before the disclosure that names them
(docs/sealed-submission.md, section 4; migration 37).

Each part is written to the upload's own file as it arrives, never held whole; the row says how
many parts are stored, so an interrupted upload resumes from the next. An upload is bound to the
session's form token and to the size declared when it was made, keeps no time finer than its
day, and expires at EXPIRES_AT_HOUR the next morning. The disclosure moves the finished file into
the blob store (BlobStore.adopt): its bytes are the secretstream blob the browser made, the same
format as the server's own.

A declaration costs nothing: each part is charged to the disclosers' daily byte budget and checked
against the free-space floor as it is stored, so declared bytes that are never sent hold neither
(the fresh review's M1). The declared size is only checked, not taken, against both when the
upload begins, so that a file that could not be stored today is refused before it is sent."""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO
from zoneinfo import ZoneInfo

import crypto
from portal.core.clock import day_start_timestamp, now_utc, today
from portal.core.context import Context
from portal.intake import receiving
from portal.store import transaction

PART_BYTES = 64 * 1024
EXPIRES_AT_HOUR = 6  # an upload of day D is deleted from 06:00 on day D + 1 (6 to 30 hours)
# The longest an upload lives. With no time finer than its day kept, the longest life is the
# shortest (6 h, for one begun just before midnight) plus a day: this bound is the day rule's own.
LONGEST_LIFE_SECONDS = (24 + EXPIRES_AT_HOUR) * 3600
MAX_UPLOAD_BYTES = 2**41  # a few times the largest file the portal keeps


class UploadNotFound(Exception):
    """No such upload for this session (or it expired): never says which."""


# Uploads begun and not yet finished or expired, for everyone together (_refuse_past_the_open_caps).
OPEN_UPLOADS_AT_MOST = 2048


class PartRefused(Exception):
    """A part that cannot be stored: `code` 'out-of-order', 'wrong-size', 'different',
    'malformed' or, for a new upload, 'too-many' (docs/sealed-submission.md)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Upload:
    id: str
    size: int
    parts: int
    received: int

    @property
    def complete(self) -> bool:
        return self.received == self.size

    @property
    def padded(self) -> int:
        """The padded file's length its size stands for (crypto.blob_shape): what quotas count."""
        return crypto.blob_shape(self.size, bytes((crypto.PADDED_VERSION, 4)))


def _folder(ctx: Context) -> Path:
    folder = ctx.settings.blob_dir.parent / "sealed-uploads"
    folder.mkdir(mode=0o700, exist_ok=True)
    return folder


def _file(ctx: Context, upload_id: str) -> Path:
    return _folder(ctx) / upload_id


def _bound(bound: str) -> str:
    return hashlib.sha256(bound.encode("utf-8", errors="replace")).hexdigest()


def _cutoff(ctx: Context) -> dt.date:
    """The earliest day an upload may have and still be alive (EXPIRES_AT_HOUR)."""
    zone = ctx.settings.timezone
    local_today = dt.date.fromisoformat(today(zone))
    hour = now_utc().astimezone(ZoneInfo(zone)).hour
    return local_today if hour >= EXPIRES_AT_HOUR else local_today - dt.timedelta(days=1)


def purge_expired(ctx: Context) -> int:
    """Delete the uploads past their expiry, rows and files; returns how many."""
    cutoff = _cutoff(ctx)
    with transaction(ctx.db):
        gone = [
            row[0]
            for row in ctx.db.execute(
                "SELECT id FROM sealed_uploads WHERE day < ?", [cutoff.isoformat()]
            ).fetchall()
        ]
        ctx.db.execute("DELETE FROM sealed_uploads WHERE day < ?", [cutoff.isoformat()])
    for upload_id in gone:
        _file(ctx, upload_id).unlink(missing_ok=True)
    return len(gone)


def begin_upload(ctx: Context, bound: str, size: int) -> Upload:
    """A new upload of a blob of `size` bytes (crypto.padded_blob_size of its file) for the session
    whose form token is `bound`. Raises PartRefused('malformed') for a size no blob has,
    receiving.RefusedForNow (the free-space floor) or receiving.Throttled (the daily budget)."""
    if type(size) is not int or not 0 < size <= MAX_UPLOAD_BYTES:
        raise PartRefused("malformed", "size must be a whole number of bytes.")
    try:
        crypto.blob_shape(size, bytes((crypto.PADDED_VERSION, 4)))
    except crypto.CryptoError:
        raise PartRefused("malformed", "size is not the size of a sealed file.") from None
    purge_expired(ctx)
    if not receiving.has_room(ctx, size):
        raise receiving.RefusedForNow()
    receiving.check_bytes(ctx, size)  # charged as its parts are stored (store_part)
    upload_id = secrets.token_hex(16)
    day = today(ctx.settings.timezone)
    with transaction(ctx.db):
        _refuse_past_the_open_caps(ctx, bound)
        ctx.db.execute(
            "INSERT INTO sealed_uploads (id, bound, size, day) VALUES (?, ?, ?, ?)",
            [upload_id, _bound(bound), size, day],
        )
    path = _file(ctx, upload_id)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    _blur(ctx, path, day)
    return Upload(upload_id, size, 0, 0)


def _refuse_past_the_open_caps(ctx: Context, bound: str) -> None:
    """Beginning an upload is charged nothing (its parts are, as stored) and leaves a row and a
    file until it expires: so at most twice a disclosure's files are open for one page, and at
    most OPEN_UPLOADS_AT_MOST for everyone (the second review of issue 27: 300 begun in 2.4 s,
    each an empty file, would run the disk out of inodes). PartRefused('too-many') past the first,
    receiving.RefusedForNow (come back later) past the second."""
    if ctx.db.execute(
        "SELECT COUNT(*) FROM sealed_uploads WHERE bound = ?", [_bound(bound)]
    ).fetchone()[0] >= 2 * ctx.settings.max_files:
        raise PartRefused("too-many", "this page has begun as many files as it can send.")
    if ctx.db.execute("SELECT COUNT(*) FROM sealed_uploads").fetchone()[0] >= OPEN_UPLOADS_AT_MOST:
        raise receiving.RefusedForNow()


def _blur(ctx: Context, path: Path, day: str) -> None:
    stamp = day_start_timestamp(day, ctx.settings.timezone)
    os.utime(path, (stamp, stamp))
    os.utime(path.parent, (stamp, stamp))


def upload_state(ctx: Context, upload_id: str, bound: str) -> Upload:
    """What is stored of the upload; UploadNotFound for another session's, none, or one past its
    expiry that no purge has removed yet (it takes no part and finishes no disclosure)."""
    row = ctx.db.execute(
        "SELECT bound, size, parts, received, day FROM sealed_uploads WHERE id = ?", [upload_id]
    ).fetchone()
    if row is None or not hmac.compare_digest(row[0], _bound(bound)):
        raise UploadNotFound()
    if row[4] < _cutoff(ctx).isoformat():
        raise UploadNotFound()
    return Upload(upload_id, row[1], row[2], row[3])


def rebind(ctx: Context, upload_id: str, old_bound: str, bound: str) -> Upload:
    """The upload begun under the form token `old_bound`, bound from now on to `bound` (a
    discloser back in a new session after the browser was closed: SECURITY.md, "Resuming an
    upload after a reload"); UploadNotFound as upload_state for `old_bound`."""
    upload_state(ctx, upload_id, old_bound)
    with transaction(ctx.db):
        ctx.db.execute(
            "UPDATE sealed_uploads SET bound = ? WHERE id = ? AND bound = ?",
            [_bound(bound), upload_id, _bound(old_bound)],
        )
    return upload_state(ctx, upload_id, bound)


def store_part(ctx: Context, upload_id: str, bound: str, n: int, body: BinaryIO) -> Upload:
    """Store part `n` (bytes n * PART_BYTES up to the next part's, the last one shorter), read from
    `body` in pieces. A part already stored is compared with what came (PartRefused('different')
    if it differs); one past the next missing part is PartRefused('out-of-order'). Raises
    UploadNotFound, PartRefused, receiving.RefusedForNow (the free-space floor) or
    receiving.Throttled (the daily byte budget, charged here part by part)."""
    upload = upload_state(ctx, upload_id, bound)
    start = n * PART_BYTES
    length = min(PART_BYTES, upload.size - start)
    if n < 0 or length <= 0:
        raise PartRefused("wrong-size", "This upload has no such part.")
    if n > upload.parts:
        raise PartRefused("out-of-order", f"Send part {upload.parts} first.")
    data = _read_exactly(body, length)
    if n == 0:
        try:
            crypto.blob_shape(upload.size, data[:2])
        except crypto.CryptoError:
            raise PartRefused("malformed", "This is not a sealed file.") from None
    path = _file(ctx, upload_id)
    # Made if a crash came between the row and its file: the row says nothing is stored yet.
    with os.fdopen(os.open(path, os.O_RDWR | os.O_CREAT, 0o600), "r+b") as file:
        fcntl.flock(file.fileno(), fcntl.LOCK_EX)  # one writer of an upload at a time
        upload = upload_state(ctx, upload_id, bound)  # as it is now that the lock is held
        if n < upload.parts:
            file.seek(start)
            if file.read(length) != data:
                raise PartRefused("different", f"Part {n} was stored with other bytes.")
            return upload
        if n > upload.parts:
            raise PartRefused("out-of-order", f"Send part {upload.parts} first.")
        if os.fstat(file.fileno()).st_size < start:
            raise UploadNotFound()  # its parts are gone (a restored backup): start again
        if not receiving.has_room(ctx, length):
            raise receiving.RefusedForNow()
        receiving.spend_bytes(ctx, length)  # Throttled: today's budget is spent
        file.truncate(start)  # what a write cut short left past the last stored part
        file.seek(start)
        file.write(data)
        file.flush()
        os.fsync(file.fileno())
        with transaction(ctx.db):
            ctx.db.execute(
                "UPDATE sealed_uploads SET parts = ?, received = ? WHERE id = ?",
                [n + 1, start + length, upload_id],
            )
    _blur(ctx, path, today(ctx.settings.timezone))
    return Upload(upload_id, upload.size, n + 1, start + length)


def _read_exactly(body: BinaryIO, length: int) -> bytes:
    """The part's bytes (at most PART_BYTES, so held for a moment): PartRefused('wrong-size')
    unless the body is exactly `length` bytes."""
    data = body.read(length + 1)
    while len(data) < length + 1:
        more = body.read(length + 1 - len(data))
        if not more:
            break
        data += more
    if len(data) != length:
        raise PartRefused("wrong-size", f"This part must be {length} bytes.")
    return data


def finished(ctx: Context, upload_ids: list[str], bound: str) -> list[Upload]:
    """The uploads, each complete and this session's; UploadNotFound otherwise."""
    found = [upload_state(ctx, upload_id, bound) for upload_id in upload_ids]
    if not all(upload.complete for upload in found):
        raise UploadNotFound()
    return found


def adopt(ctx: Context, upload_ids: list[str], day: str) -> list[str]:
    """Move finished uploads' files into the blob store; returns their blob names (in order), or
    UploadNotFound (nothing moved) when one is gone. Their rows go in the caller's transaction
    (forget); give_back undoes this if it fails."""
    stamp = day_start_timestamp(day, ctx.settings.timezone)
    names: list[str] = []
    for upload_id in upload_ids:
        try:
            names.append(ctx.blobs.adopt(_file(ctx, upload_id), stamp))
        except FileNotFoundError:  # another request with the same upload took it first
            give_back(ctx, upload_ids, names)
            raise UploadNotFound() from None
    return names


def forget(ctx: Context, upload_ids: list[str]) -> None:
    """In the disclosure's transaction: the uploads are now attachments."""
    for upload_id in upload_ids:
        ctx.db.execute("DELETE FROM sealed_uploads WHERE id = ?", [upload_id])


def give_back(ctx: Context, upload_ids: list[str], blob_names: list[str]) -> None:
    """The disclosure was not stored: its files go back to their uploads, to be sent again."""
    for upload_id, name in zip(upload_ids, blob_names):
        ctx.blobs.give_back(name, _file(ctx, upload_id))

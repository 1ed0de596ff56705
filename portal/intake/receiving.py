"""Receiving a disclosure or a reply as it streams in: its files (each encrypted into a blob as its
bytes arrive, portal.intake.pending_files), the disclosers' daily upload budget, and the refusal
when the disk is nearly full."""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass, field
from typing import BinaryIO

from werkzeug.datastructures import MultiDict

import crypto
from portal.core.clock import day_start_timestamp, today
from portal.core.clock import utc_offset_seconds as clock_offset
from portal.core.context import Context
from portal.guard import throttle
from portal.guard.upload_slots import Holder, Preempted
from portal.intake.filenames import clean_filename
from portal.intake.pending_files import PendingFile
from portal.intake.uploads import Interrupted
from portal.records import casefiles
from portal.records.casefiles import Attachment


class RefusedForNow(Exception):
    """The portal cannot accept a disclosure right now (too little disk space). `fields` holds the
    text read from the form (its files were thrown away), to give back."""

    def __init__(self, fields: MultiDict | None = None) -> None:
        super().__init__("too little disk space")
        self.fields = fields if fields is not None else MultiDict()


class Throttled(Exception):
    def __init__(self, retry_after: int) -> None:
        super().__init__(f"Too many requests; try again in {retry_after} seconds.")
        self.retry_after = retry_after


@dataclass
class Intake:
    """A disclosure or reply on its way in. It owns its blobs until the case is stored whole.

    Use it as a context manager: leaving the block without completing it (an error, a rejected form,
    an exception) deletes every blob it wrote.
    """

    ctx: Context
    case_id: str
    case_key: bytes
    day: str
    files: list[PendingFile] = field(default_factory=list)
    completed: bool = False
    # Set when the free-space floor would be crossed: from then on file parts are read and thrown
    # away, text parts kept, and nothing is stored (RefusedForNow once the body is read).
    refused: bool = False
    dropped: list[str] = field(default_factory=list)
    # Files whose hidden details were removed: their originals, kept for the discloser alone
    # (portal.intake.file_cleaning), and what the receipt page says of each file.
    originals: list = field(default_factory=list)
    originals_key: bytes = b""
    file_reports: list = field(default_factory=list)
    # The body's bytes read so far (watch): what a disclosure's proof pays for, whatever its
    # Content-Length said (a chunked body declares none).
    body_bytes: int = 0

    def __enter__(self) -> "Intake":
        return self

    def __exit__(self, *exc_info) -> None:
        if not self.completed:
            self.discard()

    def open_file(self, filename: str) -> "PendingFile | _Dropped":
        if self.refused:
            return _Dropped(self, filename)
        pending = PendingFile(self.ctx, self.case_id, self.case_key, filename)
        self.files.append(pending)
        return _Floored(self, pending)

    @property
    def file_names(self) -> list[str]:
        """The names of the files received so far, as they would be stored (to say which were
        dropped)."""
        return [pending.name for pending in self.files] + self.dropped

    def refuse(self) -> None:
        """The floor would be crossed: throw away what was written, keep reading only the text."""
        if not self.refused:
            self.refused = True
            self.dropped[:0] = [pending.name for pending in self.files]
            self.discard()
            self.files = []

    def watch(self, stream: BinaryIO, holder: Holder | None) -> "_WatchedBody":
        return _WatchedBody(self, stream, holder)

    def end_of_body(self, fields: MultiDict) -> None:
        """The body is read: RefusedForNow (with its text) if the floor stopped its files."""
        if self.refused:
            raise RefusedForNow(fields)

    @property
    def attachment_bytes(self) -> int:
        """The files' sizes as sealed (crypto.padded_length): what budgets and quotas store, so
        that no row keeps a file's exact size (SECURITY.md, "What the data around a disclosure
        reveals")."""
        return sum(
            crypto.padded_length(p.attachment.size) for p in self.files if p.attachment is not None
        )

    @property
    def original_bytes(self) -> int:
        """The padded sizes of the originals of cleaned files (portal.intake.file_cleaning): stored
        beside the cleaned copies, so charged like them."""
        return sum(crypto.padded_length(kept.original.size) for kept in self.originals)

    def spend_upload_budget(self, text_bytes: int = 0) -> None:
        """Charge this request's attachments, the originals of those cleaned, and its text beyond
        FREE_TEXT_BYTES, to the disclosers' daily budget (SECURITY.md, "Budgets"), only once the
        form has proved valid; Throttled when they would overdraw it. Text up to FREE_TEXT_BYTES
        needs none, so a written disclosure always goes in.
        """
        spend_bytes(self.ctx, self.attachment_bytes + self.original_bytes + text_charge(text_bytes))

    def commit_files(self) -> list[tuple[Attachment, str]]:
        stamp = day_start_timestamp(self.day, self.ctx.settings.timezone)
        return [pending.commit(stamp) for pending in self.files]

    def discard(self) -> None:
        for pending in self.files:
            pending.discard()
        for kept in self.originals:
            kept.writer.discard()


def short_of_space(settings) -> bool:
    """Whether the data directory's disk has less free space than the floor: disclosures pause."""
    try:
        return shutil.disk_usage(settings.data_dir).free < settings.free_space_floor_bytes
    except OSError:  # the data directory cannot be reached: nothing can be stored either
        return True


def check_capacity(ctx: Context) -> None:
    if short_of_space(ctx.settings):
        raise RefusedForNow()


def has_room(ctx: Context, size: int) -> bool:
    """Whether `size` more bytes leave the free space above the floor."""
    free = shutil.disk_usage(ctx.settings.data_dir).free
    return free - size >= ctx.settings.free_space_floor_bytes


class _Floored:
    """A file's sink that stops writing once its intake is refused (the blob is already gone)."""

    def __init__(self, intake: Intake, pending: PendingFile) -> None:
        self._intake, self._pending = intake, pending

    def write(self, data: bytes) -> None:
        if not self._intake.refused:
            self._pending.write(data)

    def finish(self, content_type: str) -> None:
        if not self._intake.refused:
            self._pending.finish(content_type)


class _Dropped:
    """A file part of a refused intake: read and thrown away, only its name kept."""

    def __init__(self, intake: Intake, filename: str) -> None:
        intake.dropped.append(clean_filename(filename))

    def write(self, data: bytes) -> None:
        pass

    def finish(self, content_type: str) -> None:
        pass


_SMALLEST_READ = 2048
# How often, in bytes read, the free space is looked at again while a body arrives.
_FLOOR_CHECK_EVERY = 1024 * 1024


class _WatchedBody:
    """The request body as the form reader sees it: each read counted against the upload slot
    (Interrupted("preempted") once the slot was handed over), the free space checked again every
    _FLOOR_CHECK_EVERY bytes (the intake is refused where the floor would be crossed), and a
    refused body read only up to `discard_body_bytes` more (Interrupted("discard bound"))."""

    def __init__(self, intake: Intake, stream: BinaryIO, holder: Holder | None) -> None:
        self._intake, self._stream, self._holder = intake, stream, holder
        self._unchecked = 0
        self._since_refused = 0

    def read(self, size: int) -> bytes:
        intake = self._intake
        if intake.refused and self._since_refused > intake.ctx.settings.discard_body_bytes:
            raise Interrupted("discard bound")
        if self._holder is not None:
            # A read waits until all it asks for has come: about a second's worth at the rate
            # seen so far, so a trickling upload learns within seconds that its slot was handed
            # over (and gives its thread back) while a fast one reads in large pieces.
            size = int(min(size, max(_SMALLEST_READ, self._holder.rate(time.monotonic()))))
        data = self._stream.read(size)
        intake.body_bytes += len(data)
        if self._holder is not None:
            try:
                self._holder.note(len(data))
            except Preempted:
                raise Interrupted("preempted") from None
        if intake.refused:
            self._since_refused += len(data)
            return data
        self._unchecked += len(data)
        if self._unchecked >= _FLOOR_CHECK_EVERY:
            self._unchecked = 0
            if not has_room(intake.ctx, _FLOOR_CHECK_EVERY):
                intake.refuse()
        return data


DAY = 86400
# Text up to this much per disclosure or reply is never charged to the daily byte budget: a written
# account, however long a person writes, goes in; text beyond it is stored bytes like a file's.
FREE_TEXT_BYTES = 16 * 1024


def day_offset(ctx: Context) -> int:
    # Daily budgets start at the installation's midnight: their stored window is the day, nothing
    # finer.
    return clock_offset(ctx.settings.timezone)


UPLOAD_BUDGET = "upload-bytes"


def text_charge(text_bytes: int) -> int:
    """The bytes of a disclosure's or reply's text the daily budget counts: beyond
    FREE_TEXT_BYTES, as padded."""
    return max(0, crypto.padded_length(text_bytes) - FREE_TEXT_BYTES)


def spend_bytes(ctx: Context, size: int) -> None:
    """Charge `size` stored bytes to the disclosers' daily budget (SECURITY.md, "Budgets");
    Throttled when they would overdraw it. Also for what a browser sealed (portal.intake.sealed)."""
    if not size:
        return
    check_bytes(ctx, size)
    throttle.add(ctx.db, UPLOAD_BUDGET, size, DAY, day_offset(ctx))


def check_bytes(ctx: Context, size: int) -> None:
    """Throttled when `size` more bytes would overdraw today's budget; charges nothing (a sealed
    upload is charged part by part as each is stored: portal.intake.sealed_uploads)."""
    offset = day_offset(ctx)
    spent = throttle.spent(ctx.db, UPLOAD_BUDGET, DAY, offset)
    if spent + size > ctx.settings.upload_bytes_per_day:
        raise Throttled(throttle.seconds_left(DAY, offset))


def begin_disclosure(ctx: Context, declared: int | None = None) -> Intake:
    """Start receiving a disclosure: refuse only when the disk is nearly full. No count of requests
    can shut the door: the work is rationed instead (key derivations, attachment bytes per day).

    With `declared` (the body's Content-Length, as it streams in) nothing is raised here: an intake
    whose body would cross the free-space floor starts refused, so its text is still read and given
    back (Intake.end_of_body)."""
    if declared is None:
        check_capacity(ctx)
    intake = Intake(ctx, casefiles.new_id(), crypto.new_case_key(), today(ctx.settings.timezone))
    intake.refused = declared is not None and not has_room(ctx, declared)
    return intake

"""Removing the hidden details of a discloser's files before they are kept (issue 26): each file
read back into memory from its encrypted blob, checked in the sandboxed child
(portal.hidden_details.sandbox), and when something was removed sealed again cleaned, its original
sealed under a key of the discloser's alone (portal.records.original_files). Nothing in clear
touches the disk: the bytes go to the child and back through pipes."""

from __future__ import annotations

import dataclasses
import hashlib
import time
from dataclasses import dataclass

import crypto
from portal.core.clock import day_start_timestamp
from portal.guard import work_queues
from portal.guard.work_slots import Busy
from portal.hidden_details import sandbox
from portal.intake import check_sizes
from portal.intake.receiving import Intake
from portal.records import case_attachments, original_files
from portal.records.original_files import Original
from portal.store.blobs import BlobWriter

# All the checks of one request together stop after this long, so many slow files cannot hold a
# worker's thread for each file's own limit in turn.
REQUEST_CHECK_SECONDS = 120
# The name of the installation-wide places for checks (work_queues.shared_place).
FILE_CHECKS = "file_check"
# The one place kept for small checks (Settings.file_check_small_bytes), so a small genuine file is
# not kept waiting by bombs in the others, and the CPU seconds a small check's child may take: a
# package parses at about 1.2 s per million XML elements and a MiB holds at most 260,000, so an
# honest small file finishes well within it, and one that only looked small is cut soon.
FILE_CHECKS_SMALL = "file_check_small"
SMALL_CPU_SECONDS = 2
# Checks cut at SMALL_CPU_SECONDS in a minute, all processes together, before the small place
# closes for the rest of that minute: at most 6 s of a core a minute spent on cuts. An honest small
# file is not cut; one cut is a bomb that hid its size from check_sizes.
SMALL_CUTS = "file_check_small_cuts"
SMALL_CUTS_PER_MINUTE = 3


@dataclass(frozen=True)
class FileReport:
    """What the receipt page says of one file: `state` as Attachment.hidden ("removed", "none",
    "left", "unchecked", "unknown", "plain"), the kinds removed (plain words, never values), and for
    "unchecked" `why` the check gave nothing: "size" (too large or too complex for its bounds),
    "damaged" (not what its kind says) or "not-run" (the check itself could not run). "plain" is a
    file of no kind the checks read that is plain text (sandbox.plain_text): it has no place for
    the kinds removed."""

    name: str
    state: str
    kinds: tuple[str, ...] = ()
    why: str = ""


@dataclass
class KeptOriginal:
    original: Original
    writer: BlobWriter


# The sandbox's reasons, as the receipt tells them: a file past a bound, one that does not parse,
# and a check that never ran (its child could not start or broke) are three different things.
_WHY_UNCHECKED = {"size": "size", "time": "size", "limit": "size", "memory": "size",
                  "unreadable": "damaged", "forbidden": "damaged"}


def not_checked_state(checked: sandbox.Checked) -> str:
    """ "unknown" for a kind of file the checks do not read, "unchecked" for one they could not."""
    return "unknown" if checked.reason == "kind" else "unchecked"


def why_unchecked(checked: sandbox.Checked) -> str:
    """FileReport.why for a file the checks read but could not check ("" for any other)."""
    if not_checked_state(checked) != "unchecked":
        return ""
    return _WHY_UNCHECKED.get(checked.reason, "not-run")


def clean_received(intake: Intake, strip: bool) -> list[FileReport]:
    """Check every finished file of `intake` (not `strip`: each is only marked "left", as the
    discloser chose). Sets `intake.file_reports` and returns it; the originals of cleaned files
    are in `intake.originals`, with the key `intake.originals_key` they are sealed under."""
    reports = []
    deadline = time.monotonic() + REQUEST_CHECK_SECONDS
    for pending in intake.files:
        attachment = pending.attachment
        if attachment is None:
            continue
        left = deadline - time.monotonic()
        if not strip:
            reports.append(_mark(pending, "left"))
            continue
        # Above the size cap, or once the request's time for checks is spent: kept as sent.
        if attachment.size > sandbox.SIZE_CAP or left <= 0:
            reports.append(_mark(pending, "unchecked", "size" if left > 0 else "not-run"))
            continue
        received = pending.read_back()
        checked = _check_in_a_place(intake.ctx.settings, received, deadline)
        if checked is None:  # every place for checks taken: kept as sent, and the receipt says so
            reports.append(_mark(pending, "unchecked", "not-run"))
            continue
        if not checked.checked or not checked.kinds:
            state = "none" if checked.checked else not_checked_state(checked)
            if state == "unknown" and sandbox.plain_text(received):
                state = "plain"  # read whole here, once: the case page never reads it again
            reports.append(_mark(pending, state, "" if checked.checked else why_unchecked(checked)))
            continue
        _keep_original(intake, pending.id, attachment.name, received)
        pending.replace(
            checked.cleaned, hashlib.sha256(checked.cleaned).hexdigest(), "removed", checked.kinds
        )
        reports.append(FileReport(attachment.name, "removed", checked.kinds))
    intake.file_reports = reports
    return reports


def _check_in_a_place(settings, received: bytes, deadline: float) -> sandbox.Checked | None:
    """The sandbox's check of one file in one of the installation's `file_check_places` (shared
    by every server process, work_queues.shared_place), waiting for one at most
    `file_check_wait_seconds` and never past `deadline` (the request's, time.monotonic()); None
    when none came free, so a flood of bombs holds at most that many cores and no request waits
    long behind it (issue 22). A small file (check_sizes.small_check within
    `file_check_small_bytes`: what it declares, nested packages and a picture's dimensions
    included) may also take the place kept for small checks, its child cut at SMALL_CPU_SECONDS;
    one cut there is checked once more with the whole bound in an ordinary place (small in what it
    declares, heavy to check). Past SMALL_CUTS_PER_MINUTE cuts this minute, installation-wide, the
    small place takes no file until the next minute, so a bomb that hides its size some way not
    read from its headers cannot hold it with cut after cut."""
    most = settings.file_check_small_bytes
    # With no places at all, checks are off: none is kept for small ones either.
    if (most > 0 and settings.file_check_places > 0 and check_sizes.small_check(received, most)
            and work_queues.minute_count(settings, SMALL_CUTS) < SMALL_CUTS_PER_MINUTE):
        checked = _check_placed(settings, received, deadline, small=True)
        if checked is None or checked.reason != "limit":
            return checked
        work_queues.count_in_minute(settings, SMALL_CUTS)
    return _check_placed(settings, received, deadline, small=False)


def _check_placed(settings, received: bytes, deadline: float, *, small: bool
                  ) -> sandbox.Checked | None:
    wait_until = min(time.monotonic() + settings.file_check_wait_seconds, deadline)
    first = ((FILE_CHECKS_SMALL, 1),) if small else ()
    # Busy comes only from taking the place: the sandbox's check raises nothing of the kind.
    try:
        with work_queues.shared_place(settings, FILE_CHECKS, settings.file_check_places, wait_until,
                                      first=first):
            left = deadline - time.monotonic()  # the wait came out of the request's time for checks
            return sandbox.check(received, cpu_seconds=SMALL_CPU_SECONDS if small else None,
                                 wall_seconds=max(1, min(sandbox.WALL_SECONDS, left)))
    except Busy:
        return None


def _mark(pending, state: str, why: str = "") -> FileReport:
    """The file kept as it came, marked with what was (not) done about its hidden details."""
    pending.attachment = dataclasses.replace(pending.attachment, hidden=state)
    return FileReport(pending.attachment.name, state, why=why)


def _keep_original(intake: Intake, attachment_id: str, name: str, received: bytes) -> None:
    if not intake.originals_key:
        intake.originals_key = crypto.new_case_key()
    key = intake.originals_key
    writer, size = case_attachments.write_blob(
        intake.ctx,
        crypto.stream_key(key, intake.case_id, attachment_id),
        original_files.stream_ad(intake.case_id, attachment_id),
        received,
    )
    original = Original(attachment_id, name, size, hashlib.sha256(received).hexdigest(), None)
    intake.originals.append(KeptOriginal(original, writer))


def store_originals(intake: Intake, discloser_public_key: bytes) -> None:
    """Inside the caller's transaction: the originals' rows, their blobs committed (their times
    the day's start, like every blob's)."""
    day_timestamp = day_start_timestamp(intake.day, intake.ctx.settings.timezone)
    if intake.originals:
        original_files.insert_originals(
            intake.ctx,
            intake.case_id,
            discloser_public_key,
            intake.originals_key,
            [(kept.original, kept.writer.commit(day_timestamp)) for kept in intake.originals],
        )

"""What the officers see of files' hidden details on the case page, the audited clean copy an
officer can make of any file, and the originals a discloser handed over (issue 26)."""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass
from typing import Iterator

from portal.casework.cases import open_case
from portal.core.clock import day_start_timestamp
from portal.core.context import Context
from portal.hidden_details import sandbox
from portal.keys.officer_sessions import SignedIn
from portal.records import audit, case_attachments, casefiles, original_files
from portal.records.casefiles import Attachment
from portal.records.original_files import Original
from portal.store import transaction

CLEAN_COPY_PREFIX = "clean copy of "


@dataclass(frozen=True)
class FileDetails:
    files: list[Attachment]  # every file of the case, with its hidden details' state
    originals: list[Original]  # the originals the discloser handed over


def file_details(ctx: Context, who: SignedIn, ref: str) -> FileDetails:
    """For the case page (not audited apart: reading the case is)."""
    case, case_key = open_case(ctx, who, ref)
    return FileDetails(
        case_attachments.all_attachments(ctx, case.id, case_key),
        original_files.handed_over(ctx, case.id, case_key),
    )


@dataclass(frozen=True)
class CleanCopy:
    """What a clean copy came to: `made` the new file (None when nothing was removed or the file
    could not be checked), `state` as Attachment.hidden of the outcome ("removed", "none",
    "unchecked", "unknown")."""

    made: Attachment | None
    state: str


def clean_copy(ctx: Context, who: SignedIn, ref: str, attachment_id: str) -> CleanCopy:
    """Check one file of the case in the sandbox and, when hidden details were found, keep a clean
    copy beside it (in the same message, named CLEAN_COPY_PREFIX + its name), audited as
    'clean_copy' with the two files' ids, the outcome and how many kinds were removed. Raises
    CaseNotFound."""
    case, case_key = open_case(ctx, who, ref)
    attachment, chunks = case_attachments.attachment_stream(ctx, case.id, case_key, attachment_id)
    # A size a browser did not state as a whole number is not read whole into memory.
    if attachment.size is None or attachment.size > sandbox.SIZE_CAP:
        chunks.close()
        return _audited(ctx, who, case, attachment_id, CleanCopy(None, "unchecked"))
    checked = sandbox.check(b"".join(chunks))
    if not checked.checked:
        state = "unknown" if checked.reason == "kind" else "unchecked"
        return _audited(ctx, who, case, attachment_id, CleanCopy(None, state))
    if not checked.kinds:
        return _audited(ctx, who, case, attachment_id, CleanCopy(None, "none"))
    copy_id = casefiles.new_id()
    writer, size = case_attachments.write_blob(
        ctx, *case_attachments.stream_key_and_ad(case.id, case_key, copy_id), checked.cleaned
    )
    copy = dataclasses.replace(
        attachment,
        id=copy_id,
        name=(CLEAN_COPY_PREFIX + attachment.name)[:255],
        size=size,
        sha256=hashlib.sha256(checked.cleaned).hexdigest(),
        hidden="copy",
        hidden_kinds=checked.kinds,
    )
    try:
        with transaction(ctx.db):
            message_id = case_attachments.message_of(ctx, case.id, attachment_id)
            blob = writer.commit(day_start_timestamp(case.received_day, ctx.settings.timezone))
            case_attachments.insert_attachments(
                ctx,
                case.id,
                case_key,
                message_id,
                [(copy, blob)],
                first_seq=case_attachments.next_seq(ctx, case.id, message_id),
            )
            return _audited(ctx, who, case, attachment_id, CleanCopy(copy, "removed"))
    except BaseException:
        writer.discard()
        raise


def _audited(ctx: Context, who: SignedIn, case, attachment_id: str, outcome: CleanCopy):
    audit.record(
        ctx,
        "clean_copy",
        actor=who.account.id,
        case_ref=case.ref,
        detail={
            "attachment_id": attachment_id,
            "copy_id": outcome.made.id if outcome.made else None,
            "outcome": outcome.state,
            "kinds_removed": len(outcome.made.hidden_kinds) if outcome.made else 0,
        },
    )
    return outcome


def download_original(
    ctx: Context, who: SignedIn, ref: str, original_id: str
) -> tuple[Original, Iterator[bytes]]:
    """An original the discloser handed over, audited as 'original_download'. Raises
    CaseNotFound (also for one not handed over)."""
    case, case_key = open_case(ctx, who, ref)
    found = original_files.original_stream(ctx, case.id, case_key, original_id)
    audit.record(
        ctx,
        "original_download",
        actor=who.account.id,
        case_ref=case.ref,
        detail={"original_id": original_id},
    )
    return found

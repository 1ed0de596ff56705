"""Reading a discloser's upload in a view, shared by the disclosure form and replies: the limits, a
refused form's fields, and the answers when the portal is busy or short of space."""

from __future__ import annotations

import time

from flask import Response, make_response, render_template, request
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import ClientDisconnected

from portal.guard import upload_slots, work_slots
from portal.intake.filenames import clean_filename
from portal.intake.receiving import RefusedForNow, short_of_space
from portal.intake.uploads import (
    Interrupted,
    Limits,
    MalformedForm,
    TooLarge,
    Unfinished,
    read_multipart,
)
from portal.web import carry, languages
from portal.web.context import SHORT_OF_SPACE_RETRY_AFTER, portal_context
from portal.web.fault_pages import keep_typed, paused_response
from portal.web.intake.forms import DiscloseForm


def with_retry_after(body: str, status: int, retry_after: int) -> Response:
    response = make_response(body, status)
    response.headers["Retry-After"] = str(retry_after)
    return response


def busy(exc: "work_slots.Busy") -> Response:
    # Answered before the body was read: close the connection rather than read what may be
    # gigabytes.
    response = with_retry_after(
        render_template(
            "error.html",
            title=_l("The portal is busy"),
            message=_l(
                "Many people are sending files just now, so nothing was sent. Please go back and"
                " send it again in a minute: what you typed is still in your browser."
            ),
        ),
        503,
        exc.retry_after,
    )
    response.headers["Connection"] = "close"
    return response


def upload_limits() -> Limits:
    s = portal_context().settings
    return Limits(
        text_bytes=s.max_text_bytes,
        file_bytes=s.max_attachment_bytes,
        total_bytes=s.max_submission_bytes,
        max_files=s.max_files,
    )


class _DroppedFile:
    """Where a file of a refused form goes: nowhere; only its name is kept, to say it was
    dropped."""

    def __init__(self, names: list[str], filename: str) -> None:
        names.append(clean_filename(filename))

    def write(self, data: bytes) -> None:
        pass

    def finish(self, content_type: str) -> None:
        pass


class _StopsAsUnfinished:
    """The request body, whose end before its Content-Length (the client closed, or sent nothing
    for `PORTAL_BODY_IDLE_TIMEOUT` seconds: portal/guard/slow_clients.py) is Unfinished, so the
    text that arrived before it can be given back."""

    def __init__(self, stream) -> None:
        self._stream = stream

    def read(self, size: int) -> bytes:
        try:
            return self._stream.read(size)
        except ClientDisconnected:
            raise Unfinished("The upload did not finish.") from None


def _read_text(stream, text_fields, open_sink) -> MultiDict:
    return read_multipart(
        _StopsAsUnfinished(stream),
        request.content_type or "",
        text_fields=text_fields,
        file_fields=["attachments"],
        open_sink=open_sink,
        limits=upload_limits(),
        repeatable=DiscloseForm.REPEATABLE,
    )


def read_refused(text_fields) -> tuple[MultiDict, list[str]]:
    """Read a form refused before any storage: its text fields and the names of its files."""
    names: list[str] = []
    try:
        fields = _read_text(request.stream, text_fields, lambda n: _DroppedFile(names, n))
    except TooLarge as exc:
        fields = exc.fields
        drain_body()
    except Unfinished as exc:
        fields = exc.fields
    except MalformedForm:
        fields = MultiDict()
    return fields, names


class _StopAtFile:
    """The first file part of a form answered busy: its name is kept, and reading stops there."""

    def __init__(self, names: list[str], filename: str) -> None:
        names.append(clean_filename(filename))
        raise Interrupted("file part")


class _Bounded:
    """A body read for its text only: Interrupted past `limit` bytes or `seconds`."""

    def __init__(self, stream, limit: int, seconds: float) -> None:
        self._stream, self._left = stream, limit
        self._deadline = time.monotonic() + seconds

    def read(self, size: int) -> bytes:
        if self._left <= 0 or time.monotonic() > self._deadline:
            raise Interrupted("text bound")
        # Small reads: a read waits until all it asked for has come, and this body may trickle.
        data = self._stream.read(min(size, self._left, 2048))
        self._left -= len(data)
        return data


# A form answered busy is read only this long for its text, which browsers send before its files.
TEXT_READ_SECONDS = 5


def read_text_before_files(text_fields) -> tuple[MultiDict, list[str]]:
    """The text of a form the portal will not take now (every upload slot is held), read up to its
    first file part and within the text limit and TEXT_READ_SECONDS, so the answer can keep it;
    the rest of the body is read and thrown away after the answer (unread_rest)."""
    names: list[str] = []
    try:
        limit = portal_context().settings.max_text_bytes + 65536
        fields = _read_text(
            _Bounded(request.stream, limit, TEXT_READ_SECONDS),
            text_fields,
            lambda n: _StopAtFile(names, n),
        )
    except (Interrupted, TooLarge, Unfinished) as exc:
        fields = exc.fields
    except MalformedForm:
        fields = MultiDict()
    return fields, names


def upload_slot():
    """The request's upload slot (upload_slots.upload), held for a `with` block."""
    return upload_slots.upload(portal_context().settings, request.content_length)


def read_upload(intake, text_fields, holder=None):
    """Stream the multipart body: text fields into memory, files through the intake's encryptors,
    each read counted against the upload slot `holder` and the free-space floor
    (receiving.Intake.watch). Raises RefusedForNow, with the text, when the floor stopped the
    files, and upload_slots.Preempted, with the text in `fields`, when the slot was handed over.
    A body whose Content-Length alone would cross the floor is read only for its text, up to its
    first file part (read_text_before_files). Once the body is read whole the upload slot is given
    back (upload_slots.give_back), before any file is checked. The text is also kept for a fault
    page (portal.web.fault_pages) should storing it fail, or a file's blob fail to open or write
    (an OSError, raised as it came)."""
    if intake.refused:
        fields, names = read_text_before_files(text_fields)
        intake.dropped.extend(names)
        raise RefusedForNow(keep_typed(fields))
    try:
        fields = _read_text(intake.watch(request.stream, holder), text_fields, intake.open_file)
    except Interrupted as exc:
        if exc.reason == "preempted":
            preempted = upload_slots.Preempted()
            preempted.fields = keep_typed(exc.fields)
            raise preempted from None
        raise RefusedForNow(keep_typed(exc.fields)) from None
    except OSError as exc:  # a file's blob could not be opened or written: the fault page says so
        keep_typed(getattr(exc, "fields", MultiDict()))
        raise
    intake.end_of_body(fields)
    # Every byte is in: the checks and derivation that follow must not keep other uploads out.
    upload_slots.give_back(portal_context().settings, holder)
    # Kept for a fault page (portal.web.fault_pages) should storing them fail.
    return keep_typed(fields)


def unread_rest(response: Response) -> Response:
    """The body was not read to its end: close the connection after the answer; the worker reads
    and throws away the rest, up to a bound, so the client still sending sees this page
    (portal/guard/slow_clients.py)."""
    response.headers["Connection"] = "close"
    return response


def drain_body() -> None:
    # Read what is left of a rejected upload so the browser sees our answer, not a reset connection;
    # a body declared far beyond any limit is not worth reading: the connection is closed instead.
    if (request.content_length or 0) > 2 * portal_context().settings.max_submission_bytes:
        return
    while request.stream.read(1024 * 1024):
        pass


def paused(text_fields):
    """Disclosures and messages pause below the free-space floor: 503 with Retry-After, and the text
    back in its boxes (the file parts are read and dropped: their names are not kept either)."""
    fields, _ = read_refused(text_fields)
    keep_typed(fields)
    return paused_response()


# Below the free-space floor. "Now without the files" only when files were dropped and the text
# alone would fit now; a form sent with no file is not told of files.
_PAUSED_WORDS = {
    "disclosure": (
        _l(
            "Disclosures are paused: the portal is short of storage space. Nothing was stored, and"
            " your files were not kept. What you wrote is below: please send it again later, or now"
            " without the files."
        ),
        _l(
            "Disclosures are paused: the portal is short of storage space. Nothing was stored, and"
            " your files were not kept. What you wrote is below: please send it again later, with"
            " your files chosen again."
        ),
        _l(
            "Disclosures are paused: the portal is short of storage space. Nothing was stored. What"
            " you wrote is below: please send it again later."
        ),
    ),
    "reply": (
        _l(
            "Messages are paused: the portal is short of storage space, so your files were not"
            " kept and nothing was sent. Your message is still in its box: please send it again"
            " later, or now without the files."
        ),
        _l(
            "Messages are paused: the portal is short of storage space, so your files were not"
            " kept and nothing was sent. Your message is still in its box: please send it again"
            " later, with your files chosen again."
        ),
        _l(
            "Messages are paused: the portal is short of storage space, so nothing was sent. Your"
            " message is still in its box: please send it again later."
        ),
    ),
}


def paused_words(intake, kind: str) -> str:
    """What a form stopped by the free-space floor is told (`kind` "disclosure" or "reply"): its
    files named only if it sent some, and "send it now without them" only if the text alone fits
    now (receiving.short_of_space)."""
    files_now, files_later, no_files = _PAUSED_WORDS[kind]
    if not intake.file_names:
        return no_files
    return files_later if short_of_space(intake.ctx.settings) else files_now


PAUSED_RETRY_AFTER = SHORT_OF_SPACE_RETRY_AFTER  # below the floor as on a full disk
SLOW_NOT_KEPT = _l(
    "Your files arrived too slowly while others were waiting to send theirs, so your disclosure"
    " was not stored. What you wrote is still here: please choose any files again and send it in"
    " a minute, or send it without the files."
)
BUSY_NOT_KEPT = _l(
    "Many people are sending files just now, so your disclosure was not stored and your files"
    " were not kept. What you wrote is still here: please choose any files again and send it in"
    " a minute."
)


UNFINISHED = _l(
    "Your upload did not finish: the connection stopped before all of it arrived, so nothing was"
    " sent and no file was kept."
)


def not_read_whole(exc: MalformedForm, still_here: str) -> tuple[MultiDict, str]:
    """What to give back of a form that could not be read, and what to say: for a body that
    stopped part way (Unfinished) its text, which comes before the files, only to the portal's own
    pages (portal.web.carry); for a malformed one nothing. `still_here`: where the text is."""
    if not isinstance(exc, Unfinished):
        return MultiDict(), _l("The form could not be read. Please fill it in again.")
    typed = carry.typed_fields(exc.fields, token_valid=carry.token_is_valid(exc.fields))
    if not carry.has_text(typed):
        return typed, UNFINISHED + " Please fill it in and send it again."
    return typed, f"{UNFINISHED} {still_here}: please choose any files again and send it once more."


def too_large(exc: TooLarge) -> str:
    """Which part of a form is over its limit, naming the limit (a size in the page's language;
    a count of files names its own)."""
    what = gettext(exc.what_message, **exc.parts)
    if not exc.in_bytes:
        return gettext("%(what)s is too large.", what=what)
    limit = languages.limit_words(exc.limit)
    return gettext("%(what)s is too large: the most is %(limit)s.", what=what, limit=limit)

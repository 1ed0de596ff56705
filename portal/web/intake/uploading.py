"""Reading a discloser's upload in a view, shared by the disclosure form and replies: the limits, a
refused form's fields, and the answers when the portal is busy or short of space."""

from __future__ import annotations

from flask import Response, make_response, render_template, request
from werkzeug.datastructures import MultiDict

from portal.guard import work_slots
from portal.intake.filenames import clean_filename
from portal.intake.uploads import Limits, MalformedForm, TooLarge, read_multipart
from portal.web.context import portal_context
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
            title="The portal is busy",
            message=(
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


def read_refused(text_fields) -> tuple[MultiDict, list[str]]:
    """Read a form refused before any storage: its text fields and the names of its files."""
    names: list[str] = []
    try:
        fields = read_multipart(
            request.stream,
            request.content_type or "",
            text_fields=text_fields,
            file_fields=["attachments"],
            open_sink=lambda n: _DroppedFile(names, n),
            limits=upload_limits(),
            repeatable=DiscloseForm.REPEATABLE,
        )
    except TooLarge as exc:
        fields = exc.fields
        drain_body()
    except MalformedForm:
        fields = MultiDict()
    return fields, names


def read_upload(intake, text_fields):
    """Stream the multipart body: text fields into memory, files through the intake's encryptors.
    The text fields are kept for a fault page (portal.web.fault_pages) should storing them fail."""
    return keep_typed(read_multipart(
        request.stream,
        request.content_type or "",
        text_fields=text_fields,
        file_fields=["attachments"],
        open_sink=intake.open_file,
        limits=upload_limits(),
        repeatable=DiscloseForm.REPEATABLE,
    ))


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
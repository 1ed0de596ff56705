"""Reading a multipart form as it streams in, so that no uploaded byte reaches the disk in
plaintext.

Werkzeug would spool large files to a temporary file; here every file part goes straight into a sink
supplied by the caller (an encryptor writing a blob), and text fields stay in memory, bounded.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import BinaryIO, Callable, Protocol

from streaming_form_data import StreamingFormDataParser
from streaming_form_data.parser import ParseFailedException, parse_content_boundary
from streaming_form_data.targets import BaseTarget
from werkzeug.datastructures import MultiDict

from portal.core.words import N_

# gunicorn receives a body of known length up to 1 MiB per recv(); reading less at a time makes it
# keep the rest and copy it again on every read.
READ_SIZE = 1024 * 1024


class TooLarge(Exception):
    """`what` (a part of the form, in words: a message of the catalogue, N_, whose placeholders
    `parts` fill) is over its `limit`: bytes, or with `in_bytes` False a count (of files).
    `what` is its English; `what_message` and `parts` let a page word it in its language."""

    def __init__(self, what: str, limit: int, *, in_bytes: bool = True, **parts) -> None:
        unit = " bytes" if in_bytes else ""
        self.what_message, self.parts = what, parts
        self.what = what % parts if parts else what
        super().__init__(f"{self.what} is larger than the limit of {limit}{unit}")
        self.limit = limit
        self.in_bytes = in_bytes
        self.fields: MultiDict = MultiDict()


class MalformedForm(Exception):
    pass


class Unfinished(MalformedForm):
    """The body stopped before the form's end: the client stopped sending (a stall past the idle
    timeout, a connection closed before its Content-Length) or the body ended before the closing
    boundary. The text fields that arrived whole (they come before files) are in `fields`."""

    def __init__(self, message: str = "The form arrived incomplete.") -> None:
        super().__init__(message)
        self.fields: MultiDict = MultiDict()


class Interrupted(Exception):
    """The body's reader stopped reading part way, for a reason of the portal's (`reason`); the
    text read until then is in `fields`."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.fields: MultiDict = MultiDict()


class FileSink(Protocol):
    def write(self, data: bytes) -> None: ...
    def finish(self, content_type: str) -> None: ...


@dataclass
class Limits:
    text_bytes: int  # all text parts of one request together
    file_bytes: int
    total_bytes: int
    max_files: int = 50


class RepeatedField(MalformedForm):
    """A text field sent more than once in one request (browsers send each once)."""


@dataclass
class _Budget:
    limits: Limits
    total: int = 0
    text: int = 0
    files: int = 0

    def spend(self, n: int) -> None:
        self.total += n
        if self.total > self.limits.total_bytes:
            raise TooLarge(N_("This submission"), self.limits.total_bytes)

    def spend_text(self, n: int) -> None:
        # One text budget for the whole request, however many parts it comes in.
        self.text += n
        if self.text > self.limits.text_bytes:
            raise TooLarge(N_("The text of this form"), self.limits.text_bytes)
        self.spend(n)

    def count_file(self) -> None:
        self.files += 1
        if self.files > self.limits.max_files:
            raise TooLarge(
                N_("The number of files (more than %(count)s)"),
                self.limits.max_files,
                in_bytes=False,
                count=self.limits.max_files,
            )


class _TextTarget(BaseTarget):
    """Collects a text field; only a field named in `repeatable` (checkboxes) may come more than
    once."""

    def __init__(self, name: str, out: MultiDict, budget: _Budget, repeatable: bool) -> None:
        super().__init__()
        self._name, self._out, self._budget, self._repeatable = name, out, budget, repeatable
        self._parts: list[bytes] = []
        self._seen = False

    def on_start(self) -> None:
        if self._seen and not self._repeatable:
            raise RepeatedField(f"The field {self._name!r} was sent more than once.")
        self._seen = True
        self._parts = []

    def on_data_received(self, chunk: bytes) -> None:
        self._budget.spend_text(len(chunk))
        self._parts.append(chunk)

    def on_finish(self) -> None:
        self._out.add(self._name, b"".join(self._parts).decode("utf-8", errors="replace"))


class _FileTarget(BaseTarget):
    """Sends each file of a (possibly repeated) file field to a fresh sink as it arrives."""

    def __init__(self, open_sink: Callable[[str], FileSink], budget: _Budget) -> None:
        super().__init__()
        self._open_sink, self._budget = open_sink, budget
        self._sink: FileSink | None = None
        self._size = 0

    def on_start(self) -> None:
        self._size = 0
        if self.multipart_filename:
            self._budget.count_file()
        # A file input left empty arrives as a part with no filename: nothing to store.
        self._sink = self._open_sink(self.multipart_filename) if self.multipart_filename else None

    def on_data_received(self, chunk: bytes) -> None:
        if self._sink is None:
            return
        self._size += len(chunk)
        self._budget.spend(len(chunk))
        if self._size > self._budget.limits.file_bytes:
            raise TooLarge(N_("The file '%(name)s'"), self._budget.limits.file_bytes,
                           name=self.multipart_filename)
        self._sink.write(chunk)

    def on_finish(self) -> None:
        if self._sink is not None:
            self._sink.finish(self.multipart_content_type or "")
            self._sink = None


def read_multipart(
    stream: BinaryIO,
    content_type: str,
    *,
    text_fields: list[str],
    file_fields: list[str],
    open_sink: Callable[[str], FileSink],
    limits: Limits,
    repeatable: tuple[str, ...] = (),
) -> MultiDict:
    """Parse the body; return the text fields. File parts go to sinks from `open_sink(filename)`.

    Raises TooLarge (the request's text, a file, the whole, or more than `limits.max_files` files)
    or MalformedForm (RepeatedField for a text field sent twice that is not in `repeatable`) part
    way; sinks already opened are the caller's to discard. An OSError of a sink (its blob could not
    be opened or written) is raised as it came, and like TooLarge, Interrupted and Unfinished it
    carries the text read so far in `fields`, for a fault page to give back.
    """
    if not content_type.startswith("multipart/form-data"):
        raise MalformedForm("This form must be sent as multipart/form-data.")
    fields: MultiDict = MultiDict()
    budget = _Budget(limits)
    try:
        headers = {"Content-Type": content_type}
        closing = b"--" + parse_content_boundary(headers) + b"--"
        parser = StreamingFormDataParser(headers=headers)
    except (ParseFailedException, ValueError) as exc:
        raise MalformedForm("The form could not be read.") from exc
    for name in text_fields:
        parser.register(name, _TextTarget(name, fields, budget, name in repeatable))
    for name in file_fields:
        parser.register(name, _FileTarget(open_sink, budget))
    tail, keep = b"", len(closing) + 4
    try:
        while chunk := stream.read(READ_SIZE):
            parser.data_received(chunk)
            # Only the body's last bytes are kept, without copying the whole piece (issue 23).
            tail = (tail + chunk[-keep:])[-keep:]
    except (TooLarge, Interrupted, Unfinished, OSError) as exc:
        exc.fields = (
            fields  # what was typed before the limit was hit, to give back to the discloser
        )
        raise
    except ParseFailedException as exc:
        cause = exc.__cause__ or exc.__context__
        if isinstance(cause, (TooLarge, Interrupted, OSError)):
            cause.fields = fields
        if isinstance(cause, (TooLarge, Interrupted, MalformedForm, OSError)):
            raise cause from None
        raise MalformedForm("The form could not be read.") from exc
    except UnicodeDecodeError as exc:  # a part's name or file name that is not UTF-8
        raise MalformedForm("The form could not be read.") from exc
    # A body cut short can still be well framed up to where it stops: only the closing boundary
    # shows that every part arrived whole.
    if closing not in tail:
        unfinished = Unfinished()
        unfinished.fields = fields
        raise unfinished
    return fields

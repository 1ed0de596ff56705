"""Work on an upload's pieces done on a thread of its own, beside the request's thread that reads,
parses and hashes the body (issue 23: a file's encryption and writing). libsodium (through cffi),
hashlib and file writes let go of the interpreter lock while they work on a large piece, so with a
core to spare the request's thread reads the next piece meanwhile. Pieces wait in a short queue,
so memory stays bounded."""

from __future__ import annotations

import queue
import threading
from typing import Callable

# Pieces of at most uploads.READ_SIZE (1 MiB) wait here: a few MiB held at most per file.
DEPTH = 4
# Until this many bytes have come, pieces are worked on in line: small files are most files, and a
# thread is not worth starting for them.
INLINE_BYTES = 1024 * 1024

_STOP = object()


class Beside:
    """`work(piece)` for every piece given to `put`, in order: in line for the first INLINE_BYTES,
    then on a thread named `name`. An exception raised by `work` on the thread is raised again by
    the next `put` or by `finish` (the pieces after it are dropped). `finish()` waits until every
    piece is done; `close()` stops the thread, dropping what still waits (an upload abandoned part
    way). Pieces must not change once given: bytes are passed on as they are, anything else is
    copied."""

    def __init__(self, work: Callable[[bytes], object], name: str) -> None:
        self._work, self._name = work, name
        self._inline = 0
        self._queue: queue.Queue | None = None
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None
        self._dropping = False

    def put(self, piece: bytes) -> None:
        self._raise_error()
        if self._queue is None:
            if self._inline + len(piece) <= INLINE_BYTES:
                self._inline += len(piece)
                self._work(piece)
                return
            self._queue = queue.Queue(maxsize=DEPTH)
            self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
            self._thread.start()
        self._queue.put(piece if type(piece) is bytes else bytes(piece))

    def _run(self) -> None:
        assert self._queue is not None
        while (piece := self._queue.get()) is not _STOP:
            if self._error is None and not self._dropping:
                try:
                    self._work(piece)
                except BaseException as exc:  # raised again on the request's thread
                    self._error = exc

    def _stop(self) -> None:
        if self._thread is not None and self._queue is not None:
            self._queue.put(_STOP)
            self._thread.join()
            self._thread = None

    def _raise_error(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            self._dropping = True  # nothing after a failed piece is worked on
            raise error

    def finish(self) -> None:
        """Every piece given is done (raises what `work` raised on the thread)."""
        self._stop()
        self._raise_error()

    def close(self) -> None:
        """Stop without finishing: what still waits is dropped; never raises."""
        self._dropping = True
        self._stop()
        self._error = None

    @property
    def threaded(self) -> bool:
        """Whether the pieces went to a thread (more than INLINE_BYTES came)."""
        return self._queue is not None

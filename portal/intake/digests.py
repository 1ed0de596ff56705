"""A file's SHA-256 as it is received, computed on a thread of its own beside the one that encrypts
and writes it: hashlib lets go of the interpreter lock while it hashes a large piece, so with a core
to spare the digest adds no time to an upload (issue 23's profile: a quarter of the worker's time
was the digest, done in line). Pieces wait in a short queue, so memory stays bounded."""

from __future__ import annotations

import hashlib
import queue
import threading

# Pieces of at most uploads.READ_SIZE (1 MiB) wait here: a few MiB held at most per file.
DEPTH = 4
# Smaller files are hashed in line: a thread is not worth starting for them.
INLINE_BYTES = 1024 * 1024


class ReceivedDigest:
    """SHA-256 of the bytes given to `update`, in order. `hexdigest()` waits for the queue to drain;
    `close()` stops the thread without a result (an upload abandoned part way). `hashed` counts the
    bytes hashed (each once), for tests."""

    def __init__(self) -> None:
        self._hash = hashlib.sha256()
        self._inline = 0
        self.hashed = 0
        self._queue: queue.Queue | None = None
        self._thread: threading.Thread | None = None

    def update(self, data: bytes) -> None:
        if self._queue is None:
            if self._inline + len(data) <= INLINE_BYTES:
                self._inline += len(data)
                self._hash.update(data)
                self.hashed += len(data)
                return
            self._queue = queue.Queue(maxsize=DEPTH)
            self._thread = threading.Thread(target=self._run, name="upload-digest", daemon=True)
            self._thread.start()
        # Bytes are immutable: the thread reads the very object the parser handed over, no copy.
        self._queue.put(data if type(data) is bytes else bytes(data))

    def _run(self) -> None:
        assert self._queue is not None
        while (piece := self._queue.get()) is not None:
            self._hash.update(piece)
            self.hashed += len(piece)

    def _stop(self) -> None:
        if self._thread is not None and self._queue is not None:
            self._queue.put(None)
            self._thread.join()
            self._thread = None

    def hexdigest(self) -> str:
        self._stop()
        return self._hash.hexdigest()

    def close(self) -> None:
        self._stop()

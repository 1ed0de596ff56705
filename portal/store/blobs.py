"""Encrypted blob files: written under a temporary name, renamed into place, times kept to the
day."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import BinaryIO, Iterable

TMP_SUFFIX = ".part"
BLOB_SUFFIX = ".blob"


class BlobWriter:
    """A blob being written. `commit()` renames it into place; `discard()` removes it."""

    def __init__(self, store: "BlobStore") -> None:
        self._store = store
        self.name = secrets.token_hex(16)
        self.tmp_path = store.root / (self.name + TMP_SUFFIX)
        fd = os.open(self.tmp_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        self.file: BinaryIO = os.fdopen(fd, "wb")
        self.committed = False

    def close(self) -> None:
        """The file's last byte is written: flush it to disk and give its descriptor back at once,
        so a request with many files holds one open file at a time, not one per file."""
        if not self.file.closed:
            self.file.flush()
            os.fsync(self.file.fileno())
            self.file.close()

    def commit(self, day_timestamp: float) -> str:
        self.close()
        final = self._store.path(self.name)
        os.replace(self.tmp_path, final)
        self._store.blur_times(final, day_timestamp)
        self.committed = True
        return self.name

    def discard(self) -> None:
        if not self.file.closed:
            self.file.close()
        for path in (self.tmp_path, self._store.path(self.name)):
            path.unlink(missing_ok=True)


class BlobStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)

    def path(self, name: str) -> Path:
        if not name.isalnum():
            raise ValueError("bad blob name")
        return self.root / (name + BLOB_SUFFIX)

    def writer(self) -> BlobWriter:
        return BlobWriter(self)

    def open(self, name: str) -> BinaryIO:
        return open(self.path(name), "rb")

    def delete(self, name: str) -> None:
        self.path(name).unlink(missing_ok=True)

    def blur_times(self, path: Path, day_timestamp: float) -> None:
        """Set file and folder times to the start of the day, so they cannot be matched to other
        logs."""
        os.utime(path, (day_timestamp, day_timestamp))
        os.utime(self.root, (day_timestamp, day_timestamp))

    def sweep(self, referenced: Iterable[str]) -> int:
        """Delete unfinished temporary files and blobs no case refers to (left by a crash)."""
        keep = set(referenced)
        removed = 0
        for path in self.root.iterdir():
            stem, suffix = path.stem, path.suffix
            if suffix == TMP_SUFFIX or (suffix == BLOB_SUFFIX and stem not in keep):
                path.unlink(missing_ok=True)
                removed += 1
        return removed

"""Encrypted blob files: written under a temporary name, renamed into place, times kept to the
day. `blob_store` gives the installation's store: these files in the data directory (SQLite, the
default), or the blobs in PostgreSQL (portal.store.database_blobs) when PORTAL_DATABASE_URL is
set, with the same methods."""

from __future__ import annotations

import fcntl
import os
import secrets
from pathlib import Path
from typing import BinaryIO, Iterable

TMP_SUFFIX = ".part"
BLOB_SUFFIX = ".blob"


class BlobWriter:
    """A blob being written. `commit()` puts it in place; `discard()` removes it.

    While it is written its `.part` file holds an exclusive flock, so a sweeper (BlobStore.
    sweep_unfinished) removes only the `.part` files of writers that are gone (a worker killed part
    way): no live upload is ever removed, whatever its age. `close()` renames the finished file to
    its blob name while still holding the lock, then gives the descriptor back."""

    def __init__(self, store: "BlobStore") -> None:
        self._store = store
        # The folder's times before this file changed them, put back by discard(): a refused
        # upload leaves no exact second on the folder (a committed one blurs it to the day).
        folder = os.stat(store.root)
        self._folder_times = (folder.st_atime_ns, folder.st_mtime_ns)
        while True:
            self.name = secrets.token_hex(16)
            self.tmp_path = store.root / (self.name + TMP_SUFFIX)
            fd = os.open(self.tmp_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            if _lock(fd) and _still_named(fd, self.tmp_path):
                break
            os.close(fd)  # a sweeper took it between its creation and the lock: a fresh name
        self.file: BinaryIO = os.fdopen(fd, "wb")
        self.committed = False
        self._let_go_to = 0

    def let_go(self) -> None:
        """During a long upload: ask the kernel to start writing out what was written so far (it
        may then drop it from the page cache), so the fsync at `close` finds little left to do."""
        self.file.flush()
        end = self.file.tell()
        os.posix_fadvise(self.file.fileno(), self._let_go_to, end - self._let_go_to,
                         os.POSIX_FADV_DONTNEED)
        self._let_go_to = end

    def close(self) -> None:
        """The file's last byte is written: flush it to disk, rename it to its blob name (not yet
        referenced: a crash now leaves an orphan the start-up sweep removes) and give its
        descriptor back at once, so a request with many files holds one open file at a time."""
        if not self.file.closed:
            self.file.flush()
            os.fsync(self.file.fileno())
            os.replace(self.tmp_path, self._store.path(self.name))
            self.file.close()

    def commit(self, day_timestamp: float) -> str:
        self.close()
        final = self._store.path(self.name)
        self._store.blur_times(final, day_timestamp)
        self.committed = True
        return self.name

    def discard(self) -> None:
        if not self.file.closed:
            self.file.close()
        for path in (self.tmp_path, self._store.path(self.name)):
            path.unlink(missing_ok=True)
        os.utime(self._store.root, ns=self._folder_times)


def blob_store(root: Path):
    """The installation's blob store: BlobStore(root), or with PORTAL_DATABASE_URL set the
    database's (portal.store.database_blobs.DatabaseBlobStore), shared by every node."""
    from portal.store.db import database_url

    url = database_url()
    if url:
        from portal.store.database_blobs import DatabaseBlobStore

        return DatabaseBlobStore(url)
    return BlobStore(root)


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

    def size(self, name: str) -> int:
        """The blob's size in bytes; FileNotFoundError when there is none."""
        return self.path(name).stat().st_size

    def delete(self, name: str) -> None:
        self.path(name).unlink(missing_ok=True)

    def give_back(self, name: str, path: Path) -> None:
        """The blob moved back to `path` (adopt undone)."""
        os.replace(self.path(name), path)

    def settle(self) -> None:
        """The folder's deletions made durable (fsync of the folder)."""
        fd = os.open(self.root, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def adopt(self, path: Path, day_timestamp: float) -> str:
        """A finished file written elsewhere on this disk (a file sealed in the discloser's browser
        and uploaded in parts, portal.intake.sealed_uploads) moved into the store under a new
        name, its times blurred to the day; returns the name."""
        name = secrets.token_hex(16)
        os.replace(path, self.path(name))
        self.blur_times(self.path(name), day_timestamp)
        return name

    def blur_times(self, path: Path, day_timestamp: float) -> None:
        """Set file and folder times to the start of the day, so they cannot be matched to other
        logs."""
        os.utime(path, (day_timestamp, day_timestamp))
        os.utime(self.root, (day_timestamp, day_timestamp))

    def sweep(self, referenced: Iterable[str]) -> tuple[int, int]:
        """At start-up: delete the unfinished `.part` files no writer holds and the blobs no case
        refers to (left by a crash). Returns (unfinished, orphaned) counts."""
        keep = set(referenced)
        unfinished = self.sweep_unfinished()
        orphaned = 0
        for path in self.root.iterdir():
            if path.suffix == BLOB_SUFFIX and path.stem not in keep:
                path.unlink(missing_ok=True)
                orphaned += 1
        return unfinished, orphaned

    def sweep_unfinished(self) -> int:
        """Delete the `.part` files whose writer is gone: only those this process can lock, so a
        live upload, which holds its file's lock, is never removed. Safe while the server runs
        (gunicorn's child_exit hook calls it when a worker dies, portal/web/server.py)."""
        removed = 0
        for path in self.root.iterdir():
            if path.suffix != TMP_SUFFIX:
                continue
            try:
                fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
            except OSError:
                continue  # renamed or removed by its writer meanwhile
            try:
                if _lock(fd) and _still_named(fd, path):
                    path.unlink(missing_ok=True)
                    removed += 1
            finally:
                os.close(fd)
        return removed


def _lock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _still_named(fd: int, path: Path) -> bool:
    """Whether `path` still names the file open as `fd`."""
    try:
        return os.stat(path, follow_symlinks=False).st_ino == os.fstat(fd).st_ino
    except FileNotFoundError:
        return False

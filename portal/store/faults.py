"""What went wrong underneath a request, in the words a person needs: the faults of the storage
and of what the portal depends on that a person can meet, and when it is worth trying again.

`classify` names a fault from the exception that carried it, or gives None for a bug (which stays a
plain 500). The web layer (portal.web.fault_pages) turns a fault into a 503 page with `Retry-After`
that keeps what was typed; the commands (portal.cli.root) into a one-line verdict.
"""

from __future__ import annotations

import errno
import sqlite3
from dataclasses import dataclass
from typing import Callable

# Each kind: how long to wait before trying again, in seconds (the Retry-After header). "full" is
# also what a form refused below the free-space floor is told (the same state: short of space).
RETRY_AFTER = {"locked": 30, "full": 600, "missing": 600, "dependency": 300}

_FULL_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}
_MISSING_ERRNOS = {errno.ENOENT, errno.ENOTDIR}
_DEPENDENCY_ERRNOS = {errno.EROFS, errno.EIO, errno.EACCES, errno.EPERM}


@dataclass(frozen=True)
class Fault:
    kind: str  # locked, full, missing or dependency

    @property
    def retry_after(self) -> int:
        return RETRY_AFTER[self.kind]


def classify(exc: BaseException) -> Fault | None:
    """The fault `exc` reports (also through its __cause__ / __context__), or None if it is none."""
    seen = 0
    while exc is not None and seen < 5:
        fault = _one(exc)
        if fault is not None:
            return fault
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return None


def _one(exc: BaseException) -> Fault | None:
    if isinstance(exc, sqlite3.Error):
        text = str(exc).lower()
        if "locked" in text or "busy" in text:
            return Fault("locked")
        # SQLITE_IOERR_SHMSIZE: the -shm file beside the database could not grow, which SQLite
        # documents as the volume being out of space (opening a cleanly closed database on a full
        # disk meets it first).
        if "full" in text or getattr(exc, "sqlite_errorname", "") == "SQLITE_IOERR_SHMSIZE":
            return Fault("full")
        if "no such table" in text or "unable to open" in text or "readonly" in text:
            # The database file is gone (SQLite made an empty one) or cannot be opened or written.
            return Fault("missing")
        if isinstance(exc, sqlite3.OperationalError) or "disk i/o" in text:
            return Fault("dependency")
        return None
    if isinstance(exc, (ConnectionError, TimeoutError)):
        return Fault("dependency")
    if isinstance(exc, OSError):
        if exc.errno in _FULL_ERRNOS:
            return Fault("full")
        if exc.errno in _MISSING_ERRNOS:
            return Fault("missing")
        if exc.errno in _DEPENDENCY_ERRNOS:
            return Fault("dependency")
    return None


def put_off(work: Callable[..., object], *args) -> Fault | None:
    """Run housekeeping that writes but can wait (removing ended sessions, filling a directory at
    start-up): a storage fault puts it off until next time and is returned, not raised, so that a
    full disk or a busy database leaves the portal serving what it can read. A bug still raises."""
    try:
        work(*args)
    except (OSError, sqlite3.Error) as exc:
        fault = classify(exc)
        if fault is None:
            raise
        return fault
    return None

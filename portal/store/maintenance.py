"""The installation's maintenance lock: a backup holds it while it copies, and whatever deletes the
blob files of stored cases (retention) takes it, so a backup never misses a blob its snapshot refers
to. On PostgreSQL the lock is an advisory lock in the database, so it holds across every node
(portal.store.shared_state).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path
from typing import Iterator

from portal.store import shared_state

LOCK_FILE = "maintenance.lock"


@contextlib.contextmanager
def maintenance_lock(data_dir: Path) -> Iterator[None]:
    """Hold the exclusive lock (flock on `maintenance.lock` in the data directory) for the block;
    waits for whoever holds it. On PostgreSQL, the advisory lock `maintenance` instead."""
    if shared_state.in_database():
        with shared_state.lock("maintenance"):
            yield
        return
    fd = os.open(data_dir / LOCK_FILE, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)

"""The installation's maintenance lock: a backup holds it while it copies, and whatever deletes the
blob files of stored cases (retention) takes it, so a backup never misses a blob its snapshot refers
to.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path
from typing import Iterator

LOCK_FILE = "maintenance.lock"


@contextlib.contextmanager
def maintenance_lock(data_dir: Path) -> Iterator[None]:
    """Hold the exclusive lock (flock on `maintenance.lock` in the data directory) for the block;
    waits for whoever holds it."""
    fd = os.open(data_dir / LOCK_FILE, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)

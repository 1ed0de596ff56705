"""Separate, bounded queues for expensive work, one per kind: an officer's sign-in, sealing a new
disclosure, and a discloser's receipt check.

Each kind has its own slots (its share of the cores) and its own short line of waiters. A request
waits only behind requests of its own kind, and only while the line is short: when the line is
full the answer is at once (work_slots.Busy, 503 with Retry-After), so a flood of receipt guesses
holds at most `slots + waiting` threads of a worker and never delays a sign-in or a disclosure
(SECURITY.md, "Budgets"). Counts, not times, are kept: `held()` and `waiting()` for tests and the
benchmark."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import threading
import time
from pathlib import Path
from typing import Iterator

from portal.core.config import Settings
from portal.guard.work_slots import Busy, FairSlots

SIGN_IN = "sign_in"  # an officer's passphrase: sign-in, enrolment, rotation, confirmation
SEALING = "sealing"  # a new case's receipt key (disclosures, oral disclosures)
RECEIPT = "receipt"  # a discloser's receipt check at /status
KINDS = (SIGN_IN, SEALING, RECEIPT)


class BoundedQueue(FairSlots):
    """FairSlots with at most `max_waiting` waiters; one more is refused without waiting."""

    def __init__(self, size: int, max_waiting: int) -> None:
        super().__init__(size)
        self.max_waiting = max(0, max_waiting)
        self.done = 0  # runs completed, for tests and the benchmark

    def acquire(self, timeout: float) -> bool:
        with self._lock:
            if len(self._waiters) >= self.max_waiting and not (self._free and not self._waiters):
                return False
        return super().acquire(timeout)

    def release(self) -> None:
        with self._lock:
            self.done += 1
        super().release()

    def waiting(self) -> int:
        with self._lock:
            return len(self._waiters)

    def running(self) -> int:
        with self._lock:
            return self.size - self._free


_queues: dict[tuple[str, int, int], BoundedQueue] = {}
_queues_lock = threading.Lock()


def queue(settings: Settings, kind: str) -> BoundedQueue:
    """This process's queue for `kind` under `settings`' sizes."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind of work: {kind}")
    size = {
        SIGN_IN: settings.sign_in_slots,
        SEALING: settings.sealing_slots,
        RECEIPT: settings.receipt_slots,
    }[kind]
    waiting = settings.sealing_waiting if kind == SEALING else settings.queue_waiting
    with _queues_lock:
        return _queues.setdefault((kind, size, waiting), BoundedQueue(size, waiting))


@contextlib.contextmanager
def slot(settings: Settings, kind: str, *, wait: float | None = None) -> Iterator[None]:
    """One derivation of `kind`: waits up to `kdf_wait_seconds` (or `wait`) in its own line. A
    receipt check also takes one of the installation's `receipt_share` places, shared by every
    server process, so receipt checks together never use more than that many cores."""
    timeout = settings.kdf_wait_seconds if wait is None else wait
    with queue(settings, kind).held(timeout, retry_after=settings.busy_retry_after):
        if kind != RECEIPT or settings.receipt_share <= 0:
            yield
            return
        with _shared_place(settings, kind, time.monotonic() + timeout):
            yield


def _place_dir() -> Path:
    return Path("/dev/shm") if os.path.isdir("/dev/shm") else Path(os.environ.get("TMPDIR", "/tmp"))


@contextlib.contextmanager
def _shared_place(settings: Settings, kind: str, deadline: float) -> Iterator[None]:
    """One of `receipt_share` places held across processes by an advisory lock on an empty file in
    memory (/dev/shm), named by the data directory's hash: it holds nothing but the lock."""
    name = hashlib.sha256(str(settings.data_dir.resolve()).encode()).hexdigest()[:16]
    paths = [_place_dir() / f"portal-{name}-{kind}-{i}.lock" for i in range(settings.receipt_share)]
    while True:
        for path in paths:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
                os.close(fd)
            return
        if time.monotonic() >= deadline:
            raise Busy(settings.busy_retry_after)
        time.sleep(0.02)

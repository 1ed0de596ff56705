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
import threading

from portal.core.config import Settings
from portal.guard.work_slots import FairSlots

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


def slot(
    settings: Settings, kind: str, *, wait: float | None = None
) -> contextlib.AbstractContextManager:
    """One derivation of `kind`: waits up to `kdf_wait_seconds` (or `wait`) in its own line."""
    return queue(settings, kind).held(
        settings.kdf_wait_seconds if wait is None else wait, retry_after=settings.busy_retry_after
    )

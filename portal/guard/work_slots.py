"""Rationing expensive work within one server process: fair slots (the Argon2id queues of
portal.guard.work_queues are built on them) and concurrent uploads.

A slot is handed to waiters first come, first served, so a flood of requests (receipt guesses, junk
sign-ins) waits in the same queue as a genuine discloser instead of overtaking them. Peak memory is
bounded by the number of slots, not by the number of threads (SECURITY.md, "Budgets")."""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections import deque
from typing import Iterator


def lower_this_thread(nice: int) -> None:
    """Lower the calling thread's CPU priority by `nice` (at most to 19), for good: an unprivileged
    server cannot raise it back (that needs CAP_SYS_NICE), so only threads kept for low-priority
    work call this, once. Linux keeps a nice per thread; elsewhere the call would lower the whole
    process, so nothing changes there."""
    if nice > 0 and sys.platform.startswith("linux"):
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + nice))


class Busy(Exception):
    """No slot came free in time; try again in `retry_after` seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"The portal is busy; try again in {retry_after} seconds.")
        self.retry_after = retry_after


class FairSlots:
    """A counting semaphore whose waiters are served in arrival order."""

    def __init__(self, size: int) -> None:
        self.size = max(1, size)
        self._free = self.size
        self._lock = threading.Lock()
        self._waiters: deque[threading.Event] = deque()

    def acquire(self, timeout: float) -> bool:
        with self._lock:
            if self._free and not self._waiters:
                self._free -= 1
                return True
            if timeout <= 0:
                return False
            granted = threading.Event()
            self._waiters.append(granted)
        if granted.wait(timeout):
            return True
        with self._lock:
            if granted.is_set():  # handed over just as the wait ended
                return True
            self._waiters.remove(granted)
            return False

    def release(self) -> None:
        with self._lock:
            if self._waiters:
                self._waiters.popleft().set()  # the slot passes straight to the longest waiter
            else:
                self._free += 1

    @contextlib.contextmanager
    def held(self, timeout: float, retry_after: int) -> Iterator[None]:
        """Hold a slot for the block; Busy if none comes free within `timeout` seconds."""
        if not self.acquire(timeout):
            raise Busy(retry_after)
        try:
            yield
        finally:
            self.release()


_slots: dict[tuple[str, int], FairSlots] = {}
_slots_lock = threading.Lock()


def _named(name: str, size: int) -> FairSlots:
    with _slots_lock:
        return _slots.setdefault((name, size), FairSlots(size))


# A body declared this small is read by the worker's main loop before any thread takes the request
# (portal/guard/slow_clients.py), so it holds no thread and takes no upload slot. Any larger or
# chunked body takes one (portal/guard/upload_slots.py), on every route (portal/web/app.py), so a
# few slow bodies cannot hold every thread.
SMALL_BODY_BYTES = 64 * 1024


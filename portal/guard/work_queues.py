"""Separate, bounded queues for expensive work, one per kind: an officer's sign-in, sealing a new
disclosure, and a discloser's receipt check.

Each kind has its own slots (its share of the cores) and its own short line of waiters. A request
waits only behind requests of its own kind, and only while the line is short: when the line is
full the answer is at once (work_slots.Busy, 503 with Retry-After), so a flood of receipt guesses
holds at most `slots + waiting` threads of a worker and never delays a sign-in or a disclosure
(SECURITY.md, "Budgets"). Counts, not times, are kept: `held()` and `waiting()` for tests and the
benchmark.

Receipt checks are the kind an anonymous flood can send without limit, so `run` does their
derivations in a few long-lived threads of their own at the lowest CPU priority (`receipt_nice`,
nice 19 on Linux, set once per thread: raising a thread's priority back would need CAP_SYS_NICE,
which a server does not have). A page, a sign-in or a sealing then gets the cores first, and a
flood of guesses takes only what they leave over. A receipt check whose line is full (by default it
has no line: `receipt_waiting` 0) is answered busy at once, and so is one that finds every
installation-wide place taken: it never holds a thread waiting.

The reserved lane's derivations (each paid with a higher proof) run at `lane_nice` (0 by default)
in threads of their own that `start` makes from the thread creating the app, a worker's main
thread, so that they do not inherit the low priority of the receipt checks' request threads: at
nice 19 a flood on the same cores starved them and the lane gave no turn. They stay within the
lane's `receipt_share` places. Each lane request turned away is counted for the current minute
(`lane_refusals`): the lane's price rises with them (portal.guard.proofs.lane_bits), in a service
with each organisation's own."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable, Iterator, TypeVar

from portal.core.config import Settings
from portal.guard import work_slots
from portal.guard.work_slots import Busy, FairSlots
from portal.store import shared_state

SIGN_IN = "sign_in"  # an officer's passphrase: sign-in, enrolment, rotation, confirmation
SEALING = "sealing"  # a new case's receipt key (disclosures, oral disclosures)
RECEIPT = "receipt"  # a discloser's receipt check at /status
LANE = "receipt_lane"  # a receipt check that paid the higher proof (proofs.lane_bits)
KINDS = (SIGN_IN, SEALING, RECEIPT, LANE)
LOW = (RECEIPT, LANE)  # derived in low-priority threads, within `receipt_share` places


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
        LANE: settings.receipt_slots,
    }[kind]
    waiting = {
        SIGN_IN: settings.queue_waiting,
        SEALING: settings.sealing_waiting,
        RECEIPT: settings.receipt_waiting,
        LANE: settings.queue_waiting,
    }[kind]
    with _queues_lock:
        return _queues.setdefault((kind, size, waiting), BoundedQueue(size, waiting))


@contextlib.contextmanager
def slot(settings: Settings, kind: str, *, wait: float | None = None) -> Iterator[None]:
    """One derivation of `kind`: waits up to `kdf_wait_seconds` (or `wait`) in its own line. A
    receipt check also takes one of the installation's `receipt_share` places (the lane has as
    many of its own), shared by every server process, so receipt checks never use more cores.
    In a process serving many organisations, an organisation past its budget
    (`organisation_budget`) is busy at once, and that refusal does not raise the lane's price
    for the others."""
    timeout = settings.kdf_wait_seconds if wait is None else wait
    with organisation_budget(settings, kind):
        try:
            with _slot(settings, kind, timeout):
                yield
        except Busy:
            if kind == LANE:
                _note_lane_refusal(settings)
            raise


# Places of each queue held (running or waiting) by each organisation: (kind, size, waiting,
# data directory) -> count. Only in a process serving many organisations.
_organisations_held: dict[tuple[str, int, int, str], int] = {}


def organisation_places(settings: Settings, kind: str) -> int:
    """How many places (running and waiting) of `kind`'s queue one organisation may hold at once:
    `organisation_share` percent of the queue's slots and line, at least one; the whole queue
    with no share set (a single installation)."""
    line = queue(settings, kind)
    places = line.size + line.max_waiting
    if settings.organisation_share <= 0:
        return places
    return max(1, places * min(100, settings.organisation_share) // 100)


@contextlib.contextmanager
def organisation_budget(settings: Settings, kind: str) -> Iterator[None]:
    """One of the organisation's places in `kind`'s queue (organisation_places), held for the
    block; Busy at once when it holds them all. The queue itself stays the global cap: every
    organisation's work together never runs more derivations than a single installation would.
    Nothing is counted with no `organisation_share` (a single installation)."""
    if settings.organisation_share <= 0:
        yield
        return
    line = queue(settings, kind)
    key = (kind, line.size, line.max_waiting, str(settings.data_dir.resolve()))
    most = organisation_places(settings, kind)
    with _queues_lock:
        held = _organisations_held.get(key, 0)
        if held >= most:
            raise Busy(settings.busy_retry_after)
        _organisations_held[key] = held + 1
    try:
        yield
    finally:
        with _queues_lock:
            _organisations_held[key] -= 1


@contextlib.contextmanager
def _slot(settings: Settings, kind: str, timeout: float) -> Iterator[None]:
    with queue(settings, kind).held(timeout, retry_after=settings.busy_retry_after):
        if kind not in LOW or settings.receipt_share <= 0:
            yield
            return
        # With no line for receipt checks, every place taken is busy at once, not a wait; the
        # reserved lane has places of its own and a short line.
        lined = kind == LANE or settings.receipt_waiting > 0
        deadline = time.monotonic() + (timeout if lined else 0)
        with shared_place(settings, kind, settings.receipt_share, deadline):
            yield


T = TypeVar("T")


def run(settings: Settings, kind: str, work: Callable[[], T], *, wait: float | None = None) -> T:
    """Do `work` (one derivation) in a slot of `kind`: a receipt check's in a low-priority thread
    (`receipt_nice`), the lane's in a lane thread (`lane_nice`), the caller's thread waiting for
    it; any other kind in the caller's thread."""
    with slot(settings, kind, wait=wait):
        if kind == LANE:
            return _lane_threads(settings).submit(work).result()
        if kind not in LOW or settings.receipt_nice <= 0:
            return work()
        return _low_priority(settings).submit(work).result()


_lanes: dict[tuple[int, int, int], ThreadPoolExecutor] = {}


def start(settings: Settings) -> None:
    """Start this process's lane threads now, from the calling thread (a server worker's main
    thread, at normal priority), so they never inherit a request thread's nice."""
    _lane_threads(settings)


def _lane_threads(settings: Settings) -> ThreadPoolExecutor:
    key = (os.getpid(), settings.receipt_slots, settings.lane_nice)
    with _queues_lock:
        pool = _lanes.get(key)
        if pool is not None:
            return pool
        count = max(1, settings.receipt_slots)
        pool = _lanes[key] = ThreadPoolExecutor(
            count,
            thread_name_prefix="receipt-lane",
            initializer=work_slots.lower_this_thread,
            initargs=(settings.lane_nice,),
        )
        # Every thread made now, by this thread: each task waits until all have started.
        started = threading.Barrier(count)
        waits = [pool.submit(started.wait, 10) for _ in range(count)]
    for done in waits:
        done.result()
    return pool


# Lane requests turned away: the whole process's, and (in a process serving many organisations)
# each organisation's, by its data directory.
_refusals = {"minute": 0, "now": 0, "before": 0}
_organisation_refusals: dict[str, dict[str, int]] = {}


def _note_lane_refusal(settings: Settings) -> None:
    if shared_state.in_database():  # every node's refusals (issue 30); this process's below
        shared_state.count_minute(settings, "lane-refusals", 1)
    with _queues_lock:
        _roll_refusals(_refusals)
        _refusals["now"] += 1
        if settings.organisation_share > 0:
            counts = _organisation_refusals.setdefault(
                str(settings.data_dir.resolve()), {"minute": 0, "now": 0, "before": 0}
            )
            _roll_refusals(counts)
            counts["now"] += 1


def lane_refusals(settings: Settings | None = None) -> int:
    """Lane requests turned away (line full, no place in time) this minute, or the minute before
    if that was more (so the lane's price does not fall back at each minute): the organisation's
    own under `settings` with an `organisation_share`, else the whole process's. On PostgreSQL,
    under `settings`, those every node turned away for that installation or organisation (its
    secret names its row: portal.store.shared_state)."""
    if settings is not None and shared_state.in_database():
        return max(shared_state.count_minute(settings, "lane-refusals"))
    with _queues_lock:
        if settings is None or settings.organisation_share <= 0:
            counts = _refusals
        else:
            counts = _organisation_refusals.get(str(settings.data_dir.resolve()))
            if counts is None:
                return 0
        _roll_refusals(counts)
        return max(counts["now"], counts["before"])


def most_refused_at_one() -> int:
    """The most lane requests turned away at any one organisation (as lane_refusals counts)."""
    with _queues_lock:
        for counts in _organisation_refusals.values():
            _roll_refusals(counts)
        return max((max(c["now"], c["before"]) for c in _organisation_refusals.values()), default=0)


def _roll_refusals(counts: dict[str, int]) -> None:
    minute = int(time.time()) // 60
    if minute != counts["minute"]:
        gone = minute - counts["minute"]
        counts.update(minute=minute, before=counts["now"] if gone == 1 else 0, now=0)


_pools: dict[tuple[int, int, int], ThreadPoolExecutor] = {}
_LOW_STARTED = 0  # low-priority threads started, for tests


def low_priority_threads() -> int:
    return _LOW_STARTED


def _low_priority(settings: Settings) -> ThreadPoolExecutor:
    """This process's receipt-derivation threads (made anew after a fork); the lane has its own
    (`_lane_threads`)."""
    key = (os.getpid(), 2 * settings.receipt_slots, settings.receipt_nice)
    with _queues_lock:
        pool = _pools.get(key)
        if pool is None:
            pool = _pools[key] = ThreadPoolExecutor(
                max(2, 2 * settings.receipt_slots),  # the common slots and the lane's
                thread_name_prefix="receipt-low",
                initializer=_lower_this_thread,
                initargs=(settings.receipt_nice,),
            )
        return pool


def _lower_this_thread(nice: int) -> None:
    global _LOW_STARTED
    with _queues_lock:
        _LOW_STARTED += 1
    work_slots.lower_this_thread(nice)


def _place_dir() -> Path:
    return Path("/dev/shm") if os.path.isdir("/dev/shm") else Path(os.environ.get("TMPDIR", "/tmp"))


@contextlib.contextmanager
def shared_place(settings: Settings, kind: str, places: int, deadline: float,
                 *, first: tuple[tuple[str, int], ...] = ()) -> Iterator[None]:
    """One of `places` places for work of `kind` (a name: receipt checks, file checks), held
    across every server process of the installation by an advisory lock on an empty file in
    memory (/dev/shm), named by the data directory's hash: it holds nothing but the lock. Polls
    until `deadline` (time.monotonic()), then Busy; with no places, Busy at the deadline.
    `first`: (kind, places) pairs whose places are tried before `kind`'s (a place kept for small
    file checks). On PostgreSQL the places are advisory locks, shared by every node."""
    if shared_state.in_database():  # places every node shares: advisory locks (issue 30)
        names = [f"place:{each}:{i}" for each, count in (*first, (kind, places))
                 for i in range(max(0, count))]
        with shared_state.first_free(names, deadline, lambda: Busy(settings.busy_retry_after)):
            yield
        return
    name = hashlib.sha256(str(settings.data_dir.resolve()).encode()).hexdigest()[:16]
    paths = [_place_dir() / f"portal-{name}-{each}-{i}.lock"
             for each, count in (*first, (kind, places)) for i in range(max(0, count))]
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


_memory_minutes: dict[str, tuple[int, int]] = {}  # where there is no /dev/shm to share them in


def _minute_update(settings: Settings, kind: str, add: int) -> int:
    """The count of `kind` in the current minute, with `add` more, shared by every server process
    of the installation in a file in memory (/dev/shm): 16 bytes, the minute and its count, under
    an advisory lock; a count of another minute is 0. Without /dev/shm, in this process's memory
    (never on disk: the minute is when a discloser's file was checked). On PostgreSQL, every
    node's count, in a sealed row (portal.store.shared_state)."""
    if shared_state.in_database():
        return shared_state.count_minute(settings, f"minute:{kind}", add)[0]
    name = hashlib.sha256(str(settings.data_dir.resolve()).encode()).hexdigest()[:16]
    minute = int(time.time()) // 60
    if not os.path.isdir("/dev/shm"):
        with _queues_lock:
            then, counted = _memory_minutes.get(f"{name}-{kind}", (minute, 0))
            counted = (counted if then == minute else 0) + add
            _memory_minutes[f"{name}-{kind}"] = (minute, counted)
            return counted
    fd = os.open(f"/dev/shm/portal-{name}-{kind}.minute", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        raw = os.pread(fd, 16, 0)
        same = len(raw) == 16 and int.from_bytes(raw[:8], "big") == minute
        counted = (int.from_bytes(raw[8:], "big") if same else 0) + add
        if add:
            os.pwrite(fd, minute.to_bytes(8, "big") + counted.to_bytes(8, "big"), 0)
        return counted
    finally:
        os.close(fd)  # closing releases the lock


def minute_count(settings: Settings, kind: str) -> int:
    """How many of `kind` were counted this minute, installation-wide (count_in_minute)."""
    return _minute_update(settings, kind, 0)


def count_in_minute(settings: Settings, kind: str) -> int:
    """Count one more `kind` this minute, installation-wide; return the minute's count."""
    return _minute_update(settings, kind, 1)

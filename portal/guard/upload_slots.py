"""Upload slots that slow uploads cannot hold (SECURITY.md, "Slow clients").

A process lets only a few request bodies too large for the worker's main loop be read at once
(`max_concurrent_uploads`), so some threads are always left for pages and sign-in. A slot is kept
only while its body arrives at a useful rate: when an upload finds every slot taken, the holder that
has held its slot longest while falling below `useful_upload_bytes_per_second` (on average since it
began, judged once it has held the slot for `upload_slot_grace_seconds`) is pre-empted and its slot
handed over at once. The pre-empted upload learns it at its next read (`Holder.check`, raising
Preempted); its page keeps what was typed and asks to send again, and the rest of its body is read
and thrown away off-thread, up to a bound, so the answer reaches the client
(portal/guard/slow_clients.py). With no one waiting nothing is pre-empted: a slow upload on a quiet
portal goes on as long as it keeps the minimum rate.

In a process serving many organisations (`organisation_share`), one organisation holds at most
that share of the slots: past it, an upload of that organisation may pre-empt only a slow upload
of its own, so one organisation's flood of slow uploads leaves the other slots to the others."""

from __future__ import annotations

import contextlib
import threading
import time
from typing import Iterator

from portal.core.config import Settings
from portal.guard.work_slots import SMALL_BODY_BYTES, Busy


class Preempted(Busy):
    """This upload arrived below the useful rate while another waited: its slot was handed over."""

    def __init__(self) -> None:
        super().__init__(retry_after=30)


class Holder:
    """One upload holding a slot: when it began, how many bytes it has read since, and whose it is
    (an organisation's data directory; "" for a single installation)."""

    def __init__(self, organisation: str = "") -> None:
        self.organisation = organisation
        self.started = time.monotonic()
        self.received = 0
        self.preempted = False

    def note(self, size: int) -> None:
        """`size` more bytes of the body arrived; Preempted if the slot was handed over."""
        self.check()
        self.received += size

    def check(self) -> None:
        if self.preempted:
            raise Preempted()

    def rate(self, now: float) -> float:
        return self.received / max(now - self.started, 1e-6)


class UploadSlots:
    """`size` slots; one that is full pre-empts its longest slow holder rather than refuse."""

    def __init__(self, size: int, useful_rate: int, grace: float) -> None:
        self.size = max(1, size)
        self.useful_rate, self.grace = useful_rate, grace
        self.holders: list[Holder] = []  # in the order they took their slots
        self.preemptions = 0
        self._lock = threading.Lock()

    def acquire(self, organisation: str = "", most: int | None = None) -> Holder | None:
        """A slot, taking one from the longest slow holder if none is free; None if every holder
        is still within its grace or keeps the useful rate. With `most`, `organisation` holds at
        most that many: past it, only a slow holder of its own may be pre-empted."""
        with self._lock:
            own = [h for h in self.holders if h.organisation == organisation]
            over = most is not None and len(own) >= most
            if over or len(self.holders) >= self.size:
                now = time.monotonic()
                victim = next(
                    (
                        h
                        for h in (own if over else self.holders)
                        if now - h.started >= self.grace and h.rate(now) < self.useful_rate
                    ),
                    None,
                )
                if victim is None:
                    return None
                victim.preempted = True
                self.holders.remove(victim)
                self.preemptions += 1
            holder = Holder(organisation)
            self.holders.append(holder)
            return holder

    def release(self, holder: Holder) -> None:
        with self._lock:
            if holder in self.holders:
                self.holders.remove(holder)

    @contextlib.contextmanager
    def held(self, organisation: str = "", most: int | None = None) -> Iterator[Holder]:
        holder = self.acquire(organisation, most)
        if holder is None:
            raise Busy(retry_after=30)
        try:
            yield holder
        finally:
            self.release(holder)


_slots: dict[tuple[int, int, int], UploadSlots] = {}
_slots_lock = threading.Lock()


def slots_for(settings: Settings) -> UploadSlots:
    key = (
        settings.max_concurrent_uploads,
        settings.useful_upload_bytes_per_second,
        settings.upload_slot_grace_seconds,
    )
    with _slots_lock:
        return _slots.setdefault(key, UploadSlots(*key))


def upload(
    settings: Settings, content_length: int | None
) -> contextlib.AbstractContextManager[Holder | None]:
    """One request body read by a thread: a slot (yielding its Holder, whose `note` the reader calls
    as bytes arrive), or None for a body the main loop has read already. Never waits: Busy (503)
    when every slot is held by an upload within its grace or at the useful rate."""
    if content_length is not None and content_length <= SMALL_BODY_BYTES:
        return contextlib.nullcontext()
    slots = slots_for(settings)
    if settings.organisation_share <= 0:
        return slots.held()
    most = max(1, slots.size * min(100, settings.organisation_share) // 100)
    return slots.held(str(settings.data_dir.resolve()), most)


def give_back(settings: Settings, holder: Holder | None) -> None:
    """The request body has been read whole: its slot is free for the next upload now, so the work
    that follows (the file checks, the receipt's derivation) never holds an upload slot (issue 22).
    The `with` block of `upload` then releases nothing; None (a small body) gives back nothing."""
    if holder is not None:
        slots_for(settings).release(holder)


class CountedInput:
    """A WSGI input whose reads are counted against an upload slot (Preempted once it was handed
    over), for bodies read whole by the framework rather than streamed by a view."""

    def __init__(self, stream, holder: Holder) -> None:
        self._stream, self._holder = stream, holder

    def read(self, size: int = -1) -> bytes:
        self._holder.check()
        data = self._stream.read(size)
        self._holder.note(len(data))
        return data

    def readline(self, size: int = -1) -> bytes:
        self._holder.check()
        data = self._stream.readline(size)
        self._holder.note(len(data))
        return data

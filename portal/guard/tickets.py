"""What an anonymous client without script pays before the server spends a key derivation: a
ticket that becomes valid after a short wait which typing pays (SECURITY.md, "Proof of work and
tickets").

A ticket is stateless until spent (portal.guard.proofs keeps its spent nonce): an HMAC over its
form, when it becomes valid, a coarse expiry and a nonce, and the session's form token, so a ticket
works only with the form it was issued with.

A ticket issued with a form page takes no place in any line: a page load proves nothing, and a
stream of bare GETs must not push genuine no-script disclosers back. A place is taken only when the
client comes back with its ticket (it has waited out the short wait, so it proves it is waiting):
one line per form for the whole installation, shared by every server process through a small file
in memory (/dev/shm, `_SharedLine`), at a fixed rate, so hoarding buys no more than waiting. A place
that is not now comes back as a placed ticket, valid at its turn. The line is never written to disk.
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import os
import secrets
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from portal.core.config import Settings
from portal.guard import proofs
from portal.guard.proofs import NotPaid
from portal.store import Database


class NotYet(Exception):
    """A genuine ticket that is not valid yet: come back in `retry_after` seconds. `placed`: the
    ticket that now holds the client's place in the line (it replaces the one sent), or None when
    the one sent is kept."""

    def __init__(self, retry_after: int, placed: "Ticket | None" = None) -> None:
        super().__init__(f"come back in {retry_after} seconds")
        self.retry_after = retry_after
        self.placed = placed


@dataclass(frozen=True)
class Ticket:
    value: str
    valid_from: int  # epoch seconds, for the page ("ready in N seconds")



def ticket(settings: Settings, purpose: str, bound: str) -> Ticket:
    """A ticket for `purpose`, bound to the form token `bound`, valid `no_script_wait_seconds`
    from now. It takes no place in the line: that is taken when it is spent (`spend_ticket`)."""
    now = int(time.time())
    return _make_ticket(settings, "t1", purpose, now + settings.no_script_wait_seconds, bound)


def _make_ticket(settings: Settings, tag: str, purpose: str, valid_from: int, bound: str) -> Ticket:
    """`t1`: issued with a form page, no place yet; `t2`: holding a place in the line from
    `valid_from`. The MAC covers the tag, so a page's ticket cannot pass for a placed one."""
    nonce = secrets.token_urlsafe(16)
    expires = max(proofs.expiry(settings, int(time.time())), proofs.expiry(settings, valid_from))
    sealed = proofs.mac(settings, tag, purpose, str(valid_from), str(expires), nonce, _bound(bound))
    return Ticket(f"{tag}.{purpose}.{valid_from}.{expires}.{nonce}.{sealed}", valid_from)


SHARED_DIR = Path("/dev/shm")



_memory_lock = threading.Lock()
_memory_lines: dict[str, int] = {}  # the lines where there is no /dev/shm to share them in


class _SharedLine:
    """The next free moment (milliseconds since the epoch) of one line, shared by every process of
    the installation: 8 bytes in a file in memory (/dev/shm), read and written under an advisory
    lock, named by hashes of the data directory and the installation's key. Without /dev/shm the
    line stays in this process's memory (never on disk: it is a time a discloser acted)."""

    def __init__(self, settings: Settings, purpose: str) -> None:
        self.name = proofs.line_name(settings, purpose)
        here = hashlib.sha256(str(Path(settings.data_dir).resolve()).encode()).hexdigest()[:16]
        self.path = SHARED_DIR / f"portal-{here}-{proofs.key(settings).hex()[:16]}-{purpose}.line"

    def update(self, change) -> int | None:
        """Apply `change(next_free_ms) -> (new_next_free_ms or None, result)` atomically across
        processes; return its result."""
        if not SHARED_DIR.is_dir():
            with _memory_lock:
                new, result = change(_memory_lines.get(self.name, 0))
                if new is not None:
                    _memory_lines[self.name] = new
            return result
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            raw = os.pread(fd, 8, 0)
            new, result = change(int.from_bytes(raw, "big") if len(raw) == 8 else 0)
            if new is not None:
                os.pwrite(fd, max(0, new).to_bytes(8, "big"), 0)
            return result
        finally:
            os.close(fd)  # closing releases the lock


def _take_slot(settings: Settings, purpose: str, earliest_ms: int) -> int | None:
    """The next free moment of the installation's line for `purpose`, no sooner than
    `earliest_ms`, taken; None when that is more than `ticket_line_seconds` away."""
    now_ms = int(time.time() * 1000)
    step_ms = max(1, 60_000 // max(1, settings.tickets_per_minute))
    line_ms = settings.ticket_line_seconds * 1000

    def take(next_free: int):
        if next_free > now_ms + line_ms + step_ms:  # never taken so far ahead: the clock went back
            next_free = 0
        slot_ms = max(earliest_ms, next_free)
        if slot_ms - now_ms > line_ms:
            return None, None
        return slot_ms + step_ms, slot_ms

    return _SharedLine(settings, purpose).update(take)


def line_free_in(settings: Settings, purpose: str) -> int:
    """Seconds until the installation's line for `purpose` has room for a place again (0: now)."""
    next_free = _SharedLine(settings, purpose).update(lambda value: (None, value)) or 0
    ahead = next_free - int(time.time() * 1000) - settings.ticket_line_seconds * 1000
    return max(0, -(-ahead // 1000))


def _bound(bound: str) -> str:
    return hashlib.sha256(bound.encode()).hexdigest()


def spend_ticket(db: Database, settings: Settings, purpose: str, text: str | None,
                 bound: str) -> None:
    """Check and spend a no-script ticket. A page's ticket (`t1`) whose wait is over takes the
    line's next place: now, and it is spent; later, and it is exchanged for a placed ticket (`t2`)
    valid at that place (NotYet with `placed`). A placed ticket is spent at its turn. Raises
    NotPaid, or NotYet (the ticket sent kept, or replaced by `placed`)."""
    tag = text.split(".", 1)[0] if text else ""
    fields = proofs.read_fields(text, "t2" if tag == "t2" else "t1", purpose)
    _, _, valid_from, expires, nonce, sent_mac = fields
    expected = proofs.mac(settings, tag, purpose, valid_from, expires, nonce, _bound(bound))
    if not hmac.compare_digest(sent_mac.encode(), expected.encode()):
        raise NotPaid("forged")
    now = int(time.time())
    if int(expires) < now:
        # A genuine ticket that outlived its expiry (days of writing) has waited long enough: it
        # takes a place in the line now, as a page's ticket does.
        tag, valid_from, expires = "t1", str(now), str(proofs.expiry(settings, now))
    if int(valid_from) > now:
        raise NotYet(int(valid_from) - now)
    if tag == "t1":
        now_ms = int(time.time() * 1000)
        slot_ms = _take_slot(settings, purpose, now_ms)
        if slot_ms is None:  # the line is full: its wait is kept for when there is room
            raise NotYet(max(1, line_free_in(settings, purpose)))
        # A place less than a second away is now: no one can be asked back sooner than that.
        if slot_ms - now_ms >= 1000:
            # Its place is later: the page's ticket is spent for it (one place per ticket).
            proofs.spend_nonce(db, settings, nonce, now)
            placed = _make_ticket(settings, "t2", purpose, -(-slot_ms // 1000), bound)
            raise NotYet(max(1, placed.valid_from - now), placed)
    proofs.spend_nonce(db, settings, nonce, now)
    proofs.count_spent(settings, purpose)

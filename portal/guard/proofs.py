"""What an anonymous client pays before the server spends a key derivation: a SHA-256 hashcash
proof of work solved by the page's script, or, without script, a ticket that becomes valid after a
short wait which typing pays (SECURITY.md, "Proof of work and tickets").

Both are stateless until spent: an HMAC over what they say. A challenge says its form, its
difficulty in bits, a coarse expiry (rounded up to 10 minutes) and a random nonce. A ticket says its
form, when it becomes valid, the same coarse expiry and a nonce, and its HMAC also covers the
session's form token, so a ticket works only with the form it was issued with. Spending one keeps
a keyed hash of its nonce in the set of its retention window (`spent_proofs`, three sets rotated
wholesale, never a time or an expiry), linked to no case; nothing records who solved what, how
hard it was, or how long it took.

A ticket issued with a form page takes no place in any line: a page load proves nothing, and a
stream of bare GETs must not push genuine no-script disclosers back. A place is taken only when the
client comes back with its ticket (it has waited out the short wait, so it proves it is waiting):
one line per form for the whole installation, shared by every server process through a small file
in memory (/dev/shm, `_SharedLine`), at a fixed rate, so hoarding buys no more than waiting. A place
that is not now comes back as a placed ticket, valid at its turn. The load that raises the
difficulty is counted in each process's memory. Neither is ever written to disk: the data directory
holds no time finer than the day of anything a discloser did (tests/guard/test_abuse.py).
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import math
import os
import secrets
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from portal.core.clock import utc_offset_seconds
from portal.core.config import Settings
from portal.core.context import Context
from portal.guard import throttle, work_queues
from portal.store import Database, transaction

PURPOSES = ("disclose", "status")
COARSE = 600  # expiries are rounded up to this many seconds
MAX_PROOF_LENGTH = 200


class NotPaid(Exception):
    """No valid proof or ticket: forged, replayed, expired, too easy for the load now, or absent."""


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


def _key(settings: Settings) -> bytes:
    return hmac.new(settings.secret_key, b"portal proof-of-work and tickets", "sha256").digest()


def _mac(settings: Settings, *parts: str) -> str:
    return hmac.new(_key(settings), "|".join(parts).encode(), "sha256").hexdigest()[:32]


def _expiry(settings: Settings, now: int) -> int:
    return -(-(now + settings.proof_seconds) // COARSE) * COARSE


def leading_zero_bits(digest: bytes) -> int:
    value = int.from_bytes(digest, "big")
    return len(digest) * 8 - value.bit_length()


def solves(challenge: str, solution: str, bits: int) -> bool:
    """Whether SHA-256(challenge ":" solution) starts with `bits` zero bits (the page's script)."""
    digest = hashlib.sha256(f"{challenge}:{solution}".encode()).digest()
    return leading_zero_bits(digest) >= bits


def solve(challenge: str) -> str:
    """Solve a challenge as a script would (tests, benchmark): the smallest counter that works."""
    bits = int(challenge.split(".")[2])
    counter = 0
    while not solves(challenge, str(counter), bits):
        counter += 1
    return str(counter)


# --- how hard -------------------------------------------------------------------------------------


class _Process:
    """The proofs this process spent in the current minute, in memory only (and the ticket lines
    where there is no /dev/shm to share them in)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.next_free_ms: dict[str, int] = {}
        self.minute = 0
        self.spent: dict[str, int] = {}

    def spend(self, purpose: str) -> None:
        with self.lock:
            self._roll()
            self.spent[purpose] = self.spent.get(purpose, 0) + 1

    def spent_now(self, purpose: str) -> int:
        with self.lock:
            self._roll()
            return self.spent.get(purpose, 0)

    def _roll(self) -> None:
        minute = int(time.time()) // 60
        if minute != self.minute:
            self.minute, self.spent = minute, {}


_process = _Process()


def cases_bucket() -> str:
    return "flood:day:cases"


def day_offset(settings: Settings) -> int:
    return utc_offset_seconds(settings.timezone)


def load_bits(db: Database, settings: Settings, purpose: str) -> int:
    """The difficulty now: `pow_bits`, one bit more for each doubling of the proofs this process
    took this minute past `pow_calm_per_minute`, at most `pow_max_bits`."""
    spent = _process.spent_now(_line(settings, purpose))
    calm = max(1, settings.pow_calm_per_minute)
    extra = 0 if spent < calm else int(math.log2(spent / calm)) + 1
    return min(settings.pow_max_bits, settings.pow_bits + extra)


def over_case_budget(db: Database, settings: Settings) -> bool:
    spent = throttle.spent(db, cases_bucket(), 86400, day_offset(settings))
    return spent >= settings.cases_per_day


def required_bits(db: Database, settings: Settings, purpose: str) -> int:
    bits = load_bits(db, settings, purpose)
    if purpose == "disclose" and over_case_budget(db, settings):
        bits = max(bits, settings.pow_flood_bits)
    return bits


LANE_CALM_REFUSALS = 2  # lane requests turned away in a minute before its price rises


def _lane_extra() -> int:
    """One bit more for the lane for each doubling of the lane requests this process turned away
    this minute past LANE_CALM_REFUSALS (work_queues.lane_refusals): a flood paying the lane's
    price that fills it pays more until it no longer does, so the lane keeps a turn free."""
    refused = work_queues.lane_refusals()
    return 0 if refused < LANE_CALM_REFUSALS else int(math.log2(refused / LANE_CALM_REFUSALS)) + 1


def lane_bits(db: Database, settings: Settings, purpose: str) -> int | None:
    """The bits that take a receipt check into the reserved lane now: `pow_lane_bits` more than
    the load asks, and more while the lane turns requests away (`_lane_extra`), at most
    `pow_max_bits` + `pow_lane_bits`. None with the lane off, or for another form."""
    if purpose != "status" or settings.pow_lane_bits <= 0:
        return None
    bits = load_bits(db, settings, purpose) + settings.pow_lane_bits + _lane_extra()
    return min(settings.pow_max_bits + settings.pow_lane_bits, bits)


def lane_offer(ctx: Context, purpose: str) -> int | None:
    """The lane's bits the page names for its script: only under load (at idle there is nothing to
    overtake), with one spare bit, so that the load rising while it solves keeps it in the lane."""
    db, settings = ctx.db, ctx.settings
    lane = lane_bits(db, settings, purpose)
    calm = load_bits(db, settings, purpose) <= settings.pow_bits and not _lane_extra()
    if lane is None or calm:
        return None
    return lane + 1


# --- issuing --------------------------------------------------------------------------------------


def challenge(ctx: Context, purpose: str) -> str:
    """A fresh challenge at the difficulty the load asks now."""
    settings = ctx.settings
    now = int(time.time())
    bits = required_bits(ctx.db, settings, purpose)
    nonce = secrets.token_urlsafe(16)
    expires = _expiry(settings, now)
    return f"p1.{purpose}.{bits}.{expires}.{nonce}." + _mac(
        settings, "p1", purpose, str(bits), str(expires), nonce
    )


def ticket(settings: Settings, purpose: str, bound: str) -> Ticket:
    """A ticket for `purpose`, bound to the form token `bound`, valid `no_script_wait_seconds`
    from now. It takes no place in the line: that is taken when it is spent (`spend_ticket`)."""
    now = int(time.time())
    return _make_ticket(settings, "t1", purpose, now + settings.no_script_wait_seconds, bound)


def _make_ticket(settings: Settings, tag: str, purpose: str, valid_from: int, bound: str) -> Ticket:
    """`t1`: issued with a form page, no place yet; `t2`: holding a place in the line from
    `valid_from`. The MAC covers the tag, so a page's ticket cannot pass for a placed one."""
    nonce = secrets.token_urlsafe(16)
    expires = max(_expiry(settings, int(time.time())), _expiry(settings, valid_from))
    mac = _mac(settings, tag, purpose, str(valid_from), str(expires), nonce, _bound(bound))
    return Ticket(f"{tag}.{purpose}.{valid_from}.{expires}.{nonce}.{mac}", valid_from)


SHARED_DIR = Path("/dev/shm")


class _SharedLine:
    """The next free moment (milliseconds since the epoch) of one line, shared by every process of
    the installation: 8 bytes in a file in memory (/dev/shm), read and written under an advisory
    lock, named by hashes of the data directory and the installation's key. Without /dev/shm the
    line stays in this process's memory (never on disk: it is a time a discloser acted)."""

    def __init__(self, settings: Settings, purpose: str) -> None:
        self.name = _line(settings, purpose)
        here = hashlib.sha256(str(Path(settings.data_dir).resolve()).encode()).hexdigest()[:16]
        self.path = SHARED_DIR / f"portal-{here}-{_key(settings).hex()[:16]}-{purpose}.line"

    def update(self, change) -> int | None:
        """Apply `change(next_free_ms) -> (new_next_free_ms or None, result)` atomically across
        processes; return its result."""
        if not SHARED_DIR.is_dir():
            with _process.lock:
                new, result = change(_process.next_free_ms.get(self.name, 0))
                if new is not None:
                    _process.next_free_ms[self.name] = new
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


def _line(settings: Settings, purpose: str) -> str:
    """One line per installation and form (a process serves one installation; tests make many)."""
    return _key(settings).hex()[:16] + purpose


def line_free_in(settings: Settings, purpose: str) -> int:
    """Seconds until the installation's line for `purpose` has room for a place again (0: now)."""
    next_free = _SharedLine(settings, purpose).update(lambda value: (None, value)) or 0
    ahead = next_free - int(time.time() * 1000) - settings.ticket_line_seconds * 1000
    return max(0, -(-ahead // 1000))


def _bound(bound: str) -> str:
    return hashlib.sha256(bound.encode()).hexdigest()


# --- spending -------------------------------------------------------------------------------------


def retention_seconds(settings: Settings) -> int:
    """The retention window in seconds: at least the longest anything issued until now can still
    be spent (a ticket may be valid up to the line's length and the wait ahead, lasts
    `proof_seconds` from then, rounded up to a coarse step), in whole coarse steps (an hour with the
    shipped settings)."""
    span = settings.proof_seconds + settings.ticket_line_seconds + settings.no_script_wait_seconds
    return -(-(span + COARSE) // COARSE) * COARSE


def _spent_hash(settings: Settings, nonce: str) -> str:
    """A keyed hash of a nonce: the disk cannot be matched against a nonce seen elsewhere."""
    return hmac.new(_key(settings), b"spent|" + nonce.encode(), "sha256").hexdigest()


def _spend(db: Database, settings: Settings, nonce: str, now: int) -> None:
    """Keep the keyed hash of a spent nonce in the set of the current retention window, one of
    three rotated wholesale: a spend deletes the set of the window before the previous one. A row
    says only in which window (of `retention_seconds`) it was spent, never its 10-minute step or its
    expiry; rows sit in the order of their hashes. Every nonce expires within one window of its
    spend (`retention_seconds` covers the horizon), so the current and previous sets hold every
    spent nonce that could still be replayed. Raises NotPaid when it was spent already."""
    window = now // retention_seconds(settings)
    with transaction(db):
        # Rows numbered past 2 are from before the sets (10-minute steps): they go too.
        db.execute("DELETE FROM spent_proofs WHERE generation = ? OR generation > 2",
                   [(window + 1) % 3])
        try:
            db.execute(
                "INSERT INTO spent_proofs (nonce_hash, generation) VALUES (?, ?)",
                [_spent_hash(settings, nonce), window % 3],
            )
        except sqlite3.IntegrityError as exc:
            raise NotPaid("already spent") from exc


def _fields(text: str | None, tag: str, purpose: str) -> list[str]:
    if not text or len(text) > MAX_PROOF_LENGTH:
        raise NotPaid("absent")
    parts = text.split(".")
    if len(parts) != 6 or parts[0] != tag or parts[1] != purpose:
        raise NotPaid("malformed")
    if not all(part.isascii() and part.isdigit() for part in parts[2:4]):
        raise NotPaid("malformed")
    return parts


def spend_proof(db: Database, settings: Settings, purpose: str, text: str | None,
                solution: str | None) -> int:
    """Check and spend a solved challenge; return the zero bits its solution reached (at least the
    challenge's: a script may go further, for the reserved lane). Raises NotPaid."""
    _, _, bits, expires, nonce, mac = _fields(text, "p1", purpose)
    expected = _mac(settings, "p1", purpose, bits, expires, nonce)
    if not hmac.compare_digest(mac.encode(), expected.encode()):
        raise NotPaid("forged")
    now = int(time.time())
    if int(expires) < now:
        raise NotPaid("expired")
    if not solution or len(solution) > 20 or not solves(text, solution, int(bits)):
        raise NotPaid("unsolved")
    # The work done is what counts: a solution that went past its challenge's bits pays for a load
    # that rose while it was solved.
    reached = leading_zero_bits(hashlib.sha256(f"{text}:{solution}".encode()).digest())
    if reached < required_bits(db, settings, purpose):
        raise NotPaid("too easy for now")
    _spend(db, settings, nonce, now)
    _process.spend(_line(settings, purpose))
    return reached


def spend_ticket(db: Database, settings: Settings, purpose: str, text: str | None,
                 bound: str) -> None:
    """Check and spend a no-script ticket. A page's ticket (`t1`) whose wait is over takes the
    line's next place: now, and it is spent; later, and it is exchanged for a placed ticket (`t2`)
    valid at that place (NotYet with `placed`). A placed ticket is spent at its turn. Raises
    NotPaid, or NotYet (the ticket sent kept, or replaced by `placed`)."""
    tag = text.split(".", 1)[0] if text else ""
    _, _, valid_from, expires, nonce, mac = _fields(text, "t2" if tag == "t2" else "t1", purpose)
    expected = _mac(settings, tag, purpose, valid_from, expires, nonce, _bound(bound))
    if not hmac.compare_digest(mac.encode(), expected.encode()):
        raise NotPaid("forged")
    now = int(time.time())
    if int(expires) < now:
        # A genuine ticket that outlived its expiry (days of writing) has waited long enough: it
        # takes a place in the line now, as a page's ticket does.
        tag, valid_from, expires = "t1", str(now), str(_expiry(settings, now))
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
            _spend(db, settings, nonce, now)
            placed = _make_ticket(settings, "t2", purpose, -(-slot_ms // 1000), bound)
            raise NotYet(max(1, placed.valid_from - now), placed)
    _spend(db, settings, nonce, now)
    _process.spend(_line(settings, purpose))

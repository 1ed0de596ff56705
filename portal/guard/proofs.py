"""What an anonymous client pays before the server spends a key derivation: a SHA-256 hashcash
proof of work solved by the page's script, or, without script, a ticket that becomes valid after a
short wait which typing pays (SECURITY.md, "Proof of work and tickets").

Both are stateless until spent: an HMAC over what they say. A challenge says its form, its
difficulty in bits, a coarse expiry (rounded up to 10 minutes) and a random nonce. A ticket says its
form, when it becomes valid, the same coarse expiry and a nonce, and its HMAC also covers the
session's form token, so a ticket works only with the form it was issued with. Spending one keeps
the SHA-256 of its nonce until its expiry (`spent_proofs`, by generation, never a time), linked to
no case; nothing records who solved what, how hard it was, or how long it took.

Tickets come from one line per form in each server process's memory, at a fixed rate, so hoarding
them buys no more than waiting; the load that raises the difficulty is counted there too. Neither
is ever written to disk: the data directory holds no time finer than the day of anything a
discloser did (tests/guard/test_abuse.py).
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
import sqlite3
import threading
import time
from dataclasses import dataclass

from portal.core.clock import utc_offset_seconds
from portal.core.config import Settings
from portal.core.context import Context
from portal.guard import throttle
from portal.store import Database, transaction

PURPOSES = ("disclose", "status")
COARSE = 600  # expiries are rounded up to this many seconds
MAX_PROOF_LENGTH = 200


class NotPaid(Exception):
    """No valid proof or ticket: forged, replayed, expired, too easy for the load now, or absent."""


class NotYet(Exception):
    """A genuine ticket that is not valid yet: come back in `retry_after` seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"come back in {retry_after} seconds")
        self.retry_after = retry_after


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
    """This process's ticket lines and the proofs spent in the current minute, in memory only."""

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


def lane_bits(db: Database, settings: Settings, purpose: str) -> int | None:
    """The bits that take a receipt check into the reserved lane now: `pow_lane_bits` more than
    the load asks. None with the lane off, or for another form."""
    if purpose != "status" or settings.pow_lane_bits <= 0:
        return None
    return load_bits(db, settings, purpose) + settings.pow_lane_bits


def lane_offer(ctx: Context, purpose: str) -> int | None:
    """The lane's bits the page names for its script: only under load (at idle there is nothing to
    overtake), with one spare bit, so that the load rising while it solves keeps it in the lane."""
    db, settings = ctx.db, ctx.settings
    lane = lane_bits(db, settings, purpose)
    if lane is None or load_bits(db, settings, purpose) <= settings.pow_bits:
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


def ticket(settings: Settings, purpose: str, bound: str) -> Ticket | None:
    """The next ticket from the installation's line for `purpose`, bound to the form token `bound`;
    None when the line is already `ticket_line_seconds` long (come back later)."""
    now_ms = int(time.time() * 1000)
    slot_ms = _take_slot(settings, purpose, now_ms + settings.no_script_wait_seconds * 1000)
    if slot_ms is None:
        return None
    valid_from = slot_ms // 1000
    nonce = secrets.token_urlsafe(16)
    expires = max(_expiry(settings, now_ms // 1000), _expiry(settings, valid_from))
    mac = _mac(settings, "t1", purpose, str(valid_from), str(expires), nonce, _bound(bound))
    return Ticket(f"t1.{purpose}.{valid_from}.{expires}.{nonce}.{mac}", valid_from)


def _take_slot(settings: Settings, purpose: str, earliest_ms: int) -> int | None:
    """The next free moment of this process's line for `purpose`, no sooner than `earliest_ms`,
    taken; None when that is more than `ticket_line_seconds` away."""
    now_ms = int(time.time() * 1000)
    step_ms = max(1, 60_000 // max(1, settings.tickets_per_minute))
    line_ms = settings.ticket_line_seconds * 1000
    line = _line(settings, purpose)
    with _process.lock:
        next_free = _process.next_free_ms.get(line, 0)
        if next_free > now_ms + line_ms + step_ms:  # never issued so far ahead: the clock went back
            next_free = 0
        slot_ms = max(earliest_ms, next_free)
        if slot_ms - now_ms > line_ms:
            return None
        _process.next_free_ms[line] = slot_ms + step_ms
    return slot_ms


def _line(settings: Settings, purpose: str) -> str:
    """One line per installation and form (a process serves one installation; tests make many)."""
    return _key(settings).hex()[:16] + purpose


def line_free_in(settings: Settings, purpose: str) -> int:
    """Seconds until this process's line for `purpose` can issue a ticket again (0: now)."""
    with _process.lock:
        next_free = _process.next_free_ms.get(_line(settings, purpose), 0)
    ahead = next_free - int(time.time() * 1000) - settings.ticket_line_seconds * 1000
    return max(0, -(-ahead // 1000))


def _bound(bound: str) -> str:
    return hashlib.sha256(bound.encode()).hexdigest()


# --- spending -------------------------------------------------------------------------------------


def _horizon(settings: Settings, now: int) -> int:
    """The latest expiry anything issued until `now` can carry: a ticket issued now may be valid
    from up to the line's length and the wait ahead, and lasts `proof_seconds` from then."""
    return _expiry(settings, now + settings.ticket_line_seconds + settings.no_script_wait_seconds)


def _generations(settings: Settings) -> int:
    """How many coarse steps a nonce can live (to the horizon), and three more: the generations in
    use at once."""
    span = settings.proof_seconds + settings.ticket_line_seconds + settings.no_script_wait_seconds
    return -(-span // COARSE) + 3


def _spend(db: Database, settings: Settings, nonce: str, expires: int, now: int) -> None:
    count = _generations(settings)
    # Every generation an unexpired nonce can be in stays: from now's step to the horizon, never
    # only to this nonce's own expiry (spending an older proof must not forget newer ones).
    horizon = max(expires, _horizon(settings, now))
    live = {(step // COARSE) % count for step in range(now - now % COARSE, horizon + 1, COARSE)}
    with transaction(db):
        dead = [g for g in range(count) if g not in live]
        db.execute(
            f"DELETE FROM spent_proofs WHERE generation IN ({','.join('?' * len(dead))})", dead
        )
        try:
            db.execute(
                "INSERT INTO spent_proofs (nonce_hash, generation) VALUES (?, ?)",
                [hashlib.sha256(nonce.encode()).hexdigest(), (expires // COARSE) % count],
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
    _spend(db, settings, nonce, int(expires), now)
    _process.spend(_line(settings, purpose))
    return reached


def spend_ticket(db: Database, settings: Settings, purpose: str, text: str | None,
                 bound: str) -> None:
    """Check and spend a no-script ticket. Raises NotPaid, or NotYet (the ticket is kept)."""
    _, _, valid_from, expires, nonce, mac = _fields(text, "t1", purpose)
    expected = _mac(settings, "t1", purpose, valid_from, expires, nonce, _bound(bound))
    if not hmac.compare_digest(mac.encode(), expected.encode()):
        raise NotPaid("forged")
    now = int(time.time())
    if int(expires) < now:
        # A genuine ticket that outlived its expiry (days of writing): it takes a place in the line
        # now, and goes through only if that place is now (an idle portal); else a new ticket.
        slot_ms = _take_slot(settings, purpose, (now + settings.no_script_wait_seconds) * 1000)
        if slot_ms is None or slot_ms // 1000 > now:
            raise NotPaid("expired")
        expires = str(_expiry(settings, now))
    if int(valid_from) > now:
        raise NotYet(int(valid_from) - now)
    _spend(db, settings, nonce, int(expires), now)
    _process.spend(_line(settings, purpose))

"""What an anonymous client with script pays before the server spends a key derivation: a SHA-256
hashcash proof of work solved by the page's script (SECURITY.md, "Proof of work and tickets"); and
what proofs and no-script tickets (portal.guard.tickets) share: their MAC, their coarse expiry and
the set of spent nonces.

A challenge is stateless until spent: an HMAC over what it says, its form, its difficulty in bits,
a coarse expiry (rounded up to 10 minutes) and a random nonce. Spending a challenge or a ticket
keeps a keyed hash of its nonce in the set of its retention window (`spent_proofs`, three sets
rotated, pruned in bounded batches, never a time or an expiry), linked to no case; nothing
records who solved what, how hard it was, or how long it took. The load that raises the difficulty
is counted in each process's memory, never on disk (on PostgreSQL, for every node, in a sealed row
of an UNLOGGED table: portal.store.shared_state): the data directory holds no time finer than the
day of anything a discloser did (tests/guard/test_abuse.py).
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
import sqlite3
import threading
import time

from portal.core.clock import utc_offset_seconds
from portal.core.config import Settings
from portal.core.context import Context
from portal.guard import throttle, work_queues
from portal.store import Database, shared_state, transaction, without_waiting_for_the_disk

PURPOSES = ("disclose", "status")
COARSE = 600  # expiries are rounded up to this many seconds
MAX_PROOF_LENGTH = 200


class NotPaid(Exception):
    """No valid proof or ticket: forged, replayed, expired, too easy for the load now, or absent."""


def key(settings: Settings) -> bytes:
    return hmac.new(settings.secret_key, b"portal proof-of-work and tickets", "sha256").digest()


def mac(settings: Settings, *parts: str) -> str:
    return hmac.new(key(settings), "|".join(parts).encode(), "sha256").hexdigest()[:32]


def expiry(settings: Settings, now: int) -> int:
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



class _Process:
    """The proofs this process spent in the current minute, in memory only."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
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


def load_ceiling(settings: Settings) -> int:
    """The most bits the load alone asks: `pow_max_bits`, and at most `pow_script_max_bits` less
    the lane's bits and its spare one (`lane_offer`), so the lane still costs `pow_lane_bits` more
    than the load and the page's script is never asked past the cap (issue 22 review, H1)."""
    room = settings.pow_lane_bits + 1 if settings.pow_lane_bits > 0 else 0
    return min(settings.pow_max_bits, settings.pow_script_max_bits - room)


def effective_bits(settings: Settings, name: str) -> int | None:
    """The bits that take effect for the setting `name` (`pow_bits`, `pow_max_bits`: at most
    `load_ceiling`; `pow_flood_bits`: at most `pow_script_max_bits`, as `required_bits` asks), or
    None for another setting. For `portal setting set`, which says so (issue 22 review, M4)."""
    if name in ("pow_bits", "pow_max_bits"):
        return min(getattr(settings, name), load_ceiling(settings))
    if name == "pow_flood_bits":
        return min(settings.pow_flood_bits, settings.pow_script_max_bits)
    return None


def load_bits(db: Database, settings: Settings, purpose: str) -> int:
    """The difficulty now: `pow_bits`, one bit more for each doubling of the proofs this process
    (on PostgreSQL: every node) took this minute past `pow_calm_per_minute`, at most
    `load_ceiling`."""
    spent = _spent_this_minute(settings, purpose)
    calm = max(1, settings.pow_calm_per_minute)
    extra = 0 if spent < calm else int(math.log2(spent / calm)) + 1
    return max(0, min(load_ceiling(settings), settings.pow_bits + extra))


def over_case_budget(db: Database, settings: Settings) -> bool:
    spent = throttle.spent(db, cases_bucket(), 86400, day_offset(settings))
    return spent >= settings.cases_per_day


CHECK_FREE_BYTES = 8 * 1024 * 1024  # a disclosure declaring up to this many bytes pays no more
CHECK_MAX_EXTRA_BITS = 8  # at most this many bits more for its size (past 2 GiB with the above)


def check_bits(declared_bytes: int) -> int:
    """Bits more for a disclosure whose body declares `declared_bytes` (Content-Length), all of it
    for the server to read and check: one for each doubling past CHECK_FREE_BYTES, at most
    CHECK_MAX_EXTRA_BITS; 0 up to CHECK_FREE_BYTES (a text and a few photos pay as before)."""
    if declared_bytes <= CHECK_FREE_BYTES:
        return 0
    return min(CHECK_MAX_EXTRA_BITS, math.ceil(math.log2(declared_bytes / CHECK_FREE_BYTES)))


def required_bits(db: Database, settings: Settings, purpose: str, declared_bytes: int = 0) -> int:
    """The bits a proof for `purpose` needs now: the load's (`load_bits`), the flood proof's past
    the case budget, and for a disclosure one more for each doubling of its declared size past
    CHECK_FREE_BYTES (`check_bits`), so a large upload to check costs its sender more; never past
    `pow_script_max_bits` (past it the queues and the lines ration, not a bigger proof)."""
    bits = load_bits(db, settings, purpose)
    if purpose == "disclose" and over_case_budget(db, settings):
        bits = max(bits, settings.pow_flood_bits)
    if purpose == "disclose":
        bits += check_bits(declared_bytes)
    return min(settings.pow_script_max_bits, bits)


LANE_CALM_REFUSALS = 2  # lane requests turned away in a minute before its price rises


def _doublings(refused: int, calm: int) -> int:
    return 0 if refused < calm else int(math.log2(refused / calm)) + 1


def _lane_extra(settings: Settings) -> int:
    """One bit more for the lane for each doubling of the lane requests turned away this minute
    past LANE_CALM_REFUSALS (work_queues.lane_refusals): a flood paying the lane's price that
    fills it pays more until it no longer does, so the lane keeps a turn free. In a service
    (`organisation_share`) each organisation's lane is priced by its own refusals, so one
    organisation's flood, however large, does not raise the others' price; but at least by the
    whole process's refusals less those of the organisation refused most, so a flood spread over
    many organisations pays as one would."""
    own = _doublings(work_queues.lane_refusals(settings), LANE_CALM_REFUSALS)
    if settings.organisation_share <= 0:
        return own
    spread = work_queues.lane_refusals() - work_queues.most_refused_at_one()
    return max(own, _doublings(spread, LANE_CALM_REFUSALS))


def lane_bits(db: Database, settings: Settings, purpose: str) -> int | None:
    """The bits that take a receipt check into the reserved lane now: `pow_lane_bits` more than
    the load asks, and more while the lane turns requests away (`_lane_extra`), at most
    `pow_max_bits` + `pow_lane_bits`, and one less than `pow_script_max_bits` (the page names one
    spare bit: `lane_offer`). None with the lane off, or for another form."""
    if purpose != "status" or settings.pow_lane_bits <= 0:
        return None
    bits = load_bits(db, settings, purpose) + settings.pow_lane_bits + _lane_extra(settings)
    return min(settings.pow_max_bits + settings.pow_lane_bits, settings.pow_script_max_bits - 1,
               bits)


def lane_offer(ctx: Context, purpose: str) -> int | None:
    """The lane's bits the page names for its script: only under load (at idle there is nothing to
    overtake), with one spare bit, so that the load rising while it solves keeps it in the lane."""
    db, settings = ctx.db, ctx.settings
    lane = lane_bits(db, settings, purpose)
    calm = load_bits(db, settings, purpose) <= settings.pow_bits and not _lane_extra(settings)
    if lane is None or calm:
        return None
    return lane + 1


# --- issuing --------------------------------------------------------------------------------------


def challenge(ctx: Context, purpose: str, declared_bytes: int = 0) -> str:
    """A fresh challenge at the difficulty the load asks now, for a body of `declared_bytes`."""
    settings = ctx.settings
    now = int(time.time())
    bits = required_bits(ctx.db, settings, purpose, declared_bytes)
    nonce = secrets.token_urlsafe(16)
    expires = expiry(settings, now)
    return f"p1.{purpose}.{bits}.{expires}.{nonce}." + mac(
        settings, "p1", purpose, str(bits), str(expires), nonce
    )


def size_offer(ctx: Context, purpose: str) -> dict | None:
    """What a disclosure page tells its script so it pays for the files chosen (`check_bits`): the
    bits before size, the free bytes and the most bits more; None for other forms."""
    if purpose != "disclose":
        return None
    base = required_bits(ctx.db, ctx.settings, purpose)
    most = max(0, min(CHECK_MAX_EXTRA_BITS, ctx.settings.pow_script_max_bits - base))
    return {"base_bits": base, "free_bytes": CHECK_FREE_BYTES, "max_extra": most}


def count_spent(settings: Settings, purpose: str) -> None:
    """One more proof or ticket spent for `purpose` this minute, in this process (`load_bits`); on
    PostgreSQL, by any node of the installation (portal.store.shared_state)."""
    if shared_state.in_database():
        shared_state.count_minute(settings, f"spent:{line_name(settings, purpose)}", 1)
    else:
        _process.spend(line_name(settings, purpose))


def _spent_this_minute(settings: Settings, purpose: str) -> int:
    if shared_state.in_database():
        return shared_state.count_minute(settings, f"spent:{line_name(settings, purpose)}")[0]
    return _process.spent_now(line_name(settings, purpose))


def line_name(settings: Settings, purpose: str) -> str:
    """One line per installation and form (a process serves one installation; tests make many)."""
    return key(settings).hex()[:16] + purpose


# --- spending -------------------------------------------------------------------------------------


def retention_seconds(settings: Settings) -> int:
    """The retention window in seconds: at least the longest anything issued until now can still
    be spent (a ticket may become valid up to the line's length and the wait ahead, and lasts
    `proof_seconds` from then, rounded up to a coarse step; portal.guard.tickets), in whole coarse
    steps (an hour with the shipped settings)."""
    span = settings.proof_seconds + settings.ticket_line_seconds + settings.no_script_wait_seconds
    return -(-(span + COARSE) // COARSE) * COARSE


def _spent_hash(settings: Settings, nonce: str) -> str:
    """A keyed hash of a nonce: the disk cannot be matched against a nonce seen elsewhere."""
    return hmac.new(key(settings), b"spent|" + nonce.encode(), "sha256").hexdigest()


def was_spent(db: Database, settings: Settings, nonce: str) -> bool:
    """Whether the nonce's hash is kept as spent (`spend_nonce`): a read, no write."""
    row = db.execute("SELECT 1 FROM spent_proofs WHERE nonce_hash = ?",
                     [_spent_hash(settings, nonce)]).fetchone()
    return row is not None


def spent_mark(settings: Settings, nonce: str) -> int:
    """A nonce's mark in the ticket line (portal.guard.tickets): a signed 64-bit keyed hash,
    never 0 (an empty slot)."""
    digest = hmac.new(key(settings), b"line|" + nonce.encode(), "sha256").digest()
    return int.from_bytes(digest[:8], "big", signed=True) or 1


PRUNE_BATCH = 500  # old spent rows deleted by one spend, in its transaction


def spend_nonce(db: Database, settings: Settings, nonce: str, now: int) -> None:
    """Keep the keyed hash of a spent nonce in the set of the current retention window, one of
    three rotated: each spend deletes at most PRUNE_BATCH rows of the set of the window before the
    previous one, so no spend holds the write lock for a whole window's rows (issue 22, fresh
    review M5: 300,000 rows in one transaction held it for 4.8 s); a window's set is gone after
    its rows / PRUNE_BATCH spends, and rows left of it meanwhile are only older spent nonces,
    refused as spent rather than as expired. A row
    says only in which window (of `retention_seconds`) it was spent, never its 10-minute step or its
    expiry; rows sit in the order of their hashes. Every nonce expires within one window of its
    spend (`retention_seconds` covers the horizon), so the current and previous sets hold every
    spent nonce that could still be replayed. Raises NotPaid when it was spent already."""
    window = now // retention_seconds(settings)
    with without_waiting_for_the_disk(db), transaction(db):
        # Rows numbered past 2 are from before the sets (10-minute steps): they go too.
        db.execute(
            "DELETE FROM spent_proofs WHERE nonce_hash IN (SELECT nonce_hash FROM spent_proofs"
            " WHERE generation = ? OR generation > 2 LIMIT ?)", [(window + 1) % 3, PRUNE_BATCH])
        try:
            db.execute(
                "INSERT INTO spent_proofs (nonce_hash, generation) VALUES (?, ?)",
                [_spent_hash(settings, nonce), window % 3],
            )
        except sqlite3.IntegrityError as exc:
            raise NotPaid("already spent") from exc


def read_fields(text: str | None, tag: str, purpose: str, numbers: int = 2) -> list[str]:
    """`TAG.FORM.<numbers whole numbers>.NONCE.MAC` split, or NotPaid: the last number is the
    expiry (a challenge: bits, expiry; a ticket: two numbers of its own, expiry)."""
    if not text or len(text) > MAX_PROOF_LENGTH:
        raise NotPaid("absent")
    parts = text.split(".")
    if len(parts) != 4 + numbers or parts[0] != tag or parts[1] != purpose:
        raise NotPaid("malformed")
    if not all(part.isascii() and part.isdigit() for part in parts[2:2 + numbers]):
        raise NotPaid("malformed")
    return parts


def spend_proof(db: Database, settings: Settings, purpose: str, text: str | None,
                solution: str | None, declared_bytes: int = 0) -> int:
    """Check and spend a solved challenge for a body of `declared_bytes`; return the zero bits its
    solution reached (at least the challenge's: a script may go further, for the reserved lane or
    a larger upload). Raises NotPaid."""
    _, _, bits, expires, nonce, sent_mac = read_fields(text, "p1", purpose)
    expected = mac(settings, "p1", purpose, bits, expires, nonce)
    if not hmac.compare_digest(sent_mac.encode(), expected.encode()):
        raise NotPaid("forged")
    now = int(time.time())
    if int(expires) < now:
        raise NotPaid("expired")
    if not solution or len(solution) > 20 or not solves(text, solution, int(bits)):
        raise NotPaid("unsolved")
    # The work done is what counts: a solution that went past its challenge's bits pays for a load
    # that rose while it was solved.
    reached = leading_zero_bits(hashlib.sha256(f"{text}:{solution}".encode()).digest())
    if reached < required_bits(db, settings, purpose, declared_bytes):
        raise NotPaid("too easy for now")
    spend_nonce(db, settings, nonce, now)
    count_spent(settings, purpose)
    return reached


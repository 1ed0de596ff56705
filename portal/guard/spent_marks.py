"""The marks of the nonces spent through the no-script line (portal.guard.tickets), kept in the
line's own state so that a ticket's nonce is spent under the line's lock without a database write
(issue 22 review, L2); the database's row (portal.guard.proofs.spend_nonce) is written after the
lock is let go, and until then the mark refuses the same ticket sent again.

A ring of SLOTS marks in WORDS signed 64-bit words of the line's array, from an offset: the next
slot to write, the earliest expiry of a mark kept (0: none), the marks (proofs.spent_mark: a keyed
hash, never 0) and each mark's expiry (the ticket's own coarse expiry, epoch seconds). A mark is
forgotten once its expiry has passed, as a spent nonce can no longer be replayed then; the ring
holds no time finer than a ticket's expiry and nothing of who spent it."""

from __future__ import annotations

import sys
from array import array

from portal.guard.proofs import NotPaid

SLOTS = 1024  # as many as the line's places: more than the spends a line's lock sees in a request
WORDS = 2 + 2 * SLOTS


def spend(values: array, at: int, mark: int, expires: int, now: int) -> None:
    """Mark `mark` spent until `expires` in the ring at `values[at:at + WORDS]`, or NotPaid if it
    is marked already (and not yet expired). Marks past their expiry are forgotten first, in one
    pass once the earliest of them has passed (expiries are coarse: a pass every few minutes at
    most); a mark is found with a search of the marks' bytes, not a loop in Python."""
    marks, expiries = at + 2, at + 2 + SLOTS
    if 0 < values[at + 1] < now:
        kept = []
        for slot in range(SLOTS):
            if values[expiries + slot] < now:
                values[marks + slot] = values[expiries + slot] = 0
            else:
                kept.append(values[expiries + slot])
        values[at + 1] = min(kept, default=0)
    if _find(values[marks:expiries].tobytes(), mark) is not None:
        raise NotPaid("already spent")
    slot = values[at] % SLOTS
    values[at] = slot + 1
    values[marks + slot], values[expiries + slot] = mark, expires
    values[at + 1] = min(values[at + 1] or expires, expires)


def _find(raw: bytes, mark: int) -> int | None:
    """The slot holding `mark` in the marks' bytes (native order, as the array keeps them)."""
    needle = mark.to_bytes(8, sys.byteorder, signed=True)
    found = raw.find(needle)
    while found != -1:
        if found % 8 == 0:
            return found // 8
        found = raw.find(needle, found + 1)
    return None

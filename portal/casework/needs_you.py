"""What waits for this officer beyond their cases' deadlines, for the inbox's "What needs you":
releases of a discloser's identity waiting for a second officer (s 17, the two-person rule), and
whether the officer is still waiting to be confirmed in every channel they belong to. Nothing here
is decrypted: only references, days and states.
"""

from __future__ import annotations

from dataclasses import dataclass

from portal.core.context import Context
from portal.keys import roster
from portal.keys.accounts import Account


@dataclass(frozen=True)
class WaitingRelease:
    ref: str
    day: str  # YYYY-MM-DD, when the release was asked for


def releases_to_confirm(ctx: Context, account_id: int) -> list[WaitingRelease]:
    """Identity releases of cases this officer reads, asked for by another officer and waiting for
    a second one (the officer who asked cannot confirm their own)."""
    rows = ctx.db.execute(
        "SELECT c.ref, r.day FROM identity_releases r JOIN cases c ON c.id = r.case_id "
        "JOIN case_queue q ON q.case_id = r.case_id AND q.account_id = ? "
        "WHERE r.state = 'pending' AND (r.account_id IS NULL OR r.account_id != ?) "
        "ORDER BY r.day, c.ref",
        [account_id, account_id],
    ).fetchall()
    return [WaitingRelease(ref, day) for ref, day in rows]


def waiting_to_be_confirmed(ctx: Context, account: Account) -> bool:
    """True when the officer belongs to channels but reads none of them yet: confirmed in none (a
    newly enrolled officer an administrator invited), or confirmed (the server's operator invited
    them) but admitted to no channel's signed roster, which an officer of the channel signs. Reads
    each roster the officer is confirmed in: call it for an empty queue only."""
    rows = ctx.db.execute(
        "SELECT channel_id, state FROM channel_officers WHERE account_id = ?", [account.id]
    ).fetchall()
    confirmed = [channel_id for channel_id, state in rows if state == "confirmed"]
    if not confirmed:
        return any(state == "pending" for _, state in rows)
    return not any(roster.load(ctx, channel_id).admits(account) for channel_id in confirmed)

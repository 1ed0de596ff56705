"""What waits for this officer beyond their cases' deadlines, for the inbox's "What needs you":
releases of a discloser's identity waiting for a second officer (s 17, the two-person rule), and
whether the officer is still waiting to be confirmed in every channel they belong to. Nothing here
is decrypted: only references, days and states.
"""

from __future__ import annotations

from dataclasses import dataclass

from portal.core.context import Context


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


def waiting_to_be_confirmed(ctx: Context, account_id: int) -> bool:
    """True when the officer belongs to channels but is confirmed in none yet (a newly enrolled
    officer: an officer of the channel confirms them before they read anything)."""
    states = {
        state
        for (state,) in ctx.db.execute(
            "SELECT state FROM channel_officers WHERE account_id = ?", [account_id]
        ).fetchall()
    }
    return "pending" in states and "confirmed" not in states

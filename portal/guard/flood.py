"""Paying for a form's expensive work, the budget on new cases, and what officers see of a flood.

`pay` is called by the disclosure and status views after the form is read and before any key
derivation: a solved challenge (portal.guard.proofs) or a ticket (portal.guard.tickets), else
NotPaid / NotYet, and the view answers 503 with Retry-After and the page with what was typed. Past
`cases_per_day` new cases today, installation-wide, a disclosure needs the flood proof
(`pow_flood_bits`) or a ticket from the line, and a turn for a new case besides
(portal.guard.case_turns: the budget spread over the day, with script or without); one that finds
none free is told when to come back, nothing is refused outright. A disclosure counts
against that budget when its case is stored, in the case's own transaction (`case_stored`, called
by portal.intake.cases and portal.intake.sealed), not when it pays.

What officers see (`today`) are counts for the installation's day, kept in the throttle table's
day windows (portal.guard.throttle): never a time finer than the day, since nothing a discloser
does is kept finer (portal/store/migrations/__init__.py), and never anything about a client."""

from __future__ import annotations

from dataclasses import dataclass

from portal.core.context import Context
from portal.guard import case_turns, proofs, submissions, throttle, tickets
from portal.guard.proofs import NotPaid
from portal.guard.tickets import NotYet
from portal.store import without_waiting_for_the_disk

__all__ = ["NotPaid", "NotYet", "pay", "full_for", "case_stored", "note", "today", "FloodDay"]

DAY = 86400
COUNTS = ("cases", "higher", "line", "come_back", "busy", "refused")


def note(ctx: Context, what: str) -> None:
    """Count one event of `what` (one of COUNTS) in today's window."""
    with without_waiting_for_the_disk(ctx.db):  # one per attacking request, as a spend
        throttle.add(ctx.db, f"flood:day:{what}", 1, DAY, proofs.day_offset(ctx.settings))


def _note_in_transaction(ctx: Context, what: str) -> None:
    throttle.add_in_transaction(
        ctx.db, f"flood:day:{what}", 1, DAY, proofs.day_offset(ctx.settings)
    )


def pay(
    ctx: Context,
    purpose: str,
    *,
    challenge: str | None,
    solution: str | None,
    ticket: str | None,
    bound: str,
    submission_token: str | None = None,
    declared_bytes: int = 0,
) -> str:
    """Spend the client's proof (with script) or ticket (without); return which was spent
    ("proof" or "ticket"; "lane" for a receipt check's proof that reached the reserved lane's bits,
    proofs.lane_bits). Raises NotPaid, or NotYet for a ticket not valid yet, or
    submissions.AlreadySubmitted for a form already received (a resend, which costs no derivation
    and so needs no payment: its answer is that it was received). A disclosure's proof pays for
    its `declared_bytes` too (proofs.check_bits). Past the day's budget a disclosure also takes a
    turn for a new case (case_turns), or is told when one is free (case_turns.NoTurnYet, a NotYet):
    looked at before anything is spent, so a junk form takes no turn from anyone, and taken once
    the payment is good."""
    settings, db = ctx.settings, ctx.db
    if submissions.was_claimed(db, submission_token):
        raise submissions.AlreadySubmitted()
    lane = proofs.lane_bits(db, settings, purpose)  # before this proof counts in the load
    rationed = purpose == "disclose" and proofs.over_case_budget(db, settings)
    try:
        if rationed and (wait := case_turns.wait(settings)):
            raise case_turns.NoTurnYet(wait)
        try:
            reached = proofs.spend_proof(db, settings, purpose, challenge, solution, declared_bytes)
            paid = "lane" if lane is not None and reached >= lane else "proof"
        except NotPaid:
            if not ticket:  # a proof that fails (expired, too easy now) falls back on the ticket
                raise
            tickets.spend_ticket(db, settings, purpose, ticket, bound)
            paid = "ticket"
        if rationed and (wait := case_turns.take(settings)):  # taken meanwhile by another
            raise case_turns.NoTurnYet(wait)
    except NotYet as exc:
        if not exc.early:  # placed in the line, or the line full: load, which officers are shown
            note(ctx, "come_back")
        raise
    except NotPaid:
        if challenge or ticket:
            note(ctx, "refused")
        raise
    return paid


def full_for(ctx: Context, purpose: str) -> int:
    """Seconds until a form for `purpose` sent now can go in: until the no-script line has room,
    and for a disclosure past the day's budget until a turn for a new case is free (case_turns);
    0: now. Takes nothing (a page load)."""
    free_in = tickets.line_free_in(ctx.settings, purpose)
    if purpose == "disclose" and proofs.over_case_budget(ctx.db, ctx.settings):
        free_in = max(free_in, case_turns.wait(ctx.settings))
    return free_in


def case_stored(ctx: Context, paid: str) -> None:
    """Count a disclosure against the day's budget (`cases_per_day`), and, past it, as paid with
    the higher proof or a ticket from the line (`paid`, what `pay` gave). In the caller's
    transaction, the one that stores the case: the count and the case are kept whole or not at
    all, so a disclosure that paid and was then refused (a channel with no reader, every officer
    excluded, a file refused, a fault or a crash before the commit) spends none of the budget, and
    none is spent for a case that was not stored (issue 22 review, M3 and the review after it).
    Committed with the case, waiting for the disk as the case does."""
    over = proofs.over_case_budget(ctx.db, ctx.settings)  # read under the case's write lock
    _note_in_transaction(ctx, "cases")
    if over:
        _note_in_transaction(ctx, "line" if paid == "ticket" else "higher")


@dataclass(frozen=True)
class FloodDay:
    """Today's counts: disclosures paid for, of them those past the budget (a higher
    proof, or a ticket from the line), no-script come-back pages, busy answers, refused proofs."""

    cases: int
    higher: int
    line: int
    come_back: int
    busy: int
    refused: int
    budget: int

    @property
    def flooded(self) -> bool:
        """Whether today shows load: the budget reached or passed, places taken in the line, full
        queues. Refused proofs and tickets alone are not: they cost the portal next to nothing,
        and one junk post (or a ticket that expired in a tab left open) would raise the banner for
        the day (issue 22 review, M1); they are listed when the banner shows."""
        return bool(
            self.cases >= self.budget or self.higher or self.line or self.come_back or self.busy
        )


def today(ctx: Context) -> FloodDay:
    offset = proofs.day_offset(ctx.settings)
    counts = {what: throttle.spent(ctx.db, f"flood:day:{what}", DAY, offset) for what in COUNTS}
    return FloodDay(**counts, budget=ctx.settings.cases_per_day)

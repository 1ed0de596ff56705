"""Closing many cases at once as needing no action (s 15 of the Act): how a flood of spam that got
in is cleared. The officer chooses the cases from a filtered view of their queue and gives one
reason, which each discloser reads on their status page beside the status, as s 15(2) requires.

Only cases the officer can open with their own key are closed; a batch naming any other case, or
one that does not exist, closes nothing and says no more than that (never which case, nor whether
it exists). Each case gets its own status record and its own audit entry (`closed_in_bulk`); a case
already in a final status is left as it is.
"""

from __future__ import annotations

from dataclasses import dataclass

from portal.casework import queue, queue_filters
from portal.casework.cases import open_case, record_status
from portal.casework.deadlines import FINAL_STATUSES
from portal.core.clock import today
from portal.core.context import Context
from portal.core.words import N_, Sentence
from portal.keys.officer_sessions import SignedIn
from portal.records.casefiles import CaseNotFound
from portal.store import transaction

MAX_CASES = 200  # chosen in one go: one page of the view below
STATUS = "no_further_action"
EVENT = "closed_in_bulk"
SUGGESTED_REASON = N_(
    "We have read what was sent and decided that no action is required (section 15 of the"
    " Protected Disclosures (Protection of Whistleblowers) Act 2022): it does not describe serious"
    " wrongdoing in or by this organisation, so it is not a protected disclosure. If you meant to"
    " tell us about serious wrongdoing, please make a new disclosure saying what happened."
)


class BulkCloseError(ValueError):
    """Nothing was closed; the message says why in words for the officer."""


class NotAllReadable(BulkCloseError):
    """A chosen case is not one this officer can read, or does not exist: nothing was closed."""

    def __init__(self) -> None:
        super().__init__(
            N_(
                "Nothing was closed: one or more of the chosen cases is not one you can read."
                " Choose again from the list."
            )
        )


@dataclass(frozen=True)
class BulkClosed:
    closed: list[str]  # references, in the order chosen
    unchanged: list[str]  # already in a final status: left as they were


def choices(ctx: Context, who: SignedIn, wanted: queue_filters.QueueFilter) -> queue.QueuePage:
    """The cases of this filtered view the officer may choose from: up to MAX_CASES of their queue,
    decrypting only the rows shown and auditing nothing (as the inbox)."""
    return queue.page(
        ctx, who.account.id, who.private_key, wanted, today(ctx.settings.timezone), size=MAX_CASES
    )


def close_without_action(ctx: Context, who: SignedIn, refs: list[str], reason: str) -> BulkClosed:
    """Set each chosen case to `no_further_action` with `reason`, in one transaction. Raises
    BulkCloseError (nothing chosen, too many, no reason) before any case is looked up, and
    NotAllReadable when any chosen case cannot be opened with this officer's key."""
    chosen = list(dict.fromkeys(ref.strip() for ref in refs if ref.strip()))
    reason = reason.strip()
    if not chosen:
        raise BulkCloseError(N_("Nothing was closed: choose at least one case."))
    if len(chosen) > MAX_CASES:
        raise BulkCloseError(
            Sentence(N_("Nothing was closed: choose at most %(n)d cases at a time."), n=MAX_CASES)
        )
    if not reason:
        raise BulkCloseError(
            N_("Nothing was closed: give the reason each discloser will read (s 15).")
        )
    opened = []
    for ref in chosen:
        try:
            opened.append(open_case(ctx, who, ref))
        except CaseNotFound:
            raise NotAllReadable() from None
    closed, unchanged = [], []
    with transaction(ctx.db):
        for case, case_key in opened:
            if case.status in FINAL_STATUSES:
                unchanged.append(case.ref)
                continue
            record_status(ctx, case, case_key, who.account.id, STATUS, reason, event=EVENT)
            closed.append(case.ref)
    return BulkClosed(closed, unchanged)

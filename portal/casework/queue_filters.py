"""The work queue's filters: what an officer asked to see, parsed strictly from the inbox's GET
parameters, the orders and the page cursor each takes, and the choices the filter form offers.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Mapping

from portal.casework.categories import CATEGORIES, FORMER_CATEGORIES
from portal.core import workdays
from portal.core.context import Context
from portal.core.numbers import NotAWholeNumber, parse_whole_number
from portal.core.text import normalise_code
from portal.core.words import N_, Sentence
from portal.records.casefiles import STATUSES

SOON_WORKING_DAYS = 5  # "due soon": within this many working days (legislation calendar)

# The orders, each with the columns of its index after the reader (and a filter's column), and
# direction. "attention" (the default) puts unseen cases first, then the nearest deadline.
SORTS: dict[str, tuple[str, tuple[str, ...], str]] = {
    "attention": (
        N_("What needs you first: unseen, then the nearest deadline"),
        ("seen", "due_key", "ref"),
        "ASC",
    ),
    "deadline": (N_("Nearest deadline first"), ("due_key", "ref"), "ASC"),
    "activity": (N_("Latest activity first"), ("activity_day", "ref"), "DESC"),
    "received": (N_("Newest received first"), ("received_day", "ref"), "DESC"),
}
DUE_FILTERS = {
    "overdue": N_("Overdue"),
    "soon": Sentence(N_("Due within %(days)d working days"), days=SOON_WORKING_DAYS),
}
ASSIGNEE_FILTERS = {"me": N_("Assigned to me"), "unassigned": N_("Not assigned")}
# Said of a filter's value that is not one of those offered (parse_filter).
NOT_OFFERED = {
    "status": N_(
        "The status asked for is not one of those offered, so that filter is not applied."
    ),
    "category": N_(
        "The kind of wrongdoing asked for is not one of those offered, so that filter is not"
        " applied."
    ),
    "due": N_(
        "The deadline filter asked for is not one of those offered, so that filter is not applied."
    ),
    "sort": N_("The order asked for is not one of those offered, so that filter is not applied."),
    "assignee": N_(
        "The assignee asked for is not one of those offered, so that filter is not applied."
    ),
}

_DAY = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
_REF = r"[0-9A-Z-]{1,40}"
CURSORS = {
    "attention": re.compile(rf"([01])_({_DAY})_({_REF})"),
    "deadline": re.compile(rf"({_DAY})_({_REF})"),
    "activity": re.compile(rf"({_DAY})_({_REF})"),
    "received": re.compile(rf"({_DAY})_({_REF})"),
}


@dataclass(frozen=True)
class QueueFilter:
    """What the officer asked to see, from the inbox's GET parameters (all optional)."""

    status: str = ""
    channel: str = (
        ""  # a channel's name (names are unique; never its id, as on the disclosure form)
    )
    category: str = ""
    assignee: str = ""  # "me", "unassigned" or an officer's id as digits
    due: str = ""  # "overdue" or "soon"
    q: str = ""  # a case reference, normalised
    sort: str = "attention"
    after: str = ""  # the cursor: the sort keys of the last row of the previous page

    def query(self, **changes: str) -> dict[str, str]:
        """The GET parameters that give this view (with `changes`), empty ones left out: for
        links."""
        values = {
            "status": self.status,
            "channel": self.channel,
            "category": self.category,
            "assignee": self.assignee,
            "due": self.due,
            "q": self.q,
            "sort": "" if self.sort == "attention" else self.sort,
            "after": self.after,
            **changes,
        }
        return {name: value for name, value in values.items() if value}

    @property
    def filtered(self) -> bool:
        return bool(
            self.status or self.channel or self.category or self.assignee or self.due or self.q
        )


def normalise_ref(text: str) -> str:
    """A typed case reference as stored: spaces removed, upper case, 'PD-' added when left out."""
    ref = re.sub(r"\s+", "", text).upper()
    if ref and not ref.startswith("PD-"):
        ref = "PD-" + ref.removeprefix("PD")
    return ref


def parse_filter(args: Mapping[str, str]) -> tuple[QueueFilter, list[str]]:
    """The filter asked for by GET parameters, strictly parsed. Values that are not offered are
    dropped, each with a sentence saying so (the list shown then is wider, never empty by
    mistake)."""
    problems: list[str] = []

    def chosen(name: str, allowed) -> str:
        value = (args.get(name) or "").strip()
        if value and value not in allowed:
            problems.append(NOT_OFFERED[name])
            return ""
        return value

    assignee = (args.get("assignee") or "").strip()
    if assignee and assignee not in ASSIGNEE_FILTERS:
        try:
            assignee = str(parse_whole_number(assignee, minimum=1))
        except NotAWholeNumber:
            problems.append(NOT_OFFERED["assignee"])
            assignee = ""
    sort = chosen("sort", SORTS) or "attention"
    after = (args.get("after") or "").strip()
    if after and not CURSORS[sort].fullmatch(after):
        after = ""  # a stale or mangled page link: start at the first page
    q = normalise_code(args.get("q"))
    if len(q) > 40:
        problems.append(
            N_("A case reference is at most 40 characters long; the search was not made.")
        )
        q = ""
    return (
        QueueFilter(
            status=chosen("status", STATUSES),
            channel=(args.get("channel") or "").strip()[:200],
            category=chosen("category", {**CATEGORIES, **FORMER_CATEGORIES}),
            assignee=assignee,
            due=chosen("due", DUE_FILTERS),
            q=normalise_ref(q),
            sort=sort,
            after=after,
        ),
        problems,
    )


@dataclass(frozen=True)
class Choice:
    value: str
    label: str


@dataclass(frozen=True)
class FilterChoices:
    channels: list[Choice]
    assignees: list[Choice]


def soon_until(today: dt.date) -> dt.date:
    """The last day that counts as "due soon": SOON_WORKING_DAYS working days after today
    (legislation calendar), or a week on where the working-day calendar does not know the year
    yet."""
    try:
        return workdays.add_working_days(today, SOON_WORKING_DAYS, "legislation")
    except workdays.UnknownYear:
        return today + dt.timedelta(days=7)


def filter_choices(ctx: Context, account_id: int) -> FilterChoices:
    """The channels this officer is a confirmed member of and the officers confirmed in one of them,
    for the filter form (a pending membership reads nothing yet)."""
    channels = ctx.db.execute(
        "SELECT ch.name FROM channels ch JOIN channel_officers co ON co.channel_id = ch.id "
        "WHERE co.account_id = ? AND co.state = 'confirmed' ORDER BY ch.name",
        [account_id],
    ).fetchall()
    officers = ctx.db.execute(
        "SELECT DISTINCT a.id, a.name FROM accounts a JOIN channel_officers co ON co.account_id ="
        " a.id WHERE a.id != ? AND a.role = 'officer' AND co.state = 'confirmed' AND co.channel_id"
        " IN (SELECT channel_id FROM channel_officers WHERE account_id = ? AND state = 'confirmed')"
        " ORDER BY a.name",
        [account_id, account_id],
    )
    return FilterChoices(
        [Choice(name, name) for (name,) in channels],
        [Choice(str(aid), name) for aid, name in officers.fetchall()],
    )


def departed_assignee(ctx: Context, account_id: int, wanted: QueueFilter) -> Choice | None:
    """The officer `wanted` filters on by id, when they have since been offboarded (a saved view or
    a bookmark from before): their cases were then made not assigned (portal.keys.access.offboard),
    so the view finds none of them. Their name (label) is given only where it is on one of those
    cases in this officer's channels, as the queue shows it ("was: NAME, who has left"). None when
    the filter names no departed officer, and for one who left no case in this officer's channels:
    an id typed in then answers as an unknown one does (which ids are accounts stays unsaid)."""
    if not wanted.assignee.isdigit():
        return None
    row = ctx.db.execute(
        "SELECT a.name, EXISTS (SELECT 1 FROM cases c JOIN channel_officers co ON co.channel_id ="
        " c.channel_id AND co.account_id = ? AND co.state = 'confirmed' WHERE c.assigned_before ="
        " a.id) FROM accounts a WHERE a.id = ? AND a.role = 'officer'"
        " AND a.offboarded_day IS NOT NULL",
        [account_id, int(wanted.assignee)],
    ).fetchone()
    if row is None or not row[1]:
        return None
    return Choice(wanted.assignee, row[0])

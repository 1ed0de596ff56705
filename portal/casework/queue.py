"""The console as a work queue: what needs this officer, and by when (docs/interface.md).

Each reader's queue is the table `case_queue` (migration 7): one row per case they hold a key for,
with
a copy of what the queue filters and orders by (status, channel, category, assignee, next due day,
day
of the latest activity, received day) and whether they have seen the case since its last event. The
copies are kept by triggers in the schema, so every code path that changes a case or its readers
(a disclosure, a reply, a status, a grant, a removal) keeps the queue right without calling this
module.

Scale (SECURITY.md, "The work queue"): every filter and order is one range of an index that begins
with
the reader (keyset pagination: the next page starts after the last row shown, never at an OFFSET);
the
counts of a reader's cases and unseen cases are kept by triggers; the other counts stop at
COUNT_CAP; and
only the rows of the page shown are decrypted (one sealed case key opened and one field decrypted
per row).
Listing records nothing in the audit log; opening a case (triage.read_case) marks it seen.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Mapping

from portal.records import casefiles
from portal.casework import deadlines
from portal.core import workdays
from portal.records.casefiles import STATUSES, HasStatus
from portal.core.context import Context
from portal.casework.categories import CATEGORIES, FORMER_CATEGORIES, known_category
from portal.core.numbers import NotAWholeNumber, parse_whole_number

PAGE_SIZE = 25
COUNT_CAP = 100  # counts beyond this are shown as "more than 100"
SOON_WORKING_DAYS = 5  # "due soon": within this many working days (legislation calendar)
NO_DUE = "9999-12-31"  # the due key of a case with nothing due: sorts after every real day
TITLE_CHARACTERS = 90

# The orders, each with the columns of its index after the reader (and a filter's column), and
# direction. "attention" (the default) puts unseen cases first, then the nearest deadline.
SORTS: dict[str, tuple[str, tuple[str, ...], str]] = {
    "attention": (
        "What needs you first: unseen, then the nearest deadline",
        ("seen", "due_key", "ref"),
        "ASC",
    ),
    "deadline": ("Nearest deadline first", ("due_key", "ref"), "ASC"),
    "activity": ("Latest activity first", ("activity_day", "ref"), "DESC"),
    "received": ("Newest received first", ("received_day", "ref"), "DESC"),
}
DUE_FILTERS = {"overdue": "Overdue", "soon": f"Due within {SOON_WORKING_DAYS} working days"}
ASSIGNEE_FILTERS = {"me": "Assigned to me", "unassigned": "Not assigned"}

# Each status in a few words, for the queue's rows (the case page keeps the full sentence).
SHORT_STATUSES: dict[str, str] = {
    "received": "New: to acknowledge",
    "acknowledged": "Acknowledged",
    "assessing": "Being assessed",
    "investigating": "Being investigated",
    "addressed": "Addressed",
    "referred": "Referred",
    "no_further_action": "No further action",
    "closed": "Closed",
}
# The s 10 categories in a few words, for the filter and the rows (the case page keeps the full
# wording).
SHORT_CATEGORIES: dict[str, str] = {
    "offence": "An offence",
    "health_safety_environment": "Risk to health, safety or the environment",
    "maintenance_of_law": "Risk to the maintenance of law",
    "public_funds": "Public funds or resources",
    "public_sector_conduct": "Conduct or mismanagement in the public sector",
    "not_sure": "Not sure",
    "oppressive_conduct": "Oppressive or negligent conduct (earlier form)",
    "gross_mismanagement": "Gross mismanagement (earlier form)",
    "other": "Something else (earlier form)",
}
DEADLINE_WORDS = {
    "respond": "s 13 steps due",
    "acknowledge": "acknowledgement due",
    "feedback": "feedback due",
    "update": "progress update due",
}
UNSEEN_KINDS = {
    "new": "New to you",
    "message": "New message from the discloser",
    "referral": "Referred by another officer",
    "readers": "Its readers changed",
}

_DAY = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
_REF = r"[0-9A-Z-]{1,40}"
_CURSORS = {
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
    dropped,
    each with a sentence saying so (the list shown then is wider, never empty by mistake)."""
    problems: list[str] = []

    def chosen(name: str, allowed, what: str) -> str:
        value = (args.get(name) or "").strip()
        if value and value not in allowed:
            problems.append(
                f"The {what} asked for is not one of those offered, so that filter is not applied."
            )
            return ""
        return value

    assignee = (args.get("assignee") or "").strip()
    if assignee and assignee not in ASSIGNEE_FILTERS:
        try:
            assignee = str(parse_whole_number(assignee, minimum=1))
        except NotAWholeNumber:
            problems.append(
                "The assignee asked for is not one of those offered, so that filter is not applied."
            )
            assignee = ""
    sort = chosen("sort", SORTS, "order") or "attention"
    after = (args.get("after") or "").strip()
    if after and not _CURSORS[sort].fullmatch(after):
        after = ""  # a stale or mangled page link: start at the first page
    q = (args.get("q") or "").strip()
    if len(q) > 40:
        problems.append("A case reference is at most 40 characters long; the search was not made.")
        q = ""
    return (
        QueueFilter(
            status=chosen("status", STATUSES, "status"),
            channel=(args.get("channel") or "").strip()[:200],
            category=chosen("category", {**CATEGORIES, **FORMER_CATEGORIES}, "kind of wrongdoing"),
            assignee=assignee,
            due=chosen("due", DUE_FILTERS, "deadline filter"),
            q=normalise_ref(q),
            sort=sort,
            after=after,
        ),
        problems,
    )


@dataclass
class QueueRow(HasStatus):
    ref: str
    title: str
    channel_name: str
    category: str  # the category's label, or "" when not known
    status: str
    assignee_name: str  # "" when nobody is assigned
    due_day: str | None
    due_kind: str | None
    days_left: int | None  # calendar days until the due day; negative when overdue
    working_days_left: int | None
    urgency: str  # "overdue", "soon" or ""
    unseen: str | None  # what this reader has not seen yet (a label of UNSEEN_KINDS), or None
    received_day: str
    activity_day: str

    @property
    def short_status(self) -> str:
        return SHORT_STATUSES.get(self.status, self.status_label)


@dataclass
class Count:
    value: int
    capped: bool = False  # True: there are more than `value`

    def __str__(self) -> str:
        return f"more than {self.value}" if self.capped else str(self.value)


@dataclass
class QueuePage:
    rows: list[QueueRow]
    next_after: str | None  # the cursor of the next page, or None on the last page
    total: int  # every case this officer can read
    unseen: int
    overdue: Count
    soon: Count
    matching: Count | None  # cases matching the filters (None when unfiltered)
    today: str
    soon_until: str
    problems: list[str] = field(default_factory=list)


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
    (legislation
    calendar), or a week on where the working-day calendar does not know the year yet."""
    try:
        return workdays.add_working_days(today, SOON_WORKING_DAYS, "legislation")
    except workdays.UnknownYear:
        return today + dt.timedelta(days=7)


def _conditions(
    ctx: Context, account_id: int, wanted: QueueFilter, today: str, soon: str
) -> tuple[list[str], list]:
    clauses, params = ["account_id = ?"], [account_id]
    if wanted.status:
        clauses.append("status = ?")
        params.append(wanted.status)
    if wanted.channel:
        row = ctx.db.execute("SELECT id FROM channels WHERE name = ?", [wanted.channel]).fetchone()
        clauses.append("channel_id = ?")
        params.append(row[0] if row else -1)
    if wanted.category:
        clauses.append("category = ?")
        params.append(wanted.category)
    if wanted.assignee:
        clauses.append("assigned_to = ?")
        named = {"me": account_id, "unassigned": 0}
        params.append(named[wanted.assignee] if wanted.assignee in named else int(wanted.assignee))
    if wanted.due == "overdue":
        clauses.append("due_key < ?")
        params.append(today)
    elif wanted.due == "soon":
        clauses.append("due_key >= ? AND due_key <= ?")
        params += [today, soon]
    if wanted.q:
        clauses.append("ref = ?")
        params.append(wanted.q)
    return clauses, params


# The filter whose index a view walks, most selective first; its column in case_queue and the
# indexes' names.
_FILTER_COLUMNS = {
    "assignee": "assigned_to",
    "category": "category",
    "status": "status",
    "channel": "channel_id",
}


def index_for(wanted: QueueFilter, order: str) -> str:
    """The index (migration 7) that serves `wanted` in `order`. SQLite's planner has no statistics
    about a
    queue, and guesses badly between the many indexes that all begin with the reader, so each
    statement
    names the one it walks: the first filter's column, then the order's keys. A due-day filter under
    the
    activity or received order walks the due days (only open cases have one) and sorts those."""
    if wanted.q:
        return "queue_by_ref"
    column = next(
        (column for name, column in _FILTER_COLUMNS.items() if getattr(wanted, name)), "all"
    )
    if wanted.due and order in ("activity", "received"):
        order = "deadline"
    return f"queue_{column}_{order}"


_COLUMNS = (
    "case_id, ref, seen, unseen_kind, channel_id, category, status, assigned_to, due_key,"
    " activity_day, received_day"
)


def _select(
    db,
    index: str,
    clauses: list[str],
    params: list,
    keys: tuple[str, ...],
    direction: str,
    after: tuple | None,
    limit: int,
) -> list[tuple]:
    """One index range: the rows after the cursor `after` (the values of `keys`), in `keys`
    order."""
    clauses, params = list(clauses), list(params)
    if after is not None:
        clauses.append(
            f"({', '.join(keys)}) {'>' if direction == 'ASC' else '<'}"
            f" ({', '.join('?' for _ in keys)})"
        )
        params += list(after)
    order = ", ".join(f"{key} {direction}" for key in keys)
    return db.execute(
        f"SELECT {_COLUMNS} FROM case_queue INDEXED BY {index} WHERE {' AND '.join(clauses)} ORDER"
        f" BY {order} LIMIT ?",
        [*params, limit],
    ).fetchall()


def _page_rows(
    db, clauses: list[str], params: list, wanted: QueueFilter, limit: int
) -> list[tuple]:
    """Up to `limit` rows of the page after `wanted.after`, in the order asked for."""
    _, keys, direction = SORTS[wanted.sort]
    cursor = _CURSORS[wanted.sort].fullmatch(wanted.after) if wanted.after else None
    index = index_for(wanted, wanted.sort)
    if wanted.sort != "attention":
        return _select(
            db, index, clauses, params, keys, direction, cursor.groups() if cursor else None, limit
        )
    # Unseen first: one range for the unseen cases and one for the rest, so that a due-day filter is
    # a range of the same index in each.
    rows: list[tuple] = []
    for seen in (0, 1):
        if cursor and seen < int(cursor.group(1)):
            continue
        after = cursor.groups()[1:] if cursor and seen == int(cursor.group(1)) else None
        rows += _select(
            db,
            index,
            clauses + ["seen = ?"],
            params + [seen],
            ("due_key", "ref"),
            "ASC",
            after,
            limit - len(rows),
        )
        if len(rows) >= limit:
            break
    return rows


def _cursor(sort: str, row: tuple) -> str:
    values = {
        "case_id": row[0],
        "ref": row[1],
        "seen": row[2],
        "due_key": row[8],
        "activity_day": row[9],
        "received_day": row[10],
    }
    return "_".join(str(values[key]) for key in SORTS[sort][1])


def _capped_count(db, index: str, clauses: list[str], params: list) -> Count:
    found = db.execute(
        f"SELECT COUNT(*) FROM (SELECT 1 FROM case_queue INDEXED BY {index} "
        f"WHERE {' AND '.join(clauses)} LIMIT ?)",
        [*params, COUNT_CAP + 1],
    ).fetchone()[0]
    return Count(min(found, COUNT_CAP), found > COUNT_CAP)


def _title(summary: str) -> str:
    """The discloser's short title on one line, cut at a word to at most TITLE_CHARACTERS
    characters."""
    line = " ".join(summary.split())
    if len(line) <= TITLE_CHARACTERS:
        return line
    return line[:TITLE_CHARACTERS].rsplit(" ", 1)[0].rstrip(",.;:") + "…"


def _titles(
    ctx: Context, account_id: int, private_key: bytes, shown: list[tuple]
) -> dict[str, tuple[str, str]]:
    """case id -> (title, category value) for the rows of the page shown, opened with this reader's
    own
    sealed keys. A case made before the category was kept in the clear gets it recorded now
    (migration 7).
    """
    recipient = f"account:{account_id}"
    # The category is in the clear since migration 7; only older cases need theirs decrypted.
    opened = {
        **casefiles.read_fields_of_cases(
            ctx, recipient, private_key, [r[0] for r in shown if r[5]], ("summary",)
        ),
        **casefiles.read_fields_of_cases(
            ctx, recipient, private_key, [r[0] for r in shown if not r[5]], ("summary", "category")
        ),
    }
    titles = {}
    for case_id, category in ((row[0], row[5]) for row in shown):
        fields = opened.get(case_id)
        if fields is None:
            titles[case_id] = ("(This case's title could not be opened.)", category)
            continue
        if not category and known_category(fields.get("category")):
            category = fields["category"]
            ctx.db.execute(
                "UPDATE cases SET category = ? WHERE id = ? AND category IS NULL",
                [category, case_id],
            )
        titles[case_id] = (_title(fields.get("summary", "")), category)
    return titles


def _days_left(due: str, today: dt.date, regime: str) -> tuple[int, int | None]:
    """Calendar days, and working days for the nz regime when the deadline is within a month."""
    due_day = dt.date.fromisoformat(due)
    calendar_days = (due_day - today).days
    if not 0 <= calendar_days <= 31:
        return calendar_days, None  # overdue, or far off: calendar days say enough
    try:
        return deadlines.days_left(due_day, today, regime)
    except workdays.UnknownYear:
        return calendar_days, None


def page(
    ctx: Context, account_id: int, private_key: bytes, wanted: QueueFilter, today: str
) -> QueuePage:
    """One page of this reader's queue for `wanted`, with the counts the inbox shows. `today`:
    YYYY-MM-DD."""
    today_day = dt.date.fromisoformat(today)
    soon = soon_until(today_day).isoformat()
    clauses, params = _conditions(ctx, account_id, wanted, today, soon)
    found = _page_rows(ctx.db, clauses, params, wanted, PAGE_SIZE + 1)
    shown = found[:PAGE_SIZE]
    counts = ctx.db.execute(
        "SELECT cases, unseen FROM queue_counts WHERE account_id = ?", [account_id]
    ).fetchone()
    channels = {
        cid: (name, regime)
        for cid, name, regime in ctx.db.execute("SELECT id, name, regime FROM channels")
    }
    case_ids = [row[0] for row in shown]
    marks = ", ".join("?" for _ in case_ids)
    due_kinds = dict(
        ctx.db.execute(f"SELECT id, due_kind FROM cases WHERE id IN ({marks})", case_ids).fetchall()
    )
    assignee_ids = sorted({row[7] for row in shown if row[7]})
    names = dict(
        ctx.db.execute(
            f"SELECT id, name FROM accounts WHERE id IN ({', '.join('?' for _ in assignee_ids)})",
            assignee_ids,
        ).fetchall()
    )
    titles = _titles(ctx, account_id, private_key, shown)
    rows = []
    for (
        case_id,
        ref,
        seen,
        kind,
        channel_id,
        category,
        status,
        assigned,
        due_key,
        activity,
        received,
    ) in shown:
        title, category = titles[case_id]
        channel_name, regime = channels.get(channel_id, ("", "nz"))
        due = None if due_key == NO_DUE else due_key
        left, working_left = _days_left(due, today_day, regime) if due else (None, None)
        urgency = "" if due is None else "overdue" if due < today else "soon" if due <= soon else ""
        rows.append(
            QueueRow(
                ref,
                title,
                channel_name,
                SHORT_CATEGORIES.get(category, ""),
                status,
                names.get(assigned, ""),
                due,
                due_kinds.get(case_id),
                left,
                working_left,
                urgency,
                None if seen else UNSEEN_KINDS.get(kind or "new"),
                received,
                activity,
            )
        )
    base = ["account_id = ?"], [account_id]
    return QueuePage(
        rows,
        _cursor(wanted.sort, shown[-1]) if len(found) > PAGE_SIZE else None,
        total=counts[0] if counts else 0,
        unseen=counts[1] if counts else 0,
        overdue=_capped_count(
            ctx.db, "queue_all_deadline", base[0] + ["due_key < ?"], base[1] + [today]
        ),
        soon=_capped_count(
            ctx.db,
            "queue_all_deadline",
            base[0] + ["due_key >= ? AND due_key <= ?"],
            base[1] + [today, soon],
        ),
        matching=(
            _capped_count(
                ctx.db,
                index_for(wanted, "deadline" if wanted.due else "attention"),
                clauses,
                params,
            )
            if wanted.filtered
            else None
        ),
        today=today,
        soon_until=soon,
    )


def filter_choices(ctx: Context, account_id: int) -> FilterChoices:
    """The channels this officer is a confirmed member of and the officers confirmed in one of them,
    for the
    filter form (a pending membership reads nothing yet)."""
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


def mark_seen(ctx: Context, account_id: int, case_id: str) -> None:
    """The officer opened the case: nothing in it is unseen for them any more (nothing else is
    recorded)."""
    ctx.db.execute(
        "UPDATE case_queue SET seen = 1, unseen_kind = NULL WHERE account_id = ? AND case_id = ? "
        "AND seen = 0",
        [account_id, case_id],
    )

"""The console as a work queue: what needs this officer, and by when (docs/interface.md).

Each reader's queue is the table `case_queue` (migration 7): one row per case they hold a key for,
with a copy of what the queue filters and orders by (status, channel, category, assignee, next due
day, day of the latest activity, received day) and whether they have seen the case since its last
event. The copies are kept by triggers in the schema, so every code path that changes a case or its
readers (a disclosure, a reply, a status, a grant, a removal) keeps the queue right without calling
this module.

Scale (SECURITY.md, "The work queue"): every filter and order is one range of an index that begins
with the reader (keyset pagination: the next page starts after the last row shown, never at an
OFFSET); the counts of a reader's cases and unseen cases are kept by triggers; the other counts stop
at COUNT_CAP; and only the rows of the page shown are decrypted (one sealed case key opened and one
field decrypted per row). Listing records nothing in the audit log; opening a case
(triage.read_case) marks it seen.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from portal.casework.queue_filters import CURSORS, SORTS, QueueFilter, soon_until
from portal.casework.queue_rows import (
    SHORT_CATEGORIES,
    UNSEEN_KINDS,
    QueueRow,
    days_left,
    read_titles,
)
from portal.core.context import Context

PAGE_SIZE = 25
COUNT_CAP = 100  # counts beyond this are shown as "more than 100"
NO_DUE = "9999-12-31"  # the due key of a case with nothing due: sorts after every real day


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
    about a queue, and guesses badly between the many indexes that all begin with the reader, so
    each statement names the one it walks: the first filter's column, then the order's keys. A
    due-day filter under the activity or received order walks the due days (only open cases have
    one) and sorts those."""
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
    cursor = CURSORS[wanted.sort].fullmatch(wanted.after) if wanted.after else None
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


def build_rows(
    ctx: Context, shown: list[tuple], titles: dict[str, tuple[str, str]], today: str
) -> list[QueueRow]:
    """The queue's rows for `shown` (rows of case_queue, _COLUMNS), with `titles` (case id ->
    (title, category)) already opened."""
    today_day = dt.date.fromisoformat(today)
    soon = soon_until(today_day).isoformat()
    channels = {
        cid: (name, regime)
        for cid, name, regime in ctx.db.execute("SELECT id, name, regime FROM channels")
    }
    case_ids = [row[0] for row in shown]
    marks = ", ".join("?" for _ in case_ids)
    due_kinds = dict(
        ctx.db.execute(f"SELECT id, due_kind FROM cases WHERE id IN ({marks})", case_ids).fetchall()
    )
    former = dict(
        ctx.db.execute(
            "SELECT c.id, a.name FROM cases c JOIN accounts a ON a.id = c.assigned_before"
            f" WHERE c.assigned_to IS NULL AND c.id IN ({marks})",
            case_ids,
        ).fetchall()
    )
    assignee_ids = sorted({row[7] for row in shown if row[7]})
    names = dict(
        ctx.db.execute(
            f"SELECT id, name FROM accounts WHERE id IN ({', '.join('?' for _ in assignee_ids)})",
            assignee_ids,
        ).fetchall()
    )
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
        left, working_left = days_left(due, today_day, regime) if due else (None, None)
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
                former.get(case_id, ""),
            )
        )
    return rows


def page(
    ctx: Context,
    account_id: int,
    private_key: bytes,
    wanted: QueueFilter,
    today: str,
    *,
    size: int = PAGE_SIZE,
) -> QueuePage:
    """One page of `size` rows of this reader's queue for `wanted`, with the counts the inbox
    shows. `today`: YYYY-MM-DD."""
    today_day = dt.date.fromisoformat(today)
    soon = soon_until(today_day).isoformat()
    clauses, params = _conditions(ctx, account_id, wanted, today, soon)
    found = _page_rows(ctx.db, clauses, params, wanted, size + 1)
    shown = found[:size]
    counts = ctx.db.execute(
        "SELECT cases, unseen FROM queue_counts WHERE account_id = ?", [account_id]
    ).fetchone()
    rows = build_rows(ctx, shown, read_titles(ctx, account_id, private_key, shown), today)
    base = ["account_id = ?"], [account_id]
    return QueuePage(
        rows,
        _cursor(wanted.sort, shown[-1]) if len(found) > size else None,
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


def rows_of_cases(
    ctx: Context, account_id: int, titles: dict[str, str], today: str, *, limit: int
) -> tuple[list[QueueRow], int]:
    """The queue's rows of the cases `titles` names (case id -> title, opened already: nothing is
    decrypted here), unseen first, then by nearest deadline; at most `limit`, and how many."""
    ids = list(titles)
    found: list[tuple] = []
    for first in range(0, len(ids), 500):
        chunk = ids[first : first + 500]
        found += ctx.db.execute(
            f"SELECT {_COLUMNS} FROM case_queue WHERE account_id = ? AND case_id IN"
            f" ({', '.join('?' for _ in chunk)})",
            [account_id, *chunk],
        ).fetchall()
    found.sort(key=lambda row: (row[2], row[8], row[1]))
    shown = found[:limit]
    return (
        build_rows(ctx, shown, {row[0]: (titles[row[0]], row[5]) for row in shown}, today),
        len(found),
    )


def mark_seen(ctx: Context, account_id: int, case_id: str) -> None:
    """The officer opened the case: nothing in it is unseen for them any more (nothing else is
    recorded)."""
    ctx.db.execute(
        "UPDATE case_queue SET seen = 1, unseen_kind = NULL WHERE account_id = ? AND case_id = ? "
        "AND seen = 0",
        [account_id, case_id],
    )

"""What the statistics count (portal.casework.statistics), read from what the portal keeps in the
clear: each case's channel, regime, received day and category (in the clear since migration 7), its
status records, s 13 steps and extensions up to a given day. No key is opened, except once for a
case made before migration 7, whose category is then recorded in the clear as the queue does
(SECURITY.md, "The work queue").
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field

from portal.casework.categories import known_category
from portal.core.context import Context
from portal.records import casefiles

OUTCOME_STATUSES = ("addressed", "referred", "no_further_action")
_CHUNK = 500  # case ids to one IN (...) list


@dataclass
class Case:
    channel: str
    regime: str
    status: str
    received: dt.date
    category: str = ""
    steps: dict[str, dt.date] = field(default_factory=dict)
    outcome: str = "none_yet"
    extended: bool = False


def readable_case_ids(ctx: Context, account_id: int, start: dt.date, end: dt.date) -> list[str]:
    """The cases received from `start` to `end` (both included) this officer holds a key for."""
    return [
        row[0]
        for row in ctx.db.execute(
            "SELECT c.id FROM cases c JOIN case_keys k ON k.case_id = c.id AND k.recipient = ?"
            " WHERE c.received_day BETWEEN ? AND ? ORDER BY c.id",
            [f"account:{account_id}", start.isoformat(), end.isoformat()],
        )
    ]


def channel_names(ctx: Context, account_id: int) -> list[str]:
    """The channels this officer is a confirmed officer of: each gets a row, even at 0."""
    rows = ctx.db.execute(
        "SELECT ch.name FROM channels ch JOIN channel_officers co ON co.channel_id = ch.id "
        "WHERE co.account_id = ? AND co.state = 'confirmed'",
        [account_id],
    ).fetchall()
    return [row[0] for row in rows]


def record_sealed_categories(
    ctx: Context, account_id: int, private_key: bytes, case_ids: list[str]
) -> None:
    """Cases made before the category was kept in the clear get it recorded now, opened with this
    officer's own keys (as portal.casework.queue_rows does for the cases it lists)."""
    for ids in _chunks(case_ids):
        marks = ",".join("?" * len(ids))
        sealed = [
            row[0]
            for row in ctx.db.execute(
                f"SELECT id FROM cases WHERE id IN ({marks}) AND category IS NULL", ids
            )
        ]
        opened = casefiles.read_fields_of_cases(
            ctx, f"account:{account_id}", private_key, sealed, ("category",)
        )
        for case_id, fields in opened.items():
            category = known_category((fields or {}).get("category"))
            if category:
                ctx.db.execute(
                    "UPDATE cases SET category = ? WHERE id = ? AND category IS NULL",
                    [category, case_id],
                )


def cases_as_of(ctx: Context, case_ids: list[str], as_of: dt.date) -> list[Case]:
    """These cases as they stood at the end of `as_of`: the status, outcome, steps and extension
    recorded on or before that day. Cases no longer kept (retention) are left out."""
    day = as_of.isoformat()
    cases: dict[str, Case] = {}
    for ids in _chunks(case_ids):
        marks = ",".join("?" * len(ids))
        for case_id, channel, regime, received, category in ctx.db.execute(
            "SELECT c.id, ch.name, ch.regime, c.received_day, c.category FROM cases c"
            f" JOIN channels ch ON ch.id = c.channel_id WHERE c.id IN ({marks})",
            ids,
        ):
            cases[case_id] = Case(
                channel, regime, "received", dt.date.fromisoformat(received), category or ""
            )
        for case_id, status in ctx.db.execute(
            f"SELECT case_id, status FROM status_events WHERE case_id IN ({marks}) AND day <= ?"
            " ORDER BY case_id, seq",
            [*ids, day],
        ):
            cases[case_id].status = status  # the latest record wins
            if status in OUTCOME_STATUSES:
                cases[case_id].outcome = status
        for case_id, step, done in ctx.db.execute(
            f"SELECT case_id, step, day FROM case_steps WHERE case_id IN ({marks}) AND day <= ?",
            [*ids, day],
        ):
            cases[case_id].steps[step] = dt.date.fromisoformat(done)
        for (case_id,) in ctx.db.execute(
            f"SELECT case_id FROM case_extensions WHERE case_id IN ({marks}) AND day <= ?",
            [*ids, day],
        ):
            cases[case_id].extended = True
    return list(cases.values())


def _chunks(ids: list[str]) -> Iterator[list[str]]:
    for first in range(0, len(ids), _CHUNK):
        yield ids[first : first + _CHUNK]


def received_count(ctx: Context, start: dt.date, end: dt.date) -> int:
    """How many cases kept were received from `start` to `end` (both included), whatever their
    channel or reader: a count of rows, nothing opened (the service operator's figures,
    portal.service.counts)."""
    return ctx.db.execute(
        "SELECT count(*) FROM cases WHERE received_day BETWEEN ? AND ?",
        [start.isoformat(), end.isoformat()],
    ).fetchone()[0]

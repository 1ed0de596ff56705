"""An officer's saved views of the inbox: a name and the queue's filters and order, kept as the GET
parameters that give the view (migration 29). Never a case reference, a page cursor or a word
searched for: a saved view says what kind of cases to show, not what was looked for."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode

from portal.casework.queue_filters import QueueFilter, parse_filter
from portal.core.context import Context
from portal.core.words import N_, Sentence
from portal.store import transaction

MAX_VIEWS = 20
MAX_NAME = 60
KEPT = ("status", "channel", "category", "assignee", "due", "sort")


class ViewRefused(ValueError):
    """The view cannot be saved; the message says why, in plain words."""


@dataclass(frozen=True)
class SavedView:
    id: int
    name: str
    query: dict[str, str]  # the inbox's GET parameters


def views_of(ctx: Context, account_id: int) -> list[SavedView]:
    rows = ctx.db.execute(
        "SELECT id, name, filters FROM saved_views WHERE account_id = ? ORDER BY name, id",
        [account_id],
    ).fetchall()
    return [SavedView(vid, name, dict(parse_qsl(filters))) for vid, name, filters in rows]


def save(ctx: Context, account_id: int, name: str, form: dict[str, str]) -> SavedView:
    """Save the filters and order of `form` (the inbox's parameters, strictly parsed) under
    `name`; a view of the same name is replaced."""
    name = " ".join(name.split())
    if not name:
        raise ViewRefused(N_('Give the view a name, for example "Overdue and not assigned".'))
    if len(name) > MAX_NAME:
        raise ViewRefused(
            Sentence(N_("A view's name is at most %(n)d characters long."), n=MAX_NAME)
        )
    wanted, problems = parse_filter({key: form.get(key, "") for key in KEPT})
    if problems:
        raise ViewRefused(problems[0])
    query = {k: v for k, v in QueueFilter.query(wanted).items() if k in KEPT}
    if not query:
        raise ViewRefused(N_("Choose a filter or an order first: this view is the whole queue."))
    with transaction(ctx.db):
        count = ctx.db.execute(
            "SELECT COUNT(*) FROM saved_views WHERE account_id = ? AND name != ?",
            [account_id, name],
        ).fetchone()[0]
        if count >= MAX_VIEWS:
            raise ViewRefused(
                Sentence(N_("You can keep %(n)d views; remove one first."), n=MAX_VIEWS)
            )
        ctx.db.execute(
            "INSERT INTO saved_views (account_id, name, filters) VALUES (?, ?, ?) "
            "ON CONFLICT (account_id, name) DO UPDATE SET filters = excluded.filters",
            [account_id, name, urlencode(query)],
        )
        view_id = ctx.db.execute(
            "SELECT id FROM saved_views WHERE account_id = ? AND name = ?", [account_id, name]
        ).fetchone()[0]
    return SavedView(view_id, name, query)


def remove(ctx: Context, account_id: int, view_id: int) -> bool:
    """Remove one of this officer's own views; False when they have none with that id."""
    with transaction(ctx.db):
        return (
            ctx.db.execute(
                "DELETE FROM saved_views WHERE id = ? AND account_id = ?", [view_id, account_id]
            ).rowcount
            == 1
        )

"""The work queue's rows as the inbox shows them: short wording for statuses, categories and
deadlines, each case's title opened with the reader's own key, and the days left.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from portal.casework import deadlines
from portal.casework.categories import known_category
from portal.core import workdays
from portal.core.context import Context
from portal.core.words import N_, Sentence
from portal.records import casefiles
from portal.records.casefiles import HasStatus

TITLE_CHARACTERS = 90


# Each status in a few words, for the queue's rows (the case page shows the discloser's too).
SHORT_STATUSES: dict[str, str] = casefiles.OFFICER_STATUSES

# The s 10 categories in a few words, for the filter and the rows (the case page keeps the full
# wording).
SHORT_CATEGORIES: dict[str, str] = {
    "offence": N_("An offence"),
    "health_safety_environment": N_("Risk to health, safety or the environment"),
    "maintenance_of_law": N_("Risk to the maintenance of law"),
    "public_funds": N_("Public funds or resources"),
    "public_sector_conduct": N_("Conduct or mismanagement in the public sector"),
    "not_sure": N_("Not sure"),
    "oppressive_conduct": N_("Oppressive or negligent conduct (earlier form)"),
    "gross_mismanagement": N_("Gross mismanagement (earlier form)"),
    "other": N_("Something else (earlier form)"),
}
DEADLINE_WORDS = {
    "respond": N_("s 13 steps due"),
    "acknowledge": N_("acknowledgement due"),
    "feedback": N_("feedback due"),
    "update": N_("progress update due"),
    "timeframe": N_("s 13 steps due by the expected timeframe (s 13(2))"),
    deadlines.UNKNOWN_KIND: Sentence(
        N_("deadline not known (working days after %(year)d are not fixed in law)"),
        year=workdays.LAST_KNOWN_YEAR,
    ),
}
UNSEEN_KINDS = {
    "new": N_("New to you"),
    "message": N_("New message from the discloser"),
    "referral": N_("Referred by another officer"),
    "readers": N_("Its readers changed"),
}


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
    former_assignee: str = ""  # who had it when they left (offboarded), while nobody else has it

    @property
    def short_status(self) -> str:
        return SHORT_STATUSES.get(self.status, self.status_label)


def title(summary: str) -> str:
    """The discloser's short title on one line, cut at a word to at most TITLE_CHARACTERS
    characters."""
    line = " ".join(summary.split())
    if len(line) <= TITLE_CHARACTERS:
        return line
    return line[:TITLE_CHARACTERS].rsplit(" ", 1)[0].rstrip(",.;:") + "…"


def read_titles(
    ctx: Context, account_id: int, private_key: bytes, shown: list[tuple]
) -> dict[str, tuple[str, str]]:
    """case id -> (title, category value) for the rows of the page shown, opened with this reader's
    own sealed keys. A case made before the category was kept in the clear gets it recorded now
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
        titles[case_id] = (title(fields.get("summary", "")), category)
    return titles


def days_left(due: str, today: dt.date, regime: str) -> tuple[int, int | None]:
    """Calendar days, and working days (the Act's count) for the nz regime however far the deadline
    is, negative when overdue; None where the working-day calendar does not know the year yet."""
    due_day = dt.date.fromisoformat(due)
    try:
        return deadlines.days_left(due_day, today, regime)
    except workdays.UnknownYear:
        return (due_day - today).days, None

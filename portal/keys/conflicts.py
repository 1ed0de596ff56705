"""Conflicts of interest: the officers a discloser excludes from a disclosure, and the officers' own
register of declared interests.

Exclusion is enforced by the keys: an excluded officer is never sealed the case key (nor the
officers-only key), so they cannot open the case, it is in none of their lists, and they get the
same 404 as for a case that does not exist. The list of who was excluded points at the person
reported, so it is stored only as ciphertext under the officers-only key: the readers see it, the
database shows nothing. Excluding every officer of the channel is refused before anything is stored:
a case must always have a reader.

The interests register is what officers declare about themselves (a relative in a team, a side
business); it is shown to fellow officers on each case they read together, to help them spot a
conflict when triaging. It is the officers' own text, not discloser content, and is kept in the
clear.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import crypto
from portal.core.clock import today
from portal.core.context import Context
from portal.core.words import N_, Sentence
from portal.guard import submissions
from portal.keys import accounts, channels
from portal.records import audit, case_history, internal_keys
from portal.store import transaction

MAX_INTEREST_CHARS = 1000


class ExcludedEveryone(ValueError):
    """The discloser excluded every officer of the channel: nobody could receive the disclosure."""


class InterestError(ValueError):
    """An interest that cannot be recorded or removed; the message says why."""


@dataclass(frozen=True)
class Interest:
    id: int
    account_id: int
    officer_name: str
    day: str
    text: str


def excludable_officers(ctx: Context) -> list[accounts.Account]:
    """Every officer who could receive a disclosure through some channel, each once, by name."""
    found: dict[int, accounts.Account] = {}
    for channel in channels.list_channels(ctx, with_officers_only=True):
        for officer in channels.channel_officers(ctx, channel.id):
            found.setdefault(officer.id, officer)
    return sorted(found.values(), key=lambda a: (a.name.casefold(), a.id))


def readers_without(
    ctx: Context, channel: channels.Channel, excluded_ids: set[int]
) -> list[accounts.Account]:
    """The channel's readers less the excluded officers. Raises ExcludedEveryone if none would be
    left."""
    readers = channels.channel_officers(ctx, channel.id)
    kept = [officer for officer in readers if officer.id not in excluded_ids]
    if readers and not kept:
        raise ExcludedEveryone(
            f"You asked that every integrity officer of {channel.name} not see your disclosure, so"
            " nobody could receive it. Nothing was sent. Untick at least one of them, or choose"
            " another channel."
        )
    return kept


def store_exclusions(
    ctx: Context, case_id: str, case_ref: str, internal_key: bytes, excluded_ids: set[int]
) -> None:
    """Inside the disclosure's transaction: the excluded officers, encrypted under the officers-only
    key."""
    if not excluded_ids:
        return
    named = [
        {"id": a.id, "name": a.name}
        for a in map(lambda i: accounts.get_account(ctx, i), sorted(excluded_ids))
        if a is not None
    ]
    ctx.db.execute(
        "UPDATE cases SET exclusions_ct = ? WHERE id = ?",
        [
            crypto.encrypt_field(internal_key, case_id, "exclusions", json.dumps(named).encode()),
            case_id,
        ],
    )
    # Not audited: an entry written now would sit in the chain between officers' timed entries and
    # so date the disclosure more finely than its received day (SECURITY.md, "Audit log").


def excluded_officers(
    ctx: Context, case_id: str, account_id: int, private_key: bytes
) -> list[dict]:
    """[{"id", "name"}] of the officers the discloser excluded, for a reader of the case; [] if none
    or the officers-only key was not shared with this reader. Grants of the case must skip these
    ids."""
    row = ctx.db.execute("SELECT exclusions_ct FROM cases WHERE id = ?", [case_id]).fetchone()
    if row is None or row[0] is None:
        return []
    key = internal_keys.open_internal_key(ctx, case_id, account_id, private_key)
    return exclusions_under(ctx, case_id, key) if key is not None else []


def exclusions_under(ctx: Context, case_id: str, key: bytes) -> list[dict]:
    """[{"id", "name"}] of the excluded officers, read with the case's officers-only key `key` (held
    by a reader, or by the channel's recovery key)."""
    row = ctx.db.execute("SELECT exclusions_ct FROM cases WHERE id = ?", [case_id]).fetchone()
    if row is None or row[0] is None:
        return []
    try:
        return json.loads(crypto.decrypt_field(key, case_id, "exclusions", row[0]))
    except crypto.DecryptionError:
        return [{"id": None, "name": case_history.TAMPERED_TEXT}]


# --- The interests register
# ---------------------------------------------------------------------------


def declare_interest(
    ctx: Context, account_id: int, text: str, submission_token: str | None = None
) -> None:
    text = " ".join(text.split())
    if not text:
        raise InterestError(N_("Describe the interest first."))
    if len(text) > MAX_INTEREST_CHARS:
        raise InterestError(
            Sentence(N_("Keep it to %(n)d characters."), n=MAX_INTEREST_CHARS)
        )
    with transaction(ctx.db):
        submissions.claim(ctx.db, submission_token, today(ctx.settings.timezone))
        interest_id = ctx.db.execute(
            "INSERT INTO interests (account_id, day, text) VALUES (?, ?, ?) RETURNING id",
            [account_id, today(ctx.settings.timezone), text],
        ).fetchone()[0]
        audit.record(
            ctx, "interest_declared", actor=account_id, detail={"interest_id": interest_id}
        )


def remove_interest(ctx: Context, account_id: int, interest_id: int) -> None:
    """Remove one of the officer's own declarations. Raises InterestError for anyone else's."""
    with transaction(ctx.db):
        if not ctx.db.execute(
            "DELETE FROM interests WHERE id = ? AND account_id = ?", [interest_id, account_id]
        ).rowcount:
            raise InterestError(N_("That is not one of your declared interests."))
        audit.record(ctx, "interest_removed", actor=account_id, detail={"interest_id": interest_id})


def interests_of(ctx: Context, account_ids: list[int]) -> list[Interest]:
    """The declared interests of these officers, by officer name then day."""
    if not account_ids:
        return []
    marks = ",".join("?" * len(account_ids))
    rows = ctx.db.execute(
        "SELECT i.id, i.account_id, a.name, i.day, i.text FROM interests i JOIN accounts a ON a.id"
        f" = i.account_id WHERE i.account_id IN ({marks}) ORDER BY a.name, i.day, i.id",
        list(account_ids),
    ).fetchall()
    return [Interest(*row) for row in rows]

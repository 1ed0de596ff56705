"""`portal audit verify`, the keys' part: the records of who may read a channel against the audit
chain and each channel's signed roster (issue 21). The chain itself is checked first
(portal.records.audit_verify); this finds records that the chain does not vouch for, such as a
membership whose request entry was deleted and the head file rewritten to match.

Each check names the first record that disagrees, in plain words for the operator.
"""

from __future__ import annotations

import json

from crypto import roster as signed
from portal.core.context import Context
from portal.keys import roster
from portal.keys.channels import channel_officers, list_channels


def _entries(ctx: Context, event: str) -> list[tuple]:
    return ctx.db.execute(
        "SELECT seq, actor, subject, channel_id, detail FROM audit_log WHERE event = ?", [event]
    ).fetchall()


def _roster_problem(ctx: Context) -> str | None:
    logged = {}
    for seq, _actor, _subject, channel_id, detail in _entries(ctx, "roster_statement"):
        fields = json.loads(detail or "{}")
        logged[(channel_id, fields.get("seq"))] = (seq, fields.get("statement"))
    stored = set()
    for channel in list_channels(ctx):
        state = roster.load(ctx, channel.id)
        if state.problem:
            return f"the signed roster of {channel.name}: {state.problem}"
        rows = ctx.db.execute(
            "SELECT seq, body FROM roster_statements WHERE channel_id = ? ORDER BY seq",
            [channel.id],
        ).fetchall()
        for seq, body in rows:
            stored.add((channel.id, seq))
            entry = logged.get((channel.id, seq))
            if entry is None or entry[1] != signed.statement_hash(body).hex():
                return (
                    f"roster statement {seq} of {channel.name} has no matching audit entry: it was"
                    " written outside the portal"
                )
        for member in channel_officers(ctx, channel.id) if state.started else ():
            admitted = state.verified.readers.get(member.id)
            if admitted is not None and admitted.key != member.public_key:
                return (
                    f"the public key of {member.name} in the database is not the one the roster"
                    f" of {channel.name} admits: it was changed outside the portal"
                )
        recovery = ctx.db.execute(
            "SELECT recovery_public_key FROM channels WHERE id = ?", [channel.id]
        ).fetchone()[0]
        if state.started and recovery is not None and state.verified.recovery_key != recovery:
            return (
                f"the recovery key of {channel.name} is not the one its signed roster admits: it"
                " was set outside the portal"
            )
    for (channel_id, seq), (entry_seq, _) in sorted(logged.items(), key=lambda i: i[1][0]):
        if (channel_id, seq) not in stored:
            return (
                f"audit entry {entry_seq} records roster statement {seq} of channel {channel_id},"
                " which the database no longer holds: it was deleted"
            )
    return None


def membership_problem(ctx: Context, channel_id: int | None = None) -> str | None:
    """The first membership (of `channel_id`, or of every channel) that no audit entry made: a row
    written or changed outside the portal. None when every one is vouched for."""
    requested = {(c, s) for _, _, s, c, _ in _entries(ctx, "membership_request")}
    confirmed = {(c, s) for _, _, s, c, _ in _entries(ctx, "membership_confirm")}
    added_to = {(c, s) for _, _, s, c, _ in _entries(ctx, "membership_add")}
    # Memberships made before entries named their channel: vouched for by the account's own
    # entry, in channels made before rosters only.
    added = {s for _, _, s, _, _ in _entries(ctx, "account_add")}
    enrolled = {a for _, a, _, _, _ in _entries(ctx, "enrolment")}
    new_channels = {c for _, _, _, c, d in _entries(ctx, "channel_add")
                    if json.loads(d or "{}").get("roster") is True}
    rows = ctx.db.execute(
        "SELECT co.channel_id, ch.name, co.account_id, co.state FROM channel_officers co"
        " JOIN channels ch ON ch.id = co.channel_id WHERE ? IS NULL OR co.channel_id = ?"
        " ORDER BY co.channel_id, co.account_id",
        [channel_id, channel_id],
    ).fetchall()
    for channel, name, account_id, state in rows:
        legacy = channel not in new_channels and (account_id in added or account_id in enrolled)
        vouched = (
            (channel, account_id) in requested
            or (channel, account_id) in confirmed
            or (channel, account_id) in added_to
            or legacy
        )
        if not vouched:
            return (
                f"the {state} membership of account {account_id} in {name} has no audit entry that"
                " made it: it was written outside the portal"
            )
        asked = (channel, account_id) in requested or (legacy and account_id in enrolled)
        if state == "pending" and not asked:
            return (
                f"account {account_id} waits to join {name}, but no request for it is in the audit"
                " log: its membership was changed outside the portal"
            )
        if state == "confirmed" and (channel, account_id) in requested and not (
            (channel, account_id) in confirmed or (channel, account_id) in added_to or legacy
        ):
            return (
                f"account {account_id} was asked to join {name} but no officer's confirmation is"
                " in the audit log: its membership was confirmed outside the portal"
            )
    return None


def made_with_roster(ctx: Context, channel_id: int) -> bool:
    """Was the channel made since signed rosters, as its audited `channel_add` entry says?"""
    return any(
        c == channel_id and json.loads(detail or "{}").get("roster") is True
        for _, _, _, c, detail in _entries(ctx, "channel_add")
    )


def holder_gone(ctx: Context, channel_id: int, holder: int | None) -> bool:
    """Has the root holder left the channel, as the audit log records it (offboarded, or removed
    from the channel)? A membership row changed in the database alone is no departure."""
    if holder is None:
        return True
    return any(s == holder for _, _, s, _, _ in _entries(ctx, "offboard")) or any(
        s == holder and c == channel_id for _, _, s, c, _ in _entries(ctx, "membership_remove")
    )


def _recovery_problem(ctx: Context) -> str | None:
    set_for = {c for _, _, _, c, _ in _entries(ctx, "recovery_key_set")}
    for channel_id, name in ctx.db.execute(
        "SELECT id, name FROM channels WHERE recovery_public_key IS NOT NULL ORDER BY id"
    ).fetchall():
        if channel_id not in set_for:
            return (
                f"the recovery key of {name} has no audit entry that set it: it was written outside"
                " the portal"
            )
    return None


def _grant_problem(ctx: Context) -> str | None:
    """Each grant the audit log records still has its copy, unless a later offboarding or removal
    from the case's channel took it (a copy deleted, or the grant's entry written, outside)."""
    gone: dict[int, list[tuple[int, int | None]]] = {}
    for event in ("offboard", "membership_remove"):
        for seq, _actor, subject, channel_id, _ in _entries(ctx, event):
            gone.setdefault(subject, []).append((seq, None if event == "offboard" else channel_id))
    for seq, _actor, subject, _channel, _ in sorted(_entries(ctx, "grant")):
        ref = ctx.db.execute("SELECT case_ref FROM audit_log WHERE seq = ?", [seq]).fetchone()[0]
        case = ctx.db.execute("SELECT id, channel_id FROM cases WHERE ref = ?", [ref]).fetchone()
        if case is None:
            continue  # deleted after its retention period, audited as such
        taken = gone.get(subject, ())
        if any(later > seq and channel in (None, case[1]) for later, channel in taken):
            continue
        held = ctx.db.execute(
            "SELECT 1 FROM case_keys WHERE case_id = ? AND account_id = ?", [case[0], subject]
        ).fetchone()
        if held is None:
            return (
                f"audit entry {seq} records that account {subject} was given case {ref}, but they"
                " hold no copy of its key: it was deleted outside the portal"
            )
    return None


def first_disagreement(ctx: Context) -> str | None:
    """The first record of memberships, grants, recovery keys or rosters that the audit chain and
    the signed rosters do not vouch for, or None when all agree."""
    return (
        _roster_problem(ctx)
        or membership_problem(ctx)
        or _grant_problem(ctx)
        or _recovery_problem(ctx)
    )

"""Both organisations' side of a channel moved between organisations of a service (issue 29;
docs/organisations.md, "Moving a channel"; migration 49).

Sending side: each receiving officer is an account row here holding their public halves only (no
wrapped private key, a second factor nobody was shown: it can never sign in), a pending member
of the channel (`add_visitor`). One of the channel's own officers confirms it at
/console/memberships after comparing fingerprints, which signs an `admit` into the channel's
roster in their session (portal.keys.memberships), and gives it every case of the channel at
/console/access (portal.keys.access.grant): the server alone can do neither.

Receiving side: a move asked into a channel (`ask`) waits until one of its officers names the
sending channel's roster head they were shown by its officers (`confirm`). The move itself
(portal.service.channel_moves) goes ahead only while that head is still the sending roster's.
"""

from __future__ import annotations

import hmac
import re
from dataclasses import dataclass

from crypto import roster as signed
from portal.core.clock import today
from portal.core.context import Context
from portal.core.words import N_
from portal.keys import accounts, channels, roster, second_factor
from portal.records import audit
from portal.store import transaction


class ArrivalNotFound(Exception):
    """No move waiting for this officer's confirmation (answered like a missing page)."""


class WrongHead(ValueError):
    """What was typed is not a roster head (16 hex digits, as the roster page shows it)."""


@dataclass(frozen=True)
class Arrival:
    id: str
    channel_id: int
    channel_name: str
    from_channel: str
    asked_day: str


_HEAD = re.compile(r"[0-9a-f]{16}")


def normalise_head(text: str) -> str:
    """A roster head as typed (spaces ignored, any case) in the form `roster.head_words` gives
    it. Raises WrongHead."""
    digits = re.sub(r"\s+", "", text or "").lower()
    if not _HEAD.fullmatch(digits):
        raise WrongHead()
    return digits


def add_visitor(
    ctx: Context,
    move_id: str,
    channel_id: int,
    *,
    name: str,
    email: str,
    public_key: bytes,
    signing_key: bytes,
) -> int:
    """Inside the caller's transaction, in the sending organisation: the receiving officer's
    account row (public halves only) and a pending membership of the channel. Returns its id.
    Raises accounts.AccountError when the address is an account here already."""
    signed.check_x25519_public(public_key)
    signed.check_ed25519_public(signing_key)
    if accounts.get_account_by_email(ctx, email) is not None:
        raise accounts.AccountError(N_("That address is an account of this organisation already."))
    account_id = accounts.insert_account(
        ctx,
        email=email,
        name=name,
        key=accounts.name_key(name),
        role="officer",
        public_key=public_key,
        wrapped=b"",  # no private half here: this row can never sign in
        totp_secret=second_factor.new_secret(),
        must_change_credentials=False,
    )
    ctx.db.execute(
        "UPDATE accounts SET signing_public_key = ?, daily_digest = 0 WHERE id = ?",
        [signing_key, account_id],
    )
    ctx.db.execute(
        "INSERT INTO channel_officers (channel_id, account_id, state) VALUES (?, ?, 'pending')",
        [channel_id, account_id],
    )
    ctx.db.execute(
        "INSERT INTO visiting_officers (account_id, move_id, channel_id) VALUES (?, ?, ?)",
        [account_id, move_id, channel_id],
    )
    channels.record_membership_event(
        ctx,
        channel_id,
        f"{name} <{email}>",
        N_("asked to join from the organisation the channel moves to: compare their fingerprint"),
        channels.BY_OPERATOR,
    )
    audit.record(
        ctx, "channel_move_visitor", actor=None, subject=account_id, channel=channel_id,
        detail={"move": move_id},
    )
    return account_id


def visitors(ctx: Context, move_id: str) -> list[accounts.Account]:
    """The receiving officers' account rows in the sending organisation, for this move."""
    rows = ctx.db.execute(
        "SELECT account_id FROM visiting_officers WHERE move_id = ? ORDER BY account_id",
        [move_id],
    ).fetchall()
    return [accounts.get_account(ctx, account_id) for (account_id,) in rows]


def ask(ctx: Context, move_id: str, channel_id: int, from_organisation: str, from_channel: str):
    """Inside the caller's transaction, in the receiving organisation: a move asked into the
    channel, waiting for one of its officers to confirm (`confirm`)."""
    ctx.db.execute(
        "INSERT INTO channel_arrivals (id, channel_id, from_organisation, from_channel, asked_day)"
        " VALUES (?, ?, ?, ?, ?)",
        [move_id, channel_id, from_organisation, from_channel, today(ctx.settings.timezone)],
    )
    audit.record(
        ctx, "channel_arrival_ask", actor=None, channel=channel_id, detail={"move": move_id}
    )


def pending_for(ctx: Context, officer: accounts.Account) -> list[Arrival]:
    """Moves asked into a channel this officer reads (its roster admits them), not confirmed."""
    rows = ctx.db.execute(
        "SELECT m.id, m.channel_id, ch.name, m.from_channel, m.asked_day FROM channel_arrivals m"
        " JOIN channels ch ON ch.id = m.channel_id WHERE m.state = 'asked' ORDER BY m.asked_day",
    ).fetchall()
    return [
        Arrival(*row)
        for row in rows
        if any(o.id == officer.id for o in channels.channel_officers(ctx, row[1]))
        and roster.load(ctx, row[1]).admits(officer)
    ]


def confirm(ctx: Context, officer: accounts.Account, move_id: str, head_text: str) -> None:
    """The officer confirms the move, naming the sending channel's roster head they were shown
    (its officers read it on their roster page). Raises WrongHead or ArrivalNotFound."""
    head = normalise_head(head_text)
    with transaction(ctx.db):
        match = [a for a in pending_for(ctx, officer) if a.id == move_id]
        if not match:
            raise ArrivalNotFound()
        ctx.db.execute(
            "UPDATE channel_arrivals SET state = 'confirmed', roster_head = ?, confirmed_by = ?,"
            " confirmed_day = ? WHERE id = ?",
            [head, officer.id, today(ctx.settings.timezone), move_id],
        )
        audit.record(
            ctx, "channel_arrival_confirm", actor=officer.id, channel=match[0].channel_id,
            detail={"move": move_id, "roster_head": head},
        )


def confirmed_head(ctx: Context, move_id: str) -> str | None:
    """The roster head the receiving officer confirmed for this move, or None if not confirmed."""
    row = ctx.db.execute(
        "SELECT roster_head FROM channel_arrivals WHERE id = ? AND state IN ('confirmed', 'done')",
        [move_id],
    ).fetchone()
    return row[0] if row else None


def heads_match(confirmed: str | None, current: str | None) -> bool:
    """Whether the confirmed head is the sending roster's current one (constant time)."""
    if not confirmed or not current:
        return False
    return hmac.compare_digest(confirmed.encode(), current.encode())

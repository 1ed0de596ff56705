"""Channels: the routes a disclosure takes to its officers, with their statutory regime, their
confirmed readers and the notes of membership changes officers see.
"""

from __future__ import annotations

from dataclasses import dataclass

from portal.core.clock import today
from portal.core.context import Context
from portal.core.words import N_, Sentence
from portal.guard import submissions
from portal.keys import roster
from portal.keys.accounts import Account, AccountError
from portal.records import audit
from portal.store import transaction

REGIMES = ("nz", "eu")  # the statutory clock a channel follows: see portal.casework.deadlines


@dataclass(frozen=True)
class Channel:
    id: int
    name: str
    description: str
    regime: str = "nz"


def _channel(row) -> Channel:
    return Channel(id=row[0], name=row[1], description=row[2], regime=row[3])


def add_channel(
    ctx: Context,
    name: str,
    description: str = "",
    regime: str = "nz",
    *,
    actor: int | None = None,
    submission_token: str | None = None,
) -> Channel:
    """Add a channel (`actor`: the administrator, None at the command line); recorded in the audit
    log. `regime` is 'nz' (the 2022 Act's 20 working days) or 'eu' (the Directive's clocks).

    Raises AccountError, or submissions.AlreadySubmitted for a resent form."""
    name = name.strip()
    if not name:
        raise AccountError(N_("A channel needs a name."))
    if regime not in REGIMES:
        raise AccountError(N_("The regime must be 'nz' or 'eu'."))
    with transaction(ctx.db):
        submissions.claim(ctx.db, submission_token, today(ctx.settings.timezone))
        if ctx.db.execute("SELECT 1 FROM channels WHERE name = ?", [name]).fetchone():
            raise AccountError(
                Sentence(N_("A channel named %(name)s already exists."), name=repr(name))
            )
        (channel_id,) = ctx.db.execute(
            "INSERT INTO channels (name, description, regime) VALUES (?, ?, ?) RETURNING id",
            [name, description, regime],
        ).fetchone()
        # "roster": made since signed rosters, so its first officer's first sign-in may start its
        # roster by itself (portal.keys.roster_work); the chain vouches for the flag.
        audit.record(
            ctx, "channel_add", actor=actor, channel=channel_id, detail={"roster": True}
        )
    return Channel(id=channel_id, name=name, description=description, regime=regime)


def list_channels(ctx: Context, *, with_officers_only: bool = False) -> list[Channel]:
    sql = "SELECT id, name, description, regime FROM channels"
    if with_officers_only:
        sql += (
            " WHERE EXISTS (SELECT 1 FROM channel_officers co WHERE co.channel_id = channels.id AND"
            " co.state = 'confirmed')"
        )
    return [_channel(row) for row in ctx.db.execute(sql + " ORDER BY name").fetchall()]


def find_channel(ctx: Context, name: str) -> Channel | None:
    """The channel named exactly `name` (surrounding spaces aside), else None.

    A channel is identified by its name alone, everywhere: the disclosure form's select offers
    names, the CLI takes names. Never also by id, or a channel named "2" and the channel with id 2
    could be confused.
    """
    row = ctx.db.execute(
        "SELECT id, name, description, regime FROM channels WHERE name = ?", [(name or "").strip()]
    ).fetchone()
    return _channel(row) if row else None


def channel_officers(ctx: Context, channel_id: int) -> list[Account]:
    """The channel's readers: its officers whose membership is confirmed (pending ones receive
    nothing)."""
    rows = ctx.db.execute(
        "SELECT a.id, a.email, a.name, a.role, a.public_key, a.signing_public_key FROM accounts a"
        " JOIN channel_officers"
        " co ON co.account_id = a.id WHERE co.channel_id = ? AND co.state = 'confirmed' AND a.role"
        " = 'officer' AND a.offboarded_day IS NULL ORDER BY a.name",
        [channel_id],
    ).fetchall()
    return [Account(*row) for row in rows]


def readers_by_channel(ctx: Context) -> dict[int, list[str]]:
    """For the disclosure form: each channel's readers' display names, so a discloser can choose.
    Only officers the channel's signed roster admits are named: nobody else would receive it."""
    readers: dict[int, list[str]] = {}
    for channel in list_channels(ctx):
        admitted = roster.seal_readers(ctx, channel.id, channel_officers(ctx, channel.id))
        if admitted:
            readers[channel.id] = [officer.name for officer in admitted]
    return readers


def resolve_channels(ctx: Context, channels, *, required: bool) -> list[Channel]:
    if required and not channels:
        raise AccountError(N_("An officer needs at least one channel."))
    found = [find_channel(ctx, c) for c in channels]
    missing = [c for c, ch in zip(channels, found) if ch is None]
    if missing:
        raise AccountError(Sentence(N_("No such channel: %(names)s."), names=", ".join(missing)))
    return found


# Who made a change at the command line, as membership records name them ("... (by the server's
# operator, at the command line)").
BY_OPERATOR = N_("the server's operator, at the command line")


def record_membership_event(
    ctx: Context, channel_id: int, subject: str, action: str, actor: str
) -> None:
    """Note a membership change for the channel's officers to see (inside the caller's
    transaction)."""
    ctx.db.execute(
        "INSERT INTO membership_events (channel_id, subject, action, actor, day) VALUES (?, ?, ?,"
        " ?, ?)",
        [channel_id, subject, action, actor, today(ctx.settings.timezone)],
    )

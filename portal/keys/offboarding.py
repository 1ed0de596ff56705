"""Offboarding from the administrators' console: the administrator proposes, an officer signs.

An administrator's request to offboard an officer stays pending (migration 32) until an officer
who reads one of that officer's channels signs it on the roster page, where they sign the roster's
other removals. Signing it offboards the officer (portal.keys.access.offboard: every sealed copy
deleted, the private key destroyed) and signs their removal from the roster of each channel the
signer reads (portal.keys.roster_work), so nobody takes a reader away alone, as nobody adds one
alone (portal.keys.memberships). `portal officer offboard` on the server stays the operator's
way, for an officer whom no fellow officer can vouch for.
"""

from __future__ import annotations

from dataclasses import dataclass

from portal.core.clock import today
from portal.core.context import Context
from portal.core.words import N_, Sentence
from portal.keys import access, accounts, channels, roster_work
from portal.keys.accounts import Account, AccountError
from portal.records import audit
from portal.store import transaction


class NoSuchRequest(Exception):
    """No pending offboarding that this officer may sign (answered like a missing page)."""


@dataclass(frozen=True)
class OffboardingRequest:
    account_id: int
    name: str
    email: str
    day: str  # YYYY-MM-DD, when the administrator asked
    channels: list[str]  # names of the channels the officer reads, whose officers may sign
    channel_ids: list[int]  # the same channels' ids


def _channel_ids(ctx: Context, account_id: int) -> list[int]:
    rows = ctx.db.execute(
        "SELECT channel_id FROM channel_officers WHERE account_id = ? AND state = 'confirmed'"
        " ORDER BY channel_id",
        [account_id],
    ).fetchall()
    return [row[0] for row in rows]


def _signers(ctx: Context, account_id: int) -> set[int]:
    """Who may sign: the other confirmed officers of the officer's channels."""
    return {
        officer.id
        for channel_id in _channel_ids(ctx, account_id)
        for officer in channels.channel_officers(ctx, channel_id)
        if officer.id != account_id
    }


def propose(ctx: Context, admin: Account, account_id: int) -> Account:
    """An administrator asks for an officer to be offboarded; pending until a fellow officer signs.
    Returns the officer. Raises AccountError (not an officer, gone already, asked already, or no
    fellow officer who could sign). Audited, and listed to the officer's channels."""
    officer = accounts.get_account(ctx, account_id)
    if officer is None or officer.role != "officer" or accounts.is_offboarded(ctx, account_id):
        raise AccountError(N_("Choose an officer who has not left."))
    with transaction(ctx.db):
        if ctx.db.execute(
            "SELECT 1 FROM offboarding_requests WHERE account_id = ?", [account_id]
        ).fetchone():
            raise AccountError(Sentence(
                N_("Offboarding %(who)s is already waiting for an officer."), who=officer.name
            ))
        if not _signers(ctx, account_id):
            raise AccountError(Sentence(N_(
                "No other officer reads a channel of %(who)s's, so nobody could sign. The server's"
                " operator offboards them with `portal officer offboard`."
            ), who=officer.name))
        ctx.db.execute(
            "INSERT INTO offboarding_requests (account_id, requested_by, day) VALUES (?, ?, ?)",
            [account_id, admin.id, today(ctx.settings.timezone)],
        )
        for channel_id in _channel_ids(ctx, account_id):
            channels.record_membership_event(
                ctx,
                channel_id,
                f"{officer.name} <{officer.email}>",
                N_("to be offboarded: waiting for an officer of the channel to sign"),
                f"administrator {admin.name} <{admin.email}>",
            )
        audit.record(ctx, "offboard_request", actor=admin.id, subject=account_id)
    return officer


def withdraw(ctx: Context, admin: Account, account_id: int) -> None:
    """The administrator takes back a request nobody has signed yet. Raises NoSuchRequest."""
    with transaction(ctx.db):
        gone = ctx.db.execute(
            "DELETE FROM offboarding_requests WHERE account_id = ?", [account_id]
        ).rowcount
        if not gone:
            raise NoSuchRequest()
        audit.record(ctx, "offboard_withdraw", actor=admin.id, subject=account_id)


def _requests(ctx: Context) -> list[OffboardingRequest]:
    rows = ctx.db.execute(
        "SELECT a.id, a.name, a.email, r.day FROM offboarding_requests r JOIN accounts a ON"
        " a.id = r.account_id WHERE a.offboarded_day IS NULL ORDER BY r.day, a.name"
    ).fetchall()
    names = {c.id: c.name for c in channels.list_channels(ctx)}
    found = []
    for i, name, email, day in rows:
        ids = _channel_ids(ctx, i)
        found.append(OffboardingRequest(i, name, email, day, [names[c] for c in ids], ids))
    return found


def pending(ctx: Context) -> list[OffboardingRequest]:
    """Every request waiting for a signature (for the administrators' console)."""
    return _requests(ctx)


def pending_for(ctx: Context, officer: Account) -> list[OffboardingRequest]:
    """The requests this officer may sign: for fellow officers of a channel they read."""
    if officer.role != "officer":
        return []
    return [r for r in _requests(ctx) if officer.id in _signers(ctx, r.account_id)]


def sign(ctx: Context, officer: Account, signing_seed: bytes, account_id: int) -> int:
    """A fellow officer signs a pending request: the officer is offboarded (access.offboard) and
    their removal is signed into the roster of each channel the signer reads. Returns how many
    sealed copies were deleted. Raises NoSuchRequest, or access.LastReader while a case could be
    read by nobody else (the request then stays)."""
    if account_id not in {r.account_id for r in pending_for(ctx, officer)}:
        raise NoSuchRequest()
    deleted = access.offboard(ctx, account_id, actor=officer.id)
    with transaction(ctx.db):
        ctx.db.execute("DELETE FROM offboarding_requests WHERE account_id = ?", [account_id])
    for item in roster_work.pending_for(ctx, officer):
        if item.kind == "remove" and item.officer_id == account_id:
            roster_work.sign_pending(
                ctx, officer, signing_seed, item.channel_id, account_id, "remove"
            )
    return deleted

"""Continuity without escrow (SECURITY.md, "Key lifecycle"): each channel's recovery key.

The key pair is made offline (`portal recovery-key new`, crypto.new_recovery_key) and its private
half leaves that machine only as SLIP-39 shares for custodians. The server keeps the public half
(`channels.recovery_public_key`, once an officer of the channel has confirmed it:
portal.keys.recovery_requests) and, for every case of the channel, a copy of each of the case's
keys sealed to it (`recovery_copies`: the case key and the keys of
internal_keys.OFFICER_SEALED_TABLES). When an officer's key is lost (a forgotten passphrase, a
departed officer), the custodians bring the threshold of shares to `portal channel recover`, which
joins them in memory, re-seals the channel's cases to a confirmed officer of the channel (never to
one the discloser excluded), and forgets them at once.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field

import crypto
from portal.core.context import Context
from portal.keys import access, accounts, channels, roster
from portal.records import audit
from portal.store import transaction


class RecoveryError(ValueError):
    """A recovery request that cannot be carried out; the message says why."""


def parse_public_key(text: str) -> bytes:
    """The public half as printed by `portal recovery-key new` (64 hexadecimal characters)."""
    try:
        key = bytes.fromhex(text.strip())
    except ValueError:
        key = b""
    if len(key) != 32:
        raise RecoveryError(
            "The recovery public key must be the 64 hexadecimal characters printed by "
            "`portal recovery-key new`."
        )
    try:
        crypto.seal_to(key, b"\0" * 32)  # a low-order point (all zeros, ...) cannot be sealed to
    except RuntimeError:
        raise RecoveryError(
            "That is not a usable public key: copy the one `portal recovery-key new` printed."
        ) from None
    return key


def channel_key(ctx: Context, channel_id: int) -> bytes | None:
    row = ctx.db.execute(
        "SELECT recovery_public_key FROM channels WHERE id = ?", [channel_id]
    ).fetchone()
    return row[0] if row else None


def _channel(ctx: Context, name: str) -> channels.Channel:
    channel = channels.find_channel(ctx, name)
    if channel is None:
        raise RecoveryError("There is no such channel.")
    return channel


def seal_case(ctx: Context, channel_id: int, case_id: str, keys: dict[str, bytes]) -> bool:
    """Seal a case's keys ({table: key}) to its channel's recovery key, if it has one; in the
    caller's transaction (a new disclosure's, so that no case of such a channel exists without its
    copies).
    """
    # Only a recovery key the channel's signed roster admits (portal.keys.roster).
    public_key = roster.admitted_recovery_key(ctx, channel_id, channel_key(ctx, channel_id))
    if public_key is None:
        return False
    for table, key in keys.items():
        ctx.db.execute(
            "INSERT OR REPLACE INTO recovery_copies (case_id, key_table, sealed_key) VALUES (?,"
            " ?, ?)",
            [case_id, table, crypto.seal_to(public_key, key)],
        )
    return True


def unsealed_cases(ctx: Context, channel_id: int) -> list[str]:
    """Ids of the channel's cases without a recovery copy of their case key."""
    return [
        row[0]
        for row in ctx.db.execute(
            "SELECT id FROM cases c WHERE channel_id = ? AND NOT EXISTS (SELECT 1 FROM"
            " recovery_copies r WHERE r.case_id = c.id AND r.key_table = ?) ORDER BY id",
            [channel_id, access.CASE_KEYS],
        ).fetchall()
    ]


@dataclass(frozen=True)
class Unsealed:
    channel_id: int
    channel_name: str
    readable: int  # of the channel's cases without a recovery copy, those this officer reads
    others: int  # the rest, for another reader to seal


def unsealed_for(ctx: Context, officer: accounts.Account) -> list[Unsealed]:
    """The channels this officer reads that have a (confirmed) recovery key and cases without a
    recovery copy: how many of those the officer reads and may seal (`seal_existing`)."""
    rows = ctx.db.execute(
        "SELECT ch.id, ch.name FROM channels ch JOIN channel_officers mine ON mine.channel_id ="
        " ch.id AND mine.account_id = ? AND mine.state = 'confirmed' WHERE"
        " ch.recovery_public_key IS NOT NULL ORDER BY ch.name",
        [officer.id],
    ).fetchall()
    found = []
    for channel_id, name in rows:
        waiting = unsealed_cases(ctx, channel_id)
        readable = sum(1 for case_id in waiting if access.is_reader(ctx, case_id, officer.id))
        if waiting:
            found.append(Unsealed(channel_id, name, readable, len(waiting) - readable))
    return found


def seal_existing(
    ctx: Context,
    officer: accounts.Account,
    private_key: bytes,
    channel_id: int,
    *,
    batch_size: int = 50,
) -> tuple[int, int]:
    """The signed-in officer (`private_key` from their console session, never a passphrase typed on
    the server) seals the keys of the channel's earlier cases that they read to its confirmed
    recovery key, `batch_size` cases per transaction. Returns (sealed, left: cases without a copy
    this officer cannot read, for another reader to seal). Raises RecoveryError. Audited."""
    if not any(o.id == officer.id for o in channels.channel_officers(ctx, channel_id)):
        raise RecoveryError("You do not read that channel.")
    if channel_key(ctx, channel_id) is None:
        raise RecoveryError("That channel has no confirmed recovery key yet.")
    waiting = unsealed_cases(ctx, channel_id)
    sealed = left = 0
    for start in range(0, len(waiting), max(1, batch_size)):
        with transaction(ctx.db):
            for case_id in waiting[start : start + max(1, batch_size)]:
                try:
                    keys = access.held_keys(ctx, case_id, officer.id, private_key)
                except crypto.DecryptionError:
                    keys = {}
                if not keys:
                    left += 1
                    continue
                seal_case(ctx, channel_id, case_id, keys)
                sealed += 1
    with transaction(ctx.db):
        audit.record(
            ctx,
            "recovery_sealed",
            actor=officer.id,
            channel=channel_id,
            detail={"cases": sealed, "left": left},
        )
    return sealed, left


@dataclass
class Recovered:
    granted: list[str] = field(default_factory=list)  # references now readable by the officer
    excluded: list[str] = field(
        default_factory=list
    )  # skipped: the discloser excluded that officer
    already: int = 0
    without_copy: int = 0  # cases never sealed to the recovery key


def recover(ctx: Context, channel_name: str, officer_email: str, shares: list[str]) -> Recovered:
    """Join the custodians' shares into the channel's recovery private key (in memory only), and
    re-seal each of the channel's cases to a confirmed officer of the channel, skipping cases that
    exclude them. The joined key is dropped before this returns, whatever happens. Audited
    ("recovery_used").

    Raises RecoveryError (no such channel or officer, no recovery key, shares of another key) or
    crypto.RecoveryShareError (too few shares, a mistyped one)."""
    channel = _channel(ctx, channel_name)
    public_key = channel_key(ctx, channel.id)
    if public_key is None:
        raise RecoveryError(f"{channel.name} has no recovery key.")
    officer = next(
        (
            o
            for o in channels.channel_officers(ctx, channel.id)
            if o.email.casefold() == officer_email.strip().casefold()
        ),
        None,
    )
    if officer is None:
        raise RecoveryError(
            f"{officer_email.strip()} is not a confirmed officer of {channel.name}."
        )
    if not roster.load(ctx, channel.id).admits(officer):
        raise RecoveryError(
            f"The signed roster of {channel.name} does not admit {officer_email.strip()}'s key: an"
            " officer of the channel must sign their admission first."
        )
    private_key = crypto.recovery_private_key(shares)
    shares.clear()
    try:
        if not hmac.compare_digest(crypto.public_key_of(private_key), public_key):
            raise RecoveryError(
                f"These shares make a recovery key, but not the one of {channel.name}."
            )
        return _reseal_to(ctx, channel, officer, private_key)
    finally:
        del private_key


def _reseal_to(
    ctx: Context, channel: channels.Channel, officer: accounts.Account, private_key: bytes
) -> Recovered:
    result = Recovered()
    with transaction(ctx.db):
        rows = ctx.db.execute(
            "SELECT c.id, c.ref, r.key_table, r.sealed_key FROM cases c LEFT JOIN recovery_copies r"
            " ON r.case_id = c.id WHERE c.channel_id = ? ORDER BY c.received_day, c.ref",
            [channel.id],
        ).fetchall()
        copies: dict[tuple[str, str], dict[str, bytes]] = {}
        for case_id, ref, table, sealed in rows:
            copies.setdefault((case_id, ref), {})
            if table is not None:
                copies[(case_id, ref)][table] = crypto.open_sealed(private_key, sealed)
        for (case_id, ref), keys in copies.items():
            if access.CASE_KEYS not in keys:
                result.without_copy += 1
                continue
            excluded = access.excluded_ids(ctx, case_id, keys)
            if officer.id in excluded or None in excluded:
                result.excluded.append(ref)
                continue
            renewing = access.is_reader(ctx, case_id, officer.id)
            # An officer who reads it already gets copies they can open (theirs may be the lost
            # ones).
            access.seal_keys_to(ctx, case_id, keys, officer)
            if renewing:
                result.already += 1
            else:
                result.granted.append(ref)
        # Not how many cases exclude the officer: the entry names them, so they would read it (the
        # command's output tells the operator).
        audit.record(
            ctx,
            "recovery_used",
            actor=None,
            subject=officer.id,
            channel=channel.id,
            detail={
                "cases": len(result.granted),
                "renewed": result.already,
                "without_copy": result.without_copy,
            },
        )
    return result

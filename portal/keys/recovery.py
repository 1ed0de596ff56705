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
import time
from dataclasses import dataclass, field
from typing import Callable

import crypto
from portal.core.context import Context
from portal.keys import access, accounts, channels, roster
from portal.records import audit
from portal.store import progress, transaction

RECOVER = "recover"  # progress kind: a channel's cases re-sealed to an officer with the shares
SEAL = "seal_recovery"  # progress kind: a channel's earlier cases sealed to its recovery key


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
    public_key = admitted_key(ctx, channel_id)
    if public_key is None:
        return False
    store_copies(ctx, case_id, {t: crypto.seal_to(public_key, key) for t, key in keys.items()})
    return True


def admitted_key(ctx: Context, channel_id: int) -> bytes | None:
    """The channel's recovery public key, if its signed roster admits it (portal.keys.roster)."""
    return roster.admitted_recovery_key(ctx, channel_id, channel_key(ctx, channel_id))


def store_copies(ctx: Context, case_id: str, sealed: dict[str, bytes]) -> None:
    """A case's keys as sealed to its channel's recovery key ({table: sealed secret}), sealed here
    or in the discloser's browser (portal.intake.sealed); in the caller's transaction."""
    for table, sealed_key in sealed.items():
        ctx.db.execute(
            "INSERT INTO recovery_copies (case_id, key_table, sealed_key) VALUES (?, ?, ?)"
            " ON CONFLICT (case_id, key_table) DO UPDATE SET sealed_key = excluded.sealed_key",
            [case_id, table, sealed_key],
        )


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


def _case_ids(
    ctx: Context, channel_id: int, cursor: str, limit: int, *, unsealed: bool = False
) -> list[str]:
    """The next at most `limit` ids of the channel's cases after `cursor`, in id order (only those
    without a recovery copy of their case key with `unsealed`): progress.run's `next_ids`."""
    without = (
        " AND NOT EXISTS (SELECT 1 FROM recovery_copies r WHERE r.case_id = c.id AND"
        " r.key_table = 'case_keys')"
        if unsealed
        else ""
    )
    return [
        row[0]
        for row in ctx.db.execute(
            f"SELECT c.id FROM cases c WHERE c.channel_id = ? AND c.id > ?{without}"
            " ORDER BY c.id LIMIT ?",
            [channel_id, cursor, limit],
        )
    ]


def seal_existing(
    ctx: Context,
    officer: accounts.Account,
    private_key: bytes,
    channel_id: int,
    *,
    seconds: float | None = None,
) -> tuple[int, int, progress.Progress]:
    """The signed-in officer (`private_key` from their console session, never a passphrase typed on
    the server) seals the keys of the channel's earlier cases that they read to its confirmed
    recovery key, at most progress.BATCH_CASES cases per transaction, each batch audited
    ("recovery_sealed") in its own transaction. With `seconds`, it stops after the batch that passes
    that time; the next call carries on after the last case done (portal.store.progress). Returns
    (sealed, left: cases without a copy this officer cannot read, for another reader to seal, and
    how far it got). Raises RecoveryError."""
    if not any(o.id == officer.id for o in channels.channel_officers(ctx, channel_id)):
        raise RecoveryError("You do not read that channel.")
    if channel_key(ctx, channel_id) is None:
        raise RecoveryError("That channel has no confirmed recovery key yet.")
    deadline = None if seconds is None else time.monotonic() + seconds
    scope = f"{channel_id}:{officer.id}"
    resuming = progress.load(ctx.db, SEAL, scope) is not None
    total = 0 if resuming else len(unsealed_cases(ctx, channel_id))
    op = progress.begin(ctx.db, SEAL, scope, officer.id, total)

    def handle(case_id: str) -> tuple[str, str | None]:
        try:
            keys = access.held_keys(ctx, case_id, officer.id, private_key)
        except crypto.DecryptionError:
            keys = {}
        if not keys or not seal_case(ctx, channel_id, case_id, keys):
            return "left", None
        return "sealed", None

    def after_batch(batch: dict[str, int], _: progress.Progress) -> None:
        audit.record(
            ctx,
            "recovery_sealed",
            actor=officer.id,
            channel=channel_id,
            detail={"cases": batch.get("sealed", 0), "left": batch.get("left", 0)},
        )

    op = progress.run(
        ctx.db,
        op,
        lambda cursor, limit: _case_ids(ctx, channel_id, cursor, limit, unsealed=True),
        handle,
        after_batch=after_batch,
        deadline=deadline,
    )
    return op.counts.get("sealed", 0), op.counts.get("left", 0), op


@dataclass
class Recovered:
    granted: list[str] = field(default_factory=list)  # references now readable by the officer
    excluded: list[str] = field(
        default_factory=list
    )  # skipped: the discloser excluded that officer
    already: int = 0
    without_copy: int = 0  # cases never sealed to the recovery key
    granted_before: int = 0  # by an earlier run of the same recovery that stopped part way
    state: progress.Progress | None = None  # how far it got (finished, or resumed from)


def recover(
    ctx: Context,
    channel_name: str,
    officer_email: str,
    shares: list[str],
    *,
    report: Callable[[progress.Progress], None] | None = None,
) -> Recovered:
    """Join the custodians' shares into the channel's recovery private key (in memory only), and
    re-seal each of the channel's cases to a confirmed officer of the channel, skipping cases that
    exclude them. The joined key is dropped before this returns, whatever happens.

    At most progress.BATCH_CASES cases per transaction, each batch audited ("recovery_used") in
    its own transaction; `report(progress)` after each. A recovery that was interrupted carries on
    after the last case it did when run again for the same channel and officer (no case twice).

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
        return _reseal_to(ctx, channel, officer, private_key, report)
    finally:
        del private_key


def recovery_under_way(ctx: Context, channel_id: int, officer_id: int) -> progress.Progress | None:
    """An interrupted recovery of the channel to this officer, to carry on."""
    return progress.load(ctx.db, RECOVER, f"{channel_id}:{officer_id}")


def _reseal_to(
    ctx: Context,
    channel: channels.Channel,
    officer: accounts.Account,
    private_key: bytes,
    report: Callable[[progress.Progress], None] | None,
) -> Recovered:
    total = ctx.db.execute(
        "SELECT COUNT(*) FROM cases WHERE channel_id = ?", [channel.id]
    ).fetchone()[0]
    op = progress.begin(ctx.db, RECOVER, f"{channel.id}:{officer.id}", None, total)
    result = Recovered(excluded=list(op.skipped), state=op)
    before = op.counts.get("granted", 0)

    def handle(case_id: str) -> tuple[str, str | None]:
        rows = ctx.db.execute(
            "SELECT c.ref, r.key_table, r.sealed_key FROM cases c LEFT JOIN recovery_copies r"
            " ON r.case_id = c.id WHERE c.id = ?",
            [case_id],
        ).fetchall()
        ref = rows[0][0]
        keys = {
            table: crypto.open_sealed(private_key, sealed)
            for _, table, sealed in rows
            if table is not None
        }
        if access.CASE_KEYS not in keys:
            return "without_copy", None
        excluded = access.excluded_ids(ctx, case_id, keys)
        if officer.id in excluded or None in excluded:
            result.excluded.append(ref)
            return "excluded", ref
        renewing = access.is_reader(ctx, case_id, officer.id)
        # An officer who reads it already gets copies they can open (theirs may be the lost ones).
        access.seal_keys_to(ctx, case_id, keys, officer)
        if renewing:
            return "renewed", None
        result.granted.append(ref)
        return "granted", None

    def after_batch(batch: dict[str, int], _: progress.Progress) -> None:
        # Not how many cases exclude the officer: the entry names them, so they would read it (the
        # command's output tells the operator).
        audit.record(
            ctx,
            "recovery_used",
            actor=None,
            subject=officer.id,
            channel=channel.id,
            detail={
                "cases": batch.get("granted", 0),
                "renewed": batch.get("renewed", 0),
                "without_copy": batch.get("without_copy", 0),
            },
        )

    if total == 0:  # nothing to re-seal, but the key was used
        with transaction(ctx.db):
            after_batch({}, op)
    op = progress.run(
        ctx.db,
        op,
        lambda cursor, limit: _case_ids(ctx, channel.id, cursor, limit),
        handle,
        after_batch=after_batch,
        report=report,
    )
    result.already = op.counts.get("renewed", 0)
    result.without_copy = op.counts.get("without_copy", 0)
    result.granted_before = before
    result.state = op
    return result

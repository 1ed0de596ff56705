"""A lost root holder: the recovery custodians hand the root on (issue 21; SECURITY.md, "Signed
roster").

When the officer who holds a channel's roster root is gone and no majority of the other readers can
sign (portal.keys.roster_handover), a quorum of the channel's recovery custodians may: their shares
make the recovery secret, from which the custodians' Ed25519 key is derived
(crypto.roster.custodians_signing_seed). If the roster's recovery statement carries that key
(`portal channel set-recovery --custodians-key`, confirmed by an officer), it signs a `handover` of
the root to a reader the roster admits (`portal roster hand-over`). The secret and the seed are
dropped before this returns, whatever happens.
"""

from __future__ import annotations

import hmac

import crypto
from crypto import roster as signed
from portal.core.context import Context
from portal.keys import channels, roster, roster_audit
from portal.keys.accounts import Account
from portal.keys.recovery import RecoveryError
from portal.records import audit
from portal.store import transaction


def _target(ctx: Context, channel: channels.Channel, email: str, state) -> Account:
    wanted = email.strip().casefold()
    members = channels.channel_officers(ctx, channel.id)
    holder = state.verified.root_holder()
    still_reads = any(m.id == holder for m in members)
    if still_reads or not roster_audit.holder_gone(ctx, channel.id, holder):
        raise RecoveryError(
            f"The root holder of {channel.name} still reads it: they hand the root on themselves"
            " (a holder who lost their keys is offboarded first)."
        )
    officer = next((o for o in members if o.email.casefold() == wanted), None)
    if officer is None:
        raise RecoveryError(f"{email.strip()} is not a confirmed officer of {channel.name}.")
    reader = state.verified.readers.get(officer.id)
    if (
        not state.admits(officer)
        or reader is None
        or reader.signing_key is None
        or officer.signing_public_key != reader.signing_key
    ):
        raise RecoveryError(
            f"The signed roster of {channel.name} does not admit {email.strip()}'s keys: the root"
            " goes only to a reader the roster admits."
        )
    return officer


def hand_over(ctx: Context, channel_name: str, officer_email: str, shares: list[str]) -> Account:
    """Join the custodians' `shares` (SLIP-39 mnemonics; cleared here) into the recovery secret,
    check that it makes the recovery key the channel's roster admits and the custodians' key its
    recovery statement carries, and sign with that key a `handover` of the root to the confirmed
    officer `officer_email`, whom the roster admits, when the root holder no longer reads the
    channel (as for the readers' majority, portal.keys.roster_handover). Returns that officer.
    Audited (the statement, and "roster_custodians_handover").

    Raises RecoveryError (no such channel or officer, no roster, the holder still reads the
    channel, no custodians' key, shares of another key, a statement that does not verify) or
    crypto.RecoveryShareError (too few shares, a mistyped one)."""
    try:
        channel = channels.find_channel(ctx, channel_name)
        if channel is None:
            raise RecoveryError("There is no such channel.")
        state = roster.load(ctx, channel.id)
        if not state.started or state.cut:
            raise RecoveryError(f"{channel.name} has no signed roster that verifies to hand on.")
        recovery_key = state.verified.recovery_key
        custodians = state.verified.recovery_signing_key
        if recovery_key is None:
            raise RecoveryError(f"The signed roster of {channel.name} admits no recovery key.")
        if custodians is None:
            raise RecoveryError(
                f"The recovery entry of {channel.name}'s roster has no custodians' key: the"
                " custodians cannot hand its root on (make a new recovery key, ask for it with"
                " --replace --custodians-key, and have an officer confirm it)."
            )
        officer = _target(ctx, channel, officer_email, state)
        secret = crypto.recovery_private_key(shares)
    finally:
        shares.clear()
    seed = b""
    try:
        if not hmac.compare_digest(crypto.public_key_of(secret), recovery_key):
            raise RecoveryError(
                f"These shares make a recovery key, but not the one {channel.name}'s roster admits."
            )
        seed = signed.custodians_signing_seed(secret)
        if not hmac.compare_digest(signed.signing_public(seed), custodians):
            raise RecoveryError(
                f"These shares do not make the custodians' key {channel.name}'s roster holds."
            )
        _append(ctx, channel, officer, seed)
        return officer
    finally:
        del secret, seed


def _append(ctx: Context, channel: channels.Channel, officer: Account, seed: bytes) -> None:
    reader = roster.load(ctx, channel.id).verified.readers[officer.id]
    with transaction(ctx.db):
        body = roster.next_statement(
            ctx, channel.id, "handover", officer=officer.id, signing_key=reader.signing_key
        )
        try:
            roster.append_signed(
                ctx, channel.id, body, (signed.sign_statement(seed, body),), actor=None
            )
        except signed.RosterError as exc:
            raise RecoveryError(f"The hand-over does not verify: {exc}") from None
        # A hand-over by the readers' majority that was waiting no longer follows the chain.
        ctx.db.execute("DELETE FROM roster_handovers WHERE channel_id = ?", [channel.id])
        audit.record(
            ctx,
            "roster_custodians_handover",
            actor=None,
            subject=officer.id,
            channel=channel.id,
            detail={"custodians": crypto.key_fingerprint(signed.signing_public(seed))},
        )

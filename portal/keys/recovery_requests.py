"""Recovery keys wait for an officer (SECURITY.md, "Key lifecycle"), as memberships do.

`portal channel set-recovery` only asks: the key is kept in `recovery_requests` and nothing is
sealed to it. An officer who reads the channel sees the request in the console with the key's
fingerprint, compares it with the words the custodians were given when the key was made (`portal
recovery-key new` prints the same fingerprint), and confirms or refuses it. Only a confirmed key
becomes the channel's recovery key (portal.keys.recovery). Every request, confirmation and refusal
is listed for the channel's officers and audited.

A request may carry the custodians' Ed25519 public key (`portal recovery-key new` prints it as
`custodians key:`, derived from the same secret: crypto.roster.custodians_signing_public). The
console shows its fingerprint beside the recovery key's, and on confirmation the roster's recovery
statement carries it as `signing_key`: a quorum of custodians may then hand the channel's root on
when its holder is gone (`portal roster hand-over`, portal.keys.roster_custodians).
"""

from __future__ import annotations

from dataclasses import dataclass

import crypto
from crypto import roster as signed
from portal.core.clock import today
from portal.core.context import Context
from portal.core.words import N_
from portal.keys import channels, recovery, roster
from portal.keys.accounts import Account
from portal.records import audit
from portal.store import transaction

OPERATOR = channels.BY_OPERATOR


class RecoveryRequestNotFound(Exception):
    """No pending recovery key that this officer may decide (answered like a missing page)."""


@dataclass(frozen=True)
class PendingRecoveryKey:
    channel_id: int
    channel_name: str
    public_key: bytes
    replaces: bool  # the channel has a recovery key already: confirming deletes its copies
    requested_day: str
    custodians_key: bytes | None = None  # Ed25519 public, for the roster's recovery statement

    @property
    def fingerprint(self) -> str:
        """The words `portal recovery-key new` printed for the custodians (crypto.key_fingerprint):
        the confirming officer compares them with the custodians, never with the operator alone."""
        return crypto.key_fingerprint(self.public_key)

    @property
    def custodians_fingerprint(self) -> str | None:
        """The custodians' signing key's fingerprint (None when the request has none)."""
        return crypto.key_fingerprint(self.custodians_key) if self.custodians_key else None


def _subject(public_key: bytes) -> str:
    return f"The channel's recovery key (fingerprint {crypto.key_fingerprint(public_key)})"


def parse_custodians_key(text: str) -> bytes:
    """The custodians' key as printed by `portal recovery-key new` (64 hexadecimal characters of
    an Ed25519 public key; crypto.roster.check_ed25519_public). Raises recovery.RecoveryError."""
    try:
        return signed.check_ed25519_public(bytes.fromhex(text.strip()), "custodians key")
    except (ValueError, signed.RosterError):
        raise recovery.RecoveryError(
            "The custodians' key must be the 64 hexadecimal characters `portal recovery-key new`"
            " printed after `custodians key:`."
        ) from None


def request(
    ctx: Context,
    channel_name: str,
    public_key_text: str,
    *,
    replace: bool = False,
    custodians_key_text: str | None = None,
) -> PendingRecoveryKey:
    """Ask for a channel's recovery key (the public half printed by `portal recovery-key new`);
    pending until an officer of the channel confirms it (`decide`). Replacing an earlier key needs
    `replace`. `custodians_key_text` is the custodians' Ed25519 public key (hex) the same command
    printed, or None. A later request replaces a pending one. Audited ("recovery_key_requested").
    Raises recovery.RecoveryError."""
    channel = channels.find_channel(ctx, channel_name)
    if channel is None:
        raise recovery.RecoveryError("There is no such channel.")
    public_key = recovery.parse_public_key(public_key_text)
    custodians = None if custodians_key_text is None else parse_custodians_key(custodians_key_text)
    earlier = recovery.channel_key(ctx, channel.id)
    if earlier == public_key:
        raise recovery.RecoveryError(f"That is already the recovery key of {channel.name}.")
    if earlier is not None and not replace:
        raise recovery.RecoveryError(
            f"{channel.name} already has a recovery key. Replacing it deletes every recovery copy "
            "of its cases: say so with --replace."
        )
    day = today(ctx.settings.timezone)
    with transaction(ctx.db):
        ctx.db.execute(
            "INSERT INTO recovery_requests (channel_id, public_key, replaces, requested_day,"
            " custodians_key) VALUES (?, ?, ?, ?, ?) ON CONFLICT (channel_id) DO UPDATE SET"
            " public_key = excluded.public_key, replaces = excluded.replaces,"
            " requested_day = excluded.requested_day, custodians_key = excluded.custodians_key",
            [channel.id, public_key, int(earlier is not None), day, custodians],
        )
        channels.record_membership_event(
            ctx,
            channel.id,
            _subject(public_key),
            N_("asked for: waiting for an officer of the channel to confirm it"),
            OPERATOR,
        )
        audit.record(
            ctx,
            "recovery_key_requested",
            actor=None,
            channel=channel.id,
            detail=_detail(public_key, custodians),
        )
    return PendingRecoveryKey(
        channel.id, channel.name, public_key, earlier is not None, day, custodians
    )


def _detail(public_key: bytes, custodians: bytes | None) -> dict:
    detail = {"fingerprint": crypto.key_fingerprint(public_key)}
    if custodians is not None:
        detail["custodians"] = crypto.key_fingerprint(custodians)
    return detail


def pending_for(ctx: Context, officer: Account) -> list[PendingRecoveryKey]:
    """Pending recovery keys of the channels this officer reads (and so may decide)."""
    rows = ctx.db.execute(
        "SELECT ch.id, ch.name, r.public_key, r.replaces, r.requested_day, r.custodians_key FROM"
        " recovery_requests r"
        " JOIN channels ch ON ch.id = r.channel_id JOIN channel_officers mine ON mine.channel_id ="
        " r.channel_id AND mine.account_id = ? AND mine.state = 'confirmed' ORDER BY ch.name",
        [officer.id],
    ).fetchall()
    return [PendingRecoveryKey(c, n, k, bool(r), d, s) for c, n, k, r, d, s in rows]


def decide(
    ctx: Context,
    officer: Account,
    channel_id: int,
    fingerprint: str,
    *,
    confirm: bool,
    signing_seed: bytes | None = None,
) -> int:
    """A reader of the channel confirms or refuses its pending recovery key, named by the
    fingerprint they compared (a request replaced since the page was shown is not the one
    decided). On confirmation the key becomes the channel's recovery key, an earlier key's copies
    are deleted, and new case keys are sealed to it. In a channel with a signed roster the
    confirming officer signs the key into it with `signing_seed` (their session's signing key):
    only then is anything sealed to it (portal.keys.roster). Returns how many of the channel's cases
    have no recovery copy yet (0 when refused). Audited. Raises RecoveryRequestNotFound."""
    if officer.role != "officer":
        raise RecoveryRequestNotFound()
    with transaction(ctx.db):
        match = [
            p
            for p in pending_for(ctx, officer)
            if p.channel_id == channel_id and p.fingerprint == fingerprint.strip()
        ]
        if not match:
            raise RecoveryRequestNotFound()
        key, custodians = match[0].public_key, match[0].custodians_key
        ctx.db.execute("DELETE FROM recovery_requests WHERE channel_id = ?", [channel_id])
        actor = f"officer {officer.name} <{officer.email}>"
        if not confirm:
            channels.record_membership_event(
                ctx, channel_id, _subject(key), N_("refused: nothing is sealed to it"), actor
            )
            audit.record(ctx, "recovery_key_refused", actor=officer.id, channel=channel_id)
            return 0
        earlier = recovery.channel_key(ctx, channel_id)
        state = roster.load(ctx, channel_id)
        if state.started:
            if signing_seed is None or not state.admits(officer):
                raise RecoveryRequestNotFound()  # only a reader the roster admits may sign it in
            try:
                roster.append(
                    ctx,
                    channel_id,
                    "recovery",
                    signers=[signing_seed],
                    actor=officer.id,
                    key=key,
                    signing_key=custodians,
                )
            except signed.RosterError:
                # The roster refuses it (a key that is also a reader's): nothing is confirmed.
                raise RecoveryRequestNotFound() from None
        ctx.db.execute(
            "UPDATE channels SET recovery_public_key = ? WHERE id = ?", [key, channel_id]
        )
        ctx.db.execute(
            "DELETE FROM recovery_copies WHERE case_id IN (SELECT id FROM cases WHERE channel_id"
            " = ?)",
            [channel_id],
        )
        channels.record_membership_event(
            ctx,
            channel_id,
            _subject(key),
            N_("confirmed (replacing the earlier one): new cases are sealed to it")
            if earlier is not None
            else N_("confirmed: new cases are sealed to it"),
            actor,
        )
        audit.record(
            ctx,
            "recovery_key_set",
            actor=officer.id,
            channel=channel_id,
            detail=_detail(key, custodians),
        )
        return len(recovery.unsealed_cases(ctx, channel_id))

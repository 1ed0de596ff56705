"""Later changes of an officer's credentials, by the signed-in officer: a new passphrase (the
private key re-wrapped, other sessions ended) and a new second factor (confirmed by its first code).
"""

from __future__ import annotations

from portal.core.context import Context
from portal.keys import credentials, rotation, second_factor, sessions
from portal.keys.accounts import Account
from portal.keys.enrolment import SetupError
from portal.records import audit
from portal.store import transaction


def change_passphrase(
    ctx: Context,
    account: Account,
    private_key: bytes,
    new: str,
    again: str,
    keep_session: str | None = None,
) -> None:
    """Re-wrap the signed-in account's private key (from their session) under a new passphrase; the
    key itself stays. Every other session of the account ends (whoever knew the old passphrase may
    have one); the one of cookie `keep_session` stays. The caller has checked the current passphrase
    (officer_sessions.confirm_passphrase, throttled). Raises SetupError,
    credentials.WeakPassphrase."""
    check_new_passphrase(account, new, again)
    if rotation.pending(ctx, account.id):
        # The rotation keeps the old key wrapped under the current passphrase until it is done:
        # changing it now would strand the cases not yet re-sealed to the new key.
        raise SetupError(
            "A change of your key pair is under way. Carry it on from \"Replace my keys\" (or"
            " sign out and sign in again), then change your passphrase."
        )
    wrapped = credentials.wrap(ctx, private_key, new)
    with transaction(ctx.db):
        ctx.db.execute(
            "UPDATE accounts SET wrapped_private_key = ? WHERE id = ?", [wrapped, account.id]
        )
        ended = sessions.end_all_for(ctx.db, "officer", str(account.id), keep=keep_session)
        audit.record(
            ctx, "passphrase_change", actor=account.id, detail={"other_sessions_ended": ended}
        )
    ctx.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def check_new_passphrase(account: Account, new: str, again: str) -> None:
    """Typed the same twice and not guessable. Raises SetupError, credentials.WeakPassphrase."""
    if new != again:
        raise SetupError("The two new passphrases are not the same.")
    credentials.check_passphrase_strength(
        new, [account.email, account.name, *account.email.split("@")]
    )


def begin_second_factor_change(ctx: Context, account: Account) -> str:
    """Pick a new TOTP secret to enrol (the caller has asked the passphrase again); return it. The
    old one keeps working until the new one is confirmed, which asks the passphrase once more."""
    secret = second_factor.new_secret()
    with transaction(ctx.db):
        ctx.db.execute(
            "UPDATE accounts SET pending_totp_secret = ? WHERE id = ?", [secret, account.id]
        )
        audit.record(ctx, "second_factor_change_started", actor=account.id)
    return secret


def pending_second_factor(ctx: Context, account: Account) -> str | None:
    row = ctx.db.execute(
        "SELECT pending_totp_secret FROM accounts WHERE id = ?", [account.id]
    ).fetchone()
    return row[0] if row else None


def finish_second_factor_change(
    ctx: Context, account: Account, code: str, keep_session: str | None = None
) -> None:
    """Confirm the pending TOTP secret with its first code, replacing the old one; every other
    session of the account ends, the one of cookie `keep_session` stays. Raises SetupError."""
    secret = pending_second_factor(ctx, account)
    if secret is None:
        raise SetupError("Give your passphrase first to start a new second factor.")
    step = second_factor.matching_step(secret, second_factor.normalise_code(code))
    if step is None:
        raise SetupError(
            "That code did not match. Check the app shows the new entry, then type its current"
            " code."
        )
    with transaction(ctx.db):
        ctx.db.execute(
            "UPDATE accounts SET totp_secret = ?, pending_totp_secret = NULL, totp_last_step = ? "
            "WHERE id = ?",
            [secret, step, account.id],
        )
        ended = sessions.end_all_for(ctx.db, "officer", str(account.id), keep=keep_session)
        audit.record(
            ctx, "second_factor_change", actor=account.id, detail={"other_sessions_ended": ended}
        )

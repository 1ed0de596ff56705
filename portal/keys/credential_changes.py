"""Later changes of an officer's credentials, by the signed-in officer: a new passphrase (the
private key and the signing seed re-wrapped, other sessions ended) and a new second factor
(confirmed by its first code).
"""

from __future__ import annotations

import crypto
from portal.core.context import Context
from portal.core.words import N_
from portal.keys import credentials, rotation, second_factor, sessions, signing_keys
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
    *,
    signing_key: bytes | None = None,
) -> None:
    """Re-wrap the signed-in account's private key and signing seed (`signing_key`, both from their
    session) under a new passphrase; the keys themselves stay. An account with a signing key whose
    session does not hold it (one that began before the key was made) is refused: SetupError.
    Every other session of the account ends (whoever knew the old passphrase may have one); the
    one of cookie `keep_session` stays. The caller has checked the current passphrase
    (officer_sessions.confirm_passphrase, throttled). Raises SetupError,
    credentials.WeakPassphrase."""
    check_new_passphrase(account, new, again)
    if rotation.pending(ctx, account.id):
        # The rotation keeps the old key wrapped under the current passphrase until it is done:
        # changing it now would strand the cases not yet re-sealed to the new key.
        raise SetupError(
            N_("A change of your key pair is under way. Carry it on from \"Replace my keys\" (or"
            " sign out and sign in again), then change your passphrase.")
        )
    signing_public, wrapped_signing = signing_keys.stored(ctx, account.id)
    if wrapped_signing is not None:
        if signing_key is None or crypto.signing_public_key(signing_key) != signing_public:
            raise SetupError(
                N_("This session began before your signing key was made. Sign out and sign in "
                "again, then change your passphrase.")
            )
        rewrapped_signing = signing_keys.rewrap(ctx, signing_key, new)
    wrapped = credentials.wrap(ctx, private_key, new)
    with transaction(ctx.db):
        # Only if the signing key is still the one read above (a sign-in elsewhere may have made
        # one meanwhile, wrapped under the old passphrase).
        changed = ctx.db.execute(
            "UPDATE accounts SET wrapped_private_key = ?, wrapped_signing_key = ? WHERE id = ?"
            " AND wrapped_signing_key IS ?",
            [
                wrapped,
                rewrapped_signing if wrapped_signing is not None else None,
                account.id,
                wrapped_signing,
            ],
        ).rowcount
        if changed != 1:
            raise SetupError(N_("Your keys changed meanwhile. Nothing was changed: try again."))
        ended = sessions.end_all_for(ctx.db, "officer", str(account.id), keep=keep_session)
        audit.record(
            ctx, "passphrase_change", actor=account.id, detail={"other_sessions_ended": ended}
        )
    ctx.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def check_new_passphrase(account: Account, new: str, again: str) -> None:
    """Typed the same twice and not guessable. Raises SetupError, credentials.WeakPassphrase."""
    if new != again:
        raise SetupError(N_("The two new passphrases are not the same."))
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
        raise SetupError(N_("Give your passphrase first to start a new second factor."))
    step = second_factor.matching_step(secret, second_factor.normalise_code(code))
    if step is None:
        raise SetupError(
            N_("That code did not match. Check the app shows the new entry, then type its current"
            " code.")
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

"""Accounts made at the command line (`portal officer add`, `portal admin add`): a fresh key pair
whose set-up credentials an officer replaces at first sign-in (portal/keys/enrolment.py).
"""

from __future__ import annotations

import crypto
from portal.core.context import Context
from portal.core.words import N_
from portal.keys import second_factor
from portal.keys.accounts import (
    ROLES,
    Account,
    AccountError,
    check_name_and_email_free,
    insert_account,
)
from portal.keys.channels import BY_OPERATOR, record_membership_event, resolve_channels
from portal.keys.credentials import MIN_PASSPHRASE_LENGTH, wrap
from portal.records import audit
from portal.store import transaction


def add_account(
    ctx: Context,
    *,
    email: str,
    name: str,
    role: str,
    passphrase: str,
    channels: list[str] = (),
    must_change_credentials: bool | None = None,
) -> tuple[Account, str]:
    """Create an account with a fresh key pair; return it and its TOTP secret (shown once).

    `must_change_credentials`: whether the first sign-in only opens the steps that replace both
    credentials; by default an officer's do (`portal admin add`'s administrator changes theirs on
    the account page), and the demo asks it of every account (its credentials are printed)."""
    if must_change_credentials is None:
        must_change_credentials = role == "officer"
    email, name = email.strip(), name.strip()
    if role not in ROLES:
        raise AccountError(f"Unknown role {role!r}.")
    if "@" not in email or not name:
        raise AccountError("An account needs an email address and a name.")
    if len(passphrase) < MIN_PASSPHRASE_LENGTH:
        raise AccountError(
            f"The passphrase must be at least {MIN_PASSPHRASE_LENGTH} characters long."
        )
    found = resolve_channels(ctx, channels, required=role == "officer")
    private_key, public_key = crypto.generate_keypair()
    wrapped = wrap(ctx, private_key, passphrase)
    totp_secret = second_factor.new_secret()
    with transaction(ctx.db):
        key = check_name_and_email_free(ctx, name, email)
        # An officer made this way must replace both credentials at first sign-in: its maker knows
        # them.
        account_id = insert_account(
            ctx,
            email=email,
            name=name,
            key=key,
            role=role,
            public_key=public_key,
            wrapped=wrapped,
            totp_secret=totp_secret,
            must_change_credentials=must_change_credentials,
        )
        for channel in found:
            ctx.db.execute(
                "INSERT INTO channel_officers (channel_id, account_id) VALUES (?, ?)",
                [channel.id, account_id],
            )
            record_membership_event(
                ctx,
                channel.id,
                f"{name} <{email}>",
                N_("added"),
                BY_OPERATOR,
            )
            audit.record(
                ctx, "membership_add", actor=None, subject=account_id, channel=channel.id
            )
        audit.record(
            ctx,
            "account_add",
            actor=None,
            subject=account_id,
            detail={"role": role, "channels": len(found)},
        )
    return Account(account_id, email, name, role, public_key), totp_secret

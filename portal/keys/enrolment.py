"""Officers own their keys: enrolment links, and the set-up every officer goes through before they
see anything (README, "Officers own their keys"; SECURITY.md, "Who provisions an account").

Two ways in, one set of steps:
- an *invitation* (`portal officer invite`, or an administrator's console): a one-time link, valid
  72 hours, whose token is stored only as a hash. The officer chooses a passphrase; the key pair is
  made and wrapped under it; a TOTP secret is enrolled and confirmed by a first code; recovery codes
  are shown once.
- an account made by `portal officer add` (demos, tests, scripted set-up): whoever ran the command
  knows its passphrase and TOTP secret, so at first sign-in those work only to reach the same steps,
  and the last step makes a *new* key pair, re-seals the account's case keys to it and overwrites
  the old key and every old sealed copy in one transaction. Re-wrapping the old key would not do: an
  earlier copy of the database plus the set-up passphrase would still open every future case.

Either way the officer's Ed25519 signing key (portal/keys/signing_keys.py) is made with the key
pair, wrapped under the chosen passphrase, and stored by the last step.

Nothing is written until the last step: the steps' state (keys, the new TOTP secret) lives in a
split-key session (portal.keys.sessions), so an abandoned set-up leaves no half-made account.
Invitations are made in portal/keys/invitations.py; later changes of a passphrase or second factor
in portal/keys/credential_changes.py.
"""

from __future__ import annotations

import base64
import json
from dataclasses import asdict, dataclass, replace

import crypto
from portal.core.clock import epoch
from portal.core.context import Context
from portal.core.text import normalise_code
from portal.core.words import N_
from portal.keys import (
    accounts,
    credentials,
    memberships,
    roster_work,
    second_factor,
    sessions,
    signing_keys,
)
from portal.keys.accounts import Account, AccountError
from portal.keys.channels import BY_OPERATOR, record_membership_event
from portal.keys.invitations import InvitationUnusable, stored_hashes
from portal.records import audit, internal_keys
from portal.store import transaction

# Set-up sessions share the console's session kind and cookie; their subject is "setup:<account id>"
# (or "setup:invitation"), never a bare account id.
SETUP_PREFIX = "setup:"


def is_setup_subject(subject: str) -> bool:
    return subject.startswith(SETUP_PREFIX)


class SetupError(AccountError):
    """A set-up step that cannot be taken as asked; the message says why."""


@dataclass(frozen=True)
class SetupState:
    """Where an officer is in the set-up steps. Kept only inside a split-key session."""

    email: str
    name: str
    account_id: int | None = None  # an account made by `officer add`
    invitation: str | None = None  # the invitation's token hash
    old_private_key: bytes | None = None  # the set-up key, to re-seal case keys from
    new_private_key: bytes | None = None
    new_wrapped: bytes | None = None
    totp_secret: str | None = None
    new_signing_key: bytes | None = None  # the Ed25519 seed
    new_wrapped_signing_key: bytes | None = None
    administrator: bool = False  # an administrator's set-up: no cases, no channel, no inbox

    @property
    def step(self) -> str:
        return "passphrase" if self.new_wrapped is None else "second-factor"

    def to_bytes(self) -> bytes:
        return json.dumps(
            {
                k: base64.b64encode(v).decode() if isinstance(v, bytes) else v
                for k, v in asdict(self).items()
            }
        ).encode()

    @classmethod
    def from_bytes(cls, data: bytes) -> "SetupState":
        raw = json.loads(data)
        for name in (
            "old_private_key",
            "new_private_key",
            "new_wrapped",
            "new_signing_key",
            "new_wrapped_signing_key",
        ):
            if raw.get(name) is not None:
                raw[name] = base64.b64decode(raw[name])
        return cls(**raw)


def open_invitation(ctx: Context, token: str) -> SetupState:
    """The first step's state for a live invitation. Raises InvitationUnusable. The link's token
    is read as a code (a link pasted with an invisible character still opens)."""
    token = normalise_code(token)
    row = ctx.db.execute(
        "SELECT email, name, token_hash, role FROM invitations WHERE token_hash IN (?, ?)"
        " AND used = 0 AND expires_at > ?",
        [*stored_hashes(ctx, token), epoch()],
    ).fetchone()
    if row is None:
        raise InvitationUnusable()
    email, name, stored, role = row
    return SetupState(email=email, name=name, invitation=stored, administrator=role == "admin")


def from_sign_in(signed: credentials.Authenticated) -> SetupState:
    """The first step's state for an account whose credentials its maker knows."""
    return SetupState(
        email=signed.account.email,
        name=signed.account.name,
        account_id=signed.account.id,
        old_private_key=signed.private_key,
        administrator=signed.account.role == "admin",
    )


def start_session(ctx: Context, state: SetupState, *, replacing: str | None = None) -> str:
    subject = SETUP_PREFIX + (
        str(state.account_id) if state.account_id is not None else "invitation"
    )
    return sessions.start(
        ctx.db,
        "officer",
        subject,
        state.to_bytes(),
        ctx.settings.officer_idle_seconds,
        ctx.settings.officer_session_seconds,
        replacing=replacing,
    )


def resume_session(ctx: Context, cookie: str | None) -> SetupState | None:
    session = sessions.resume(ctx.db, "officer", cookie, ctx.settings.officer_idle_seconds)
    if session is None or not is_setup_subject(session.subject):
        return None
    return SetupState.from_bytes(session.secret)


def end_session(ctx: Context, cookie: str | None) -> None:
    sessions.end(ctx.db, cookie)


def replace_session(ctx: Context, cookie: str | None, state: SetupState) -> str:
    return start_session(ctx, state, replacing=cookie)


def choose_passphrase(ctx: Context, state: SetupState, passphrase: str, again: str) -> SetupState:
    """Check the chosen passphrase, make the new key pair and signing key and wrap both under it,
    and pick a TOTP secret to enrol. Nothing is stored yet. Raises SetupError or
    credentials.WeakPassphrase."""
    if passphrase != again:
        raise SetupError(
            N_("The two passphrases are not the same. Type the same passphrase twice.")
        )
    credentials.check_passphrase_strength(
        passphrase, [state.email, state.name, *state.email.split("@")]
    )
    if state.account_id is not None:
        try:
            credentials.unwrap_with_passphrase(ctx, state.account_id, passphrase)
        except credentials.LoginFailed:
            pass
        else:
            raise SetupError(N_("Choose a passphrase of your own, not the one you were given."))
    private_key, _ = crypto.generate_keypair()
    wrapped = credentials.wrap(ctx, private_key, passphrase)
    replaced = replace(
        state,
        new_private_key=private_key,
        new_wrapped=wrapped,
        totp_secret=second_factor.new_secret(),
    )
    if state.administrator:
        # An administrator (invited, or replacing set-up credentials as the demo's do): never a
        # signing key, as at any sign-in (signing_keys.at_sign_in).
        return replaced
    signing = signing_keys.make(ctx, passphrase)
    return replace(
        replaced, new_signing_key=signing.seed, new_wrapped_signing_key=signing.wrapped
    )


@dataclass(frozen=True)
class Finished:
    account: Account
    private_key: bytes
    recovery_codes: list[str]
    signing_key: bytes | None = None  # the Ed25519 seed, for the session


def finish(ctx: Context, state: SetupState, code: str) -> Finished:
    """Confirm the new second factor with its first code and store everything in one transaction.
    Raises SetupError for a wrong code, InvitationUnusable if another tab finished the link first.
    """
    if state.new_wrapped is None or state.totp_secret is None:
        raise SetupError(N_("Choose your passphrase first."))
    step = second_factor.matching_step(state.totp_secret, second_factor.normalise_code(code))
    if step is None:
        raise SetupError(
            N_(
                "That code did not match. Check the app shows this account, then type the current"
                " code."
            )
        )
    public_key = crypto.public_key_of(state.new_private_key)
    codes = second_factor.new_recovery_codes()
    with transaction(ctx.db):
        if state.invitation is not None:
            account_id = _create_invited_account(ctx, state, public_key, step)
        else:
            account_id = _replace_credentials(ctx, state, public_key, step)
        credentials.store_recovery_codes(ctx, account_id, codes)
        audit.record(
            ctx,
            "enrolment" if state.invitation is not None else "credentials_replaced",
            actor=account_id,
        )
    if state.account_id is not None:
        # Every session that still holds the set-up key, or waits to replace it, ends with the
        # change.
        sessions.end_all_for(ctx.db, "officer", str(account_id))
        sessions.end_all_for(ctx.db, "officer", SETUP_PREFIX + str(account_id))
    # Move the committed pages out of the write-ahead log, so the old wrapping lingers in no file.
    ctx.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    account = accounts.get_account(ctx, account_id)
    if state.new_signing_key is not None:
        # A new channel's first officer: their key becomes its roster's root, with no extra step.
        roster_work.start_where_alone(ctx, account, state.new_signing_key)
    return Finished(account, state.new_private_key, codes, state.new_signing_key)


def _create_invited_account(ctx: Context, state: SetupState, public_key: bytes, step: int) -> int:
    # Claiming the link and creating the account are one transaction: of two tabs, one wins.
    row = ctx.db.execute(
        "SELECT channel_ids, invited_by, role FROM invitations WHERE token_hash = ? AND used = 0 "
        "AND expires_at > ?",
        [state.invitation, epoch()],
    ).fetchone()
    if row is None:
        raise InvitationUnusable()
    channel_ids, invited_by, role = json.loads(row[0]), row[1], row[2]
    ctx.db.execute("DELETE FROM invitations WHERE token_hash = ?", [state.invitation])
    key = accounts.check_name_and_email_free(ctx, state.name, state.email)
    account_id = accounts.insert_account(
        ctx,
        email=state.email,
        name=state.name,
        key=key,
        role=role,
        public_key=public_key,
        wrapped=state.new_wrapped,
        totp_secret=state.totp_secret,
        must_change_credentials=False,
    )
    ctx.db.execute("UPDATE accounts SET totp_last_step = ? WHERE id = ?", [step, account_id])
    _store_signing_key(ctx, account_id, state)
    inviter = accounts.get_account(ctx, invited_by) if invited_by else None
    subject = f"{state.name} <{state.email}>"
    for channel_id in channel_ids:
        if inviter is None:
            ctx.db.execute(
                "INSERT INTO channel_officers (channel_id, account_id) VALUES (?, ?)",
                [channel_id, account_id],
            )
            record_membership_event(
                ctx,
                channel_id,
                subject,
                N_("enrolled after an invitation"),
                BY_OPERATOR,
            )
            # Per channel, so that `portal audit verify` and the roster can tell this membership
            # from one written into the database (portal.keys.roster_audit).
            audit.record(ctx, "membership_add", actor=None, subject=account_id, channel=channel_id)
        else:
            ctx.db.execute(
                "INSERT INTO channel_officers (channel_id, account_id, state, requested_by) "
                "VALUES (?, ?, 'pending', ?)",
                [channel_id, account_id, inviter.id],
            )
            record_membership_event(
                ctx,
                channel_id,
                subject,
                "enrolled and asked to join: waiting for an officer of the channel to confirm",
                f"administrator {memberships.label(inviter)}",
            )
            audit.record(
                ctx, "membership_request", actor=inviter.id, subject=account_id, channel=channel_id
            )
    return account_id


def _replace_credentials(ctx: Context, state: SetupState, public_key: bytes, step: int) -> int:
    # Only once, and only from the key this set-up began with: another browser may have finished
    # first.
    row = ctx.db.execute(
        "SELECT public_key, must_change_credentials FROM accounts WHERE id = ?", [state.account_id]
    ).fetchone()
    if row is None or not row[1] or row[0] != crypto.public_key_of(state.old_private_key):
        raise SetupError(
            N_("This account has already been set up. Sign in with the passphrase you chose.")
        )
    # Every case key sealed to the set-up key is re-sealed to the new one, overwriting the old copy.
    for case_id, recipient, sealed in ctx.db.execute(
        "SELECT case_id, recipient, sealed_key FROM case_keys WHERE account_id = ?",
        [state.account_id],
    ).fetchall():
        case_key = crypto.open_sealed(state.old_private_key, sealed)
        ctx.db.execute(
            "UPDATE case_keys SET sealed_key = ? WHERE case_id = ? AND recipient = ?",
            [crypto.seal_to(public_key, case_key), case_id, recipient],
        )
    # The case's further keys too (officers-only notes, the discloser's identity).
    for table in internal_keys.OFFICER_SEALED_TABLES:
        for case_id, sealed in ctx.db.execute(
            f"SELECT case_id, sealed_key FROM {table} WHERE account_id = ?", [state.account_id]
        ).fetchall():
            key = crypto.open_sealed(state.old_private_key, sealed)
            ctx.db.execute(
                f"UPDATE {table} SET sealed_key = ? WHERE case_id = ? AND account_id = ?",
                [crypto.seal_to(public_key, key), case_id, state.account_id],
            )
    changed = ctx.db.execute(
        "UPDATE accounts SET public_key = ?, wrapped_private_key = ?, totp_secret = ?,"
        " totp_last_step = ?, pending_totp_secret = NULL, must_change_credentials = 0,"
        " signing_public_key = NULL, wrapped_signing_key = NULL WHERE id = ?"
        " AND must_change_credentials = 1",
        [public_key, state.new_wrapped, state.totp_secret, step, state.account_id],
    ).rowcount
    if changed != 1:
        raise SetupError(
            N_("This account has already been set up. Sign in with the passphrase you chose.")
        )
    _store_signing_key(ctx, state.account_id, state)
    return state.account_id


def _store_signing_key(ctx: Context, account_id: int, state: SetupState) -> None:
    # A set-up begun before signing keys existed has none: the officer's next sign-in makes it.
    seed = state.new_signing_key
    if seed is not None and state.new_wrapped_signing_key is not None:
        new = signing_keys.NewSigningKey(
            seed, crypto.signing_public_key(seed), state.new_wrapped_signing_key
        )
        signing_keys.store(ctx, account_id, new)

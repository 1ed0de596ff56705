"""Officers own their keys: enrolment links, and the set-up every officer goes through before they
see
anything (README, "Officers own their keys"; SECURITY.md, "Who provisions an account").

Two ways in, one set of steps:
- an *invitation* (`portal officer invite`, or an administrator's console): a one-time link, valid
  72
  hours, whose token is stored only as a hash. The officer chooses a passphrase; the key pair is
  made and
  wrapped under it; a TOTP secret is enrolled and confirmed by a first code; recovery codes are
  shown once.
- an account made by `portal officer add` (demos, tests, scripted set-up): whoever ran the command
  knows
  its passphrase and TOTP secret, so at first sign-in those work only to reach the same steps, and
  the
  last step makes a *new* key pair, re-seals the account's case keys to it and overwrites the old
  key
  and every old sealed copy in one transaction. Re-wrapping the old key would not do: an earlier
  copy of
  the database plus the set-up passphrase would still open every future case.

Nothing is written until the last step: the steps' state (keys, the new TOTP secret) lives in a
split-key session (portal.keys.sessions), so an abandoned set-up leaves no half-made account.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from dataclasses import asdict, dataclass, replace

import crypto
from portal.keys import accounts, credentials, memberships, rotation, second_factor, sessions
from portal.records import audit, internal_keys
from portal.keys.accounts import Account, AccountError
from portal.keys.channels import record_membership_event, resolve_channels
from portal.core.clock import epoch
from portal.core.context import Context
from portal.store import transaction

INVITATION_SECONDS = 72 * 3600
ENROL_PATH = "/console/enrol/"
# Set-up sessions share the console's session kind and cookie; their subject is "setup:<account id>"
# (or "setup:invitation"), never a bare account id.
SETUP_PREFIX = "setup:"


def is_setup_subject(subject: str) -> bool:
    return subject.startswith(SETUP_PREFIX)


class InvitationUnusable(Exception):
    """An enrolment link that is unknown, used or expired: deliberately not saying which."""


class SetupError(AccountError):
    """A set-up step that cannot be taken as asked; the message says why."""


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invite(
    ctx: Context, *, email: str, name: str, channels: list[str], invited_by: Account | None
) -> str:
    """Create an invitation and return its one-time token (shown once, stored only hashed).

    `invited_by` None means the server's operator (the command line): the channels are joined as
    confirmed. An administrator's invitation joins them as pending, and needs a channel that already
    has an officer to confirm it. Raises AccountError."""
    email, name = email.strip(), name.strip()
    if "@" not in email or not name:
        raise AccountError("An invitation needs an email address and a name.")
    found = resolve_channels(ctx, channels, required=True)
    token = secrets.token_urlsafe(32)
    with transaction(ctx.db):
        key = accounts.check_name_and_email_free(ctx, name, email)
        if invited_by is not None:
            for channel in found:
                memberships.require_first_officer(ctx, channel)
        # An expired invitation for the same person gives way to the new one.
        ctx.db.execute(
            "DELETE FROM invitations WHERE email = ? AND (used = 1 OR expires_at <= ?)",
            [email, epoch()],
        )
        ctx.db.execute(
            "INSERT INTO invitations (token_hash, email, name, name_key, channel_ids, invited_by,"
            " expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                _token_hash(token),
                email,
                name,
                key,
                json.dumps([c.id for c in found]),
                invited_by.id if invited_by else None,
                epoch() + INVITATION_SECONDS,
            ],
        )
        audit.record(
            ctx,
            "invitation",
            actor=invited_by.id if invited_by else None,
            detail={"channels": len(found), "by_operator": invited_by is None},
        )
    return token


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
        for name in ("old_private_key", "new_private_key", "new_wrapped"):
            if raw.get(name) is not None:
                raw[name] = base64.b64decode(raw[name])
        return cls(**raw)


def open_invitation(ctx: Context, token: str) -> SetupState:
    """The first step's state for a live invitation. Raises InvitationUnusable."""
    row = ctx.db.execute(
        "SELECT email, name FROM invitations WHERE token_hash = ? AND used = 0 AND expires_at > ?",
        [_token_hash(token), epoch()],
    ).fetchone()
    if row is None:
        raise InvitationUnusable()
    return SetupState(email=row[0], name=row[1], invitation=_token_hash(token))


def from_sign_in(signed: credentials.Authenticated) -> SetupState:
    """The first step's state for an account whose credentials its maker knows."""
    return SetupState(
        email=signed.account.email,
        name=signed.account.name,
        account_id=signed.account.id,
        old_private_key=signed.private_key,
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
    """Check the chosen passphrase, make the new key pair and wrap it, and pick a TOTP secret to
    enrol.
    Nothing is stored yet. Raises SetupError or credentials.WeakPassphrase."""
    if passphrase != again:
        raise SetupError("The two passphrases are not the same. Type the same passphrase twice.")
    credentials.check_passphrase_strength(
        passphrase, [state.email, state.name, *state.email.split("@")]
    )
    if state.account_id is not None:
        try:
            credentials.unwrap_with_passphrase(ctx, state.account_id, passphrase)
        except credentials.LoginFailed:
            pass
        else:
            raise SetupError("Choose a passphrase of your own, not the one you were given.")
    private_key, _ = crypto.generate_keypair()
    wrapped = credentials.wrap(ctx, private_key, passphrase)
    return replace(
        state,
        new_private_key=private_key,
        new_wrapped=wrapped,
        totp_secret=second_factor.new_secret(),
    )


@dataclass(frozen=True)
class Finished:
    account: Account
    private_key: bytes
    recovery_codes: list[str]


def finish(ctx: Context, state: SetupState, code: str) -> Finished:
    """Confirm the new second factor with its first code and store everything in one transaction.
    Raises SetupError for a wrong code, InvitationUnusable if another tab finished the link first.
    """
    if state.new_wrapped is None or state.totp_secret is None:
        raise SetupError("Choose your passphrase first.")
    step = second_factor.matching_step(state.totp_secret, second_factor.normalise_code(code))
    if step is None:
        raise SetupError(
            "That code did not match. Check the app shows this account, then type the current code."
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
    return Finished(accounts.get_account(ctx, account_id), state.new_private_key, codes)


def _create_invited_account(ctx: Context, state: SetupState, public_key: bytes, step: int) -> int:
    # Claiming the link and creating the account are one transaction: of two tabs, one wins.
    row = ctx.db.execute(
        "SELECT channel_ids, invited_by FROM invitations WHERE token_hash = ? AND used = 0 "
        "AND expires_at > ?",
        [state.invitation, epoch()],
    ).fetchone()
    if row is None:
        raise InvitationUnusable()
    channel_ids, invited_by = json.loads(row[0]), row[1]
    ctx.db.execute("DELETE FROM invitations WHERE token_hash = ?", [state.invitation])
    key = accounts.check_name_and_email_free(ctx, state.name, state.email)
    account_id = accounts.insert_account(
        ctx,
        email=state.email,
        name=state.name,
        key=key,
        role="officer",
        public_key=public_key,
        wrapped=state.new_wrapped,
        totp_secret=state.totp_secret,
        must_change_credentials=False,
    )
    ctx.db.execute("UPDATE accounts SET totp_last_step = ? WHERE id = ?", [step, account_id])
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
                "enrolled, added by the server's operator (command line)",
                "the server's operator",
            )
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
    return account_id


def _replace_credentials(ctx: Context, state: SetupState, public_key: bytes, step: int) -> int:
    # Only once, and only from the key this set-up began with: another browser may have finished
    # first.
    row = ctx.db.execute(
        "SELECT public_key, must_change_credentials FROM accounts WHERE id = ?", [state.account_id]
    ).fetchone()
    if row is None or not row[1] or row[0] != crypto.public_key_of(state.old_private_key):
        raise SetupError(
            "This account has already been set up. Sign in with the passphrase you chose."
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
        " totp_last_step = ?, pending_totp_secret = NULL, must_change_credentials = 0 WHERE id = ?"
        " AND must_change_credentials = 1",
        [public_key, state.new_wrapped, state.totp_secret, step, state.account_id],
    ).rowcount
    if changed != 1:
        raise SetupError(
            "This account has already been set up. Sign in with the passphrase you chose."
        )
    return state.account_id


# Later changes, by a signed-in officer.


def change_passphrase(
    ctx: Context,
    account: Account,
    private_key: bytes,
    new: str,
    again: str,
    keep_session: str | None = None,
) -> None:
    """Re-wrap the signed-in account's private key (from their session) under a new passphrase; the
    key
    itself stays. Every other session of the account ends (whoever knew the old passphrase may have
    one);
    the one of cookie `keep_session` stays. The caller has checked the current passphrase
    (triage.confirm_passphrase, throttled). Raises SetupError, credentials.WeakPassphrase."""
    check_new_passphrase(account, new, again)
    if rotation.pending(ctx, account.id):
        # The rotation's new key is wrapped under the current passphrase: changing it now would
        # strand the cases already re-sealed to that key.
        raise SetupError(
            "A change of your key pair is under way. Sign out and sign in again to finish it, "
            "then change your passphrase."
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
    old
    one keeps working until the new one is confirmed, which asks the passphrase once more."""
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
    session of the
    account ends, the one of cookie `keep_session` stays. Raises SetupError."""
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

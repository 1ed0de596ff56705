"""An officer's console sign-in: the session opened with their credentials, resuming and ending it,
the last visit shown in the inbox, and asking the passphrase again before a weighty action.

The session holds the account's private key, so whoever resumes it can open the officer's cases,
and an officer's Ed25519 signing seed beside it (portal/keys/signing_keys.py): the session secret is
the 32-byte X25519 private key, followed by the 32-byte seed when the account has one.
"""

from __future__ import annotations

from dataclasses import dataclass

from portal.core.context import Context
from portal.guard import sign_in_budget, throttle
from portal.keys import (
    accounts,
    credentials,
    enrolment,
    roster_work,
    rotation,
    sessions,
    signing_keys,
)
from portal.records import audit, audit_entries
from portal.store import put_off_briefly, transaction

OFFICER_SESSION = "officer"


@dataclass(frozen=True)
class SignedIn:
    account: accounts.Account
    private_key: bytes  # X25519, 32 bytes
    signing_key: bytes | None = None  # the officer's Ed25519 seed, 32 bytes; None for an admin
    session: str = ""  # the session's stored (hashed) id: names what this session keeps in memory

    @property
    def is_admin(self) -> bool:
        return self.account.role == "admin"


SignInPaused = sign_in_budget.SignInPaused


@dataclass(frozen=True)
class SignedInCookies:
    session: str  # the console session cookie's value (a set-up session when needs_setup)
    device: str  # the device cookie's value: this browser has signed in to this account before
    needs_setup: (
        bool  # the account's credentials are known to its maker: only the set-up steps open
    )


def sign_in(
    ctx: Context,
    email: str,
    passphrase: str,
    totp: str,
    *,
    replacing: str | None = None,
    device: str | None = None,
) -> SignedInCookies:
    """Check the credentials and open a session. An account whose credentials its maker knows gets
    only a set-up session (portal.keys.enrolment). Raises credentials.LoginFailed, or SignInPaused
    when this address's failures are paused (portal.guard.sign_in_budget): both mean only "that did
    not work". The code is checked first; the passphrase is derived only for a valid, unused code,
    so a pause caused by junk never stops a correct sign-in.

    `replacing`: the browser's earlier console cookie; its session ends. `device`: the browser's
    device cookie, if any. Both outcomes are audited: a failure only when the email belongs to an
    account (its subject)."""
    known = accounts.account_id_for(ctx, email)
    attempt = sign_in_budget.begin(ctx, email, known, device)
    derived = False
    try:
        if attempt.codes_capped is not None:
            raise credentials.LoginFailed()  # no code is checked until the cap's window ends
        try:
            signed = credentials.authenticate(
                ctx, email, passphrase, totp, paused=attempt.paused is not None
            )
        except credentials.WrongSecondFactor:
            attempt.wrong_code()
            raise
        except credentials.LoginFailed:
            derived = True  # a valid code with a wrong passphrase
            raise
    except credentials.LoginFailed:
        began = attempt.failed()
        # While paused, junk (no valid code) adds no audit entry; a failure that got as far as the
        # passphrase always does.
        if known is not None and (attempt.paused is None or derived):
            audit.record(ctx, "sign_in_failed", actor=None, subject=known)
            if began:  # once per pause
                audit.record(
                    ctx,
                    "sign_in_paused",
                    actor=None,
                    subject=known,
                    detail={"locked": began == "locked"},
                )
        if attempt.paused is not None:
            raise attempt.paused from None
        raise
    attempt.succeeded()
    audit.record(
        ctx,
        "sign_in",
        actor=signed.account.id,
        detail={"setup": True} if signed.must_change_credentials else None,
    )
    device_cookie = sign_in_budget.remember_device(ctx, signed.account.id, device)
    if signed.must_change_credentials:
        return SignedInCookies(
            enrolment.start_session(ctx, enrolment.from_sign_in(signed), replacing=replacing),
            device_cookie,
            True,
        )
    account, private_key = signed.account, signed.private_key
    if rotation.pending(ctx, account.id):
        # A key rotation was interrupted: finish it with the passphrase just given (the new one it
        # began with), so that no case still sealed to the old key is out of this officer's reach.
        try:
            private_key = rotation.resume(ctx, account.id, passphrase).private_key
        except (rotation.RotationTampered, credentials.LoginFailed):
            pass  # a rotation this passphrase did not begin: left alone (audited), no lock-out
    # Opened (or, for an officer who has none yet, made) only now that the credentials were right.
    signing_key = signing_keys.at_sign_in(ctx, account, passphrase)
    account = accounts.get_account(ctx, account.id)
    if signing_key is not None:
        roster_work.start_where_alone(ctx, account, signing_key)
    session = start_session(ctx, account, private_key, signing_key, replacing=replacing)
    return SignedInCookies(session, device_cookie, False)


def start_session(
    ctx: Context,
    account: accounts.Account,
    private_key: bytes,
    signing_key: bytes | None = None,
    *,
    replacing: str | None = None,
) -> str:
    """Open a console session holding the private key and, when given, the signing seed; return
    the cookie value."""
    return sessions.start(
        ctx.db,
        OFFICER_SESSION,
        str(account.id),
        private_key + (signing_key or b""),
        ctx.settings.officer_idle_seconds,
        ctx.settings.officer_session_seconds,
        replacing=replacing,
    )


def resume(ctx: Context, cookie: str | None) -> SignedIn | None:
    session = sessions.resume(ctx.db, OFFICER_SESSION, cookie, ctx.settings.officer_idle_seconds)
    if session is None or enrolment.is_setup_subject(session.subject):
        return None
    account = accounts.get_account(ctx, int(session.subject))
    if account is None:
        sessions.end(ctx.db, cookie)
        return None
    private_key, signing_key = session.secret[:32], session.secret[32:]
    return SignedIn(account, private_key, signing_key or None, session.id)


def sign_out(ctx: Context, cookie: str | None) -> bool:
    """End this session (whatever state it is in); audited when it belonged to an account. False
    when a full disk or a held lock kept its server half: the caller still clears the cookie, which
    alone holds the session key, so the row opens nothing and ends at its idle limit (SECURITY.md,
    "Sessions")."""
    return put_off_briefly(ctx.db, _end_and_record, ctx, cookie) is None


def _end_and_record(ctx: Context, cookie: str | None) -> None:
    ended = sessions.end(ctx.db, cookie)
    if (
        ended is not None
        and ended[0] == OFFICER_SESSION
        and not enrolment.is_setup_subject(ended[1])
    ):
        audit.record(ctx, "sign_out", actor=int(ended[1]))


def sign_out_everywhere(ctx: Context, who: SignedIn) -> int:
    """End every console session of this account, this one included; return how many ended."""
    with transaction(ctx.db):
        ended = sessions.end_all_for(ctx.db, OFFICER_SESSION, str(who.account.id))
        audit.record(ctx, "sign_out_everywhere", actor=who.account.id, detail={"sessions": ended})
    return ended


@dataclass(frozen=True)
class LastVisit:
    signed_in_at: (
        str | None
    )  # 'YYYY-MM-DD HH:MM' in the installation's zone; None for a first sign-in
    failed_since: int  # failed sign-ins for this account since then


def last_visit(ctx: Context, who: SignedIn) -> LastVisit:
    """From the audit log: the sign-in before this one, and failed attempts since (for the
    inbox)."""
    previous, failed = audit_entries.previous_sign_in(ctx, who.account.id)
    return LastVisit(
        audit_entries.local_time(previous, ctx.settings.timezone) if previous else None, failed
    )


REAUTH_FAILURES_ALLOWED = 5


class ConfirmationLocked(Exception):
    """Too many wrong passphrases when asked again: the session has been ended."""


def confirm_passphrase(ctx: Context, who: SignedIn, passphrase: str, cookie: str | None) -> bool:
    """Ask the passphrase again before a weighty action (exports, grants, identity release).

    True if it unwraps this account's private key; every answer is audited. After
    REAUTH_FAILURES_ALLOWED wrong answers in 15 minutes the session is ended: ConfirmationLocked."""
    if credentials.check_passphrase(ctx, who.account.id, passphrase):
        audit.record(ctx, "passphrase_confirmed", actor=who.account.id)
        return True
    audit.record(ctx, "passphrase_confirm_failed", actor=who.account.id)
    if (
        throttle.hit(ctx.db, f"reauth:{who.account.id}", REAUTH_FAILURES_ALLOWED, 15 * 60)
        is not None
    ):
        sign_out(ctx, cookie)
        raise ConfirmationLocked()
    return False

"""An account's credentials: passphrase strength, the private key wrapped under the passphrase,
signing in (second factor first; a decoy key for an unknown email when the passphrase is asked
again, so a failure costs the same either way), the second factor and recovery codes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import zxcvbn

import crypto
from portal.core.config import Settings
from portal.core.context import Context
from portal.core.words import N_, Sentence
from portal.guard import work_queues
from portal.keys import second_factor
from portal.keys.accounts import Account, AccountError
from portal.records import audit
from portal.store import transaction

MIN_PASSPHRASE_LENGTH = 12
# zxcvbn's score 3: "safely unguessable: moderate protection from offline slow-hash scenario".
MIN_PASSPHRASE_SCORE = 3


class LoginFailed(Exception):
    """Sign-in failed. Deliberately says nothing of which part was wrong."""


class WeakPassphrase(AccountError):
    """A passphrase the strength estimator (zxcvbn) rates guessable; the message carries its
    advice."""


def check_passphrase_strength(passphrase: str, user_inputs: list[str] = ()) -> None:
    """Refuse a short or guessable passphrase with the estimator's own advice. Raises
    WeakPassphrase."""
    if len(passphrase) < MIN_PASSPHRASE_LENGTH:
        raise WeakPassphrase(
            Sentence(
                N_("Use at least %(n)d characters: several uncommon words work well."),
                n=MIN_PASSPHRASE_LENGTH,
            )
        )
    # zxcvbn refuses more than 72 characters (its cost grows with length): the first 72 decide. The
    # person's own name and email, word by word, count as guessable.
    words = [w for u in user_inputs for w in re.split(r"[^\w]+", u.lower()) if w]
    result = zxcvbn.zxcvbn(passphrase[:72], user_inputs=words)
    if result["score"] < MIN_PASSPHRASE_SCORE:
        feedback = result["feedback"]
        advice = " ".join(filter(None, [feedback.get("warning"), *feedback.get("suggestions", [])]))
        # zxcvbn's advice is its own, in English; without any, the portal's (translated).
        raise WeakPassphrase(
            Sentence(
                N_("This passphrase would be too easy to guess. %(advice)s"),
                advice=advice
                or Sentence(N_("Add another word or two; uncommon words are better.")),
            )
        )


# Unwrapped when the email is unknown, so a failed sign-in costs the same either way.
_DECOY: dict[str, bytes] = {}


def prepare_decoy(settings: Settings) -> None:
    """Build the decoy wrapped key at start-up, so even the first unknown email costs one Argon2id
    run."""
    key = repr(settings.passphrase_params)
    if key not in _DECOY:
        _DECOY[key] = crypto.wrap_private_key(
            crypto.generate_keypair()[0], "decoy passphrase", settings.passphrase_params
        )


def _decoy_wrapped(ctx: Context) -> bytes:
    prepare_decoy(ctx.settings)
    return _DECOY[repr(ctx.settings.passphrase_params)]


def wrap(ctx: Context, private_key: bytes, passphrase: str) -> bytes:
    """Wrap a private key under a passphrase (Argon2id), under the process's key-derivation
    slots."""
    with work_queues.slot(ctx.settings, work_queues.SIGN_IN):
        return crypto.wrap_private_key(private_key, passphrase, ctx.settings.passphrase_params)


def unwrap(ctx: Context, wrapped: bytes, passphrase: str) -> bytes:
    """Unwrap a wrapped key (crypto.unwrap_private_key): Argon2id under the process's key-derivation
    slots (work_slots.Busy when its queue is full). Raises crypto.CryptoError."""
    with work_queues.slot(ctx.settings, work_queues.SIGN_IN):
        return crypto.unwrap_private_key(wrapped, passphrase)


@dataclass(frozen=True)
class Authenticated:
    account: Account
    private_key: bytes
    must_change_credentials: bool


class WrongSecondFactor(LoginFailed):
    """The code was wrong, already used, or the email names no account: no key was derived. Only
    the budgets tell this apart (portal.guard.sign_in_budget); the page says what any failure
    says."""


# Checked for an email that names no account, so both cost the same few HMACs.
_NO_ACCOUNT_SECRET = second_factor.new_secret()


def authenticate(
    ctx: Context, email: str, passphrase: str, code: str, *, paused: bool = False
) -> Authenticated:
    """Check the second factor first (a TOTP code, or one of the account's recovery codes), then
    the passphrase; return the account and its unwrapped private key. A key is derived only for a
    valid, unused code, so junk costs none. A TOTP code is used up before the derivation, so it is
    good for one attempt whatever the passphrase; a recovery code only by a sign-in that succeeds,
    unless the address is `paused`, when it too is used up first (one derivation per code). Raises
    WrongSecondFactor, or LoginFailed for a wrong passphrase."""
    row = ctx.db.execute(
        "SELECT id, email, name, role, public_key, signing_public_key, wrapped_private_key,"
        " totp_secret, must_change_credentials FROM accounts WHERE email = ?",
        [email.strip()],
    ).fetchone()
    if row is None:
        second_factor.matching_step(_NO_ACCOUNT_SECRET, second_factor.normalise_code(code))
        raise WrongSecondFactor()
    recovery_later = not paused and not second_factor.looks_like_totp(
        second_factor.normalise_code(code)
    )
    if not use_second_factor(ctx, row[0], row[7], code, keep_recovery=recovery_later):
        raise WrongSecondFactor()
    try:
        private_key = unwrap(ctx, row[6], passphrase)
    except crypto.CryptoError:
        raise LoginFailed() from None
    if recovery_later and not use_second_factor(ctx, row[0], row[7], code):
        raise LoginFailed()  # another sign-in used the same recovery code meanwhile
    return Authenticated(Account(*row[:6]), private_key, bool(row[8]))


def still_has_setup_credentials(ctx: Context, email: str) -> bool:
    """True while the account made by `officer add` has not yet replaced the credentials its maker
    saw."""
    row = ctx.db.execute(
        "SELECT must_change_credentials FROM accounts WHERE email = ?", [email]
    ).fetchone()
    return bool(row and row[0])


def unwrap_with_passphrase(ctx: Context, account_id: int, passphrase: str) -> bytes:
    """The account's private key if `passphrase` unwraps it; raises LoginFailed otherwise."""
    row = ctx.db.execute(
        "SELECT wrapped_private_key FROM accounts WHERE id = ?", [account_id]
    ).fetchone()
    try:
        private_key = unwrap(ctx, row[0] if row else _decoy_wrapped(ctx), passphrase)
    except crypto.CryptoError:
        raise LoginFailed() from None
    if row is None:
        raise LoginFailed()
    return private_key


def use_second_factor(
    ctx: Context, account_id: int, totp_secret: str, code: str, *, keep_recovery: bool = False
) -> bool:
    """Accept a TOTP code for a step later than the last one used (replay guard), or an unused
    recovery code, consuming it. Both are claimed with one conditional write, so two requests racing
    with the same code cannot both win. `keep_recovery`: a recovery code is only checked, not used
    up (the caller uses it once the passphrase is right)."""
    code = second_factor.normalise_code(code)
    if second_factor.looks_like_totp(code):
        step = second_factor.matching_step(totp_secret, code)
        if step is None:
            return False
        with transaction(ctx.db):
            claimed = ctx.db.execute(
                "UPDATE accounts SET totp_last_step = ? WHERE id = ? AND totp_last_step < ?",
                [step, account_id, step],
            ).rowcount
        return claimed == 1
    code_hash = second_factor.recovery_code_hash(recovery_code_key(ctx), code)
    if code_hash is None:
        return False
    if keep_recovery:
        return bool(
            ctx.db.execute(
                "SELECT 1 FROM recovery_codes WHERE account_id = ? AND code_hash = ?",
                [account_id, code_hash],
            ).fetchone()
        )
    with transaction(ctx.db):
        used = ctx.db.execute(
            "DELETE FROM recovery_codes WHERE account_id = ? AND code_hash = ?",
            [account_id, code_hash],
        ).rowcount
        if used:
            audit.record(ctx, "recovery_code_used", actor=account_id)
    return used == 1


def recovery_code_key(ctx: Context) -> bytes:
    return crypto.derive_subkey(ctx.settings.secret_key, "recovery-codes")


def store_recovery_codes(ctx: Context, account_id: int, codes: list[str]) -> None:
    """Replace the account's recovery codes with these (hashed), inside the caller's transaction."""
    key = recovery_code_key(ctx)
    ctx.db.execute("DELETE FROM recovery_codes WHERE account_id = ?", [account_id])
    for code in codes:
        ctx.db.execute(
            "INSERT INTO recovery_codes (account_id, code_hash) VALUES (?, ?)",
            [account_id, second_factor.recovery_code_hash(key, code)],
        )


def unused_recovery_codes(ctx: Context, account_id: int, codes: list[str]) -> list[str]:
    """Those of `codes` the account can still sign in with (for the demo, which keeps its own)."""
    key = recovery_code_key(ctx)
    left = {
        row[0]
        for row in ctx.db.execute(
            "SELECT code_hash FROM recovery_codes WHERE account_id = ?", [account_id]
        )
    }
    return [code for code in codes if second_factor.recovery_code_hash(key, code) in left]


def check_passphrase(ctx: Context, account_id: int, passphrase: str) -> bool:
    """Whether `passphrase` unwraps this account's private key (asked again before weighty
    actions)."""
    try:
        unwrap_with_passphrase(ctx, account_id, passphrase)
    except LoginFailed:
        return False
    return True

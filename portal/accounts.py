"""Channels, officers and administrators: key pairs wrapped under passphrases, a second factor.

Every account has a key pair, so a sign-in is checked the same way for everyone: by unwrapping the
private key. An administrator's key is never sealed anything, so an administrator can decrypt nothing.
"""
from __future__ import annotations

from dataclasses import dataclass

import pyotp

import crypto
from portal import audit, submissions, work_slots
from portal.clock import today
from portal.config import Settings
from portal.context import Context
from portal.store import transaction

ROLES = ("officer", "admin")


class AccountError(Exception):
    """A request about accounts or channels that cannot be carried out; the message says why."""


class LoginFailed(Exception):
    """Sign-in failed. Deliberately says nothing of which part was wrong."""


REGIMES = ("nz", "eu")  # the statutory clock a channel follows: see portal.deadlines


@dataclass(frozen=True)
class Channel:
    id: int
    name: str
    description: str
    regime: str = "nz"


@dataclass(frozen=True)
class Account:
    id: int
    email: str
    name: str
    role: str
    public_key: bytes


def _channel(row) -> Channel:
    return Channel(id=row[0], name=row[1], description=row[2], regime=row[3])


def add_channel(ctx: Context, name: str, description: str = "", regime: str = "nz", *,
                actor: int | None = None, submission_token: str | None = None) -> Channel:
    """Add a channel (`actor`: the administrator, None at the command line); recorded in the audit log.
    `regime` is 'nz' (the 2022 Act's 20 working days) or 'eu' (the Directive's clocks).

    Raises AccountError, or submissions.AlreadySubmitted for a resent form."""
    name = name.strip()
    if not name:
        raise AccountError("A channel needs a name.")
    if regime not in REGIMES:
        raise AccountError("The regime must be 'nz' or 'eu'.")
    with transaction(ctx.db):
        submissions.claim(ctx.db, submission_token, today(ctx.settings.timezone))
        if ctx.db.execute("SELECT 1 FROM channels WHERE name = ?", [name]).fetchone():
            raise AccountError(f"A channel named {name!r} already exists.")
        cursor = ctx.db.execute("INSERT INTO channels (name, description, regime) VALUES (?, ?, ?)",
                                [name, description, regime])
        audit.record(ctx, "channel_add", actor=actor, channel=cursor.lastrowid)
    return Channel(id=cursor.lastrowid, name=name, description=description, regime=regime)


def list_channels(ctx: Context, *, with_officers_only: bool = False) -> list[Channel]:
    sql = "SELECT id, name, description, regime FROM channels"
    if with_officers_only:
        sql += " WHERE EXISTS (SELECT 1 FROM channel_officers co WHERE co.channel_id = channels.id)"
    return [_channel(row) for row in ctx.db.execute(sql + " ORDER BY name").fetchall()]


def find_channel(ctx: Context, name: str) -> Channel | None:
    """The channel named exactly `name` (surrounding spaces aside), else None.

    A channel is identified by its name alone, everywhere: the disclosure form's select offers names,
    the CLI takes names. Never also by id, or a channel named "2" and the channel with id 2 could be
    confused.
    """
    row = ctx.db.execute("SELECT id, name, description, regime FROM channels WHERE name = ?",
                         [(name or "").strip()]).fetchone()
    return _channel(row) if row else None


def channel_officers(ctx: Context, channel_id: int) -> list[Account]:
    rows = ctx.db.execute(
        "SELECT a.id, a.email, a.name, a.role, a.public_key FROM accounts a "
        "JOIN channel_officers co ON co.account_id = a.id WHERE co.channel_id = ? AND a.role = 'officer' "
        "ORDER BY a.name", [channel_id]).fetchall()
    return [Account(*row) for row in rows]


def get_account(ctx: Context, account_id: int) -> Account | None:
    row = ctx.db.execute("SELECT id, email, name, role, public_key FROM accounts WHERE id = ?",
                         [account_id]).fetchone()
    return Account(*row) if row else None


def account_id_for(ctx: Context, email: str) -> int | None:
    """The id of the account with this email address (case-insensitive), or None."""
    row = ctx.db.execute("SELECT id FROM accounts WHERE email = ?", [email.strip()]).fetchone()
    return row[0] if row else None


def add_account(ctx: Context, *, email: str, name: str, role: str, passphrase: str,
                channels: list[str] = ()) -> tuple[Account, str]:
    """Create an account with a fresh key pair; return it and its TOTP secret (shown once)."""
    email, name = email.strip(), name.strip()
    if role not in ROLES:
        raise AccountError(f"Unknown role {role!r}.")
    if "@" not in email or not name:
        raise AccountError("An account needs an email address and a name.")
    if len(passphrase) < 12:
        raise AccountError("The passphrase must be at least 12 characters long.")
    if role == "officer" and not channels:
        raise AccountError("An officer needs at least one channel.")
    found = [find_channel(ctx, c) for c in channels]
    missing = [c for c, ch in zip(channels, found) if ch is None]
    if missing:
        raise AccountError(f"No such channel: {', '.join(missing)}.")
    private_key, public_key = crypto.generate_keypair()
    with work_slots.key_derivation(ctx.settings):
        wrapped = crypto.wrap_private_key(private_key, passphrase, ctx.settings.passphrase_params)
    totp_secret = pyotp.random_base32()
    with transaction(ctx.db):
        if ctx.db.execute("SELECT 1 FROM accounts WHERE email = ?", [email]).fetchone():
            raise AccountError(f"An account for {email} already exists.")
        cursor = ctx.db.execute(
            "INSERT INTO accounts (email, name, role, public_key, wrapped_private_key, totp_secret, created_day) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            [email, name, role, public_key, wrapped, totp_secret, today(ctx.settings.timezone)])
        account_id = cursor.lastrowid
        for channel in found:
            ctx.db.execute("INSERT INTO channel_officers (channel_id, account_id) VALUES (?, ?)",
                           [channel.id, account_id])
        audit.record(ctx, "account_add", actor=None, subject=account_id,
                     detail={"role": role, "channels": len(found)})
    return Account(account_id, email, name, role, public_key), totp_secret


# Unwrapped when the email is unknown, so a failed sign-in costs the same either way.
_DECOY: dict[str, bytes] = {}


def prepare_decoy(settings: Settings) -> None:
    """Build the decoy wrapped key at start-up, so even the first unknown email costs one Argon2id run."""
    key = repr(settings.passphrase_params)
    if key not in _DECOY:
        _DECOY[key] = crypto.wrap_private_key(crypto.generate_keypair()[0], "decoy passphrase",
                                              settings.passphrase_params)


def _decoy_wrapped(ctx: Context) -> bytes:
    prepare_decoy(ctx.settings)
    return _DECOY[repr(ctx.settings.passphrase_params)]


def _unwrap(ctx: Context, wrapped: bytes, passphrase: str) -> bytes:
    """Argon2id under the process's key-derivation slots (work_slots.Busy when none comes free)."""
    with work_slots.key_derivation(ctx.settings):
        return crypto.unwrap_private_key(wrapped, passphrase)


def authenticate(ctx: Context, email: str, passphrase: str, totp_code: str) -> tuple[Account, bytes]:
    """Check passphrase and second factor; return the account and its unwrapped private key."""
    row = ctx.db.execute(
        "SELECT id, email, name, role, public_key, wrapped_private_key, totp_secret FROM accounts WHERE email = ?",
        [email.strip()]).fetchone()
    wrapped = row[5] if row else _decoy_wrapped(ctx)
    try:
        private_key = _unwrap(ctx, wrapped, passphrase)
    except crypto.CryptoError:
        private_key = None
    # pyotp compares in constant time; one step either side allows for clock drift.
    code = "".join(totp_code.split())
    totp_ok = row is not None and pyotp.TOTP(row[6]).verify(code, valid_window=1)
    if row is None or private_key is None or not totp_ok:
        raise LoginFailed()
    return Account(*row[:5]), private_key



def check_passphrase(ctx: Context, account_id: int, passphrase: str) -> bool:
    """Whether `passphrase` unwraps this account's private key (asked again before weighty actions)."""
    row = ctx.db.execute("SELECT wrapped_private_key FROM accounts WHERE id = ?", [account_id]).fetchone()
    try:
        _unwrap(ctx, row[0] if row else _decoy_wrapped(ctx), passphrase)
    except crypto.CryptoError:
        return False
    return row is not None


@dataclass(frozen=True)
class AccountSummary:
    account: Account
    channels: list[str]


def list_accounts(ctx: Context) -> list[AccountSummary]:
    rows = ctx.db.execute("SELECT id, email, name, role, public_key FROM accounts ORDER BY role, name").fetchall()
    summaries = []
    for row in rows:
        names = ctx.db.execute("SELECT ch.name FROM channels ch JOIN channel_officers co ON co.channel_id = ch.id "
                               "WHERE co.account_id = ? ORDER BY ch.name", [row[0]]).fetchall()
        summaries.append(AccountSummary(Account(*row), [n[0] for n in names]))
    return summaries


def add_to_channel(ctx: Context, account_id: int, channel_name: str, *, actor: int | None = None,
                   submission_token: str | None = None) -> None:
    """Make an officer a receiver of a channel's future disclosures (earlier cases need a grant).
    `actor`: the administrator; recorded in the audit log.

    Raises AccountError, or submissions.AlreadySubmitted for a resent form."""
    account, channel = get_account(ctx, account_id), find_channel(ctx, channel_name)
    if account is None or account.role != "officer":
        raise AccountError("Only an integrity officer can receive a channel's disclosures.")
    if channel is None:
        raise AccountError("There is no such channel.")
    with transaction(ctx.db):
        submissions.claim(ctx.db, submission_token, today(ctx.settings.timezone))
        ctx.db.execute("INSERT OR IGNORE INTO channel_officers (channel_id, account_id) VALUES (?, ?)",
                       [channel.id, account.id])
        audit.record(ctx, "membership_add", actor=actor, subject=account.id, channel=channel.id)

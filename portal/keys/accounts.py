"""Channels, officers and administrators: key pairs wrapped under passphrases, a second factor.

Every account has a key pair, so a sign-in is checked the same way for everyone: by unwrapping the
private key. An administrator's key is never sealed anything, so an administrator can decrypt
nothing.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import zxcvbn
from confusable_homoglyphs import confusables

import crypto
from portal.records import audit
from portal.keys import second_factor
from portal.guard import submissions, work_slots
from portal.core.clock import epoch, today
from portal.core.config import Settings
from portal.core.context import Context
from portal.store import transaction

ROLES = ("officer", "admin")
MIN_PASSPHRASE_LENGTH = 12
# zxcvbn's score 3: "safely unguessable: moderate protection from offline slow-hash scenario".
MIN_PASSPHRASE_SCORE = 3


class AccountError(Exception):
    """A request about accounts or channels that cannot be carried out; the message says why."""


class LoginFailed(Exception):
    """Sign-in failed. Deliberately says nothing of which part was wrong."""


REGIMES = ("nz", "eu")  # the statutory clock a channel follows: see portal.casework.deadlines


class WeakPassphrase(AccountError):
    """A passphrase the strength estimator (zxcvbn) rates guessable; the message carries its
    advice."""


def check_passphrase_strength(passphrase: str, user_inputs: list[str] = ()) -> None:
    """Refuse a short or guessable passphrase with the estimator's own advice. Raises
    WeakPassphrase."""
    if len(passphrase) < MIN_PASSPHRASE_LENGTH:
        raise WeakPassphrase(
            f"Use at least {MIN_PASSPHRASE_LENGTH} characters: several uncommon words work well."
        )
    # zxcvbn refuses more than 72 characters (its cost grows with length): the first 72 decide.
    # The person's own name and email, word by word, count as guessable.
    words = [w for u in user_inputs for w in re.split(r"[^\w]+", u.lower()) if w]
    result = zxcvbn.zxcvbn(passphrase[:72], user_inputs=words)
    if result["score"] < MIN_PASSPHRASE_SCORE:
        feedback = result["feedback"]
        advice = " ".join(filter(None, [feedback.get("warning"), *feedback.get("suggestions", [])]))
        raise WeakPassphrase(
            "This passphrase would be too easy to guess. "
            + (advice or "Add another word or two; uncommon words are better.")
        )


# Characters a person cannot see, or that reorder what follows, have no place in a display name.
_INVISIBLE_CATEGORIES = {"Cc", "Cf", "Co", "Cn", "Cs", "Zl", "Zp", "Sk", "Sm", "So", "Sc"}
_INVISIBLE = {"\u115f", "\u1160", "\u3164", "\uffa0"}  # Hangul fillers: letters that show nothing
# Unicode TR 39 confusables among ASCII itself, applied after case folding, so a capital I (folded
# to i), a 1 and an l all meet.
_ASCII_SKELETON = (
    ("rn", "m"),
    ("vv", "w"),
    ("cl", "d"),
    ("i", "l"),
    ("1", "l"),
    ("|", "l"),
    ("0", "o"),
)
_EMAIL = re.compile(r"[!-?A-~]{1,64}@[!-?A-~]{1,255}")  # printable ASCII, no space, exactly one @


def check_display_name(name: str) -> None:
    """Refuse a display name with invisible, control, direction or symbol characters, or letters
    from
    more than one script (a Cyrillic "а" among Latin ones). Raises AccountError."""
    if any(unicodedata.category(ch) in _INVISIBLE_CATEGORIES or ch in _INVISIBLE for ch in name):
        raise AccountError(
            "A display name can only hold letters, digits, spaces and punctuation: no invisible "
            "characters or symbols."
        )
    if confusables.is_mixed_script(name):
        raise AccountError(
            "A display name must be written in one script, so that it cannot imitate another."
        )


def check_email(email: str) -> None:
    """Email addresses are compared exactly (case aside), so they are kept to printable ASCII."""
    if not _EMAIL.fullmatch(email):
        raise AccountError(
            "Give the email address in plain letters, digits and punctuation, with one @ and "
            "no spaces."
        )


def name_key(name: str) -> str:
    """What two display names must not share (Unicode TR 39's skeleton, in spirit): compatibility
    forms
    folded (NFKD), combining marks, spaces and punctuation dropped, characters Unicode lists as
    confusable
    with Latin ones mapped to them, case folded, then ASCII look-alikes (I and l, rn and m, 0 and O)
    mapped. So "Ana", "ＡＮＡ", a Cyrillic "Аna", "Ána" and "AIice"/"Alice" collide."""
    decomposed = unicodedata.normalize("NFKD", name)
    kept = [ch for ch in decomposed if unicodedata.category(ch)[0] in "LN"]
    out = []
    for ch in kept:
        found = (
            confusables.is_confusable(ch, preferred_aliases=[], greedy=True)
            if not ch.isascii()
            else False
        )
        if found:
            ch = min(
                (h["c"] for h in found[0]["homoglyphs"]), key=lambda c: (not c.isascii(), len(c), c)
            )
        out.append(ch)
    text = unicodedata.normalize("NFKD", "".join(out)).casefold()
    for look_alike, letter in _ASCII_SKELETON:
        text = text.replace(look_alike, letter)
    return text


def check_name_and_email_free(ctx: Context, name: str, email: str) -> str:
    """Refuse a display name that looks like another account's or a live invitation's, or an email
    in
    use; return the name's key. Display names are unique so that a reader list cannot hide a double.
    """
    check_display_name(name)
    check_email(email)
    key = name_key(name)
    now = epoch()
    taken = ctx.db.execute(
        "SELECT name FROM accounts UNION ALL "
        "SELECT name FROM invitations WHERE used = 0 AND expires_at > ?",
        [now],
    ).fetchall()
    if any(name_key(row[0]) == key for row in taken):
        raise AccountError(
            "Another person already has this display name, or one that looks the same. "
            "Add a middle initial or a team name."
        )
    if ctx.db.execute(
        "SELECT 1 FROM accounts WHERE email = ? UNION ALL SELECT 1 FROM invitations "
        "WHERE email = ? AND used = 0 AND expires_at > ?",
        [email, email, now],
    ).fetchone():
        raise AccountError(f"An account or invitation for {email} already exists.")
    return key


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


def add_channel(
    ctx: Context,
    name: str,
    description: str = "",
    regime: str = "nz",
    *,
    actor: int | None = None,
    submission_token: str | None = None,
) -> Channel:
    """Add a channel (`actor`: the administrator, None at the command line); recorded in the audit
    log.
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
        cursor = ctx.db.execute(
            "INSERT INTO channels (name, description, regime) VALUES (?, ?, ?)",
            [name, description, regime],
        )
        audit.record(ctx, "channel_add", actor=actor, channel=cursor.lastrowid)
    return Channel(id=cursor.lastrowid, name=name, description=description, regime=regime)


def list_channels(ctx: Context, *, with_officers_only: bool = False) -> list[Channel]:
    sql = "SELECT id, name, description, regime FROM channels"
    if with_officers_only:
        sql += (
            " WHERE EXISTS (SELECT 1 FROM channel_officers co WHERE co.channel_id = channels.id AND"
            " co.state = 'confirmed')"
        )
    return [_channel(row) for row in ctx.db.execute(sql + " ORDER BY name").fetchall()]


def get_channel(ctx: Context, channel_id: int) -> Channel | None:
    row = ctx.db.execute(
        "SELECT id, name, description FROM channels WHERE id = ?", [channel_id]
    ).fetchone()
    return _channel(row) if row else None


def find_channel(ctx: Context, name: str) -> Channel | None:
    """The channel named exactly `name` (surrounding spaces aside), else None.

    A channel is identified by its name alone, everywhere: the disclosure form's select offers
    names,
    the CLI takes names. Never also by id, or a channel named "2" and the channel with id 2 could be
    confused.
    """
    row = ctx.db.execute(
        "SELECT id, name, description, regime FROM channels WHERE name = ?", [(name or "").strip()]
    ).fetchone()
    return _channel(row) if row else None


def channel_officers(ctx: Context, channel_id: int) -> list[Account]:
    """The channel's readers: its officers whose membership is confirmed (pending ones receive
    nothing)."""
    rows = ctx.db.execute(
        "SELECT a.id, a.email, a.name, a.role, a.public_key FROM accounts a JOIN channel_officers"
        " co ON co.account_id = a.id WHERE co.channel_id = ? AND co.state = 'confirmed' AND a.role"
        " = 'officer' AND a.offboarded_day IS NULL ORDER BY a.name",
        [channel_id],
    ).fetchall()
    return [Account(*row) for row in rows]


def readers_by_channel(ctx: Context) -> dict[int, list[str]]:
    """For the disclosure form: each channel's readers' display names, so a discloser can choose."""
    readers: dict[int, list[str]] = {}
    for channel_id, name in ctx.db.execute(
        "SELECT co.channel_id, a.name FROM channel_officers co JOIN accounts a ON a.id ="
        " co.account_id WHERE co.state = 'confirmed' AND a.role = 'officer' ORDER BY a.name"
    ).fetchall():
        readers.setdefault(channel_id, []).append(name)
    return readers


def get_account(ctx: Context, account_id: int) -> Account | None:
    row = ctx.db.execute(
        "SELECT id, email, name, role, public_key FROM accounts WHERE id = ?", [account_id]
    ).fetchone()
    return Account(*row) if row else None


def is_offboarded(ctx: Context, account_id: int) -> bool:
    """Whether the account was offboarded (access.offboard): it can never be a reader again."""
    row = ctx.db.execute(
        "SELECT offboarded_day FROM accounts WHERE id = ?", [account_id]
    ).fetchone()
    return bool(row and row[0])


def account_id_for(ctx: Context, email: str) -> int | None:
    """The id of the account with this email address (case-insensitive), or None."""
    row = ctx.db.execute("SELECT id FROM accounts WHERE email = ?", [email.strip()]).fetchone()
    return row[0] if row else None


def fingerprint(account: Account) -> str:
    """The account's key fingerprint, for fellow officers to compare with it directly before
    confirming."""
    return crypto.key_fingerprint(account.public_key)


def get_account_by_email(ctx: Context, email: str) -> Account | None:
    row = ctx.db.execute(
        "SELECT id, email, name, role, public_key FROM accounts WHERE email = ?", [email.strip()]
    ).fetchone()
    return Account(*row) if row else None


def add_account(
    ctx: Context, *, email: str, name: str, role: str, passphrase: str, channels: list[str] = ()
) -> tuple[Account, str]:
    """Create an account with a fresh key pair; return it and its TOTP secret (shown once)."""
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
            must_change_credentials=role == "officer",
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
                "added by the server's operator (command line)",
                "the server's operator",
            )
        audit.record(
            ctx,
            "account_add",
            actor=None,
            subject=account_id,
            detail={"role": role, "channels": len(found)},
        )
    return Account(account_id, email, name, role, public_key), totp_secret


def resolve_channels(ctx: Context, channels, *, required: bool) -> list[Channel]:
    if required and not channels:
        raise AccountError("An officer needs at least one channel.")
    found = [find_channel(ctx, c) for c in channels]
    missing = [c for c, ch in zip(channels, found) if ch is None]
    if missing:
        raise AccountError(f"No such channel: {', '.join(missing)}.")
    return found


def insert_account(
    ctx: Context,
    *,
    email: str,
    name: str,
    key: str,
    role: str,
    public_key: bytes,
    wrapped: bytes,
    totp_secret: str,
    must_change_credentials: bool,
) -> int:
    """Insert one account row (inside the caller's transaction); return its id."""
    cursor = ctx.db.execute(
        "INSERT INTO accounts (email, name, name_key, role, public_key, wrapped_private_key,"
        " totp_secret, must_change_credentials, created_day) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            email,
            name,
            key,
            role,
            public_key,
            wrapped,
            totp_secret,
            int(must_change_credentials),
            today(ctx.settings.timezone),
        ],
    )
    return cursor.lastrowid


def record_membership_event(
    ctx: Context, channel_id: int, subject: str, action: str, actor: str
) -> None:
    """Note a membership change for the channel's officers to see (inside the caller's
    transaction)."""
    ctx.db.execute(
        "INSERT INTO membership_events (channel_id, subject, action, actor, day) VALUES (?, ?, ?,"
        " ?, ?)",
        [channel_id, subject, action, actor, today(ctx.settings.timezone)],
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
    with work_slots.key_derivation(ctx.settings):
        return crypto.wrap_private_key(private_key, passphrase, ctx.settings.passphrase_params)


def _unwrap(ctx: Context, wrapped: bytes, passphrase: str) -> bytes:
    """Argon2id under the process's key-derivation slots (work_slots.Busy when none comes free)."""
    with work_slots.key_derivation(ctx.settings):
        return crypto.unwrap_private_key(wrapped, passphrase)


@dataclass(frozen=True)
class Authenticated:
    account: Account
    private_key: bytes
    must_change_credentials: bool


def authenticate(ctx: Context, email: str, passphrase: str, code: str) -> Authenticated:
    """Check passphrase and second factor (a TOTP code, or one of the account's recovery codes,
    which is
    then used up); return the account and its unwrapped private key. Raises LoginFailed."""
    row = ctx.db.execute(
        "SELECT id, email, name, role, public_key, wrapped_private_key, totp_secret,"
        " must_change_credentials FROM accounts WHERE email = ?",
        [email.strip()],
    ).fetchone()
    wrapped = row[5] if row else _decoy_wrapped(ctx)
    try:
        private_key = _unwrap(ctx, wrapped, passphrase)
    except crypto.CryptoError:
        private_key = None
    if row is None or private_key is None or not use_second_factor(ctx, row[0], row[6], code):
        raise LoginFailed()
    return Authenticated(Account(*row[:5]), private_key, bool(row[7]))


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
        private_key = _unwrap(ctx, row[0] if row else _decoy_wrapped(ctx), passphrase)
    except crypto.CryptoError:
        raise LoginFailed() from None
    if row is None:
        raise LoginFailed()
    return private_key


def holds_fresh_code(ctx: Context, account_id: int, code: str) -> bool:
    """Whether `code` is the account's TOTP code for a step not yet used, without using it up (the
    sign-in that follows does). Only someone with the account's second factor can make this true."""
    code = second_factor.normalise_code(code)
    row = ctx.db.execute(
        "SELECT totp_secret, totp_last_step FROM accounts WHERE id = ?", [account_id]
    ).fetchone()
    if row is None or not second_factor.looks_like_totp(code):
        return False
    step = second_factor.matching_step(row[0], code)
    return step is not None and step > row[1]


def use_second_factor(ctx: Context, account_id: int, totp_secret: str, code: str) -> bool:
    """Accept a TOTP code for a step later than the last one used (replay guard), or an unused
    recovery code, consuming it. Both are claimed with one conditional write, so two requests
    racing with the same code cannot both win."""
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


def check_passphrase(ctx: Context, account_id: int, passphrase: str) -> bool:
    """Whether `passphrase` unwraps this account's private key (asked again before weighty
    actions)."""
    try:
        unwrap_with_passphrase(ctx, account_id, passphrase)
    except LoginFailed:
        return False
    return True


@dataclass(frozen=True)
class AccountSummary:
    account: Account
    channels: list[str]
    offboarded_day: str | None = None


def list_accounts(ctx: Context) -> list[AccountSummary]:
    rows = ctx.db.execute(
        "SELECT id, email, name, role, public_key, offboarded_day FROM accounts ORDER BY role, name"
    ).fetchall()
    summaries = []
    for *row, offboarded_day in rows:
        names = ctx.db.execute(
            "SELECT ch.name, co.state FROM channels ch JOIN channel_officers co ON co.channel_id ="
            " ch.id WHERE co.account_id = ? ORDER BY ch.name",
            [row[0]],
        ).fetchall()
        summaries.append(
            AccountSummary(
                Account(*row),
                [
                    (
                        n
                        if state == "confirmed"
                        else f"{n} (waiting for an officer of the channel to confirm)"
                    )
                    for n, state in names
                ],
                offboarded_day,
            )
        )
    return summaries

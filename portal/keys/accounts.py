"""Officers' and administrators' accounts: display names and email addresses that cannot imitate
another's, and the account rows.

Every account has a key pair, so a sign-in is checked the same way for everyone: by unwrapping the
private key (portal/keys/credentials.py). An administrator's key is never sealed anything, so an
administrator can decrypt nothing.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from confusable_homoglyphs import confusables

import crypto
from portal.core.clock import epoch, today
from portal.core.context import Context
from portal.core.words import N_, Sentence

ROLES = ("officer", "admin")


class AccountError(Exception):
    """A request about accounts or channels that cannot be carried out; the message says why."""


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
    from more than one script (a Cyrillic "а" among Latin ones). Raises AccountError."""
    if any(unicodedata.category(ch) in _INVISIBLE_CATEGORIES or ch in _INVISIBLE for ch in name):
        raise AccountError(
            N_("A display name can only hold letters, digits, spaces and punctuation: no invisible "
            "characters or symbols.")
        )
    if confusables.is_mixed_script(name):
        raise AccountError(
            N_("A display name must be written in one script, so that it cannot imitate another.")
        )


def check_email(email: str) -> None:
    """Email addresses are compared exactly (case aside), so they are kept to printable ASCII."""
    if not _EMAIL.fullmatch(email):
        raise AccountError(
            N_("Give the email address in plain letters, digits and punctuation, with one @ and "
            "no spaces.")
        )


def name_key(name: str) -> str:
    """What two display names must not share (Unicode TR 39's skeleton, in spirit): compatibility
    forms folded (NFKD), combining marks, spaces and punctuation dropped, characters Unicode lists
    as confusable with Latin ones mapped to them, case folded, then ASCII look-alikes (I and l, rn
    and m, 0 and O) mapped. So "Ana", "ＡＮＡ", a Cyrillic "Аna", "Ána" and "AIice"/"Alice"
    collide."""
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
    in use; return the name's key. Display names are unique so that a reader list cannot hide a
    double.
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
            N_("Another person already has this display name, or one that looks the same. "
            "Add a middle initial or a team name.")
        )
    if ctx.db.execute(
        "SELECT 1 FROM accounts WHERE email = ? UNION ALL SELECT 1 FROM invitations "
        "WHERE email = ? AND used = 0 AND expires_at > ?",
        [email, email, now],
    ).fetchone():
        raise AccountError(
            Sentence(N_("An account or invitation for %(email)s already exists."), email=email)
        )
    return key


@dataclass(frozen=True)
class Account:
    id: int
    email: str
    name: str
    role: str
    public_key: bytes  # X25519, 32 bytes
    # Ed25519, 32 bytes; None for an administrator, and for an officer until their own sign-in or
    # set-up makes it (portal/keys/signing_keys.py)
    signing_public_key: bytes | None = None


# The columns of an Account, in its fields' order (prefix with a table alias where needed).
ACCOUNT_COLUMNS = "id, email, name, role, public_key, signing_public_key"
# A channel of an officer's that waits for an officer of it to confirm them (list_accounts).
WAITING_MEMBERSHIP = N_("%(channel)s (waiting for an officer of the channel to confirm)")


def get_account(ctx: Context, account_id: int) -> Account | None:
    row = ctx.db.execute(
        f"SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE id = ?", [account_id]
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
        f"SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE email = ?", [email.strip()]
    ).fetchone()
    return Account(*row) if row else None


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
        " totp_secret, must_change_credentials, created_day) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
        " RETURNING id",
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
    return cursor.fetchone()[0]


@dataclass(frozen=True)
class AccountSummary:
    account: Account
    channels: list[str]
    offboarded_day: str | None = None


def list_accounts(ctx: Context) -> list[AccountSummary]:
    rows = ctx.db.execute(
        f"SELECT {ACCOUNT_COLUMNS}, offboarded_day FROM accounts ORDER BY role, name"
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
                        else Sentence(WAITING_MEMBERSHIP, channel=n)
                    )
                    for n, state in names
                ],
                offboarded_day,
            )
        )
    return summaries

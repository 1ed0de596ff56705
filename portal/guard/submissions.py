"""One-time submission tokens: the same form sent twice (a reload that resends it, Back then Send, a
double click) creates one thing, not two.

Every form that creates something carries a random hidden `submission_token`, fresh on every page
(`portal.web.forms.OneTimeForm`). The domain function that creates the thing calls `claim` inside
the same transaction, first: the first request with a token stores its SHA-256 and goes on; any
later request with the same token raises AlreadySubmitted and its transaction rolls back, so nothing
new is made. Only the hash and the day are kept, nothing about what was sent (and never a receipt),
and only for `KEEP_DAYS`. A request without a token is simply not deduplicated (older pages,
scripts).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import sqlite3

from portal.store import Database

KEEP_DAYS = 60
MAX_TOKEN_LENGTH = 100


class AlreadySubmitted(Exception):
    """This form was already received once; nothing new was created."""


def new_token() -> str:
    """A fresh token for one rendering of a form: 192 bits from the OS CSPRNG, URL-safe text."""
    return secrets.token_urlsafe(24)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", errors="replace")).hexdigest()


def _usable(token: str | None) -> bool:
    return bool(token) and len(token) <= MAX_TOKEN_LENGTH


def was_claimed(db: Database, token: str | None) -> bool:
    """Whether `token` was already used: a cheap early answer before costly work; `claim`
    decides."""
    if not _usable(token):
        return False
    return (
        db.execute(
            "SELECT 1 FROM submission_tokens WHERE token_hash = ?", [_hash(token)]
        ).fetchone()
        is not None
    )


def claim(db: Database, token: str | None, day: str) -> None:
    """Record `token` as used on `day` (YYYY-MM-DD). Call inside the transaction that creates the
    thing.

    Raises AlreadySubmitted if it was used before. A missing or over-long token claims nothing.
    """
    if not _usable(token):
        return
    cutoff = (dt.date.fromisoformat(day) - dt.timedelta(days=KEEP_DAYS)).isoformat()
    db.execute("DELETE FROM submission_tokens WHERE day < ?", [cutoff])
    try:
        db.execute(
            "INSERT INTO submission_tokens (token_hash, day) VALUES (?, ?)", [_hash(token), day]
        )
    except sqlite3.IntegrityError as exc:
        raise AlreadySubmitted() from exc

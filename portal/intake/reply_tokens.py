"""The token a sealing page makes for each reply it sends (issue 27): when the answer to a sealed
reply is lost on the way back, the page sends the same reply again with the same token, and the
portal answers as it did the first time and stores nothing new.

The token is 128 random bits from the discloser's browser, sent with the reply. The portal keeps
only a keyed hash of it with the case it was sent to (HMAC-SHA-256 under a subkey of the
installation's secret key), and the day, for `KEEP_DAYS`: never the token, and nothing beside the
hash that names the case, the message or the discloser. The table is ordered by the hash (no row
id), so the order rows were written in says nothing either (migration 46)."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import sqlite3

import crypto
from portal.core.context import Context

KEEP_DAYS = 60


class AlreadyKept(Exception):
    """A reply with this token was stored before: nothing new was stored."""


def _hash(ctx: Context, case_id: str, token: str) -> str:
    key = crypto.derive_subkey(ctx.settings.secret_key, "reply-token")
    return hmac.new(key, f"{case_id}\0{token}".encode(), hashlib.sha256).hexdigest()


def was_kept(ctx: Context, case_id: str, token: str | None) -> bool:
    """Whether a reply to `case_id` was stored with `token` (None: the page sent no token)."""
    if token is None:
        return False
    row = ctx.db.execute(
        "SELECT 1 FROM sealed_reply_tokens WHERE token_hash = ?", [_hash(ctx, case_id, token)]
    ).fetchone()
    return row is not None


def keep(ctx: Context, case_id: str, token: str | None, day: str) -> None:
    """Note `token` as stored for `case_id` on `day` (YYYY-MM-DD), inside the transaction that
    stores the reply; AlreadyKept if it was (a resend racing the first), which rolls it back."""
    if token is None:
        return
    cutoff = (dt.date.fromisoformat(day) - dt.timedelta(days=KEEP_DAYS)).isoformat()
    ctx.db.execute("DELETE FROM sealed_reply_tokens WHERE day < ?", [cutoff])
    try:
        ctx.db.execute(
            "INSERT INTO sealed_reply_tokens (token_hash, day) VALUES (?, ?)",
            [_hash(ctx, case_id, token), day],
        )
    except sqlite3.IntegrityError as exc:
        raise AlreadyKept() from exc

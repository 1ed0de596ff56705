"""Sessions that hold a key, split in two (SECURITY.md, "Sessions").

The server keeps the secret only encrypted under a random per-session key (`server_half`); the
client's cookie keeps that session key. Neither half alone opens anything. Two limits: an idle one
that slides with use, and an absolute one (`lifetime_seconds` from the start) that nothing extends;
an expired or closed session's server half is deleted.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import secrets
from dataclasses import dataclass

import crypto
from portal.core.clock import epoch
from portal.guard import throttle
from portal.store import Database, in_transaction, put_off_briefly, transaction


@dataclass(frozen=True)
class OpenSession:
    subject: str
    secret: bytes
    id: str = ""  # the stored (hashed) id: names this session in throttle buckets


def purge_expired(db: Database) -> int:
    """Delete every session past its idle or absolute end: an ended session leaves no row (and no
    expiry time to the second) behind. Run on every resume and at start-up."""
    now = epoch()
    with transaction(db):
        ended = db.execute(
            "DELETE FROM sessions WHERE expires_at < ? OR ends_at < ?", [now, now]
        ).rowcount
        throttle.purge_stale(db, now)  # counters of ended sessions and of days long past go too
    return ended


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _row_id(session_id: bytes) -> str:
    # Stored hashed, so a copy of the database does not hand out live session ids.
    return hashlib.sha256(session_id).hexdigest()


def _parse(cookie: str | None) -> tuple[bytes, bytes] | None:
    if not cookie or "." not in cookie:
        return None
    sid_text, key_text = cookie.split(".", 1)
    try:
        session_id, session_key = _unb64(sid_text), _unb64(key_text)
    except (binascii.Error, ValueError):
        return None
    if len(session_id) != 32 or len(session_key) != 32:
        return None
    return session_id, session_key


def start(
    db: Database,
    kind: str,
    subject: str,
    secret: bytes,
    idle_seconds: int,
    lifetime_seconds: int,
    *,
    replacing: str | None = None,
) -> str:
    """Store the server half and return the cookie value (session id and session key).

    `replacing`: the browser's earlier cookie, whose session ends now (a new sign-in never leaves an
    older session of the same browser alive)."""
    session_key, server_half = crypto.split_secret(secret)
    session_id = secrets.token_bytes(32)
    now = epoch()
    earlier = _parse(replacing)
    with transaction(db):
        db.execute("DELETE FROM sessions WHERE expires_at < ? OR ends_at < ?", [now, now])
        if earlier is not None:
            db.execute("DELETE FROM sessions WHERE id = ?", [_row_id(earlier[0])])
        db.execute(
            "INSERT INTO sessions (id, kind, subject, server_half, expires_at, ends_at) VALUES (?,"
            " ?, ?, ?, ?, ?)",
            [
                _row_id(session_id),
                kind,
                subject,
                server_half,
                now + idle_seconds,
                now + lifetime_seconds,
            ],
        )
    return f"{_b64(session_id)}.{_b64(session_key)}"


def resume(db: Database, kind: str, cookie: str | None, idle_seconds: int) -> OpenSession | None:
    """Join the halves of a live session and extend it; None if missing, expired or forged. Removing
    ended sessions waits for a disk with room, and for the write lock only briefly
    (portal.store.put_off_briefly): reading goes on."""
    put_off_briefly(db, purge_expired, db)
    parsed = _parse(cookie)
    if parsed is None:
        return None
    session_id, session_key = parsed
    row_id = _row_id(session_id)
    row = db.execute(
        "SELECT kind, subject, server_half, expires_at, ends_at FROM sessions WHERE id = ?",
        [row_id],
    ).fetchone()
    if row is None or row[0] != kind:
        return None
    now = epoch()
    if row[3] < now or row[4] < now:
        # An ended row opens nothing; removing it can wait for a disk with room (purge_expired
        # takes it later), so a full disk or a held lock still shows the receipt or sign-in form.
        put_off_briefly(db, end, db, cookie)
        return None
    try:
        secret = crypto.join_secret(session_key, row[2])
    except crypto.DecryptionError:
        return None
    # Extended while the storage can be written; on a full disk or a held lock the session stays
    # as it was and can still be read (its idle end is not moved).
    put_off_briefly(db, _extend, db, row_id, min(now + idle_seconds, row[4]))
    return OpenSession(subject=row[1], secret=secret, id=row_id)


def _extend(db: Database, row_id: str, expires_at: int) -> None:
    with transaction(db):
        db.execute("UPDATE sessions SET expires_at = ? WHERE id = ?", [expires_at, row_id])


def end(db: Database, cookie: str | None) -> tuple[str, str] | None:
    """Delete the session's server half; return its (kind, subject) if there was one."""
    parsed = _parse(cookie)
    if parsed is None:
        return None
    with transaction(db):
        row = db.execute(
            "DELETE FROM sessions WHERE id = ? RETURNING kind, subject", [_row_id(parsed[0])]
        ).fetchone()
    return (row[0], row[1]) if row else None


def end_all_for(db: Database, kind: str, subject: str, *, keep: str | None = None) -> int:
    """End every session of this subject (sign out everywhere), except the one of cookie `keep` if
    given; return how many ended. Runs inside the caller's transaction if there is one."""
    parsed = _parse(keep)
    kept = _row_id(parsed[0]) if parsed else ""

    def delete() -> int:
        return db.execute(
            "DELETE FROM sessions WHERE kind = ? AND subject = ? AND id != ?", [kind, subject, kept]
        ).rowcount

    if in_transaction(db):
        return delete()
    with transaction(db):
        return delete()

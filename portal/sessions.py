"""Sessions that hold a key, split in two (DESIGN.md, "Sessions that hold keys").

The server keeps the secret only encrypted under a random per-session key (`server_half`); the
client's cookie keeps that session key. Neither half alone opens anything. Expiry slides with use;
an expired or closed session's server half is deleted.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import secrets
from dataclasses import dataclass

import crypto
from portal.clock import epoch
from portal.store import Database, transaction


@dataclass(frozen=True)
class OpenSession:
    subject: str
    secret: bytes


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


def start(db: Database, kind: str, subject: str, secret: bytes, idle_seconds: int) -> str:
    """Store the server half and return the cookie value (session id and session key)."""
    session_key, server_half = crypto.split_secret(secret)
    session_id = secrets.token_bytes(32)
    with transaction(db):
        db.execute("DELETE FROM sessions WHERE expires_at < ?", [epoch()])
        db.execute("INSERT INTO sessions (id, kind, subject, server_half, expires_at) VALUES (?, ?, ?, ?, ?)",
                   [_row_id(session_id), kind, subject, server_half, epoch() + idle_seconds])
    return f"{_b64(session_id)}.{_b64(session_key)}"


def resume(db: Database, kind: str, cookie: str | None, idle_seconds: int) -> OpenSession | None:
    """Join the halves of a live session and extend it; None if missing, expired or forged."""
    parsed = _parse(cookie)
    if parsed is None:
        return None
    session_id, session_key = parsed
    row_id = _row_id(session_id)
    row = db.execute("SELECT kind, subject, server_half, expires_at FROM sessions WHERE id = ?",
                     [row_id]).fetchone()
    if row is None or row[0] != kind:
        return None
    if row[3] < epoch():
        end(db, cookie)
        return None
    try:
        secret = crypto.join_secret(session_key, row[2])
    except crypto.DecryptionError:
        return None
    with transaction(db):
        db.execute("UPDATE sessions SET expires_at = ? WHERE id = ?", [epoch() + idle_seconds, row_id])
    return OpenSession(subject=row[1], secret=secret)


def end(db: Database, cookie: str | None) -> tuple[str, str] | None:
    """Delete the session's server half; return its (kind, subject) if there was one."""
    parsed = _parse(cookie)
    if parsed is None:
        return None
    with transaction(db):
        row = db.execute("DELETE FROM sessions WHERE id = ? RETURNING kind, subject", [_row_id(parsed[0])]).fetchone()
    return (row[0], row[1]) if row else None


def end_all_for(db: Database, kind: str, subject: str) -> None:
    with transaction(db):
        db.execute("DELETE FROM sessions WHERE kind = ? AND subject = ?", [kind, subject])

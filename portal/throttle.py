"""Fixed-window counters kept in the database, so every worker shares them. No client address is used."""
from __future__ import annotations

from portal.clock import epoch
from portal.store import Database, transaction


def hit(db: Database, bucket: str, limit: int, window_seconds: int) -> int | None:
    """Count one event in `bucket`. Return None if allowed, else the seconds until the window resets."""
    now = epoch()
    with transaction(db):
        row = db.execute("SELECT window_start, count FROM throttle WHERE bucket = ?", [bucket]).fetchone()
        if row is None or now - row[0] >= window_seconds:
            db.execute("INSERT OR REPLACE INTO throttle (bucket, window_start, count) VALUES (?, ?, 1)",
                       [bucket, now])
            return None
        window_start, count = row
        if count >= limit:
            return max(1, window_start + window_seconds - now)
        db.execute("UPDATE throttle SET count = count + 1 WHERE bucket = ?", [bucket])
        return None

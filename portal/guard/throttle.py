"""Fixed-window counters kept in the database, so every worker shares them. No client address is
used.

A window's start is stored rounded down to a multiple of the window's length, so a counter records
which window something happened in, never the second (SECURITY.md, "Budgets")."""

from __future__ import annotations

from portal.core.clock import epoch
from portal.store import Database, transaction


def window_of(now: int, window_seconds: int, offset: int = 0) -> int:
    """The start of the window holding `now`; `offset` (seconds east of UTC) moves daily windows to
    the installation's midnight (clock.utc_offset_seconds)."""
    return now - (now + offset) % window_seconds


def hit(db: Database, bucket: str, limit: int, window_seconds: int) -> int | None:
    """Count one event in `bucket`. Return None if allowed, else the seconds until the window
    resets."""
    now = epoch()
    start = window_of(now, window_seconds)
    with transaction(db):
        row = db.execute(
            "SELECT window_start, count FROM throttle WHERE bucket = ?", [bucket]
        ).fetchone()
        if row is None or row[0] != start:
            db.execute(
                "INSERT INTO throttle (bucket, window_start, count) VALUES (?, ?, 1)"
                " ON CONFLICT (bucket) DO UPDATE SET window_start = excluded.window_start,"
                " count = 1",
                [bucket, start],
            )
            return None
        if row[1] >= limit:
            return max(1, start + window_seconds - now)
        db.execute("UPDATE throttle SET count = count + 1 WHERE bucket = ?", [bucket])
        return None


def spent(db: Database, bucket: str, window_seconds: int, offset: int = 0) -> int:
    """How much of `bucket` the current window has used (0 in a fresh window)."""
    row = db.execute(
        "SELECT window_start, count FROM throttle WHERE bucket = ?", [bucket]
    ).fetchone()
    return row[1] if row and row[0] == window_of(epoch(), window_seconds, offset) else 0


def add(db: Database, bucket: str, amount: int, window_seconds: int, offset: int = 0) -> None:
    """Add `amount` to the current window of `bucket` (for budgets counted in bytes, not events)."""
    with transaction(db):
        add_in_transaction(db, bucket, amount, window_seconds, offset)


def add_in_transaction(
    db: Database, bucket: str, amount: int, window_seconds: int, offset: int = 0
) -> None:
    """`add`, in the caller's transaction: the count is kept with what it counts, or not at all."""
    start = window_of(epoch(), window_seconds, offset)
    db.execute(
        "INSERT INTO throttle (bucket, window_start, count) VALUES (?, ?, ?) ON CONFLICT"
        " (bucket) DO UPDATE SET count = CASE WHEN throttle.window_start ="
        " excluded.window_start THEN throttle.count + excluded.count ELSE excluded.count END,"
        " window_start = excluded.window_start",
        [bucket, start, amount],
    )


def seconds_left(window_seconds: int, offset: int = 0) -> int:
    now = epoch()
    return max(1, window_of(now, window_seconds, offset) + window_seconds - now)


def purge_stale(db: Database, now: int) -> None:
    """In the caller's transaction: delete counters whose window began two days or more before `now`
    (the longest window is a day): an old counter says only that something was used then."""
    db.execute("DELETE FROM throttle WHERE window_start < ?", [now - 2 * 86400])


def forget(db: Database, bucket: str) -> None:
    with transaction(db):
        db.execute("DELETE FROM throttle WHERE bucket = ?", [bucket])

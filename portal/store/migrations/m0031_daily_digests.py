"""Migration 31 [order]: the daily reminder (portal.operations.notifications): whether each officer
wants it, on for every account as digests were sent to every officer before. The digest kept per
officer (`notification_digests`) is now the slot of the day's last one; its fingerprint of what
waited is no longer used (kept empty).
"""

NUMBER = 31

STATEMENTS: list[str] = [
    "ALTER TABLE accounts ADD COLUMN daily_digest INTEGER NOT NULL DEFAULT 1",
    "UPDATE notification_digests SET fingerprint = ''",
]

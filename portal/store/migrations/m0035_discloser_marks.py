"""Migration 35 [order]: where each discloser last wrote in their conversation, kept for them alone.

Since migration 30 a discloser's messages sort after the officers' of the same day, so "the
officers' messages after the discloser's latest" no longer tells what is new to a discloser who
wrote in the morning and was answered in the afternoon. `seen_ct` is the officers' latest message
key when the discloser last wrote, sealed to the discloser's receipt-derived key: only their
status session opens it, so neither the officers nor a copy of the disk learn where in the day's
exchange they wrote (portal.records.case_history.discloser_wrote)."""

NUMBER = 35

STATEMENTS: list[str] = [
    """CREATE TABLE discloser_marks (
            case_id TEXT PRIMARY KEY REFERENCES cases(id) ON DELETE CASCADE,
            seen_ct BLOB NOT NULL
        ) WITHOUT ROWID""",
]

"""Migration 30 [order]: rows a discloser makes keep no order that dates them (issue 26;
SECURITY.md, "What the data around a disclosure reveals").

- Random row ids. A table with a text or composite primary key still has SQLite's hidden rowid,
  given as the largest so far plus one: the rows' ids (and the b-tree they are stored in) were the
  order they came in, so a discloser's reply sat between two officer actions the audit log times to
  the second. Each table a disclosure, a reply or a status check writes now moves every new row to
  a random 63-bit rowid as it is inserted (a trigger, so no code path can forget), and the rows
  already there are given random ones. None of these rowids is referenced: the keys are text ids.
- Messages' order key. `messages.seq` was 1, 2, 3 ... per case, interleaving the discloser's
  messages with the officers'. It becomes a key that sorts by day (the day's ordinal << 40), then
  the officers' messages of that day in the order they were sent (1, 2, 3 ...), then the
  discloser's messages of that day by a random key (2**39 + a random 39-bit number): the
  conversation reads by day, and nothing finer is kept of when a discloser wrote
  (portal.records.case_history.message_place). The bound ciphertexts do not include seq.
- `audit_pending`: audit entries about what a discloser did wait here, keyed by a random id and
  holding the day only, until the day has ended; they are then appended to the chain together, in
  random order (portal.records.audit.close_past_days).
"""

NUMBER = 30

# Tables that receive rows when a disclosure, a reply or a status check comes in, and every other
# table holding a case's rows by a rowid (an officer's row there costs nothing random);
# tests/records/test_row_order.py finds any table holding a case's rows missing from this list.
RANDOM_ROWID_TABLES = (
    "cases",
    "case_fields",
    "case_keys",
    "internal_keys",
    "identity_keys",
    "identity_fields",
    "recovery_copies",
    "messages",
    "attachments",
    "status_events",
    "sessions",
    "throttle",
    "oral_disclosures",
    "consent_requests",
    "case_steps",
    "case_extensions",
    "progress_updates",
    "case_notes",
    "referrals",
    "identity_releases",
)

_RANDOM_ROWID = "(random() & 0x7FFFFFFFFFFFFFFF)"
_DAY_ORDINAL = "CAST(julianday(day) - 1721424.5 AS INTEGER)"  # = datetime.date.toordinal()

STATEMENTS: list[str] = [
    *[
        f"""CREATE TRIGGER random_rowid_{table} AFTER INSERT ON {table} BEGIN
                UPDATE {table} SET rowid = {_RANDOM_ROWID} WHERE rowid = new.rowid;
            END"""
        for table in RANDOM_ROWID_TABLES
    ],
    *[f"UPDATE {table} SET rowid = {_RANDOM_ROWID}" for table in RANDOM_ROWID_TABLES],
    # Old keys are at most the number of messages of a case, far below the new ones: no clash.
    f"""UPDATE messages SET seq = ({_DAY_ORDINAL} << 40) + CASE author
            WHEN 'officer' THEN seq ELSE (1 << 39) + (random() & ((1 << 39) - 1)) END""",
    """CREATE TABLE audit_pending (
            id TEXT PRIMARY KEY,
            day TEXT NOT NULL,
            event TEXT NOT NULL,
            case_ref TEXT,
            detail TEXT NOT NULL
        ) WITHOUT ROWID""",
    "CREATE INDEX audit_pending_by_day ON audit_pending (day)",
]

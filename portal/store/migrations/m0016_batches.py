"""Migration 16 [cost]: indexes for every per-case lookup, the progress of long operations, and
statistics for the query planner.

- A case's sealed key copy for one officer (`case_id = ? AND account_id = ?`) was planned through
  the index by account alone, walking every key that officer holds: giving an officer every case
  of a channel was quadratic. The index by account and case finds it directly (and walks one
  officer's cases in id order, a batch at a time); the officers-only and identity keys have it as
  their primary key already.
- `long_operations`: how far a long operation (giving access to every case of a channel, recovery
  with a channel's recovery key) has got, so that one interrupted resumes after the last case done
  (portal.store.progress). No discloser content: ids, counts and case references only.
- ANALYZE, so the planner has statistics from the start (the plan test, tests/store/
  test_query_plans.py, also checks the plans against statistics modelling 100,000 cases).
"""

NUMBER = 16

STATEMENTS: list[str] = [
    "DROP INDEX case_keys_by_account",
    "CREATE INDEX case_keys_by_account ON case_keys (account_id, case_id)",
    # A case's attachments (the disclosure's own, then each message's), and the cascade from a
    # deleted message: both read every attachment without an index.
    "CREATE INDEX attachments_by_case ON attachments (case_id, message_id, seq)",
    "CREATE INDEX attachments_by_message ON attachments (message_id)",
    # A channel's cases in id order, a batch at a time (recovery, sealing to the recovery key).
    "CREATE INDEX cases_by_channel_id ON cases (channel_id, id)",
    "CREATE INDEX recovery_copies_by_table ON recovery_copies (key_table, case_id)",
    """CREATE TABLE long_operations (
            kind TEXT NOT NULL,
            scope TEXT NOT NULL,
            actor INTEGER,
            cursor TEXT NOT NULL DEFAULT '',
            total INTEGER NOT NULL,
            done INTEGER NOT NULL DEFAULT 0,
            counts TEXT NOT NULL DEFAULT '{}',
            skipped TEXT NOT NULL DEFAULT '',
            PRIMARY KEY (kind, scope)
        ) WITHOUT ROWID""",
    "ANALYZE",
]

"""Migration 23 [cost]: a case's attachments found by their case and message, so a page of
messages reads its files in one indexed query (portal.records.case_attachments), never by scanning
every case's attachments. Messages by case and number already have their index (UNIQUE (case_id,
seq), migration 1)."""

NUMBER = 23

STATEMENTS: list[str] = [
    "CREATE INDEX attachments_by_message ON attachments (case_id, message_id, seq)",
]

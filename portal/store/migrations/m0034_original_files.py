"""Migration 34 [hidden details]: the originals of files whose hidden details were removed, kept
for the discloser alone (portal.records.original_files). `sealed_key` is the originals' key
sealed to the discloser's receipt key; `handed_over_key_ct` that key under the case key, once the
discloser chose to hand the original over (the day only). A disclosure writes its rows, so they get
random rowids as in migration 30."""

NUMBER = 34

STATEMENTS: list[str] = [
    """CREATE TABLE original_files (
            id TEXT PRIMARY KEY,
            case_id TEXT NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
            blob TEXT NOT NULL UNIQUE,
            sealed_key BLOB NOT NULL,
            meta_ct BLOB NOT NULL,
            handed_over_key_ct BLOB,
            handed_over_day TEXT
        )""",
    "CREATE INDEX original_files_by_case ON original_files (case_id)",
    """CREATE TRIGGER random_rowid_original_files AFTER INSERT ON original_files BEGIN
            UPDATE original_files SET rowid = (random() & 0x7FFFFFFFFFFFFFFF)
            WHERE rowid = new.rowid;
        END""",
]

"""Migration 39 [issue 25]: each officer reader's own copy of a case key (`case_keys.key_copy`, kind
0x06 under a subkey of their private key, crypto/key_copies.py), written by their first search, so
that a later session's first search opens their cases without one X25519 a case.

The copy is in the same row as the sealed copy, so it goes with it (a reader removed, a case
deleted). When the sealed copy is replaced (a key rotated, credentials replaced at set-up, a grant
renewed), the trigger drops the copy: it was made under a private key that may no longer be the
reader's alone."""

NUMBER = 39

STATEMENTS: list[str] = [
    "ALTER TABLE case_keys ADD COLUMN key_copy BLOB",
    """CREATE TRIGGER case_key_copy_dropped AFTER UPDATE OF sealed_key ON case_keys
            WHEN new.key_copy IS NOT NULL AND new.sealed_key IS NOT old.sealed_key BEGIN
            UPDATE case_keys SET key_copy = NULL
             WHERE case_id = new.case_id AND recipient = new.recipient;
        END""",
]

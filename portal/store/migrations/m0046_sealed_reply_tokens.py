"""Migration 46 [issue 27]: the keyed hashes of the tokens sealing pages send with each reply, so a
reply resent after its answer was lost is stored once (portal.intake.reply_tokens).

`token_hash` is HMAC-SHA-256, under a subkey of the installation's secret key, of the case id and
the 128-bit token the discloser's browser made; the token itself is never stored. `day` is the only
time kept, to forget rows after 60 days. No column names the case, the message or the discloser,
and the table has no row id, so rows are ordered by their hash, not by when they were written."""

NUMBER = 46

STATEMENTS: list[str] = [
    """CREATE TABLE sealed_reply_tokens (
            token_hash TEXT PRIMARY KEY,
            day TEXT NOT NULL
        ) WITHOUT ROWID""",
]

"""Migration 44 [issue 29]: the installation salt a case came with, for a case moved here from
another organisation (docs/organisations.md, "Moving a channel").

A receipt is found by Argon2id under the salt of the installation that received it
(crypto.derive_receipt_identity), so a moved case keeps its sending installation's salt here and a
receipt check derives once more per distinct salt (portal.intake.receipts). The salt is no secret
(the sealing page publishes each installation's own); a case with no row has this installation's
own salt. The row goes with its case."""

NUMBER = 44

STATEMENTS: list[str] = [
    """CREATE TABLE case_receipt_salts (
            case_id TEXT PRIMARY KEY REFERENCES cases(id) ON DELETE CASCADE,
            salt BLOB NOT NULL
        ) WITHOUT ROWID""",  # kept in case id order: no rowid to tell when a case came
    "CREATE INDEX case_receipt_salts_by_salt ON case_receipt_salts (salt)",
]

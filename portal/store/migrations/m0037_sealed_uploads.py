"""Migration 37 [issue 27]: files sealed in the discloser's browser, uploaded in parts before the
disclosure that names them (portal.intake.sealed_uploads).

An upload is bound to the session's form token (`bound`: its SHA-256, so the row holds no token)
and to the size its sender declared (`size`, a padded blob size: it says no more than the padded
file), which was charged to the disclosers' daily byte budget when it was made. `parts` and
`received` say how much is stored, so an interrupted upload resumes; `day` is the only time it
keeps (it expires at the portal's 06:00 after that day). Its bytes are ciphertext only, in a file
of their own under the data directory until the disclosure moves them into the blob store."""

NUMBER = 37

STATEMENTS: list[str] = [
    """CREATE TABLE sealed_uploads (
            id TEXT PRIMARY KEY,
            bound TEXT NOT NULL,
            size INTEGER NOT NULL CHECK (size > 0),
            parts INTEGER NOT NULL DEFAULT 0,
            received INTEGER NOT NULL DEFAULT 0,
            day TEXT NOT NULL
        ) WITHOUT ROWID""",
]

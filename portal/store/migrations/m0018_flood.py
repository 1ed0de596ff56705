"""Migration 18 [flood]: spent proofs of work and no-script tickets (portal.guard.proofs;
SECURITY.md, "Proof of work and tickets").

A spent challenge or ticket is kept as the SHA-256 of its nonce and the number of its expiry's
generation (its coarse expiry counted in 10-minute steps, modulo a small number), never a time: the
rows of a generation are deleted when it comes round again, so a nonce is kept only until it has
expired. It is linked to no case and says nothing of how long a solve took or how hard it was."""

NUMBER = 18

STATEMENTS: list[str] = [
    """CREATE TABLE spent_proofs (
            nonce_hash TEXT PRIMARY KEY,
            generation INTEGER NOT NULL
        ) WITHOUT ROWID""",
    "CREATE INDEX spent_proofs_generation ON spent_proofs (generation)",
]

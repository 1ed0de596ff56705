"""Migration 18 [flood]: spent proofs of work and no-script tickets (portal.guard.proofs;
SECURITY.md, "Proof of work and tickets").

A spent challenge or ticket is kept as a keyed hash of its nonce and the number (0-2) of the
retention window it was spent in, never a time; the sets are rotated wholesale (see
portal.guard.proofs._spend; `generation` used to be the expiry's 10-minute step, which dated a
spend more finely). It is linked to no case and says nothing of how long a solve took or how hard it
was."""

NUMBER = 18

STATEMENTS: list[str] = [
    """CREATE TABLE spent_proofs (
            nonce_hash TEXT PRIMARY KEY,
            generation INTEGER NOT NULL
        ) WITHOUT ROWID""",
    "CREATE INDEX spent_proofs_generation ON spent_proofs (generation)",
]

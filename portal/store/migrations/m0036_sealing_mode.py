"""Migration 36 [issue 27]: which mode sealed each case.

`sealed_by` is 'server' for a case the portal's server sealed from the plaintext form (every case
before this migration) and 'browser' for one the discloser's browser sealed before anything left it
(portal.intake.sealed). The receipt page, the status page and the officers' case page say which.
A case sealed in the browser keeps in `receipt_lookup` not the lookup id but its hash
(crypto.lookup_hash, "h1:" + 64 hex): no bearer value is stored."""

NUMBER = 36

STATEMENTS: list[str] = [
    "ALTER TABLE cases ADD COLUMN sealed_by TEXT NOT NULL DEFAULT 'server'"
    " CHECK (sealed_by IN ('server', 'browser'))",
]

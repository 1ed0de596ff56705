"""Migration 12 [keys]: officers' Ed25519 signing keys. The public half, and the 32-byte seed
wrapped under the officer's passphrase (kind 0x01, like the X25519 private key). Both stay NULL
until the officer's own sign-in or set-up makes them; administrators never get one.
"""

NUMBER = 12

STATEMENTS: list[str] = [
    "ALTER TABLE accounts ADD COLUMN signing_public_key BLOB",
    "ALTER TABLE accounts ADD COLUMN wrapped_signing_key BLOB",
]

"""Migration 13 [casework]: Consent signed by the discloser (portal.casework.consent): each case's
Ed25519 public key of the discloser, derived from the receipt, and its keyed tag
(crypto.discloser_key_tag, keyed from installation.json) that vouches the portal wrote it (both NULL
for cases made before this); and each consent answer's signature (NULL for answers given before
this).
"""

NUMBER = 13

STATEMENTS: list[str] = [
    "ALTER TABLE cases ADD COLUMN discloser_signing_key BLOB",
    "ALTER TABLE cases ADD COLUMN discloser_key_tag BLOB",
    "ALTER TABLE consent_requests ADD COLUMN answer_signature BLOB",
]

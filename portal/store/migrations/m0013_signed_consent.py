"""Migration 13 [casework]: Consent signed by the discloser (portal.casework.consent): each case's
Ed25519 public key of the discloser, derived from the receipt (NULL for cases made before this); for
an oral disclosure whose printed receipt was replaced, the first receipt's key's signature over the
new key (the first key is the one the audit log names); and each consent answer's signature (NULL
for answers given before this).
"""

NUMBER = 13

STATEMENTS: list[str] = [
    "ALTER TABLE cases ADD COLUMN discloser_signing_key BLOB",
    "ALTER TABLE cases ADD COLUMN discloser_key_endorsement BLOB",
    "ALTER TABLE consent_requests ADD COLUMN answer_signature BLOB",
]

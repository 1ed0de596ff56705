"""Consent answers signed by the discloser: Ed25519 (RFC 8032) by the key derived from the receipt
(crypto.receipt, subkey "receipt-signing") over a canonical statement of the answer.

The bytes signed are ``CONSENT_CONTEXT || canonical JSON`` (sorted keys, no spaces, ASCII only) of
``{"answer": "yes" | "no", "case_id": str, "day": "YYYY-MM-DD", "format":
"protected-disclosure-consent/1", "seq": int}`` (SECURITY.md, "Signed consent answers").
"""

from __future__ import annotations

import re

import nacl.exceptions
import nacl.signing

from ._format import require_bytes
from .acknowledgement import canonical
from .errors import CryptoError

CONSENT_CONTEXT = b"protected-disclosure-consent/1\n"
CONSENT_FORMAT = "protected-disclosure-consent/1"
KEY_CHANGE_CONTEXT = b"protected-disclosure-receipt-replaced/1\n"
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


class BadConsent(CryptoError):
    """A consent statement that cannot be made: a wrong answer, sequence number or day."""


def consent_statement(case_id: str, seq: int, answer: str, day: str) -> bytes:
    """The canonical statement bytes (without the context line). Raises BadConsent."""
    if answer not in ("yes", "no"):
        raise BadConsent("a consent answer is 'yes' or 'no'")
    if type(seq) is not int or seq < 1:
        raise BadConsent("seq must be an int >= 1")
    if not isinstance(case_id, str) or not case_id:
        raise BadConsent("case_id must be a non-empty str")
    if not isinstance(day, str) or not _DAY.fullmatch(day):
        raise BadConsent("day must be YYYY-MM-DD")
    return canonical(
        {"answer": answer, "case_id": case_id, "day": day, "format": CONSENT_FORMAT, "seq": seq}
    )


def sign_consent(seed: bytes, case_id: str, seq: int, answer: str, day: str) -> bytes:
    """The 64-byte Ed25519 signature by the seed's key over the consent statement."""
    key = nacl.signing.SigningKey(require_bytes(seed, 32, "seed"))
    return key.sign(CONSENT_CONTEXT + consent_statement(case_id, seq, answer, day)).signature


def verify_consent(
    public_key: bytes, case_id: str, seq: int, answer: str, day: str, signature: bytes | None
) -> bool:
    """Whether `signature` is the key's signature over this answer; False for anything malformed
    (a missing signature, a wrong length, an answer that is neither yes nor no)."""
    if not isinstance(signature, bytes) or len(signature) != 64:
        return False
    if not isinstance(public_key, bytes) or len(public_key) != 32:
        return False
    try:
        message = CONSENT_CONTEXT + consent_statement(case_id, seq, answer, day)
        nacl.signing.VerifyKey(public_key).verify(message, signature)
    except (BadConsent, nacl.exceptions.BadSignatureError, ValueError):
        return False
    return True


def _key_change(case_id: str, new_public_key: bytes) -> bytes:
    if not isinstance(case_id, str) or not case_id:
        raise BadConsent("case_id must be a non-empty str")
    return KEY_CHANGE_CONTEXT + canonical(
        {"case_id": case_id, "new_key": require_bytes(new_public_key, 32, "new_public_key").hex()}
    )


def sign_key_change(seed: bytes, case_id: str, new_public_key: bytes) -> bytes:
    """The old key's 64-byte signature naming the case's new discloser key (an oral disclosure's
    receipt replaced at the first visit): Ed25519 over ``KEY_CHANGE_CONTEXT || canonical JSON of
    {"case_id": str, "new_key": hex}``."""
    key = nacl.signing.SigningKey(require_bytes(seed, 32, "seed"))
    return key.sign(_key_change(case_id, new_public_key)).signature


def verify_key_change(
    old_public_key: bytes, case_id: str, new_public_key: bytes, signature: bytes | None
) -> bool:
    """Whether the old key signed this new key for the case; False for anything malformed."""
    if not isinstance(signature, bytes) or len(signature) != 64:
        return False
    try:
        nacl.signing.VerifyKey(require_bytes(old_public_key, 32, "old_public_key")).verify(
            _key_change(case_id, new_public_key), signature
        )
    except (BadConsent, CryptoError, TypeError, nacl.exceptions.BadSignatureError, ValueError):
        return False
    return True

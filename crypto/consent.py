"""Consent answers signed by the discloser: Ed25519 (RFC 8032) by the key derived from the receipt
(crypto.receipt, subkey "receipt-signing") over a canonical statement of the answer and of the
question it answers.

The bytes signed are ``CONSENT_CONTEXT || canonical JSON`` (sorted keys, no spaces, ASCII only) of
``{"answer": "yes" | "no", "case_id": str, "day": "YYYY-MM-DD", "format":
"protected-disclosure-consent/1", "reason": str, "recipient": str, "seq": int}`` (SECURITY.md,
"Signed consent answers"): the recipient and reason are the exact text the discloser was shown, so
a question changed after the answer no longer verifies. The key those answers verify with is
vouched for by a keyed tag (discloser_key_tag) stored with the case.
"""

from __future__ import annotations

import hashlib
import hmac
import re

import nacl.exceptions
import nacl.signing

from ._format import require_bytes
from .acknowledgement import canonical
from .errors import CryptoError

CONSENT_CONTEXT = b"protected-disclosure-consent/1\n"
CONSENT_FORMAT = "protected-disclosure-consent/1"
KEY_TAG_CONTEXT = b"discloser-signing-key"
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


class BadConsent(CryptoError):
    """A consent statement that cannot be made: a wrong answer, sequence number or day."""


def consent_statement(
    case_id: str, seq: int, answer: str, day: str, recipient: str, reason: str
) -> bytes:
    """The canonical statement bytes (without the context line): the answer, and the question's
    recipient and reason exactly as the discloser was shown them. Raises BadConsent."""
    if answer not in ("yes", "no"):
        raise BadConsent("a consent answer is 'yes' or 'no'")
    if type(seq) is not int or seq < 1:
        raise BadConsent("seq must be an int >= 1")
    if not isinstance(case_id, str) or not case_id:
        raise BadConsent("case_id must be a non-empty str")
    if not isinstance(day, str) or not _DAY.fullmatch(day):
        raise BadConsent("day must be YYYY-MM-DD")
    if not isinstance(recipient, str) or not recipient:
        raise BadConsent("recipient must be a non-empty str")
    if not isinstance(reason, str):
        raise BadConsent("reason must be a str")
    return canonical(
        {
            "answer": answer,
            "case_id": case_id,
            "day": day,
            "format": CONSENT_FORMAT,
            "reason": reason,
            "recipient": recipient,
            "seq": seq,
        }
    )


def sign_consent(
    seed: bytes, case_id: str, seq: int, answer: str, day: str, recipient: str, reason: str
) -> bytes:
    """The 64-byte Ed25519 signature by the seed's key over the consent statement."""
    key = nacl.signing.SigningKey(require_bytes(seed, 32, "seed"))
    statement = consent_statement(case_id, seq, answer, day, recipient, reason)
    return key.sign(CONSENT_CONTEXT + statement).signature


def verify_consent(
    public_key: bytes,
    case_id: str,
    seq: int,
    answer: str,
    day: str,
    recipient: str,
    reason: str,
    signature: bytes | None,
) -> bool:
    """Whether `signature` is the key's signature over this answer to this question (recipient
    and reason as the discloser was shown them); False for anything malformed (a missing
    signature, a wrong length, an answer that is neither yes nor no)."""
    if not isinstance(signature, bytes) or len(signature) != 64:
        return False
    if not isinstance(public_key, bytes) or len(public_key) != 32:
        return False
    try:
        statement = consent_statement(case_id, seq, answer, day, recipient, reason)
        message = CONSENT_CONTEXT + statement
        nacl.signing.VerifyKey(public_key).verify(message, signature)
    except (BadConsent, nacl.exceptions.BadSignatureError, ValueError):
        return False
    return True


def discloser_key_tag(key: bytes, case_id: str, public_key: bytes) -> bytes:
    """The 32-byte tag that vouches for a case's discloser signing key: HMAC-SHA256(key,
    ``KEY_TAG_CONTEXT || case_id (UTF-8) || public_key``). `key` (32 bytes) is derived from the
    installation's secret (subkey "discloser-tag"), so whoever can write the database but not read
    installation.json cannot make one; the public key's fixed 32 bytes at the end keep the message
    unambiguous. Raises BadConsent for an empty case id, ValueError for wrong sizes."""
    if not isinstance(case_id, str) or not case_id:
        raise BadConsent("case_id must be a non-empty str")
    message = (
        KEY_TAG_CONTEXT + case_id.encode("utf-8") + require_bytes(public_key, 32, "public_key")
    )
    return hmac.new(require_bytes(key, 32, "key"), message, hashlib.sha256).digest()


def verify_discloser_key_tag(
    key: bytes, case_id: str, public_key: bytes | None, tag: bytes | None
) -> bool:
    """Whether `tag` is discloser_key_tag(key, case_id, public_key), compared in constant time;
    False for a missing or malformed key or tag, never raises."""
    if not isinstance(tag, bytes) or not isinstance(public_key, bytes) or len(public_key) != 32:
        return False
    try:
        expected = discloser_key_tag(key, case_id, public_key)
    except (BadConsent, ValueError, TypeError):
        return False
    return hmac.compare_digest(expected, tag)

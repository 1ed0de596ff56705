"""The second factor: TOTP (RFC 6238: SHA-1, 6 digits, 30 s steps) with a replay guard, its QR code,
and single-use recovery codes that are stored only hashed.

A TOTP code is accepted for the current step or one either side (clock drift), and only for a step
later than the last one the account used, so a code seen over a shoulder or in a log cannot be
replayed (RFC 6238, section 5.2).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
import time

import pyotp
import segno

from portal.core.words import N_

ISSUER = "Protected disclosures"
RECOVERY_CODE_COUNT = 10
# 16 characters from the RFC 4648 base32 alphabet: 80 bits, grouped in fours for reading aloud.
_RECOVERY_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
_RECOVERY_RE = re.compile(r"[A-Z2-7]{16}")


def new_secret() -> str:
    """A fresh base32 TOTP secret (160 bits)."""
    return pyotp.random_base32(32)


def provisioning_uri(secret: str, email: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=ISSUER)


QR_TITLE = N_("QR code for your authenticator app")


def qr_svg(secret: str, email: str, title: str = QR_TITLE) -> str:
    """The provisioning URI as an inline SVG QR code (no image request, no script); `title`, its
    accessible name, in the page's language."""
    return segno.make(provisioning_uri(secret, email), error="m").svg_inline(scale=4, title=title)


def normalise_code(code: str) -> str:
    return "".join(code.split()).replace("-", "").upper()


def matching_step(secret: str, code: str, now: float | None = None) -> int | None:
    """The time step (RFC 6238 T) whose code equals `code`, trying T-1, T and T+1; None if none
    does.

    Every candidate is compared, in constant time, whatever matched before it."""
    totp = pyotp.TOTP(secret)
    step = totp.timecode(_utc(now))
    matched = None
    for candidate in (step - 1, step, step + 1):
        if hmac.compare_digest(totp.generate_otp(candidate).encode(), code.encode()):
            matched = candidate
    return matched


# Seconds since the epoch that TOTP steps are read from (RFC 6238's "current Unix time"). A name of
# its own so the suite can move it on a step instead of waiting 30 s for one (tests/conftest.py).
seconds_now = time.time


def _utc(now: float | None) -> dt.datetime:
    return dt.datetime.fromtimestamp(seconds_now() if now is None else now, tz=dt.timezone.utc)


def looks_like_totp(code: str) -> bool:
    return len(code) == 6 and code.isascii() and code.isdigit()


def new_recovery_codes() -> list[str]:
    """Codes shown once, written XXXX-XXXX-XXXX-XXXX."""
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(16))
        codes.append("-".join(raw[i : i + 4] for i in range(0, 16, 4)))
    return codes


def recovery_code_hash(key: bytes, code: str) -> str | None:
    """Keyed hash of a normalised recovery code (None if it cannot be one). The codes carry 80 bits,
    so a fast keyed hash suffices; the key keeps a copy of the table from being checked offline."""
    normalised = normalise_code(code)
    if not _RECOVERY_RE.fullmatch(normalised):
        return None
    return hashlib.blake2b(
        normalised.encode(), key=key[:64], person=b"pd-recovery-code"
    ).hexdigest()

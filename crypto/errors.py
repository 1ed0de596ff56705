"""Typed errors of the cryptographic core. Callers catch these, never nacl's own exceptions."""


class CryptoError(Exception):
    """Base of every error raised by crypto/."""


class DecryptionError(CryptoError):
    """Authentication failed: wrong key, tampering, truncation, trailing data or a malformed
    blob."""


class WrongPassphrase(DecryptionError):
    """Unwrapping a private key failed (wrong passphrase, or a tampered wrapped blob)."""


class BadParameters(CryptoError):
    """Stored KDF parameters are malformed or outside the accepted range."""


class UnsupportedVersion(CryptoError):
    """The blob starts with a format version byte this code does not know."""


class ReceiptTypo(CryptoError):
    """The receipt code fails normalisation, length or its check character."""

"""A channel's recovery key pair, split into SLIP-39 shares (SECURITY.md, "Key lifecycle").

The SLIP-39 master secret (32 bytes, from the OS CSPRNG) *is* the X25519 private key; its public
half is what the server gets. The shares are made and joined with the `shamir-mnemonic` package (the
SLIP-39 reference implementation), with no SLIP-39 passphrase: the shares alone are the secret, so
no one custodian, and no server, holds the key.
"""

from __future__ import annotations

import nacl.bindings
import nacl.utils
import shamir_mnemonic

from .errors import CryptoError

RECOVERY_SECRET_SIZE = 32


class RecoveryShareError(CryptoError):
    """The shares given do not make a recovery key: too few, mistyped, or from different sets."""


def new_recovery_key(threshold: int = 3, shares: int = 5) -> tuple[list[str], bytes]:
    """Make a recovery key pair and split its private half: (SLIP-39 mnemonics, one per custodian;
    the 32-byte X25519 public key). Any `threshold` of the `shares` mnemonics give the private key
    back. Raises ValueError for a threshold outside 1..shares or more than 16 shares."""
    if not 1 <= threshold <= shares <= 16:
        raise ValueError(
            "Choose a threshold between 1 and the number of shares, and at most 16 shares."
        )
    secret = nacl.utils.random(RECOVERY_SECRET_SIZE)
    groups = shamir_mnemonic.generate_mnemonics(1, [(threshold, shares)], secret)
    return groups[0], nacl.bindings.crypto_scalarmult_base(secret)


def recovery_private_key(mnemonics: list[str]) -> bytes:
    """Join SLIP-39 mnemonics into the recovery private key (32 bytes). Raises RecoveryShareError
    (saying how many are needed when too few were given)."""
    cleaned = [" ".join(m.split()).lower() for m in mnemonics if m.strip()]
    if not cleaned:
        raise RecoveryShareError("No shares were given.")
    try:
        secret = shamir_mnemonic.combine_mnemonics(cleaned)
    except shamir_mnemonic.MnemonicError as exc:
        raise RecoveryShareError(f"These shares do not make a recovery key: {exc}") from None
    if len(secret) != RECOVERY_SECRET_SIZE:
        raise RecoveryShareError("These shares are not of a portal recovery key.")
    return secret

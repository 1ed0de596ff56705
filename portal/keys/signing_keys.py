"""Officers' Ed25519 signing keys (issue 21): what an officer signs with (roster statements).

Each officer has one, made on the server in their own flow from its own random 32-byte seed (never
derived from the X25519 key): at the end of enrolment or of the forced first sign-in
(portal/keys/enrolment.py), or at any later sign-in of an officer who has none yet
(portal/keys/officer_sessions.py). The seed is stored only wrapped under the officer's passphrase
in `accounts.wrapped_signing_key`, in the same format as the X25519 private key
(crypto.wrap_private_key, kind 0x01: the format binds no label or public key, so the two wrappings
are told apart only by their column, and an opened seed is checked against
`accounts.signing_public_key`). A passphrase change
re-wraps it (portal/keys/credential_changes.py). Administrators never get one: they never sign. No
command-line path makes or opens one. The console session carries the seed beside the private key.

Opening it costs one more Argon2id run, paid only by a sign-in whose passphrase and second factor
were right, so a failed sign-in costs the same whoever's email it names.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import crypto
from portal.core.context import Context
from portal.keys import credentials
from portal.keys.accounts import Account
from portal.records import audit
from portal.store import in_transaction, transaction

SEED_SIZE = 32


@dataclass(frozen=True)
class NewSigningKey:
    seed: bytes = field(repr=False)  # the 32-byte Ed25519 seed (RFC 8032 private key)
    public_key: bytes  # its 32-byte Ed25519 public key
    wrapped: bytes  # the seed wrapped under the passphrase (crypto.wrap_private_key, 98 bytes)


def make(ctx: Context, passphrase: str) -> NewSigningKey:
    """A fresh signing seed, its public key, and the seed wrapped under `passphrase` (Argon2id under
    the process's key-derivation slots). Nothing is stored."""
    seed = crypto.new_signing_key()
    return NewSigningKey(
        seed, crypto.signing_public_key(seed), credentials.wrap(ctx, seed, passphrase)
    )


def store(ctx: Context, account_id: int, new: NewSigningKey) -> bool:
    """Record the account's signing key if it has none yet (inside the caller's transaction, or its
    own); audited. Returns False, changing nothing, when it already has one (a sign-in in another
    browser made it first)."""

    def write() -> bool:
        claimed = ctx.db.execute(
            "UPDATE accounts SET signing_public_key = ?, wrapped_signing_key = ? WHERE id = ? AND"
            " role = 'officer' AND wrapped_signing_key IS NULL",
            [new.public_key, new.wrapped, account_id],
        ).rowcount
        if claimed:
            audit.record(ctx, "signing_key_made", actor=account_id)
        return claimed == 1

    if in_transaction(ctx.db):
        return write()
    with transaction(ctx.db):
        return write()


def stored(ctx: Context, account_id: int) -> tuple[bytes | None, bytes | None]:
    """(signing public key, wrapped seed) of the account; (None, None) when it has none."""
    row = ctx.db.execute(
        "SELECT signing_public_key, wrapped_signing_key FROM accounts WHERE id = ?", [account_id]
    ).fetchone()
    return (row[0], row[1]) if row and row[1] is not None else (None, None)


def open_seed(ctx: Context, account_id: int, passphrase: str) -> bytes | None:
    """The account's signing seed, unwrapped with `passphrase` and checked against its stored public
    key; None when it has none, or when the stored one does not open to a seed of that public key
    (a wrong passphrase, or an altered row)."""
    public_key, wrapped = stored(ctx, account_id)
    if wrapped is None:
        return None
    try:
        seed = credentials.unwrap(ctx, wrapped, passphrase)
    except crypto.CryptoError:
        return None
    if len(seed) != SEED_SIZE or crypto.signing_public_key(seed) != public_key:
        return None
    return seed


def at_sign_in(ctx: Context, account: Account, passphrase: str) -> bytes | None:
    """At a sign-in whose credentials were right: the officer's signing seed, made (and stored, see
    `store`) if they have none yet. None for an administrator, and for an officer whose stored key
    does not open (audited as `signing_key_unusable`; they sign in without one)."""
    if account.role != "officer":
        return None
    if stored(ctx, account.id)[1] is None:
        new = make(ctx, passphrase)
        if store(ctx, account.id, new):
            return new.seed
    seed = open_seed(ctx, account.id, passphrase)
    if seed is None:
        audit.record(ctx, "signing_key_unusable", actor=account.id)
    return seed


def rewrap(ctx: Context, seed: bytes, passphrase: str) -> bytes:
    """The seed wrapped under a (new) passphrase, for the caller to store."""
    return credentials.wrap(ctx, seed, passphrase)

"""Key rotation: an officer's new key pair replaces the old, and every case key they hold is
re-sealed to it.

Resumable, and never a case nobody can read: the new key pair is first stored wrapped under the
officer's same passphrase (`key_rotations`), in its own transaction; then the officer's sealed
copies (case keys and the further keys of internal_keys.OFFICER_SEALED_TABLES) are re-sealed in
small batches, one transaction each. At every moment each copy opens with the old private key (still
wrapped in `accounts`) or the new one (in `key_rotations`), both under the passphrase, so a rotation
killed at any point loses nothing: running it again picks up the same new key and carries on. The
last transaction re-seals whatever was sealed to the old public key meanwhile (a disclosure that
arrived during the rotation), then swaps the keys, deletes the old wrapping and ends the officer's
sessions (each holds the old private key).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import crypto
from portal.core.context import Context
from portal.keys import access, accounts, credentials
from portal.records import audit
from portal.store import transaction

BATCH_SIZE = 50


@dataclass(frozen=True)
class Rotated:
    resealed: int  # copies re-sealed by this run
    resumed: bool  # an interrupted rotation was carried on
    private_key: bytes = field(repr=False, default=b"")  # the new one


def pending(ctx: Context, account_id: int) -> bool:
    """Whether a rotation of this officer's key pair was started and not finished."""
    return (
        ctx.db.execute("SELECT 1 FROM key_rotations WHERE account_id = ?", [account_id]).fetchone()
        is not None
    )


def _copies(ctx: Context, account_id: int) -> list[tuple[str, str, bytes]]:
    return [
        (table, case_id, sealed)
        for table in access.key_tables()
        for case_id, sealed in ctx.db.execute(
            f"SELECT case_id, sealed_key FROM {table} WHERE account_id = ? ORDER BY case_id",
            [account_id],
        ).fetchall()
    ]


def _reseal(
    ctx: Context, account_id: int, copies, old_key: bytes, new_key: bytes, new_public: bytes
) -> int:
    """Re-seal each copy that opens with the old key to the new public key; in the caller's
    transaction."""
    done = 0
    for table, case_id, sealed in copies:
        try:
            key = crypto.open_sealed(old_key, sealed)
        except crypto.DecryptionError:
            continue  # re-sealed already (it opens with the new key), or not this officer's to mend
        ctx.db.execute(
            f"UPDATE {table} SET sealed_key = ? WHERE case_id = ? AND account_id = ?",
            [crypto.seal_to(new_public, key), case_id, account_id],
        )
        done += 1
    return done


def rotate(
    ctx: Context,
    email: str,
    passphrase: str,
    *,
    batch_size: int = BATCH_SIZE,
    pause_seconds: float = 0.0,
) -> Rotated:
    """Rotate the officer's key pair (see the module docstring). `pause_seconds` between batches
    spreads the work out on a busy server. Raises credentials.LoginFailed for a wrong email or
    passphrase. Audited.
    """
    account_id = accounts.account_id_for(ctx, email) or 0
    old_key = credentials.unwrap_with_passphrase(ctx, account_id, passphrase)
    row = ctx.db.execute(
        "SELECT new_public_key, new_wrapped_private_key FROM key_rotations WHERE account_id = ?",
        [account_id],
    ).fetchone()
    if row is not None:
        new_public, new_wrapped = row
        try:
            new_key = crypto.unwrap_private_key(new_wrapped, passphrase)
        except crypto.CryptoError:
            # The new key was wrapped under the passphrase the rotation began with; changing the
            # passphrase meanwhile is refused (credential_changes.change_passphrase), so this is a
            # wrong passphrase.
            raise credentials.LoginFailed() from None
    else:
        new_key, new_public = crypto.generate_keypair()
        new_wrapped = credentials.wrap(ctx, new_key, passphrase)
        with transaction(ctx.db):
            ctx.db.execute(
                "INSERT INTO key_rotations (account_id, new_public_key, new_wrapped_private_key) "
                "VALUES (?, ?, ?)",
                [account_id, new_public, new_wrapped],
            )
            audit.record(ctx, "key_rotation_started", actor=account_id)
    copies = _copies(ctx, account_id)
    resealed = 0
    for start in range(0, len(copies), max(1, batch_size)):
        with transaction(ctx.db):
            resealed += _reseal(
                ctx, account_id, copies[start : start + batch_size], old_key, new_key, new_public
            )
        if pause_seconds:
            time.sleep(pause_seconds)
    seen = {(table, case_id) for table, case_id, _ in copies}
    with transaction(ctx.db):
        arrived = [c for c in _copies(ctx, account_id) if (c[0], c[1]) not in seen]
        resealed += _reseal(ctx, account_id, arrived, old_key, new_key, new_public)
        ctx.db.execute(
            "UPDATE accounts SET public_key = ?, wrapped_private_key = ? WHERE id = ?",
            [new_public, new_wrapped, account_id],
        )
        ctx.db.execute("DELETE FROM key_rotations WHERE account_id = ?", [account_id])
        access.end_sessions(ctx, account_id)
        audit.record(
            ctx,
            "key_rotated",
            actor=account_id,
            detail={"resealed": resealed, "resumed": row is not None},
        )
    # Move the committed pages out of the write-ahead log, so the old wrapping lingers in no file.
    ctx.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return Rotated(resealed, row is not None, new_key)

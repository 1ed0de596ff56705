"""A case's officers-only key. The discloser holds the case key (sealed to their receipt key), so
what only officers may read (internal notes, referral records, the list of excluded officers) is
under a second random key per case, sealed to each officer reader and never to the discloser."""

from __future__ import annotations

from dataclasses import dataclass

import crypto
from portal.core.context import Context
from portal.store import in_transaction, transaction


def insert_internal_keys(ctx: Context, case_id: str, internal_key: bytes, readers: list) -> None:
    """Seal the officers-only key to each reader (objects with `id` and `public_key`); in the
    caller's transaction."""
    for reader in readers:
        ctx.db.execute(
            "INSERT OR IGNORE INTO internal_keys (case_id, account_id, sealed_key) VALUES (?,"
            " ?, ?)",
            [case_id, reader.id, crypto.seal_to(reader.public_key, internal_key)],
        )


# Tables holding each officer's sealed copy of one of a case's further keys (the officers-only key,
# the identity key), all shaped (case_id, account_id, sealed_key). Whatever re-seals, grants or
# revokes an officer's access to a case must treat these exactly like the officer's row in
# case_keys.
OFFICER_SEALED_TABLES = ("internal_keys", "identity_keys")


def open_internal_key(
    ctx: Context, case_id: str, account_id: int, private_key: bytes
) -> bytes | None:
    """The officers-only key of a case for this officer; for a case made before it existed, a new
    one is made and sealed to every officer who reads the case. None if other readers have it and
    this one not.
    """
    row = ctx.db.execute(
        "SELECT sealed_key FROM internal_keys WHERE case_id = ? AND account_id = ?",
        [case_id, account_id],
    ).fetchone()
    if row is not None:
        return crypto.open_sealed(private_key, row[0])
    if ctx.db.execute("SELECT 1 FROM internal_keys WHERE case_id = ?", [case_id]).fetchone():
        return None
    internal_key = crypto.new_case_key()
    readers = ctx.db.execute(
        "SELECT a.id, a.public_key FROM case_keys k JOIN accounts a ON a.id = k.account_id "
        "WHERE k.case_id = ?",
        [case_id],
    ).fetchall()
    if in_transaction(ctx.db):
        insert_internal_keys(ctx, case_id, internal_key, [_Reader(*r) for r in readers])
    else:
        with transaction(ctx.db):
            insert_internal_keys(ctx, case_id, internal_key, [_Reader(*r) for r in readers])
    return open_internal_key(ctx, case_id, account_id, private_key)


@dataclass(frozen=True)
class _Reader:
    id: int
    public_key: bytes

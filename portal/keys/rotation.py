"""Key rotation: an officer's new key pair, wrapped under a NEW passphrase they choose, replaces
the old, and every case key they hold is re-sealed to it (the console's "Replace my keys" page,
portal.web.keys.own_keys; never the command line, where an operator would see the passphrase).

Resumable, and never a case nobody can read. The first transaction (`start`) stores the new key
pair in `accounts`, wrapped under the new passphrase, and keeps the OLD private key in
`key_rotations`, wrapped under the new passphrase too: from then on the old passphrase unwraps
nothing (whoever copied it gets no new key, and every case sealed from then on goes to the new
public key). Then the officer's sealed copies (case keys and the further keys of
internal_keys.OFFICER_SEALED_TABLES) are re-sealed case by case, in id order, in small batches,
one transaction each, each recording how far it got (`cases_done_through`). At every moment each
copy opens with the old private key or the new one, both under the new passphrase, so a rotation
killed at any point loses nothing: the officer carries it on from the console or by signing in
with the new passphrase (`resume`). The last transaction deletes the old key's wrapping and ends
the officer's sessions (each holds the old private key).

A rotation begun before migration 14 kept the old passphrase (its new key is wrapped under it in
`key_rotations`, the old one still in `accounts`): `resume` finishes it with that passphrase.
"""

from __future__ import annotations

import time
import unicodedata
from dataclasses import dataclass, field

import crypto
from portal.core.context import Context
from portal.core.words import N_
from portal.keys import access, credentials, roster, sessions, signing_keys
from portal.keys.accounts import Account, AccountError
from portal.records import audit
from portal.store import transaction
from portal.store.db import yield_to_writers
from portal.store.progress import YIELD_SHARE

BATCH_SIZE = 50  # cases per transaction


@dataclass(frozen=True)
class Rotated:
    resealed: int  # copies re-sealed by this run
    resumed: bool  # an interrupted rotation was carried on
    private_key: bytes = field(repr=False, default=b"")  # the new one
    signing_key: bytes | None = field(repr=False, default=None)  # the new signing seed, if any


@dataclass(frozen=True)
class Progress:
    done: int  # cases whose copies are re-sealed to the new key
    to_do: int  # cases still to re-seal


class RotationTampered(Exception):
    """The pending rotation's new key does not match its public key: written outside the portal."""


class RotationUnderWay(AccountError):
    """A rotation was started and not finished: carry it on (`resume`) instead."""


def pending(ctx: Context, account_id: int) -> bool:
    """Whether a rotation of this officer's key pair was started and not finished."""
    return (
        ctx.db.execute("SELECT 1 FROM key_rotations WHERE account_id = ?", [account_id]).fetchone()
        is not None
    )


def _held_cases(ctx: Context, account_id: int) -> list[str]:
    return sorted(
        {
            case_id
            for table in access.key_tables()
            for (case_id,) in ctx.db.execute(
                f"SELECT case_id FROM {table} WHERE account_id = ?", [account_id]
            ).fetchall()
        }
    )


def _next_cases(ctx: Context, account_id: int, after: str, limit: int) -> list[str]:
    """The next at most `limit` case ids after `after` (in id order) of which the officer holds a
    sealed copy, in any of access.key_tables()."""
    held = " UNION ".join(
        f"SELECT case_id FROM {table} WHERE account_id = ? AND case_id > ?"
        for table in access.key_tables()
    )
    tables = len(access.key_tables())
    return [
        case_id
        for (case_id,) in ctx.db.execute(
            f"SELECT case_id FROM ({held}) ORDER BY case_id LIMIT ?",
            [*([account_id, after] * tables), limit],
        ).fetchall()
    ]


def progress(ctx: Context, account_id: int) -> Progress | None:
    """How far an unfinished rotation got, in cases; None when none is under way."""
    row = ctx.db.execute(
        "SELECT cases_done_through FROM key_rotations WHERE account_id = ?", [account_id]
    ).fetchone()
    if row is None:
        return None
    held = _held_cases(ctx, account_id)
    done = sum(1 for case_id in held if row[0] is not None and case_id <= row[0])
    return Progress(done, len(held) - done)


def under_way(ctx: Context) -> list[tuple[str, Progress]]:
    """Every rotation begun and not finished, by officer: (their email, how far it got)."""
    rows = ctx.db.execute(
        "SELECT a.id, a.email FROM key_rotations r JOIN accounts a ON a.id = r.account_id"
        " ORDER BY a.email"
    ).fetchall()
    return [(email, far) for account_id, email in rows if (far := progress(ctx, account_id))]


def _copies(ctx: Context, account_id: int, case_ids: list[str]) -> list[tuple[str, str, bytes]]:
    """(table, case id, sealed key) of the officer's copies of these cases."""
    marks = ",".join("?" * len(case_ids))
    return [
        (table, case_id, sealed)
        for table in access.key_tables()
        for case_id, sealed in ctx.db.execute(
            f"SELECT case_id, sealed_key FROM {table} WHERE account_id = ?"
            f" AND case_id IN ({marks})",
            [account_id, *case_ids],
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


def start(
    ctx: Context,
    account: Account,
    old_private_key: bytes,
    current_passphrase: str,
    new_passphrase: str,
    *,
    signing_seed: bytes | None = None,
    keep_session: str | None = None,
    batch_size: int = BATCH_SIZE,
    pause_seconds: float = 0.0,
) -> Rotated:
    """Rotate the signed-in officer's key pair (see the module docstring): `old_private_key` and
    `signing_seed` (their current signing key, which signs the replacement into the roster of each
    channel they read: portal.keys.roster) from
    their session, the new pair wrapped under `new_passphrase`, which must differ from
    `current_passphrase` (whoever knew the old one must unwrap nothing new; the caller has checked
    the current passphrase and the new one's strength: credential_changes.check_new_passphrase).
    Every other session ends at once; the one of cookie `keep_session` when the rotation is done.
    `pause_seconds` between batches spreads the work out on a busy server. Raises RotationUnderWay,
    AccountError (the same passphrase). Audited."""
    if unicodedata.normalize("NFC", current_passphrase) == unicodedata.normalize(
        "NFC", new_passphrase
    ):
        raise AccountError(
            N_("Choose a new passphrase for your new keys: whoever knew the current one must not be"
            " able to open them.")
        )
    if pending(ctx, account.id):
        raise RotationUnderWay(
            N_("A change of your key pair is under way: carry it on with the new passphrase.")
        )
    new_key, new_public = crypto.generate_keypair()
    new_wrapped = credentials.wrap(ctx, new_key, new_passphrase)
    old_wrapped = credentials.wrap(ctx, old_private_key, new_passphrase)
    signing = signing_keys.make(ctx, new_passphrase) if account.role == "officer" else None
    with transaction(ctx.db):
        ctx.db.execute(
            "INSERT INTO key_rotations (account_id, new_public_key, new_wrapped_private_key,"
            " old_wrapped_private_key) VALUES (?, ?, ?, ?)",
            [account.id, new_public, new_wrapped, old_wrapped],
        )
        ctx.db.execute(
            "UPDATE accounts SET public_key = ?, wrapped_private_key = ? WHERE id = ?",
            [new_public, new_wrapped, account.id],
        )
        if signing is not None:
            # A new signing key too, under the new passphrase: the old seed's wrapping, under the
            # old passphrase, does not survive. Each roster records the replacement, signed with
            # the old key; without one it waits for another reader (portal.keys.roster_work).
            ctx.db.execute(
                "UPDATE accounts SET signing_public_key = ?, wrapped_signing_key = ? WHERE id = ?",
                [signing.public_key, signing.wrapped, account.id],
            )
            if signing_seed is not None:
                _sign_replacements(ctx, account, signing_seed, new_public, signing.public_key)
        sessions.end_all_for(ctx.db, access.OFFICER_SESSION, str(account.id), keep=keep_session)
        audit.record(ctx, "key_rotation_started", actor=account.id)
    # Move the committed pages out of the write-ahead log, so the old wrapping lingers in no file.
    ctx.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    done = _carry_on(
        ctx, account.id, old_private_key, new_key, new_public, False, batch_size, pause_seconds
    )
    return Rotated(done.resealed, done.resumed, done.private_key, signing and signing.seed)


def _sign_replacements(
    ctx: Context, account: Account, seed: bytes, new_public: bytes, new_signing: bytes
) -> None:
    for channel_id in roster.channels_read_by(ctx, account):
        roster.append(
            ctx,
            channel_id,
            "replace",
            signers=[seed],
            actor=account.id,
            officer=account.id,
            key=new_public,
            signing_key=new_signing,
        )


def resume(
    ctx: Context,
    account_id: int,
    passphrase: str,
    *,
    batch_size: int = BATCH_SIZE,
    pause_seconds: float = 0.0,
) -> Rotated:
    """Carry on an interrupted rotation with the passphrase it began with (the new one; for a
    rotation begun before migration 14, the officer's unchanged one). Raises credentials.LoginFailed
    for a wrong passphrase, LookupError when no rotation is under way. Audited."""
    row = ctx.db.execute(
        "SELECT new_public_key, new_wrapped_private_key, old_wrapped_private_key FROM"
        " key_rotations WHERE account_id = ?",
        [account_id],
    ).fetchone()
    if row is None:
        raise LookupError("no rotation under way")
    new_public, new_wrapped, old_wrapped = row
    try:
        if old_wrapped is None:  # begun before migration 14: the old key is still in accounts
            old_key = credentials.unwrap_with_passphrase(ctx, account_id, passphrase)
        else:
            old_key = crypto.unwrap_private_key(old_wrapped, passphrase)
        new_key = crypto.unwrap_private_key(new_wrapped, passphrase)
    except crypto.CryptoError:
        raise credentials.LoginFailed() from None
    if crypto.public_key_of(new_key) != new_public or new_key == old_key:
        # Not a rotation this officer began: a row written into the database to have their copies
        # re-sealed to someone else's key. Nothing is re-sealed.
        audit.record(ctx, "key_rotation_refused", actor=account_id)
        raise RotationTampered()
    done = _carry_on(
        ctx, account_id, old_key, new_key, new_public, True, batch_size, pause_seconds
    )
    seed = signing_keys.open_seed(ctx, account_id, passphrase)
    return Rotated(done.resealed, done.resumed, done.private_key, seed)


def _carry_on(
    ctx: Context,
    account_id: int,
    old_key: bytes,
    new_key: bytes,
    new_public: bytes,
    resumed: bool,
    batch_size: int,
    pause_seconds: float,
) -> Rotated:
    (through,) = ctx.db.execute(
        "SELECT cases_done_through FROM key_rotations WHERE account_id = ?", [account_id]
    ).fetchone()
    size = max(1, batch_size)
    resealed = 0
    # First the cases not yet done, recording how far each batch got; then every case again from
    # the start, for anything still sealed to the old key (a copy made from the old public key
    # meanwhile). Both in batches of `size` cases, one transaction each, so no transaction grows
    # with the officer's cases; the second pass records nothing (it starts over when resumed).
    for recorded, after in ((True, through or ""), (False, "")):
        while batch := _next_cases(ctx, account_id, after, size):
            begun = time.monotonic()
            with transaction(ctx.db):
                copies = _copies(ctx, account_id, batch)
                resealed += _reseal(ctx, account_id, copies, old_key, new_key, new_public)
                if recorded:
                    ctx.db.execute(
                        "UPDATE key_rotations SET cases_done_through = ? WHERE account_id = ?",
                        [batch[-1], account_id],
                    )
            after = batch[-1]
            # The writers waiting behind this batch go first (progress.run's rule).
            yield_to_writers(ctx.db, YIELD_SHARE * (time.monotonic() - begun))
            if pause_seconds:
                time.sleep(pause_seconds)
    with transaction(ctx.db):
        # Already so for a rotation begun since migration 14; an earlier one swaps only now.
        ctx.db.execute(
            "UPDATE accounts SET (public_key, wrapped_private_key) = (SELECT new_public_key,"
            " new_wrapped_private_key FROM key_rotations WHERE account_id = ?) WHERE id = ?",
            [account_id, account_id],
        )
        ctx.db.execute("DELETE FROM key_rotations WHERE account_id = ?", [account_id])
        access.end_sessions(ctx, account_id)
        audit.record(
            ctx, "key_rotated", actor=account_id, detail={"resealed": resealed, "resumed": resumed}
        )
    ctx.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return Rotated(resealed, resumed, new_key)

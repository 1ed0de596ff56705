"""Who holds a case's keys: grants to fellow officers, revocation and offboarding (SECURITY.md, "Key
lifecycle").

A case has up to three keys that readers hold sealed to their own public key: the case key
(`case_keys`), and the further keys in internal_keys.OFFICER_SEALED_TABLES (the officers-only key
for notes and exclusions, the identity key for the discloser's contact details). Access is holding
them, so every grant, revocation and re-sealing treats all three alike: a grant copies each key the
granter holds, a revocation deletes each copy. No case is ever left without an officer who can read
it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import crypto
from portal.core.clock import today
from portal.core.context import Context
from portal.core.text import count_of
from portal.core.words import N_, Sentence
from portal.keys import accounts, channels, conflicts, roster, sessions
from portal.records import audit, casefiles, internal_keys
from portal.store import progress, transaction

CASE_KEYS = "case_keys"
OFFICER_SESSION = "officer"
GRANT_ALL = "grant_all"  # progress kind: every case of a channel to one officer


def key_tables() -> tuple[str, ...]:
    """Every table holding an officer's sealed copy of one of a case's keys: the case key first."""
    return (CASE_KEYS, *internal_keys.OFFICER_SEALED_TABLES)


class GrantError(ValueError):
    """A grant that cannot be made; the message says why (for the granting officer)."""


class LastReader(ValueError):
    """Removing this officer would leave a case that nobody can read."""


def held_keys(ctx: Context, case_id: str, account_id: int, private_key: bytes) -> dict[str, bytes]:
    """{table: key} for each of the case's keys this officer holds, opened with their private key
    ({} when they hold no case key). Raises crypto.DecryptionError for a copy that does not open."""
    keys: dict[str, bytes] = {}
    for table in key_tables():
        row = ctx.db.execute(
            f"SELECT sealed_key FROM {table} WHERE case_id = ? AND account_id = ?",
            [case_id, account_id],
        ).fetchone()
        if row is not None:
            keys[table] = crypto.open_sealed(private_key, row[0])
    return keys if CASE_KEYS in keys else {}


def seal_keys_to(
    ctx: Context, case_id: str, keys: dict[str, bytes], officer: accounts.Account
) -> None:
    """Seal each of `keys` ({table: key}) to the officer's current public key, replacing any copy
    they had; in the caller's transaction."""
    for table, key in keys.items():
        sealed = crypto.seal_to(officer.public_key, key)
        if table == CASE_KEYS:
            ctx.db.execute(
                "INSERT INTO case_keys (case_id, recipient, account_id, sealed_key) VALUES (?, ?,"
                " ?, ?) ON CONFLICT (case_id, recipient) DO UPDATE SET sealed_key ="
                " excluded.sealed_key",
                [case_id, f"account:{officer.id}", officer.id, sealed],
            )
        else:
            ctx.db.execute(
                f"INSERT INTO {table} (case_id, account_id, sealed_key) VALUES (?, ?, ?) "
                "ON CONFLICT (case_id, account_id) DO UPDATE SET sealed_key = excluded.sealed_key",
                [case_id, officer.id, sealed],
            )


def is_reader(ctx: Context, case_id: str, account_id: int) -> bool:
    return (
        ctx.db.execute(
            "SELECT 1 FROM case_keys WHERE case_id = ? AND account_id = ?", [case_id, account_id]
        ).fetchone()
        is not None
    )


def excluded_ids(ctx: Context, case_id: str, keys: dict[str, bytes]) -> set[int | None]:
    """The officers the discloser excluded from this case, read with its officers-only key (if
    held)."""
    internal_key = keys.get("internal_keys")
    return (
        {entry["id"] for entry in conflicts.exclusions_under(ctx, case_id, internal_key)}
        if internal_key
        else set()
    )


@dataclass
class GrantResult:
    granted: list[str] = field(default_factory=list)  # references of the cases now shared
    excluded: list[str] = field(
        default_factory=list
    )  # skipped: the discloser excluded that officer
    already: int = 0  # cases the officer could read already
    granted_before: int = 0  # shared by an earlier run of the same grant that stopped part way
    stopped_at: progress.Progress | None = None  # when it stopped part way, to be carried on


@dataclass(frozen=True)
class GrantUnderWay:
    channel_name: str
    grantee_id: int
    grantee_name: str
    state: progress.Progress


def grantable_officers(
    ctx: Context, granter: accounts.Account, channel_id: int
) -> list[accounts.Account]:
    """The confirmed officers of a channel other than the granter: whom they may give access to."""
    return [o for o in channels.channel_officers(ctx, channel_id) if o.id != granter.id]


def grant_choices(
    ctx: Context, granter: accounts.Account
) -> list[tuple[channels.Channel, list[accounts.Account]]]:
    """For each channel the officer is a confirmed member of: the officers they may give access
    to."""
    choices = []
    for channel in channels.list_channels(ctx, with_officers_only=True):
        members = channels.channel_officers(ctx, channel.id)
        if any(m.id == granter.id for m in members):
            choices.append((channel, [m for m in members if m.id != granter.id]))
    return choices


def grant(
    ctx: Context,
    granter: accounts.Account,
    private_key: bytes,
    grantee_id: int,
    channel_name: str,
    ref: str | None = None,
    *,
    seconds: float | None = None,
) -> GrantResult:
    """Give a confirmed officer of the channel access to one case (`ref`) or to every case of the
    channel the granter can read (`ref` None): each of the case's keys the granter holds is
    re-sealed to them, and each case shared is audited ("grant"). Cases whose discloser excluded
    that officer are skipped.

    Every case of a channel is shared in short transactions of at most progress.BATCH_CASES cases;
    with `seconds`, it stops after the batch that passes that time and `result.stopped_at` says how
    far it got (the next call with the same channel and officers carries on from there).

    The caller has asked the granter's passphrase again. Raises GrantError, or
    casefiles.CaseNotFound for a case the granter cannot read (or that is not of this channel)."""
    channel = channels.find_channel(ctx, channel_name)
    if channel is None or granter.role != "officer":
        raise casefiles.CaseNotFound()
    grantee = next(
        (o for o in grantable_officers(ctx, granter, channel.id) if o.id == grantee_id), None
    )
    if grantee is None:
        raise GrantError(N_("Choose a confirmed officer of this channel other than yourself."))
    if not roster.load(ctx, channel.id).admits(grantee):
        raise GrantError(Sentence(N_(
            "The signed roster of %(channel)s does not admit %(who)s's current key, so nothing can"
            " be sealed to it. An officer of the channel must sign it on the roster page after"
            " comparing fingerprints."
        ), channel=channel.name, who=grantee.name))
    if ref is None:
        return _grant_all(ctx, granter, private_key, grantee, channel, seconds)
    case = casefiles.get_case(ctx, ref=ref)
    if case.channel_id != channel.id:
        raise casefiles.CaseNotFound()
    result = GrantResult()
    with transaction(ctx.db):
        outcome, _ = _grant_one(ctx, granter, private_key, grantee, channel.id, case.id, result)
    if outcome == "unreadable":
        raise casefiles.CaseNotFound()
    if result.excluded:
        raise GrantError(Sentence(N_(
            "The discloser asked that %(who)s not see this case, so they cannot be given access"
            " to it."
        ), who=grantee.name))
    return result


def _grant_one(
    ctx: Context,
    granter: accounts.Account,
    private_key: bytes,
    grantee: accounts.Account,
    channel_id: int,
    case_id: str,
    result: GrantResult,
) -> tuple[str, str | None]:
    """Share one case, in the caller's transaction; says what came of it (progress.run's
    `handle`)."""
    case_ref = casefiles.get_case(ctx, case_id=case_id).ref
    try:
        keys = held_keys(ctx, case_id, granter.id, private_key)
    except crypto.DecryptionError:
        keys = {}
    if not keys:
        return "unreadable", None  # a copy of the granter's that does not open: nothing to share
    excluded = excluded_ids(ctx, case_id, keys)
    if grantee.id in excluded or None in excluded:  # None: a list changed outside the portal
        result.excluded.append(case_ref)
        return "excluded", case_ref
    if is_reader(ctx, case_id, grantee.id):
        result.already += 1
        return "already", None
    seal_keys_to(ctx, case_id, keys, grantee)
    audit.record(
        ctx,
        "grant",
        actor=granter.id,
        subject=grantee.id,
        case_ref=case_ref,
        channel=channel_id,
        detail={"keys": len(keys)},
    )
    result.granted.append(case_ref)
    return "granted", None


def grant_scope(channel_id: int, granter_id: int, grantee_id: int) -> str:
    return f"{channel_id}:{granter_id}:{grantee_id}"


def grants_under_way(ctx: Context, granter: accounts.Account) -> list[GrantUnderWay]:
    """The granter's grants of every case of a channel that stopped part way, to carry on."""
    found = []
    names = {channel.id: channel.name for channel in channels.list_channels(ctx)}
    for op in progress.under_way(ctx.db, GRANT_ALL, granter.id):
        channel_id, _, grantee_id = (int(part) for part in op.scope.split(":"))
        grantee = accounts.get_account(ctx, grantee_id)
        if channel_id in names and grantee is not None:
            found.append(GrantUnderWay(names[channel_id], grantee.id, grantee.name, op))
    return found


def _grant_all(
    ctx: Context,
    granter: accounts.Account,
    private_key: bytes,
    grantee: accounts.Account,
    channel: channels.Channel,
    seconds: float | None,
) -> GrantResult:
    """Every case of the channel the granter reads, progress.BATCH_CASES a transaction, resuming
    after the last case an earlier, interrupted run did (portal.store.progress)."""
    deadline = None if seconds is None else time.monotonic() + seconds
    total = ctx.db.execute(
        "SELECT COUNT(*) FROM case_keys k JOIN cases c ON c.id = k.case_id"
        " WHERE k.account_id = ? AND c.channel_id = ?",
        [granter.id, channel.id],
    ).fetchone()[0]
    op = progress.begin(
        ctx.db, GRANT_ALL, grant_scope(channel.id, granter.id, grantee.id), granter.id, total
    )
    result = GrantResult(excluded=list(op.skipped))

    positions: dict[str, str] = {}

    def next_ids(cursor: str, limit: int) -> list[str]:
        if cursor and " " not in cursor:  # a grant begun before cases were walked by received day
            return [
                row[0]
                for row in ctx.db.execute(
                    "SELECT k.case_id FROM case_keys k JOIN cases c ON c.id = k.case_id"
                    " WHERE k.account_id = ? AND k.case_id > ? AND c.channel_id = ?"
                    " ORDER BY k.case_id LIMIT ?",
                    [granter.id, cursor, channel.id, limit],
                )
            ]
        # In the order the cases came in (the granter's queue rows, one per case they read): most of
        # the grantee's queue indexes lead with the received, activity or due day, so each batch
        # inserts next to its last one instead of at random places (bench/bench_grants.py: random
        # places cost more the larger the installation, once the indexes outgrow the page cache).
        day, _, ref = cursor.partition(" ")
        rows = ctx.db.execute(
            "SELECT case_id, received_day, ref FROM case_queue WHERE account_id = ?"
            " AND channel_id = ? AND (received_day, ref) > (?, ?) ORDER BY received_day, ref"
            " LIMIT ?",
            [granter.id, channel.id, day, ref, limit],
        ).fetchall()
        positions.clear()
        positions.update((case_id, f"{day} {ref}") for case_id, day, ref in rows)
        return [case_id for case_id, _, _ in rows]

    op = progress.run(
        ctx.db,
        op,
        next_ids,
        lambda case_id: _grant_one(ctx, granter, private_key, grantee, channel.id, case_id, result),
        deadline=deadline,
        position=lambda case_id: positions.get(case_id, case_id),
    )
    result.already = op.counts.get("already", 0)
    result.granted_before = op.counts.get("granted", 0) - len(result.granted)
    result.stopped_at = None if op.finished else op
    return result


# --- Revocation and offboarding
# --------------------------------------------------------------------------


def cases_only_readable_by(
    ctx: Context, account_id: int, channel_id: int | None = None
) -> list[str]:
    """References of the cases (of one channel, or any) that no other officer could read without
    this one."""
    sql = (
        "SELECT c.ref FROM cases c WHERE EXISTS (SELECT 1 FROM case_keys k WHERE k.case_id = c.id"
        " AND k.account_id = ?) AND NOT EXISTS (SELECT 1 FROM case_keys k JOIN accounts a ON a.id ="
        " k.account_id WHERE k.case_id = c.id AND k.account_id != ? AND a.offboarded_day IS NULL)"
    )
    args: list = [account_id, account_id]
    if channel_id is not None:
        sql += " AND c.channel_id = ?"
        args.append(channel_id)
    return [row[0] for row in ctx.db.execute(sql + " ORDER BY c.ref", args).fetchall()]


def delete_sealed_copies(ctx: Context, account_id: int, channel_id: int | None = None) -> int:
    """Delete the officer's copies of every key of the channel's cases (or of all cases); in the
    caller's transaction. Returns how many copies were deleted."""
    where, args = ("account_id = ?", [account_id])
    if channel_id is not None:
        where += " AND case_id IN (SELECT id FROM cases WHERE channel_id = ?)"
        args.append(channel_id)
    return sum(
        ctx.db.execute(f"DELETE FROM {table} WHERE {where}", args).rowcount
        for table in key_tables()
    )


def end_sessions(ctx: Context, account_id: int) -> int:
    """End every console session of the account (each holds its private key); in the caller's
    transaction."""
    return sessions.end_all_for(ctx.db, OFFICER_SESSION, str(account_id))


def offboard(ctx: Context, account_id: int, *, actor: int | None = None) -> int:
    """An officer leaves: every sealed copy of every case key they hold is deleted, they leave every
    channel, their sessions end, and their private key is destroyed (its wrapping overwritten by a
    key nobody knows), so the account can neither sign in nor read anything again. Refused
    (LastReader) while a case could be read by nobody else. Returns how many sealed copies were
    deleted. Audited.
    """
    account = accounts.get_account(ctx, account_id)
    if account is None or account.role != "officer":
        raise accounts.AccountError(N_("There is no such officer."))
    destroyed = crypto.wrap_private_key(
        crypto.generate_keypair()[0], crypto.new_receipt(), ctx.settings.passphrase_params
    )
    with transaction(ctx.db):
        orphaned = cases_only_readable_by(ctx, account.id)
        if orphaned:
            raise LastReader(
                f"{account.name} is the only officer who can read"
                f" {count_of(len(orphaned), 'case')}, for example {orphaned[0]}. Give another"
                " officer access to them first."
            )
        deleted = delete_sealed_copies(ctx, account.id)
        ctx.db.execute("DELETE FROM channel_officers WHERE account_id = ?", [account.id])
        ctx.db.execute("DELETE FROM key_rotations WHERE account_id = ?", [account.id])
        # Their cases are not assigned any more: they say who had them (migration 22).
        ctx.db.execute(
            "UPDATE cases SET assigned_before = assigned_to, assigned_to = NULL"
            " WHERE assigned_to = ?",
            [account.id],
        )
        # A public key whose private half nobody has: even a copy of the old wrapped key (a backup)
        # and the leaver's passphrase open nothing sealed after today.
        # Their signing seed goes too; its public half stays, for signatures they made before.
        ctx.db.execute(
            "UPDATE accounts SET wrapped_private_key = ?, public_key = ?, offboarded_day = ?,"
            " wrapped_signing_key = NULL WHERE id = ?",
            [destroyed, crypto.generate_keypair()[1], today(ctx.settings.timezone), account.id],
        )
        ended = end_sessions(ctx, account.id)
        audit.record(
            ctx,
            "offboard",
            actor=actor,
            subject=account.id,
            detail={"sealed_copies_deleted": deleted, "sessions_ended": ended},
        )
    # Move the committed pages out of the write-ahead log, so the deleted copies linger in no file.
    ctx.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return deleted

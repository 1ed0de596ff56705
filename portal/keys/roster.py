"""Each channel's signed roster, checked at every seal (issue 21; SECURITY.md, "Signed roster").

Every key a case key may be sealed to (an officer's X25519 public key, the channel's recovery key)
is admitted by a statement signed by an officer who already reads the channel, in a hash chain per
channel that starts at the channel's first officer. The chain's root is pinned in a file outside the
database and its head is kept beside the audit head (portal.keys.roster_files), so a database
writer can neither add a reader, swap a key, nor drop a later "removed" or "replaced" statement.

Before sealing, callers ask `seal_readers` (officers) and `admitted_recovery_key` (the recovery
key): only keys the verified roster admits get a copy. A channel with no statement yet (made before
rosters) seals as before, and its officers are warned until one of them starts its roster
(portal.keys.roster_work).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from crypto import roster as signed
from portal.core.clock import today
from portal.core.context import Context
from portal.keys import roster_files
from portal.keys.accounts import Account
from portal.records import audit
from portal.store import after_commit

_CACHE: dict[tuple, "ChannelRoster"] = {}
_CACHE_LIMIT = 256


@dataclass(frozen=True)
class ChannelRoster:
    channel_id: int
    stored: int  # statements in the database
    verified: signed.Verified | None  # None: no roster anywhere (a channel from before rosters)
    pinned: bool  # the root comes from the roots file, not from the database
    root: bytes | None  # the root the chain was verified from
    problem: str | None  # what does not verify, for the officers' warning; None when all is well
    cut: bool = False  # the stored chain is not the one its head records: nothing is sealed

    @property
    def started(self) -> bool:
        return self.verified is not None

    def admits(self, account: Account) -> bool:
        """May a key be sealed to this account's current public key?"""
        if not self.started:
            return True  # no roster yet: sealing as before (the console warns)
        if self.cut:
            return False  # a statement was deleted or changed: who was removed is unknown
        reader = self.verified.readers.get(account.id)
        return reader is not None and reader.key == account.public_key


def _split_signatures(blob: bytes) -> tuple[tuple[bytes, bytes], ...]:
    try:
        return signed.unpack_signatures(blob)
    except signed.RosterError:
        return ()  # malformed: verify_chain refuses the statement, naming it


def as_bytes(value) -> bytes:
    """A BLOB column's value; b"" for text or a number a row written outside the portal may hold
    (such a statement or signature then fails to verify)."""
    return bytes(value) if isinstance(value, (bytes, bytearray, memoryview)) else b""


def _rows(ctx: Context, channel_id: int) -> list[tuple[int, bytes, bytes]]:
    rows = ctx.db.execute(
        "SELECT seq, body, signatures FROM roster_statements WHERE channel_id = ? ORDER BY seq",
        [channel_id],
    ).fetchall()
    return [(seq, as_bytes(body), as_bytes(sigs)) for seq, body, sigs in rows]


def statements(ctx: Context, channel_id: int) -> list[tuple[bytes, tuple]]:
    """The channel's stored statements in order, as (body, ((signer, signature), ...)): what a
    discloser's browser verifies for itself from the root it trusts (docs/sealed-submission.md)."""
    return [(body, _split_signatures(sigs)) for _, body, sigs in _rows(ctx, channel_id)]


def _digest(rows: list[tuple[int, bytes, bytes]]) -> bytes:
    digest = hashlib.blake2b(digest_size=32)
    for _, body, sigs in rows:
        for part in (body, sigs):
            digest.update(len(part).to_bytes(8, "big") + part)
    return digest.digest()


def _first_root(body: bytes) -> bytes | None:
    try:
        return signed.decode_statement(body).signing_key
    except signed.RosterError:
        return None


def load(ctx: Context, channel_id: int) -> ChannelRoster:
    """The channel's roster as verified from its pinned root, checked against its head file.

    Never raises for a roster that does not verify: `problem` says what is wrong, and `verified`
    holds what the valid statements before the first bad one established. Verified once per
    distinct stored chain (cached by the hash of every stored statement)."""
    rows = _rows(ctx, channel_id)
    problems: list[str] = []
    try:
        root = roster_files.read_roots(ctx.settings.roster_roots_path).get(channel_id)
    except roster_files.RosterFileError as exc:
        root, problems = None, [str(exc)]
    pinned = root is not None
    try:
        head = roster_files.read_heads(ctx.settings.data_dir).get(channel_id)
    except roster_files.RosterFileError as exc:
        head, problems = None, [*problems, str(exc)]
    if not rows:
        if root is None and head is None:
            return ChannelRoster(channel_id, 0, None, False, None, None)
        # Recorded outside the database, but no statement in it: deleted, never "no roster yet".
        problems.append(
            "The roster's statements were deleted from the database: nothing is sealed to this"
            " channel's officers until they are restored (from a backup)."
        )
        return ChannelRoster(
            channel_id, 0, signed.Verified(), pinned, root or head.root, " ".join(problems), True
        )
    if head is not None and root is not None and head.root != root:
        # The roots file changed without a signed hand-over: keep to the root seen before it.
        problems.append(
            "The roots file names another root than the one this channel's roster was verified "
            "from. New keys are sealed only as the earlier root admits; the operator must explain."
        )
        root = head.root
    if root is None:
        # Not pinned yet (a read-only roots file the operator has not updated): trust on first use.
        root = head.root if head is not None else _first_root(rows[0][1])
    key = (str(ctx.settings.data_dir), channel_id, root, pinned, _digest(rows), head, *problems)
    if key in _CACHE:
        return _CACHE[key]
    statements = [signed.SignedStatement(body, _split_signatures(sigs)) for _, body, sigs in rows]
    verified = signed.verify_chain(root or bytes(32), channel_id, statements)
    if verified.problem:
        problems.append(f"Statement {verified.bad_seq} does not verify: {verified.problem}")
    cut = head is not None and (
        len(rows) < head.length or signed.statement_hash(rows[head.length - 1][1]) != head.head
    )
    if cut:
        problems.append(
            f"The roster in the database is not the one recorded outside it ({head.length} "
            "statements): a statement was deleted or changed, so nothing is sealed to this"
            " channel's officers until it is restored."
        )
    roster = ChannelRoster(
        channel_id, len(rows), verified, pinned, root, " ".join(problems) or None, cut
    )
    if len(_CACHE) >= _CACHE_LIMIT:
        _CACHE.clear()
    _CACHE[key] = roster
    return roster


def seal_readers(ctx: Context, channel_id: int, candidates: list[Account]) -> list[Account]:
    """The candidates whose current public key the channel's verified roster admits (all of them
    for a channel with no roster yet). A key swapped in the database gets nothing."""
    roster = load(ctx, channel_id)
    return [account for account in candidates if roster.admits(account)]


def admitted_recovery_key(ctx: Context, channel_id: int, key: bytes | None) -> bytes | None:
    """`key` (the channel's recovery key as the database has it) if the roster admits it, else
    None: a recovery key written into the database alone gets no copy."""
    roster = load(ctx, channel_id)
    if key is None or not roster.started:
        return key
    return key if not roster.cut and roster.verified.recovery_key == key else None


def next_statement(
    ctx: Context,
    channel_id: int,
    kind: str,
    *,
    officer: int | None = None,
    key: bytes | None = None,
    signing_key: bytes | None = None,
) -> bytes:
    """The body of the channel's next statement (its seq and prev follow the stored chain)."""
    rows = _rows(ctx, channel_id)
    prev = signed.statement_hash(rows[-1][1]) if rows else bytes(32)
    day = today(ctx.settings.timezone)
    return signed.encode_statement(
        channel_id, len(rows) + 1, prev, kind, officer, key, signing_key, day
    )


def append(
    ctx: Context,
    channel_id: int,
    kind: str,
    *,
    signers: list[bytes],
    actor: int | None,
    officer: int | None = None,
    key: bytes | None = None,
    signing_key: bytes | None = None,
) -> int:
    """Inside the caller's transaction: add a statement signed by each seed in `signers` and
    return its seq. The statement must verify against the chain as it stands: raises
    signed.RosterError otherwise (nothing is written). Audited; the head file follows the commit."""
    body = next_statement(
        ctx, channel_id, kind, officer=officer, key=key, signing_key=signing_key
    )
    signatures = tuple(signed.sign_statement(seed, body) for seed in signers)
    return append_signed(ctx, channel_id, body, signatures, actor=actor)


def verifies_next(
    ctx: Context, channel_id: int, body: bytes, signatures: tuple[tuple[bytes, bytes], ...]
) -> str | None:
    """None if the statement would verify as the channel's next one, else why not."""
    rows = _rows(ctx, channel_id)
    root = load(ctx, channel_id).root if rows else signed.decode_statement(body).signing_key
    statements = [signed.SignedStatement(b, _split_signatures(s)) for _, b, s in rows]
    checked = signed.verify_chain(
        root or bytes(32), channel_id, [*statements, signed.SignedStatement(body, signatures)]
    )
    if checked.problem or checked.length != len(rows) + 1:
        return checked.problem or "the statement does not follow the roster"
    return None


def append_signed(
    ctx: Context,
    channel_id: int,
    body: bytes,
    signatures: tuple[tuple[bytes, bytes], ...],
    *,
    actor: int | None,
) -> int:
    """Inside the caller's transaction: add an already signed statement (see append)."""
    problem = verifies_next(ctx, channel_id, body, signatures)
    if problem:
        raise signed.RosterError(problem)
    statement = signed.decode_statement(body)
    root = load(ctx, channel_id).root if statement.seq > 1 else statement.signing_key
    ctx.db.execute(
        "INSERT INTO roster_statements (channel_id, seq, body, signatures) VALUES (?, ?, ?, ?)",
        [channel_id, statement.seq, body, signed.pack_signatures(signatures)],
    )
    link = signed.statement_hash(body)
    audit.record(
        ctx,
        "roster_statement",
        actor=actor,
        subject=statement.officer,
        channel=channel_id,
        detail={"seq": statement.seq, "kind": statement.kind, "statement": link.hex()},
    )
    head = roster_files.Head(statement.seq, link, root)
    data_dir, roots = ctx.settings.data_dir, ctx.settings.roster_roots_path
    after_commit(ctx.db, lambda: roster_files.write_head(data_dir, channel_id, head))
    if statement.seq == 1:
        after_commit(ctx.db, lambda: roster_files.pin_root(roots, channel_id, root))
    return statement.seq


def head_words(ctx: Context, channel_id: int) -> str | None:
    """The verified roster's head as its officers' roster page shows it: the first 16 hex digits
    (64 bits) of BLAKE2b-256 of its last statement (crypto.roster.statement_hash); None for a
    channel with no roster, or one that does not verify whole."""
    state = load(ctx, channel_id)
    if not state.started or state.cut or state.problem or not state.verified.length:
        return None
    return state.verified.head.hex()[:16]


def channels_read_by(ctx: Context, account: Account) -> list[int]:
    """The channels whose verified roster admits this account's current key."""
    rows = ctx.db.execute(
        "SELECT DISTINCT channel_id FROM roster_statements ORDER BY channel_id"
    ).fetchall()
    return [c for (c,) in rows if load(ctx, c).admits(account)]

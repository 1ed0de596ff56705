"""Handing a channel's roster root on (issue 21; SECURITY.md, "Signed roster").

The root is the signing key a channel's chain is checked from after its first statement. The
officer who holds it hands it to another reader with one signature. When the holder is gone (left
the channel, offboarded, or lost their keys), a majority of the other readers sign the hand-over
together, each in their own session: the statement and the signatures gathered so far wait in
`roster_handovers` until there are enough (crypto.roster's quorum rule decides), and then it enters
the chain. Nobody hands the root on alone but its holder, and never the operator.
"""

from __future__ import annotations

from dataclasses import dataclass

from crypto import roster as signed
from portal.core.context import Context
from portal.keys import roster, roster_audit
from portal.keys.accounts import Account, get_account
from portal.keys.channels import channel_officers, list_channels
from portal.store import transaction


class NoHandOver(Exception):
    """This officer may not sign that hand-over (not a reader, not a possible new root holder, or
    the holder still reads the channel and must hand it on themselves)."""


@dataclass(frozen=True)
class Proposal:
    channel_id: int
    channel_name: str
    officer_id: int  # who would take the root
    officer_name: str
    signed: int  # signatures gathered so far
    needed: int  # a majority of the readers other than the gone holder


def _members(ctx: Context, channel_id: int) -> dict[int, Account]:
    return {m.id: m for m in channel_officers(ctx, channel_id)}


def _stored(ctx: Context, channel_id: int) -> tuple[int, bytes, tuple] | None:
    """The hand-over being signed: (new holder, body, the signatures that verify over it by current
    readers). A row that does not read as one (written outside the portal) counts as none."""
    row = ctx.db.execute(
        "SELECT officer_id, body, signatures FROM roster_handovers WHERE channel_id = ?",
        [channel_id],
    ).fetchone()
    if row is None or not isinstance(row[0], int):
        return None
    body, blob = roster.as_bytes(row[1]), roster.as_bytes(row[2])
    try:
        signed.decode_statement(body)
        gathered = signed.unpack_signatures(blob)
    except signed.RosterError:
        return None
    state = roster.load(ctx, channel_id)
    signers = {r.signing_key for r in state.verified.readers.values()} if state.started else set()
    # Only signatures that verify, by readers the roster admits, count (nor are they shown).
    valid = tuple(
        (signer, sig)
        for signer, sig in gathered
        if signer in signers and signed.signature_verifies(signer, sig, body)
    )
    return row[0], body, valid


def _still_next(ctx: Context, channel_id: int, body: bytes, target: int) -> bool:
    """Is a stored hand-over still the chain's next statement, for the same new holder?"""
    statement = signed.decode_statement(body)
    state = roster.load(ctx, channel_id)
    return (statement.seq, statement.prev, statement.officer) == (
        state.stored + 1,
        state.verified.head,
        target,
    )


def _gone(ctx: Context, channel_id: int, holder: int | None, members: dict) -> bool:
    # Gone as the audit log records it, not only as a membership row says.
    return holder not in members and roster_audit.holder_gone(ctx, channel_id, holder)


def proposals_for(ctx: Context, officer: Account) -> list[Proposal]:
    """Channels this officer reads whose root holder no longer reads them: the hand-over each needs
    (or the one being signed), for this officer to sign."""
    found = []
    for channel in list_channels(ctx):
        state = roster.load(ctx, channel.id)
        members = _members(ctx, channel.id)
        if not state.started or officer.id not in members or not state.admits(officer):
            continue
        holder = state.verified.root_holder()
        if not _gone(ctx, channel.id, holder, members):
            continue  # the holder still reads it: only they hand it on
        others = [r for r in state.verified.readers if r != holder]
        row = _stored(ctx, channel.id)
        target = row[0] if row and _still_next(ctx, channel.id, row[1], row[0]) else officer.id
        gathered = len(row[2]) if row and target == row[0] else 0
        name = members[target].name if target in members else f"account {target}"
        found.append(
            Proposal(channel.id, channel.name, target, name, gathered, len(others) // 2 + 1)
        )
    return found


def hand_over(
    ctx: Context, officer: Account, seed: bytes, channel_id: int, target_id: int
) -> bool:
    """Sign the hand-over of `channel_id`'s root to reader `target_id`. True when it entered the
    chain (the holder's own hand-over, or the signature that made a majority); False while it
    waits for more readers. Raises NoHandOver."""
    with transaction(ctx.db):
        state = roster.load(ctx, channel_id)
        members = _members(ctx, channel_id)
        target = get_account(ctx, target_id)
        if not state.started or not state.admits(officer) or officer.id not in members:
            raise NoHandOver()
        admitted = state.verified.readers.get(target_id)
        if target is None or target_id not in members or admitted is None:
            raise NoHandOver()
        holder = state.verified.root_holder()
        gone = _gone(ctx, channel_id, holder, members)
        if holder == target_id or (holder != officer.id and not gone):
            raise NoHandOver()
        body = roster.next_statement(
            ctx, channel_id, "handover", officer=target_id, signing_key=admitted.signing_key
        )
        row = _stored(ctx, channel_id)
        signatures: tuple = ()
        if row and row[0] == target_id and _still_next(ctx, channel_id, row[1], target_id):
            body, signatures = row[1], row[2]
        mine = signed.sign_statement(seed, body)
        if mine[0] not in {signer for signer, _ in signatures}:
            signatures = (*signatures, mine)
        if roster.verifies_next(ctx, channel_id, body, signatures) is None:
            roster.append_signed(ctx, channel_id, body, signatures, actor=officer.id)
            ctx.db.execute("DELETE FROM roster_handovers WHERE channel_id = ?", [channel_id])
            return True
        if holder == officer.id:
            raise NoHandOver()  # the holder alone suffices: something else is wrong
        ctx.db.execute(
            "INSERT INTO roster_handovers (channel_id, officer_id, body, signatures) VALUES"
            " (?, ?, ?, ?) ON CONFLICT (channel_id) DO UPDATE SET officer_id = excluded.officer_id,"
            " body = excluded.body, signatures = excluded.signatures",
            [channel_id, target_id, body, signed.pack_signatures(signatures)],
        )
        return False


def hand_over_choices(ctx: Context, officer: Account) -> list[tuple[int, str, list[Account]]]:
    """(channel id, name, the other readers) for each channel whose root this officer holds."""
    choices = []
    for channel in list_channels(ctx):
        state = roster.load(ctx, channel.id)
        if not state.started or state.verified.root_holder() != officer.id:
            continue
        members = _members(ctx, channel.id)
        others = [
            members[r]
            for r in state.verified.readers
            if r != officer.id and r in members and members[r].signing_public_key is not None
        ]
        choices.append((channel.id, channel.name, others))
    return choices

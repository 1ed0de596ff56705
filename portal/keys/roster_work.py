"""What officers sign into a channel's roster, in their own signed-in session (issue 21).

- Starting a roster: a new channel's roster starts by itself when its only officer signs in; a
  channel made before rosters is started by one of its officers, who compares every reader's
  fingerprint first and signs the root and an admission for each (`start`).
- Keeping it true: officers who joined in the database but are not admitted, officers admitted whose
  key in the database differs from the admitted one, and admitted officers no longer members are
  listed to the channel's readers (`pending_for`) until one of them signs the admission, the
  replacement or the removal after comparing fingerprints (`sign_pending`). Nothing is admitted by
  the database alone.
- What each officer last saw: the root and head they acknowledged, so that a changed root or roster
  is flagged at their next sign-in (`changes_since_seen`, `mark_seen`).
"""

from __future__ import annotations

from dataclasses import dataclass

import crypto
from portal.core.context import Context
from portal.core.words import N_, Sentence
from portal.keys import roster, roster_audit
from portal.keys.accounts import Account, get_account
from portal.keys.channels import Channel, channel_officers, list_channels
from portal.store import transaction


class NothingToSign(Exception):
    """The statement asked for is not (or no longer) pending for this officer."""


@dataclass(frozen=True)
class Pending:
    channel_id: int
    channel_name: str
    kind: str  # 'start', 'admit', 'replace' or 'remove'
    officer_id: int
    officer_name: str
    fingerprint: str  # of the X25519 key the statement would admit ('' for a removal)
    # For a start: each member the start would admit, (name, fingerprint), to compare first.
    members: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class RosterView:
    """One channel's roster as an officer sees it in the console."""

    channel: Channel
    roster: roster.ChannelRoster
    root_fingerprint: str
    readers: list[tuple[str, str]]  # (officer's name, fingerprint of the admitted key)
    changed_since_seen: bool


def _my_channels(ctx: Context, officer: Account) -> list[Channel]:
    return [
        c
        for c in list_channels(ctx)
        if officer.id in {o.id for o in channel_officers(ctx, c.id)}
    ]


def _fingerprint(key: bytes | None) -> str:
    return crypto.key_fingerprint(key) if key else ""


def pending_for(ctx: Context, officer: Account) -> list[Pending]:
    """The statements this officer may sign for the channels they read: admissions, replacements
    and removals where the database and the verified roster disagree, or a start for a channel
    with no roster yet."""
    found = []
    for channel in _my_channels(ctx, officer):
        state = roster.load(ctx, channel.id)
        members = channel_officers(ctx, channel.id)
        if not state.started:
            listed = tuple(
                (m.name, _fingerprint(m.public_key))
                for m in members
                if m.id == officer.id or m.signing_public_key is not None
            )
            found.append(
                Pending(channel.id, channel.name, "start", officer.id, officer.name, "", listed)
            )
            continue
        readers = state.verified.readers
        if officer.id not in readers:
            continue  # only a reader the roster admits may vouch for others
        for member in members:
            admitted = readers.get(member.id)
            if member.signing_public_key is None:
                continue  # admitted once they have signed in with their own signing key
            if admitted is None or (admitted.key, admitted.signing_key) != (
                member.public_key,
                member.signing_public_key,
            ):
                kind = "admit" if admitted is None else "replace"
                found.append(
                    Pending(
                        channel.id,
                        channel.name,
                        kind,
                        member.id,
                        member.name,
                        _fingerprint(member.public_key),
                    )
                )
        member_ids = {m.id for m in members}
        holder = state.verified.root_holder()
        # The root holder is removed only after handing the root on (portal.keys.roster_handover).
        for reader_id in sorted(set(readers) - member_ids - {holder}):
            gone = get_account(ctx, reader_id)
            name = gone.name if gone else f"account {reader_id}"
            found.append(Pending(channel.id, channel.name, "remove", reader_id, name, ""))
    return found


def start(ctx: Context, officer: Account, signing_seed: bytes, channel_id: int) -> None:
    """Start the roster of a channel this officer reads: the root (this officer), then an
    admission for every other current member, each after the officer compared its fingerprint on
    the page. Raises NothingToSign if the channel has a roster already or the officer is not one
    of its officers."""
    with transaction(ctx.db):
        if not any(
            p.kind == "start" and p.channel_id == channel_id for p in pending_for(ctx, officer)
        ):
            raise NothingToSign()
        public = crypto.signing_public_key(signing_seed)
        roster.append(
            ctx,
            channel_id,
            "root",
            signers=[signing_seed],
            actor=officer.id,
            officer=officer.id,
            key=officer.public_key,
            signing_key=public,
        )
        for member in channel_officers(ctx, channel_id):
            # An officer with no signing key yet is admitted later, once they have signed in.
            if member.id != officer.id and member.signing_public_key is not None:
                admit(ctx, officer, signing_seed, channel_id, member, "admit")


def start_where_alone(ctx: Context, officer: Account, signing_seed: bytes) -> list[int]:
    """At sign-in: start the roster of every channel whose only officer this is and that has none
    yet, so a new channel's first case is sealed under a roster with no step for anyone. Returns
    the channels started."""
    started = []
    for channel in _my_channels(ctx, officer):
        members = channel_officers(ctx, channel.id)
        alone = [m.id for m in members] == [officer.id]
        # Only a new channel: made since rosters (its audited entry says so), no case yet, every
        # membership made by an audited step, so that rows written into the database cannot make
        # an account the root. Any other channel is started by hand, after comparing fingerprints.
        if (
            alone
            and not roster.load(ctx, channel.id).started
            and roster_audit.made_with_roster(ctx, channel.id)
            and not _has_cases(ctx, channel.id)
            and roster_audit.membership_problem(ctx, channel.id) is None
        ):
            try:
                start(ctx, officer, signing_seed, channel.id)
            except NothingToSign:
                continue  # another worker started it meanwhile
            started.append(channel.id)
    return started


def _has_cases(ctx: Context, channel_id: int) -> bool:
    return (
        ctx.db.execute("SELECT 1 FROM cases WHERE channel_id = ? LIMIT 1", [channel_id]).fetchone()
        is not None
    )


def admit(
    ctx: Context, officer: Account, seed: bytes, channel_id: int, member: Account, kind: str
) -> None:
    """Inside the caller's transaction: `officer` signs `member`'s current keys into the roster
    (`kind` 'admit' for a newcomer, 'replace' for a reader whose keys changed)."""
    roster.append(
        ctx,
        channel_id,
        kind,
        signers=[seed],
        actor=officer.id,
        officer=member.id,
        key=member.public_key,
        signing_key=member.signing_public_key,
    )


def sign_pending(
    ctx: Context, officer: Account, signing_seed: bytes, channel_id: int, officer_id: int, kind: str
) -> None:
    """Sign one pending statement after comparing its fingerprint. Raises NothingToSign."""
    with transaction(ctx.db):
        match = [
            p
            for p in pending_for(ctx, officer)
            if (p.channel_id, p.officer_id, p.kind) == (channel_id, officer_id, kind)
        ]
        if not match or kind == "start":
            raise NothingToSign()
        if kind == "remove":
            roster.append(
                ctx,
                channel_id,
                "remove",
                signers=[signing_seed],
                actor=officer.id,
                officer=officer_id,
            )
        else:
            admit(ctx, officer, signing_seed, channel_id, get_account(ctx, officer_id), kind)


def views_for(ctx: Context, officer: Account) -> list[RosterView]:
    """Each channel this officer reads, with its root, readers and whether either changed since
    the officer last acknowledged them."""
    views = []
    for channel in _my_channels(ctx, officer):
        state = roster.load(ctx, channel.id)
        readers = []
        if state.started:
            for reader in state.verified.readers.values():
                account = get_account(ctx, reader.officer)
                name = account.name if account else f"account {reader.officer}"
                readers.append((name, _fingerprint(reader.key)))
        seen = ctx.db.execute(
            "SELECT root, head FROM roster_seen WHERE account_id = ? AND channel_id = ?",
            [officer.id, channel.id],
        ).fetchone()
        current = _seen_value(state)
        views.append(
            RosterView(
                channel,
                state,
                _fingerprint(state.root),
                sorted(readers),
                seen is not None and tuple(map(roster.as_bytes, seen)) != current,
            )
        )
    return views


def _seen_value(state: roster.ChannelRoster) -> tuple[bytes, bytes]:
    if not state.started:
        return bytes(32), bytes(32)
    return state.root or bytes(32), state.verified.head


def mark_seen(ctx: Context, officer: Account) -> None:
    """The officer has seen every roster of their channels as it stands now."""
    with transaction(ctx.db):
        for channel in _my_channels(ctx, officer):
            root, head = _seen_value(roster.load(ctx, channel.id))
            ctx.db.execute(
                "INSERT INTO roster_seen (account_id, channel_id, root, head) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (account_id, channel_id) DO UPDATE SET root = excluded.root,"
                " head = excluded.head",
                [officer.id, channel.id, root, head],
            )


def attention(ctx: Context, officer: Account) -> list[Sentence]:
    """Plain sentences for the inbox: rosters that do not verify, channels with no roster, roots
    not pinned, changes since the officer last looked, and statements waiting for a signature.
    (Why a roster does not verify is crypto's own wording, in English.)"""
    notes = []
    for view in views_for(ctx, officer):
        name = view.channel.name
        if not view.roster.started:
            notes.append(
                Sentence(
                    N_(
                        "%(name)s has no signed roster yet: its cases are sealed to the officers"
                        " the database lists. Start its roster after comparing fingerprints."
                    ),
                    name=name,
                )
            )
            continue
        if view.roster.problem:
            notes.append(
                Sentence(
                    N_("The roster of %(name)s does not verify. %(problem)s"),
                    name=name,
                    problem=view.roster.problem,
                )
            )
        if not view.roster.pinned:
            notes.append(
                Sentence(
                    N_(
                        "The root of %(name)s's roster is not pinned outside the database yet:"
                        " ask the operator to pin fingerprint %(fingerprint)s (docs/deploy.md)."
                    ),
                    name=name,
                    fingerprint=view.root_fingerprint,
                )
            )
        if view.changed_since_seen:
            notes.append(
                Sentence(
                    N_("The roster or root of %(name)s changed since you last looked."), name=name
                )
            )
    waiting = [p for p in pending_for(ctx, officer) if p.kind != "start"]
    if waiting:
        notes.append(
            Sentence(N_("%(n)d roster statement(s) wait for your signature."), n=len(waiting))
        )
    return notes


@dataclass(frozen=True)
class PublicRoot:
    channel_name: str
    fingerprint: str  # of the root the roster is checked from ('' for a channel without a roster)
    pinned: bool  # the root comes from the roots file outside the database
    verifies: bool  # the roster verifies from it, whole


def public_roots(ctx: Context) -> list[PublicRoot]:
    """For the public keys page: each channel's root fingerprint, to compare with the one the
    organisation's protected disclosures policy publishes. Names no reader."""
    found = []
    for channel in list_channels(ctx):
        state = roster.load(ctx, channel.id)
        found.append(
            PublicRoot(
                channel.name,
                _fingerprint(state.root) if state.started else "",
                state.pinned,
                state.started and state.problem is None,
            )
        )
    return found

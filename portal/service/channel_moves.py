"""A channel's cases moved from one organisation of the service to another (issue 29;
docs/organisations.md, "Moving a channel"): `portal org move-ask`, then both organisations'
officers, then `portal org move-channel`.

`ask` writes the receiving officers' public halves into the sending organisation (pending members
of the sending channel, portal.keys.channel_arrivals) and the move, waiting, into the receiving
one. Nothing moves until (a) an officer of the sending channel admitted each of them into its
signed roster and gave them every case of the channel, in their own session (the server has no
case key), and (b) an officer of the receiving channel named the sending roster's head, which is
still its head. `move` then copies each case under its own id (its fields' ciphertext is bound to
the case id, not to the installation), with the copies of its keys sealed to the receiving
officers only, and its receipt's salt. SQLite makes no transaction across two database files, so
each case is written to the receiver marked arriving, removed from the sender, then marked
arrived; an interrupted move is finished from those marks by the next `move`.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from graphlib import TopologicalSorter
from pathlib import Path

from portal.core.context import Context, open_context
from portal.core.words import N_, Sentence
from portal.intake import receipts
from portal.keys import access, accounts, channel_arrivals, channels, roster
from portal.records import audit
from portal.service import operator
from portal.service.registry import ServiceError, data_dir_of, organisation
from portal.store import transaction

# Rows made again here from the case's own (the officers' queue, by triggers) or left behind:
# statistics frozen for the sender's officers, and the copies sealed to the sending channel's
# recovery key.
_NOT_COPIED = {
    "cases",
    "case_queue",
    "statistics_snapshot_cases",
    "case_receipt_salts",
    "arriving_cases",
    "recovery_copies",
}


@dataclass(frozen=True)
class Asked:
    move_id: str
    officers: list[tuple[str, str]]  # (name <email>, fingerprint of their X25519 key)


@dataclass(frozen=True)
class Moved:
    move_id: str
    cases: int  # moved by this run (finished ones from an interrupted run included)


def _open(service_dir: Path, slug: str) -> tuple[str, Context]:
    member = organisation(service_dir, slug)
    return member.id, open_context(data_dir_of(service_dir, slug))


def _channel(ctx: Context, name: str) -> channels.Channel:
    found = channels.find_channel(ctx, name)
    if found is None:
        raise ServiceError(Sentence(N_("There is no channel %(name)s there."), name=name))
    return found


def ask(
    service_dir: Path, from_slug: str, channel: str, to_slug: str, into: str, emails: list[str]
) -> Asked:
    """Ask for CHANNEL of `from_slug` to move into channel `into` of `to_slug`, to be read there by
    the officers `emails` (confirmed officers of `into` with both their keys). ServiceError, with
    nothing written, otherwise."""
    service_dir = Path(service_dir)
    from_id, sender = _open(service_dir, from_slug)
    to_id, receiver = _open(service_dir, to_slug)
    if from_id == to_id:
        raise ServiceError(N_("A channel moves to another organisation."))
    try:
        source, target = _channel(sender, channel), _channel(receiver, into)
        readers = {o.email.lower(): o for o in channels.channel_officers(receiver, target.id)}
        chosen = [readers.get(email.strip().lower()) for email in emails]
        if not chosen or any(o is None or o.signing_public_key is None for o in chosen):
            raise ServiceError(N_(
                "Each officer named must be a confirmed officer of the receiving channel who has"
                " signed in (and so has both keys)."
            ))
        move_id = secrets.token_hex(8)
        with transaction(sender.db):
            for officer in chosen:
                try:
                    channel_arrivals.add_visitor(
                        sender, move_id, source.id, name=officer.name, email=officer.email,
                        public_key=officer.public_key, signing_key=officer.signing_public_key,
                    )
                except accounts.AccountError as exc:
                    raise ServiceError(exc.args[0]) from None
        with transaction(receiver.db):
            channel_arrivals.ask(receiver, move_id, target.id, from_id, source.name)
    finally:
        sender.db.conn.close()
        receiver.db.conn.close()
    operator.record(
        service_dir, "channel_move_ask", {"move": move_id, "from": from_id, "to": to_id}
    )
    return Asked(
        move_id, [(f"{o.name} <{o.email}>", _fingerprint(o.public_key)) for o in chosen]
    )


def _fingerprint(key: bytes) -> str:
    from crypto import key_fingerprint

    return key_fingerprint(key)


def _arrival(receiver: Context, from_id: str) -> tuple[str, int, str, str]:
    row = receiver.db.execute(
        "SELECT id, channel_id, from_channel, state FROM channel_arrivals WHERE"
        " from_organisation = ? AND state != 'done' ORDER BY asked_day DESC LIMIT 1",
        [from_id],
    ).fetchone()
    if row is None:
        raise ServiceError(N_("No move of a channel was asked from there (portal org move-ask)."))
    return row


def _readers_map(
    sender: Context, receiver: Context, move_id: str, source: int, target: int
) -> dict[int, int]:
    """{sending account id: receiving account id} of the receiving officers the sending roster
    admits, matched by their public key. ServiceError when one is not admitted."""
    state = roster.load(sender, source)
    at_home = {o.public_key: o.id for o in channels.channel_officers(receiver, target)}
    mapped = {}
    for visitor in channel_arrivals.visitors(sender, move_id):
        if not state.started or not state.admits(visitor) or visitor.public_key not in at_home:
            raise ServiceError(N_(
                "An officer of the sending channel has not yet admitted every receiving officer"
                " into its roster (at /console/memberships): nothing was moved."
            ))
        mapped[visitor.id] = at_home[visitor.public_key]
    if not mapped:
        raise ServiceError(N_("This move names no receiving officer: nothing was moved."))
    return mapped


def _check(sender: Context, receiver: Context, move_id: str, source, target: int) -> dict:
    if not channel_arrivals.heads_match(
        channel_arrivals.confirmed_head(receiver, move_id), roster.head_words(sender, source.id)
    ):
        raise ServiceError(N_(
            "No officer of the receiving channel has confirmed the sending channel's current"
            " roster head (at /console/arrivals): nothing was moved."
        ))
    mapped = _readers_map(sender, receiver, move_id, source.id, target)
    for (case_id,) in sender.db.execute(
        "SELECT id FROM cases WHERE channel_id = ?", [source.id]
    ).fetchall():
        held = {
            a for (a,) in sender.db.execute(
                "SELECT account_id FROM case_keys WHERE case_id = ?", [case_id]
            )
        }
        if not set(mapped) <= held:
            raise ServiceError(N_(
                "Not every case of the channel was given to the receiving officers by an officer"
                " of the sending channel (at /console/access): nothing was moved."
            ))
    return mapped


def _tables(ctx: Context) -> list[str]:
    """Every table with a case_id, parents before children (foreign keys among them)."""
    names = [
        n for (n,) in ctx.db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
        )
    ]
    with_case = [n for n in names if "case_id" in _columns(ctx, n) and n not in _NOT_COPIED]
    graph = {
        n: {
            row[2] for row in ctx.db.execute(f"PRAGMA foreign_key_list('{n}')")
            if row[2] in with_case and row[2] != n
        }
        for n in with_case
    }
    return list(TopologicalSorter(graph).static_order())


def _columns(ctx: Context, table: str) -> dict[str, bool]:
    """{column: may be NULL}."""
    return {row[1]: not row[3] for row in ctx.db.execute(f"PRAGMA table_info('{table}')")}


def _account_columns(ctx: Context, table: str) -> set[str]:
    return {
        row[3] for row in ctx.db.execute(f"PRAGMA foreign_key_list('{table}')")
        if row[2] == "accounts"
    }


def _copy_rows(sender, receiver, table: str, key: str, value, mapped, keys_only: bool, fixed):
    columns = _columns(sender, table)
    people = _account_columns(sender, table)
    names = list(columns)
    for row in sender.db.execute(
        f"SELECT {', '.join(names)} FROM {table} WHERE {key} = ?", [value]
    ).fetchall():
        record = dict(zip(names, row))
        if keys_only and record.get("account_id") not in (None, *mapped):
            continue  # a copy sealed to a sending officer (the discloser's, with none, goes)
        skip = False
        for column in people:
            if record[column] is not None:
                record[column] = mapped.get(record[column])
                skip = skip or (record[column] is None and not columns[column])
        if skip:
            continue  # a row that names a sending officer and cannot be kept without them
        record.update(fixed(record))
        receiver.db.execute(
            f"INSERT INTO {table} ({', '.join(record)}) VALUES ({', '.join('?' * len(record))})",
            list(record.values()),
        )


def _copy_case(sender, receiver, move_id, case_id, target, mapped, tables) -> list[str]:
    """Inside the receiver's transaction: the case, its rows, its receipt's salt and its mark.
    Returns its blobs' names (copied by the caller before the commit)."""
    _copy_rows(sender, receiver, "cases", "id", case_id, mapped, False,
               lambda r: {"channel_id": target})
    key_tables = set(access.key_tables())
    for table in tables:
        if table == access.CASE_KEYS:
            fixed = lambda r: (  # noqa: E731
                {"recipient": f"account:{r['account_id']}", "key_copy": None}
                if r["account_id"] is not None else {}
            )
        else:
            fixed = lambda r: {}  # noqa: E731
        _copy_rows(sender, receiver, table, "case_id", case_id, mapped, table in key_tables, fixed)
    receipts.keep_salt_of_moved_case(receiver, case_id, receipts.salt_of_case(sender, case_id))
    receiver.db.execute(
        "INSERT INTO arriving_cases (case_id, move_id) VALUES (?, ?)", [case_id, move_id]
    )
    return [
        b for table in ("attachments", "original_files") for (b,) in sender.db.execute(
            f"SELECT blob FROM {table} WHERE case_id = ?", [case_id]
        )
    ]


# The records bound to an audit entry (portal.records.audit_verify.RECORD_KEYS), each with the
# entry's detail keys and, last, its actor.
_BOUND_RECORDS = (
    ("status_moved_in", "SELECT seq, status, day, account_id FROM status_events WHERE case_id = ?"
     " AND binding = 2 ORDER BY seq", ("status_seq", "status", "day")),
    ("message_moved_in", "SELECT id, author, day, account_id FROM messages WHERE case_id = ? AND"
     " binding = 2 ORDER BY seq", ("message_id", "author", "day")),
)


def _audit_arrival(receiver: Context, move_id: str, case_id: str) -> None:
    """The receiver's entries for a case moved in: the case, then each of its records bound to
    the sender's chain (status records and messages, as copied: their actor is the receiving
    account or none), which `portal audit verify` then checks here as it checks its own."""
    db = receiver.db
    ref = db.execute("SELECT ref FROM cases WHERE id = ?", [case_id]).fetchone()[0]
    audit.record(receiver, "case_moved_in", actor=None, case_ref=ref, detail={"move": move_id})
    for event, sql, names in _BOUND_RECORDS:
        for *values, actor in db.execute(sql, [case_id]).fetchall():
            detail = dict(zip(names, values))
            audit.record(receiver, event, actor=actor, case_ref=ref, detail=detail)


def _remove_from_sender(sender: Context, case_id: str) -> None:
    blobs = [
        b for table in ("attachments", "original_files") for (b,) in sender.db.execute(
            f"SELECT blob FROM {table} WHERE case_id = ?", [case_id]
        )
    ]
    with transaction(sender.db):
        ref = sender.db.execute("SELECT ref FROM cases WHERE id = ?", [case_id]).fetchone()
        if ref is not None:
            sender.db.execute("DELETE FROM cases WHERE id = ?", [case_id])
            audit.record(sender, "case_moved_out", actor=None, case_ref=ref[0])
    for name in blobs:
        sender.blobs.delete(name)


def _arrived(receiver: Context, case_id: str) -> None:
    with transaction(receiver.db):
        receiver.db.execute("DELETE FROM arriving_cases WHERE case_id = ?", [case_id])


def move(service_dir: Path, from_slug: str, to_slug: str) -> Moved:
    """Move the channel asked to move from `from_slug` to `to_slug`, once both sides confirmed;
    finishes first what an interrupted run left marked arriving. ServiceError, with nothing
    moved, when a confirmation is missing or no longer holds."""
    service_dir = Path(service_dir)
    from_id, sender = _open(service_dir, from_slug)
    to_id, receiver = _open(service_dir, to_slug)
    try:
        move_id, target, from_channel, _state = _arrival(receiver, from_id)
        source = _channel(sender, from_channel)
        moved = 0
        for (case_id,) in receiver.db.execute(
            "SELECT case_id FROM arriving_cases WHERE move_id = ?", [move_id]
        ).fetchall():
            _remove_from_sender(sender, case_id)  # written whole to the receiver already
            _arrived(receiver, case_id)
            moved += 1
        mapped = _check(sender, receiver, move_id, source, target)
        tables = _tables(sender)
        for (case_id,) in sender.db.execute(
            "SELECT id FROM cases WHERE channel_id = ? ORDER BY id", [source.id]
        ).fetchall():
            with transaction(receiver.db):
                for name in _copy_case(sender, receiver, move_id, case_id, target, mapped, tables):
                    with sender.blobs.open(name) as blob:
                        receiver.blobs.path(name).write_bytes(blob.read())
                _audit_arrival(receiver, move_id, case_id)
            moved += 1
            _remove_from_sender(sender, case_id)
            _arrived(receiver, case_id)
        with transaction(receiver.db):
            receiver.db.execute(
                "UPDATE channel_arrivals SET state = 'done' WHERE id = ?", [move_id]
            )
            audit.record(receiver, "channel_arrived", actor=None, channel=target,
                         detail={"move": move_id, "cases": moved})
        with transaction(sender.db):
            audit.record(sender, "channel_moved_out", actor=None, channel=source.id,
                         detail={"move": move_id, "cases": moved})
    finally:
        sender.db.conn.close()
        receiver.db.conn.close()
    operator.record(
        service_dir, "channel_move", {"move": move_id, "from": from_id, "to": to_id, "cases": moved}
    )
    return Moved(move_id, moved)

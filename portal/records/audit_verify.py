"""Verifying the audit chain (`portal audit verify`): every link, the head file and a head kept
elsewhere, and each bound status record and message against its audit entry.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Iterator

import crypto
from portal.core.context import Context
from portal.core.words import N_, Sentence
from portal.records.audit import chain_fields, chain_key
from portal.records.audit_head import HEAD_FILE, Head, read_head, read_witnessed
from portal.store import ChangedWhileReadOnly

# An entry whose detail carries one of these keys vouches for a workflow record (case_history writes
# both in one transaction): a status record by its case and sequence number, a message by its id.
RECORD_KEYS = {"status_seq": "status", "message_id": "message"}
# A case that left through the portal: deleted (retention) or moved to another organisation.
_GONE = {"case_deleted", "case_moved_out"}


@dataclass(frozen=True)
class Verdict:
    intact: bool
    length: int
    message: str
    broken_entry: int | None = None
    unverified_records: int = 0


def _rows(ctx: Context) -> Iterator[tuple]:
    yield from ctx.db.execute(
        "SELECT seq, at, event, actor, subject, channel_id, case_ref, detail, link FROM audit_log"
        " ORDER BY seq"
    )


def verify(ctx: Context, expected: Head | None = None) -> Verdict:
    """Check the whole chain, the head file (and `expected`, a head kept elsewhere) and the workflow
    records against it. Never raises for damage it finds: every problem is a Verdict naming the
    first broken entry. Raises portal.store.ChangedWhileReadOnly when the database was written
    under a read-only connection opened on a full disk (what was read may be torn: read again)."""
    try:
        return _verify(ctx, expected)
    except ChangedWhileReadOnly:
        raise  # not damage: written under a read-only connection on a full disk; read again
    except Exception as exc:  # a verdict, never a crash: a damaged database is a finding too
        return Verdict(False, 0, f"The audit log could not be read: {type(exc).__name__}: {exc}")


def _verify(ctx: Context, expected: Head | None) -> Verdict:
    key = chain_key(ctx)
    previous, length = crypto.AUDIT_GENESIS, 0
    links: dict[int, str] = {}
    records: dict[tuple, dict] = {}
    case_refs: set[str] = set()
    deleted_refs: set[str] = set()
    for seq, at, event, actor, subject, channel, case_ref, detail, link in _rows(ctx):
        if seq != length + 1:
            if seq > length + 1:
                missing = length + 1 if length + 1 == seq - 1 else f"{length + 1} to {seq - 1}"
                return Verdict(
                    False,
                    length,
                    f"Entry {missing} is missing: deleted from the audit log.",
                    length + 1,
                )
            return Verdict(False, length, f"Entry {seq} is out of order.", seq)
        computed = crypto.audit_link(
            key, previous, chain_fields(seq, at, event, actor, subject, channel, case_ref, detail)
        )
        if not isinstance(link, str) or computed.hex() != link:
            return Verdict(
                False,
                length,
                f"Entry {seq} was altered or moved: its link does not match "
                "its contents and the entry before it.",
                seq,
            )
        previous, length = computed, seq
        links[seq] = link
        if case_ref:
            (deleted_refs if event in _GONE else case_refs).add(case_ref)
        if "_seq" in detail or "_id" in detail:
            values = json.loads(detail)
            for record_key, kind in RECORD_KEYS.items():
                if record_key in values:
                    records[(kind, case_ref, values[record_key])] = {**values, "actor": actor}
    for head, where in (
        (read_head(ctx.settings.data_dir), "the head file"),
        (read_witnessed(), "the witness"),
        (expected, "the head you gave"),
    ):
        if isinstance(head, str):
            return Verdict(
                False, length, f"The audit log cannot be checked against its head: {head}."
            )
        if head is None:
            if where == "the head file" and length > 0:
                return Verdict(
                    False,
                    length,
                    f"The head file {HEAD_FILE} is missing, so a cut-off tail cannot be ruled out.",
                )
            continue
        if head.length > length:
            return Verdict(
                False,
                length,
                f"The audit log was cut off: it ends at entry {length}, but {where} "
                f"records {head.length} entries (entry {length + 1} onwards is gone).",
                length + 1,
            )
        if head.length and links.get(head.length) != head.link:
            return Verdict(
                False,
                length,
                f"Entry {head.length} does not match {where}: the chain was rewritten.",
                head.length,
            )
    problem, unverified = _check_records(ctx, records, case_refs, deleted_refs)
    if problem:
        return Verdict(False, length, problem, unverified_records=unverified)
    message = (
        Sentence(
            N_(
                "The audit log is intact: %(length)s entries. %(unverified)s older workflow"
                " record(s) predate record binding and are not verified."
            ),
            length=length,
            unverified=unverified,
        )
        if unverified
        else Sentence(N_("The audit log is intact: %(length)s entries."), length=length)
    )
    return Verdict(True, length, message, unverified_records=unverified)


def _check_records(
    ctx: Context, records: dict[tuple, dict], case_refs: set[str], deleted_refs: set[str]
) -> tuple[str | None, int]:
    """Each bound status record and message must match its audit entry, and each audited record and
    case must still exist unless its case was deleted through the portal (retention); a case's
    status must be its latest record's."""
    unverified = 0
    latest: dict[str, tuple[int, str]] = {}
    present: set[tuple] = set()
    legacy = set(ctx.db.execute("SELECT kind, case_id, record FROM legacy_records").fetchall())
    for ref, case_id, seq, status, day, account_id, binding in ctx.db.execute(
        "SELECT c.ref, c.id, s.seq, s.status, s.day, s.account_id, s.binding FROM status_events s "
        "JOIN cases c ON c.id = s.case_id ORDER BY c.ref, s.seq"
    ):
        latest[ref] = (seq, status)
        present.add(("status", ref, seq))
        entry = records.get(("status", ref, seq))
        if binding != 2 and ("status", case_id, str(seq)) not in legacy:
            return (
                (
                    f"Status record {seq} of case {ref} is in the older, unverified format but was"
                    " not there when record binding began: it was written outside the portal."
                ),
                unverified,
            )
        if binding != 2 and entry is None:
            unverified += 1
            continue
        if entry is None and (seq, status, account_id) == (1, "received", None):
            continue  # older, or waiting for the day's end (audit.record_for_the_day)
        if (
            binding != 2
            or entry is None
            or (entry.get("status"), entry.get("day"), entry["actor"]) != (status, day, account_id)
        ):
            return (
                (
                    f"Status record {seq} of case {ref} does not match the audit log: it was"
                    " changed outside the portal."
                ),
                unverified,
            )
    for ref, status in ctx.db.execute("SELECT ref, status FROM cases"):
        if ref in latest and latest[ref][1] != status:
            return (
                f"Case {ref} shows the status {status!r}, which its records do not support.",
                unverified,
            )
    for ref, case_id, mid, author, account_id, day, binding in ctx.db.execute(
        "SELECT c.ref, c.id, m.id, m.author, m.account_id, m.day, m.binding FROM messages m "
        "JOIN cases c ON c.id = m.case_id"
    ):
        present.add(("message", ref, mid))
        entry = records.get(("message", ref, mid))
        if binding != 2 and ("message", case_id, mid) not in legacy:
            return (
                (
                    f"A message of case {ref} is in the older, unverified format but was not there"
                    " when record binding began: it was written outside the portal."
                ),
                unverified,
            )
        if binding != 2 and entry is None:
            unverified += 1
            continue
        if entry is None and (author, account_id) == ("discloser", None):
            continue  # older, or waiting for the day's end (audit.record_for_the_day)
        if (
            binding != 2
            or entry is None
            or (entry.get("author"), entry.get("day"), entry["actor"]) != (author, day, account_id)
        ):
            return (
                (
                    f"A message of case {ref} does not match the audit log: its author or day was "
                    "changed outside the portal."
                ),
                unverified,
            )
    existing = {row[0] for row in ctx.db.execute("SELECT ref FROM cases")}
    for ref in sorted(case_refs - deleted_refs - existing):
        return (
            (
                f"Case {ref} is in the audit log but gone from the database: it was deleted outside"
                " the portal."
            ),
            unverified,
        )
    for kind, ref, record_id in sorted(set(records) - present, key=str):
        if ref not in deleted_refs:
            what = f"Status record {record_id}" if kind == "status" else "A message"
            return (
                (
                    f"{what} of case {ref} is in the audit log but gone from the database: it was"
                    " deleted outside the portal."
                ),
                unverified,
            )
    return None, unverified

"""Retention and deletion: how long a closed case is kept, legal holds, and deletion by two
officers.

- Each channel keeps a closed case for `retention_months` after the day it was closed (default 84,
  seven years; the organisation's public records obligations decide the real value: Public Records
  Act 2005 and the archives' disposal authority). A case is closed on the day of its latest 'closed'
  status record and stays closed only while its status is 'closed'.
- A legal hold stops the clock: a held case is never listed as expired and cannot be deleted.
- An expired case is listed for the officers who read it and never deleted silently: one officer
  requests deletion, a second officer who also reads it confirms (four eyes).
- Deletion removes every row of the case (the database runs with secure_delete, so freed space is
  zeroed; the WAL is checkpointed and truncated), its sealed case keys with them, its discloser
  sessions, and unlinks its blob files. The audit log keeps that it happened (reference, who
  requested and who confirmed), not what it was.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Callable

from dateutil.relativedelta import relativedelta

from portal.core import clock
from portal.core.context import Context
from portal.core.words import N_, Sentence
from portal.records import audit, casefiles
from portal.records.casefiles import CaseNotFound
from portal.store import progress, transaction
from portal.store.maintenance import maintenance_lock

DEFAULT_MONTHS = 84
CLOSED = "closed"


class RetentionError(Exception):
    """An action the retention rules refuse; the message says why, in plain words."""


@dataclass(frozen=True)
class ExpiredCase:
    ref: str
    channel_name: str
    closed_day: str
    expired_day: str
    requested_by: str | None  # the display name of the officer who asked for deletion, if any
    requested_by_me: bool


@dataclass(frozen=True)
class HeldCase:
    ref: str
    channel_name: str
    day: str


def expiry_day(closed_day: str, months: int) -> str:
    """The first day a case closed on `closed_day` (YYYY-MM-DD) may be deleted after `months`."""
    return (dt.date.fromisoformat(closed_day) + relativedelta(months=months)).isoformat()


MAX_MONTHS = 100 * 12  # beyond any records rule; keeps day arithmetic within the calendar


def set_channel_period(ctx: Context, channel_name: str, months: int) -> None:
    """Set a channel's retention period in months (1 to MAX_MONTHS). Raises RetentionError.
    Audited."""
    if not 1 <= months <= MAX_MONTHS:
        raise RetentionError(
            f"The retention period must be from one month to {MAX_MONTHS // 12} years."
        )
    with transaction(ctx.db):
        row = ctx.db.execute(
            "SELECT id FROM channels WHERE name = ?", [channel_name.strip()]
        ).fetchone()
        if row is None:
            raise RetentionError(f"There is no channel named {channel_name!r}.")
        ctx.db.execute("UPDATE channels SET retention_months = ? WHERE id = ?", [months, row[0]])
        audit.record(ctx, "retention_change", actor=None, channel=row[0], detail={"months": months})


def _reader_case(ctx: Context, account_id: int, ref: str):
    """The case, if this officer holds a sealed key for it; otherwise CaseNotFound (never told
    apart)."""
    case = casefiles.get_case(ctx, ref=ref)
    if (
        ctx.db.execute(
            "SELECT 1 FROM case_keys WHERE case_id = ? AND recipient = ?",
            [case.id, f"account:{account_id}"],
        ).fetchone()
        is None
    ):
        raise CaseNotFound()
    return case


def _closed_cases(ctx: Context, account_id: int, case_id: str | None = None):
    """(case id, ref, channel, closed day, months, held, requester id, requester name) of each
    closed case the officer reads (one case when `case_id` is given)."""
    sql = (
        "SELECT c.id, c.ref, ch.name, (SELECT MAX(s.day) FROM status_events s WHERE s.case_id ="
        " c.id AND s.status = 'closed'), ch.retention_months, h.case_id IS NOT NULL, r.account_id,"
        # A requester who has left is named as such (what is true now).
        " CASE WHEN a.offboarded_day IS NULL THEN a.name ELSE a.name || ' (who has left)' END"
        " FROM cases c JOIN channels ch ON ch.id = c.channel_id JOIN case_keys k ON"
        " k.case_id = c.id AND k.recipient = ? LEFT JOIN legal_holds h ON h.case_id = c.id LEFT"
        " JOIN deletion_requests r ON r.case_id = c.id LEFT JOIN accounts a ON a.id = r.account_id"
        " WHERE c.status = ?"
    )
    params = [f"account:{account_id}", CLOSED]
    if case_id is not None:
        sql += " AND c.id = ?"
        params.append(case_id)
    return ctx.db.execute(sql + " ORDER BY c.ref", params).fetchall()


def expired_cases(ctx: Context, account_id: int) -> list[ExpiredCase]:
    """The closed cases this officer reads whose retention period has run out and that no legal hold
    keeps, oldest first, each with whoever has asked for its deletion."""
    now = clock.today(ctx.settings.timezone)
    found = []
    for _, ref, channel, closed_day, months, held, requester, requester_name in _closed_cases(
        ctx, account_id
    ):
        if closed_day is None or held:
            continue
        expires = expiry_day(closed_day, months)
        if expires <= now:
            found.append(
                ExpiredCase(
                    ref, channel, closed_day, expires, requester_name, requester == account_id
                )
            )
    return sorted(found, key=lambda case: (case.expired_day, case.ref))


def held_cases(ctx: Context, account_id: int) -> list[HeldCase]:
    """The cases this officer reads that are under a legal hold."""
    rows = ctx.db.execute(
        "SELECT c.ref, ch.name, h.day FROM legal_holds h JOIN cases c ON c.id = h.case_id JOIN"
        " channels ch ON ch.id = c.channel_id JOIN case_keys k ON k.case_id = c.id AND k.recipient"
        " = ? ORDER BY c.ref",
        [f"account:{account_id}"],
    ).fetchall()
    return [HeldCase(*row) for row in rows]


def place_hold(ctx: Context, account_id: int, ref: str) -> None:
    """Put a case the officer reads under a legal hold (any status). Raises CaseNotFound.
    Audited."""
    with transaction(ctx.db):
        case = _reader_case(ctx, account_id, ref)
        ctx.db.execute(
            "INSERT OR IGNORE INTO legal_holds (case_id, day, account_id) VALUES (?, ?, ?)",
            [case.id, clock.today(ctx.settings.timezone), account_id],
        )
        # A hold also withdraws any pending deletion request: the hold must be released and asked
        # again.
        ctx.db.execute("DELETE FROM deletion_requests WHERE case_id = ?", [case.id])
        audit.record(ctx, "legal_hold", actor=account_id, case_ref=case.ref)


def release_hold(ctx: Context, account_id: int, ref: str) -> None:
    """Lift a legal hold on a case the officer reads. Raises CaseNotFound, RetentionError.
    Audited."""
    with transaction(ctx.db):
        case = _reader_case(ctx, account_id, ref)
        if ctx.db.execute("DELETE FROM legal_holds WHERE case_id = ?", [case.id]).rowcount == 0:
            raise RetentionError(N_("This case is not under a legal hold."))
        audit.record(ctx, "legal_hold_released", actor=account_id, case_ref=case.ref)


def _check_expired(ctx: Context, account_id: int, case) -> tuple:
    rows = _closed_cases(ctx, account_id, case.id)
    if not rows or rows[0][3] is None:
        raise RetentionError(
            N_("Only a closed case whose retention period has run out can be deleted.")
        )
    row = rows[0]
    if row[5]:
        raise RetentionError(
            N_("This case is under a legal hold: it cannot be deleted until the hold is lifted.")
        )
    if expiry_day(row[3], row[4]) > clock.today(ctx.settings.timezone):
        raise RetentionError(
            Sentence(
                N_(
                    "This case's retention period runs until %(day)s; it cannot be deleted before"
                    " then."
                ),
                day=expiry_day(row[3], row[4]),
            )
        )
    return row


def request_deletion(ctx: Context, account_id: int, ref: str) -> None:
    """The first officer asks for an expired case to be deleted; a second must confirm. Raises
    CaseNotFound, RetentionError. Audited."""
    with transaction(ctx.db):
        case = _reader_case(ctx, account_id, ref)
        row = _check_expired(ctx, account_id, case)
        if row[6] is not None:
            raise RetentionError(
                N_("Deletion of this case has already been requested; another officer confirms it.")
            )
        ctx.db.execute(
            "INSERT INTO deletion_requests (case_id, day, account_id) VALUES (?, ?, ?)",
            [case.id, clock.today(ctx.settings.timezone), account_id],
        )
        audit.record(ctx, "deletion_requested", actor=account_id, case_ref=case.ref)


def withdraw_request(ctx: Context, account_id: int, ref: str) -> None:
    """Withdraw a pending deletion request (either officer may). Raises CaseNotFound,
    RetentionError."""
    with transaction(ctx.db):
        case = _reader_case(ctx, account_id, ref)
        if (
            ctx.db.execute("DELETE FROM deletion_requests WHERE case_id = ?", [case.id]).rowcount
            == 0
        ):
            raise RetentionError(N_("No deletion of this case has been requested."))
        audit.record(ctx, "deletion_withdrawn", actor=account_id, case_ref=case.ref)


def confirm_deletion(ctx: Context, account_id: int, ref: str) -> int:
    """A second officer who reads the case confirms its deletion, then every row of it goes (keys
    first), then the WAL is checkpointed so no earlier page of it stays there. Returns the number
    of blob files removed. Raises CaseNotFound, RetentionError (no request, the same officer, not
    expired, held). Audited as 'case_deleted' with who requested (subject) and who confirmed.

    In bounded transactions (issue 23): the first ends every way of reading the case (its sealed
    keys, its discloser sessions, its deletion request) and records the deletion (the audit entry,
    and its progress in `long_operations`); then its attachments and messages go at most
    progress.BATCH_CASES rows a transaction, each batch's blob files with it; the last removes the
    case row and what cascades from it. A deletion interrupted part way is finished by
    `carry_on_deletions` (the retention page's "Carry on", or the next deletion confirmed)."""
    with maintenance_lock(ctx.settings.data_dir):
        with transaction(ctx.db):
            case = _reader_case(ctx, account_id, ref)
            row = _check_expired(ctx, account_id, case)
            requester = row[6]
            if requester is None:
                raise RetentionError(N_("Deletion of this case has not been requested yet."))
            if requester == account_id:
                raise RetentionError(
                    N_("You asked for this deletion: a second officer must confirm it.")
                )
            (files,) = ctx.db.execute(
                "SELECT COUNT(*) FROM attachments WHERE case_id = ?", [case.id]
            ).fetchone()
            (messages,) = ctx.db.execute(
                "SELECT COUNT(*) FROM messages WHERE case_id = ?", [case.id]
            ).fetchone()
            (originals,) = ctx.db.execute(
                "SELECT COUNT(*) FROM original_files WHERE case_id = ?", [case.id]
            ).fetchone()
            ctx.db.execute(
                "INSERT INTO long_operations (kind, scope, actor, total) VALUES (?, ?, ?, ?)",
                [DELETION, case.id, account_id, files + messages + originals],
            )
            ctx.db.execute(
                "DELETE FROM sessions WHERE kind = 'discloser' AND subject = ?", [case.id]
            )
            for table in KEY_TABLES:  # from now on nobody opens anything of it
                ctx.db.execute(f"DELETE FROM {table} WHERE case_id = ?", [case.id])
            ctx.db.execute("DELETE FROM deletion_requests WHERE case_id = ?", [case.id])
            audit.record(
                ctx,
                "case_deleted",
                actor=account_id,
                subject=requester,
                case_ref=case.ref,
                # The received day lets `portal audit verify` tell which frozen statistics
                # the case leaves (portal.casework.statistics_snapshots).
                detail={"files": files, "closed_day": row[3], "received_day": case.received_day},
            )
        _remove_rows(ctx, case.id)
        _settle(ctx)
    return files


# Tables holding a case's sealed keys (and its copies for the recovery key): emptied first.
KEY_TABLES = ("case_keys", "internal_keys", "identity_keys", "recovery_copies")
DELETION = "case_delete"  # progress kind (portal.store.progress): a confirmed deletion under way


def deletions_under_way(ctx: Context, account_id: int) -> list[progress.Progress]:
    """Deletions this officer confirmed that stopped part way (their case is unreadable already)."""
    return progress.under_way(ctx.db, DELETION, account_id)


def cases_being_deleted(ctx: Context) -> list[str]:
    """The ids of the cases whose confirmed deletion is under way (anyone's), in id order."""
    return [
        row[0]
        for row in ctx.db.execute(
            "SELECT scope FROM long_operations WHERE kind = ? ORDER BY scope", [DELETION]
        )
    ]


def carry_on_deletions(
    ctx: Context,
    account_id: int | None = None,
    *,
    report: Callable[[progress.Progress], None] | None = None,
    batches: int | None = None,
) -> int:
    """Finish the deletions under way (this officer's, or every one): how many were finished.
    `report(op)` runs after each batch's commit (op.done of op.total rows of the case gone);
    with `batches`, it stops after that many transactions, the rest left for the next call."""
    if account_id is None:
        scopes = cases_being_deleted(ctx)
    else:
        scopes = [op.scope for op in deletions_under_way(ctx, account_id)]
    finished = 0
    if scopes:
        with maintenance_lock(ctx.settings.data_dir):
            for case_id in scopes:
                if batches is not None and batches <= 0:
                    break
                done, used = _remove_rows(ctx, case_id, report, batches)
                finished += done
                batches = None if batches is None else batches - used
            _settle(ctx)
    return finished


def _remove_rows(
    ctx: Context,
    case_id: str,
    report: Callable[[progress.Progress], None] | None = None,
    batches: int | None = None,
) -> tuple[bool, int]:
    """The rows of a case whose deletion is recorded, at most progress.BATCH_CASES attachments or
    messages a transaction (each batch's blob files unlinked in it), then the case row. Stops
    after `batches` transactions if given: (whether the case is gone, transactions done)."""
    used = 0
    while batches is None or used < batches:
        used += 1
        with transaction(ctx.db):
            batch = progress.BATCH_CASES
            # The originals kept for the discloser go first, then the attachments.
            table = "original_files"
            files = ctx.db.execute(
                "SELECT id, blob FROM original_files WHERE case_id = ? LIMIT ?", [case_id, batch]
            ).fetchall()
            if not files:
                table = "attachments"
                files = ctx.db.execute(
                    "SELECT id, blob FROM attachments WHERE case_id = ? LIMIT ?", [case_id, batch]
                ).fetchall()
            rows = [(table, row[0]) for row in files]
            if not rows:
                rows = [
                    ("messages", row[0])
                    for row in ctx.db.execute(
                        "SELECT id FROM messages WHERE case_id = ? LIMIT ?", [case_id, batch]
                    )
                ]
            for table, row_id in rows:
                ctx.db.execute(f"DELETE FROM {table} WHERE id = ?", [row_id])
            for _, name in files:
                ctx.blobs.delete(name)  # a crash before COMMIT leaves the row: done again
            if rows:
                ctx.db.execute(
                    "UPDATE long_operations SET done = done + ? WHERE kind = ? AND scope = ?",
                    [len(rows), DELETION, case_id],
                )
            op = progress.load(ctx.db, DELETION, case_id)
            if not rows:
                # Every other table that refers to a case does so ON DELETE CASCADE
                # (tests/operations/test_retention.py checks).
                ctx.db.execute("DELETE FROM cases WHERE id = ?", [case_id])
                ctx.db.execute(
                    "DELETE FROM long_operations WHERE kind = ? AND scope = ?", [DELETION, case_id]
                )
                op.finished = True
        if report is not None:
            report(op)
        if op.finished:
            return True, used
    return False, used


def _settle(ctx: Context) -> None:
    ctx.blobs.settle()
    checkpoint(ctx)


def checkpoint(ctx: Context) -> None:
    """Copy the WAL into the database and truncate it, so deleted pages live on in neither file once
    no reader holds an older snapshot (busy_timeout waits for them)."""
    ctx.db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()

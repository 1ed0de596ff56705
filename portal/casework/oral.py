"""Oral disclosures: made in person or by phone and recorded by an officer (the record's storage).

The record is a case like any other (same encryption, same channel rules: portal.intake.cases
records it). What is particular is kept here: who recorded it and when; the day the discloser first
opened it, when the receipt the officer saw was replaced by one only the discloser holds (so that
corrections and consent count from then on); and the officer's confirmation of the record after the
discloser could check and correct it (EU Directive 2019/1937 art 18; s 13 of the 2022 Act asks the
receiver to summarise its understanding of an oral disclosure when acknowledging it).
"""

from __future__ import annotations

from dataclasses import dataclass

from portal.core.context import Context
from portal.core.words import N_
from portal.records import audit


class OralError(ValueError):
    """An action on an oral record that cannot be taken; the message says why."""


@dataclass(frozen=True)
class OralRecord:
    recorded_by: str  # the officer's display name
    day: str
    receipt_replaced_day: str | None
    confirmed_by: str
    confirmed_day: str | None


def mark_recorded(ctx: Context, case_id: str, ref: str, account_id: int, day: str) -> None:
    """In the caller's transaction: the case is an oral disclosure recorded by this officer."""
    ctx.db.execute(
        "INSERT INTO oral_disclosures (case_id, recorded_by, day) VALUES (?, ?, ?)",
        [case_id, account_id, day],
    )
    audit.record(ctx, "oral_disclosure", actor=account_id, case_ref=ref)


def record_of(ctx: Context, case_id: str) -> OralRecord | None:
    """The oral record's state, or None for a disclosure made through the web form."""
    row = ctx.db.execute(
        "SELECT COALESCE(a.name, ''), o.day, o.receipt_replaced_day, COALESCE(b.name, ''),"
        " o.confirmed_day FROM oral_disclosures o LEFT JOIN accounts a ON a.id = o.recorded_by LEFT"
        " JOIN accounts b ON b.id = o.confirmed_by WHERE o.case_id = ?",
        [case_id],
    ).fetchone()
    return OralRecord(*row) if row else None


def recorded_by(ctx: Context, case_id: str) -> int | None:
    """The account that recorded an oral disclosure (it saw the first receipt), or None for a web
    one."""
    row = ctx.db.execute(
        "SELECT recorded_by FROM oral_disclosures WHERE case_id = ?", [case_id]
    ).fetchone()
    return row[0] if row else None


def needs_new_receipt(ctx: Context, case_id: str) -> bool:
    row = ctx.db.execute(
        "SELECT receipt_replaced_day FROM oral_disclosures WHERE case_id = ?", [case_id]
    ).fetchone()
    return row is not None and row[0] is None


def mark_receipt_replaced(ctx: Context, case_id: str, day: str) -> None:
    """In the caller's transaction. Audited to the day, at the day's end
    (audit.record_for_the_day): its time would tell when the discloser first came."""
    ctx.db.execute(
        "UPDATE oral_disclosures SET receipt_replaced_day = ? WHERE case_id = ?", [day, case_id]
    )
    ref = ctx.db.execute("SELECT ref FROM cases WHERE id = ?", [case_id]).fetchone()[0]
    audit.record_for_the_day(ctx, "oral_receipt_replaced", case_ref=ref)


def confirm(ctx: Context, case_id: str, ref: str, account_id: int, day: str) -> None:
    """The officer confirms the record, once the discloser could read and correct it. Raises
    OralError."""
    record = record_of(ctx, case_id)
    if record is None:
        raise OralError(N_("This disclosure was not made orally: there is no record to confirm."))
    if record.confirmed_day:
        raise OralError(N_("The record is already confirmed."))
    if record.receipt_replaced_day is None:
        raise OralError(
            N_(
                "The discloser has not opened the record yet: they must be able to read and"
                " correct it before it is confirmed."
            )
        )
    ctx.db.execute(
        "UPDATE oral_disclosures SET confirmed_by = ?, confirmed_day = ? WHERE case_id = ?",
        [account_id, day, case_id],
    )
    audit.record(ctx, "oral_record_confirmed", actor=account_id, case_ref=ref)

"""The printable case record: everything an officer may read of a case on one page, with who printed
it."""

from __future__ import annotations

from flask import Blueprint, g, render_template

from portal.casework import case_export, case_identity, notes, referrals, triage, workflow
from portal.casework.categories import CATEGORIES, DISCLOSED_ELSEWHERE, FORMER_CATEGORIES
from portal.records import audit_entries
from portal.web.casework.case_page import browser_field_problems
from portal.web.console_session import signed_in
from portal.web.context import portal_context
from portal.web.languages import detail_words

bp = Blueprint("case_record", __name__, url_prefix="/console")


@bp.get("/cases/<ref>/record")
@signed_in("officer")
def record(ref: str):
    ctx = portal_context()
    view = triage.read_case(ctx, g.who, ref, audited=False, whole_thread=True)
    printed_at, entries = case_export.print_case_record(ctx, g.who, ref)
    releases, _ = case_identity.identity_record(ctx, g.who, ref)
    return render_template(
        "casework/case_record.html",
        view=view,
        printed_at=printed_at,
        entries=entries,
        notes=notes.read_notes(ctx, g.who, view.case.id),
        referrals=referrals.read_referrals(ctx, g.who, view.case.id),
        releases=releases,
        oral_record=triage.oral_record(ctx, g.who, ref),
        categories={**FORMER_CATEGORIES, **CATEGORIES},
        elsewhere=DISCLOSED_ELSEWHERE,
        field_problems=browser_field_problems(view),
        step_labels=workflow.STEP_LABELS,
        tz=ctx.settings.timezone,
        local_time=audit_entries.local_time,
        detail_words=detail_words,
    )

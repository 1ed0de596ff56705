"""The case page in the console, its attachments, and the way every case form comes back to it
(`render_case`, `case_action`, also used by the oral and confidentiality views)."""

from __future__ import annotations

from urllib.parse import quote

from flask import Response, g, redirect, render_template, request, stream_with_context, url_for

from portal.casework import (
    consent,
    file_copies,
    identity_releases,
    notes,
    queue_rows,
    referrals,
    triage,
    workflow,
)
from portal.casework.categories import CATEGORIES, DISCLOSED_ELSEWHERE, FORMER_CATEGORIES
from portal.guard import submissions
from portal.intake import replies
from portal.keys import conflicts
from portal.records.casefiles import STATUSES
from portal.web.casework.blueprint import bp
from portal.web.casework.case_forms import assign_form, referral_form, status_form, step_form
from portal.web.casework.forms import (
    CaseExportForm,
    ExtensionForm,
    IdentityReleaseForm,
    NoteForm,
    OfficerReplyForm,
    OralConfirmForm,
)
from portal.web.console_session import signed_in
from portal.web.context import portal_context
from portal.web.forms import EmptyForm


def render_case(ref: str, problem=None, code=200, **forms):
    """The case page; `forms` replaces any of its forms (reply, status, step, extension, assign,
    note, referral)."""
    ctx = portal_context()
    view = triage.read_case(ctx, g.who, ref, audited=code == 200)
    case_id = view.case.id
    assigned = triage.assignee(ctx, case_id)
    forms = {
        "reply_form": OfficerReplyForm(),
        "status_form": status_form(status=view.case.status),
        "extension_form": ExtensionForm(),
        "step_form": step_form(),
        "assign_form": assign_form(ctx, case_id, officer=str(assigned.id) if assigned else ""),
        "note_form": NoteForm(),
        "referral_form": referral_form(ctx),
        "identity_form": IdentityReleaseForm(),
        "export_form": CaseExportForm(),
        "oral_form": OralConfirmForm(),
        **forms,
    }
    releases, consent_questions = triage.identity_record(ctx, g.who, ref)
    reader_ids = [r.id for r in triage.reader_accounts(ctx, case_id)]
    return (
        render_template(
            "casework/case.html",
            view=view,
            problem=problem,
            forms=forms,
            assignee=assigned,
            former_assignee=triage.former_assignee(ctx, case_id),
            discloser_quota=replies.case_quota(ctx, case_id),
            excluded=conflicts.excluded_officers(ctx, case_id, g.who.account.id, g.who.private_key),
            interests=conflicts.interests_of(ctx, reader_ids),
            notes=notes.read_notes(ctx, g.who, case_id),
            referrals=referrals.read_referrals(ctx, g.who, case_id),
            authorities=referrals.list_authorities(ctx),
            identity_releases=releases,
            consent_questions=consent_questions,
            oral_record=triage.oral_record(ctx, g.who, ref),
            file_details=file_copies.file_details(ctx, g.who, ref),
            confirm_form=EmptyForm(),
            grounds=identity_releases.GROUNDS,
            categories={**FORMER_CATEGORIES, **CATEGORIES},
            elsewhere=DISCLOSED_ELSEWHERE,
            statuses=STATUSES,
            step_statuses=_statuses_by_step(),
            regime_names=workflow.REGIME_NAMES,
            deadline_names=workflow.DEADLINE_NAMES,
            **forms,
        ),
        code,
    )


def _statuses_by_step() -> dict[str, list[str]]:
    """For the checklist: which statuses record each step when set."""
    by_step: dict[str, list[str]] = {}
    for status, steps in workflow.STATUS_STEPS.items():
        for step in steps:
            # The short words, one per status: "No further action, Closed", never "Closed, Closed".
            by_step.setdefault(step, []).append(queue_rows.SHORT_STATUSES[status])
    return by_step


@bp.get("/cases/<ref>")
@signed_in("officer")
def case(ref: str):
    return render_case(ref)


@bp.get("/cases/<ref>/messages")
@signed_in("officer")
def case_messages(ref: str):
    """Earlier messages of a long case (`before`: the first message number not shown), a page of
    their own: the case page's reply form, in its own tab, keeps what is typed in it."""
    before = request.args.get("before", type=int)
    case, page = triage.read_earlier_messages(portal_context(), g.who, ref, before)
    if page is None:
        return redirect(url_for("console.case", ref=ref) + "#thread", code=303)
    return render_template("casework/case_messages.html", case=case, page=page)


@bp.get("/cases/<ref>/attachments/<attachment_id>")
@signed_in("officer")
def attachment(ref: str, attachment_id: str):
    meta, chunks = triage.download(portal_context(), g.who, ref, attachment_id)
    return download_response(meta.name, meta.size, chunks)


def download_response(name: str, size: int, chunks) -> Response:
    """A discloser's file as a download (never shown in the console)."""
    fallback = "".join(
        ch if ch.isascii() and (ch.isalnum() or ch in "._- ") else "_" for ch in name
    )
    response = Response(stream_with_context(chunks), mimetype="application/octet-stream")
    response.headers["Content-Disposition"] = (
        f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"
    )
    response.headers["Content-Length"] = str(size)
    # A discloser's HTML or SVG must never run in the console, even if opened directly.
    response.headers["Content-Security-Policy"] = "sandbox"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def case_action(
    ref: str, form_name: str, form, error_field: str, problem: str, action, anchor: str = ""
):
    """Validate a case form, run `action(form)`, and come back to the case; on a refusal the page
    returns with what was typed and the reason under `error_field`. The same one-time form sent
    again (submissions.AlreadySubmitted) did its work the first time: back to the case."""
    if form.validate():
        try:
            action(form)
            return redirect(url_for("console.case", ref=ref) + anchor, code=303)
        except submissions.AlreadySubmitted:
            return redirect(url_for("console.case", ref=ref) + anchor, code=303)
        except (
            triage.StatusError,
            workflow.WorkflowError,
            notes.NoteError,
            referrals.ReferralError,
            consent.IdentityError,
        ) as exc:
            getattr(form, error_field).errors = [str(exc)]
    return render_case(ref, problem=problem, code=400, **{form_name: form})

"""Identity confidentiality (s 17) in the console and on the status page; exports that leave it
out."""

from __future__ import annotations

from flask import Blueprint, Response, abort, g, redirect, request, url_for
from flask_babel import lazy_gettext as _l

from portal.casework import case_export, case_identity, triage
from portal.casework.consent import IdentityError
from portal.intake import case_status, receipts
from portal.web import carry, page_marks
from portal.web.casework.case_page import back_to_case, case_action, render_case
from portal.web.casework.forms import CaseExportForm, ConsentAnswerForm, IdentityReleaseForm
from portal.web.console_session import signed_in
from portal.web.context import portal_context
from portal.web.forms import EmptyForm
from portal.web.intake.forms import ReplyForm
from portal.web.intake.status_pages import other_disclosure, render_thread, status_cookie_name
from portal.web.keys.confirm import passphrase_confirmed
from portal.web.languages import said

bp = Blueprint("confidentiality", __name__)


@bp.post("/console/cases/<ref>/identity")
@signed_in("officer")
@passphrase_confirmed
def release(ref: str):
    return case_action(
        ref,
        "identity_form",
        IdentityReleaseForm(),
        "ground",
        _l("The identity was not released: please see below."),
        lambda f: case_identity.release_identity(
            portal_context(),
            g.who,
            ref,
            f.recipient.data,
            f.ground.data,
            f.reason.data,
            f.consultation.data or "",
            f.consultation_note.data,
            f.submission_token.data,
        ),
        "release",
    )


@bp.post("/console/cases/<ref>/identity/<int(max=2147483647):seq>/confirm")
@signed_in("officer")
@passphrase_confirmed
def confirm(ref: str, seq: int):
    if not EmptyForm().validate():
        abort(400)
    try:
        case_identity.confirm_identity_release(portal_context(), g.who, ref, seq)
    except IdentityError as exc:
        return render_case(ref, problem=said(exc), code=400)
    return back_to_case(ref, "release-confirmed")


@bp.post("/console/cases/<ref>/export")
@signed_in("officer")
@passphrase_confirmed
def export(ref: str):
    form = CaseExportForm()
    if not form.validate():
        return render_case(
            ref,
            problem=_l("The case was not exported: please see below."),
            code=400,
            export_form=form,
        )
    try:
        name, text = case_export.export_case(
            portal_context(),
            g.who,
            ref,
            include_identity=bool(form.include_identity.data),
            recipient=form.recipient.data,
        )
    except IdentityError as exc:
        form.include_identity.errors = [said(exc)]
        return render_case(
            ref,
            problem=_l("The case was not exported: please see below."),
            code=400,
            export_form=form,
        )
    response = Response(text, mimetype="text/plain")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Content-Security-Policy"] = "sandbox"
    return response


@bp.post("/status/consent")
def consent():
    """The discloser answers a consent question (s 17(2)(a)) from their status page."""
    ctx = portal_context()
    session = receipts.resume_status(ctx, request.cookies.get(status_cookie_name()))
    if session is None:
        return redirect(url_for("discloser.status"), code=303)
    if not page_marks.disclosure_is_current(request.form.get(page_marks.FIELD), session.subject):
        return other_disclosure(carry.typed_fields(request.form))
    form = ConsentAnswerForm()
    if form.validate():
        try:
            case_status.answer_consent(ctx, session, form.request.data, form.answer.data)
            return redirect(url_for("discloser.status", done="consent") + "#notice", code=303)
        except IdentityError as exc:
            return render_thread(ctx, session, ReplyForm(), 400, said(exc))
    return render_thread(
        ctx, session, ReplyForm(), 400, _l("Your answer was not recorded: answer yes or no.")
    )

"""The discloser hands over the original of a file whose hidden details were removed, from their
status page (portal.intake.case_status.hand_over_original)."""

from __future__ import annotations

from flask import abort, redirect, request, url_for

from portal.intake import case_status, receipts
from portal.records.casefiles import CaseNotFound
from portal.web import carry, page_marks
from portal.web.context import portal_context
from portal.web.forms import EmptyForm
from portal.web.intake.blueprint import bp
from portal.web.intake.status_pages import other_disclosure, status_cookie_name


@bp.post("/status/originals/<original_id>")
def hand_over_original(original_id: str):
    ctx = portal_context()
    session = receipts.resume_status(ctx, request.cookies.get(status_cookie_name()))
    if session is None:
        return redirect(url_for("discloser.status"), code=303)
    if not page_marks.disclosure_is_current(request.form.get(page_marks.FIELD), session.subject):
        return other_disclosure(carry.typed_fields(request.form))
    if not EmptyForm().validate():
        abort(400)
    if not case_status.holds_original(ctx, session, original_id):
        abort(404)
    if request.form.get("understood") != "y":
        # Handing over cannot be undone and may identify them: only with the box ticked.
        return redirect(url_for("discloser.status", done="not-handed") + "#notice", code=303)
    try:
        case_status.hand_over_original(ctx, session, original_id)
    except CaseNotFound:
        abort(404)
    return redirect(url_for("discloser.status", done="handed") + "#notice", code=303)

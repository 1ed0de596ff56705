"""Closing many cases at once as needing no action (s 15): a page reached from a filtered inbox,
listing its cases with a checkbox each and one reason for all (no script needed)."""

from __future__ import annotations

from flask import g, render_template, request
from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from portal.casework import bulk_close, queue_filters, queue_rows
from portal.web.casework.blueprint import bp
from portal.web.casework.forms import BulkCloseForm
from portal.web.console_session import signed_in
from portal.web.context import portal_context
from portal.web.languages import said


def _page(form: BulkCloseForm, *, done=None, problem: str | None = None, chosen=()):
    ctx = portal_context()
    source = request.args if request.method == "GET" else request.form
    wanted, problems = queue_filters.parse_filter(source)
    return render_template(
        "casework/bulk_close.html",
        form=form,
        wanted=wanted,
        problems=problems,
        found=bulk_close.choices(ctx, g.who, wanted),
        statuses=queue_rows.SHORT_STATUSES,
        chosen=set(chosen),
        choose_all=request.args.get("all") == "1",
        done=done,
        problem=problem,
        max_cases=bulk_close.MAX_CASES,
    )


def _fresh_form() -> BulkCloseForm:
    return BulkCloseForm(formdata=None, reason=gettext(bulk_close.SUGGESTED_REASON))


@bp.get("/close-many")
@signed_in("officer")
def bulk_close_page():
    return _page(_fresh_form())


@bp.post("/close-many")
@signed_in("officer")
def bulk_close_post():
    form = BulkCloseForm()
    refs = request.form.getlist("case")
    if not form.validate():
        return _page(form, problem=_l("Nothing was closed: please see below."), chosen=refs), 400
    try:
        done = bulk_close.close_without_action(portal_context(), g.who, refs, form.reason.data)
    except bulk_close.NotAllReadable as exc:
        return _page(form, problem=said(exc)), 404
    except bulk_close.BulkCloseError as exc:
        return _page(form, problem=said(exc), chosen=refs), 400
    return _page(_fresh_form(), done=done)

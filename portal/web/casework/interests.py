"""An officer's declared interests (portal.keys.conflicts) in the console: listing, declaring and
removing them."""

from __future__ import annotations

from flask import abort, g, redirect, render_template, url_for
from flask_babel import lazy_gettext as _l

from portal.guard import submissions
from portal.keys import conflicts
from portal.web.casework.blueprint import bp
from portal.web.casework.forms import InterestForm
from portal.web.console_session import signed_in
from portal.web.context import portal_context
from portal.web.forms import EmptyForm
from portal.web.languages import said


def _render_interests(form=None, problem=None, code=200):
    ctx = portal_context()
    return (
        render_template(
            "keys/interests.html",
            form=form or InterestForm(),
            remove_form=EmptyForm(),
            mine=conflicts.interests_of(ctx, [g.who.account.id]),
            problem=problem,
        ),
        code,
    )


@bp.get("/interests")
@signed_in("officer")
def interests():
    return _render_interests()


@bp.post("/interests")
@signed_in("officer")
def declare_interest():
    form = InterestForm()
    problem = _l("Nothing was declared: please see below.")
    if form.validate():
        try:
            conflicts.declare_interest(
                portal_context(), g.who.account.id, form.interest.data, form.submission_token.data
            )
            return redirect(url_for("console.interests"), code=303)
        except submissions.AlreadySubmitted:
            return redirect(url_for("console.interests"), code=303)
        except conflicts.InterestError as exc:
            form.interest.errors = [said(exc)]
    return _render_interests(form, problem, 400)


@bp.post("/interests/<int(max=2147483647):interest_id>/remove")
@signed_in("officer")
def remove_interest(interest_id: int):
    if not EmptyForm().validate():
        abort(400)
    try:
        conflicts.remove_interest(portal_context(), g.who.account.id, interest_id)
    except conflicts.InterestError as exc:
        return _render_interests(problem=said(exc), code=404)
    return redirect(url_for("console.interests"), code=303)

"""Retention in the console: expired cases for the officers to delete (two of them), and legal
holds."""

from __future__ import annotations

from flask import Blueprint, abort, g, redirect, render_template, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from portal.operations import retention
from portal.web.console_session import signed_in
from portal.web.context import portal_context
from portal.web.forms import EmptyForm
from portal.web.keys.confirm import passphrase_confirmed
from portal.web.languages import said
from portal.web.operations.forms import HoldForm

bp = Blueprint("retention", __name__, url_prefix="/console/retention")


def _render(problem: str | None = None, hold_form: HoldForm | None = None, code: int = 200):
    ctx = portal_context()
    return (
        render_template(
            "operations/retention.html",
            problem=problem,
            hold_form=hold_form or HoldForm(),
            form=EmptyForm(),
            expired=retention.expired_cases(ctx, g.who.account.id),
            held=retention.held_cases(ctx, g.who.account.id),
            under_way=retention.deletions_under_way(ctx, g.who.account.id),
        ),
        code,
    )


@bp.get("/")
@signed_in("officer")
def overview():
    return _render()


def _act(action, ref: str):
    """Run one retention action on the case `ref`; a refusal comes back as the page with its
    reason."""
    if not EmptyForm().validate():
        abort(400)
    try:
        action(portal_context(), g.who.account.id, ref)
    except retention.RetentionError as exc:
        return _render(gettext("Nothing was done: %(why)s", why=said(exc)), code=409)
    return redirect(url_for("retention.overview"), code=303)


@bp.post("/holds")
@signed_in("officer")
def place_hold():
    form = HoldForm()
    if not form.validate():
        return _render(_l("No hold was placed: please see below."), form, 400)
    return _act(retention.place_hold, form.ref.data.strip().upper())


@bp.post("/holds/<ref>/release")
@signed_in("officer")
def release_hold(ref: str):
    return _act(retention.release_hold, ref)


@bp.post("/<ref>/request")
@signed_in("officer")
def request_deletion(ref: str):
    return _act(retention.request_deletion, ref)


@bp.post("/<ref>/withdraw")
@signed_in("officer")
def withdraw(ref: str):
    return _act(retention.withdraw_request, ref)


@bp.post("/<ref>/confirm")
@signed_in("officer")
@passphrase_confirmed
def confirm_deletion(ref: str):
    return _act(retention.confirm_deletion, ref)


@bp.post("/carry-on")
@signed_in("officer")
def carry_on():
    """Finish the deletions this officer confirmed that stopped part way."""
    if not EmptyForm().validate():
        abort(400)
    retention.carry_on_deletions(portal_context(), g.who.account.id)
    return redirect(url_for("retention.overview"), code=303)

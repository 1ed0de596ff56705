"""The administrators' page for offboarding: asking for an officer to be offboarded, which waits
until an officer of their channels signs it on the roster page (portal.keys.offboarding)."""

from __future__ import annotations

from flask import g, render_template
from flask_babel import lazy_gettext as _l

from portal.core.numbers import NotAWholeNumber, parse_whole_number
from portal.keys import accounts, offboarding
from portal.web.console_session import signed_in
from portal.web.context import portal_context
from portal.web.languages import said
from portal.web.operations.admin_blueprint import bp, confirmed
from portal.web.operations.admin_channels import officer_choices
from portal.web.operations.forms import OffboardForm, WithdrawOffboardingForm


def _offboard_form(ctx) -> OffboardForm:
    form = OffboardForm()
    form.leaver.choices = officer_choices(ctx)
    return form


def _render(form=None, problem=None, code=200):
    ctx = portal_context()
    page = render_template(
        "operations/offboarding.html",
        requests=offboarding.pending(ctx),
        form=form or _offboard_form(ctx),
        problem=problem,
    )
    return page, code


@bp.get("/offboarding")
@signed_in("admin")
def offboarding_page():
    return _render()


@bp.post("/offboarding")
@signed_in("admin")
def propose_offboarding():
    ctx = portal_context()
    form = _offboard_form(ctx)
    problem = _l("Nothing was asked: please see below.")
    if not form.validate():
        return _render(form, problem, 400)
    try:
        offboarding.propose(ctx, g.who.account, parse_whole_number(form.leaver.data))
    except (accounts.AccountError, NotAWholeNumber) as exc:
        form.leaver.errors = [said(exc)]
        return _render(form, problem, 400)
    return confirmed("admin.offboarding_page", "offboarding-asked")


@bp.post("/offboarding/withdraw")
@signed_in("admin")
def withdraw_offboarding():
    form = WithdrawOffboardingForm()
    gone = _l("That request was signed or withdrawn already: nothing was changed.")
    try:
        if not form.validate():
            raise offboarding.NoSuchRequest()
        offboarding.withdraw(portal_context(), g.who.account, parse_whole_number(form.account.data))
    except (offboarding.NoSuchRequest, NotAWholeNumber):
        return _render(problem=gone, code=400)
    return confirmed("admin.offboarding_page", "offboarding-withdrawn")

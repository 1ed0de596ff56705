"""Oral disclosures in the console: an officer records one and hands over a printed receipt
(portal.casework.oral)."""

from __future__ import annotations

from flask import Blueprint, g, redirect, render_template, url_for
from flask_babel import lazy_gettext as _l
from wtforms.fields.choices import SelectChoice

from portal.casework import oral, triage
from portal.guard import submissions
from portal.intake import cases
from portal.keys import channels
from portal.web.casework.case_page import back_to_case, render_case
from portal.web.casework.forms import OralConfirmForm, OralDisclosureForm
from portal.web.console_session import resume_with_text, signed_in
from portal.web.context import portal_context
from portal.web.forms import CHOOSE
from portal.web.languages import said

bp = Blueprint("oral", __name__, url_prefix="/console")


def _form(formdata=None) -> OralDisclosureForm:
    form = OralDisclosureForm(formdata=formdata) if formdata is not None else OralDisclosureForm()
    ctx = portal_context()
    mine = [
        c
        for c in channels.list_channels(ctx)
        if g.who.account.id in {o.id for o in channels.channel_officers(ctx, c.id)}
    ]
    form.channel.choices = [SelectChoice("", CHOOSE)] + [SelectChoice(c.name, c.name) for c in mine]
    return form


def _render(form, problem=None, code=200):
    return render_template("casework/oral.html", form=form, problem=problem), code


@bp.get("/oral")
@signed_in("officer")
def record_form():
    return _render(_form())


@bp.post("/oral")
@signed_in("officer")
def record():
    form = _form()
    if not form.validate():
        return _render(form, _l("The disclosure was not recorded: please see below."), 400)
    values = {
        name: getattr(form, name).data
        for name in (
            "channel",
            "category",
            "summary",
            "details",
            "disclosed_elsewhere",
            "contact",
            "identifying",
        )
    }
    try:
        receipt = cases.record_oral(
            portal_context(), g.who.account.id, values, form.submission_token.data
        )
    except (cases.NotYourChannel, cases.NoReceiver) as exc:
        form.channel.errors = [said(exc)]
        return _render(form, _l("The disclosure was not recorded: please see below."), 400)
    except submissions.AlreadySubmitted:
        return _render(
            _form(),
            _l("That disclosure was already recorded; its receipt was shown then, once."),
            400,
        )
    return render_template(
        "casework/oral_receipt.html",
        receipt=receipt,
        channel=values["channel"],
        status_address=_status_address(),
    )


def _status_address() -> str:
    """Where the discloser checks their disclosure, written out for the printed sheet: under the
    portal's public address when one is set (`public_url`), else under the address this page was
    asked at."""
    public = portal_context().settings.public_url.rstrip("/")
    if public:
        return public + url_for("discloser.status")
    return url_for("discloser.status", _external=True)


@bp.post("/cases/<ref>/oral/confirm")
@signed_in("officer")
def confirm(ref: str):
    form = OralConfirmForm()
    if not form.validate():
        return render_case(
            ref,
            problem=_l("The record was not confirmed: please see below."),
            code=400,
            oral_form=form,
        )
    try:
        triage.confirm_oral_record(portal_context(), g.who, ref, form.understanding.data)
    except oral.OralError as exc:
        return render_case(ref, problem=said(exc), code=400, oral_form=form)
    return back_to_case(ref, "oral")


@resume_with_text("oral.record")
def _resume_record(formdata):
    return _render(
        _form(formdata),
        _l("What you typed is back in the form below. The disclosure has not been recorded yet."),
    )


@resume_with_text("oral.confirm")
def _resume_confirm(ref: str, formdata):
    return render_case(
        ref,
        oral_form=OralConfirmForm(formdata=formdata),
        problem=_l("Your summary is back in its box below. The record has not been confirmed yet."),
    )

"""Administration: channels and officers. An administrator manages, and reads no case."""
from __future__ import annotations

from flask import Blueprint, g, redirect, render_template, url_for
from flask_wtf.csrf import CSRFError
from wtforms.fields.choices import SelectChoice

from portal import accounts, submissions
from portal.app import portal_context
from portal.numbers import parse_whole_number
from portal.web.console import _csrf_refused, resume_with_text, signed_in
from portal.web.forms import AddChannelForm, ChannelMembershipForm

bp = Blueprint("admin", __name__, url_prefix="/console/admin")
bp.register_error_handler(CSRFError, _csrf_refused)


def _membership_form(ctx, formdata=None) -> ChannelMembershipForm:
    form = ChannelMembershipForm(formdata=formdata) if formdata is not None else ChannelMembershipForm()
    # Nothing chosen beforehand: adding the wrong person to a channel is not undone by a glance.
    form.officer.choices = [SelectChoice("", "Choose an officer")] + [
        SelectChoice(str(s.account.id), f"{s.account.name} <{s.account.email}>")
        for s in accounts.list_accounts(ctx) if s.account.role == "officer"]
    form.channel.choices = [SelectChoice("", "Choose a channel")] + [
        SelectChoice(c.name, c.name) for c in accounts.list_channels(ctx)]
    return form


def _render(channel_form=None, membership_form=None, problem=None, code=200):
    ctx = portal_context()
    return render_template("console/admin.html", channels=accounts.list_channels(ctx),
                           people=accounts.list_accounts(ctx), channel_form=channel_form or AddChannelForm(),
                           membership_form=membership_form or _membership_form(ctx), problem=problem), code


@bp.get("/")
@signed_in("admin")
def overview():
    return _render()


@bp.post("/channels")
@signed_in("admin")
def add_channel():
    form = AddChannelForm()
    if not form.validate():
        return _render(channel_form=form, problem="The channel was not added: please see below.", code=400)
    try:
        accounts.add_channel(portal_context(), form.name.data, form.description.data, actor=g.who.account.id,
                             submission_token=form.submission_token.data)
    except submissions.AlreadySubmitted:
        pass  # the same form again: the channel was added once
    except accounts.AccountError as exc:
        form.name.errors = [str(exc)]
        return _render(channel_form=form, problem="The channel was not added: please see below.", code=400)
    return redirect(url_for("admin.overview"), code=303)


@bp.post("/memberships")
@signed_in("admin")
def add_membership():
    ctx = portal_context()
    form = _membership_form(ctx)
    if not form.validate():
        return _render(membership_form=form, problem="Nothing was changed: please see below.", code=400)
    try:
        accounts.add_to_channel(ctx, parse_whole_number(form.officer.data), form.channel.data,
                                actor=g.who.account.id, submission_token=form.submission_token.data)
    except submissions.AlreadySubmitted:
        pass  # the same form again: the change was made once
    except accounts.AccountError as exc:
        form.channel.errors = [str(exc)]
        return _render(membership_form=form, problem="Nothing was changed: please see below.", code=400)
    return redirect(url_for("admin.overview"), code=303)


@resume_with_text("admin.add_channel")
def _resume_channel(formdata):
    return _render(channel_form=AddChannelForm(formdata=formdata),
                   problem="Your channel is back in its form below. It has not been added yet.")


@resume_with_text("admin.add_membership")
def _resume_membership(formdata):
    return _render(membership_form=_membership_form(portal_context(), formdata),
                   problem="Your change is back in its form below. It has not been made yet.")

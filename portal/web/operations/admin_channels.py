"""The administrators' pages for channels (with each one's overdue cases, counted) and officers
(each one's state, and asking for an officer to join or leave a channel)."""

from __future__ import annotations

from flask import g, render_template
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from wtforms.fields.choices import SelectChoice

from portal.core.numbers import parse_whole_number
from portal.guard import submissions
from portal.keys import accounts, channels, memberships
from portal.operations import admin_console
from portal.web.console_session import resume_with_text, signed_in
from portal.web.context import portal_context
from portal.web.languages import said
from portal.web.operations.admin_blueprint import bp, confirmed
from portal.web.operations.forms import AddChannelForm, ChannelMembershipForm, RemoveMembershipForm


def officer_choices(ctx) -> list[SelectChoice]:
    """Officers who have not left, by name and email."""
    # Nothing chosen beforehand: adding the wrong person to a channel is not undone by a glance.
    return [SelectChoice("", _l("Choose an officer"))] + [
        SelectChoice(str(s.account.id), f"{s.account.name} <{s.account.email}>")
        for s in accounts.list_accounts(ctx)
        if s.account.role == "officer" and not s.offboarded_day
    ]


def channel_choices(ctx) -> list[SelectChoice]:
    """Channels by name, their one identifier on these forms (names are unique)."""
    return [SelectChoice("", _l("Choose a channel"))] + [
        SelectChoice(c.name, c.name) for c in channels.list_channels(ctx)
    ]


def _membership_form(ctx, formdata=None) -> ChannelMembershipForm:
    form = (
        ChannelMembershipForm(formdata=formdata)
        if formdata is not None
        else ChannelMembershipForm()
    )
    form.officer.choices = officer_choices(ctx)
    form.channel.choices = channel_choices(ctx)
    return form


def _remove_form(ctx) -> RemoveMembershipForm:
    form = RemoveMembershipForm()
    form.member.choices = officer_choices(ctx)
    form.from_channel.choices = channel_choices(ctx)
    return form


def _render_channels(channel_form=None, problem=None, code=200):
    ctx = portal_context()
    page = render_template(
        "operations/admin.html",
        channels=admin_console.channel_counts(ctx),
        channel_form=channel_form or AddChannelForm(),
        # Here too (CONTRACT.md names it on this page), as on the officers page.
        membership_form=_membership_form(ctx),
        problem=problem,
    )
    return page, code


def _render_officers(membership_form=None, problem=None, code=200):
    ctx = portal_context()
    page = render_template(
        "operations/officers.html",
        officers=admin_console.officers(ctx),
        administrators=[s for s in accounts.list_accounts(ctx) if s.account.role == "admin"],
        membership_form=membership_form or _membership_form(ctx),
        remove_form=_remove_form(ctx),
        problem=problem,
    )
    return page, code


@bp.get("/")
@signed_in("admin")
def overview():
    return _render_channels()


@bp.get("/officers")
@signed_in("admin")
def officers():
    return _render_officers()


@bp.post("/channels")
@signed_in("admin")
def add_channel():
    form = AddChannelForm()
    problem = _l("The channel was not added: please see below.")
    if not form.validate():
        return _render_channels(form, problem, 400)
    try:
        channels.add_channel(
            portal_context(),
            form.name.data,
            form.description.data,
            form.regime.data or "nz",
            actor=g.who.account.id,
            submission_token=form.submission_token.data,
        )
    except submissions.AlreadySubmitted:
        pass  # the same form again: the channel was added once
    except accounts.AccountError as exc:
        form.name.errors = [said(exc)]
        return _render_channels(form, problem, 400)
    return confirmed("admin.overview", "channel-added")


@bp.post("/memberships")
@signed_in("admin")
def add_membership():
    ctx = portal_context()
    form = _membership_form(ctx)
    problem = _l("Nothing was changed: please see below.")
    if not form.validate():
        return _render_officers(form, problem, 400)
    try:
        memberships.request(
            ctx,
            g.who.account,
            parse_whole_number(form.officer.data),
            form.channel.data,
            submission_token=form.submission_token.data,
        )
    except submissions.AlreadySubmitted:
        pass  # the same form again: the change was made once
    except accounts.AccountError as exc:
        form.channel.errors = [said(exc)]
        return _render_officers(form, problem, 400)
    return confirmed("admin.officers", "membership-asked")


@resume_with_text("admin.add_channel")
def _resume_channel(formdata):
    return _render_channels(
        AddChannelForm(formdata=formdata),
        _l("Your channel is back in its form below. It has not been added yet."),
    )


@resume_with_text("admin.add_membership")
def _resume_membership(formdata):
    return _render_officers(
        _membership_form(portal_context(), formdata),
        _l("Your change is back in its form below. It has not been made yet."),
    )


@bp.post("/memberships/remove")
@signed_in("admin")
def remove_membership():
    ctx = portal_context()
    form = _remove_form(ctx)
    if not form.validate():
        return _render_officers(
            problem=_l("Nothing was changed: choose an officer and a channel."), code=400
        )
    try:
        memberships.remove(
            ctx, g.who.account, parse_whole_number(form.member.data), form.from_channel.data
        )
    except accounts.AccountError as exc:
        return _render_officers(
            problem=gettext("Nothing was changed. %(why)s", why=said(exc)), code=400
        )
    return confirmed("admin.officers", "membership-removed")

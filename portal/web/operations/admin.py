"""Administration: channels, invitations and memberships. An administrator manages, and reads no
case.

An administrator's new membership or invitation stays pending until an officer who already reads the
channel confirms it (portal.keys.memberships): nobody becomes a reader through one person's action
alone.
"""

from __future__ import annotations

from flask import Blueprint, abort, g, redirect, render_template, request, url_for
from flask_wtf.csrf import CSRFError
from wtforms.fields.choices import SelectChoice

from portal.casework import referrals
from portal.core.numbers import parse_whole_number
from portal.guard import submissions
from portal.keys import accounts, channels, invitations, memberships
from portal.web.console_session import csrf_refused, resume_with_text, signed_in
from portal.web.context import portal_context
from portal.web.forms import EmptyForm
from portal.web.operations.forms import (
    AddChannelForm,
    AuthorityForm,
    ChannelMembershipForm,
    InviteForm,
    RemoveMembershipForm,
)

bp = Blueprint("admin", __name__, url_prefix="/console/admin")
bp.register_error_handler(CSRFError, csrf_refused)


def _officer_choices(ctx) -> list[SelectChoice]:
    # Nothing chosen beforehand: adding the wrong person to a channel is not undone by a glance.
    return [SelectChoice("", "Choose an officer")] + [
        SelectChoice(str(s.account.id), f"{s.account.name} <{s.account.email}>")
        for s in accounts.list_accounts(ctx)
        if s.account.role == "officer" and not s.offboarded_day
    ]


def _channel_choices(ctx) -> list[SelectChoice]:
    # Channels are chosen by name, their one identifier on these forms (names are unique).
    return [SelectChoice("", "Choose a channel")] + [
        SelectChoice(c.name, c.name) for c in channels.list_channels(ctx)
    ]


def _membership_form(ctx, formdata=None) -> ChannelMembershipForm:
    form = (
        ChannelMembershipForm(formdata=formdata)
        if formdata is not None
        else ChannelMembershipForm()
    )
    form.officer.choices = _officer_choices(ctx)
    form.channel.choices = _channel_choices(ctx)
    return form


def _remove_form(ctx) -> RemoveMembershipForm:
    form = RemoveMembershipForm()
    form.member.choices = _officer_choices(ctx)
    form.from_channel.choices = _channel_choices(ctx)
    return form


def _invite_form(ctx) -> InviteForm:
    form = InviteForm()
    form.invite_channel.choices = _channel_choices(ctx)
    return form


def _render(
    channel_form=None,
    membership_form=None,
    invite_form=None,
    problem=None,
    invitation=None,
    code=200,
):
    ctx = portal_context()
    return (
        render_template(
            "operations/admin.html",
            channels=channels.list_channels(ctx),
            people=accounts.list_accounts(ctx),
            channel_form=channel_form or AddChannelForm(),
            membership_form=membership_form or _membership_form(ctx),
            remove_form=_remove_form(ctx),
            invite_form=invite_form or _invite_form(ctx),
            invitation=invitation,
            problem=problem,
        ),
        code,
    )


@bp.get("/")
@signed_in("admin")
def overview():
    return _render()


@bp.post("/channels")
@signed_in("admin")
def add_channel():
    form = AddChannelForm()
    if not form.validate():
        return _render(
            channel_form=form, problem="The channel was not added: please see below.", code=400
        )
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
        form.name.errors = [str(exc)]
        return _render(
            channel_form=form, problem="The channel was not added: please see below.", code=400
        )
    return redirect(url_for("admin.overview"), code=303)


@bp.post("/memberships")
@signed_in("admin")
def add_membership():
    ctx = portal_context()
    form = _membership_form(ctx)
    if not form.validate():
        return _render(
            membership_form=form, problem="Nothing was changed: please see below.", code=400
        )
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
        form.channel.errors = [str(exc)]
        return _render(
            membership_form=form, problem="Nothing was changed: please see below.", code=400
        )
    return redirect(url_for("admin.overview"), code=303)


@resume_with_text("admin.add_channel")
def _resume_channel(formdata):
    return _render(
        channel_form=AddChannelForm(formdata=formdata),
        problem="Your channel is back in its form below. It has not been added yet.",
    )


@resume_with_text("admin.add_membership")
def _resume_membership(formdata):
    return _render(
        membership_form=_membership_form(portal_context(), formdata),
        problem="Your change is back in its form below. It has not been made yet.",
    )


@bp.post("/memberships/remove")
@signed_in("admin")
def remove_membership():
    ctx = portal_context()
    form = _remove_form(ctx)
    if not form.validate():
        return _render(problem="Nothing was changed: choose an officer and a channel.", code=400)
    try:
        memberships.remove(
            ctx, g.who.account, parse_whole_number(form.member.data), form.from_channel.data
        )
    except accounts.AccountError as exc:
        return _render(problem=f"Nothing was changed. {exc}", code=400)
    return redirect(url_for("admin.overview"), code=303)


@bp.post("/invitations")
@signed_in("admin")
def invite():
    ctx = portal_context()
    form = _invite_form(ctx)
    if not form.validate():
        return _render(invite_form=form, problem="Nobody was invited: please see below.", code=400)
    try:
        token = invitations.invite(
            ctx,
            email=form.invite_email.data,
            name=form.display_name.data,
            channels=[form.invite_channel.data],
            invited_by=g.who.account,
        )
    except accounts.AccountError as exc:
        form.invite_email.errors = [str(exc)]
        return _render(invite_form=form, problem="Nobody was invited: please see below.", code=400)
    link = request.host_url.rstrip("/") + invitations.ENROL_PATH + token
    return _render(invitation={"email": form.invite_email.data.strip(), "link": link})


# --- The directory of appropriate authorities (s 25, Schedule 2)
# --------------------------------------


def _render_directory(form=None, editing=None, problem=None, code=200):
    ctx = portal_context()
    return (
        render_template(
            "operations/authorities.html",
            authorities=referrals.list_authorities(ctx),
            form=form or AuthorityForm(),
            editing=editing,
            remove_form=EmptyForm(),
            problem=problem,
        ),
        code,
    )


def _entry(authority_id: int) -> referrals.Authority:
    found = referrals.get_authority(portal_context(), authority_id)
    if found is None:
        abort(404)
    return found


@bp.get("/authorities")
@signed_in("admin")
def authorities():
    return _render_directory()


@bp.get("/authorities/<int(max=2147483647):authority_id>")
@signed_in("admin")
def edit_authority(authority_id: int):
    entry = _entry(authority_id)
    form = AuthorityForm(
        name=entry.name,
        covers=entry.covers,
        source=entry.source,
        exclusive_for=entry.exclusive_for or "",
    )
    return _render_directory(form, editing=entry)


def _save(authority_id: int | None):
    form = AuthorityForm()
    editing = _entry(authority_id) if authority_id is not None else None
    problem = "The directory was not changed: please see below."
    if not form.validate():
        return _render_directory(form, editing, problem, 400)
    try:
        referrals.save_authority(
            portal_context(),
            g.who.account.id,
            authority_id,
            name=form.name.data,
            covers=form.covers.data,
            source=form.source.data,
            exclusive_for=form.exclusive_for.data or None,
            submission_token=form.submission_token.data,
        )
    except submissions.AlreadySubmitted:
        pass  # the same form again: the change was made once
    except referrals.ReferralError as exc:
        form.name.errors = [str(exc)]
        return _render_directory(form, editing, problem, 400)
    return redirect(url_for("admin.authorities"), code=303)


@bp.post("/authorities")
@signed_in("admin")
def add_authority():
    return _save(None)


@bp.post("/authorities/<int(max=2147483647):authority_id>")
@signed_in("admin")
def change_authority(authority_id: int):
    return _save(authority_id)


@bp.post("/authorities/<int(max=2147483647):authority_id>/remove")
@signed_in("admin")
def remove_authority(authority_id: int):
    if not EmptyForm().validate():
        abort(400)
    try:
        referrals.remove_authority(portal_context(), g.who.account.id, authority_id)
    except referrals.ReferralError as exc:
        return _render_directory(problem=str(exc), code=400)
    return redirect(url_for("admin.authorities"), code=303)

"""The administrators' page of invitations: making one, and the pending ones, each of which can be
withdrawn or sent again (a new link; the old one stops working)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from flask import g, render_template, request
from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from portal.core.numbers import NotAWholeNumber, parse_whole_number
from portal.core.words import date_words
from portal.guard import submissions
from portal.keys import accounts, invitations
from portal.web.console_session import signed_in
from portal.web.context import portal_context
from portal.web.languages import page_language, said
from portal.web.operations.admin_blueprint import bp, confirmed
from portal.web.operations.admin_channels import channel_choices
from portal.web.operations.forms import InvitationForm, InviteForm


def _invite_form(ctx) -> InviteForm:
    form = InviteForm()
    form.invite_channel.choices = channel_choices(ctx)
    return form


def _link(token: str) -> str:
    # script_root: under a service the organisation's pages are at /o/<slug>/ (portal.service).
    return request.host_url.rstrip("/") + request.script_root + invitations.ENROL_PATH + token


def _until(seconds: int, tz: str) -> tuple[str, str]:
    """(machine-readable, as people read it) for an expiry time: "8 December 2026, 01:58", the
    24-hour clock of every other time in the console (words.nz_time)."""
    moment = dt.datetime.fromtimestamp(seconds, ZoneInfo(tz))
    locale = page_language()
    if not locale.startswith("en"):  # the page's language, as Babel writes a day and a time
        return moment.isoformat(timespec="minutes"), format_datetime(
            moment, "d MMMM y, HH:mm", locale=locale
        )
    return moment.isoformat(timespec="minutes"), f"{date_words(moment.date())}, {moment:%H:%M}"


def _render(invite_form=None, problem=None, invitation=None, code=200):
    ctx = portal_context()
    pending = [(i, *_until(i.expires_at, ctx.settings.timezone)) for i in invitations.pending(ctx)]
    page = render_template(
        "operations/invitations.html",
        pending=pending,
        invite_form=invite_form or _invite_form(ctx),
        invitation=invitation,
        problem=problem,
    )
    return page, code


@bp.get("/invitations")
@signed_in("admin")
def invitations_page():
    return _render()


@bp.post("/invitations")
@signed_in("admin")
def invite():
    ctx = portal_context()
    form = _invite_form(ctx)
    problem = _l("Nobody was invited: please see below.")
    if not form.validate():
        return _render(form, problem, code=400)
    try:
        token = invitations.invite(
            ctx,
            email=form.invite_email.data,
            name=form.display_name.data,
            channels=[form.invite_channel.data],
            invited_by=g.who.account,
            submission_token=form.submission_token.data,
        )
    except submissions.AlreadySubmitted:
        # A reload of the answer that showed the link: made once, and its link is not shown again.
        return _render(invitation={"email": form.invite_email.data.strip(), "already": True})
    except accounts.AccountError as exc:
        form.invite_email.errors = [said(exc)]
        return _render(form, problem, code=400)
    # Shown once, on this answer: the link cannot travel in a redirect's URL.
    return _render(invitation={"email": form.invite_email.data.strip(), "link": _link(token)})


def _chosen() -> tuple[int, str] | None:
    form = InvitationForm()
    if not form.validate():
        return None
    try:
        return parse_whole_number(form.invitation.data), form.email.data
    except NotAWholeNumber:
        return None


_GONE = _l("That invitation was used, had expired or was withdrawn already: nothing was changed.")


@bp.post("/invitations/revoke")
@signed_in("admin")
def revoke_invitation():
    chosen = _chosen()
    if chosen is None:
        return _render(problem=_GONE, code=400)
    try:
        invitations.revoke(portal_context(), g.who.account, *chosen)
    except invitations.InvitationUnusable:
        return _render(problem=_GONE, code=400)
    return confirmed("admin.invitations_page", "invitation-revoked")


@bp.post("/invitations/resend")
@signed_in("admin")
def resend_invitation():
    chosen = _chosen()
    if chosen is None:
        return _render(problem=_GONE, code=400)
    try:
        email, token = invitations.resend(portal_context(), g.who.account, *chosen)
    except invitations.InvitationUnusable:
        return _render(problem=_GONE, code=400)
    except accounts.AccountError as exc:
        return _render(problem=gettext("Nothing was changed. %(why)s", why=said(exc)), code=400)
    return _render(invitation={"email": email, "link": _link(token), "again": True})

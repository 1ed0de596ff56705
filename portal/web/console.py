"""The officers' console: sign-in, inbox, case, attachments, reply, status. Administrators sign in here too."""
from __future__ import annotations

import functools
from urllib.parse import quote

from flask import (Blueprint, Response, abort, current_app, g, redirect, render_template, request,
                   stream_with_context, url_for)
from wtforms.fields.choices import SelectChoice

from portal import accounts, throttle, triage
from portal.app import portal_context
from portal.casefiles import STATUSES
from portal.disclosures import CATEGORIES, DISCLOSED_ELSEWHERE
from portal.web.forms import EmptyForm, LoginForm, ReplyForm, StatusChangeForm
from portal.web.responses import clear_session_cookie, set_session_cookie, too_many_requests

bp = Blueprint("console", __name__, url_prefix="/console")

SIGN_INS_PER_MINUTE = 30


def _cookie_name() -> str:
    return current_app.config["PORTAL_CONSOLE_COOKIE"]


def signed_in(role: str | None = None):
    """Require a live console session (and a role); the session's key is in g.who for this request only."""
    def decorate(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            who = triage.resume(portal_context(), request.cookies.get(_cookie_name()))
            if who is None:
                return redirect(url_for("console.login", expired=1), code=303)
            if role is not None and who.account.role != role:
                abort(404)
            g.who = who
            return view(*args, **kwargs)
        return wrapper
    return decorate


@bp.app_context_processor
def _sign_out_button():
    # Every page of a signed-in officer or administrator offers "Sign out".
    return {"logout_form": EmptyForm()} if g.get("who") else {}


@bp.get("/login")
def login():
    problem = "You were signed out after 15 minutes without activity. Please sign in again." \
        if request.args.get("expired") else None
    return render_template("console/login.html", form=LoginForm(), problem=problem)


@bp.post("/login")
def login_post():
    ctx = portal_context()
    form = LoginForm()
    if not form.validate():
        return render_template("console/login.html", form=form), 400
    retry_after = throttle.hit(ctx.db, "sign-ins", SIGN_INS_PER_MINUTE, 60)
    if retry_after is not None:
        return too_many_requests(render_template("console/login.html", form=form,
                                                 problem="Too many sign-in attempts. Please wait a minute."),
                                 retry_after)
    try:
        cookie = triage.sign_in(ctx, form.email.data, form.passphrase.data, form.totp.data)
    except accounts.LoginFailed:
        return render_template("console/login.html", form=form,
                               problem="Those details did not work. Check your email address, passphrase and "
                                       "six-digit code, and try again."), 400
    return set_session_cookie(redirect(url_for("console.inbox"), code=303), _cookie_name(), cookie)


@bp.post("/logout")
def logout():
    ctx = portal_context()
    triage.sign_out(ctx, request.cookies.get(_cookie_name()))
    return clear_session_cookie(redirect(url_for("console.login"), code=303), _cookie_name())


@bp.get("/")
@signed_in()
def inbox():
    if g.who.is_admin:
        return redirect(url_for("admin.overview"), code=303)
    page = request.args.get("page", "1")
    page_number = int(page) if page.isdigit() else 1
    return render_template("console/inbox.html", inbox=triage.inbox(portal_context(), g.who, page_number))


def _status_form(**data) -> StatusChangeForm:
    form = StatusChangeForm(**data)
    form.status.choices = [SelectChoice(value, label) for value, label in STATUSES.items()]
    return form


def _render_case(ref: str, reply_form=None, status_form=None, problem=None, code=200):
    view = triage.read_case(portal_context(), g.who, ref, audited=code == 200)
    return render_template("console/case.html", view=view, reply_form=reply_form or ReplyForm(),
                           status_form=status_form or _status_form(status=view.case.status), problem=problem,
                           categories=CATEGORIES, elsewhere=DISCLOSED_ELSEWHERE), code


@bp.get("/cases/<ref>")
@signed_in("officer")
def case(ref: str):
    return _render_case(ref)


@bp.get("/cases/<ref>/attachments/<attachment_id>")
@signed_in("officer")
def attachment(ref: str, attachment_id: str):
    meta, chunks = triage.download(portal_context(), g.who, ref, attachment_id)
    fallback = "".join(ch if ch.isascii() and (ch.isalnum() or ch in "._- ") else "_" for ch in meta.name)
    response = Response(stream_with_context(chunks), mimetype="application/octet-stream")
    response.headers["Content-Disposition"] = (
        f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(meta.name, safe='')}")
    response.headers["Content-Length"] = str(meta.size)
    # A discloser's HTML or SVG must never run in the console, even if opened directly.
    response.headers["Content-Security-Policy"] = "sandbox"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.post("/cases/<ref>/reply")
@signed_in("officer")
def case_reply(ref: str):
    form = ReplyForm()
    if not form.validate():
        return _render_case(ref, reply_form=form, problem="Your message was not sent: please see below.", code=400)
    triage.reply(portal_context(), g.who, ref, form.message.data)
    return redirect(url_for("console.case", ref=ref) + "#thread", code=303)


@bp.post("/cases/<ref>/status")
@signed_in("officer")
def case_status(ref: str):
    form = _status_form()
    if not form.validate():
        return _render_case(ref, status_form=form, problem="The status was not changed: please see below.", code=400)
    try:
        triage.set_status(portal_context(), g.who, ref, form.status.data, form.reason.data or "",
                          form.expected_timeframe.data or "")
    except triage.StatusError as exc:
        form.reason.errors = [str(exc)]
        return _render_case(ref, status_form=form, problem="The status was not changed: please see below.", code=400)
    return redirect(url_for("console.case", ref=ref), code=303)

"""Signing in and out of the console (officers and administrators): the sign-in page, which puts
back text carried through a sign-in, signing out, and signing out on every device."""

from __future__ import annotations

from flask import current_app, g, make_response, redirect, request, url_for

from portal.casework import search
from portal.core.words import N_
from portal.keys import credentials, officer_sessions
from portal.web import carry
from portal.web.casework.blueprint import bp
from portal.web.casework.forms import LoginForm
from portal.web.console_session import (
    console_cookie_name,
    render_login,
    resume_carried,
    signed_in,
)
from portal.web.context import portal_context
from portal.web.keys.confirm import passphrase_confirmed
from portal.web.responses import (
    clear_session_cookie,
    set_device_cookie,
    set_session_cookie,
    too_many_requests,
)


def _device_cookie_name() -> str:
    return current_app.config["PORTAL_DEVICE_COOKIE"]


# Every failure gets these words, paused or not, whichever part was wrong (SECURITY.md, "Budgets").
SIGN_IN_FAILED = N_(
    "Those details did not work. Check your email address, passphrase and six-digit code, and try"
    " again with a new code: each code works once. If you are sure they are right, try a browser"
    " you have signed in with before, or tell your administrator."
)


SIGNED_OUT_BECAUSE = {
    "expired": N_(
        "Your session has ended: after 15 minutes without activity, 8 hours after you signed in, or"
        " because you signed out on every device. Please sign in again."
    ),
    "everywhere": N_("You are signed out on every device."),
    "confirm": N_("You were signed out because your passphrase was typed wrongly too many times."),
    "unrecorded": N_(
        "You are signed out on this computer. The portal could not record it just now (its storage"
        " is full or busy), so your session ends by itself after 15 minutes without activity;"
        " nobody can open it from this browser."
    ),
}


@bp.get("/login")
def login():
    reason = "expired" if request.args.get("expired") else request.args.get("ended", "")
    return render_login(LoginForm(), SIGNED_OUT_BECAUSE.get(reason))


@bp.post("/login")
def login_post():
    ctx = portal_context()
    form = LoginForm()
    carried, return_to = carry.carried_back(request.form), request.form.get("return_to", "")
    if not form.validate():
        return render_login(form, None, carried, return_to), 400
    try:
        signed = officer_sessions.sign_in(
            ctx,
            form.email.data,
            form.passphrase.data,
            form.totp.data,
            replacing=request.cookies.get(console_cookie_name()),
            device=request.cookies.get(_device_cookie_name()),
        )
    except credentials.LoginFailed:
        return render_login(form, SIGN_IN_FAILED, carried, return_to), 400
    except officer_sessions.SignInPaused as exc:
        return too_many_requests(
            render_login(form, SIGN_IN_FAILED, carried, return_to), exc.retry_after
        )
    cookie = signed.session
    if signed.needs_setup:
        # Set-up comes first; typed text cannot be resumed before it (the officer reads nothing
        # yet).
        response = set_session_cookie(
            redirect(url_for("enrol.setup_passphrase"), code=303), console_cookie_name(), cookie
        )
        return set_device_cookie(response, _device_cookie_name(), signed.device)
    response = None
    who = officer_sessions.resume(ctx, cookie)
    if who is not None:
        search.prepare(ctx, who)  # the first search then opens no sealed key
    if carry.has_text(carried):
        g.who = who
        response = resume_carried(return_to, carried)
    if response is None:
        response = redirect(url_for("console.inbox"), code=303)
    response = set_session_cookie(make_response(response), console_cookie_name(), cookie)
    return set_device_cookie(response, _device_cookie_name(), signed.device)


# Exempt from the CSRF check (app.py): signing out always works, even from a page whose token went
# stale.
@bp.post("/logout")
def logout():
    ctx, cookie = portal_context(), request.cookies.get(console_cookie_name())
    who = officer_sessions.resume(ctx, cookie)
    if who is not None:
        search.forget(who.session)  # what the session's searches kept in memory goes with it
    # The cookie goes even when a storage fault kept the server half (officer_sessions.sign_out).
    ended = officer_sessions.sign_out(ctx, cookie)
    target = url_for("console.login", ended=None if ended else "unrecorded")
    return clear_session_cookie(redirect(target, code=303), console_cookie_name())


@bp.post("/sessions/end-all")
@signed_in()
@passphrase_confirmed
def sign_out_everywhere():
    officer_sessions.sign_out_everywhere(portal_context(), g.who)
    return clear_session_cookie(
        redirect(url_for("console.login", ended="everywhere"), code=303), console_cookie_name()
    )

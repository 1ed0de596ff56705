"""The console's session at the door of every view: the signed-in guard, the sign-in page, and text
carried through a sign-in (portal.web.carry) or a refused CSRF token.

Every console blueprint (casework, keys, operations) guards its views with `signed_in` and registers
how a form's page is shown again with carried text with `resume_with_text`."""

from __future__ import annotations

import functools
from typing import Callable

from flask import abort, current_app, g, redirect, render_template, request, url_for
from flask_babel import lazy_gettext
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RequestRedirect

from portal.core.words import N_
from portal.keys import enrolment, officer_sessions
from portal.web import carry, page_marks
from portal.web.casework.forms import LoginForm
from portal.web.context import portal_context

# How to show a form's page again with text carried through a sign-in (portal.web.carry): the POST
# endpoint's name -> a function of its URL arguments and the carried form data, giving a response.
_RESUMES: dict[str, Callable[..., object]] = {}


def resume_with_text(endpoint: str):
    """Register how the page of the form posted to `endpoint` is shown with carried text in its
    boxes.

    The function takes the endpoint's URL arguments and `formdata` (the carried fields); g.who is
    set.
    """

    def register(render):
        _RESUMES[endpoint] = render
        return render

    return register


def console_cookie_name() -> str:
    return current_app.config["PORTAL_CONSOLE_COOKIE"]


def signed_in(role: str | tuple[str, ...] | None = None):
    """Require a live console session (and a role, or one of several); the session's key is in g.who
    for this request only. Any other role gets 404, as for a page that does not exist."""
    roles = (role,) if isinstance(role, str) else role

    def decorate(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            ctx, cookie = portal_context(), request.cookies.get(console_cookie_name())
            who = officer_sessions.resume(ctx, cookie)
            if who is None:
                if enrolment.resume_session(ctx, cookie) is not None:
                    # Set-up comes first: nothing else is shown until the officer's own credentials
                    # exist.
                    return redirect(url_for("enrol.setup_passphrase"), code=303)
                if request.method == "POST":
                    return _sign_in_to_continue(carry.typed_fields(request.form), 401)
                return redirect(url_for("console.login", expired=1), code=303)
            if roles is not None and who.account.role not in roles:
                abort(404)
            g.who = who
            if request.method == "POST" and not page_marks.console_is_current(who):
                # The two-tab rule (portal.web.page_marks): nothing is done, the text is kept.
                return page_marks.console_refusal(carry.typed_fields(request.form), resume_carried)
            return view(*args, **kwargs)

        return wrapper

    return decorate


def render_login(form, problem=None, carried=None, return_to=""):
    """The sign-in page; `problem` is a message of the catalogue (N_), shown in the page's
    language (looked up as the page renders, so that English shown for want of a translation is
    marked lang="en": portal.web.untranslated)."""
    return render_template(
        "keys/login.html",
        form=form,
        problem=lazy_gettext(problem) if problem else problem,
        carried=carried or MultiDict(),
        return_to=return_to,
    )


def _sign_in_to_continue(carried: MultiDict, status: int):
    """The sign-in page for a form refused without a session, carrying its text (same-origin
    only)."""
    if not carry.has_text(carried):
        return redirect(url_for("console.login", expired=1), code=303)
    problem = N_(
        "You were signed out after 15 minutes without activity, so what you wrote was not sent. "
        "Sign in again: it will be back in its box, ready to send."
    )
    return render_login(LoginForm(formdata=None), problem, carried, request.path), status


def csrf_refused(exc):
    # The browser lost the form's cookie (restarted, or a very old page): like a lost session.
    carried = carry.typed_fields(request.form) if request.method == "POST" else MultiDict()
    if request.endpoint == "console.login_post":
        carried = carry.carried_back(request.form)
        return (
            render_login(
                LoginForm(formdata=None),
                N_("For your safety the form needed refreshing. Please sign in again."),
                carried,
                request.form.get("return_to", ""),
            ),
            400,
        )
    if carry.has_text(carried):
        return _sign_in_to_continue(carried, 400)
    return (
        render_template(
            "error.html",
            title="This form has expired",
            message=(
                "For your safety, this form could not be accepted. Go back, reload the page "
                "and send it again."
            ),
        ),
        400,
    )


def resume_carried(return_to: str, carried: MultiDict):
    """The page of the form at `return_to` with the carried text in its boxes, or None."""
    if not return_to.startswith("/console/"):
        return None
    try:
        endpoint, view_args = current_app.url_map.bind_to_environ(request.environ).match(
            return_to, method="POST"
        )
    except (HTTPException, RequestRedirect):
        return None
    render = _RESUMES.get(endpoint)
    if render is None:
        # A form with no page to put the text back into: show it, to copy, rather than lose it.
        return render_template(
            "carried.html",
            carried=carried.items(multi=True),
            case_url=url_for("console.case", ref=view_args["ref"]) if "ref" in view_args else None,
        )
    return render(formdata=carried, **view_args)

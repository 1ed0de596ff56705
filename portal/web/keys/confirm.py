"""Ask the passphrase again before a weighty action: exports, grants, identity release.

Put `@passphrase_confirmed` under `@signed_in(...)` on a POST view. The first post of the action's
own form answers with a page that asks for the passphrase and carries the form's other fields along
as hidden inputs; posting that page (to the same address) checks the passphrase and, if it is right,
runs the view with the original fields. Every answer is audited; after five wrong answers the
session ends (portal.keys.officer_sessions.confirm_passphrase).
"""

from __future__ import annotations

import functools

from flask import current_app, g, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l

from portal.keys import officer_sessions
from portal.web.context import portal_context
from portal.web.keys.forms import ConfirmPassphraseForm
from portal.web.responses import clear_session_cookie

FIELD = "confirm_passphrase"


def _ask(form: ConfirmPassphraseForm, problem: str | None = None, code: int = 200):
    carried = [
        (name, value)
        for name, value in request.form.items(multi=True)
        if name not in ("csrf_token", FIELD)
    ]
    return (
        render_template(
            "keys/confirm_passphrase.html",
            form=form,
            carried=carried,
            action=request.path,
            problem=problem,
        ),
        code,
    )


def passphrase_confirmed(view):
    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        form = ConfirmPassphraseForm()
        if FIELD not in request.form:
            return _ask(form)
        if not form.validate():
            return _ask(form, _l("Type your passphrase to continue."), 400)
        cookie_name = current_app.config["PORTAL_CONSOLE_COOKIE"]
        try:
            confirmed = officer_sessions.confirm_passphrase(
                portal_context(),
                g.who,
                form.confirm_passphrase.data,
                request.cookies.get(cookie_name),
            )
        except officer_sessions.ConfirmationLocked:
            return clear_session_cookie(
                redirect(url_for("console.login", ended="confirm"), code=303), cookie_name
            )
        if not confirmed:
            form.confirm_passphrase.errors = [
                "That is not your passphrase. Check it and try again."
            ]
            return _ask(form, _l("Nothing was done yet: your passphrase did not match."), 400)
        return view(*args, **kwargs)

    return wrapper

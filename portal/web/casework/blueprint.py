"""The officers' console blueprint `console` (under /console), on which the console's view modules
register their routes: sign-in (sign_in), the inbox (inbox), the case page (case_page) and its
actions (case_actions, case_notes), declared interests (interests). Administrators sign in here
too."""

from __future__ import annotations

from flask import Blueprint, g
from flask_wtf.csrf import CSRFError

from portal.web.console_session import csrf_refused
from portal.web.forms import EmptyForm

bp = Blueprint("console", __name__, url_prefix="/console")

bp.register_error_handler(CSRFError, csrf_refused)


@bp.app_context_processor
def _sign_out_button():
    # Every page of a signed-in officer or administrator offers "Sign out".
    return {"logout_form": EmptyForm()} if g.get("who") else {}

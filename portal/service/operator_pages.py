"""The service operator's pages, at the service's own path (/service/, dispatch.py): the ordinary
sign-in (passphrase and second factor) of the operator installation (operator.py), the counts of
completed quarters per organisation (counts.py), the service's audit log and signing out. Every
other page of that installation (the disclosure form, the administrators' console) answers 'not
found' there: it has no channel, and an operator administers the service, not its members."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from flask import Blueprint, Flask, abort, current_app, redirect, render_template, request, url_for

from portal.core import clock
from portal.core.config import load_settings
from portal.service import counts
from portal.service.operator import OPERATOR_ROLE, ensure_operator_installation
from portal.web.app import create_app
from portal.web.casework.statistics import period_words
from portal.web.console_session import signed_in
from portal.web.context import portal_context

bp = Blueprint("service_operator", __name__)

# The reused pages an operator may reach: signing in and out, and the service's audit log.
_REUSED = frozenset({
    "console.login", "console.login_post", "console.logout", "console.sign_out_everywhere",
    "audit_log.entries", "audit_log.export", "languages.choose", "static",
})  # fmt: skip
# Where the reused pages send a signed-in person (the portal's front page, the console's inbox):
# the operator's own page instead.
_SENT_ON = frozenset({"discloser.index", "console.inbox"})


@bp.get("/organisations")
@signed_in(OPERATOR_ROLE)
def overview():
    today = dt.date.fromisoformat(clock.today(portal_context().settings.timezone))
    return render_template(
        "service/overview.html",
        periods=counts.completed_quarters(today),
        organisations=counts.counts(current_app.config["PORTAL_SERVICE_DIR"], today),
        period_words=period_words,
    )


def operator_app(service_dir: Path, organisation_share: int = 0) -> Flask:
    """The Flask app of the operator's pages: the ordinary factory on the operator installation,
    its pages narrowed to the operator's (above), its sign-ins budgeted as an organisation's
    (`organisation_share`, Settings). Makes the operator installation if the service predates
    it."""
    data_dir = ensure_operator_installation(service_dir)
    settings = load_settings(data_dir, organisation_share=organisation_share)
    app = create_app(data_dir, settings=settings)
    app.config["PORTAL_SERVICE_DIR"] = Path(service_dir)
    app.register_blueprint(bp)

    @app.before_request
    def _operator_pages_only():
        endpoint = request.endpoint or ""
        if endpoint in _SENT_ON:
            return redirect(url_for("service_operator.overview"), code=303)
        if endpoint not in _REUSED and not endpoint.startswith(bp.name + "."):
            abort(404)
        return None

    return app

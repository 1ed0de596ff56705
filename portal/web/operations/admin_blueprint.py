"""The blueprint `admin` (under /console/admin), on which the administrators' pages register their
routes (portal.web.operations.admin lists them), and what they share: the sub-navigation between
the pages and the one-time confirmation each action returns to.

An action redirects to its page with `?notice=KEY`; the page shows NOTICES[KEY] in role="status".
The key names a fixed sentence, so nothing typed travels in a URL.
"""

from __future__ import annotations

from flask import Blueprint, redirect, request, url_for
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError

from portal.core.words import date_words
from portal.web.console_session import csrf_refused
from portal.web.languages import page_language

bp = Blueprint("admin", __name__, url_prefix="/console/admin")
bp.register_error_handler(CSRFError, csrf_refused)

# (endpoint, link text) of each page of the console, in the order of its sub-navigation.
PAGES = (
    ("admin.overview", _l("Channels")),
    ("admin.officers", _l("Officers")),
    ("admin.invitations_page", _l("Invitations")),
    ("admin.offboarding_page", _l("Offboarding")),
    ("admin.settings", _l("Settings")),
    ("admin.authorities", _l("Appropriate authorities")),
)

NOTICES = {
    "channel-added": _l(
        "The channel was added. Its first officer is added on the server with"
        " `portal officer invite`."
    ),
    "membership-asked": _l(
        "Asked. The officer joins the channel once an officer who reads it"
        " confirms; until then they receive nothing."
    ),
    "membership-removed": _l(
        "Done. The officer no longer reads the channel (or the request was"
        " withdrawn); an officer of the channel signs the removal into its roster."
    ),
    "invitation-revoked": _l("The invitation was withdrawn: its link no longer works."),
    "offboarding-asked": _l(
        "Asked. An officer of their channels signs the offboarding on their"
        " roster page; until then nothing changes."
    ),
    "offboarding-withdrawn": _l("The request to offboard was withdrawn."),
    "setting-saved": _l(
        "Saved. It takes effect when the portal next starts (as with `portal setting set`)."
    ),
    "directory-changed": _l("The directory of appropriate authorities was changed."),
    "contact-changed": _l(
        "The contact was saved. Officers see it when they refer a case, and a discloser whose"
        " disclosure is referred to that authority is given it."
    ),
    "contact-shipped": _l(
        "The authority's contact is the one shipped with the portal again"
        " (portal/data/authorities.json)."
    ),
}


def confirmed(endpoint: str, notice: str):
    """The redirect after an action: back to its page, with its confirmation."""
    assert notice in NOTICES
    return redirect(url_for(endpoint, notice=notice), code=303)


@bp.context_processor
def _admin_pages() -> dict:
    # The confirmation this page was sent back with, if any, and the sub-navigation.
    return {"admin_pages": PAGES, "admin_notice": NOTICES.get(request.args.get("notice", ""))}


@bp.app_template_filter("admin_day")
def admin_day(day: str) -> str:
    """'2026-12-07' as people write it in New Zealand: '7 December 2026' (in the page's
    language)."""
    return date_words(day, page_language())

"""The page for a fault a person can meet (portal.store.faults): what happened, that nothing was
stored, when to try again (503 with Retry-After), and what they typed, never a bare 500.

A form's text comes back in its own boxes where its view registered how (`@form_page(endpoint)`,
the disclosure form and the reply); otherwise, and if that page cannot be shown either, it is shown
to copy, as the expiry hand-back does (portal.web.carry: same-origin only, or without
`Sec-Fetch-Site` with a valid CSRF token; secrets never echoed).
A streaming view's fields are read by the view itself: `keep_typed` puts them where this page finds
them.
"""

from __future__ import annotations

from typing import Callable

from flask import g, make_response, render_template, request
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import MultiDict

from portal.intake import receiving
from portal.web import carry
from portal.web.context import SHORT_OF_SPACE_RETRY_AFTER

# What happened, by kind of fault, for the page's title and first sentence.
WHAT_HAPPENED = {
    "locked": (
        _l("The portal is busy"),
        _l("The portal is busy with other work just now and could not store this in time."),
    ),
    "full": (
        _l("Disclosures are paused"),
        _l("The portal is short of storage space, so it cannot store anything new just now."),
    ),
    "missing": (
        _l("The portal is not available"),
        _l(
            "Part of the portal's storage cannot be reached just now; its administrators need to"
            " look at it."
        ),
    ),
    "dependency": (
        _l("The portal is not available"),
        _l("Something the portal depends on is not answering just now."),
    ),
}

# The same for the console (officers and administrators): it cannot sign anyone in or record
# anything while the storage cannot be written.
CONSOLE_WHAT_HAPPENED = {
    "locked": (
        _l("The console is busy"),
        _l("The portal is busy with other work just now and could not record this in time."),
    ),
    "full": (
        _l("The console is not available"),
        _l(
            "The console is not available just now: the portal is short of storage space, so it"
            " cannot sign anyone in or record anything."
        ),
    ),
    "missing": WHAT_HAPPENED["missing"],
    "dependency": WHAT_HAPPENED["dependency"],
}

# Said at the top of every page while the disk is below its free-space floor (disclosures pause).
PAUSED_NOTICE = _l(
    "Disclosures are paused: the portal is short of storage space, so it cannot take in new"
    " disclosures or messages just now. You can still read this site. Please try again later."
)
CONSOLE_PAUSED_NOTICE = _l(
    "The console is not available just now: the portal is short of storage space, so no one can"
    " sign in or record anything. Cases already stored are safe. Please try again later."
)

# For those signed in already: the inbox still shows, nothing can be recorded (not even a reading).
CONSOLE_READING_NOTICE = _l(
    "The portal is short of storage space: nothing new can be recorded just now, so cases cannot be"
    " opened (every opening is recorded in the audit log) and disclosures are paused. Cases already"
    " stored are safe. Please try again later."
)


def in_console() -> bool:
    return request.path.startswith("/console")


def storage_notice(settings) -> str | None:
    """The notice for the top of this page, or None while there is room (see receiving)."""
    if not receiving.short_of_space(settings):
        return None
    if not in_console():
        return PAUSED_NOTICE
    # The sign-in page, shown and posted, is for someone not signed in: no case to open.
    signing_in = request.endpoint in ("console.login", "console.login_post")
    return CONSOLE_PAUSED_NOTICE if signing_in else CONSOLE_READING_NOTICE


# The POST endpoint -> a function of (formdata, problem) that shows its page with the text in its
# boxes, as (body, status); registered by the views.
_FORM_PAGES: dict[str, Callable[[MultiDict, str], object]] = {}


def form_page(endpoint: str):
    def register(render):
        _FORM_PAGES[endpoint] = render
        return render

    return register


def keep_typed(fields: MultiDict) -> MultiDict:
    """Remember a streamed form's text fields for this request, in case a fault ends it."""
    g.portal_typed = fields
    return fields


def when_to_try(retry_after: int) -> str:
    if retry_after < 120:
        return gettext("Please try again in a minute.")
    if retry_after < 7200:
        return gettext("Please try again in about %(minutes)d minutes.", minutes=retry_after // 60)
    return gettext("Please try again later today.")


def fault_response(kind: str, retry_after: int):
    """The 503 page for a fault of `kind` in this request."""
    title, what = (CONSOLE_WHAT_HAPPENED if in_console() else WHAT_HAPPENED)[kind]
    typed = MultiDict()
    if request.method == "POST":
        raw = g.get("portal_typed")
        source = raw if raw is not None else _form_or_nothing()
        # A valid CSRF token shows the form came from our page, for a browser or proxy that strips
        # Sec-Fetch-Site; a request that says it is cross-site never gets text back.
        typed = carry.typed_fields(source, token_valid=carry.token_is_valid(source))
    kept = carry.has_text(typed)
    if not kept:
        still = ""
    elif g.get("portal_typed") is not None:  # a form that takes files (streamed: keep_typed)
        still = gettext("What you wrote is still here; any files must be chosen again.")
    else:  # a sign-in, a note: no files to choose again
        still = gettext("What you wrote is still here.")
    said = (f"{what}", gettext("Nothing was stored."), still, when_to_try(retry_after))
    problem = " ".join(part for part in said if part)
    body = None
    render = _FORM_PAGES.get(request.endpoint or "")
    if kept and render is not None:
        try:
            body, _ = render(typed, problem)
        except Exception:  # the form's own page needs what failed: the plain page below
            body = None
    if body is None:
        body = render_template(
            "fault.html", title=title, problem=problem, carried=typed.items(multi=True), kept=kept
        )
    response = make_response(body, 503)
    response.headers["Retry-After"] = str(retry_after)
    return response


def paused_response():
    """The page for a form refused because the disk is below its free-space floor, as for a full
    disk (the text kept by `keep_typed`; Retry-After as portal.store.faults gives a full disk)."""
    return fault_response("full", SHORT_OF_SPACE_RETRY_AFTER)


def _form_or_nothing() -> MultiDict:
    try:
        return request.form
    except Exception:  # a body that cannot be read now (already streamed): nothing to give back
        return MultiDict()

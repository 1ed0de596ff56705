"""Keeping what was typed when a form is refused for a missing or expired session.

A discloser's reply after the 10-minute idle limit, an officer's reply after the 15-minute one, a
form whose CSRF cookie the browser dropped: the text comes back in the answer (never stored
anywhere), on the page that asks for the receipt or the sign-in, as visible text and as hidden
`carried-<name>` fields; once the person is back in, it is put in the box it came from (see
`resume_with_text` in portal.web.console_session and `status_post` in
portal.web.intake.status_pages). Files cannot be carried: browsers never resend them, and the page
names the ones that must be chosen again.

Only same-origin requests get their text back (`same_origin`): otherwise a cross-site form post
could plant text in someone's reply box. A fault page (portal.web.fault_pages) also gives it back
to a request without `Sec-Fetch-Site` whose CSRF token is valid. Secrets (`NEVER_CARRIED`) are
never echoed.

For a new form: nothing to do if its view is wrapped in `signed_in` and it registers how to show its
page with carried text (`@resume_with_text("endpoint")` in portal.web.console_session).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import request
from flask_wtf.csrf import validate_csrf
from werkzeug.datastructures import MultiDict
from wtforms.validators import ValidationError

PREFIX = "carried-"
NEVER_CARRIED = frozenset(
    {
        "csrf_token",
        "passphrase",
        "passphrase_again",
        "totp",
        "receipt",
        "expected",
        "return_to",
        "recovery_code",
        "page_for",
        # The proof of work's fields (portal.web.intake.payment): machine-made, never typed.
        "pow_challenge",
        "pow_solution",
    }
)
MAX_CARRIED_FIELDS = 20


def same_origin(*, token_valid: bool = False) -> bool:
    """Whether this request came from one of the portal's own pages.

    `Sec-Fetch-Site` (sent by current browsers, Tor Browser included) decides when present. Without
    it (a browser or proxy that strips it), a form whose CSRF token is valid for this session
    (`token_valid`, see `token_is_valid`) came from a page of ours; otherwise the `Origin` header
    must name this host; the portal's `Referrer-Policy: no-referrer` makes browsers send
    `Origin: null` on form posts, which counts as not same-origin.
    """
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None:
        return site == "same-origin"
    if token_valid:
        return True
    origin = request.headers.get("Origin")
    return bool(origin) and origin != "null" and urlsplit(origin).netloc == request.host


def token_is_valid(formdata: MultiDict) -> bool:
    """Whether `formdata` carries this session's valid CSRF token (a page of ours made the form;
    a cross-site page cannot know the token)."""
    try:
        validate_csrf(formdata.get("csrf_token"))
    except ValidationError:
        return False
    return True


def typed_fields(formdata: MultiDict, *, token_valid: bool = False) -> MultiDict:
    """The fields worth giving back from a refused form: all but secrets and tokens, if
    same-origin (`same_origin`; `token_valid`: the form's CSRF token was found valid)."""
    if not same_origin(token_valid=token_valid):
        return MultiDict()
    kept = [
        (name, value)
        for name, value in formdata.items(multi=True)
        if name not in NEVER_CARRIED and not name.startswith(PREFIX) and isinstance(value, str)
    ]
    return MultiDict(kept[:MAX_CARRIED_FIELDS])


def carried_back(formdata: MultiDict) -> MultiDict:
    """The `carried-<name>` fields of a sign-in or receipt form, under their own names (same-origin
    only)."""
    if not same_origin():
        return MultiDict()
    kept = [
        (name[len(PREFIX) :], value)
        for name, value in formdata.items(multi=True)
        if name.startswith(PREFIX) and name[len(PREFIX) :] not in NEVER_CARRIED
    ]
    return MultiDict(kept[:MAX_CARRIED_FIELDS])


def has_text(carried: MultiDict) -> bool:
    """Whether anything a person typed is in `carried` (a lone token is not worth a detour)."""
    return any(
        value.strip() for name, value in carried.items(multi=True) if name != "submission_token"
    )

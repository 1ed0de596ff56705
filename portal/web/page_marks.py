"""The two-tab rule: a form acts on what its page showed, never on whatever the browser's session
holds when it is sent.

Every form of the portal (`portal.web.forms.PortalForm`, the base of them all) carries, beside its
CSRF token, a hidden field `page_for` naming what its page was for (portal.keys.page_marks): in the
console, the signed-in account and its credentials, and the case when the page is a case's; on the
discloser's status page, the disclosure shown. When the form comes back and its mark is not the
current one (the officer signed in as someone else in another tab, their passphrase changed in
another window, the discloser opened another disclosure in a second tab), nothing is done: the
answer is 409 with what was typed kept (portal.web.carry): in the console the form's page comes back
with the text in its box, for the discloser the receipt page carries the message to the disclosure
it was written for.

A form sent without the field (a script, not a page of the portal) is judged by the session alone,
as before.
"""

from __future__ import annotations

from flask import g, make_response, render_template, request
from markupsafe import Markup
from werkzeug.exceptions import HTTPException

from portal.keys import page_marks
from portal.records.casefiles import CaseNotFound
from portal.web import carry
from portal.web.context import portal_context

FIELD = "page_for"

# Shown at the top of the page that answers a form from an out-of-date page (templates/base.html).
CONSOLE_NOTICE = (
    "Nothing was done: this form came from a page shown before a change in this browser "
    "(a sign-in to another account, or a new passphrase or second factor, perhaps in another "
    "tab). What you typed is kept below: check it and send it again from this page."
)


def current() -> str | None:
    """The mark for the forms of the page being rendered, or None outside a session."""
    explicit = g.get("page_mark")
    if explicit:
        return explicit
    who = g.get("who")
    if who is None:
        return None
    mark = page_marks.for_account(portal_context(), who.account.id)
    ref = (request.view_args or {}).get("ref")
    return f"{mark}:{ref}" if ref else mark


def hidden_field() -> Markup:
    """The hidden `page_for` input (empty outside a session)."""
    mark = current()
    if not mark:
        return Markup("")
    return Markup('<input type="hidden" name="{}" value="{}">').format(FIELD, mark)


def showing_disclosure(case_id: str) -> None:
    """The page being rendered shows this disclosure to its discloser."""
    g.page_mark = page_marks.for_disclosure(portal_context(), case_id)


def disclosure_is_current(given: str | None, case_id: str) -> bool:
    """Whether a discloser's form (its `page_for`, `given`) came from the page of `case_id`."""
    if given is None:
        return True
    return page_marks.same(given, page_marks.for_disclosure(portal_context(), case_id))


def console_is_current(who) -> bool:
    """Whether the console form being posted came from a page shown to `who` as they are now, and,
    for a case's page, from the page of the case it is posted to."""
    given = request.form.get(FIELD)
    if given is None:
        return True
    mark, _, ref = given.partition(":")
    if not page_marks.same(mark, page_marks.for_account(portal_context(), who.account.id)):
        return False
    return not ref or ref == (request.view_args or {}).get("ref")


def console_refusal(typed, resume):
    """The 409 answer to a console form from an out-of-date page: its page again with `typed` in
    its boxes (`resume`, portal.web.console_session.resume_carried), else the text to copy."""
    g.page_notice = CONSOLE_NOTICE
    body = None
    if carry.has_text(typed):
        try:
            body = resume(request.path, typed)
        except (HTTPException, CaseNotFound):
            # The account now signed in may not see the page the form was on: the text to copy.
            body = render_template("carried.html", carried=typed.items(multi=True), case_url=None)
    if body is None:
        body = render_template(
            "error.html",
            title="This page was out of date",
            message=(
                "Nothing was done: this form came from a page shown before a change in this "
                "browser (a sign-in to another account, or a new passphrase or second factor, "
                "perhaps in another tab). Reload the page and try again."
            ),
        )
    response = make_response(body)
    response.status_code = 409
    return response

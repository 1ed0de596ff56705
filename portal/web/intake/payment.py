"""What the disclosure and status forms carry so the server spends a key derivation only on a
client that paid (portal.guard.flood): a proof-of-work challenge the page's script solves
(static/proof.js), and a no-script ticket in a cookie, bound to the session's form token.

`offer` is called when a form page is rendered, `collect` before the derivation; `come_back` is the
honest answer for a ticket not valid yet or a line that is full: 503 with Retry-After and the page
with what was typed."""

from __future__ import annotations

import datetime as dt
import time
from zoneinfo import ZoneInfo

from flask import after_this_request, current_app, g, make_response, request, session
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import generate_csrf

from portal.guard import case_turns, flood, proofs, tickets
from portal.web.context import portal_context


def cookie_name(purpose: str) -> str:
    prefix = "__Host-" if portal_context().settings.secure_cookies else ""
    # One organisation's among many on a service (portal.service.dispatch); '' for an installation.
    suffix = current_app.config.get("PORTAL_COOKIE_SUFFIX", "")
    return f"{prefix}pd_ticket_{purpose}{suffix}"


def _bound() -> str:
    generate_csrf()  # the session's form token exists from here on
    return str(session.get("csrf_token", ""))


def offer(purpose: str, *, keep_ticket: bool = False, declared_bytes: int = 0) -> dict:
    """The template's `proof` for a form page: a fresh challenge (for a body of `declared_bytes`,
    after one refused for its size) and, unless the client keeps the ticket it has (`keep_ticket`,
    after a ticket not valid yet), a new ticket, set as a cookie on the answer. A ticket takes no
    place in the line until it comes back with the form; when the line is already full the page
    says when there will be room. `size` lets a disclosure page's script add a bit for each
    doubling of the files chosen (proofs.size_offer)."""
    ctx = portal_context()
    bound = _bound()
    g.page_script = True  # this page runs static/proof.js (portal/web/app.py widens its policy)
    offered = {
        "challenge": proofs.challenge(ctx, purpose, declared_bytes),
        "size": proofs.size_offer(ctx, purpose),
        "lane_bits": proofs.lane_offer(ctx, purpose),
        "wait": None,
        "line_full_for": flood.full_for(ctx, purpose),
    }
    if keep_ticket and request.cookies.get(cookie_name(purpose)):
        return offered
    offered["wait"] = give_ticket(purpose, bound, lasts=offered["line_full_for"])
    return offered


def give_ticket(purpose: str, bound: str | None = None, lasts: int = 0) -> int:
    """Set a new ticket as a cookie on this answer (still good `lasts` seconds from now, within
    tickets.ticket's bound); return its wait in seconds. Also for a page with no form of its own
    that leads to one (the status thread, whose browser may open a status again from an older
    tab)."""
    ctx = portal_context()
    ticket = tickets.ticket(ctx.settings, purpose, _bound() if bound is None else bound, lasts)
    _set_ticket_cookie(purpose, ticket)
    return max(0, ticket.valid_from - int(time.time()))


def _set_ticket_cookie(purpose: str, ticket: tickets.Ticket) -> None:
    settings = portal_context().settings
    name = cookie_name(purpose)

    @after_this_request
    def _set(response):
        response.set_cookie(
            name,
            ticket.value,
            # As long as the ticket can be good for: the line's length and the wait, then its life.
            max_age=settings.ticket_line_seconds
            + settings.no_script_wait_seconds
            + settings.proof_seconds
            + 600,
            secure=settings.secure_cookies,
            httponly=True,
            samesite="Strict",
            path="/",
        )
        return response


def collect(purpose: str, fields, declared_bytes: int = 0) -> str:
    """Spend what the client paid with, for a body of `declared_bytes` to check; raises
    flood.NotPaid or flood.NotYet (or submissions.AlreadySubmitted for a form sent again). A
    ticket that took a later place in the line comes back as the cookie of its placed ticket."""
    try:
        return flood.pay(
            portal_context(),
            purpose,
            challenge=fields.get("pow_challenge"),
            solution=fields.get("pow_solution"),
            ticket=request.cookies.get(cookie_name(purpose)),
            bound=_bound(),
            submission_token=fields.get("submission_token"),
            declared_bytes=declared_bytes,
        )
    except flood.NotYet as exc:
        if exc.placed is not None:
            _set_ticket_cookie(purpose, exc.placed)
        raise


def keeps_ticket(exc: Exception) -> bool:
    """Whether the page given back keeps the ticket sent (one not valid yet), rather than giving a
    new one: not past the day's budget (case_turns.NoTurnYet), where the one sent may be spent,
    or over before the turn, and a new one lasts until the turn (`offer`)."""
    return isinstance(exc, flood.NotYet) and not isinstance(exc, case_turns.NoTurnYet)


def retry_after(exc: Exception, purpose: str) -> int:
    """Seconds until the client may send again: a ticket's own wait, or until the line has room."""
    if isinstance(exc, flood.NotYet):
        return exc.retry_after
    ctx = portal_context()
    free_in = tickets.line_free_in(ctx.settings, purpose)
    wait = tickets.wait_now(ctx.settings, purpose)  # the new ticket's, given with the page
    return max(1, wait, min(free_in, 3600))


class ComeBack(str):
    """The come-back words, with the heading the page's problem box gives them (`heading`, None:
    the box's own, "There is a problem"): a form not sent yet is not a problem (review, L2)."""

    heading = None


def come_back_message(seconds: int, exc: Exception | None = None, files: bool = False) -> str:
    """The honest words: when to send again (the installation's clock, its zone named), and that
    nothing is lost; for a ticket past its time (tickets.Expired), that it was, and that a new one
    comes with the page; past the day's budget on new cases (case_turns.NoTurnYet), that the
    portal takes new disclosures at a steady pace; with `files`, to choose them again."""
    zone = ZoneInfo(portal_context().settings.timezone)
    moment = dt.datetime.fromtimestamp(time.time() + seconds, zone)
    at = f"{moment.strftime('%H:%M:%S' if seconds <= 60 else '%H:%M')} {moment.tzname()}"
    if seconds <= 60:
        when = gettext("in %(seconds)s seconds (at %(at)s)", seconds=seconds, at=at)
    else:
        when = gettext("at %(at)s, in about %(minutes)s minutes", at=at,
                       minutes=-(-seconds // 60))
    if isinstance(exc, tickets.Expired):
        why = gettext(
            "The waiting time this form was given has run out (it lasts a while, then the form"
            " needs a new one, which this page now has)."
        )
    elif isinstance(exc, case_turns.NoTurnYet):
        why = gettext(
            "The portal has received many new disclosures today, so it now takes them one at a"
            " time, at a steady pace."
        )
    else:
        why = gettext(
            "The portal asks everyone to wait a moment before sending, to keep it open for all."
        )
    said = gettext("%(why)s Nothing was sent yet. What you wrote is still here: please send it"
                   " again %(when)s.", why=why, when=when)
    if files:  # a disclosure: a page given back cannot keep the files chosen
        said += " " + gettext("Please choose any files again.")
    words = ComeBack(said)
    if isinstance(exc, flood.NotYet):
        words.heading = gettext("Not sent yet")
    return words


# The busy page's own words (portal.web.app), for a form given back with what was typed.
BUSY = _l("Many people are using the portal just now. Nothing was changed. Please try again in a"
          " few seconds.")


def again(body: str, wait: int):
    """`body` answered 503 with Retry-After `wait` (seconds): a form given back, what was typed
    kept, to send again then."""
    response = make_response(body, 503)
    response.headers["Retry-After"] = str(wait)
    return response

"""Small response helpers shared by the blueprints: key-holding session cookies, 429 answers, and
record ids taken from a form (a 404 for anything else)."""

from __future__ import annotations

from flask import Response, abort, make_response

from portal.web.context import portal_context


def set_session_cookie(response: Response, name: str, value: str) -> Response:
    """A session cookie: no expiry date, Secure (unless configured off for plain-HTTP tests),
    HttpOnly, Strict."""
    response.set_cookie(
        name,
        value,
        secure=portal_context().settings.secure_cookies,
        httponly=True,
        samesite="Strict",
        path="/",
    )
    return response


def set_device_cookie(response: Response, name: str, value: str) -> Response:
    """The device cookie (portal.guard.sign_in_budget): random, long-lived, HttpOnly, Strict; it
    says only that this browser signed in to an account before, and keeps that browser a share of
    the sign-in budget.
    """
    response.set_cookie(
        name,
        value,
        max_age=400 * 86400,
        secure=portal_context().settings.secure_cookies,
        httponly=True,
        samesite="Strict",
        path="/",
    )
    return response


def clear_session_cookie(response: Response, name: str) -> Response:
    response.delete_cookie(
        name,
        path="/",
        secure=portal_context().settings.secure_cookies,
        samesite="Strict",
        httponly=True,
    )
    return response


def too_many_requests(body: str, retry_after: int) -> Response:
    response = make_response(body, 429)
    response.headers["Retry-After"] = str(retry_after)
    return response


def record_id_or_404(text: str | None) -> int:
    """A record's id as a form sends it: ASCII digits only, at most 12; anything else answers 404
    (like a record that does not exist, so nothing learns which ids do)."""
    if not text or not (text.isascii() and text.isdigit()) or len(text) > 12:
        abort(404)
    return int(text)

"""The JSON answers of the sealed routes when they refuse (docs/sealed-submission.md, "Errors"):
`{"error": CODE, "message": plain words}` with the HTTP status, the words in the request's language
(the sealing page shows them as they come)."""

from __future__ import annotations

import base64

from flask import jsonify, make_response
from flask_babel import gettext

from portal.guard import submissions
from portal.intake import cases, receiving, replies, sealed, sealed_wire
from portal.keys import conflicts


def wire(value):
    """JSON-ready: bytes as standard base64 (docs/sealed-submission.md)."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, dict):
        return {k: wire(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [wire(v) for v in value]
    return value


def error(status: int, code: str, message: str, retry_after: int | None = None, **more):
    """The refusal `code` (HTTP `status`) with `message`, `Retry-After` in seconds if given, and
    `more` members (bytes as base64)."""
    response = make_response(jsonify({"error": code, "message": message, **wire(more)}), status)
    if retry_after is not None:
        response.headers["Retry-After"] = str(retry_after)
    return response


class Refused(Exception):
    """Raised with the answer already made (error)."""

    def __init__(self, response) -> None:
        self.response = response


REFUSALS = (
    Refused,
    sealed_wire.Malformed,
    submissions.AlreadySubmitted,
    sealed.RosterChanged,
    sealed.DayChanged,
    sealed.CaseIdTaken,
    cases.NoReceiver,
    conflicts.ExcludedEveryone,
    cases.NoVerifiedReader,
    replies.QuotaReached,
    receiving.RefusedForNow,
    receiving.Throttled,
)


def _already_received(what: str) -> str:
    if what == "message":
        return gettext("This message was already received.")
    return gettext("This disclosure was already received.")


def _paused(what: str) -> str:
    return {
        "disclosure": gettext("The portal cannot store this disclosure just now."),
        "message": gettext("The portal cannot store this message just now."),
        "file": gettext("The portal cannot store this file just now."),
    }.get(what) or gettext("The portal cannot take this just now.")


def refusal(exc: Exception, what: str):
    """The JSON answer to what refused a sealed `what` ("disclosure", "message", "file" or
    "status check"). Malformed structure is answered in English: a correct page never sends it."""
    if isinstance(exc, Refused):
        return exc.response
    if isinstance(exc, sealed_wire.Malformed):
        return error(400, exc.code, str(exc))
    if isinstance(exc, (cases.NoReceiver, conflicts.ExcludedEveryone)):
        return error(400, "malformed", str(exc) or gettext("Please choose who should receive it."))
    if isinstance(exc, submissions.AlreadySubmitted):
        return error(409, "already-received", _already_received(what))
    if isinstance(exc, sealed.RosterChanged):
        return error(
            409,
            "roster-changed",
            gettext(
                "Who may read this channel changed while you wrote. Nothing was kept: seal it"
                " again."
            ),
        )
    if isinstance(exc, sealed.DayChanged):
        return error(409, "day-changed", gettext("The day changed: seal it again."), day=exc.day)
    if isinstance(exc, sealed.CaseIdTaken):
        return error(409, "case-id-taken", gettext("Seal it again with new random ids."))
    if isinstance(exc, replies.QuotaReached):
        return error(413, "too-large", gettext("This case has used its quota of messages."))
    if isinstance(exc, receiving.Throttled):
        return error(
            429,
            "budget",
            gettext("The portal has received as much as it can store today."),
            exc.retry_after,
        )
    if isinstance(exc, cases.NoVerifiedReader):
        return error(
            503,
            "no-verified-reader",
            gettext(
                "This channel cannot receive disclosures safely just now: its officers have been"
                " told. Nothing was kept."
            ),
            3600,
        )
    return error(503, "paused", _paused(what), 600)

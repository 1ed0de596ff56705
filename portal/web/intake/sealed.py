"""The routes a sealing page uses when the discloser's browser seals everything itself
(docs/sealed-submission.md): its setup, the sealed disclosure, the receipt page without the code,
the status check by lookup and the sealed reply. JSON in and out; the form's token comes in the
X-CSRFToken header and is checked here, before the body is read, so that a form body is never
parsed (nor spooled to a temporary file) on these routes."""

from __future__ import annotations

import json
from pathlib import Path

from flask import (
    Response,
    abort,
    current_app,
    jsonify,
    make_response,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext
from flask_wtf.csrf import generate_csrf, validate_csrf
from wtforms.validators import ValidationError

from portal.core import words
from portal.guard import flood, submissions
from portal.intake import (
    case_status,
    receipts,
    receiving,
    reply_tokens,
    sealed,
    sealed_uploads,
    sealed_wire,
)
from portal.records import casefiles
from portal.web import languages
from portal.web.context import portal_context
from portal.web.intake import payment
from portal.web.intake.blueprint import bp
from portal.web.intake.sealed_refusals import REFUSALS, Refused, error, refusal, wire
from portal.web.intake.sealing_words import hidden_kind_words, page_language, sealing_words
from portal.web.intake.status_pages import status_cookie_name
from portal.web.responses import set_session_cookie

_RECEIVED = "sealed_received"  # the session's note for the receipt page: (answer_by, regime)


def _form_token() -> str:
    """The session's form token, which uploads are bound to."""
    generate_csrf()
    return str(session.get("csrf_token", ""))


def _form_token_of(signed: str) -> str | None:
    """The session form token inside a form token the portal signed for a page (Flask-WTF's
    generate_csrf), whichever session it was, no older than any upload lives
    (sealed_uploads.LONGEST_LIFE_SECONDS, by the time signed into the token the browser kept: the
    server keeps none); None if it is not one the portal signed, or older."""
    from itsdangerous import BadData, URLSafeTimedSerializer

    secret = current_app.config.get("WTF_CSRF_SECRET_KEY") or current_app.secret_key
    try:
        raw = URLSafeTimedSerializer(secret, salt="wtf-csrf-token").loads(
            signed, max_age=sealed_uploads.LONGEST_LIFE_SECONDS
        )
    except BadData:
        return None
    return raw if isinstance(raw, str) else None


def _body(kind: str = "application/json"):
    """The checked JSON body (the request's stream, for `kind` application/octet-stream): a form
    body is refused unread, the token checked before reading."""
    try:
        sealed_wire.refuse_form_body(request.content_type or "", kind)
    except sealed_wire.Malformed as exc:
        raise Refused(error(400, exc.code, str(exc))) from None
    try:
        validate_csrf(request.headers.get("X-CSRFToken"))
    except ValidationError:
        raise Refused(
            error(403, "csrf", gettext("The page needs refreshing: nothing was sent."))
        ) from None
    if request.content_length is None:  # a body of unknown length is never read here
        raise Refused(error(411, "malformed", "Send the body with its Content-Length."))
    if kind != "application/json":
        return request.stream
    try:
        return json.loads(request.get_data(cache=False))
    except (ValueError, UnicodeDecodeError, RecursionError):  # not JSON, or nested past reason
        raise Refused(error(400, "malformed", "The body is not JSON.")) from None


def _paid(purpose: str, fields: dict):
    """Spend what the sealing page paid with (payment.collect), or Refused: 503 come-back with the
    words of the no-script form (a ticket past its time says so: tickets.Expired) and a fresh proof
    (and ticket), so the page sends the same sealed body again, nothing typed lost."""
    try:
        return payment.collect(purpose, fields)
    except (flood.NotPaid, flood.NotYet) as exc:
        wait = payment.retry_after(exc, purpose)
        proof = payment.offer(purpose, keep_ticket=payment.keeps_ticket(exc))
        raise Refused(
            error(503, "come-back", payment.come_back_message(wait, exc), wait, proof=proof)
        ) from None


@bp.get("/disclose/sealed/setup")
def sealed_setup():
    ctx = portal_context()
    return jsonify(
        wire(
            {
                "v": sealed_wire.WIRE_VERSION,
                "csrf_token": generate_csrf(),
                "submission_token": submissions.new_token(),
                "proof": payment.offer("disclose"),
                "limits": {
                    **sealed_wire.FIELD_LIMITS,
                    **sealed_wire.OPTIONAL_FIELD_LIMITS,
                    **sealed_wire.IDENTITY_LIMITS,
                },
                **sealed.sealing_setup(ctx),
                "words": sealing_words(),
                "kind_words": hidden_kind_words(),
                "language": page_language(),
                # The languages a discloser may say they wrote in, each named in itself.
                "written": [
                    {"code": code, "name": name} for code, name in languages.written_choices()
                ],
            }
        )
    )


@bp.get(
    "/static/seal/<any('release-key.json', 'bundle-manifest.json', 'bundle-manifest.json.sig')"
    ":name>"
)
def sealed_bundle_file(name: str):
    """The signed bundle's manifest and signature (the data directory's `seal-bundle/` if signed
    there, else static/seal/) and the release public key (the operator's PORTAL_RELEASE_KEY, or
    the installed static/seal/; never the data directory): release_bundle.bundle_file, and
    SECURITY.md, "The sealing page's signed bundle". 404 when missing or refused, and the page
    then refuses to seal."""
    from portal.operations.release_bundle import bundle_file

    static_seal = Path(current_app.static_folder) / "seal"
    found = bundle_file(portal_context().settings, static_seal, name)
    if found is None:
        abort(404)
    response = current_app.response_class(found, mimetype="application/json")
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/disclose/sealed/roots")
def sealed_roots():
    """The roster roots the server verifies each channel from (the roots file): the sealing
    page refuses to seal unless they are exactly the signed bundle manifest's."""
    roots = sealed.trusted_roots(portal_context())
    return jsonify(wire({"v": sealed_wire.WIRE_VERSION, "roots": roots}))


@bp.post("/disclose/sealed")
def sealed_disclose():
    ctx = portal_context()
    try:
        body = _body()
        wire = sealed_wire.read_disclosure(body)
        sealed.check_sealed_disclosure(ctx, wire, _form_token())  # before the sender pays
        paid = _paid(
            "disclose",
            {
                "pow_challenge": wire.pow_challenge,
                "pow_solution": wire.pow_solution,
                "submission_token": wire.submission_token,
            },
        )
        # The day's budget is spent in the case's own transaction.
        channel = sealed.complete_sealed_disclosure(ctx, wire, _form_token(), paid)
    except REFUSALS as exc:
        return refusal(exc, "disclosure")
    answer_by, regime = case_status.answer_expected_by(ctx, channel)
    # For the receipt page, once: by when to hear, never the channel (the session cookie is
    # readable in the browser, which may be shared).
    session[_RECEIVED] = [answer_by, regime]
    return make_response(
        jsonify(
            {
                "sealed_by": sealed.BROWSER,
                "answer_by": answer_by,
                # As the receipt page without script says it: "13 January 2027".
                "answer_by_words": words.date_words(answer_by, languages.page_language()),
                "regime": regime,
                "receipt_page": url_for("discloser.sealed_received"),
            }
        ),
        201,
    )


@bp.get("/disclose/sealed/received")
def sealed_received():
    """The receipt page of a disclosure sealed in the browser, without the code (the sealing page
    shows the receipt it made): what comes next, and which mode sealed it."""
    received = session.pop(_RECEIVED, None)
    if not received:
        return error(
            404, "not-found", gettext("No disclosure was sent from this browser just now.")
        )
    return render_template(
        "intake/receipt_sealed.html", answer_by=tuple(received), sealed_by=sealed.BROWSER
    )


@bp.get("/status/sealed/setup")
def sealed_status_setup():
    return jsonify(
        wire(
            {
                "v": sealed_wire.WIRE_VERSION,
                "csrf_token": generate_csrf(),
                "submission_token": submissions.new_token(),
                "proof": payment.offer("status"),
                "day": sealed.portal_day(portal_context()),
                "receipt": sealed.status_receipt_setup(portal_context()),
                "words": sealing_words(),
                "language": page_language(),
            }
        )
    )


@bp.post("/status/sealed")
def sealed_status():
    ctx = portal_context()
    try:
        lookup, challenge, solution = sealed_wire.read_lookup(_body())
        _paid("status", {"pow_challenge": challenge, "pow_solution": solution})
        cookie = sealed.open_browser_status(
            ctx, lookup, replacing=request.cookies.get(status_cookie_name())
        )
    except (Refused, sealed_wire.Malformed) as exc:
        return refusal(exc, "status check")
    except receipts.StatusNotFound:
        return error(
            404, "not-found", gettext("We could not open a disclosure with that code.")
        )
    except sealed.NeedsNewReceipt:
        return error(
            409,
            "new-receipt",
            gettext(
                "This receipt was printed by an integrity officer: open it once on the status page"
                " without script, which gives you a new receipt only you have seen."
            ),
        )
    opened = sealed.browser_status(ctx, sealed.resume_browser_status(ctx, cookie))
    return set_session_cookie(
        make_response(jsonify(wire(opened))), status_cookie_name(), cookie
    )


@bp.post("/status/sealed/reply")
def sealed_reply():
    ctx = portal_context()
    try:
        reply = sealed_wire.read_reply(_body())
        cookie = request.cookies.get(status_cookie_name())
        status_session = sealed.resume_browser_status(ctx, cookie)
        if status_session is None:
            return error(404, "not-found", gettext("Your status session ended: open it again."))
        sealed.complete_sealed_reply(ctx, status_session, reply, _form_token())
    except reply_tokens.AlreadyKept:
        pass  # a resend of a reply stored before: the first answer again, nothing stored
    except REFUSALS as exc:
        return refusal(exc, "message")
    return make_response(jsonify({"stored": True}), 201)


def _upload_answer(upload: sealed_uploads.Upload, status: int = 200):
    return make_response(
        jsonify(
            {
                "upload": upload.id,
                "part_bytes": sealed_uploads.PART_BYTES,
                "parts": upload.parts,
                "bytes": upload.received,
                "complete": upload.complete,
            }
        ),
        status,
    )


_UPLOAD_REFUSALS = (Refused, sealed_wire.Malformed, receiving.RefusedForNow, receiving.Throttled)


@bp.post("/disclose/sealed/uploads")
def sealed_upload_begin():
    ctx = portal_context()
    try:
        size = sealed_wire.read_upload(_body())
        upload = sealed_uploads.begin_upload(ctx, _form_token(), size)
    except sealed_uploads.PartRefused as exc:
        return error(400, exc.code, str(exc))
    except _UPLOAD_REFUSALS as exc:
        return refusal(exc, "file")
    return _upload_answer(upload, 201)


@bp.get("/disclose/sealed/uploads/<upload_id>")
def sealed_upload_state(upload_id: str):
    try:
        upload = sealed_uploads.upload_state(portal_context(), upload_id, _form_token())
    except sealed_uploads.UploadNotFound:
        return error(404, "not-found", gettext("There is no such upload for this page."))
    return _upload_answer(upload)


@bp.post("/disclose/sealed/uploads/<upload_id>/session")
def sealed_upload_rebind(upload_id: str):
    """Bind an upload begun in another session (the browser was closed) to this one, given the
    form token it was begun under; 404 as for another session's upload otherwise."""
    try:
        old = _form_token_of(sealed_wire.read_rebind(_body()))
        if old is None:
            raise sealed_uploads.UploadNotFound()
        upload = sealed_uploads.rebind(portal_context(), upload_id, old, _form_token())
    except sealed_uploads.UploadNotFound:
        return error(404, "not-found", gettext("There is no such upload for this page."))
    except (Refused, sealed_wire.Malformed) as exc:
        return refusal(exc, "file")
    return _upload_answer(upload)


@bp.put("/disclose/sealed/uploads/<upload_id>/parts/<int:n>")
def sealed_upload_part(upload_id: str, n: int):
    ctx = portal_context()
    try:
        before = sealed_uploads.upload_state(ctx, upload_id, _form_token())
        upload = sealed_uploads.store_part(
            ctx, upload_id, _form_token(), n, _body("application/octet-stream")
        )
    except sealed_uploads.UploadNotFound:
        return error(404, "not-found", gettext("There is no such upload for this page."))
    except sealed_uploads.PartRefused as exc:
        return error(400 if exc.code in ("malformed", "wrong-size") else 409, exc.code, str(exc))
    except _UPLOAD_REFUSALS as exc:
        return refusal(exc, "file")
    return _upload_answer(upload, 201 if upload.parts > before.parts else 200)


@bp.get("/status/sealed/attachments/<attachment_id>")
def sealed_attachment(attachment_id: str):
    """A file of the case, as the sealed blob it is stored as, within a keyless status session:
    the browser opens it with the case key."""
    ctx = portal_context()
    status_session = sealed.resume_browser_status(ctx, request.cookies.get(status_cookie_name()))
    if status_session is None:
        return error(404, "not-found", gettext("Your status session ended: open it again."))
    try:
        size, source = sealed.sealed_blob(ctx, status_session, attachment_id)
    except casefiles.CaseNotFound:
        return error(404, "not-found", gettext("There is no such file."))
    response = Response(_chunks(source), mimetype="application/octet-stream")
    response.headers["Content-Length"] = str(size)
    response.headers["Content-Disposition"] = "attachment"
    return response


def _chunks(source, size: int = 64 * 1024):
    with source:
        while piece := source.read(size):
            yield piece

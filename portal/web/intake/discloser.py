"""The discloser's pages: landing, disclosure form, receipt, status by receipt, replies."""

from __future__ import annotations

import datetime as dt

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from werkzeug.datastructures import MultiDict
from wtforms.fields.choices import SelectChoice

from portal.keys import channels, conflicts
from portal.casework import acknowledgements, workflow
from portal.intake import disclosures
from portal.guard import submissions, work_slots
from portal.records.casefiles import STATUSES
from portal.web.context import portal_context
from portal.intake.uploads import Limits, MalformedForm, TooLarge, read_multipart
from portal.web import carry
from portal.web.forms import (
    CHOOSE,
    ConfirmReceiptForm,
    DiscloseForm,
    EmptyForm,
    ReplyForm,
    StatusForm,
)
from portal.web.responses import clear_session_cookie, set_session_cookie, too_many_requests

bp = Blueprint("discloser", __name__)


def _with_retry_after(body: str, status: int, retry_after: int) -> Response:
    response = make_response(body, status)
    response.headers["Retry-After"] = str(retry_after)
    return response


def _busy(exc: "work_slots.Busy") -> Response:
    # Answered before the body was read: close the connection rather than read what may be
    # gigabytes.
    response = _with_retry_after(
        render_template(
            "error.html",
            title="The portal is busy",
            message=(
                "Many people are sending files just now, so nothing was sent. Please go back and"
                " send it again in a minute: what you typed is still in your browser."
            ),
        ),
        503,
        exc.retry_after,
    )
    response.headers["Connection"] = "close"
    return response


def _limits() -> Limits:
    s = portal_context().settings
    return Limits(
        text_bytes=s.max_text_bytes,
        file_bytes=s.max_attachment_bytes,
        total_bytes=s.max_submission_bytes,
        max_files=s.max_files,
    )


def _status_cookie_name() -> str:
    return current_app.config["PORTAL_STATUS_COOKIE"]


def _disclose_form(formdata=None) -> DiscloseForm:
    form = DiscloseForm(formdata=formdata) if formdata is not None else DiscloseForm()
    # Offered by name, the channel's one identifier (channels.find_channel); nothing chosen
    # beforehand.
    form.channel.choices = [SelectChoice("", CHOOSE)] + [
        SelectChoice(c.name, c.name)
        for c in channels.list_channels(portal_context(), with_officers_only=True)
    ]
    form.exclude.choices = [
        (officer.id, officer.name) for officer in conflicts.excludable_officers(portal_context())
    ]
    return form


def _render_disclose(form: DiscloseForm, status: int = 200, problem: str | None = None, dropped=()):
    ctx = portal_context()
    return (
        render_template(
            "intake/disclose.html",
            form=form,
            problem=problem,
            dropped=list(dropped),
            limits=_limits(),
            channels=channels.list_channels(ctx, with_officers_only=True),
            readers=channels.readers_by_channel(ctx),
        ),
        status,
    )


class _DroppedFile:
    """Where a file of a refused form goes: nowhere; only its name is kept, to say it was
    dropped."""

    def __init__(self, names: list[str], filename: str) -> None:
        from portal.intake.filenames import clean_filename

        names.append(clean_filename(filename))

    def write(self, data: bytes) -> None:
        pass

    def finish(self, content_type: str) -> None:
        pass


def _read_refused(text_fields) -> tuple[MultiDict, list[str]]:
    """Read a form refused before any storage: its text fields and the names of its files."""
    names: list[str] = []
    try:
        fields = read_multipart(
            request.stream,
            request.content_type or "",
            text_fields=text_fields,
            file_fields=["attachments"],
            open_sink=lambda n: _DroppedFile(names, n),
            limits=_limits(),
            repeatable=DiscloseForm.REPEATABLE,
        )
    except TooLarge as exc:
        fields = exc.fields
        _drain_body()
    except MalformedForm:
        fields = MultiDict()
    return fields, names


def _read_upload(intake, text_fields):
    """Stream the multipart body: text fields into memory, files through the intake's encryptors."""
    return read_multipart(
        request.stream,
        request.content_type or "",
        text_fields=text_fields,
        file_fields=["attachments"],
        open_sink=intake.open_file,
        limits=_limits(),
        repeatable=DiscloseForm.REPEATABLE,
    )


def _drain_body() -> None:
    # Read what is left of a rejected upload so the browser sees our answer, not a reset connection;
    # a body declared far beyond any limit is not worth reading: the connection is closed instead.
    if (request.content_length or 0) > 2 * portal_context().settings.max_submission_bytes:
        return
    while request.stream.read(1024 * 1024):
        pass


def _paused():
    _drain_body()
    return (
        render_template(
            "error.html",
            title="Disclosures are paused",
            message=(
                "The portal cannot accept disclosures or messages right now because it is short "
                "of storage space. Nothing you sent was kept. Please try again later."
            ),
        ),
        503,
    )


@bp.get("/.well-known/security.txt")
def security_txt():
    """RFC 9116: whom to tell about a vulnerability, from the installation's settings."""
    contact = portal_context().settings.security_contact.strip()
    if not contact:
        abort(404)
    if ":" not in contact and "@" in contact:
        contact = "mailto:" + contact
    # RFC 9116 2.5.5: Expires is required and should be less than a year away.
    expires = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=180)).strftime(
        "%Y-%m-%dT00:00:00Z"
    )
    body = f"Contact: {contact}\nExpires: {expires}\nPreferred-Languages: en\n"
    return Response(body, mimetype="text/plain")


@bp.get("/")
def index():
    return render_template("intake/index.html")


@bp.get("/disclose")
def disclose_form():
    return _render_disclose(_disclose_form())


@bp.post("/disclose")
def disclose_post():
    ctx = portal_context()
    intake = form = None
    try:
        with (
            work_slots.upload(ctx.settings, request.content_length),
            disclosures.begin_disclosure(ctx) as intake,
        ):
            form = _disclose_form(_read_upload(intake, DiscloseForm.TEXT_FIELDS))
            if form.validate():
                receipt = disclosures.complete_disclosure(
                    ctx,
                    intake,
                    form.data,
                    form.submission_token.data,
                    excluded=form.exclude.data or (),
                )
                return render_template(
                    "intake/receipt.html",
                    receipt=receipt,
                    form=ConfirmReceiptForm(expected=receipt),
                )
    except submissions.AlreadySubmitted:
        # The same form again (a reload of the receipt page, Back then Send, a double click). The
        # receipt is never stored, so it cannot be shown again; a second receipt would be wrong.
        return render_template("intake/already_received.html"), 409
    except disclosures.NoReceiver:
        form.channel.errors = ["Please choose who should receive it."]
        return _render_disclose(form, 400, dropped=intake.file_names)
    except conflicts.ExcludedEveryone as exc:
        form.exclude.errors = [str(exc)]
        return _render_disclose(form, 400, dropped=intake.file_names)
    except disclosures.RefusedForNow:
        return _paused()
    except disclosures.Throttled as exc:
        # Only a valid form with files or long text gets here: the disclosers' byte budget for today
        # is spent.
        body, _ = _render_disclose(
            form,
            429,
            "The portal has received as much as it can store today. "
            "Nothing was kept yet. You can send your disclosure now without the files "
            "(and, if it is very long, with a shorter account of up to 16,000 characters), "
            "and add the rest later from your status page, or try again tomorrow.",
            dropped=intake.file_names,
        )
        return too_many_requests(body, exc.retry_after)
    except work_slots.Busy as exc:
        if form is None:  # all upload slots taken: answered before reading anything
            return _busy(exc)
        body, _ = _render_disclose(
            form,
            503,
            "The portal is very busy just now, so your disclosure was not stored. "
            "What you wrote is still here: please choose any files again and send it "
            "in a minute.",
            dropped=intake.file_names,
        )
        return _with_retry_after(body, 503, exc.retry_after)
    except TooLarge as exc:
        _drain_body()
        return _render_disclose(
            _disclose_form(exc.fields),
            413,
            f"{exc.what} is too large. Nothing was sent. Please choose smaller files.",
            dropped=intake.file_names if intake else (),
        )
    except MalformedForm:
        return _render_disclose(
            _disclose_form(), 400, "The form could not be read. Please fill it in again."
        )
    # The form came back with problems: what was typed is kept; files cannot be, browsers never
    # resend them.
    problem = None
    if form.csrf_token.errors:
        if not carry.same_origin():
            # Not from our own page: never fill the form with text someone else chose.
            return _render_disclose(
                _disclose_form(),
                400,
                "For your safety the form needed refreshing. Please fill it in and send it again.",
            )
        problem = (
            "For your safety the form needed refreshing. What you wrote is still here; "
            "please choose any files again and send it once more."
        )
    elif intake.file_names:
        problem = "Please correct the problems below, then choose your files again."
    return _render_disclose(form, 400, problem, dropped=intake.file_names)


@bp.post("/disclose/confirm")
def confirm_receipt():
    form = ConfirmReceiptForm()
    expected = form.expected.data or ""
    if form.validate() and disclosures.receipt_matches(form.receipt.data, expected):
        return render_template("intake/receipt_confirmed.html")
    if form.csrf_token.errors and not carry.same_origin():
        abort(400)  # never show a code that another site chose as someone's receipt
    return (
        render_template(
            "intake/receipt.html",
            receipt=expected,
            form=ConfirmReceiptForm(expected=expected),
            problem="That is not the same code. Compare each character and try again.",
        ),
        400,
    )


@bp.get("/status")
def status():
    ctx = portal_context()
    session = disclosures.resume_status(ctx, request.cookies.get(_status_cookie_name()))
    if session is None:
        return render_template("intake/status_open.html", form=StatusForm())
    return _render_thread(ctx, session, ReplyForm())


def _render_open(form, problem=None, status=200, carried=None, dropped=()):
    return (
        render_template(
            "intake/status_open.html",
            form=form,
            problem=problem,
            carried=carried or MultiDict(),
            dropped=list(dropped),
        ),
        status,
    )


def _render_thread(
    ctx, session, reply_form, status: int = 200, problem: str | None = None, dropped=()
):
    view = disclosures.discloser_view(ctx, session)
    try:
        proof = (
            disclosures.acknowledgement(ctx, session) if "acknowledge" in view.steps_done else None
        )
    except acknowledgements.NotAcknowledged:
        proof = None
    return (
        render_template(
            "intake/status.html",
            view=view,
            proof=proof,
            reply_form=reply_form,
            logout_form=EmptyForm(),
            limits=_limits(),
            problem=problem,
            dropped=list(dropped),
            statuses=STATUSES,
            status_meanings=workflow.status_meanings(view.regime),
            step_labels=workflow.STEP_DISCLOSER_LABELS,
        ),
        status,
    )


@bp.post("/status")
def status_post():
    ctx = portal_context()
    form = StatusForm()
    # A reply refused for an ended session travels with the receipt, to go back in its box.
    carried = carry.carried_back(request.form)
    if not form.validate():
        return _render_open(form, status=400, carried=carried)
    try:
        disclosures.check_receipt_typing(form.receipt.data)
    except disclosures.ReceiptTypo:
        return _render_open(
            form,
            "That code has a typing mistake in it: it does not match its own check "
            "character. Check each character and try again.",
            400,
            carried,
        )
    try:
        opened = disclosures.open_status(
            ctx, form.receipt.data, replacing=request.cookies.get(_status_cookie_name())
        )
    except (disclosures.StatusNotFound, disclosures.ReceiptTypo):
        return _render_open(
            form,
            "We could not open a disclosure with that code. Check it and try again.",
            400,
            carried,
        )
    cookie = opened.cookie
    if opened.new_receipt is not None:
        # An oral disclosure's first visit: the printed receipt was seen by the officer, so it is
        # replaced.
        page = render_template("intake/receipt_replaced.html", receipt=opened.new_receipt)
        return set_session_cookie(make_response(page), _status_cookie_name(), cookie)
    if carry.has_text(carried):
        # Answer with the thread itself, the message back in its box: the text is never stored to
        # survive a redirect.
        session = disclosures.resume_status(ctx, cookie)
        page, _ = _render_thread(
            ctx,
            session,
            ReplyForm(formdata=carried),
            problem=(
                "Your message is back in its box below. It has not been sent yet: "
                "check it, choose any files again, and send it."
            ),
        )
        return set_session_cookie(make_response(page), _status_cookie_name(), cookie)
    return set_session_cookie(
        redirect(url_for("discloser.status"), code=303), _status_cookie_name(), cookie
    )


@bp.post("/status/reply")
def status_reply():
    ctx = portal_context()
    session = disclosures.resume_status(ctx, request.cookies.get(_status_cookie_name()))
    if session is None:
        fields, dropped = _read_refused(ReplyForm.TEXT_FIELDS)
        carried = carry.typed_fields(fields)
        return _render_open(
            StatusForm(),
            "Your session ended after 10 minutes without activity, so your message "
            "was not sent. Open your disclosure again with your receipt code"
            + (": your message will be back in its box." if carry.has_text(carried) else "."),
            401,
            carried,
            dropped,
        )
    intake = form = None
    try:
        with (
            work_slots.upload(ctx.settings, request.content_length),
            disclosures.begin_reply(ctx, session) as intake,
        ):
            form = ReplyForm(formdata=_read_upload(intake, ReplyForm.TEXT_FIELDS))
            if form.validate():
                disclosures.complete_reply(
                    ctx,
                    intake,
                    form.message.data,
                    form.submission_token.data,
                    session_id=session.id,
                )
                return redirect(url_for("discloser.status") + "#thread", code=303)
    except work_slots.Busy as exc:
        return _busy(exc)
    except disclosures.Throttled as exc:
        body, _ = _render_thread(
            ctx,
            session,
            form,
            429,
            "You have sent as many messages as the portal accepts "
            "in one day. Your message was not sent: it is still in its box. Please send it "
            "tomorrow.",
            dropped=intake.file_names,
        )
        return too_many_requests(body, exc.retry_after)
    except disclosures.QuotaReached:
        return _render_thread(
            ctx,
            session,
            form,
            413,
            "This disclosure has reached the most messages and files "
            "the portal keeps for one case, so your message was not sent. The officers can see "
            "this; they can still write to you.",
            dropped=intake.file_names,
        )
    except submissions.AlreadySubmitted:
        return redirect(
            url_for("discloser.status") + "#thread", code=303
        )  # sent once already: it is there
    except TooLarge as exc:
        _drain_body()
        return _render_thread(
            ctx,
            session,
            ReplyForm(formdata=exc.fields),
            413,
            f"{exc.what} is too large. Your message was not sent.",
            dropped=intake.file_names if intake else (),
        )
    except MalformedForm:
        return _render_thread(
            ctx, session, ReplyForm(formdata=None), 400, "The form could not be read."
        )
    except disclosures.RefusedForNow:
        return _paused()
    return _render_thread(
        ctx,
        session,
        form,
        400,
        "Your message was not sent: please see below.",
        dropped=intake.file_names,
    )


@bp.get("/status/acknowledgement")
def acknowledgement():
    """The signed acknowledgement (proof of disclosure), once the disclosure has been
    acknowledged."""
    ctx = portal_context()
    session = disclosures.resume_status(ctx, request.cookies.get(_status_cookie_name()))
    if session is None:
        return redirect(url_for("discloser.status"), code=303)
    try:
        proof = disclosures.acknowledgement(ctx, session)
    except acknowledgements.NotAcknowledged:
        return (
            render_template(
                "error.html",
                title="Not acknowledged yet",
                message=(
                    "Your disclosure has not been acknowledged yet, so there is no signed "
                    "acknowledgement to download. Check again later."
                ),
            ),
            404,
        )
    response = Response(proof.file, mimetype="application/json")
    response.headers["Content-Disposition"] = f'attachment; filename="{proof.filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/signing-key")
def signing_key():
    """The installation's public signing key, to check acknowledgements with."""
    return render_template(
        "intake/signing_key.html", public_key=acknowledgements.public_key(portal_context())
    )


# Exempt from the CSRF check (app.py): closing always works, even from a page whose token went
# stale.
@bp.post("/status/logout")
def status_logout():
    ctx = portal_context()
    disclosures.close_status(ctx, request.cookies.get(_status_cookie_name()))
    return clear_session_cookie(
        redirect(url_for("discloser.signed_out"), code=303), _status_cookie_name()
    )


@bp.get("/status/signed-out")
def signed_out():
    return render_template("intake/status_signed_out.html")

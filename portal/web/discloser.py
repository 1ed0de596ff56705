"""The discloser's pages: landing, disclosure form, receipt, status by receipt, replies."""
from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from wtforms.fields.choices import SelectChoice

from portal import accounts, disclosures, throttle
from portal.app import portal_context
from portal.uploads import Limits, MalformedForm, TooLarge, read_multipart
from portal.web.forms import ConfirmReceiptForm, DiscloseForm, EmptyForm, ReplyForm, StatusForm
from portal.web.responses import clear_session_cookie, set_session_cookie, too_many_requests

bp = Blueprint("discloser", __name__)

RECEIPT_GUESSES_PER_MINUTE = 30


def _limits() -> Limits:
    s = portal_context().settings
    return Limits(text_bytes=s.max_text_bytes, file_bytes=s.max_attachment_bytes, total_bytes=s.max_submission_bytes)


def _status_cookie_name() -> str:
    return current_app.config["PORTAL_STATUS_COOKIE"]


def _disclose_form(formdata=None) -> DiscloseForm:
    form = DiscloseForm(formdata=formdata) if formdata is not None else DiscloseForm()
    form.channel.choices = [SelectChoice(c.name, c.name) for c in accounts.list_channels(portal_context(), with_officers_only=True)]
    return form


def _render_disclose(form: DiscloseForm, status: int = 200, problem: str | None = None):
    return render_template("disclose.html", form=form, problem=problem,
                           limits=_limits()), status


def _read_upload(intake, text_fields):
    """Stream the multipart body: text fields into memory, files through the intake's encryptors."""
    return read_multipart(request.stream, request.content_type or "", text_fields=text_fields,
                          file_fields=["attachments"], open_sink=intake.open_file, limits=_limits())


def _drain_body() -> None:
    # Read what is left of a rejected upload so the browser sees our answer, not a reset connection;
    # a body declared far beyond any limit is not worth reading: the connection is closed instead.
    if (request.content_length or 0) > 2 * portal_context().settings.max_submission_bytes:
        return
    while request.stream.read(1024 * 1024):
        pass


def _paused():
    _drain_body()
    return render_template("error.html", title="Disclosures are paused",
                           message="The portal cannot accept disclosures or messages right now because it is short "
                                   "of storage space. Nothing you sent was kept. Please try again later."), 503


@bp.get("/")
def index():
    return render_template("index.html")


@bp.get("/disclose")
def disclose_form():
    return _render_disclose(_disclose_form())


@bp.post("/disclose")
def disclose_post():
    ctx = portal_context()
    try:
        with disclosures.begin_disclosure(ctx) as intake:
            form = _disclose_form(_read_upload(intake, DiscloseForm.TEXT_FIELDS))
            if form.validate():
                receipt = disclosures.complete_disclosure(ctx, intake, form.data)
                return render_template("receipt.html", receipt=receipt, form=ConfirmReceiptForm(expected=receipt))
            files_dropped = bool(intake.files)
    except disclosures.RefusedForNow:
        return _paused()
    except disclosures.Throttled as exc:
        _drain_body()
        return too_many_requests(render_template(
            "error.html", title="Please wait a moment",
            message="The portal is receiving many disclosures just now. Nothing you sent was kept. "
                    "Please go back and send it again in a little while."), exc.retry_after)
    except TooLarge as exc:
        _drain_body()
        return _render_disclose(_disclose_form(exc.fields), 413,
                                f"{exc.what} is too large. Nothing was sent. Please choose smaller files.")
    except MalformedForm:
        return _render_disclose(_disclose_form(), 400, "The form could not be read. Please fill it in again.")
    # The form came back with problems: what was typed is kept; files cannot be, browsers never resend them.
    problem = None
    if form.csrf_token.errors:
        problem = ("For your safety the form needed refreshing. What you wrote is still here; "
                   "please choose any files again and send it once more.")
    elif files_dropped:
        problem = "Please correct the problems below, then choose your files again."
    return _render_disclose(form, 400, problem)


@bp.post("/disclose/confirm")
def confirm_receipt():
    form = ConfirmReceiptForm()
    expected = form.expected.data or ""
    if form.validate() and disclosures.receipt_matches(form.receipt.data, expected):
        return render_template("receipt_confirmed.html")
    return render_template("receipt.html", receipt=expected, form=ConfirmReceiptForm(expected=expected),
                           problem="That is not the same code. Compare each character and try again."), 400


@bp.get("/status")
def status():
    ctx = portal_context()
    session = disclosures.resume_status(ctx, request.cookies.get(_status_cookie_name()))
    if session is None:
        return render_template("status_open.html", form=StatusForm())
    return _render_thread(ctx, session, ReplyForm())


def _render_thread(ctx, session, reply_form, status: int = 200, problem: str | None = None):
    view = disclosures.discloser_view(ctx, session)
    return render_template("status.html", view=view, reply_form=reply_form, logout_form=EmptyForm(),
                           limits=_limits(), problem=problem), status


@bp.post("/status")
def status_post():
    ctx = portal_context()
    form = StatusForm()
    if not form.validate():
        return render_template("status_open.html", form=form), 400
    try:
        disclosures.check_receipt_typing(form.receipt.data)
    except disclosures.ReceiptTypo:
        return render_template("status_open.html", form=form,
                               problem="That code has a typing mistake in it: it does not match its own check "
                                       "character. Check each character and try again."), 400
    retry_after = throttle.hit(ctx.db, "receipt-guesses", RECEIPT_GUESSES_PER_MINUTE, 60)
    if retry_after is not None:
        return too_many_requests(render_template(
            "status_open.html", form=form,
            problem="Too many codes have been tried in the last minute. Please wait a moment and try again."),
            retry_after)
    try:
        cookie = disclosures.open_status(ctx, form.receipt.data)
    except (disclosures.StatusNotFound, disclosures.ReceiptTypo):
        return render_template("status_open.html", form=form,
                               problem="We could not open a disclosure with that code. Check it and try again."), 400
    return set_session_cookie(redirect(url_for("discloser.status"), code=303), _status_cookie_name(), cookie)


@bp.post("/status/reply")
def status_reply():
    ctx = portal_context()
    session = disclosures.resume_status(ctx, request.cookies.get(_status_cookie_name()))
    if session is None:
        _drain_body()
        return render_template("status_open.html", form=StatusForm(),
                               problem="Your session ended after 10 minutes without activity, so your message "
                                       "was not sent. Open your disclosure again with your receipt code."), 401
    try:
        with disclosures.begin_reply(ctx, session) as intake:
            form = ReplyForm(formdata=_read_upload(intake, ReplyForm.TEXT_FIELDS))
            if form.validate():
                disclosures.complete_reply(ctx, intake, form.message.data)
                return redirect(url_for("discloser.status") + "#thread", code=303)
    except TooLarge as exc:
        _drain_body()
        return _render_thread(ctx, session, ReplyForm(formdata=exc.fields), 413,
                              f"{exc.what} is too large. Your message was not sent.")
    except MalformedForm:
        return _render_thread(ctx, session, ReplyForm(formdata=None), 400, "The form could not be read.")
    except disclosures.RefusedForNow:
        return _paused()
    return _render_thread(ctx, session, form, 400, "Your message was not sent: please see below.")


@bp.post("/status/logout")
def status_logout():
    ctx = portal_context()
    disclosures.close_status(ctx, request.cookies.get(_status_cookie_name()))
    return clear_session_cookie(redirect(url_for("discloser.index"), code=303), _status_cookie_name())

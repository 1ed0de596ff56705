"""The discloser's status pages, opened by the receipt: the thread with the officers, replies, the
signed acknowledgement and the installation's signing key, and signing out."""

from __future__ import annotations

from flask import current_app, make_response, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import MultiDict

from portal.casework import acknowledgements, workflow
from portal.casework.categories import CATEGORIES, DISCLOSED_ELSEWHERE, FORMER_CATEGORIES
from portal.core.numbers import whole_number_or
from portal.guard import flood, submissions, upload_slots, work_slots
from portal.intake import case_status, receipts, receiving, replies
from portal.intake.uploads import MalformedForm, TooLarge
from portal.keys import roster_work
from portal.records.casefiles import STATUSES
from portal.web import carry, languages, page_marks
from portal.web.context import portal_context
from portal.web.fault_pages import form_page
from portal.web.forms import EmptyForm
from portal.web.intake import payment
from portal.web.intake.blueprint import bp
from portal.web.intake.forms import ReplyForm, StatusForm
from portal.web.intake.uploading import (
    PAUSED_RETRY_AFTER,
    busy,
    drain_body,
    not_read_whole,
    paused,
    paused_words,
    read_refused,
    read_text_before_files,
    read_upload,
    too_large,
    unread_rest,
    upload_limits,
    upload_slot,
    with_retry_after,
)
from portal.web.responses import clear_session_cookie, set_session_cookie, too_many_requests


def status_cookie_name() -> str:
    return current_app.config["PORTAL_STATUS_COOKIE"]


@bp.get("/status")
def status():
    ctx = portal_context()
    session = receipts.resume_status(ctx, request.cookies.get(status_cookie_name()))
    if session is None:
        return _render_open(StatusForm())[0]
    payment.give_ticket("status")
    notice = NOTICES.get(request.args.get("done", ""))
    return render_thread(ctx, session, ReplyForm(), notice=notice)


# What the page a discloser's action leads to says happened (CONTRACT.md [workspace]).
NOTICES = {
    "sent": (
        _l("Your message was sent. The integrity officers can read it now; it is the last of the"
        " messages below.")
    ),
    "handed": _l("The original was handed over: the integrity officers can download it now."),
    "not-handed": _l(
        "Nothing was handed over. To hand over an original, first tick the box beside it to say"
        " you understand what the officers will see."
    ),
    "consent": (
        _l("Your answer was recorded and signed with your receipt's key. The integrity officers can"
        " see it now.")
    ),
}


@bp.get("/status/messages")
def status_messages():
    """Earlier messages of the thread (`before`: the first message number not shown), within the
    opened status session (the receipt is never in a URL); a page of its own, so the status page's
    message box, in its own tab, keeps what is typed in it."""
    ctx = portal_context()
    session = receipts.resume_status(ctx, request.cookies.get(status_cookie_name()))
    before = whole_number_or(request.args.get("before"), 0, minimum=1) or None  # no overflow
    if session is None or before is None or before < 1:
        return redirect(url_for("discloser.status") + "#thread", code=303)
    page = case_status.earlier_messages(ctx, session, before)
    return render_template("intake/status_messages.html", page=page)


def _render_open(form, problem=None, status=200, carried=None, dropped=(), keep=False):
    return (
        render_template(
            "intake/status_open.html",
            form=form,
            proof=payment.offer("status", keep_ticket=keep),
            problem=problem,
            carried=carried or MultiDict(),
            dropped=list(dropped),
        ),
        status,
    )


def render_thread(
    ctx,
    session,
    reply_form,
    status: int = 200,
    problem: str | None = None,
    dropped=(),
    notice: str | None = None,
):
    page_marks.showing_disclosure(session.subject)
    view = case_status.discloser_view(ctx, session)
    return (
        render_template(
            "intake/status.html",
            view=view,
            reply_form=reply_form,
            logout_form=EmptyForm(),
            limits=upload_limits(),
            problem=problem,
            notice=notice,
            dropped=list(dropped),
            statuses=STATUSES,
            status_meanings=workflow.status_meanings(view.regime),
            step_labels=workflow.STEP_DISCLOSER_LABELS,
            categories={**FORMER_CATEGORIES, **CATEGORIES},
            elsewhere=DISCLOSED_ELSEWHERE,
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
        receipts.check_receipt_typing(form.receipt.data)
    except receipts.ReceiptTypo:
        return _render_open(
            form,
            _l("That code has a typing mistake in it: it does not match its own check "
            "character. Check each character and try again."),
            400,
            carried,
        )
    try:
        paid = payment.collect("status", request.form)  # paid for before the derivation
    except (flood.NotPaid, flood.NotYet) as exc:
        wait = payment.retry_after(exc, "status")
        body, _ = _render_open(form, payment.come_back_message(wait, exc), 503, carried,
                               keep=isinstance(exc, flood.NotYet))
        return payment.again(body, wait)
    try:
        opened = receipts.open_status(
            ctx,
            form.receipt.data,
            replacing=request.cookies.get(status_cookie_name()),
            lane=paid == "lane",
        )
    except (receipts.StatusNotFound, receipts.ReceiptTypo):
        return _render_open(
            form,
            _l("We could not open a disclosure with that code. Check it and try again."),
            400,
            carried,
        )
    except work_slots.Busy as exc:  # every receipt place taken: the receipt back, not a bare page
        flood.note(ctx, "busy")
        return payment.again(_render_open(form, payment.BUSY, 503, carried)[0], exc.retry_after)
    cookie = opened.cookie
    if opened.new_receipt is not None:
        # An oral disclosure's first visit: the printed receipt was seen by the officer, so it is
        # replaced.
        page = render_template("intake/receipt_replaced.html", receipt=opened.new_receipt)
        return set_session_cookie(make_response(page), status_cookie_name(), cookie)
    if carry.has_text(carried):
        # Answer with the thread itself, the message back in its box: the text is never stored to
        # survive a redirect.
        session = receipts.resume_status(ctx, cookie)
        page, _ = render_thread(
            ctx,
            session,
            ReplyForm(formdata=carried),
            problem=(
                _l("Your message is back in its box below. It has not been sent yet: "
                "check it, choose any files again, and send it.")
            ),
        )
        return set_session_cookie(make_response(page), status_cookie_name(), cookie)
    return set_session_cookie(
        redirect(url_for("discloser.status"), code=303), status_cookie_name(), cookie
    )


class _OtherDisclosure(Exception):
    def __init__(self, carried: MultiDict):
        self.carried = carried


def other_disclosure(carried: MultiDict, dropped=(), what: str = "form"):
    """The two-tab rule (portal.web.page_marks): a form from the page of another disclosure than
    the one now open in this browser does nothing; its text goes with the receipt page."""
    return _render_open(
        StatusForm(),
        f"Nothing was done: this {what} was on the page of another disclosure than the one now "
        "open in this browser (perhaps you opened a second one in another tab). Open the one "
        "you wrote it for with its receipt code"
        + (": your message will be back in its box." if carry.has_text(carried) else "."),
        409,
        carried,
        dropped,
    )


@form_page("discloser.status_reply")
def _reply_after_fault(formdata, problem: str):
    ctx = portal_context()
    session = receipts.resume_status(ctx, request.cookies.get(status_cookie_name()))
    if session is None:
        raise LookupError("no status session: the plain fault page shows the text")
    return render_thread(ctx, session, ReplyForm(formdata=formdata), 503, problem)


def _reply_not_kept(ctx, session, fields, problem: str, dropped, retry_after: int):
    """503 for a message the portal did not take, its text back in its box, before the end of its
    body was read (unread_rest)."""
    body, _ = render_thread(ctx, session, ReplyForm(formdata=fields), 503, problem, dropped=dropped)
    return unread_rest(with_retry_after(body, 503, retry_after))


@bp.post("/status/reply")
def status_reply():
    ctx = portal_context()
    session = receipts.resume_status(ctx, request.cookies.get(status_cookie_name()))
    if session is None:
        fields, dropped = read_refused(ReplyForm.TEXT_FIELDS)
        carried = carry.typed_fields(fields)
        return _render_open(
            StatusForm(),
            _l("Your session ended after 10 minutes without activity, so your message "
            "was not sent. Open your disclosure again with your receipt code")
            + (": your message will be back in its box." if carry.has_text(carried) else "."),
            401,
            carried,
            dropped,
        )
    intake = form = None
    try:
        with (
            upload_slot() as holder,
            replies.begin_reply(ctx, session, request.content_length or 0) as intake,
        ):
            fields = read_upload(intake, ReplyForm.TEXT_FIELDS, holder)
            if not page_marks.disclosure_is_current(fields.get(page_marks.FIELD), session.subject):
                raise _OtherDisclosure(carry.typed_fields(fields))
            form = ReplyForm(formdata=fields)
            if languages.switched(form, fields):  # the language button: the page again, kept
                return render_thread(ctx, session, form, dropped=intake.file_names)
            if form.validate():
                replies.complete_reply(
                    ctx,
                    intake,
                    form.message.data,
                    form.submission_token.data,
                    session_id=session.id,
                    strip_metadata=form.strip_metadata.data,
                )
                return redirect(url_for("discloser.status", done="sent") + "#notice", code=303)
    except upload_slots.Preempted as exc:
        return _reply_not_kept(
            ctx,
            session,
            exc.fields,
            _l("Your files arrived too slowly while others were waiting to send theirs, so your"
            " message was not sent: it is still in its box. Please choose any files again and"
            " send it in a minute."),
            intake.file_names,
            exc.retry_after,
        )
    except work_slots.Busy as exc:
        if intake is not None:
            return busy(exc)
        # Every upload slot is taken: the text is read (not the files) and comes back.
        fields, names = read_text_before_files(ReplyForm.TEXT_FIELDS)
        return _reply_not_kept(
            ctx,
            session,
            fields,
            _l("Many people are sending files just now, so your message was not sent and your files"
            " were not kept. Your message is still in its box: please choose any files again and"
            " send it in a minute."),
            names,
            exc.retry_after,
        )
    except _OtherDisclosure as exc:
        return other_disclosure(exc.carried, intake.file_names)
    except receiving.Throttled as exc:
        problem = _l("You have sent as many messages as the portal accepts "
            "in one day. Your message was not sent: it is still in its box. Please send it "
            "tomorrow.")  # fmt: skip
        body, _ = render_thread(ctx, session, form, 429, problem, dropped=intake.file_names)
        return too_many_requests(body, exc.retry_after)
    except replies.QuotaReached:
        return render_thread(
            ctx,
            session,
            form,
            413,
            _l("This disclosure has reached the most messages and files "
            "the portal keeps for one case, so your message was not sent. The officers can see "
            "this; they can still write to you."),
            dropped=intake.file_names,
        )
    except submissions.AlreadySubmitted:  # sent once already: it is there
        return redirect(url_for("discloser.status") + "#thread", code=303)
    except TooLarge as exc:
        drain_body()
        return render_thread(
            ctx,
            session,
            ReplyForm(formdata=exc.fields),
            413,
            gettext("%(too_large)s Your message was not sent.", too_large=too_large(exc)),
            dropped=intake.file_names if intake else (),
        )
    except MalformedForm as exc:  # one that stopped part way gives back the message sent first
        typed, problem = not_read_whole(exc, _l("Your message is still in its box"))
        form, files = ReplyForm(formdata=typed or None), intake.file_names if intake else ()
        body, _ = render_thread(ctx, session, form, 400, problem, dropped=files)
        return unread_rest(make_response(body, 400))
    except receiving.RefusedForNow as exc:
        if intake is None:  # short of space before anything was read: the text is read now
            return paused(ReplyForm.TEXT_FIELDS)
        return _reply_not_kept(
            ctx,
            session,
            exc.fields,
            paused_words(intake, "reply"),
            intake.file_names,
            PAUSED_RETRY_AFTER,
        )
    if form.csrf_token.errors and not carry.same_origin():
        # As /disclose answers it: never fill the box with text another site chose.
        return render_thread(ctx, session, ReplyForm(formdata=None), 400, REFRESHED)
    problem = REFRESHED_KEPT if form.csrf_token.errors else SEE_BELOW
    return render_thread(ctx, session, form, 400, problem, dropped=intake.file_names)


SEE_BELOW = _l("Your message was not sent: please see below.")
# A bad or missing CSRF token, in plain words (portal.web.intake.disclose says the same).
REFRESHED = _l("For your safety the form needed refreshing, so your message was not sent."
               " Please write it and send it again.")  # fmt: skip
REFRESHED_KEPT = _l("For your safety the form needed refreshing, so your message was not sent."
                    " It is still in its box: please choose any files again and send it once"
                    " more.")  # fmt: skip


# Exempt from the CSRF check (app.py): closing always works, even from a page whose token went
# stale.
@bp.post("/status/logout")
def status_logout():
    # The cookie goes even when a storage fault kept the server half (receipts.close_status).
    ended = receipts.close_status(portal_context(), request.cookies.get(status_cookie_name()))
    target = url_for("discloser.signed_out", unrecorded=None if ended else 1)
    return clear_session_cookie(redirect(target, code=303), status_cookie_name())


@bp.get("/status/signed-out")
def signed_out():
    minutes = portal_context().settings.discloser_idle_seconds // 60
    return render_template("intake/status_signed_out.html", unrecorded_minutes=minutes
                           if request.args.get("unrecorded") else None)

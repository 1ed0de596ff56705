"""The discloser's first pages: the landing page, security.txt, the disclosure form and its
receipt."""

from __future__ import annotations

import datetime as dt

from flask import Response, abort, make_response, render_template, request
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from wtforms.fields.choices import SelectChoice

from portal.guard import flood, submissions, upload_slots, work_slots
from portal.intake import case_status, cases, receipts, receiving
from portal.intake.uploads import MalformedForm, TooLarge
from portal.keys import channels, conflicts
from portal.web import carry, languages
from portal.web.context import portal_context
from portal.web.fault_pages import form_page
from portal.web.forms import CHOOSE
from portal.web.intake import payment
from portal.web.intake.blueprint import bp
from portal.web.intake.forms import ConfirmReceiptForm, DiscloseForm
from portal.web.intake.uploading import (
    BUSY_NOT_KEPT,
    PAUSED_RETRY_AFTER,
    SLOW_NOT_KEPT,
    drain_body,
    not_read_whole,
    paused,
    paused_words,
    read_text_before_files,
    read_upload,
    too_large,
    unread_rest,
    upload_limits,
    upload_slot,
    with_retry_after,
)
from portal.web.responses import too_many_requests


def _disclose_form(formdata=None) -> DiscloseForm:
    # The language the page is shown in is the first guess; the discloser may change it or say
    # nothing (issue 28). A form sent without the field keeps that guess.
    written = languages.written_choices()
    page = languages.page_language()
    first = page if page in dict(written) else ""
    form = (
        DiscloseForm(formdata=formdata, language=first)
        if formdata is not None
        else DiscloseForm(language=first)
    )
    form.language.choices = [SelectChoice("", _l("I would rather not say"))] + [
        SelectChoice(code, name, render_kw={"lang": code}) for code, name in written
    ]
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


def _render_disclose(
    form: DiscloseForm, status: int = 200, problem: str | None = None, dropped=(), keep=False,
    declared=0,
):
    ctx = portal_context()
    return (
        render_template(
            "intake/disclose.html",
            form=form,
            proof=payment.offer("disclose", keep_ticket=keep, declared_bytes=declared),
            problem=problem,
            dropped=list(dropped),
            limits=upload_limits(),
            channels=channels.list_channels(ctx, with_officers_only=True),
            readers=channels.readers_by_channel(ctx),
        ),
        status,
    )


@form_page("discloser.disclose_post")
def _disclose_after_fault(formdata, problem: str):
    return _render_disclose(_disclose_form(formdata), 503, problem)


def _not_kept(fields, problem: str, dropped, retry_after: int) -> Response:
    """503 for a disclosure the portal did not take, its text given back, before the end of its
    body was read (unread_rest)."""
    body, _ = _render_disclose(_disclose_form(fields), 503, problem, dropped=dropped)
    return unread_rest(with_retry_after(body, 503, retry_after))


def _bytes_to_check(intake) -> int:
    """The bytes a disclosure's proof pays for (proofs.check_bits): its Content-Length, or what
    its body came to when more (a chunked body declares none: declared small, sent big)."""
    return max(request.content_length or 0, intake.body_bytes if intake is not None else 0)


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
            upload_slot() as holder,
            receiving.begin_disclosure(ctx, request.content_length or 0) as intake,
        ):
            fields = read_upload(intake, DiscloseForm.TEXT_FIELDS, holder)
            form = _disclose_form(fields)
            if languages.switched(form, fields):  # the language button: the form again, kept
                return _render_disclose(form, dropped=intake.file_names)
            if form.validate():
                # Paid for before the receipt's derivation, and for the bytes it asks to check.
                paid = payment.collect("disclose", fields, _bytes_to_check(intake))
                receipt = cases.complete_disclosure(
                    ctx,
                    intake,
                    form.data,
                    form.submission_token.data,
                    excluded=form.exclude.data or (),
                    paid=paid,  # the day's budget, spent in the case's own transaction
                )
                return render_template(
                    "intake/receipt.html",
                    receipt=receipt,
                    form=ConfirmReceiptForm(expected=receipt),
                    answer_by=case_status.answer_expected_by(ctx, form.channel.data),
                    file_reports=intake.file_reports,
                )
    except submissions.AlreadySubmitted:
        # The same form again (a reload of the receipt page, Back then Send, a double click). The
        # receipt is never stored, so it cannot be shown again; a second receipt would be wrong.
        return render_template("intake/already_received.html"), 409
    except cases.NoReceiver:
        form.channel.errors = [_l("Please choose who should receive it.")]
        return _render_disclose(form, 400, dropped=intake.file_names)
    except cases.NoVerifiedReader:
        # The channel's signed roster admits none of its officers' keys (its officers are warned):
        # nothing is stored, and what was typed comes back to send later.
        body, status = _render_disclose(
            form,
            503,
            _l(
                "This channel cannot receive disclosures safely just now: its officers have been"
                " told. Nothing was kept. Your text is below, so you can send it later or choose"
                " another channel."
            ),
            dropped=intake.file_names,
        )
        response = make_response(body, status)
        response.headers["Retry-After"] = "3600"
        return response
    except conflicts.ExcludedEveryone as exc:
        form.exclude.errors = [str(exc)]
        return _render_disclose(form, 400, dropped=intake.file_names)
    except receiving.RefusedForNow as exc:
        if intake is None:  # short of space before anything was read: the text is read now
            return paused(DiscloseForm.TEXT_FIELDS)
        # The free-space floor: the text was read and comes back; the files were thrown away.
        return _not_kept(
            exc.fields, paused_words(intake, "disclosure"), intake.file_names, PAUSED_RETRY_AFTER
        )
    except upload_slots.Preempted as exc:
        # Sent below the useful rate while another upload waited for its slot.
        return _not_kept(exc.fields, SLOW_NOT_KEPT, intake.file_names, exc.retry_after)
    except (flood.NotPaid, flood.NotYet) as exc:
        wait = payment.retry_after(exc, "disclose")
        body, _ = _render_disclose(
            form,
            503,
            payment.come_back_message(wait, exc, files=True),
            dropped=intake.file_names,
            keep=payment.keeps_ticket(exc),
            declared=_bytes_to_check(intake),
        )
        return with_retry_after(body, 503, wait)
    except receiving.Throttled as exc:
        # Only a valid form with files or long text gets here: the disclosers' byte budget for today
        # is spent.
        body, _ = _render_disclose(
            form,
            429,
            _l(
                "The portal has received as much as it can store today. "
                "Nothing was kept yet. You can send your disclosure now without the files "
                "(and, if it is very long, with a shorter account of up to 16,000 characters), "
                "and add the rest later from your status page, or try again tomorrow."
            ),
            dropped=intake.file_names,
        )
        return too_many_requests(body, exc.retry_after)
    except work_slots.Busy as exc:
        flood.note(ctx, "busy")  # a day's count for the officers' console
        if intake is None:  # every upload slot taken: the text is read, the files are not
            fields, names = read_text_before_files(DiscloseForm.TEXT_FIELDS)
            return _not_kept(fields, BUSY_NOT_KEPT, names, exc.retry_after)
        body, _ = _render_disclose(
            form,
            503,
            _l(
                "The portal is very busy just now, so your disclosure was not stored. "
                "What you wrote is still here: please choose any files again and send it "
                "in a minute."
            ),
            dropped=intake.file_names,
        )
        return with_retry_after(body, 503, exc.retry_after)
    except TooLarge as exc:
        drain_body()
        return _render_disclose(
            _disclose_form(exc.fields),
            413,
            gettext("%(too_large)s Nothing was sent. Please choose smaller files.",
               too_large=too_large(exc)),  # fmt: skip
            dropped=intake.file_names if intake else (),
        )
    except MalformedForm as exc:
        # A body that stopped part way (a stall, a connection closed early) gives back the text,
        # which comes before the files; the files do not come back.
        typed, problem = not_read_whole(exc, _l("What you wrote is below"))
        files = intake.file_names if intake else ()
        body, _ = _render_disclose(_disclose_form(typed or None), 400, problem, dropped=files)
        return unread_rest(make_response(body, 400))
    # The form came back with problems: what was typed is kept; files cannot be, browsers never
    # resend them.
    problem = None
    if form.csrf_token.errors:
        if not carry.same_origin():
            # Not from our own page: never fill the form with text someone else chose.
            return _render_disclose(
                _disclose_form(),
                400,
                _l(
                    "For your safety the form needed refreshing. Please fill it in and send it"
                    " again."
                ),
            )
        problem = _l(
            "For your safety the form needed refreshing. What you wrote is still here; "
            "please choose any files again and send it once more."
        )
    elif intake.file_names:
        problem = _l("Please correct the problems below, then choose your files again.")
    return _render_disclose(form, 400, problem, dropped=intake.file_names)


@bp.post("/disclose/confirm")
def confirm_receipt():
    form = ConfirmReceiptForm()
    expected = form.expected.data or ""
    if languages.switched(form, request.form):  # the receipt again, in the language chosen
        return render_template("intake/receipt.html", receipt=expected, form=form)
    if form.validate() and receipts.receipt_matches(form.receipt.data, expected):
        return render_template("intake/receipt_confirmed.html")
    if form.csrf_token.errors and not carry.same_origin():
        abort(400)  # never show a code that another site chose as someone's receipt
    return (
        render_template(
            "intake/receipt.html",
            receipt=expected,
            form=ConfirmReceiptForm(expected=expected),
            problem=_l("That is not the same code. Compare each character and try again."),
        ),
        400,
    )

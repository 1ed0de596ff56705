"""The case page in the console, its attachments, and the way every case form comes back to it
(`render_case`, `case_action`, also used by the oral and confidentiality views)."""

from __future__ import annotations

from urllib.parse import quote

from flask import Response, g, redirect, render_template, request, stream_with_context, url_for
from flask_babel import gettext

from portal.casework import (
    acknowledging,
    authority_contacts,
    case_identity,
    consent,
    file_copies,
    identity_releases,
    notes,
    queue_rows,
    referrals,
    triage,
    workflow,
)
from portal.casework.categories import CATEGORIES, DISCLOSED_ELSEWHERE, FORMER_CATEGORIES
from portal.core.words import N_, in_sentence
from portal.guard import submissions
from portal.intake import field_rules, referred_in, replies, sealed
from portal.keys import conflicts
from portal.records.casefiles import STATUSES
from portal.web.casework.blueprint import bp
from portal.web.casework.case_forms import (
    assign_form,
    member_form,
    referral_form,
    status_form,
    step_form,
)
from portal.web.casework.forms import (
    AcknowledgeForm,
    CaseExportForm,
    ExtensionForm,
    IdentityReleaseForm,
    NoteForm,
    OfficerReplyForm,
    OralConfirmForm,
)
from portal.web.console_session import resume_with_text, signed_in
from portal.web.context import portal_context
from portal.web.forms import EmptyForm
from portal.web.languages import day_words, said, translated, written_choices


def render_case(ref: str, problem=None, code=200, **forms):
    """The case page; `forms` replaces any of its forms (reply, acknowledge, status, step,
    extension, assign, note, referral, identity, export, oral). The `done` GET parameter names
    the action just done, confirmed at the top of the page (NOTICES)."""
    ctx = portal_context()
    view = triage.read_case(ctx, g.who, ref, audited=code == 200)
    case_id = view.case.id
    assigned = triage.assignee(ctx, case_id)
    forms = {
        "reply_form": OfficerReplyForm(),
        "ack_form": AcknowledgeForm(
            message=translated(
                acknowledging.opening_message(
                    view.case.received_day, view.clock.regime, view.case.status, day_words
                )
            )
        ),
        "status_form": status_form(status=view.case.status),
        "extension_form": ExtensionForm(),
        "step_form": step_form(),
        "assign_form": assign_form(ctx, case_id, officer=str(assigned.id) if assigned else ""),
        "note_form": NoteForm(),
        "referral_form": referral_form(ctx),
        "member_referral_form": member_form(),
        "identity_form": IdentityReleaseForm(),
        "export_form": CaseExportForm(),
        "oral_form": OralConfirmForm(),
        **forms,
    }
    for name, form in forms.items():
        _own_ids(form, name.removesuffix("_form"))
    releases, consent_questions = case_identity.identity_record(ctx, g.who, ref)
    reader_ids = [r.id for r in triage.reader_accounts(ctx, case_id)]
    case_referrals = referrals.read_referrals(ctx, g.who, case_id)
    oral_record = triage.oral_record(ctx, g.who, ref)
    notice = None
    if code == 200:
        notice = case_notice(request.args.get("done", ""), view, assigned, case_referrals, releases)
    return (
        render_template(
            "casework/case.html",
            view=view,
            problem=problem,
            notice=notice,
            due_now=due_now(view, oral_record),
            forms=forms,
            assignee=assigned,
            former_assignee=triage.former_assignee(ctx, case_id),
            discloser_quota=replies.case_quota(ctx, case_id),
            excluded=conflicts.excluded_officers(ctx, case_id, g.who.account.id, g.who.private_key),
            interests=conflicts.interests_of(ctx, reader_ids),
            notes=notes.read_notes(ctx, g.who, case_id),
            referrals=case_referrals,
            authorities=referrals.list_authorities(ctx),
            authority_contacts=authority_contacts.contacts(ctx),
            identity_releases=releases,
            consent_questions=consent_questions,
            oral_record=oral_record,
            referred_in=referred_in.is_referred_in(ctx, case_id),
            file_details=file_copies.file_details(ctx, g.who, ref),
            confirm_form=EmptyForm(),
            grounds=identity_releases.GROUNDS,
            categories={**FORMER_CATEGORIES, **CATEGORIES},
            elsewhere=DISCLOSED_ELSEWHERE,
            field_problems=browser_field_problems(view),
            statuses=STATUSES,
            step_statuses=_statuses_by_step(),
            regime_names=workflow.REGIME_NAMES,
            deadline_names=workflow.DEADLINE_NAMES,
            withheld=triage.CONTACT_WITHHELD,
            **forms,
        ),
        code,
    )


def browser_field_problems(view: triage.CaseView) -> dict:
    """For a case sealed in the discloser's browser, each field the disclosure form would have
    refused, with why (portal.intake.field_rules): the server never saw them before they were
    stored. {} for a case the server sealed from the form, which validated it then."""
    if view.case.sealed_by != sealed.BROWSER:
        return {}
    withheld = [name for name, value in view.fields.items() if value == triage.CONTACT_WITHHELD]
    offered = [code for code, _ in written_choices()]
    return field_rules.field_problems(view.fields, offered, skip=withheld)


def _own_ids(form, prefix: str) -> None:
    """Give each field of one of the page's forms an id of its own (`prefix-name`), so no two forms
    share an id and each label points into its own form; the names posted stay the same."""
    for f in form:
        f.id = f"{prefix}-{f.name}"
        f.label.field_id = f.id


def due_now(view, oral_record) -> str:
    """What the case's one primary action is: 'oral' (confirm an oral record, which acknowledges),
    'acknowledge' (a case whose s 13(1)(a) step is not done) or 'status' (set the status)."""
    done = {s.step for s in view.clock.steps if s.day}
    if oral_record is not None and not oral_record.confirmed_day:
        return "oral"
    if "acknowledge" not in done:
        return "acknowledge"
    return "status"


# What the page an officer's action leads to says happened, and what the discloser now sees
# (CONTRACT.md [workspace]): `done` key -> text, filled from the case as it is now.
NOTICES = {
    "acknowledged": N_(
        "The case is acknowledged: your message was sent, the status is now %(status)s and s"
        " 13(1)(a) is recorded as done today. The discloser now sees your message, the status and"
        " the date it was acknowledged on their status page, and can keep a signed proof of"
        " disclosure."
    ),
    "reply": N_(
        "Your reply was sent. The discloser sees it first on their status page, as a new message."
    ),
    "progress": N_(
        "Your reply was sent and recorded as a progress update under s 13(2). The discloser sees"
        " it first on their status page, as a new message."
    ),
    "status": N_(
        "The status is now %(status)s. The discloser now sees it on their status page, with any"
        " reason and expected timeframe you gave."
    ),
    "step": N_(
        "The step was recorded as done today. The discloser sees it in the list of what has"
        " happened so far on their status page."
    ),
    "extension": N_(
        "The extension was recorded (s 13(2)). The discloser now sees the timeframe you gave, and"
        " your progress updates are due on the clock."
    ),
    "assigned": N_("The case is now assigned to %(assignee)s. The discloser does not see who."),
    "note": N_("Your note was added. Only this case's readers see it; the discloser never does."),
    "referral": N_(
        "The case was referred to %(authority)s (s 16). The discloser now sees the authority's"
        " name, how to contact it and your reason, and no longer a date by which to hear from"
        " you. You still owe them word of what was done (s 13(1)(e))."
    ),
    "release": N_(
        "The release to %(recipient)s was recorded. The discloser now sees on their status page"
        " to whom their identity was given, and why."
    ),
    "release-confirmed": N_(
        "You confirmed the release to %(recipient)s. The discloser now sees on their status page"
        " to whom their identity was given, and why."
    ),
    "oral": N_(
        "The oral record is confirmed and your summary was sent. The discloser now sees it as a"
        " message, and the disclosure as acknowledged."
    ),
}
# "release" while the release waits for a second officer.
RELEASE_WAITING = N_(
    "The release to %(recipient)s was recorded, waiting for a second officer to confirm it. The"
    " discloser will see on their status page to whom their identity was given, and why, once it"
    " is confirmed."
)

# A referral made with no contact to give (the head of an organisation, its contact left empty).
REFERRAL_NO_CONTACT = N_(
    "The case was referred to %(authority)s (s 16). The discloser now sees the authority's name and"
    " your reason, but no contact for it: they are told to look up its official website or ask"
    " the Ombudsman. They no longer see a date by which to hear from you. You still owe them word"
    " of what was done (s 13(1)(e))."
)


def case_notice(done: str, view, assigned, case_referrals, releases) -> str | None:
    """The one-time confirmation for the `done` key, or None for none (or an unknown key), in
    the page's language."""
    text = NOTICES.get(done)
    if text is None:
        return None
    latest_release = releases[-1] if releases else None
    if done == "release" and latest_release and latest_release.state != "released":
        text = RELEASE_WAITING
    if done == "referral" and case_referrals and case_referrals[-1].contact == "":
        text = REFERRAL_NO_CONTACT
    # The queue's few words: "No further action", not a bare "Closed" that two statuses share.
    status = queue_rows.SHORT_STATUSES.get(view.case.status)
    return gettext(
        text,
        status=gettext(status) if status else gettext(view.case.status_label).split(":")[0],
        assignee=assigned.name if assigned else gettext("nobody"),
        authority=(
            in_sentence(case_referrals[-1].authority) if case_referrals else gettext("an authority")
        ),
        recipient=latest_release.recipient if latest_release else gettext("the recipient"),
    )


def _statuses_by_step() -> dict[str, list[str]]:
    """For the checklist: which statuses record each step when set, in the page's language."""
    by_step: dict[str, list[str]] = {}
    for status, steps in workflow.STATUS_STEPS.items():
        for step in steps:
            # The short words, one per status: "No further action, Closed", never "Closed, Closed".
            by_step.setdefault(step, []).append(gettext(queue_rows.SHORT_STATUSES[status]))
    # The discloser reads an outcome's reason: that informs them (s 13(1)(e)).
    *first, last = (gettext(queue_rows.SHORT_STATUSES[s]) for s in workflow.INFORMING_STATUSES)
    by_step["inform"] = [
        gettext(
            "%(first)s or %(last)s, each given with a reason", first=", ".join(first), last=last
        )
    ]
    return by_step


@bp.get("/cases/<ref>")
@signed_in("officer")
def case(ref: str):
    return render_case(ref)


@bp.get("/cases/<ref>/messages")
@signed_in("officer")
def case_messages(ref: str):
    """Earlier messages of a long case (`before`: the first message number not shown), a page of
    their own: the case page's reply form, in its own tab, keeps what is typed in it."""
    before = request.args.get("before", type=int)
    case, page = triage.read_earlier_messages(portal_context(), g.who, ref, before)
    if page is None:
        return redirect(url_for("console.case", ref=ref) + "#thread", code=303)
    return render_template("casework/case_messages.html", case=case, page=page)


@bp.get("/cases/<ref>/attachments/<attachment_id>")
@signed_in("officer")
def attachment(ref: str, attachment_id: str):
    meta, chunks = triage.download(portal_context(), g.who, ref, attachment_id)
    return download_response(meta.name, meta.size, chunks)


def download_response(name: str, size: int | None, chunks) -> Response:
    """A discloser's file as a download (never shown in the console); `size` None: no
    Content-Length (a file sealed in a browser, whose stated size is not trusted)."""
    fallback = "".join(
        ch if ch.isascii() and (ch.isalnum() or ch in "._- ") else "_" for ch in name
    )
    response = Response(stream_with_context(chunks), mimetype="application/octet-stream")
    response.headers["Content-Disposition"] = (
        f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"
    )
    if size is not None:
        response.headers["Content-Length"] = str(size)
    # A discloser's HTML or SVG must never run in the console, even if opened directly.
    response.headers["Content-Security-Policy"] = "sandbox"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def back_to_case(ref: str, done: str):
    """Post/redirect/get: the case page, confirming what was `done` (a NOTICES key) under its
    heading, at the top of the page."""
    return redirect(url_for("console.case", ref=ref, done=done), code=303)


def case_action(
    ref: str, form_name: str, form, error_field: str, problem: str, action, done
):
    """Validate a case form, run `action(form)`, and come back to the case confirming `done` (a
    NOTICES key, or a function of the form giving one); on a refusal the page returns with what was
    typed and the reason under `error_field`. The same one-time form sent again
    (submissions.AlreadySubmitted) did its work the first time: back to the case, confirmed."""
    if form.validate():
        try:
            action(form)
        except submissions.AlreadySubmitted:
            pass
        except (
            triage.StatusError,
            workflow.WorkflowError,
            notes.NoteError,
            referrals.ReferralError,
            consent.IdentityError,
        ) as exc:
            # A refusal naming its own field (referrals.ReferralError.field) is shown there.
            getattr(form, getattr(exc, "field", "") or error_field).errors = [said(exc)]
            return render_case(ref, problem=problem, code=400, **{form_name: form})
        return back_to_case(ref, done(form) if callable(done) else done)
    return render_case(ref, problem=problem, code=400, **{form_name: form})


def resume_case_form(endpoint: str, form_name: str, make_form, what: str) -> None:
    """After a sign-in, the case page with the text carried from the form posted to `endpoint` back
    in `form_name` (`make_form(formdata)` builds it); `what` says what has not happened yet."""

    @resume_with_text(endpoint)
    def _resume(ref: str, formdata):
        return render_case(ref, problem=what, **{form_name: make_form(formdata)})

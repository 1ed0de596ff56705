"""The officers' console: sign-in, inbox, case, attachments, reply, status. Administrators sign in
here too."""

from __future__ import annotations

import functools
from urllib.parse import quote

from typing import Callable

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    g,
    make_response,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_wtf.csrf import CSRFError
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RequestRedirect
from wtforms.fields.choices import SelectChoice

from portal.keys import conflicts, credentials, enrolment, memberships
from portal.intake import disclosures
from portal.casework import identity, notes, queue, referrals, triage, workflow
from portal.guard import submissions, throttle
from portal.web.context import portal_context
from portal.records.casefiles import STATUSES
from portal.intake.disclosures import CATEGORIES, DISCLOSED_ELSEWHERE, FORMER_CATEGORIES
from portal.core.numbers import whole_number_or
from portal.web import carry
from portal.web.keys.confirm import passphrase_confirmed
from portal.web.forms import (
    AssignForm,
    CaseExportForm,
    EmptyForm,
    ExtensionForm,
    IdentityReleaseForm,
    InterestForm,
    LoginForm,
    NoteForm,
    OfficerReplyForm,
    OralConfirmForm,
    ReferralForm,
    StatusChangeForm,
    StepForm,
)
from portal.web.responses import (
    clear_session_cookie,
    set_device_cookie,
    set_session_cookie,
    too_many_requests,
)

bp = Blueprint("console", __name__, url_prefix="/console")


def _device_cookie_name() -> str:
    return current_app.config["PORTAL_DEVICE_COOKIE"]


def _paused_message(exc: "triage.SignInPaused") -> str:
    minutes = max(1, -(-exc.retry_after // 60))
    wait = f"{minutes} minute{'s' if minutes != 1 else ''}"
    if exc.locked:
        return (
            f"Sign-in with this email address is locked for {wait} after too many failed attempts."
            " Nothing is wrong with your account. If you did not make these attempts, tell your"
            " administrator; a browser you have signed in with before is not affected."
        )
    return f"Too many failed sign-in attempts. Please wait {wait} and try again."


# How to show a form's page again with text carried through a sign-in (portal.web.carry): the POST
# endpoint's name -> a function of its URL arguments and the carried form data, giving a response.
_RESUMES: dict[str, Callable[..., object]] = {}


def resume_with_text(endpoint: str):
    """Register how the page of the form posted to `endpoint` is shown with carried text in its
    boxes.

    The function takes the endpoint's URL arguments and `formdata` (the carried fields); g.who is
    set.
    """

    def register(render):
        _RESUMES[endpoint] = render
        return render

    return register


def _cookie_name() -> str:
    return current_app.config["PORTAL_CONSOLE_COOKIE"]


def signed_in(role: str | tuple[str, ...] | None = None):
    """Require a live console session (and a role, or one of several); the session's key is in g.who
    for this
    request only. Any other role gets 404, as for a page that does not exist."""
    roles = (role,) if isinstance(role, str) else role

    def decorate(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            ctx, cookie = portal_context(), request.cookies.get(_cookie_name())
            who = triage.resume(ctx, cookie)
            if who is None:
                if enrolment.resume_session(ctx, cookie) is not None:
                    # Set-up comes first: nothing else is shown until the officer's own credentials
                    # exist.
                    return redirect(url_for("enrol.setup_passphrase"), code=303)
                if request.method == "POST":
                    return _sign_in_to_continue(carry.typed_fields(request.form), 401)
                return redirect(url_for("console.login", expired=1), code=303)
            if roles is not None and who.account.role not in roles:
                abort(404)
            g.who = who
            return view(*args, **kwargs)

        return wrapper

    return decorate


@bp.app_context_processor
def _sign_out_button():
    # Every page of a signed-in officer or administrator offers "Sign out".
    return {"logout_form": EmptyForm()} if g.get("who") else {}


def _render_login(form, problem=None, carried=None, return_to=""):
    return render_template(
        "keys/login.html",
        form=form,
        problem=problem,
        carried=carried or MultiDict(),
        return_to=return_to,
    )


def _sign_in_to_continue(carried: MultiDict, status: int):
    """The sign-in page for a form refused without a session, carrying its text (same-origin
    only)."""
    if not carry.has_text(carried):
        return redirect(url_for("console.login", expired=1), code=303)
    problem = (
        "You were signed out after 15 minutes without activity, so what you wrote was not sent. "
        "Sign in again: it will be back in its box, ready to send."
    )
    return _render_login(LoginForm(formdata=None), problem, carried, request.path), status


def _csrf_refused(exc):
    # The browser lost the form's cookie (restarted, or a very old page): like a lost session.
    carried = carry.typed_fields(request.form) if request.method == "POST" else MultiDict()
    if request.endpoint == "console.login_post":
        carried = carry.carried_back(request.form)
        return (
            _render_login(
                LoginForm(formdata=None),
                "For your safety the form needed refreshing. Please sign in again.",
                carried,
                request.form.get("return_to", ""),
            ),
            400,
        )
    if carry.has_text(carried):
        return _sign_in_to_continue(carried, 400)
    return (
        render_template(
            "error.html",
            title="This form has expired",
            message=(
                "For your safety, this form could not be accepted. Go back, reload the page "
                "and send it again."
            ),
        ),
        400,
    )


bp.register_error_handler(CSRFError, _csrf_refused)


def _resume(return_to: str, carried: MultiDict):
    """The page of the form at `return_to` with the carried text in its boxes, or None."""
    if not return_to.startswith("/console/"):
        return None
    try:
        endpoint, view_args = current_app.url_map.bind_to_environ(request.environ).match(
            return_to, method="POST"
        )
    except (HTTPException, RequestRedirect):
        return None
    render = _RESUMES.get(endpoint)
    if render is None:
        # A form with no page to put the text back into: show it, to copy, rather than lose it.
        return render_template(
            "carried.html",
            carried=carried.items(multi=True),
            case_url=url_for("console.case", ref=view_args["ref"]) if "ref" in view_args else None,
        )
    return render(formdata=carried, **view_args)


SIGNED_OUT_BECAUSE = {
    "expired": (
        "Your session has ended: after 15 minutes without activity, 8 hours after you signed in, or"
        " because you signed out on every device. Please sign in again."
    ),
    "everywhere": "You are signed out on every device.",
    "confirm": "You were signed out because your passphrase was typed wrongly too many times.",
}


@bp.get("/login")
def login():
    reason = "expired" if request.args.get("expired") else request.args.get("ended", "")
    return _render_login(LoginForm(), SIGNED_OUT_BECAUSE.get(reason))


@bp.post("/login")
def login_post():
    ctx = portal_context()
    form = LoginForm()
    carried, return_to = carry.carried_back(request.form), request.form.get("return_to", "")
    if not form.validate():
        return _render_login(form, None, carried, return_to), 400
    try:
        signed = triage.sign_in(
            ctx,
            form.email.data,
            form.passphrase.data,
            form.totp.data,
            replacing=request.cookies.get(_cookie_name()),
            device=request.cookies.get(_device_cookie_name()),
        )
    except credentials.LoginFailed:
        return (
            _render_login(
                form,
                "Those details did not work. Check your email address, passphrase and "
                "six-digit code, and try again.",
                carried,
                return_to,
            ),
            400,
        )
    except triage.SignInPaused as exc:
        return too_many_requests(
            _render_login(form, _paused_message(exc), carried, return_to), exc.retry_after
        )
    cookie = signed.session
    if signed.needs_setup:
        # Set-up comes first; typed text cannot be resumed before it (the officer reads nothing
        # yet).
        response = set_session_cookie(
            redirect(url_for("enrol.setup_passphrase"), code=303), _cookie_name(), cookie
        )
        return set_device_cookie(response, _device_cookie_name(), signed.device)
    response = None
    if carry.has_text(carried):
        g.who = triage.resume(ctx, cookie)
        response = _resume(return_to, carried)
    if response is None:
        response = redirect(url_for("console.inbox"), code=303)
    response = set_session_cookie(make_response(response), _cookie_name(), cookie)
    return set_device_cookie(response, _device_cookie_name(), signed.device)


# Exempt from the CSRF check (app.py): signing out always works, even from a page whose token went
# stale.
@bp.post("/logout")
def logout():
    ctx = portal_context()
    triage.sign_out(ctx, request.cookies.get(_cookie_name()))
    return clear_session_cookie(redirect(url_for("console.login"), code=303), _cookie_name())


@bp.post("/sessions/end-all")
@signed_in()
@passphrase_confirmed
def sign_out_everywhere():
    triage.sign_out_everywhere(portal_context(), g.who)
    return clear_session_cookie(
        redirect(url_for("console.login", ended="everywhere"), code=303), _cookie_name()
    )


@bp.get("/")
@signed_in()
def inbox():
    """The work queue: GET filters and orders only (docs/interface.md), so every view can be
    bookmarked."""
    if g.who.is_admin:
        return redirect(url_for("admin.overview"), code=303)
    ctx = portal_context()
    wanted, problems = queue.parse_filter(request.args)
    found = triage.queue_page(ctx, g.who, wanted)
    return render_template(
        "casework/inbox.html",
        inbox=found,
        wanted=wanted,
        problems=problems,
        choices=queue.filter_choices(ctx, g.who.account.id),
        sorts=queue.SORTS,
        statuses=queue.SHORT_STATUSES,
        categories={value: queue.SHORT_CATEGORIES[value] for value in CATEGORIES},
        due_filters=queue.DUE_FILTERS,
        assignee_filters=queue.ASSIGNEE_FILTERS,
        deadline_words=queue.DEADLINE_WORDS,
        last_visit=triage.last_visit(ctx, g.who),
        membership_events=memberships.unseen_events(ctx, g.who.account),
        pending_memberships=memberships.pending_for(ctx, g.who.account),
    )


def _status_form(formdata=None, **data) -> StatusChangeForm:
    form = (
        StatusChangeForm(formdata=formdata, **data)
        if formdata is not None
        else StatusChangeForm(**data)
    )
    form.status.choices = [SelectChoice(value, label) for value, label in STATUSES.items()]
    return form


def _step_form(**data) -> StepForm:
    form = StepForm(**data)
    form.step.choices = [SelectChoice(step, label) for step, label in workflow.STEP_LABELS.items()]
    return form


def _assign_form(ctx, case_id: str, formdata=None, **data) -> AssignForm:
    form = AssignForm(formdata=formdata, **data) if formdata is not None else AssignForm(**data)
    form.officer.choices = [SelectChoice("", "Nobody")] + [
        SelectChoice(str(r.id), f"{r.name} <{r.email}>")
        for r in triage.reader_accounts(ctx, case_id)
    ]
    return form


def _referral_form(ctx, formdata=None) -> ReferralForm:
    form = ReferralForm(formdata=formdata) if formdata is not None else ReferralForm()
    form.authority.choices = [SelectChoice("", "Choose one")] + [
        SelectChoice(str(a.id), a.name) for a in referrals.list_authorities(ctx)
    ]
    return form


def _render_case(ref: str, problem=None, code=200, **forms):
    """The case page; `forms` replaces any of its forms (reply, status, step, extension, assign,
    note, referral)."""
    ctx = portal_context()
    view = triage.read_case(ctx, g.who, ref, audited=code == 200)
    case_id = view.case.id
    assigned = triage.assignee(ctx, case_id)
    forms = {
        "reply_form": OfficerReplyForm(),
        "status_form": _status_form(status=view.case.status),
        "extension_form": ExtensionForm(),
        "step_form": _step_form(),
        "assign_form": _assign_form(ctx, case_id, officer=str(assigned.id) if assigned else ""),
        "note_form": NoteForm(),
        "referral_form": _referral_form(ctx),
        "identity_form": IdentityReleaseForm(),
        "export_form": CaseExportForm(),
        "oral_form": OralConfirmForm(),
        **forms,
    }
    releases, consent_questions = triage.identity_record(ctx, g.who, ref)
    reader_ids = [r.id for r in triage.reader_accounts(ctx, case_id)]
    return (
        render_template(
            "casework/case.html",
            view=view,
            problem=problem,
            forms=forms,
            assignee=assigned,
            discloser_quota=disclosures.case_quota(ctx, case_id),
            excluded=conflicts.excluded_officers(ctx, case_id, g.who.account.id, g.who.private_key),
            interests=conflicts.interests_of(ctx, reader_ids),
            notes=notes.read_notes(ctx, g.who, case_id),
            referrals=referrals.read_referrals(ctx, g.who, case_id),
            authorities=referrals.list_authorities(ctx),
            identity_releases=releases,
            consent_questions=consent_questions,
            oral_record=triage.oral_record(ctx, g.who, ref),
            confirm_form=EmptyForm(),
            grounds=identity.GROUNDS,
            categories={**FORMER_CATEGORIES, **CATEGORIES},
            elsewhere=DISCLOSED_ELSEWHERE,
            statuses=STATUSES,
            step_statuses=_statuses_by_step(),
            regime_names=workflow.REGIME_NAMES,
            deadline_names=workflow.DEADLINE_NAMES,
            **forms,
        ),
        code,
    )


def _statuses_by_step() -> dict[str, list[str]]:
    """For the checklist: which statuses record each step when set."""
    by_step: dict[str, list[str]] = {}
    for status, steps in workflow.STATUS_STEPS.items():
        for step in steps:
            by_step.setdefault(step, []).append(STATUSES[status].split(":")[0])
    return by_step


@bp.get("/cases/<ref>")
@signed_in("officer")
def case(ref: str):
    return _render_case(ref)


@bp.get("/cases/<ref>/attachments/<attachment_id>")
@signed_in("officer")
def attachment(ref: str, attachment_id: str):
    meta, chunks = triage.download(portal_context(), g.who, ref, attachment_id)
    fallback = "".join(
        ch if ch.isascii() and (ch.isalnum() or ch in "._- ") else "_" for ch in meta.name
    )
    response = Response(stream_with_context(chunks), mimetype="application/octet-stream")
    response.headers["Content-Disposition"] = (
        f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(meta.name, safe='')}"
    )
    response.headers["Content-Length"] = str(meta.size)
    # A discloser's HTML or SVG must never run in the console, even if opened directly.
    response.headers["Content-Security-Policy"] = "sandbox"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _case_action(
    ref: str, form_name: str, form, error_field: str, problem: str, action, anchor: str = ""
):
    """Validate a case form, run `action(form)`, and come back to the case; on a refusal the page
    returns
    with what was typed and the reason under `error_field`. The same one-time form sent again
    (submissions.AlreadySubmitted) did its work the first time: back to the case."""
    if form.validate():
        try:
            action(form)
            return redirect(url_for("console.case", ref=ref) + anchor, code=303)
        except submissions.AlreadySubmitted:
            return redirect(url_for("console.case", ref=ref) + anchor, code=303)
        except (
            triage.StatusError,
            workflow.WorkflowError,
            notes.NoteError,
            referrals.ReferralError,
            identity.IdentityError,
        ) as exc:
            getattr(form, error_field).errors = [str(exc)]
    return _render_case(ref, problem=problem, code=400, **{form_name: form})


@bp.post("/cases/<ref>/reply")
@signed_in("officer")
def case_reply(ref: str):
    return _case_action(
        ref,
        "reply_form",
        OfficerReplyForm(),
        "progress_update",
        "Your message was not sent: please see below.",
        lambda f: triage.reply(
            portal_context(),
            g.who,
            ref,
            f.message.data,
            f.submission_token.data,
            bool(f.progress_update.data),
        ),
        "#thread",
    )


@resume_with_text("console.case_reply")
def _resume_reply(ref: str, formdata: MultiDict):
    return _render_case(
        ref,
        reply_form=OfficerReplyForm(formdata=formdata),
        problem="Your reply is back in its box below. It has not been sent yet.",
    )


@bp.post("/cases/<ref>/status")
@signed_in("officer")
def case_status(ref: str):
    return _case_action(
        ref,
        "status_form",
        _status_form(),
        "reason",
        "The status was not changed: please see below.",
        lambda f: triage.set_status(
            portal_context(),
            g.who,
            ref,
            f.status.data,
            f.reason.data,
            f.expected_timeframe.data,
            f.submission_token.data,
        ),
    )


@resume_with_text("console.case_extension")
def _resume_extension(ref: str, formdata: MultiDict):
    return _render_case(
        ref,
        extension_form=ExtensionForm(formdata=formdata),
        problem="Your extension is back in its form below. It has not been recorded yet.",
    )


@resume_with_text("console.case_status")
def _resume_status(ref: str, formdata: MultiDict):
    return _render_case(
        ref,
        status_form=_status_form(formdata=formdata),
        problem="Your status change is back in its form below. It has not been made yet.",
    )


@bp.post("/cases/<ref>/steps")
@signed_in("officer")
def case_step(ref: str):
    return _case_action(
        ref,
        "step_form",
        _step_form(),
        "step",
        "The step was not recorded: please see below.",
        lambda f: triage.complete_step(portal_context(), g.who, ref, f.step.data),
        "#clock",
    )


@bp.post("/cases/<ref>/extension")
@signed_in("officer")
def case_extension(ref: str):
    return _case_action(
        ref,
        "extension_form",
        ExtensionForm(),
        "expected_timeframe",
        "The extension was not recorded: please see below.",
        lambda f: triage.extend(
            portal_context(),
            g.who,
            ref,
            f.expected_timeframe.data,
            f.update_every.data,
            f.submission_token.data,
        ),
        "#clock",
    )


@bp.post("/cases/<ref>/assign")
@signed_in("officer")
def case_assign(ref: str):
    ctx = portal_context()
    case = triage.open_case(ctx, g.who, ref)[0]
    return _case_action(
        ref,
        "assign_form",
        _assign_form(ctx, case.id),
        "officer",
        "The case was not assigned: please see below.",
        lambda f: triage.assign(
            ctx,
            g.who,
            ref,
            int(f.officer.data) if f.officer.data else None,
            f.submission_token.data,
        ),
    )


@bp.post("/cases/<ref>/notes")
@signed_in("officer")
def case_note(ref: str):
    return _case_action(
        ref,
        "note_form",
        NoteForm(),
        "note",
        "The note was not added: please see below.",
        lambda f: notes.add_note(
            portal_context(), g.who, ref, f.note.data, f.submission_token.data
        ),
        "#notes",
    )


@resume_with_text("console.case_note")
def _resume_note(ref: str, formdata: MultiDict):
    return _render_case(
        ref,
        note_form=NoteForm(formdata=formdata),
        problem="Your note is back in its box below. It has not been added yet.",
    )


def _authority_id(value: str) -> int:
    """The directory entry chosen: its id (the form's select), or its exact name (scripts); 0 for
    none."""
    if value[:1].isdigit():
        return whole_number_or(value, 0, maximum=2**31)
    found = [a.id for a in referrals.list_authorities(portal_context()) if a.name == value.strip()]
    return found[0] if found else 0


@bp.post("/cases/<ref>/referral")
@signed_in("officer")
def case_referral(ref: str):
    ctx = portal_context()
    return _case_action(
        ref,
        "referral_form",
        _referral_form(ctx),
        "authority",
        "The case was not referred: please see below.",
        lambda f: referrals.refer(
            ctx,
            g.who,
            ref,
            authority_id=_authority_id(f.authority.data),
            reason=f.reason.data,
            concerns=f.concerns.data,
            consultation=f.consultation.data,
            consultation_note=f.consultation_note.data,
            submission_token=f.submission_token.data,
        ),
        "#referral",
    )


@resume_with_text("console.case_referral")
def _resume_referral(ref: str, formdata: MultiDict):
    return _render_case(
        ref,
        referral_form=_referral_form(portal_context(), formdata),
        problem="Your referral is back in its form below. It has not been made yet.",
    )


def _render_interests(form=None, problem=None, code=200):
    ctx = portal_context()
    return (
        render_template(
            "keys/interests.html",
            form=form or InterestForm(),
            remove_form=EmptyForm(),
            mine=conflicts.interests_of(ctx, [g.who.account.id]),
            problem=problem,
        ),
        code,
    )


@bp.get("/interests")
@signed_in("officer")
def interests():
    return _render_interests()


@bp.post("/interests")
@signed_in("officer")
def declare_interest():
    form = InterestForm()
    problem = "Nothing was declared: please see below."
    if form.validate():
        try:
            conflicts.declare_interest(
                portal_context(), g.who.account.id, form.interest.data, form.submission_token.data
            )
            return redirect(url_for("console.interests"), code=303)
        except submissions.AlreadySubmitted:
            return redirect(url_for("console.interests"), code=303)
        except conflicts.InterestError as exc:
            form.interest.errors = [str(exc)]
    return _render_interests(form, problem, 400)


@bp.post("/interests/<int(max=2147483647):interest_id>/remove")
@signed_in("officer")
def remove_interest(interest_id: int):
    if not EmptyForm().validate():
        abort(400)
    try:
        conflicts.remove_interest(portal_context(), g.who.account.id, interest_id)
    except conflicts.InterestError as exc:
        return _render_interests(problem=str(exc), code=404)
    return redirect(url_for("console.interests"), code=303)

"""What an officer does on the case page: reply to the discloser, change the status, record a step
or an extension, assign the case; each form's text can come back through a sign-in."""

from __future__ import annotations

from flask import g
from flask_babel import lazy_gettext as _l

from portal.casework import acknowledging, cases, triage
from portal.web.casework.blueprint import bp
from portal.web.casework.case_forms import assign_form, status_form, step_form
from portal.web.casework.case_page import case_action, resume_case_form
from portal.web.casework.forms import AcknowledgeForm, ExtensionForm, OfficerReplyForm
from portal.web.console_session import signed_in
from portal.web.context import portal_context


@bp.post("/cases/<ref>/reply")
@signed_in("officer")
def case_reply(ref: str):
    return case_action(
        ref,
        "reply_form",
        OfficerReplyForm(),
        "progress_update",
        _l("Your message was not sent: please see below."),
        lambda f: triage.reply(
            portal_context(),
            g.who,
            ref,
            f.message.data,
            f.submission_token.data,
            bool(f.progress_update.data),
        ),
        lambda f: "progress" if f.progress_update.data else "reply",
    )


resume_case_form(
    "console.case_reply",
    "reply_form",
    lambda formdata: OfficerReplyForm(formdata=formdata),
    _l("Your reply is back in its box below. It has not been sent yet."),
)


@bp.post("/cases/<ref>/acknowledge")
@signed_in("officer")
def case_acknowledge(ref: str):
    """s 13(1)(a) in one POST: the message, the step and the status 'acknowledged' together."""
    return case_action(
        ref,
        "ack_form",
        AcknowledgeForm(),
        "message",
        _l("The case was not acknowledged and nothing was sent: please see below."),
        lambda f: acknowledging.acknowledge(
            portal_context(), g.who, ref, f.message.data, f.submission_token.data
        ),
        "acknowledged",
    )


resume_case_form(
    "console.case_acknowledge",
    "ack_form",
    lambda formdata: AcknowledgeForm(formdata=formdata),
    _l("Your acknowledgement is back in its box below. It has not been sent yet."),
)


@bp.post("/cases/<ref>/status")
@signed_in("officer")
def case_status(ref: str):
    return case_action(
        ref,
        "status_form",
        status_form(),
        "reason",
        _l("The status was not changed: please see below."),
        lambda f: triage.set_status(
            portal_context(),
            g.who,
            ref,
            f.status.data,
            f.reason.data,
            f.expected_timeframe.data,
            f.submission_token.data,
        ),
        "status",
    )


resume_case_form(
    "console.case_extension",
    "extension_form",
    lambda formdata: ExtensionForm(formdata=formdata),
    _l("Your extension is back in its form below. It has not been recorded yet."),
)


resume_case_form(
    "console.case_status",
    "status_form",
    lambda formdata: status_form(formdata=formdata),
    _l("Your status change is back in its form below. It has not been made yet."),
)


@bp.post("/cases/<ref>/steps")
@signed_in("officer")
def case_step(ref: str):
    return case_action(
        ref,
        "step_form",
        step_form(),
        "step",
        _l("The step was not recorded: please see below."),
        lambda f: triage.complete_step(portal_context(), g.who, ref, f.step.data),
        "step",
    )


@bp.post("/cases/<ref>/extension")
@signed_in("officer")
def case_extension(ref: str):
    return case_action(
        ref,
        "extension_form",
        ExtensionForm(),
        "expected_timeframe",
        _l("The extension was not recorded: please see below."),
        lambda f: triage.extend(
            portal_context(),
            g.who,
            ref,
            f.expected_timeframe.data,
            f.update_every.data,
            f.submission_token.data,
        ),
        "extension",
    )


@bp.post("/cases/<ref>/assign")
@signed_in("officer")
def case_assign(ref: str):
    ctx = portal_context()
    case = cases.open_case(ctx, g.who, ref)[0]
    return case_action(
        ref,
        "assign_form",
        assign_form(ctx, case.id),
        "officer",
        _l("The case was not assigned: please see below."),
        lambda f: triage.assign(
            ctx,
            g.who,
            ref,
            int(f.officer.data) if f.officer.data else None,
            f.submission_token.data,
        ),
        "assigned",
    )

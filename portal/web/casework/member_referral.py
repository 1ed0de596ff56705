"""Referring a case to a channel of another member organisation of the service (ss 16, 25; issue
29; docs/organisations.md, "Referral between member organisations"): the form on the case page
and its post. Shown only where the dispatcher gave the app its `Members`
(`app.config[case_forms.MEMBER_REFERRALS]`, portal.service.member_referrals) and another member
has a channel; a single installation has neither."""

from __future__ import annotations

from flask import abort, g
from flask_babel import lazy_gettext as _l

from portal.web.casework.blueprint import bp
from portal.web.casework.case_forms import member_form, members
from portal.web.casework.case_page import case_action, resume_case_form
from portal.web.console_session import signed_in
from portal.web.context import portal_context


@bp.post("/cases/<ref>/member-referral")
@signed_in("officer")
def case_member_referral(ref: str):
    found = members()
    if found is None:
        abort(404)
    return case_action(
        ref,
        "member_referral_form",
        member_form(),
        "channel",
        _l("The case was not referred: please see below."),
        lambda f: found.refer(
            portal_context(),
            g.who,
            ref,
            f.channel.data,
            concerns=f.concerns.data,
            consultation=f.consultation.data,
            consultation_note=f.consultation_note.data or "",
            reason=f.reason.data,
            with_identity=bool(f.with_identity.data),
            submission_token=f.submission_token.data,
        ),
        "referral",
    )


resume_case_form(
    "console.case_member_referral",
    "member_referral_form",
    lambda formdata: member_form(formdata),
    _l("Your referral is back in its form below. It has not been made yet."),
)

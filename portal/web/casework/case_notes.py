"""Notes and referrals on a case: adding an internal note, referring the case to an authority; each
form's text can come back through a sign-in."""

from __future__ import annotations

from flask import g
from flask_babel import lazy_gettext as _l

from portal.casework import notes, referrals
from portal.core.numbers import whole_number_or
from portal.web.casework.blueprint import bp
from portal.web.casework.case_forms import referral_form
from portal.web.casework.case_page import case_action, resume_case_form
from portal.web.casework.forms import NoteForm
from portal.web.console_session import signed_in
from portal.web.context import portal_context


@bp.post("/cases/<ref>/notes")
@signed_in("officer")
def case_note(ref: str):
    return case_action(
        ref,
        "note_form",
        NoteForm(),
        "note",
        _l("The note was not added: please see below."),
        lambda f: notes.add_note(
            portal_context(), g.who, ref, f.note.data, f.submission_token.data
        ),
        "note",
    )


resume_case_form(
    "console.case_note",
    "note_form",
    lambda formdata: NoteForm(formdata=formdata),
    _l("Your note is back in its box below. It has not been added yet."),
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
    return case_action(
        ref,
        "referral_form",
        referral_form(ctx),
        "authority",
        _l("The case was not referred: please see below."),
        lambda f: referrals.refer(
            ctx,
            g.who,
            ref,
            authority_id=_authority_id(f.authority.data),
            reason=f.reason.data,
            concerns=f.concerns.data,
            consultation=f.consultation.data,
            consultation_note=f.consultation_note.data,
            organisation=f.organisation.data or "",
            organisation_contact=f.organisation_contact.data or "",
            submission_token=f.submission_token.data,
        ),
        "referral",
    )


resume_case_form(
    "console.case_referral",
    "referral_form",
    lambda formdata: referral_form(portal_context(), formdata),
    _l("Your referral is back in its form below. It has not been made yet."),
)

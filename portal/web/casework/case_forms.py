"""The case page's forms whose choices depend on the case: status, step, assignee, authority, and
another member organisation's channel (in a service)."""

from __future__ import annotations

from flask import current_app
from flask_babel import lazy_gettext as _l
from wtforms.fields.choices import SelectChoice

from portal.casework import referrals, triage, workflow
from portal.records.casefiles import OFFICER_STATUSES
from portal.web.casework.forms import (
    AssignForm,
    MemberReferralForm,
    ReferralForm,
    StatusChangeForm,
    StepForm,
)
from portal.web.forms import choices


def status_form(formdata=None, **data) -> StatusChangeForm:
    form = (
        StatusChangeForm(formdata=formdata, **data)
        if formdata is not None
        else StatusChangeForm(**data)
    )
    form.status.choices = choices(OFFICER_STATUSES)
    return form


def step_form(**data) -> StepForm:
    form = StepForm(**data)
    form.step.choices = choices(workflow.STEP_LABELS)
    return form


def assign_form(ctx, case_id: str, formdata=None, **data) -> AssignForm:
    form = AssignForm(formdata=formdata, **data) if formdata is not None else AssignForm(**data)
    form.officer.choices = [SelectChoice("", _l("Nobody"))] + [
        SelectChoice(str(r.id), f"{r.name} <{r.email}>")
        for r in triage.reader_accounts(ctx, case_id)
    ]
    return form


def referral_form(ctx, formdata=None) -> ReferralForm:
    form = ReferralForm(formdata=formdata) if formdata is not None else ReferralForm()
    form.authority.choices = [SelectChoice("", _l("Choose one"))] + [
        SelectChoice(str(a.id), a.name) for a in referrals.list_authorities(ctx)
    ]
    return form


MEMBER_REFERRALS = "PORTAL_MEMBER_REFERRALS"


def members():
    """The app's `Members`, or None outside a service."""
    return current_app.config.get(MEMBER_REFERRALS)


def member_form(formdata=None) -> MemberReferralForm:
    """The form to refer a case to another member organisation, its choices each other member's
    channels (none outside a service: portal.web.casework.member_referral)."""
    form = MemberReferralForm(formdata=formdata) if formdata is not None else MemberReferralForm()
    found = members()
    form.channel.choices = [SelectChoice("", _l("Choose one"))] + [
        SelectChoice(value, label) for value, label in (found.channels() if found else [])
    ]
    return form

"""An appropriate authority's contact, the one a discloser is given after an s 16 referral: an
administrator changes it, or says it was checked today against the authority's own website, on a
page of its own (portal.casework.authority_contacts keeps it)."""

from __future__ import annotations

from flask import abort, g, render_template
from flask_babel import gettext

from portal.casework import authority_contacts, referrals
from portal.guard import submissions
from portal.web.console_session import signed_in
from portal.web.context import portal_context
from portal.web.forms import EmptyForm
from portal.web.operations.admin_blueprint import bp, confirmed
from portal.web.operations.admin_directory import directory_entry
from portal.web.operations.forms import AuthorityContactForm

_ID = "<int(max=2147483647):authority_id>"


def _render(authority: referrals.Authority, form=None, problem=None, code=200):
    ctx = portal_context()
    contact = authority_contacts.contacts(ctx)[authority.id]
    if form is None:
        form = AuthorityContactForm(
            website=contact.website, email=contact.email, phone=contact.phone
        )
    return (
        render_template(
            "operations/authority_contact.html",
            authority=authority,
            contact=contact,
            shipped=authority_contacts.shipped_contacts().get(authority.name),
            form=form,
            shipped_form=EmptyForm(),
            problem=problem,
        ),
        code,
    )


@bp.get(f"/authorities/{_ID}/contact")
@signed_in("admin")
def authority_contact(authority_id: int):
    return _render(directory_entry(authority_id))


@bp.post(f"/authorities/{_ID}/contact")
@signed_in("admin")
def change_authority_contact(authority_id: int):
    authority = directory_entry(authority_id)
    form = AuthorityContactForm()
    problem = gettext("The contact was not changed: please see below.")
    if not form.validate():
        return _render(authority, form, problem, 400)
    try:
        parts = {name: form[name].data for name in authority_contacts.FIELDS}
        authority_contacts.change_contact(
            portal_context(),
            g.who.account.id,
            authority_id,
            **parts,
            checked=form.checked.data,
            submission_token=form.submission_token.data,
        )
    except submissions.AlreadySubmitted:
        pass  # the same form again: the change was made once
    except authority_contacts.ContactError as exc:
        if exc.field:
            form[exc.field].errors = [gettext(str(exc))]
            return _render(authority, form, problem, 400)
        return _render(authority, form, gettext(str(exc)), 400)
    return confirmed("admin.authorities", "contact-changed")


@bp.post(f"/authorities/{_ID}/contact/shipped")
@signed_in("admin")
def restore_authority_contact(authority_id: int):
    directory_entry(authority_id)
    if not EmptyForm().validate():
        abort(400)
    authority_contacts.use_shipped_contact(portal_context(), g.who.account.id, authority_id)
    return confirmed("admin.authorities", "contact-shipped")

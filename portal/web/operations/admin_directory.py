"""The directory of appropriate authorities (s 25, Schedule 2) that officers refer cases to (s 16):
an administrator keeps it."""

from __future__ import annotations

from flask import abort, g, render_template, request
from flask_babel import gettext

from portal.casework import authority_contacts, referrals
from portal.guard import submissions
from portal.web.console_session import signed_in
from portal.web.context import portal_context
from portal.web.forms import EmptyForm
from portal.web.languages import said
from portal.web.operations.admin_blueprint import bp, confirmed
from portal.web.operations.forms import AuthorityForm


def _render_directory(form=None, editing=None, problem=None, code=200):
    ctx = portal_context()
    return (
        render_template(
            "operations/authorities.html",
            authorities=referrals.list_authorities(ctx),
            contacts=authority_contacts.contacts(ctx),
            form=form or AuthorityForm(),
            editing=editing,
            remove_form=EmptyForm(),
            problem=problem,
        ),
        code,
    )


def directory_entry(authority_id: int) -> referrals.Authority:
    """The directory's entry of that id; 404 when there is none."""
    found = referrals.get_authority(portal_context(), authority_id)
    if found is None:
        abort(404)
    return found


@bp.get("/authorities")
@signed_in("admin")
def authorities():
    return _render_directory()


@bp.get("/authorities/<int(max=2147483647):authority_id>")
@signed_in("admin")
def edit_authority(authority_id: int):
    entry = directory_entry(authority_id)
    form = AuthorityForm(
        name=entry.name,
        covers=entry.covers,
        source=entry.source,
        exclusive_for=entry.exclusive_for or "",
    )
    return _render_directory(form, editing=entry)


def _save(authority_id: int | None):
    form = AuthorityForm()
    editing = directory_entry(authority_id) if authority_id is not None else None
    problem = gettext("The directory was not changed: please see below.")
    if not form.validate():
        return _render_directory(form, editing, problem, 400)
    try:
        referrals.save_authority(
            portal_context(),
            g.who.account.id,
            authority_id,
            name=form.name.data,
            covers=form.covers.data,
            source=form.source.data,
            exclusive_for=form.exclusive_for.data or None,
            submission_token=form.submission_token.data,
        )
    except submissions.AlreadySubmitted:
        pass  # the same form again: the change was made once
    except referrals.ReferralError as exc:
        form.name.errors = [said(exc)]
        return _render_directory(form, editing, problem, 400)
    return confirmed("admin.authorities", "directory-changed")


@bp.post("/authorities")
@signed_in("admin")
def add_authority():
    return _save(None)


@bp.post("/authorities/<int(max=2147483647):authority_id>")
@signed_in("admin")
def change_authority(authority_id: int):
    return _save(authority_id)


@bp.post("/authorities/<int(max=2147483647):authority_id>/remove")
@signed_in("admin")
def remove_authority(authority_id: int):
    if not EmptyForm().validate():
        abort(400)
    if request.form.get("confirm") != "yes":
        # One click would remove it: the directory's "Remove" asks first, on a page of its own.
        return render_template(
            "operations/authority_remove.html", authority=directory_entry(authority_id)
        )
    try:
        referrals.remove_authority(portal_context(), g.who.account.id, authority_id)
    except referrals.ReferralError as exc:
        return _render_directory(problem=said(exc), code=400)
    return confirmed("admin.authorities", "directory-changed")

"""Giving fellow officers access to cases (SECURITY.md, "Key lifecycle"): the passphrase is asked
again."""

from __future__ import annotations

from flask import Blueprint, g, render_template, request
from flask_babel import lazy_gettext as _l
from wtforms.fields.choices import SelectChoice

from portal.keys import access
from portal.records import casefiles
from portal.web.console_session import signed_in
from portal.web.context import portal_context
from portal.web.keys.confirm import passphrase_confirmed
from portal.web.keys.forms import GrantForm
from portal.web.languages import said

bp = Blueprint("access", __name__, url_prefix="/console/access")

# A grant of every case of a channel stops after the batch that passes this many seconds and the
# page says how far it got, with a button to carry on (portal.store.progress): no request runs for
# minutes, and a stopped one loses nothing.
GRANT_SECONDS = 20.0


def _with_choices(form: GrantForm) -> GrantForm:
    """The officer's channels, and each fellow officer once, labelled with name, email and
    channels."""
    choices = access.grant_choices(portal_context(), g.who.account)
    form.channel.choices = [SelectChoice("", _l("Choose the channel"))] + [
        SelectChoice(c.name, c.name) for c, _ in choices
    ]
    labels: dict[int, tuple[str, list[str]]] = {}
    for channel, officers in choices:
        for officer in officers:
            labels.setdefault(officer.id, (f"{officer.name} <{officer.email}>", []))[1].append(
                channel.name
            )
    form.officer.choices = [SelectChoice("", _l("Choose an officer"))] + [
        SelectChoice(str(i), f"{label} ({', '.join(names)})")
        for i, (label, names) in labels.items()
    ]
    return form


def _page(form: GrantForm | None = None, problem: str | None = None, code: int = 200, result=None):
    if form is None:
        form = GrantForm(
            formdata=None,
            case=request.args.get("case", ""),
            channel=request.args.get("channel", ""),
        )
    return (
        render_template(
            "keys/access.html",
            form=_with_choices(form),
            problem=problem,
            result=result,
            under_way=access.grants_under_way(portal_context(), g.who.account),
        ),
        code,
    )


@bp.get("/")
@signed_in("officer")
def page():
    return _page()


@bp.post("/grant")
@signed_in("officer")
@passphrase_confirmed
def grant():
    form = _with_choices(GrantForm())
    problem = _l("Nobody was given access: please see below.")
    if not form.validate():
        return _page(form, problem, 400)
    try:
        result = access.grant(
            portal_context(),
            g.who.account,
            g.who.private_key,
            int(form.officer.data),
            form.channel.data,
            form.case.data.strip().upper() or None,
            seconds=GRANT_SECONDS,
        )
    except access.GrantError as exc:
        form.officer.errors = [said(exc)]
        return _page(form, problem, 400)
    except casefiles.CaseNotFound:
        form.case.errors = [
            _l("You cannot read a case with that reference in this channel. Check the reference.")
        ]
        return _page(form, problem, 404)
    return _page(result=result)

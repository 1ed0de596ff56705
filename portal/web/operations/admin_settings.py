"""The administrators' settings page: the settings of `portal setting set` that are not security
settings (portal.operations.admin_console.CONSOLE_SETTINGS), each in a form of its own, audited as
the command audits them."""

from __future__ import annotations

from flask import g, render_template
from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from portal.operations import admin_console
from portal.web.console_session import signed_in
from portal.web.context import portal_context
from portal.web.languages import said
from portal.web.operations.admin_blueprint import bp, confirmed
from portal.web.operations.forms import SettingForm


def _render(problem=None, refused: str | None = None, typed: str = "", code=200):
    ctx = portal_context()
    page = render_template(
        "operations/settings.html",
        settings=admin_console.console_settings(ctx),
        form=SettingForm(),
        problem=problem,
        refused=refused,
        typed=typed,
    )
    return page, code


@bp.get("/settings")
@signed_in("admin")
def settings():
    return _render()


@bp.post("/settings")
@signed_in("admin")
def change_setting():
    form = SettingForm()
    if not form.validate():
        return _render(_l("Nothing was saved: choose a setting on this page."), code=400)
    try:
        admin_console.change_setting(
            portal_context(), g.who.account, form.setting.data, form.value.data or ""
        )
    except ValueError as exc:
        return _render(
            gettext("Nothing was saved. %(why)s", why=said(exc)),
            form.setting.data,
            form.value.data or "",
            400,
        )
    return confirmed("admin.settings", "setting-saved")

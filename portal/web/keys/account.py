"""The officer's account page and credential changes later: a new passphrase, a new second factor.
Officers and administrators alike (an administrator made with `portal admin add` replaces the
passphrase and second factor its maker saw here)."""

from __future__ import annotations

from flask import g, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from portal.keys import accounts, credential_changes, enrolment, officer_sessions, second_factor
from portal.operations import notifications
from portal.records import audit
from portal.web.console_session import console_cookie_name, signed_in
from portal.web.context import portal_context
from portal.web.keys.enrol_blueprint import bp
from portal.web.keys.forms import (
    ChangePassphraseForm,
    ConfirmNewSecondFactorForm,
    DailyReminderForm,
    ReauthenticateForm,
)
from portal.web.languages import said
from portal.web.responses import clear_session_cookie

# Each change asks the passphrase again through officer_sessions.confirm_passphrase, so wrong
# answers are audited and, past its limit, end the session.


def _render_account(
    passphrase_form=None, reauth_form=None, confirm_form=None, problem=None, notice=None, code=200
):
    ctx = portal_context()
    pending = credential_changes.pending_second_factor(ctx, g.who.account)
    return (
        render_template(
            "keys/account.html",
            passphrase_form=passphrase_form or ChangePassphraseForm(),
            reauth_form=reauth_form or ReauthenticateForm(),
            confirm_form=confirm_form or ConfirmNewSecondFactorForm(),
            problem=problem,
            notice=notice,
            pending_secret=pending,
            fingerprint=accounts.fingerprint(g.who.account),
            qr=second_factor.qr_svg(pending, g.who.account.email, gettext(second_factor.QR_TITLE))
            if pending
            else None,
            reminder_form=DailyReminderForm(
                wanted=notifications.wants_digest(ctx, g.who.account.id)
            ),
            digest_time=ctx.settings.digest_time,
            mail_set=bool(ctx.settings.smtp_host),
        ),
        code,
    )


class _Locked(Exception):
    pass


def _passphrase_is_right(passphrase: str) -> bool:
    try:
        return officer_sessions.confirm_passphrase(
            portal_context(), g.who, passphrase, request.cookies.get(console_cookie_name())
        )
    except officer_sessions.ConfirmationLocked:
        raise _Locked() from None


@bp.errorhandler(_Locked)
def _locked(exc):
    return clear_session_cookie(
        redirect(url_for("console.login", ended="confirm"), code=303), console_cookie_name()
    )


@bp.get("/account")
@signed_in(accounts.ROLES)
def account():
    notice = {
        "passphrase": _l("Your passphrase was changed."),
        "second-factor": _l("Your new second factor is in use. The old one no longer works."),
        "reminder-on": _l("You will get the daily reminder."),
        "reminder-off": _l("You will not get the daily reminder."),
    }.get(request.args.get("done", ""))
    return _render_account(notice=notice)


@bp.post("/account/daily-reminder")
@signed_in(accounts.ROLES)
def daily_reminder():
    """The officer's choice of the daily reminder (portal.operations.notifications)."""
    form = DailyReminderForm()
    if not form.validate():
        return _render_account(problem=_l("The form had expired. Please try again."), code=400)
    ctx = portal_context()
    notifications.set_wanted(ctx, g.who.account.id, form.wanted.data)
    audit.record(
        ctx, "daily_reminder_change", actor=g.who.account.id, detail={"wanted": form.wanted.data}
    )
    done = "reminder-on" if form.wanted.data else "reminder-off"
    return redirect(url_for("enrol.account", done=done), code=303)


@bp.post("/account/passphrase")
@signed_in(accounts.ROLES)
def change_passphrase():
    form = ChangePassphraseForm()
    if not form.validate():
        return _render_account(
            passphrase_form=form, problem=_l("Your passphrase was not changed."), code=400
        )
    try:
        credential_changes.check_new_passphrase(
            g.who.account, form.passphrase.data, form.passphrase_again.data
        )
        if not _passphrase_is_right(form.current_passphrase.data):
            raise enrolment.SetupError(
                _l("Your current passphrase is not right. Nothing was changed.")
            )
        credential_changes.change_passphrase(
            portal_context(),
            g.who.account,
            g.who.private_key,
            form.passphrase.data,
            form.passphrase_again.data,
            keep_session=request.cookies.get(console_cookie_name()),
            signing_key=g.who.signing_key,
        )
    except accounts.AccountError as exc:
        form.passphrase.errors = [said(exc)]
        return _render_account(
            passphrase_form=form, problem=_l("Your passphrase was not changed."), code=400
        )
    return redirect(url_for("enrol.account", done="passphrase"), code=303)


@bp.post("/account/second-factor/start")
@signed_in(accounts.ROLES)
def start_second_factor():
    form = ReauthenticateForm()
    if not form.validate():
        return _render_account(reauth_form=form, problem=_l("Nothing was changed."), code=400)
    if not _passphrase_is_right(form.passphrase.data):
        form.passphrase.errors = ["Your passphrase is not right. Nothing was changed."]
        return _render_account(reauth_form=form, problem=_l("Nothing was changed."), code=400)
    credential_changes.begin_second_factor_change(portal_context(), g.who.account)
    return redirect(url_for("enrol.account") + "#second-factor", code=303)


@bp.post("/account/second-factor")
@signed_in(accounts.ROLES)
def confirm_second_factor():
    form = ConfirmNewSecondFactorForm()
    if not form.validate():
        return _render_account(
            confirm_form=form, problem=_l("Your second factor was not changed."), code=400
        )
    try:
        if not _passphrase_is_right(form.passphrase.data):
            raise enrolment.SetupError(_l("Your passphrase is not right. Nothing was changed."))
        credential_changes.finish_second_factor_change(
            portal_context(),
            g.who.account,
            form.totp.data,
            keep_session=request.cookies.get(console_cookie_name()),
        )
    except enrolment.SetupError as exc:
        form.totp.errors = [said(exc)]
        return _render_account(
            confirm_form=form, problem=_l("Your second factor was not changed."), code=400
        )
    return redirect(url_for("enrol.account", done="second-factor"), code=303)

"""Enrolment and first sign-in set-up: the enrolment link, choosing a passphrase (from the link or
from a set-up session), and confirming the second factor, which ends in the recovery codes."""

from __future__ import annotations

from flask import current_app, redirect, render_template, request, url_for
from flask_babel import gettext

from portal.keys import accounts, enrolment, invitations, officer_sessions, second_factor
from portal.web.console_session import console_cookie_name
from portal.web.context import portal_context
from portal.web.keys.enrol_blueprint import bp
from portal.web.keys.forms import ChoosePassphraseForm, ConfirmSecondFactorForm
from portal.web.languages import said
from portal.web.responses import set_session_cookie


def _unusable():
    return render_template("keys/enrol_unusable.html"), 404


def _signed_in_as_admin() -> bool:
    who = officer_sessions.resume(portal_context(), request.cookies.get(console_cookie_name()))
    return who is not None and who.is_admin


def _render_passphrase_step(state: enrolment.SetupState, form, action: str, problem=None, code=200):
    return (
        render_template(
            "keys/setup_passphrase.html", state=state, form=form, action=action, problem=problem
        ),
        code,
    )


@bp.get("/enrol/<token>")
def enrol(token: str):
    try:
        state = enrolment.open_invitation(portal_context(), token)
    except invitations.InvitationUnusable:
        return _unusable()
    if _signed_in_as_admin():
        return render_template("keys/enrol_unusable.html", admin=True), 403
    return _render_passphrase_step(
        state, ChoosePassphraseForm(), url_for("enrol.enrol_post", token=token)
    )


@bp.post("/enrol/<token>")
def enrol_post(token: str):
    ctx = portal_context()
    try:
        state = enrolment.open_invitation(ctx, token)
    except invitations.InvitationUnusable:
        return _unusable()
    if _signed_in_as_admin():
        return render_template("keys/enrol_unusable.html", admin=True), 403
    return _take_passphrase(state, url_for("enrol.enrol_post", token=token), previous_cookie=None)


def _take_passphrase(state: enrolment.SetupState, action: str, previous_cookie: str | None):
    ctx = portal_context()
    form = ChoosePassphraseForm()
    if not form.validate():
        return _render_passphrase_step(state, form, action, code=400)
    try:
        state = enrolment.choose_passphrase(
            ctx, state, form.passphrase.data, form.passphrase_again.data
        )
    except accounts.AccountError as exc:
        form.passphrase.errors = [said(exc)]
        return _render_passphrase_step(state, form, action, code=400)
    cookie = enrolment.replace_session(ctx, previous_cookie, state)
    return set_session_cookie(
        redirect(url_for("enrol.setup_second_factor"), code=303), console_cookie_name(), cookie
    )


def _setup_state() -> enrolment.SetupState | None:
    return enrolment.resume_session(portal_context(), request.cookies.get(console_cookie_name()))


@bp.get("/setup/passphrase")
def setup_passphrase():
    state = _setup_state()
    if state is None:
        return redirect(url_for("console.login", expired=1), code=303)
    return _render_passphrase_step(
        state, ChoosePassphraseForm(), url_for("enrol.setup_passphrase_post")
    )


@bp.post("/setup/passphrase")
def setup_passphrase_post():
    state = _setup_state()
    if state is None:
        return redirect(url_for("console.login", expired=1), code=303)
    return _take_passphrase(
        state, url_for("enrol.setup_passphrase_post"), request.cookies.get(console_cookie_name())
    )


def _render_second_factor(state, form, problem=None, code=200):
    return (
        render_template(
            "keys/setup_second_factor.html",
            form=form,
            problem=problem,
            secret=state.totp_secret,
            qr=second_factor.qr_svg(
                state.totp_secret, state.email, gettext(second_factor.QR_TITLE)
            ),
            action=url_for("enrol.second_factor_post"),
        ),
        code,
    )


@bp.get("/setup/second-factor")
def setup_second_factor():
    state = _setup_state()
    if state is None:
        return redirect(url_for("console.login", expired=1), code=303)
    if state.step == "passphrase":
        return redirect(url_for("enrol.setup_passphrase"), code=303)
    return _render_second_factor(state, ConfirmSecondFactorForm())


@bp.post("/setup/second-factor")
def second_factor_post():
    ctx = portal_context()
    state = _setup_state()
    if state is None:
        return redirect(url_for("console.login", expired=1), code=303)
    if state.step == "passphrase":
        return redirect(url_for("enrol.setup_passphrase"), code=303)
    form = ConfirmSecondFactorForm()
    if not form.validate():
        return _render_second_factor(state, form, code=400)
    try:
        finished = enrolment.finish(ctx, state, form.totp.data)
    except invitations.InvitationUnusable:
        enrolment.replace_session(ctx, request.cookies.get(console_cookie_name()), state)
        return _unusable()
    except enrolment.SetupError as exc:
        form.totp.errors = [said(exc)]
        return _render_second_factor(state, form, code=400)
    # The set-up session ends; an ordinary one starts with the new key.
    enrolment.end_session(ctx, request.cookies.get(console_cookie_name()))
    cookie = officer_sessions.start_session(
        ctx, finished.account, finished.private_key, finished.signing_key
    )
    response = current_app.make_response(
        (
            render_template(
                "keys/recovery_codes.html",
                codes=finished.recovery_codes,
                account=finished.account,
                fingerprint=accounts.fingerprint(finished.account),
            ),
            200,
        )
    )
    return set_session_cookie(response, console_cookie_name(), cookie)

"""Officers' own credentials: enrolment links, the set-up steps, changing passphrase and second
factor, and confirming who else may read a channel."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, g, redirect, render_template, request, url_for

from portal.keys import (
    accounts,
    credential_changes,
    enrolment,
    invitations,
    memberships,
    officer_sessions,
    recovery,
    recovery_requests,
    second_factor,
)
from portal.web.console_session import signed_in
from portal.web.context import portal_context
from portal.web.keys.forms import (
    ChangePassphraseForm,
    ChoosePassphraseForm,
    ConfirmNewSecondFactorForm,
    ConfirmSecondFactorForm,
    MembershipDecisionForm,
    ReauthenticateForm,
    RecoveryKeyDecisionForm,
    SealRecoveryForm,
)
from portal.web.responses import clear_session_cookie, set_session_cookie

bp = Blueprint("enrol", __name__, url_prefix="/console")


def _cookie_name() -> str:
    return current_app.config["PORTAL_CONSOLE_COOKIE"]


def _unusable():
    return render_template("keys/enrol_unusable.html"), 404


def _signed_in_as_admin() -> bool:
    who = officer_sessions.resume(portal_context(), request.cookies.get(_cookie_name()))
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
        form.passphrase.errors = [str(exc)]
        return _render_passphrase_step(state, form, action, code=400)
    cookie = enrolment.replace_session(ctx, previous_cookie, state)
    return set_session_cookie(
        redirect(url_for("enrol.setup_second_factor"), code=303), _cookie_name(), cookie
    )


def _setup_state() -> enrolment.SetupState | None:
    return enrolment.resume_session(portal_context(), request.cookies.get(_cookie_name()))


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
        state, url_for("enrol.setup_passphrase_post"), request.cookies.get(_cookie_name())
    )


def _render_second_factor(state, form, problem=None, code=200):
    return (
        render_template(
            "keys/setup_second_factor.html",
            form=form,
            problem=problem,
            secret=state.totp_secret,
            qr=second_factor.qr_svg(state.totp_secret, state.email),
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
        enrolment.replace_session(ctx, request.cookies.get(_cookie_name()), state)
        return _unusable()
    except enrolment.SetupError as exc:
        form.totp.errors = [str(exc)]
        return _render_second_factor(state, form, code=400)
    # The set-up session ends; an ordinary one starts with the new key.
    enrolment.end_session(ctx, request.cookies.get(_cookie_name()))
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
    return set_session_cookie(response, _cookie_name(), cookie)


# Changing credentials later: officers and administrators alike (an administrator made with `portal
# admin add` replaces the passphrase and second factor its maker saw here). Each asks the passphrase
# again through officer_sessions.confirm_passphrase, so wrong answers are audited and, past its
# limit, end the session.


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
            qr=second_factor.qr_svg(pending, g.who.account.email) if pending else None,
        ),
        code,
    )


class _Locked(Exception):
    pass


def _passphrase_is_right(passphrase: str) -> bool:
    try:
        return officer_sessions.confirm_passphrase(
            portal_context(), g.who, passphrase, request.cookies.get(_cookie_name())
        )
    except officer_sessions.ConfirmationLocked:
        raise _Locked() from None


@bp.errorhandler(_Locked)
def _locked(exc):
    return clear_session_cookie(
        redirect(url_for("console.login", ended="confirm"), code=303), _cookie_name()
    )


@bp.get("/account")
@signed_in(accounts.ROLES)
def account():
    notice = {
        "passphrase": "Your passphrase was changed.",
        "second-factor": "Your new second factor is in use. The old one no longer works.",
    }.get(request.args.get("done", ""))
    return _render_account(notice=notice)


@bp.post("/account/passphrase")
@signed_in(accounts.ROLES)
def change_passphrase():
    form = ChangePassphraseForm()
    if not form.validate():
        return _render_account(
            passphrase_form=form, problem="Your passphrase was not changed.", code=400
        )
    try:
        credential_changes.check_new_passphrase(
            g.who.account, form.passphrase.data, form.passphrase_again.data
        )
        if not _passphrase_is_right(form.current_passphrase.data):
            raise enrolment.SetupError("Your current passphrase is not right. Nothing was changed.")
        credential_changes.change_passphrase(
            portal_context(),
            g.who.account,
            g.who.private_key,
            form.passphrase.data,
            form.passphrase_again.data,
            keep_session=request.cookies.get(_cookie_name()),
            signing_key=g.who.signing_key,
        )
    except accounts.AccountError as exc:
        form.passphrase.errors = [str(exc)]
        return _render_account(
            passphrase_form=form, problem="Your passphrase was not changed.", code=400
        )
    return redirect(url_for("enrol.account", done="passphrase"), code=303)


@bp.post("/account/second-factor/start")
@signed_in(accounts.ROLES)
def start_second_factor():
    form = ReauthenticateForm()
    if not form.validate():
        return _render_account(reauth_form=form, problem="Nothing was changed.", code=400)
    if not _passphrase_is_right(form.passphrase.data):
        form.passphrase.errors = ["Your passphrase is not right. Nothing was changed."]
        return _render_account(reauth_form=form, problem="Nothing was changed.", code=400)
    credential_changes.begin_second_factor_change(portal_context(), g.who.account)
    return redirect(url_for("enrol.account") + "#second-factor", code=303)


@bp.post("/account/second-factor")
@signed_in(accounts.ROLES)
def confirm_second_factor():
    form = ConfirmNewSecondFactorForm()
    if not form.validate():
        return _render_account(
            confirm_form=form, problem="Your second factor was not changed.", code=400
        )
    try:
        if not _passphrase_is_right(form.passphrase.data):
            raise enrolment.SetupError("Your passphrase is not right. Nothing was changed.")
        credential_changes.finish_second_factor_change(
            portal_context(),
            g.who.account,
            form.totp.data,
            keep_session=request.cookies.get(_cookie_name()),
        )
    except enrolment.SetupError as exc:
        form.totp.errors = [str(exc)]
        return _render_account(
            confirm_form=form, problem="Your second factor was not changed.", code=400
        )
    return redirect(url_for("enrol.account", done="second-factor"), code=303)


# Who else may read a channel.


@bp.get("/memberships")
@signed_in("officer")
def memberships_page():
    ctx = portal_context()
    events = memberships.unseen_events(ctx, g.who.account)
    page = render_template(
        "keys/memberships.html",
        pending=memberships.pending_for(ctx, g.who.account),
        events=events,
        form=MembershipDecisionForm(),
        pending_recovery=recovery_requests.pending_for(ctx, g.who.account),
        unsealed=recovery.unsealed_for(ctx, g.who.account),
        recovery_form=RecoveryKeyDecisionForm(),
        seal_form=SealRecoveryForm(),
        sealed=request.args.get("sealed", type=int),
        left=request.args.get("left", type=int),
    )
    # Opening this page is seeing its changes: they leave the inbox's list.
    memberships.mark_seen(ctx, g.who.account, events)
    return page


def _strict_id(text: str | None) -> int:
    if not text or not (text.isascii() and text.isdigit()) or len(text) > 12:
        abort(404)
    return int(text)


@bp.post("/memberships/decide")
@signed_in("officer")
def decide_membership():
    form = MembershipDecisionForm()
    decision = request.form.get("decision")
    if not form.validate() or decision not in ("confirm", "refuse"):
        abort(400)
    try:
        memberships.decide(
            portal_context(),
            g.who.account,
            _strict_id(form.officer.data),
            _strict_id(form.channel.data),
            confirm=decision == "confirm",
            signing_seed=g.who.signing_key,
        )
    except memberships.MembershipNotFound:
        abort(404)
    return redirect(url_for("enrol.memberships_page"), code=303)

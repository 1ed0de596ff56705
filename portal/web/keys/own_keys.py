"""An officer's own keys in their console session: "Replace my keys" (a new key pair under a new
passphrase, every case key re-sealed, portal.keys.rotation), and a channel's recovery key (confirm
or refuse a pending one, portal.keys.recovery_requests; seal the earlier cases this officer reads,
portal.keys.recovery). None of these is on the server's command line: an officer's passphrase and
private key stay in their own session."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, g, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l

from portal.keys import (
    accounts,
    credential_changes,
    credentials,
    officer_sessions,
    recovery,
    recovery_requests,
    rotation,
)
from portal.web.console_session import console_cookie_name, signed_in
from portal.web.context import portal_context
from portal.web.keys.forms import (
    ChangePassphraseForm,
    RecoveryKeyDecisionForm,
    ResumeRotationForm,
    SealRecoveryForm,
)
from portal.web.languages import said
from portal.web.responses import clear_session_cookie, record_id_or_404, set_session_cookie

bp = Blueprint("own_keys", __name__, url_prefix="/console")

SEAL_SECONDS = 20.0  # a sealing request stops after the batch that passes this time


def _batching() -> dict:
    """Cases per transaction and the pause between batches (app config, for a busy server)."""
    return {
        "batch_size": int(
            current_app.config.get("PORTAL_ROTATION_BATCH_SIZE", rotation.BATCH_SIZE)
        ),
        "pause_seconds": float(current_app.config.get("PORTAL_ROTATION_PAUSE_SECONDS", 0.0)),
    }


def _render(form=None, resume_form=None, problem=None, code=200):
    ctx = portal_context()
    return (
        render_template(
            "keys/replace_keys.html",
            form=form or ChangePassphraseForm(),
            resume_form=resume_form or ResumeRotationForm(),
            progress=rotation.progress(ctx, g.who.account.id),
            fingerprint=accounts.fingerprint(g.who.account),
            done=request.args.get("done") == "1",
            problem=problem,
        ),
        code,
    )


def _signed_in_again(done: rotation.Rotated):
    """The rotation ended every session (each held the old private key): this browser goes on
    with a new one holding the new key."""
    ctx = portal_context()
    account = accounts.get_account(ctx, g.who.account.id)
    cookie = officer_sessions.start_session(
        ctx,
        account,
        done.private_key,
        done.signing_key,
        replacing=request.cookies.get(console_cookie_name()),
    )
    return set_session_cookie(
        redirect(url_for("own_keys.replace_keys", done=1), code=303), console_cookie_name(), cookie
    )


@bp.get("/account/keys")
@signed_in("officer")
def replace_keys():
    return _render()


@bp.post("/account/keys")
@signed_in("officer")
def replace_keys_post():
    form = ChangePassphraseForm()
    if not form.validate():
        return _render(form=form, problem=_l("Your keys were not replaced."), code=400)
    try:
        credential_changes.check_new_passphrase(
            g.who.account, form.passphrase.data, form.passphrase_again.data
        )
        try:
            right = officer_sessions.confirm_passphrase(
                portal_context(),
                g.who,
                form.current_passphrase.data,
                request.cookies.get(console_cookie_name()),
            )
        except officer_sessions.ConfirmationLocked:
            return clear_session_cookie(
                redirect(url_for("console.login", ended="confirm"), code=303),
                console_cookie_name(),
            )
        if not right:
            raise accounts.AccountError(
                _l("Your current passphrase is not right. Nothing was changed.")
            )
        done = rotation.start(
            portal_context(),
            g.who.account,
            g.who.private_key,
            form.current_passphrase.data,
            form.passphrase.data,
            signing_seed=g.who.signing_key,
            keep_session=request.cookies.get(console_cookie_name()),
            **_batching(),
        )
    except accounts.AccountError as exc:
        form.passphrase.errors = [said(exc)]
        return _render(form=form, problem=_l("Your keys were not replaced."), code=400)
    return _signed_in_again(done)


@bp.post("/account/keys/resume")
@signed_in("officer")
def resume_rotation():
    form = ResumeRotationForm()
    if not form.validate():
        return _render(
            resume_form=form, problem=_l("The change of your keys was not carried on."), code=400
        )
    try:
        done = rotation.resume(
            portal_context(), g.who.account.id, form.passphrase.data, **_batching()
        )
    except LookupError:
        return redirect(url_for("own_keys.replace_keys"), code=303)
    except rotation.RotationTampered:
        return _render(
            resume_form=form,
            problem=_l("This change of keys was not begun by you: nothing was re-sealed. Tell your"
            " integrity team's lead and the server's operator."),
            code=400,
        )
    except credentials.LoginFailed:
        form.passphrase.errors = [_l("That is not the new passphrase this change began with.")]
        return _render(
            resume_form=form, problem=_l("The change of your keys was not carried on."), code=400
        )
    return _signed_in_again(done)



@bp.post("/recovery/decide")
@signed_in("officer")
def decide_recovery_key():
    form = RecoveryKeyDecisionForm()
    decision = request.form.get("decision")
    if not form.validate() or decision not in ("confirm", "refuse"):
        abort(400)
    try:
        recovery_requests.decide(
            portal_context(),
            g.who.account,
            record_id_or_404(form.channel.data),
            form.fingerprint.data,
            confirm=decision == "confirm",
            signing_seed=g.who.signing_key,
        )
    except recovery_requests.RecoveryRequestNotFound:
        abort(404)
    return redirect(url_for("enrol.memberships_page") + "#recovery-keys", code=303)


@bp.post("/recovery/seal")
@signed_in("officer")
def seal_recovery():
    form = SealRecoveryForm()
    if not form.validate():
        abort(400)
    try:
        sealed, left, state = recovery.seal_existing(
            portal_context(),
            g.who.account,
            g.who.private_key,
            record_id_or_404(form.channel.data),
            seconds=SEAL_SECONDS,
        )
    except recovery.RecoveryError:
        abort(404)
    # Stopped part way (the request's time budget): the page says how far, and the same form
    # carries on after the last case done.
    far = {} if state.finished else {"done": state.done, "total": state.total}
    return redirect(
        url_for("enrol.memberships_page", sealed=sealed, left=left, **far) + "#recovery-keys",
        code=303,
    )

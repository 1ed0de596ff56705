"""Who else may read a channel: the memberships page (changes, requests to confirm, recovery keys)
and the officer's decision on a membership."""

from __future__ import annotations

from flask import abort, g, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l

from portal.keys import channel_arrivals, memberships, recovery, recovery_requests
from portal.web.console_session import signed_in
from portal.web.context import portal_context
from portal.web.keys.enrol_blueprint import bp
from portal.web.keys.forms import (
    ArrivalConfirmForm,
    MembershipDecisionForm,
    RecoveryKeyDecisionForm,
    SealRecoveryForm,
)
from portal.web.responses import record_id_or_404


@bp.get("/memberships")
@signed_in("officer")
def memberships_page():
    return _page()


def _page(arrival_form: ArrivalConfirmForm | None = None, code: int = 200):
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
        seal_done=request.args.get("done", type=int),
        seal_total=request.args.get("total", type=int),
        arrivals=channel_arrivals.pending_for(ctx, g.who.account),
        arrival_form=arrival_form or ArrivalConfirmForm(formdata=None),
        arrived=request.args.get("arrived", type=int),
    )
    # Opening this page is seeing its changes: they leave the inbox's list.
    memberships.mark_seen(ctx, g.who.account, events)
    return page, code



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
            record_id_or_404(form.officer.data),
            record_id_or_404(form.channel.data),
            confirm=decision == "confirm",
            signing_seed=g.who.signing_key,
        )
    except memberships.MembershipNotFound:
        abort(404)
    return redirect(url_for("enrol.memberships_page"), code=303)


@bp.post("/memberships/arrivals")
@signed_in("officer")
def confirm_arrival():
    """A channel moving here from another organisation: confirmed by naming the sending roster's
    head (portal.keys.channel_arrivals)."""
    form = ArrivalConfirmForm()
    if not form.validate():
        if form.move.errors:
            abort(400)
        return _page(form, 400)
    try:
        channel_arrivals.confirm(
            portal_context(), g.who.account, form.move.data, form.roster_head.data
        )
    except channel_arrivals.ArrivalNotFound:
        abort(404)
    except channel_arrivals.WrongHead:
        form.roster_head.errors = [
            _l("A roster head is 16 letters and digits (0-9, a-f), as the roster page shows it.")
        ]
        return _page(form, 400)
    return redirect(url_for("enrol.memberships_page", arrived=1), code=303)

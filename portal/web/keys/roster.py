"""The roster page: each channel's signed roster as the officer sees it, and the statements waiting
for the officer's signature (portal.keys.roster_work; SECURITY.md, "Signed roster")."""

from __future__ import annotations

from flask import Blueprint, abort, g, redirect, render_template, request, url_for
from flask_babel import gettext

from portal.keys import access, offboarding, roster_handover, roster_work
from portal.web.console_session import signed_in
from portal.web.context import portal_context
from portal.web.keys.confirm import passphrase_confirmed
from portal.web.keys.forms import RosterStatementForm
from portal.web.languages import said
from portal.web.responses import record_id_or_404

bp = Blueprint("roster", __name__, url_prefix="/console")

KINDS = ("start", "admit", "replace", "remove", "handover", "offboard")


@bp.get("/roster")
@signed_in("officer")
def roster_page():
    return _render()


def _render(refused: str | None = None, code: int = 200):
    ctx = portal_context()
    page = render_template(
        "keys/roster.html",
        views=roster_work.views_for(ctx, g.who.account),
        pending=roster_work.pending_for(ctx, g.who.account),
        proposals=roster_handover.proposals_for(ctx, g.who.account),
        offboardings=offboarding.pending_for(ctx, g.who.account),
        refused=refused,
        hand_over=roster_handover.hand_over_choices(ctx, g.who.account),
        can_sign=g.who.signing_key is not None,
        form=RosterStatementForm(),
    )
    # Opening this page is seeing each roster as it stands: the inbox stops flagging a change.
    roster_work.mark_seen(ctx, g.who.account)
    return page, code


@bp.post("/roster/sign")
@signed_in("officer")
def sign():
    # Signing an offboarding destroys the leaver's key for good: the passphrase again first, as
    # for an identity release.
    if request.form.get("kind") == "offboard":
        return _sign_offboarding()
    return _sign()


@passphrase_confirmed
def _sign_offboarding():
    return _sign()


def _sign():
    form = RosterStatementForm()
    if not form.validate() or form.kind.data not in KINDS or g.who.signing_key is None:
        abort(400)
    ctx, channel_id = portal_context(), record_id_or_404(form.channel.data)
    signed = form.kind.data
    try:
        if form.kind.data == "start":
            roster_work.start(ctx, g.who.account, g.who.signing_key, channel_id)
        elif form.kind.data == "offboard":
            # An administrator's request to offboard (portal.keys.offboarding): signing it
            # offboards the officer and signs their removal from this officer's rosters.
            offboarding.sign(
                ctx, g.who.account, g.who.signing_key, record_id_or_404(form.officer.data)
            )
        elif form.kind.data == "handover":
            target = record_id_or_404(form.officer.data)
            done = roster_handover.hand_over(
                ctx, g.who.account, g.who.signing_key, channel_id, target
            )
            signed = "handover" if done else "handover-waiting"
        else:
            roster_work.sign_pending(
                ctx,
                g.who.account,
                g.who.signing_key,
                channel_id,
                record_id_or_404(form.officer.data),
                form.kind.data,
            )
    except (roster_work.NothingToSign, roster_handover.NoHandOver, offboarding.NoSuchRequest):
        abort(404)
    except access.LastReader as exc:
        # The reason (portal.keys.access.LastReader) names a count of cases: in English.
        return _render(refused=gettext("Nothing was signed. %(why)s", why=said(exc)), code=400)
    return redirect(url_for("roster.roster_page", signed=signed), code=303)

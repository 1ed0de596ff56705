"""The console's inbox: an officer's work queue of cases, filtered and ordered by GET only."""

from __future__ import annotations

from flask import g, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l

from portal.casework import needs_you, queue_filters, queue_rows, saved_views, triage
from portal.casework.categories import CATEGORIES
from portal.guard import flood
from portal.keys import memberships, offboarding, officer_sessions, recovery_requests, roster_work
from portal.web.casework.blueprint import bp
from portal.web.casework.inbox_search import RemoveViewForm, SaveViewForm, SearchForm
from portal.web.console_session import signed_in
from portal.web.context import portal_context

NOTICES = {
    "view-saved": _l("The view is saved: it is in your saved views below, and shown now."),
    "view-removed": _l("The view is removed from your saved views. The cases are unchanged."),
}


@bp.get("/")
@signed_in()
def inbox():
    """The work queue: GET filters and orders only (docs/interface.md), so every view can be
    bookmarked."""
    if g.who.is_admin:
        return redirect(url_for("admin.overview"), code=303)
    ctx = portal_context()
    wanted, problems = queue_filters.parse_filter(request.args)
    found = triage.queue_page(ctx, g.who, wanted)
    return render_template(
        "casework/inbox.html",
        inbox=found,
        wanted=wanted,
        problems=problems,
        search_form=SearchForm(formdata=None),
        saved_views=saved_views.views_of(ctx, g.who.account.id),
        save_view_form=SaveViewForm(formdata=None),
        remove_view_form=RemoveViewForm(formdata=None),
        notice=NOTICES.get(request.args.get("notice", "")),
        choices=queue_filters.filter_choices(ctx, g.who.account.id),
        departed=queue_filters.departed_assignee(ctx, g.who.account.id, wanted),
        sorts=queue_filters.SORTS,
        statuses=queue_rows.SHORT_STATUSES,
        categories={value: queue_rows.SHORT_CATEGORIES[value] for value in CATEGORIES},
        due_filters=queue_filters.DUE_FILTERS,
        assignee_filters=queue_filters.ASSIGNEE_FILTERS,
        deadline_words=queue_rows.DEADLINE_WORDS,
        last_visit=officer_sessions.last_visit(ctx, g.who),
        membership_events=memberships.unseen_events(ctx, g.who.account),
        pending_memberships=memberships.pending_for(ctx, g.who.account),
        roster_notes=roster_work.attention(ctx, g.who.account),
        pending_recovery=recovery_requests.pending_for(ctx, g.who.account),
        flood=flood.today(ctx),
        releases_to_confirm=needs_you.releases_to_confirm(ctx, g.who.account.id),
        # An administrator's request to offboard a fellow officer waits for one of them to sign.
        offboardings_to_sign=offboarding.pending_for(ctx, g.who.account),
        waiting_to_be_confirmed=(
            not found.rows and needs_you.waiting_to_be_confirmed(ctx, g.who.account)
        ),
    )

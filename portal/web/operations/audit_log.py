"""The audit log in the console: browsing what the signed-in account may see, and exporting it."""

from __future__ import annotations

import functools
import itertools

from flask import Blueprint, g, render_template, request

from portal.casework import referrals
from portal.core.numbers import whole_number_or
from portal.records import audit, audit_entries, audit_head
from portal.web.console_session import signed_in
from portal.web.context import portal_context
from portal.web.csv_export import csv_download
from portal.web.forms import EmptyForm
from portal.web.keys.confirm import passphrase_confirmed
from portal.web.languages import detail_words

bp = Blueprint("audit_log", __name__, url_prefix="/console")

PAGE_SIZE = 100


@bp.get("/audit")
@signed_in()
def entries():
    ctx = portal_context()
    before = whole_number_or(request.args.get("before"), 0, minimum=1) or None
    rows = audit_entries.entries_for(
        ctx, g.who.account.id, g.who.account.role, limit=PAGE_SIZE + 1, before=before
    )
    return render_template(
        "operations/audit.html",
        entries=rows[:PAGE_SIZE],
        more=len(rows) > PAGE_SIZE,
        head=audit_head.read_head(ctx.settings.data_dir),
        tz=ctx.settings.timezone,
        local_time=audit_entries.local_time,
        # Older directory events recorded only the entry's number: named from the directory.
        detail_words=functools.partial(
            detail_words, authorities={a.id: a.name for a in referrals.list_authorities(ctx)}
        ),
        form=EmptyForm(),
    )


@bp.post("/audit/export")
@signed_in()
@passphrase_confirmed
def export():
    ctx = portal_context()
    audit.record(ctx, "audit_export", actor=g.who.account.id)
    header = [["entry", "time_utc", "event", "by", "about_account", "channel", "case", "detail"]]
    rows = (
        (
            e.seq,
            e.at,
            e.event,
            e.actor_name,
            e.subject_name,
            e.channel_name,
            e.case_ref,
            audit_entries.detail_text(e.detail),
        )
        for e in audit_entries.all_entries_for(ctx, g.who.account.id, g.who.account.role)
    )
    return csv_download(itertools.chain(header, rows), "audit-log.csv")

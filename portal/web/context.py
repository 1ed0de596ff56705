"""The request's Context (portal.core.context.Context): the installation's storage for one web
request.

Views reach settings, the database and the blob store only through portal_context(); the app factory
(portal.web.app) closes what it opened at teardown.
"""

from __future__ import annotations

from flask import current_app, g

from portal.core.config import Settings
from portal.core.context import Context
from portal.records.audit import close_past_days
from portal.store import connect, faults

# How long a person is told to wait while the portal is short of space, whether a write met the
# full disk or a form was refused below the free-space floor: one state, one answer
# (portal.web.fault_pages).
SHORT_OF_SPACE_RETRY_AFTER = faults.RETRY_AFTER["full"]


def portal_context() -> Context:
    """The installation's storage for this request, opened once and closed at teardown."""
    if "portal_ctx" not in g:
        settings: Settings = current_app.config["PORTAL_SETTINGS"]
        g.portal_ctx = Context(
            settings,
            connect(settings.database_path, settings.busy_timeout_seconds),
            current_app.extensions["portal_blobs"],
        )
        # The first request after a day ends appends that day's discloser entries to the audit
        # chain (one query per worker and day otherwise; a storage fault puts it off).
        faults.put_off(close_past_days, g.portal_ctx)
    return g.portal_ctx

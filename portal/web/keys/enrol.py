"""The officer's own pages, one blueprint (`enrol`: the enrolment link and set-up steps, the account
page and credential changes, channel memberships): its routes are registered on `bp` by the view
modules listed in VIEWS, so registering it brings all of them. A new module of this blueprint is
added to VIEWS."""

from __future__ import annotations

from portal.web.keys import account, enrolment, memberships
from portal.web.keys.enrol_blueprint import bp

VIEWS = (enrolment, account, memberships)

__all__ = ["VIEWS", "bp"]

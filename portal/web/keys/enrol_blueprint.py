"""The blueprint `enrol` (under /console), on which the officer's own pages register their routes:
the enrolment link and first sign-in set-up (enrolment), the account page and credential changes
(account), and who else may read a channel (memberships). portal.web.keys.enrol lists them."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("enrol", __name__, url_prefix="/console")

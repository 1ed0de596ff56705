"""The discloser's blueprint, `discloser`: its pages register their routes on it
(portal.web.intake.disclose, portal.web.intake.status_pages)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("discloser", __name__)

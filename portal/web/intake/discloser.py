"""The discloser's blueprint, whole: its routes are registered on `bp` by the view modules listed in
VIEWS, so registering this blueprint brings every discloser page with it. A new module of this
blueprint is added to VIEWS."""

from __future__ import annotations

from portal.web.intake import disclose, originals, proof_pages, sealed, status_pages
from portal.web.intake.blueprint import bp

VIEWS = (disclose, status_pages, proof_pages, originals, sealed)

__all__ = ["VIEWS", "bp"]

"""The officers' console blueprint, whole: its routes are registered on `bp` by the view modules
listed in VIEWS, so registering this blueprint brings every console page with it."""

from __future__ import annotations

from portal.web.casework import case_actions, case_notes, case_page, inbox, interests, sign_in
from portal.web.casework.blueprint import bp

VIEWS = (sign_in, inbox, case_page, case_actions, case_notes, interests)

__all__ = ["VIEWS", "bp"]

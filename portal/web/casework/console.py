"""The console's core blueprint (`console`: sign-in, the inbox, the case page and its actions,
notes, interests): its routes are registered on `bp` by the view modules listed in VIEWS, so
registering it brings all of them. A new module of this blueprint is added to VIEWS."""

from __future__ import annotations

from portal.web.casework import (
    bulk_close,
    case_actions,
    case_notes,
    case_page,
    file_copies,
    inbox,
    inbox_search,
    interests,
    member_referral,
    sign_in,
)
from portal.web.casework.blueprint import bp

VIEWS = (
    sign_in,
    inbox,
    inbox_search,
    case_page,
    case_actions,
    case_notes,
    interests,
    bulk_close,
    file_copies,
    member_referral,
)

__all__ = ["VIEWS", "bp"]

"""The administrators' console, one blueprint (`admin`, under /console/admin): its routes are
registered on `bp` by the view modules listed in VIEWS, so registering it brings all of them. An
administrator manages channels, officers, invitations, offboarding, settings, and the directory of
appropriate authorities with their contacts, and reads no case. A new module of this blueprint is
added to VIEWS.

An administrator's new membership or invitation stays pending until an officer who already reads the
channel confirms it (portal.keys.memberships), and an offboarding until one signs it
(portal.keys.offboarding): nobody adds or removes a reader through one person's action alone.
"""

from __future__ import annotations

from portal.web.operations import (
    admin_channels,
    admin_contacts,
    admin_directory,
    admin_invitations,
    admin_offboarding,
    admin_settings,
)
from portal.web.operations.admin_blueprint import bp

VIEWS = (
    admin_channels,
    admin_invitations,
    admin_offboarding,
    admin_settings,
    admin_directory,
    admin_contacts,
)

__all__ = ["VIEWS", "bp"]

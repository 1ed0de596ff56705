"""Enrolment links: `portal officer invite`, or an administrator's console, makes a one-time link,
valid 72 hours, whose token is stored only as a hash. Following it starts the set-up
(portal/keys/enrolment.py).
"""

from __future__ import annotations

import hashlib
import json
import secrets

from portal.core.clock import epoch
from portal.core.context import Context
from portal.keys import accounts, memberships
from portal.keys.accounts import Account, AccountError
from portal.keys.channels import resolve_channels
from portal.records import audit
from portal.store import transaction

INVITATION_SECONDS = 72 * 3600
ENROL_PATH = "/console/enrol/"


class InvitationUnusable(Exception):
    """An enrolment link that is unknown, used or expired: deliberately not saying which."""


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invite(
    ctx: Context, *, email: str, name: str, channels: list[str], invited_by: Account | None
) -> str:
    """Create an invitation and return its one-time token (shown once, stored only hashed).

    `invited_by` None means the server's operator (the command line): the channels are joined as
    confirmed. An administrator's invitation joins them as pending, and needs a channel that already
    has an officer to confirm it. Raises AccountError."""
    email, name = email.strip(), name.strip()
    if "@" not in email or not name:
        raise AccountError("An invitation needs an email address and a name.")
    found = resolve_channels(ctx, channels, required=True)
    token = secrets.token_urlsafe(32)
    with transaction(ctx.db):
        key = accounts.check_name_and_email_free(ctx, name, email)
        if invited_by is not None:
            for channel in found:
                memberships.require_first_officer(ctx, channel)
        # An expired invitation for the same person gives way to the new one.
        ctx.db.execute(
            "DELETE FROM invitations WHERE email = ? AND (used = 1 OR expires_at <= ?)",
            [email, epoch()],
        )
        ctx.db.execute(
            "INSERT INTO invitations (token_hash, email, name, name_key, channel_ids, invited_by,"
            " expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                token_hash(token),
                email,
                name,
                key,
                json.dumps([c.id for c in found]),
                invited_by.id if invited_by else None,
                epoch() + INVITATION_SECONDS,
            ],
        )
        audit.record(
            ctx,
            "invitation",
            actor=invited_by.id if invited_by else None,
            detail={"channels": len(found), "by_operator": invited_by is None},
        )
    return token

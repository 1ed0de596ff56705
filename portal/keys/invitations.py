"""Enrolment links: `portal officer invite`, an administrator's console, or a service's `portal org
invite` (an organisation's first administrator or officer) makes a one-time link, valid 72 hours,
whose token is stored only as a keyed hash. Following it starts the set-up
(portal/keys/enrolment.py).
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass

import crypto
from portal.core.clock import epoch, today
from portal.core.context import Context
from portal.core.words import N_
from portal.guard import submissions
from portal.keys import accounts, memberships
from portal.keys.accounts import Account, AccountError
from portal.keys.channels import resolve_channels
from portal.records import audit
from portal.store import transaction

INVITATION_SECONDS = 72 * 3600
ENROL_PATH = "/console/enrol/"


class InvitationUnusable(Exception):
    """An enrolment link that is unknown, used or expired: deliberately not saying which."""


def token_hash(ctx: Context, token: str) -> str:
    """The invitation token as stored: keyed BLAKE2b-256 under a subkey of the installation's
    secret, so a copy of the database alone cannot even test a guessed token."""
    key = crypto.derive_subkey(ctx.settings.secret_key, "invitation-token")
    return hashlib.blake2b(token.encode(), key=key, digest_size=32).hexdigest()


def stored_hashes(ctx: Context, token: str) -> tuple[str, str]:
    """The hashes a live invitation's row may hold for `token`: the keyed one, and the plain
    SHA-256 of invitations made before migration 40 (still pending for at most 72 hours)."""
    return token_hash(ctx, token), hashlib.sha256(token.encode()).hexdigest()


def invite(
    ctx: Context,
    *,
    email: str,
    name: str,
    channels: list[str],
    invited_by: Account | None,
    role: str = "officer",
    submission_token: str | None = None,
) -> str:
    """Create an invitation and return its one-time token (shown once, stored only hashed).
    `submission_token`: the console's form, sent again by a reload, raises
    submissions.AlreadySubmitted and makes nothing.

    `invited_by` None means the server's operator (the command line): the channels are joined as
    confirmed. An administrator's invitation joins them as pending, and needs a channel that already
    has an officer to confirm it. `role` "admin" invites an administrator, who joins no channel
    (only the command line does that). Raises AccountError."""
    email, name = email.strip(), name.strip()
    if "@" not in email or not name:
        raise AccountError(N_("An invitation needs an email address and a name."))
    if role not in ("officer", "admin") or (role == "admin" and (channels or invited_by)):
        raise AccountError(N_("An administrator is invited at the command line, to no channel."))
    found = resolve_channels(ctx, channels, required=role == "officer")
    with transaction(ctx.db):
        submissions.claim(ctx.db, submission_token, today(ctx.settings.timezone))
        token = _insert(ctx, email, name, found, invited_by, role)
        audit.record(
            ctx,
            "invitation",
            actor=invited_by.id if invited_by else None,
            # An administrator's invitation says so ("as an administrator"); an officer's reads as
            # every invitation always has.
            detail={
                "channels": len(found),
                "by_operator": invited_by is None,
                **({"role": role} if role == "admin" else {}),
            },
        )
    return token


def _insert(
    ctx: Context, email: str, name: str, found: list, invited_by: Account | None, role: str
) -> str:
    """Inside the caller's transaction: one invitation row; returns its one-time token."""
    token = secrets.token_urlsafe(32)
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
        " expires_at, role) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            token_hash(ctx, token),
            email,
            name,
            key,
            json.dumps([c.id for c in found]),
            invited_by.id if invited_by else None,
            epoch() + INVITATION_SECONDS,
            role,
        ],
    )
    return token


# --- Pending invitations, for the administrators' console
# ---------------------------------------------------------


@dataclass(frozen=True)
class PendingInvitation:
    id: int  # the row's id: names the invitation on a form (its token is never kept)
    email: str
    name: str
    channels: list[str]  # names of the channels it asks to join
    expires_at: int  # Unix seconds
    by_operator: bool  # made with `portal officer invite` (joins confirmed) rather than the console
    role: str = "officer"  # or "admin": an organisation's first administrator (`portal org invite`)


def _channel_names(ctx: Context, channel_ids: str) -> list[str]:
    ids = json.loads(channel_ids)
    rows = ctx.db.execute("SELECT id, name FROM channels").fetchall()
    names = dict(rows)
    return [names[i] for i in ids if i in names]


def pending(ctx: Context) -> list[PendingInvitation]:
    """Invitations not used and not expired, soonest to expire first."""
    rows = ctx.db.execute(
        "SELECT rowid, email, name, channel_ids, expires_at, invited_by IS NULL, role"
        " FROM invitations WHERE used = 0 AND expires_at > ? ORDER BY expires_at, rowid",
        [epoch()],
    ).fetchall()
    return [
        PendingInvitation(i, email, name, _channel_names(ctx, ids), expires, bool(by_op), role)
        for i, email, name, ids, expires, by_op, role in rows
    ]


def _pending_row(ctx: Context, invitation_id: int, email: str):
    # The email too: a row id can be given again once its row is gone, so a form sent twice names
    # nobody else's invitation.
    row = ctx.db.execute(
        "SELECT email, name, channel_ids, role FROM invitations WHERE rowid = ? AND email = ?"
        " AND used = 0 AND expires_at > ?",
        [invitation_id, email.strip(), epoch()],
    ).fetchone()
    if row is None:
        raise InvitationUnusable()
    return row


def revoke(ctx: Context, admin: Account, invitation_id: int, email: str) -> str:
    """Withdraw the pending invitation `invitation_id` for `email`: its link stops working. Returns
    the email. Raises InvitationUnusable for one used, expired or unknown. Audited."""
    with transaction(ctx.db):
        email, _, _, _ = _pending_row(ctx, invitation_id, email)
        ctx.db.execute("DELETE FROM invitations WHERE rowid = ?", [invitation_id])
        audit.record(ctx, "invitation_revoke", actor=admin.id)
    return email


def resend(ctx: Context, admin: Account, invitation_id: int, email: str) -> tuple[str, str]:
    """Replace a pending invitation by a new one for the same person and channels, with a new
    token and a fresh 72 hours; the old link stops working. The new one is this administrator's,
    so its memberships wait for an officer of each channel to confirm them. Returns (email, new
    token). Raises InvitationUnusable, AccountError. Audited."""
    with transaction(ctx.db):
        email, name, channel_ids, role = _pending_row(ctx, invitation_id, email)
        ctx.db.execute("DELETE FROM invitations WHERE rowid = ?", [invitation_id])
        names = _channel_names(ctx, channel_ids)
        found = resolve_channels(ctx, names, required=role == "officer")
        token = _insert(ctx, email, name, found, admin, role)
        audit.record(ctx, "invitation_resend", actor=admin.id, detail={"channels": len(found)})
    return email, token

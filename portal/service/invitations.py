"""An organisation's first administrator and first officers, invited by the service operator
(`portal org invite`, issue 29): an ordinary enrolment link of that organisation
(portal.keys.invitations: one use, 72 hours, only a keyed hash kept), through which the person
chooses their own passphrase and second factor and makes their own keys in the organisation's own
database (portal.keys.enrolment). The operator learns the link, never a passphrase or a key.

The operator only starts an organisation: an administrator while it has none, an officer only for a
channel that has no officer yet (its first, whose key becomes the channel's roster root). Everyone
after that is invited by the organisation's own administrators and confirmed by its officers."""

from __future__ import annotations

from pathlib import Path

from portal.core.context import open_context
from portal.core.words import N_, Sentence
from portal.keys import accounts, invitations
from portal.keys.accounts import AccountError
from portal.keys.channels import channel_officers, resolve_channels
from portal.service import operator
from portal.service.registry import ServiceError, data_dir_of, organisation, organisations

ROLES = ("admin", "officer")


def invite_member(
    service_dir: Path, slug: str, *, role: str, email: str, name: str, channels: list[str]
) -> str:
    """Make the invitation and return its one-time token (shown once); the link is
    `/o/<slug>` + invitations.ENROL_PATH + token. Audited in the service's chain (the
    organisation's service id and the role, no name or address) and in the organisation's (as
    `portal officer invite` is). Raises ServiceError for an unknown organisation, AccountError
    for an organisation that is past its first administrator or a channel past its first officer,
    or a malformed invitation."""
    if slug not in {org.slug for org in organisations(service_dir)}:
        raise ServiceError(Sentence(N_("There is no organisation '%(slug)s'."), slug=slug))
    if role not in ROLES:
        raise AccountError("The role is admin or officer.")
    ctx = open_context(data_dir_of(service_dir, slug))
    try:
        _refuse_past_the_first(ctx, role, channels)
        token = invitations.invite(
            ctx, email=email, name=name, channels=channels, invited_by=None, role=role
        )
    finally:
        ctx.db.conn.close()
    operator.record(
        service_dir,
        "organisation_invitation",
        {"organisation": organisation(service_dir, slug).id, "role": role},
    )
    return token


def _refuse_past_the_first(ctx, role: str, channels: list[str]) -> None:
    pending = [i for i in invitations.pending(ctx) if i.by_operator]
    if role == "admin":
        if any(s.account.role == "admin" for s in accounts.list_accounts(ctx)) or any(
            i.role == "admin" for i in pending
        ):
            raise AccountError(
                "This organisation has an administrator, or an invitation for one: its own"
                " administrators invite the next."
            )
        return
    for channel in resolve_channels(ctx, channels, required=True):
        if channel_officers(ctx, channel.id) or any(channel.name in i.channels for i in pending):
            raise AccountError(
                f"{channel.name} has an officer, or an invitation for its first: its next officers"
                " are invited by the organisation's administrators and confirmed by its officers."
            )

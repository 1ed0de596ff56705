"""What the administrators' console shows and changes besides channels and memberships: each
officer's state, the overdue cases of each channel (counts only: an administrator reads no case),
and the settings an administrator may change from the console.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from portal.core import setting_changes
from portal.core.clock import today
from portal.core.context import Context
from portal.core.installation_file import INSTALLATION_FILE
from portal.core.words import N_
from portal.keys import accounts, channels, invitations
from portal.records import audit

# An officer's state, as the console names it.
STATES = {
    "invited": N_("Invited"),
    "set_up": N_("Not set up yet"),
    "waiting": N_("Waiting for confirmation"),
    "enrolled": N_("Enrolled"),
    "offboarding": N_("To be offboarded"),
    "offboarded": N_("Offboarded"),
}


@dataclass(frozen=True)
class OfficerRow:
    account_id: int | None  # None for an invitation not yet followed
    name: str
    email: str
    state: str  # a key of STATES
    channels: list[str]  # channel names, each marked while it waits for confirmation

    @property
    def state_label(self) -> str:
        return STATES[self.state]


def _officer_state(
    summary: accounts.AccountSummary, pending: set[int], offboarding: set[int], not_set_up: set[int]
) -> str:
    account_id = summary.account.id
    if summary.offboarded_day:
        return "offboarded"
    if account_id in offboarding:
        return "offboarding"
    if account_id in not_set_up:
        return "set_up"
    if account_id in pending:
        return "waiting"
    return "enrolled"


def _ids(ctx: Context, sql: str) -> set[int]:
    return {row[0] for row in ctx.db.execute(sql).fetchall()}


def officers(ctx: Context) -> list[OfficerRow]:
    """Every officer, with their state, then every pending invitation ('invited'). An officer
    waits for confirmation while a membership of theirs waits for an officer of its channel."""
    pending = _ids(ctx, "SELECT account_id FROM channel_officers WHERE state = 'pending'")
    offboarding = _ids(ctx, "SELECT account_id FROM offboarding_requests")
    not_set_up = _ids(ctx, "SELECT id FROM accounts WHERE must_change_credentials = 1")
    rows = [
        OfficerRow(
            s.account.id,
            s.account.name,
            s.account.email,
            _officer_state(s, pending, offboarding, not_set_up),
            s.channels,
        )
        for s in accounts.list_accounts(ctx)
        if s.account.role == "officer"
    ]
    rows += [
        OfficerRow(None, i.name, i.email, "invited", i.channels)
        for i in invitations.pending(ctx)
    ]
    return rows


@dataclass(frozen=True)
class ChannelCounts:
    channel: channels.Channel
    officers: int  # confirmed officers
    overdue: int  # cases whose next statutory deadline has passed


def channel_counts(ctx: Context) -> list[ChannelCounts]:
    """Each channel with its number of officers and of overdue cases: counted from the deadlines
    kept in the clear (cases.due_day), never from a case's content."""
    overdue = dict(
        ctx.db.execute(
            "SELECT channel_id, COUNT(*) FROM cases WHERE due_day < ? GROUP BY channel_id",
            [today(ctx.settings.timezone)],
        ).fetchall()
    )
    return [
        ChannelCounts(c, len(channels.channel_officers(ctx, c.id)), overdue.get(c.id, 0))
        for c in channels.list_channels(ctx)
    ]


# --- Settings
# ------------------------------------------------------------------------------------------

# The settings of `portal setting set` an administrator may change in the console. The others are
# security settings and stay with the server's operator: session lengths, the flood defences, the
# onion address and the public address (where disclosers and officers' links are sent), the SMTP
# host, user, password and STARTTLS (where the stored password goes, and whether in the clear).
CONSOLE_SETTINGS = {
    "security_contact": N_("Security contact (the Contact line of /.well-known/security.txt)"),
    "smtp_from": N_("Sender address of the officers' digests"),
    "smtp_port": N_("Port of the mail server"),
}


@dataclass(frozen=True)
class Setting:
    name: str
    label: str
    value: str  # as saved in installation.json ('' when not set)


def _saved(ctx: Context) -> dict:
    return json.loads((ctx.settings.data_dir / INSTALLATION_FILE).read_text())


def console_settings(ctx: Context) -> list[Setting]:
    """The settings the console may change, with their saved values."""
    saved = _saved(ctx)
    return [
        Setting(name, label, "" if saved.get(name) is None else str(saved[name]))
        for name, label in CONSOLE_SETTINGS.items()
    ]


def operator_settings() -> list[str]:
    """The names only the server's operator changes (`portal setting set`)."""
    return sorted(set(setting_changes.CHANGEABLE) - set(CONSOLE_SETTINGS))


def change_setting(ctx: Context, admin: accounts.Account, name: str, value: str) -> None:
    """Save one console setting to installation.json, audited as `portal setting set` is (the name,
    never the value). It takes effect when the portal next starts. Raises ValueError for a name the
    console may not change or a value of the wrong kind."""
    if name not in CONSOLE_SETTINGS:
        raise ValueError("That setting is changed on the server, with `portal setting set`.")
    setting_changes.change_setting(ctx.settings.data_dir, name, value)
    audit.record(ctx, "settings_change", actor=admin.id, detail={"setting": name})

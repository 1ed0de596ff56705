"""Channel memberships: nobody becomes a reader through one person's action alone (SECURITY.md, "Key
lifecycle").

An administrator's request makes a membership *pending*; only an officer who already reads the
channel can confirm it, and only a confirmed member is sealed new case keys. A channel's first
officer comes from the server's operator on the command line. Every request, confirmation, refusal
and removal is listed for the channel's officers until each has seen it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import crypto
from portal.core.clock import today
from portal.core.context import Context
from portal.core.words import N_, Sentence
from portal.guard import submissions
from portal.keys import access, accounts, channels, roster, roster_work
from portal.keys.accounts import Account, AccountError
from portal.records import audit
from portal.store import transaction


class MembershipNotFound(Exception):
    """No pending membership that this officer may decide (answered like a missing page)."""


@dataclass(frozen=True)
class PendingMembership:
    channel_id: int
    channel_name: str
    account_id: int
    name: str
    email: str
    public_key: bytes

    @property
    def fingerprint(self) -> str:
        """What the confirming officer checks with the person directly: an administrator who
        enrolled through someone's link, or a look-alike account, cannot show the real person's
        fingerprint.
        """
        return crypto.key_fingerprint(self.public_key)


@dataclass(frozen=True)
class MembershipEvent:
    id: int
    channel_name: str
    subject: str
    action: str
    actor: str
    day: str


def label(account: Account) -> str:
    """How a person is named in membership records: display name and email, never one alone."""
    return f"{account.name} <{account.email}>"


def _actor(account: Account) -> str:
    role = "administrator" if account.role == "admin" else "officer"
    return f"{role} {label(account)}"


def _record(
    ctx: Context,
    event: str,
    channel_id: int,
    *,
    subject_id: int,
    subject: str,
    action: str,
    actor: Account,
) -> None:
    """One membership change, both for the channel's officers to see and in the audit log (inside
    the caller's transaction)."""
    channels.record_membership_event(ctx, channel_id, subject, action, _actor(actor))
    audit.record(ctx, event, actor=actor.id, subject=subject_id, channel=channel_id)


def _confirmed_count(ctx: Context, channel_id: int) -> int:
    return ctx.db.execute(
        "SELECT COUNT(*) FROM channel_officers co JOIN accounts a ON a.id = co.account_id "
        "WHERE co.channel_id = ? AND co.state = 'confirmed' AND a.role = 'officer'",
        [channel_id],
    ).fetchone()[0]


def require_first_officer(ctx: Context, channel: channels.Channel) -> None:
    """Refuse a web request for a channel that has no officer yet: its first one comes from the
    command line."""
    if _confirmed_count(ctx, channel.id) == 0:
        raise AccountError(Sentence(N_(
            "%(channel)s has no officer yet. Its first officer is added on the server with"
            " `portal officer invite`, so that no web account alone decides who reads it."
        ), channel=channel.name))


def request(
    ctx: Context,
    admin: Account,
    account_id: int,
    channel_name: str,
    *,
    submission_token: str | None = None,
) -> None:
    """An administrator asks for an officer to join a channel; pending until a reader confirms.
    Raises AccountError, or submissions.AlreadySubmitted for a resent form."""
    officer, channel = accounts.get_account(ctx, account_id), channels.find_channel(
        ctx, channel_name
    )
    if officer is None or officer.role != "officer":
        raise AccountError(N_("Only an integrity officer can receive a channel's disclosures."))
    if accounts.is_offboarded(ctx, officer.id):
        raise AccountError(Sentence(N_(
            "%(who)s was offboarded and can never read disclosures again: invite them afresh if"
            " they return."
        ), who=officer.name))
    if channel is None:
        raise AccountError(N_("There is no such channel."))
    with transaction(ctx.db):
        submissions.claim(ctx.db, submission_token, today(ctx.settings.timezone))
        require_first_officer(ctx, channel)
        if ctx.db.execute(
            "SELECT 1 FROM channel_officers WHERE channel_id = ? AND account_id = ?",
            [channel.id, officer.id],
        ).fetchone():
            raise AccountError(Sentence(
                N_("%(who)s is already a member of %(channel)s, or waiting to be confirmed."),
                who=officer.name, channel=channel.name,
            ))
        ctx.db.execute(
            "INSERT INTO channel_officers (channel_id, account_id, state, requested_by) "
            "VALUES (?, ?, 'pending', ?)",
            [channel.id, officer.id, admin.id],
        )
        _record(
            ctx,
            "membership_request",
            channel.id,
            subject_id=officer.id,
            subject=label(officer),
            action=N_("asked to join: waiting for an officer of the channel to confirm"),
            actor=admin,
        )


def pending_for(ctx: Context, officer: Account) -> list[PendingMembership]:
    """Pending memberships of the channels this officer reads (and so may decide)."""
    rows = ctx.db.execute(
        "SELECT ch.id, ch.name, a.id, a.name, a.email, a.public_key FROM channel_officers p "
        "JOIN channels ch ON ch.id = p.channel_id JOIN accounts a ON a.id = p.account_id "
        "JOIN channel_officers mine ON mine.channel_id = p.channel_id AND mine.account_id = ? "
        "AND mine.state = 'confirmed' WHERE p.state = 'pending' ORDER BY ch.name, a.name",
        [officer.id],
    ).fetchall()
    return [PendingMembership(*row) for row in rows]


def decide(
    ctx: Context,
    officer: Account,
    account_id: int,
    channel_id: int,
    *,
    confirm: bool,
    signing_seed: bytes | None = None,
) -> None:
    """A reader of the channel confirms or refuses a pending membership. A confirmation signs the
    new reader's admission into the channel's roster with `signing_seed`, the confirming officer's
    signing key from their session (portal.keys.roster), when the roster admits that officer;
    otherwise the admission waits on the roster page. Raises MembershipNotFound."""
    if officer.role != "officer":
        raise MembershipNotFound()
    with transaction(ctx.db):
        match = [
            p
            for p in pending_for(ctx, officer)
            if p.account_id == account_id and p.channel_id == channel_id
        ]
        if not match:
            raise MembershipNotFound()
        subject = f"{match[0].name} <{match[0].email}>"
        if confirm:
            ctx.db.execute(
                "UPDATE channel_officers SET state = 'confirmed' WHERE channel_id = ? AND"
                " account_id = ?",
                [channel_id, account_id],
            )
            action = N_("confirmed: receives the channel's new disclosures")
            _admit_into_roster(ctx, officer, signing_seed, channel_id, account_id)
        else:
            ctx.db.execute(
                "DELETE FROM channel_officers WHERE channel_id = ? AND account_id = ?",
                [channel_id, account_id],
            )
            action = N_("refused: does not join the channel")
        _record(
            ctx,
            "membership_confirm" if confirm else "membership_refuse",
            channel_id,
            subject_id=account_id,
            subject=subject,
            action=action,
            actor=officer,
        )


def _admit_into_roster(
    ctx: Context, officer: Account, seed: bytes | None, channel_id: int, account_id: int
) -> None:
    state = roster.load(ctx, channel_id)
    member = accounts.get_account(ctx, account_id)
    if seed is None or not state.started or not state.admits(officer) or member is None:
        return  # no roster to sign into, or nobody here who may sign: it waits on the roster page
    if member.signing_public_key is None:
        return  # admitted once they have signed in and have a signing key of their own
    roster_work.admit(ctx, officer, seed, channel_id, member, "admit")


def remove(ctx: Context, admin: Account, account_id: int, channel_name: str) -> None:
    """Take an officer off a channel, delete their sealed copies of its cases' keys and end their
    sessions. Refused when a case of the channel would be left with no officer able to read it
    (SECURITY.md, "Key lifecycle": no case without a reader)."""
    officer, channel = accounts.get_account(ctx, account_id), channels.find_channel(
        ctx, channel_name
    )
    if officer is None or channel is None:
        raise AccountError(N_("There is no such membership."))
    with transaction(ctx.db):
        row = ctx.db.execute(
            "SELECT state FROM channel_officers WHERE channel_id = ? AND account_id = ?",
            [channel.id, officer.id],
        ).fetchone()
        if row is None:
            raise AccountError(Sentence(
                N_("%(who)s is not a member of %(channel)s."),
                who=officer.name, channel=channel.name,
            ))
        if row[0] == "pending":
            # A request nobody confirmed yet: withdrawn, with nothing to take back.
            ctx.db.execute(
                "DELETE FROM channel_officers WHERE channel_id = ? AND account_id = ?",
                [channel.id, officer.id],
            )
            _record(
                ctx,
                "membership_withdraw",
                channel.id,
                subject_id=officer.id,
                subject=label(officer),
                action=N_("request withdrawn"),
                actor=admin,
            )
            return
        orphaned = access.cases_only_readable_by(ctx, officer.id, channel.id)
        last = (
            _confirmed_count(ctx, channel.id) == 1
            and ctx.db.execute("SELECT 1 FROM cases WHERE channel_id = ?", [channel.id]).fetchone()
        )
        if orphaned or last:
            raise AccountError(Sentence(N_(
                "%(who)s is the last officer who can read cases of %(channel)s. Another officer"
                " must be confirmed and given access first."
            ), who=officer.name, channel=channel.name))
        access.delete_sealed_copies(ctx, officer.id, channel.id)
        # Their sessions hold their private key: they sign in again, to whatever they still read.
        access.end_sessions(ctx, officer.id)
        ctx.db.execute(
            "DELETE FROM channel_officers WHERE channel_id = ? AND account_id = ?",
            [channel.id, officer.id],
        )
        _record(
            ctx,
            "membership_remove",
            channel.id,
            subject_id=officer.id,
            subject=label(officer),
            action=N_("removed: their copies of the channel's case keys were deleted"),
            actor=admin,
        )


def unseen_events(ctx: Context, officer: Account) -> list[MembershipEvent]:
    """Membership changes of this officer's channels that they have not yet seen, oldest first."""
    rows = ctx.db.execute(
        "SELECT e.id, ch.name, e.subject, e.action, e.actor, e.day FROM membership_events e JOIN"
        " channels ch ON ch.id = e.channel_id JOIN channel_officers mine ON mine.channel_id ="
        " e.channel_id AND mine.account_id = ? AND mine.state = 'confirmed' WHERE NOT EXISTS"
        " (SELECT 1 FROM membership_events_seen s WHERE s.event_id = e.id AND s.account_id = ?)"
        " ORDER BY e.id",
        [officer.id, officer.id],
    ).fetchall()
    return [MembershipEvent(*_in_todays_words(*row)) for row in rows]


# How records written before issue 25 named the operator's changes, and how they read now.
_OLD_OPERATOR_WORDS = {
    ("added at the command line", "the server's operator"): ("added", channels.BY_OPERATOR),
    ("enrolled, added at the command line", "the server's operator"): (
        "enrolled after an invitation",
        channels.BY_OPERATOR,
    ),
}


# The stored words that name an actor or a subject, each said again as a Sentence for the page's
# language (the action is stored as a message itself, marked N_ where it is recorded).
_SAID = (
    (re.compile(r"officer (.+)", re.S), N_("officer %(who)s")),
    (re.compile(r"administrator (.+)", re.S), N_("administrator %(who)s")),
    (re.compile(r"The channel's recovery key \(fingerprint ([^)]+)\)"),
     N_("The channel's recovery key (fingerprint %(who)s)")),
)


def _said(text: str) -> Sentence:
    for pattern, msgid in _SAID:
        found = pattern.fullmatch(text)
        if found:
            return Sentence(msgid, who=found.group(1))
    return Sentence(text) if "%" not in text else Sentence("%(text)s", text=text)


def _in_todays_words(event_id, channel_name, subject, action, actor, day) -> tuple:
    if actor == "the server's operator (command line)":
        actor = channels.BY_OPERATOR
    action, actor = _OLD_OPERATOR_WORDS.get((action, actor), (action, actor))
    return event_id, channel_name, _said(subject), _said(action), _said(actor), day


def mark_seen(ctx: Context, officer: Account, events: list[MembershipEvent]) -> None:
    with transaction(ctx.db):
        for event in events:
            ctx.db.execute(
                "INSERT OR IGNORE INTO membership_events_seen (event_id, account_id) VALUES (?, ?)",
                [event.id, officer.id],
            )

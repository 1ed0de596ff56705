"""What the discloser's status pages show of their case, and what they may do there: answer a
consent question, fetch their signed acknowledgement."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from portal.casework import (
    acknowledgements,
    authority_contacts,
    consent,
    deadlines,
    identity_releases,
    oral,
    workflow,
)
from portal.core import workdays
from portal.core.clock import today
from portal.core.context import Context
from portal.core.words import in_sentence
from portal.intake import receipts
from portal.keys import channels, sessions
from portal.records import case_attachments, case_history, casefiles, original_files
from portal.records.casefiles import Attachment
from portal.store import transaction


@dataclass
class DiscloserView:
    case: casefiles.CaseRecord
    messages: list[casefiles.Message]
    attachments: list[Attachment]
    latest_reason: str = ""
    expected_timeframe: str = ""
    expected_by: str | None = None  # the next day by which the discloser should hear
    expected_unknown: bool = False  # that day lies past the working-day table: not counted
    steps_done: dict[str, str] = field(default_factory=dict)  # s 13(1) step -> day done
    extension_timeframe: str = ""  # s 13(2): how long the officers expect to take
    identity_releases: list = field(
        default_factory=list
    )  # s 17: completed releases of their identity
    consent_questions: list = field(
        default_factory=list
    )  # releases the officers asked their consent to
    oral: oral.OralRecord | None = None  # an oral disclosure's record state
    record: dict[str, str] = field(
        default_factory=dict
    )  # an oral disclosure's fields, to check and correct
    regime: str = "nz"  # the channel's law: 'nz' (2022 Act) or 'eu' (Directive 2019/1937)
    earlier: int | None = None  # `before` of the earlier messages' page; None: all are shown
    disclosure: dict[str, str] = field(default_factory=dict)  # what they sent, to re-read
    referred_to: Referred | None = None  # after an s 16 referral: where the matter went
    new_replies: list[casefiles.Message] = field(default_factory=list)  # since they last wrote
    # How many officers' messages came since they last wrote, the earlier pages' included (the
    # `new_replies` shown are those of the latest page only).
    new_reply_count: int = 0
    # Every file they sent, with what was done about its hidden details, and the originals kept
    # for them alone (portal.records.original_files).
    sent_files: list[Attachment] = field(default_factory=list)
    originals: list[original_files.Original] = field(default_factory=list)


@dataclass(frozen=True)
class Referred:
    authority: str
    contact: str  # how to reach the authority ("" when the shipped directory does not say)


def case_key_for(ctx: Context, session: sessions.OpenSession) -> tuple[casefiles.CaseRecord, bytes]:
    case = casefiles.get_case(ctx, case_id=session.subject)
    private_key, _ = receipts.discloser_keys(session)
    return case, casefiles.open_case_key(ctx, case.id, "discloser", private_key)


def discloser_view(ctx: Context, session: sessions.OpenSession) -> DiscloserView:
    case, case_key = case_key_for(ctx, session)
    # Only what the records vouch for: a status edited in the database is not shown as fact.
    latest, _ = case_history.trusted_status(
        case, case_history.status_history(ctx, case.id, case_key)
    )
    if latest is not None:
        case.status = latest.status
    thread = _shown(case_history.read_message_page(ctx, case.id, case_key))
    due = workflow.stored_due(ctx, case.id)
    fields = casefiles.read_fields(ctx, case.id, case_key)
    referred = _referred(latest) if latest and case.status == "referred" else None
    steps_done = workflow.steps_done(ctx, case.id)
    hears_more = _hears_more(case.status, steps_done)
    private_key = receipts.discloser_keys(session)[0]
    seen = case_history.seen_by_discloser(ctx, case.id, private_key)
    return DiscloserView(
        case,
        thread.messages,
        _sent_by_them(case_attachments.read_attachments(ctx, case.id, case_key)),
        latest.reason if latest else "",
        latest.expected_timeframe if latest else "",
        expected_by=due.day.isoformat() if due and hears_more else None,
        expected_unknown=hears_more and workflow.due_unknown(ctx, case.id),
        steps_done=steps_done,
        # s 13(2): how long dealing with it takes, which is over after a referral or an outcome.
        extension_timeframe=""
        if case.status in deadlines.FINAL_STATUSES
        else workflow.expected_timeframe(ctx, case.id, case_key),
        identity_releases=[
            r for r in identity_releases.releases(ctx, case.id, case_key) if r.state == "released"
        ],
        consent_questions=consent.consent_requests(ctx, case.id, case_key),
        oral=(record := oral.record_of(ctx, case.id)),
        record=fields if record else {},
        regime=(channel := channels.find_channel(ctx, case.channel_name))
        and channel.regime
        or "nz",
        earlier=thread.earlier,
        disclosure=fields,
        referred_to=referred,
        new_replies=_new_to_discloser(thread.messages, seen),
        new_reply_count=case_history.officer_messages_since_discloser(ctx, case.id, seen),
        sent_files=[
            a
            for a in case_attachments.all_attachments(ctx, case.id, case_key)
            if a.hidden in SENT_STATES
        ],
        originals=original_files.discloser_originals(ctx, case.id, private_key),
    )


SENT_STATES = ("removed", "none", "left", "unchecked", "unknown", "plain")


def holds_original(ctx: Context, session: sessions.OpenSession, original_id: str) -> bool:
    """Whether `original_id` is one of the originals kept for this discloser (to answer a request
    for one that is not theirs as not found before asking anything else of it)."""
    case = casefiles.get_case(ctx, case_id=session.subject)
    private_key, _ = receipts.discloser_keys(session)
    kept = original_files.discloser_originals(ctx, case.id, private_key)
    return any(o.id == original_id for o in kept)


def hand_over_original(ctx: Context, session: sessions.OpenSession, original_id: str) -> None:
    """The discloser hands the original of a cleaned file to the officers (its hidden details
    with it). Not audited, like a discloser's message: its time would tell when they were here.
    Raises casefiles.CaseNotFound for an original that is not theirs."""
    case, case_key = case_key_for(ctx, session)
    private_key, _ = receipts.discloser_keys(session)
    with transaction(ctx.db):
        original_files.hand_over(
            ctx, case.id, case_key, private_key, original_id, today(ctx.settings.timezone)
        )


def _new_to_discloser(
    messages: list[casefiles.Message], seen: int | None
) -> list[casefiles.Message]:
    """The officers' messages since the discloser last wrote: after `seen` (the mark kept for them,
    case_history.seen_by_discloser), or, for a case without one, after their own latest message."""
    if seen is not None:
        return [m for m in messages if m.author == "officer" and m.seq > seen]
    new: list[casefiles.Message] = []
    for message in messages:
        new = [] if message.author == "discloser" else [*new, message]
    return new


def _hears_more(status: str, steps_done: dict[str, str]) -> bool:
    """Whether the discloser is to be given a date to hear by. After any referral the matter is the
    authority's (s 16), and after a final outcome they were told with reasons (s 13(1)(e)): steps
    the officers still owe the record are shown to the officers, not promised to the discloser."""
    if status == "referred":
        return False
    return not (status in deadlines.FINAL_STATUSES and "inform" in steps_done)


def _referred(latest: casefiles.StatusUpdate) -> Referred:
    """The authority a referral names, and how to contact it, as they were given at the referral
    (sealed in its status record), so that a later change to the directory by an administrator
    does not reach a discloser already referred. A referral made before they were sealed: the
    authority its reason names ("Referred to NAME. ..."), with the shipped directory's contact
    (which no administrator can change); authority "" when the reason names none (a status set to
    'referred' without the referral form)."""
    if latest.referred_to is not None:
        return Referred(latest.referred_to["authority"], latest.referred_to["contact"])
    reason = latest.reason
    if not reason.startswith("Referred to "):
        return Referred("", "")
    known = {name: c.text for name, c in authority_contacts.shipped_contacts().items()}
    rest = reason.removeprefix("Referred to ")
    for name in sorted(known, key=lambda n: -len(n)):
        # As written since names took their article ("the Commissioner of Police.") and before.
        for written in (in_sentence(name), name):
            if rest.lower().startswith(written.lower() + "."):
                return Referred(name, known[name])
    return Referred(rest.split(". ", 1)[0].rstrip("."), "")


def answer_expected_by(ctx: Context, channel_name: str) -> tuple[str | None, str]:
    """For the receipt page: (by when a disclosure made today to the channel should be answered,
    YYYY-MM-DD, or None when the working-day table cannot count that far; the channel's regime).
    s 13: 20 working days; EU Art 9: acknowledged in 7 days."""
    received = dt.date.fromisoformat(today(ctx.settings.timezone))
    channel = channels.find_channel(ctx, channel_name)
    if channel is not None and channel.regime == "eu":
        return deadlines.acknowledge_by(received).isoformat(), "eu"
    try:
        return deadlines.respond_by(received).isoformat(), "nz"
    except workdays.UnknownYear:
        return None, "nz"


def _shown(thread: case_history.MessagePage) -> case_history.MessagePage:
    """Only what the records vouch for: a message changed outside the portal is left out. Only
    what the discloser sent: an officer's clean copy of one of their files is the officers'."""
    thread.messages = [m for m in thread.messages if m.verified is not False]
    for message in thread.messages:
        message.attachments = _sent_by_them(message.attachments)
    return thread


def _sent_by_them(attachments: list[Attachment]) -> list[Attachment]:
    """The files the discloser sent, without the clean copies officers made of them (kept beside
    the file they copy, portal/casework/file_copies.py)."""
    return [a for a in attachments if a.hidden != "copy"]


def earlier_messages(
    ctx: Context, session: sessions.OpenSession, before: int
) -> case_history.MessagePage:
    """A page of the discloser's earlier messages (numbered below `before`), within their status
    session. Not audited, like the status page itself."""
    case, case_key = case_key_for(ctx, session)
    return _shown(case_history.read_message_page(ctx, case.id, case_key, before))


def answer_consent(ctx: Context, session: sessions.OpenSession, seq: int, answer: str) -> None:
    """The discloser answers a consent question (s 17(2)(a)), signed with the signing seed their
    status session holds. Raises consent.IdentityError."""
    case, case_key = case_key_for(ctx, session)
    _, signing_seed = receipts.discloser_keys(session)
    consent.answer_consent(ctx, case.id, case_key, seq, answer, signing_seed)


def acknowledgement(ctx: Context, session: sessions.OpenSession) -> acknowledgements.Proof:
    """The discloser's signed acknowledgement and its commitment's salt. Raises
    acknowledgements.NotAcknowledged. Not audited: like a discloser's message, its time would tell
    when the discloser was here."""
    case, case_key = case_key_for(ctx, session)
    return acknowledgements.proof(ctx, case, case_key)

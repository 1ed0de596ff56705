"""The demo's invented cases, one at each stage a case goes through (issue 25): new, acknowledged
(with a release of the discloser's identity waiting for a second officer, s 17), being assessed
with a conversation, referred (s 16), and closed with no further action (s 15).

They are made once, through the functions the discloser's form and the officers' console call
(portal.intake.cases.complete_disclosure, portal.casework.triage, portal.casework.referrals), so
each is sealed, audited and dated as a real one would be, and re-sealed to the officers' own keys
when they replace their set-up credentials. The texts are fixed; only the references and receipts
differ from one demo to the next.
"""

from __future__ import annotations

import crypto
from portal.casework import case_identity, referrals, triage
from portal.casework.cases import open_case
from portal.core.clock import today
from portal.core.context import Context
from portal.intake import cases, replies
from portal.intake.receiving import Intake
from portal.keys import channels, credentials
from portal.keys.accounts import Account
from portal.keys.officer_sessions import SignedIn
from portal.records import casefiles

# (stage, category, summary, details) of each invented case, in the order they are made.
DEMO_CASES = (
    ("new", "public_funds", "Fuel cards used at weekends",
     "Invented for the demo. Two fuel cards of the depot were used on most Saturdays since March,"
     " when the depot is closed."),
    ("acknowledged", "health_safety_environment", "Guard removed from the bandsaw",
     "Invented for the demo. The guard of the workshop's bandsaw was taken off to speed up work."),
    ("conversation", "public_funds", "Invoices paid twice to one supplier",
     "Invented for the demo. The same invoice numbers appear twice in the ledger for a supplier."),
    ("referred", "offence", "Bribe offered for a building consent",
     "Invented for the demo. A builder offered a consent officer money to pass an inspection."),
    ("closed", "not_sure", "Parking spaces given to managers",
     "Invented for the demo. The new parking rules give the closest spaces to managers."),
)
# The case with a conversation: its receipt is printed, so the demo shows the discloser's side.
CONVERSATION = "conversation"
# The authority the demo refers its referred case to (one of the shipped directory).
REFER_TO = "Director of the Serious Fraud Office"
# The case whose discloser's identity the first officer asks to release, on a ground of s 17(2)(b):
# it waits for the second officer (the two-person rule), so the demo shows what needs two people.
RELEASE_STAGE = "acknowledged"
RELEASE_TO = "WorkSafe New Zealand inspector"


def has_cases(ctx: Context, channel_name: str) -> bool:
    channel = channels.find_channel(ctx, channel_name)
    return channel is not None and bool(
        ctx.db.execute("SELECT 1 FROM cases WHERE channel_id = ? LIMIT 1", [channel.id]).fetchone()
    )


def _ref(ctx: Context, case_id: str) -> str:
    return ctx.db.execute("SELECT ref FROM cases WHERE id = ?", [case_id]).fetchone()[0]


def _disclose(ctx: Context, channel_name: str, category: str, summary: str, details: str):
    values = {
        "channel": channel_name,
        "category": category,
        "summary": summary,
        "details": details,
        "disclosed_elsewhere": "no",
        "contact": "",
    }
    with Intake(
        ctx, casefiles.new_id(), crypto.new_case_key(), today(ctx.settings.timezone)
    ) as intake:
        receipt = cases.complete_disclosure(ctx, intake, values)
    return _ref(ctx, intake.case_id), receipt


def _discloser_says(ctx: Context, who: SignedIn, ref: str, message: str) -> None:
    # As the discloser's reply from their status page stores it.
    case, case_key = open_case(ctx, who, ref)
    with Intake(ctx, case.id, case_key, today(ctx.settings.timezone)) as intake:
        replies.complete_reply(ctx, intake, message)


def _authority_id(ctx: Context) -> int:
    referrals.seed_directory(ctx)
    found = referrals.list_authorities(ctx)
    named = [a for a in found if a.name == REFER_TO]
    return (named or [a for a in found if not a.exclusive_for])[0].id


def _move_on(ctx: Context, who: SignedIn, stage: str, ref: str) -> None:
    """Take a new case to its stage, as the officer would in the console."""
    if stage == "new":
        return
    triage.set_status(ctx, who, ref, "acknowledged")
    if stage == RELEASE_STAGE:
        case_identity.release_identity(
            ctx, who, ref,
            recipient=RELEASE_TO,
            ground="health_safety",
            reason="The inspector needs to ask the discloser what they saw at the bandsaw.",
            consultation="consulted",
        )
    if stage in ("referred", "closed"):
        # Considered and checked first, as an officer would before deciding: each step is
        # recorded by the action that does it, never by the outcome's status.
        for step in ("consider", "check"):
            triage.complete_step(ctx, who, ref, step)
    if stage == "conversation":
        # Messages are kept by day only, a discloser's after the officers' of that day (issue
        # 26): so the invented conversation of one day ends with the discloser's answer, and
        # reads in the order it was written.
        triage.set_status(ctx, who, ref, "assessing")
        triage.reply(
            ctx, who, ref,
            "Thank you for telling us. We are checking the ledger. Could you say roughly when the"
            " double payments began?",
        )
        _discloser_says(ctx, who, ref, "I first noticed them in the accounts for last June.")
    elif stage == "referred":
        referrals.refer(
            ctx, who, ref,
            authority_id=_authority_id(ctx),
            reason="Bribery of an official is for the Serious Fraud Office to investigate.",
            concerns="general",
            consultation="consulted",
            consultation_note="",
        )
    elif stage == "closed":
        triage.set_status(
            ctx, who, ref, "no_further_action",
            reason="No action is required (s 15): the parking rules are a workplace policy, not"
            " serious wrongdoing under the Act, so they are better raised with Human Resources.",
        )


def add_demo_cases(
    ctx: Context, channel_name: str, officer: Account, passphrase: str
) -> tuple[str, str]:
    """Make the invented cases in `channel_name`, moved on by `officer` (whose set-up passphrase
    opens their key: one key derivation). Returns (the receipt of the case with a conversation,
    the reference of the case whose identity release waits for a second officer)."""
    who = SignedIn(officer, credentials.unwrap_with_passphrase(ctx, officer.id, passphrase))
    conversation_receipt = release_ref = ""
    for stage, category, summary, details in DEMO_CASES:
        ref, receipt = _disclose(ctx, channel_name, category, summary, details)
        _move_on(ctx, who, stage, ref)
        if stage == CONVERSATION:
            conversation_receipt = receipt
        if stage == RELEASE_STAGE:
            release_ref = ref
    return conversation_receipt, release_ref

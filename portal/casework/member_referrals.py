"""Referral of a case to a channel of another member organisation of the same service (ss 16, 25
of the Act; issue 29; docs/organisations.md, "Referral between member organisations"): the
referring officer's side.

Every member is a public sector organisation, so its head is an appropriate authority (s 25), and
the channel it chose receives the referral for it. The referring officer opens the case in their
own session and it is sealed there, afresh, for the receiving channel's readers that its own
signed roster verifies (`Target.readers`, read by portal.service.member_referrals from the
receiving organisation): a new case id, a new case key, officers-only key and identity key,
sealed to each of them and to the channel's recovery key if its roster admits one. What goes: the
disclosure's fields; the discloser's contact details and what they marked as identifying them
only when a release of the identity to that channel is on record (s 17, as for an export), else
empty; neither messages nor files (as the export for a referral). The receiving organisation's
database is given ciphertext only (`Package`, stored by portal.intake.referred_in).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import crypto
from portal.casework import identity, identity_releases, referrals
from portal.casework.cases import open_case
from portal.core.context import Context
from portal.core.words import N_, head_of
from portal.keys.officer_sessions import SignedIn
from portal.records import case_history, casefiles

# The fields that go (the identity fields are sealed apart, under the identity key).
FIELDS = tuple(name for name in casefiles.CASE_FIELDS if name not in identity.IDENTITY_FIELDS)
CONTACT, IDENTIFYING = identity.IDENTITY_FIELDS


@dataclass(frozen=True)
class Reader:
    id: int  # the receiving organisation's account id
    public_key: bytes  # X25519, as the receiving channel's signed roster admits it


@dataclass(frozen=True)
class Target:
    """A channel of another member organisation, as its own data directory has it."""

    organisation: str  # the service's id of it (registry.Organisation.id)
    organisation_name: str  # "Board B"
    channel: str
    readers: tuple[Reader, ...]  # its verified readers (portal.keys.roster.seal_readers)
    recovery_key: bytes | None  # its recovery key, if its roster admits it
    day: str  # YYYY-MM-DD, the receiving organisation's today
    referred_by: str  # the referring organisation's name, as the service's registry has it

    @property
    def recipient(self) -> str:
        """Its name as an s 17 release to it must give it: "Board B, Integrity"."""
        return f"{self.organisation_name}, {self.channel}"


@dataclass(frozen=True)
class Package:
    """A referred case, all ciphertext: what the receiving database is given."""

    case_id: str  # 32 hex digits, new
    day: str
    category: str | None  # kept in the clear, as every case's (statistics)
    fields: dict[str, bytes]  # name -> ciphertext under the new case key
    status: bytes  # the first 'received' record's reason, under the new case key
    case_keys: dict[int, bytes]  # receiving account id -> the case key sealed to it
    internal_keys: dict[int, bytes]
    identity_keys: dict[int, bytes]
    identity_fields: dict[str, bytes]  # "contact", "identifying" -> ciphertext (empty without s 17)
    recovery: dict[str, bytes]  # key table -> sealed to the channel's recovery key ({} without)
    with_identity: bool


def seal_for(
    ctx: Context,
    who: SignedIn,
    ref: str,
    target: Target,
    *,
    concerns: str,
    consultation: str,
    consultation_note: str,
    reason: str,
    with_identity: bool,
) -> tuple[casefiles.CaseRecord, bytes, bytes, Package]:
    """The case `ref` sealed for `target`, in this officer's session: (the case, its key, its
    officers-only key, the package). Raises CaseNotFound, ReferralError (an exclusive route of
    s 25, no consultation recorded (s 16), no reason, a channel with no verified reader, or the
    identity asked for without a release to `target.recipient` on record (s 17))."""
    authority = referrals.Authority(0, head_of(target.organisation_name), "", "", None)
    referrals.check_consultation(authority, concerns, consultation, consultation_note, reason)
    if not target.readers:
        raise referrals.ReferralError(
            N_("That channel has no officer whose key its signed roster confirms: choose another.")
        )
    case, case_key = open_case(ctx, who, ref)
    internal_key = referrals.officers_only_key(ctx, who, case.id)
    shown = {CONTACT: "", IDENTIFYING: ""}
    if with_identity:
        if not identity_releases.released_to(ctx, case.id, case_key, target.recipient):
            raise referrals.ReferralError(
                N_(
                    "The discloser's identity can go only where a release was recorded (s 17):"
                    " record a release to that organisation and channel first, or refer it"
                    " without."
                ),
                "with_identity",
            )
        fields = casefiles.read_fields(ctx, case.id, case_key)
        opened = identity.read_identity(ctx, case.id, who.account.id, who.private_key, fields)
        if opened is None:
            raise referrals.ReferralError(
                N_("The discloser's identity of this case was not shared with you yet."),
                "with_identity",
            )
        shown = {name: opened.get(name, "") for name in identity.IDENTITY_FIELDS}
    return case, case_key, internal_key, _package(ctx, case, case_key, target, shown, reason)


def _package(ctx, case, case_key, target: Target, shown: dict, reason: str) -> Package:
    values = casefiles.read_fields(ctx, case.id, case_key, FIELDS)
    case_id = casefiles.new_id()
    new_key, new_internal, new_identity = (crypto.new_case_key() for _ in range(3))

    def sealed(secret: bytes) -> dict[int, bytes]:
        return {r.id: crypto.seal_to(r.public_key, secret) for r in target.readers}

    note = json.dumps({
        "reason": f"Referred here by {target.referred_by} (s 16). {reason.strip()}",
        "expected_timeframe": "",
    }).encode()
    recovery = {}
    if target.recovery_key is not None:
        recovery = {
            table: crypto.seal_to(target.recovery_key, key)
            for table, key in (("case_keys", new_key), ("internal_keys", new_internal),
                               ("identity_keys", new_identity))
        }
    return Package(
        case_id=case_id,
        day=target.day,
        category=values.get("category") or None,
        fields={
            name: crypto.encrypt_field(new_key, case_id, name, values.get(name, "").encode())
            for name in FIELDS
        },
        status=crypto.encrypt_field(
            new_key, case_id, case_history.status_field(1, "received", target.day, None), note
        ),
        case_keys=sealed(new_key),
        internal_keys=sealed(new_internal),
        identity_keys=sealed(new_identity),
        identity_fields={
            name: crypto.encrypt_field(new_identity, case_id, f"identity:{name}", text.encode())
            for name, text in shown.items()
        },
        recovery=recovery,
        with_identity=any(shown.values()),
    )


def record_at_home(
    ctx: Context,
    who: SignedIn,
    case,
    case_key: bytes,
    internal_key: bytes,
    target: Target,
    package: Package,
    *,
    consultation: str,
    consultation_note: str,
    reason: str,
    day: str,
) -> None:
    """In the caller's transaction: the referring organisation's referral record and status
    'referred' (portal.casework.referrals.record_referral): the discloser is told it went to the
    head of the receiving organisation, through its channel on this service."""
    record = {
        "authority": head_of(target.organisation_name),
        "organisation": target.organisation_name,
        "member": target.organisation,
        "channel": target.channel,
        "referred_case": package.case_id,
        "identity": package.with_identity,
        "contact": f"Its protected disclosure channel “{target.channel}”, on this same service",
        "concerns": "general",
        "consultation": consultation,
        "consultation_note": consultation_note.strip(),
    }
    referrals.record_referral(ctx, who, case, case_key, internal_key, record, reason, day)

"""A case copied out of the portal: the plain-text export for a referral (s 16) or an investigator,
and the audited print of the case's record.
"""

from __future__ import annotations

from portal.casework import consent, identity, identity_releases, referrals
from portal.casework.cases import open_case
from portal.casework.triage import read_case
from portal.core.context import Context
from portal.core.words import N_, in_sentence
from portal.keys.officer_sessions import SignedIn
from portal.records import audit, audit_entries


def export_case(
    ctx: Context, who: SignedIn, ref: str, *, include_identity: bool = False, recipient: str = ""
) -> tuple[str, str]:
    """A plain-text copy of the case for a referral (s 16) or an investigator: (file name, text),
    naming `recipient` and the case's referrals to it. The discloser's contact details are left out
    unless `include_identity` and a completed release to `recipient` is on record
    (consent.IdentityError otherwise). Attachments are not included. Audited."""
    case, case_key = open_case(ctx, who, ref)
    if include_identity and not identity_releases.released_to(ctx, case.id, case_key, recipient):
        raise consent.IdentityError(
            N_(
                "The contact details can go only to someone a release was recorded for "
                "(s 17): record the release first, or export without them."
            )
        )
    view = read_case(ctx, who, ref, audited=False, whole_thread=True)
    lines = [
        f"Protected disclosure {case.ref}",
        f"Channel: {case.channel_name}",
        f"Received: {case.received_day}",
        f"Status: {view.case.status_label}",
    ]
    if recipient.strip():
        lines.append(f"Prepared for: {recipient.strip()}")
    # Only this recipient's own referrals: one authority is not told of a referral to another (s
    # 25).
    lines += [
        f"Referred (s 16) on {r.day} to {in_sentence(r.authority)}"
        for r in referrals.read_referrals(ctx, who, case.id)
        if recipient.strip() and r.authority == recipient.strip()
    ]
    lines += [
        "",
        f"Kind of wrongdoing: {view.fields.get('category', '')}",
        f"Title: {view.fields.get('summary', '')}",
        "What happened:",
        view.fields.get("details", ""),
        "",
        f"Raised elsewhere: {view.fields.get('disclosed_elsewhere', '')}",
    ]
    if include_identity:
        lines.append(
            f"Contact details (released to {recipient}): {view.fields.get(identity.CONTACT, '')}"
        )
        lines.append(
            "What the discloser marked as identifying them:"
            f" {view.fields.get(identity.IDENTIFYING, '')}"
        )
    else:
        lines.append(
            "Contact details and what the discloser marked as identifying them: left out (the "
            "discloser's identity is protected by s 17 of the Act)."
        )
    lines += ["", "Messages:"]
    for m in view.messages:
        lines += [
            f"--- {'Officer ' + m.author_name if m.author == 'officer' else 'Discloser'}, {m.day}",
            m.body,
        ]
    lines += ["", f"Files: {len(view.attachments)} (not included in this export)."]
    audit.record(
        ctx,
        "case_export",
        actor=who.account.id,
        case_ref=case.ref,
        detail={"identity": include_identity},
    )
    return f"{case.ref}.txt", "\n".join(lines) + "\n"


def print_case_record(
    ctx: Context, who: SignedIn, ref: str
) -> tuple[str, list[audit_entries.Entry]]:
    """Record that this officer printed the case's record (audited) and return when ('YYYY-MM-DD
    HH:MM' in the installation's zone) with the case's audit entries, that printing included."""
    case, _ = open_case(ctx, who, ref)
    audit.record(ctx, "case_print", actor=who.account.id, case_ref=case.ref)
    entries = audit_entries.entries_for_case(ctx, case.ref)
    return audit_entries.local_time(entries[-1].at, ctx.settings.timezone), entries

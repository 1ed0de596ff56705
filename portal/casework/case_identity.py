"""The discloser's identity (s 17) on one case, as a signed-in officer who reads it opens it: its
releases and consent questions, asking for a release, and a second officer confirming one. The
rules are portal.casework.identity_releases and portal.casework.consent."""

from __future__ import annotations

from portal.casework import consent, identity_releases
from portal.casework.cases import open_case
from portal.core.context import Context
from portal.keys.officer_sessions import SignedIn


def identity_record(
    ctx: Context, who: SignedIn, ref: str
) -> tuple[list[identity_releases.Release], list[consent.ConsentRequest]]:
    """The case's identity releases and consent questions, for its readers."""
    case, case_key = open_case(ctx, who, ref)
    return identity_releases.releases(ctx, case.id, case_key), consent.consent_requests(
        ctx, case.id, case_key
    )


def release_identity(
    ctx: Context,
    who: SignedIn,
    ref: str,
    recipient: str,
    ground: str,
    reason: str,
    consultation: str = "",
    consultation_note: str = "",
    submission_token: str | None = None,
) -> identity_releases.Release:
    """See identity_releases.request_release; raises consent.IdentityError
    (ConsentNotGiven) or CaseNotFound."""
    case, case_key = open_case(ctx, who, ref)
    return identity_releases.request_release(
        ctx,
        case,
        case_key,
        who.account.id,
        recipient=recipient,
        ground=ground,
        reason=reason,
        consultation=consultation,
        consultation_note=consultation_note,
        submission_token=submission_token,
    )


def confirm_identity_release(ctx: Context, who: SignedIn, ref: str, seq: int) -> None:
    case, case_key = open_case(ctx, who, ref)
    identity_releases.confirm_release(ctx, case, case_key, who.account.id, seq)

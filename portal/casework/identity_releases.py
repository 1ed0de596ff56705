"""Releasing the discloser's identity beyond the case's readers (s 17 of the Protected Disclosures
(Protection of Whistleblowers) Act 2022), and the discloser's consent asked for it.

A release needs, recorded before it happens (s 17(2)), either the discloser's consent, asked and
answered through the status page, or one of the grounds of s 17(2)(b): essential to the effective
investigation of the disclosure; essential to prevent a serious risk to public health, public
safety, the health or safety of any individual, or the environment; essential for natural justice;
essential to an investigation by a law enforcement or regulatory agency. A release on a ground
without consent needs a second officer's confirmation (two-person rule). Every step is audited, and
the discloser's status page shows each release: when, to whom and why.
"""

from __future__ import annotations

from dataclasses import dataclass

from portal.casework import consent, oral
from portal.casework.consent import IdentityError, consent_requests
from portal.casework.consent import detail as _detail
from portal.casework.consent import open_detail as _open_detail
from portal.casework.consent import same_recipient as _same_recipient
from portal.core.clock import today
from portal.core.context import Context
from portal.core.words import N_
from portal.guard import submissions
from portal.records import audit
from portal.store import transaction

GROUNDS: dict[str, str] = {
    "consent": N_("The discloser consented (s 17(2)(a))"),
    "investigation": N_(
        "Essential to the effective investigation of the disclosure (s 17(2)(b)(i))"
    ),
    "health_safety": N_(
        "Essential to prevent a serious risk to public health, public safety, the health or safety "
        "of any individual, or the environment (s 17(2)(b)(ii))"
    ),
    "natural_justice": (
        N_("Essential to have regard to the principles of natural justice (s 17(2)(b)(iii))")
    ),
    "law_enforcement": N_(
        "Essential to an investigation by a law enforcement or regulatory agency for the purpose "
        "of law enforcement (s 17(2)(b)(iv))"
    ),
}


# Whether the discloser was consulted before a release on a ground: always before a release under s
# 17(2)(b)(i) or (iii) (s 17(3)), and if practicable under (ii) or (iv) (s 17(4)).
MUST_CONSULT = ("investigation", "natural_justice")
CONSULTATION: dict[str, str] = {
    "consulted": N_("The discloser was consulted first"),
    "not_practicable": N_("Consulting the discloser first was not practicable"),
}


class ConsentNotGiven(IdentityError):
    """Consent is the ground but the discloser has not given it for this recipient: the question was
    put."""


@dataclass
class Release:
    seq: int
    day: str
    officer_id: int | None
    officer_name: str
    ground: str
    state: str  # 'pending' (awaits a second officer) or 'released'
    confirmed_by_name: str
    confirmed_day: str | None
    recipient: str
    reason: str
    consultation: str = ""
    consultation_note: str = ""

    @property
    def ground_label(self) -> str:
        return GROUNDS.get(self.ground, self.ground)


def releases(ctx: Context, case_id: str, case_key: bytes) -> list[Release]:
    rows = ctx.db.execute(
        # A pending request's officer who has left is named as such (what is true now).
        "SELECT r.seq, r.day, r.account_id, CASE WHEN r.state = 'pending' AND a.offboarded_day"
        " IS NOT NULL THEN a.name || ' (who has left)' ELSE COALESCE(a.name, '') END, r.ground,"
        " r.state,"
        " COALESCE(b.name, ''), r.confirmed_day, r.detail_ct FROM identity_releases r LEFT JOIN"
        " accounts a ON a.id = r.account_id LEFT JOIN accounts b ON b.id = r.confirmed_by WHERE"
        " r.case_id = ? ORDER BY r.seq",
        [case_id],
    ).fetchall()
    found = []
    for seq, day, officer_id, officer, ground, state, confirmer, confirmed_day, ct in rows:
        values = _open_detail(case_key, case_id, "release", seq, day, ct)
        # State and ground count only as the ciphertext (written with the case key) records them.
        if (values.get("state"), values.get("ground"), values.get("confirmed_day")) != (
            state,
            ground,
            confirmed_day,
        ):
            state = "pending" if values.get("state") == "pending" else "changed outside the portal"
        found.append(
            Release(
                seq,
                day,
                officer_id,
                officer,
                ground,
                state,
                confirmer,
                confirmed_day,
                values["recipient"],
                values["reason"],
                CONSULTATION.get(values.get("consultation"), ""),
                values.get("consultation_note") or "",
            )
        )
    return found


def released_to(ctx: Context, case_id: str, case_key: bytes, recipient: str) -> bool:
    """Whether a completed release of the identity to this recipient is on record."""
    return any(
        r.state == "released" and _same_recipient(r.recipient, recipient)
        for r in releases(ctx, case_id, case_key)
    )


def _next_seq(ctx: Context, table: str, case_id: str) -> int:
    return ctx.db.execute(
        f"SELECT COALESCE(MAX(seq), 0) + 1 FROM {table} WHERE case_id = ?", [case_id]
    ).fetchone()[0]


def request_release(
    ctx: Context,
    case,
    case_key: bytes,
    account_id: int,
    *,
    recipient: str,
    ground: str,
    reason: str,
    consultation: str = "",
    consultation_note: str = "",
    submission_token: str | None = None,
) -> Release:
    """Record a release of the discloser's identity to `recipient` (someone beyond the case's
    readers).

    With ground 'consent' it is released at once if the discloser has said yes to this recipient (on
    an oral disclosure it then waits for an officer other than the one who recorded it, as below);
    otherwise the question is put to them on their status page and ConsentNotGiven is raised
    (nothing released). With another ground it is recorded as pending until a second officer
    confirms it (confirm_release), and `consultation` ('consulted', or 'not_practicable' with
    `consultation_note`) records whether the discloser was consulted first (s 17). Raises
    IdentityError for a missing recipient, ground, reason or consultation;
    submissions.AlreadySubmitted for a resent form."""
    recipient, reason = " ".join(recipient.split()), reason.strip()
    consultation_note = consultation_note.strip()
    if not recipient:
        raise IdentityError(N_("Say to whom the identity would be released."))
    if ground not in GROUNDS:
        raise IdentityError(
            N_(
                "Choose the discloser's consent or one of the grounds of s 17(2)(b): without one, "
                "the identity is not released."
            )
        )
    if not reason:
        raise IdentityError(N_("Give the reason: the discloser will see it."))
    if ground != "consent" and consultation not in CONSULTATION:
        raise IdentityError(
            N_("Record whether the discloser was consulted before this release (s 17).")
        )
    if ground in MUST_CONSULT and consultation != "consulted":
        raise IdentityError(
            N_(
                "The discloser must be consulted before a release on this ground (s 17(3)): ask "
                "them through the messages first."
            )
        )
    if ground != "consent" and consultation == "not_practicable" and not consultation_note:
        raise IdentityError(N_("Say why consulting the discloser was not practicable."))
    day = today(ctx.settings.timezone)
    if ground == "consent":
        answers = [
            c
            for c in consent_requests(ctx, case.id, case_key)
            if _same_recipient(c.recipient, recipient)
        ]
        if not any(c.consents for c in answers):
            if not any(c.answer is None for c in answers):
                with transaction(ctx.db):
                    submissions.claim(ctx.db, submission_token, day)
                    seq = _next_seq(ctx, "consent_requests", case.id)
                    ctx.db.execute(
                        "INSERT INTO consent_requests (case_id, seq, day, account_id, detail_ct) "
                        "VALUES (?, ?, ?, ?, ?)",
                        [
                            case.id,
                            seq,
                            day,
                            account_id,
                            _detail(
                                case_key,
                                case.id,
                                "consent",
                                seq,
                                day,
                                {"recipient": recipient, "reason": reason},
                            ),
                        ],
                    )
                    audit.record(
                        ctx,
                        "identity_consent_asked",
                        actor=account_id,
                        case_ref=case.ref,
                        detail={"consent_seq": seq},
                    )
            tampered = any(c.signature == consent.TAMPERED for c in answers)
            raise ConsentNotGiven(
                (
                    "The discloser's answer does not verify (it was changed outside the portal), "
                    if tampered
                    else "The discloser has not consented to this release, "
                )
                + "so nothing was released. The question is on their status page; release it "
                "once they say yes."
            )
    # The officer who recorded an oral disclosure held its first receipt, so could have answered the
    # consent question as the discloser: such a release waits for another officer too. So does one
    # on an unsigned answer (a case made before answers were signed): the case key alone vouches
    # for it, and every reader holds that.
    state = (
        "released"
        if ground == "consent"
        and oral.recorded_by(ctx, case.id) is None
        and any(c.signature == consent.VERIFIED and c.consents for c in answers)
        else "pending"
    )
    with transaction(ctx.db):
        submissions.claim(ctx.db, submission_token, day)
        seq = _next_seq(ctx, "identity_releases", case.id)
        ctx.db.execute(
            "INSERT INTO identity_releases (case_id, seq, day, account_id, ground, state,"
            " detail_ct) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                case.id,
                seq,
                day,
                account_id,
                ground,
                state,
                _detail(
                    case_key,
                    case.id,
                    "release",
                    seq,
                    day,
                    {
                        "recipient": recipient,
                        "reason": reason,
                        "ground": ground,
                        "state": state,
                        "confirmed_day": None,
                        "consultation": consultation if ground != "consent" else "",
                        "consultation_note": consultation_note if ground != "consent" else "",
                    },
                ),
            ],
        )
        audit.record(
            ctx,
            "identity_release" if state == "released" else "identity_release_requested",
            actor=account_id,
            case_ref=case.ref,
            detail={"release_seq": seq, "ground": ground},
        )
    return next(r for r in releases(ctx, case.id, case_key) if r.seq == seq)


def confirm_release(ctx: Context, case, case_key: bytes, account_id: int, seq: int) -> None:
    """A second officer confirms a release made on a ground without consent. Raises IdentityError
    when there is no such pending release or the confirming officer is the one who asked for it."""
    row = ctx.db.execute(
        "SELECT account_id, state, ground, day, detail_ct FROM identity_releases "
        "WHERE case_id = ? AND seq = ?",
        [case.id, seq],
    ).fetchone()
    pending = [r for r in releases(ctx, case.id, case_key) if r.seq == seq and r.state == "pending"]
    if row is None or row[1] != "pending" or not pending:
        raise IdentityError(N_("There is no release waiting for confirmation with that number."))
    if row[0] == account_id:
        raise IdentityError(
            N_("Another officer must confirm this release: nobody releases an identity alone.")
        )
    if row[2] == "consent" and oral.recorded_by(ctx, case.id) == account_id:
        raise IdentityError(
            N_(
                "You recorded this oral disclosure and saw its first receipt, so another officer "
                "confirms a release on the discloser's consent."
            )
        )
    opened = _open_detail(case_key, case.id, "release", seq, row[3], row[4])
    if row[2] == "consent" and not any(
        c.consents and _same_recipient(c.recipient, opened.get("recipient", ""))
        for c in consent_requests(ctx, case.id, case_key)
    ):
        raise IdentityError(
            N_(
                "The discloser's consent to this release no longer verifies, so it cannot be "
                "confirmed: nothing was released."
            )
        )
    day = today(ctx.settings.timezone)
    values = {**opened, "state": "released", "confirmed_day": day}
    with transaction(ctx.db):
        ctx.db.execute(
            "UPDATE identity_releases SET state = 'released', confirmed_by = ?, confirmed_day = ?, "
            "detail_ct = ? WHERE case_id = ? AND seq = ? AND state = 'pending'",
            [
                account_id,
                day,
                _detail(case_key, case.id, "release", seq, row[3], values),
                case.id,
                seq,
            ],
        )
        audit.record(
            ctx,
            "identity_release",
            actor=account_id,
            case_ref=case.ref,
            subject=row[0],
            detail={"release_seq": seq, "ground": row[2]},
        )

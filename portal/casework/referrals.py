"""Referral of a disclosure to an appropriate authority (s 16), and the directory of appropriate
authorities (s 25 and Schedule 2) that administrators edit.

s 25: an appropriate authority includes the head of any public sector organisation, any officer of
Parliament, the bodies named as examples in Schedule 2, and a membership body of a profession, trade
or calling with the power to discipline its members; it does not include a Minister or a member of
Parliament. Two routes are exclusive: information about intelligence and security may go only to the
Inspector-General of Intelligence and Security, and information about international relations only
to an Ombudsman. s 16: before referring, the receiver should consult the discloser (and the intended
recipient).

The referral record (authority, the organisation named, the contact given, what the information
concerns, how the discloser was consulted) is encrypted under the case's officers-only key; the
discloser learns the authority, the reason and the contact given through the status record,
encrypted under the case key. The contact is the one of the moment of the referral: a later change
to the directory reaches only later referrals.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import crypto
from portal.casework import authority_contacts
from portal.casework.cases import open_case, record_status
from portal.core import resources
from portal.core.clock import today
from portal.core.context import Context
from portal.core.words import N_, Sentence, head_of, in_sentence, organisation_name
from portal.guard import submissions
from portal.keys.officer_sessions import SignedIn
from portal.records import audit, case_history, internal_keys
from portal.store import transaction

# What the information concerns, for the exclusive routes of s 25.
CONCERNS: dict[str, str] = {
    "general": N_("Neither of the two below"),
    "intelligence_security": N_("Intelligence and security information"),
    "international_relations": N_("International relations information"),
}
EXCLUSIVE_NAMES = {
    "intelligence_security": N_("the Inspector-General of Intelligence and Security"),
    "international_relations": N_("an Ombudsman"),
}

CONSULTATION: dict[str, str] = {
    "consulted": N_("The discloser was consulted (through the messages) before referring"),
    "not_practicable": N_("Consulting the discloser was not practicable"),
}

# A Minister or a member of Parliament is never an appropriate authority (s 25). "Ministry" is fine.
_NOT_AN_AUTHORITY = re.compile(r"\bministers?\b|\bmember of parliament\b|\bMPs?\b", re.IGNORECASE)

# The directory entry that names no body (s 25: "the head of any public sector organisation"): a
# referral to it names the organisation, and the officer gives its contact.
_NAMES_NO_BODY = "head of any public sector organisation"
_NO_MINISTER = N_("A Minister or a member of Parliament is not an appropriate authority (s 25).")
ORGANISATION_LIMIT = 200  # characters of the organisation's name, and of its contact


class ReferralError(ValueError):
    """A referral or directory change that cannot be made; the message says why, and `field` names
    the referral form's field at fault ("": the authority)."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Authority:
    id: int
    name: str
    covers: str
    source: str
    exclusive_for: str | None


@dataclass
class Referral:
    day: str
    officer_name: str
    authority: str  # as the discloser is given it ("The head of the Ministry of Health")
    concerns: str
    consultation: str
    consultation_note: str
    # The contact the discloser was given ("" none); None for a referral made before it was kept.
    contact: str | None = None


def names_an_organisation(authority: Authority) -> bool:
    """Whether a referral to this entry must name the organisation (the head of any public sector
    organisation, s 25)."""
    return _NAMES_NO_BODY in authority.name.lower()


# --- The directory
# ------------------------------------------------------------------------------------


def _authority(row) -> Authority:
    return Authority(*row)


def list_authorities(ctx: Context) -> list[Authority]:
    rows = ctx.db.execute(
        "SELECT id, name, covers, source, exclusive_for FROM authorities ORDER BY name"
    ).fetchall()
    return [_authority(r) for r in rows]


def get_authority(ctx: Context, authority_id: int) -> Authority | None:
    row = ctx.db.execute(
        "SELECT id, name, covers, source, exclusive_for FROM authorities WHERE id = ?",
        [authority_id],
    ).fetchone()
    return _authority(row) if row else None


def seed_directory(ctx: Context) -> int:
    """Fill an empty directory from the shipped file (at `portal init` and at start-up); return how
    many were added. A directory that has entries is the administrators' and is left alone."""
    if ctx.db.execute("SELECT 1 FROM authorities LIMIT 1").fetchone():
        return 0
    shipped = json.loads(resources.authorities_file().read_text(encoding="utf-8"))["authorities"]
    with transaction(ctx.db):
        if ctx.db.execute("SELECT 1 FROM authorities LIMIT 1").fetchone():
            return 0
        for entry in shipped:
            ctx.db.execute(
                "INSERT INTO authorities (name, covers, source, exclusive_for) VALUES (?, ?, ?, ?)",
                [entry["name"], entry["covers"], entry["source"], entry.get("exclusive_for")],
            )
    return len(shipped)


def _checked(
    name: str, covers: str, source: str, exclusive_for: str | None
) -> tuple[str, str, str, str | None]:
    name, covers, source = name.strip(), covers.strip(), source.strip()
    if not name or not covers or not source:
        raise ReferralError(
            N_(
                "Give the authority's name, what it covers and the source (a section of the Act,"
                " or who added it)."
            )
        )
    if _NOT_AN_AUTHORITY.search(name):
        raise ReferralError(_NO_MINISTER)
    if exclusive_for not in (None, *EXCLUSIVE_NAMES):
        raise ReferralError(N_("Choose one of the listed exclusive routes, or none."))
    return name, covers, source, exclusive_for


def save_authority(
    ctx: Context,
    admin_id: int,
    authority_id: int | None,
    *,
    name: str,
    covers: str,
    source: str,
    exclusive_for: str | None,
    submission_token: str | None = None,
) -> None:
    """Add (authority_id None) or change a directory entry. Raises ReferralError."""
    values = _checked(name, covers, source, exclusive_for)
    with transaction(ctx.db):
        submissions.claim(ctx.db, submission_token, today(ctx.settings.timezone))
        clash = ctx.db.execute("SELECT id FROM authorities WHERE name = ?", [values[0]]).fetchone()
        if clash and clash[0] != authority_id:
            raise ReferralError(
                Sentence(N_("The directory already has “%(name)s”."), name=values[0])
            )
        if authority_id is None:
            authority_id = ctx.db.execute(
                "INSERT INTO authorities (name, covers, source, exclusive_for) VALUES (?, ?, ?, ?)"
                " RETURNING id",
                list(values),
            ).fetchone()[0]
        elif not ctx.db.execute(
            "UPDATE authorities SET name = ?, covers = ?, source = ?, exclusive_for = ? "
            "WHERE id = ?",
            [*values, authority_id],
        ).rowcount:
            raise ReferralError(N_("That entry is no longer in the directory."))
        audit.record(
            ctx,
            "authority_change",
            actor=admin_id,
            # The name too: the log reads it, and the entry may be renamed or removed later.
            detail={"authority_id": authority_id, "authority": values[0][:100]},
        )


def remove_authority(ctx: Context, admin_id: int, authority_id: int) -> None:
    """Remove a directory entry (earlier referrals keep the name they were made with). Raises
    ReferralError."""
    with transaction(ctx.db):
        if ctx.db.execute("SELECT COUNT(*) FROM authorities").fetchone()[0] <= 1:
            raise ReferralError(N_("The directory needs at least one appropriate authority."))
        removed = get_authority(ctx, authority_id)
        if removed is None:
            raise ReferralError(N_("That entry is no longer in the directory."))
        ctx.db.execute("DELETE FROM authorities WHERE id = ?", [authority_id])
        audit.record(
            ctx,
            "authority_change",
            actor=admin_id,
            detail={"authority_id": authority_id, "authority": removed.name[:100], "removed": True},
        )


# --- Referring a case
# ---------------------------------------------------------------------------------


def _check_route(authority: Authority, concerns: str) -> None:
    """s 25: intelligence and security information only to the IGIS, international relations only to
    an Ombudsman."""
    if concerns in EXCLUSIVE_NAMES and authority.exclusive_for != concerns:
        named = in_sentence(authority.name)
        raise ReferralError(
            Sentence(
                N_(
                    "%(concerns)s may be referred only to %(route)s (s 25). %(named)s is not that"
                    " authority."
                ),
                concerns=Sentence(CONCERNS[concerns]),
                route=Sentence(EXCLUSIVE_NAMES[concerns]),
                named=f"{named[:1].upper()}{named[1:]}",
            )
        )


def refer(
    ctx: Context,
    who: SignedIn,
    ref: str,
    *,
    authority_id: int,
    reason: str,
    concerns: str,
    consultation: str,
    consultation_note: str,
    organisation: str = "",
    organisation_contact: str = "",
    submission_token: str | None = None,
) -> None:
    """Refer the case (s 16): status 'referred' with the authority, reason and contact for the
    discloser, and the referral record for the officers. The contact is the directory's for that
    entry today; for the head of any public sector organisation, `organisation` (its name as it
    reads after "the head of", required) and `organisation_contact` (optional) are the officer's.
    Raises CaseNotFound, ReferralError, submissions.AlreadySubmitted."""
    authority = get_authority(ctx, authority_id)
    reason, consultation_note = reason.strip(), consultation_note.strip()
    if authority is None:
        raise ReferralError(N_("Choose an appropriate authority from the directory."))
    check_consultation(authority, concerns, consultation, consultation_note, reason)
    given_name, contact = _given(ctx, authority, organisation, organisation_contact)
    case, case_key = open_case(ctx, who, ref)
    internal_key = officers_only_key(ctx, who, case.id)
    day = today(ctx.settings.timezone)
    record = {"authority": given_name, "authority_id": authority.id, "contact": contact,
              "organisation": organisation.strip(), "concerns": concerns,
              "consultation": consultation, "consultation_note": consultation_note}
    with transaction(ctx.db):
        submissions.claim(ctx.db, submission_token, day)
        record_referral(ctx, who, case, case_key, internal_key, record, reason, day)


def check_consultation(
    authority: Authority, concerns: str, consultation: str, consultation_note: str, reason: str
) -> None:
    """The s 16 and s 25 answers every referral gives: what the information concerns (its
    exclusive routes, for `authority`), whether the discloser was consulted, and the reason they
    are given. Raises ReferralError."""
    if concerns not in CONCERNS:
        raise ReferralError(
            N_(
                "Say whether the information concerns intelligence and security or international "
                "relations."
            )
        )
    _check_route(authority, concerns)
    if consultation not in CONSULTATION:
        raise ReferralError(N_("Record whether the discloser was consulted (s 16)."))
    if consultation == "not_practicable" and not consultation_note.strip():
        raise ReferralError(N_("Say why consulting the discloser was not practicable."))
    if not reason.strip():
        raise ReferralError(N_("Give the discloser the reason for referring it."))


def officers_only_key(ctx: Context, who: SignedIn, case_id: str) -> bytes:
    """The case's officers-only key for this officer. Raises ReferralError without it."""
    internal_key = internal_keys.open_internal_key(ctx, case_id, who.account.id, who.private_key)
    if internal_key is None:
        raise ReferralError(
            N_(
                "This case's officers-only key was not shared with you yet; another reader can"
                " refer it."
            )
        )
    return internal_key


def record_referral(
    ctx: Context, who: SignedIn, case, case_key: bytes, internal_key: bytes, record: dict,
    reason: str, day: str,
) -> None:
    """In the caller's transaction: the referral record (`record`: "authority", "contact",
    "concerns", "consultation", "consultation_note", ...) sealed under the officers-only key, and
    the status 'referred' with the authority, `reason` and contact for the discloser."""
    seq = ctx.db.execute(
        "SELECT COALESCE(MAX(seq), 0) + 1 FROM referrals WHERE case_id = ?", [case.id]
    ).fetchone()[0]
    field, text = f"referral:{seq}:{day}:{who.account.id}", json.dumps(record).encode()
    sealed = crypto.encrypt_field(internal_key, case.id, field, text)
    ctx.db.execute(
        "INSERT INTO referrals (case_id, seq, day, account_id, detail_ct) VALUES (?, ?, ?, ?, ?)",
        [case.id, seq, day, who.account.id, sealed],
    )
    given_name = record["authority"]
    record_status(
        ctx,
        case,
        case_key,
        who.account.id,
        "referred",
        f"Referred to {in_sentence(given_name)}. {reason.strip()}",
        event="referral",
        referred_to={"authority": given_name, "contact": record["contact"]},
    )


def _given(
    ctx: Context, authority: Authority, organisation: str, organisation_contact: str
) -> tuple[str, str]:
    """(the authority's name as the discloser is given it, the contact they are given). Raises
    ReferralError."""
    organisation, organisation_contact = organisation.strip(), organisation_contact.strip()
    if not names_an_organisation(authority):
        if organisation or organisation_contact:
            # Typed for another entry, it would be dropped without a word.
            raise ReferralError(
                'Leave "Which organisation" and its contact empty: they are only for "The head of'
                ' any public sector organisation". The discloser is given this authority\'s'
                " contact from the directory.",
                "organisation",
            )
        return authority.name, authority_contacts.contact_given(ctx, authority.id)
    if organisation_name(organisation).lower() in ("", "a", "an", "the"):
        raise ReferralError(
            "Name the public sector organisation whose head you are referring it to.",
            "organisation",
        )
    if len(organisation) > ORGANISATION_LIMIT or len(organisation_contact) > ORGANISATION_LIMIT:
        raise ReferralError(
            f"Shorten the organisation's name and contact to {ORGANISATION_LIMIT} characters each.",
            "organisation",
        )
    if _NOT_AN_AUTHORITY.search(organisation):
        raise ReferralError(_NO_MINISTER, "organisation")
    return head_of(organisation), organisation_contact


def read_referrals(ctx: Context, who: SignedIn, case_id: str) -> list[Referral]:
    key = internal_keys.open_internal_key(ctx, case_id, who.account.id, who.private_key)
    if key is None:
        return []
    rows = ctx.db.execute(
        "SELECT r.seq, r.day, r.account_id, COALESCE(a.name, 'A former officer'), r.detail_ct FROM"
        " referrals r LEFT JOIN accounts a ON a.id = r.account_id WHERE r.case_id = ? ORDER BY"
        " r.seq",
        [case_id],
    ).fetchall()
    found = []
    for seq, day, account_id, name, detail_ct in rows:
        try:
            detail = json.loads(
                crypto.decrypt_field(key, case_id, f"referral:{seq}:{day}:{account_id}", detail_ct)
            )
        except crypto.DecryptionError:
            found.append(Referral(day, name, case_history.TAMPERED_TEXT, "", "", ""))
            continue
        found.append(
            Referral(
                day,
                name,
                detail["authority"],
                # "Neither of the two below" is the form's words: a general referral names none.
                CONCERNS[detail["concerns"]] if detail["concerns"] in EXCLUSIVE_NAMES else "",
                CONSULTATION[detail["consultation"]],
                detail["consultation_note"],
                detail.get("contact"),
            )
        )
    return found

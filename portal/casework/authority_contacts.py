"""How a discloser is told to contact an appropriate authority after an s 16 referral, and the day
that contact was last checked against the authority's own website.

The shipped directory (portal/data/authorities.json) gives each authority a "contact" (free text:
its website, and a phone number where well known) and "contact_checked" (YYYY-MM-DD, or null:
never checked). An administrator may change an authority's contact in the console, and say they
checked it today: that is stored in the table `authority_contacts` (migration 38), which overrides
the shipped file for that authority alone; the file stays the default for every other, and again
for that one once its stored contact is dropped. No discloser content is read or written here.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from portal.core import resources
from portal.core.clock import today
from portal.core.context import Context
from portal.core.words import N_
from portal.guard import submissions
from portal.records import audit
from portal.store import transaction

FIELDS = ("website", "email", "phone")
# The longest each may be: the audit entry keeps each changed value whole (at most 100 characters).
LIMITS = {"website": 100, "email": 100, "phone": 40}

_EMAIL = re.compile(r"[^@\s,;<>()\"']+@[^@\s,;<>()\"'.]+(\.[^@\s,;<>()\"'.]+)+")
_HOST = re.compile(r"[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+")
_PHONE = re.compile(r"[0-9A-Za-z +().-]*[0-9][0-9A-Za-z +().-]*")


class ContactError(ValueError):
    """A contact that cannot be stored: `field` names the one at fault ("" for the whole form), and
    the message (a catalogue message, N_) says why in plain words."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Contact:
    """One authority's contact. `text` is what the discloser is shown ("" when there is none);
    `website`, `email`, `phone` its parts ("" when not given: a shipped contact is split into them
    by `_parts`, to start the console's form from); `checked_on` the day (YYYY-MM-DD) it was last
    checked against the authority's own website, None when never; `stored` True when an
    administrator's change overrides the shipped file; `changed_on` the day (YYYY-MM-DD) an
    administrator made it differ from the shipped file's, None while it is the shipped one (also
    when stored unchanged), so an officer can tell the two apart whether checked or not."""

    text: str
    website: str
    email: str
    phone: str
    checked_on: str | None
    stored: bool
    changed_on: str | None = None


def _joined(website: str, email: str, phone: str) -> str:
    return ", ".join(part for part in (website, email, phone) if part)


def _parts(text: str) -> dict[str, str]:
    """A shipped contact ("ombudsman.parliament.nz, 0800 802 602") as its parts: a part with "@"
    is the email address, a bare host name the website (given https://), the rest the phone."""
    found = dict.fromkeys(FIELDS, "")
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        if "@" in part and not found["email"]:
            found["email"] = part
        elif not found["website"] and (part.startswith("https://") or _HOST.fullmatch(part)):
            found["website"] = part if part.startswith("https://") else f"https://{part}"
        else:
            found["phone"] = ", ".join(p for p in (found["phone"], part) if p)
    return found


def _shipped_entries() -> list[dict]:
    return json.loads(resources.authorities_file().read_text(encoding="utf-8"))["authorities"]


def _from_file(entry: dict) -> Contact:
    text = (entry.get("contact") or "").strip()
    return Contact(
        text, **_parts(text), checked_on=entry.get("contact_checked") or None, stored=False
    )


def shipped_contacts() -> dict[str, Contact]:
    """The shipped file's contacts: {authority name: Contact} (an entry without one: text "")."""
    return {entry["name"]: _from_file(entry) for entry in _shipped_entries()}


def _stored(row, shipped: Contact | None) -> Contact:
    website, email, phone, checked_on, changed_on = row
    text = _joined(website, email, phone)
    if shipped is not None and (website, email, phone) == (
        shipped.website,
        shipped.email,
        shipped.phone,
    ):
        changed_on = None  # stored as shipped (checked, say): the shipped contact still
    return Contact(text, website, email, phone, checked_on, stored=True, changed_on=changed_on)


def contacts(ctx: Context) -> dict[int, Contact]:
    """Every directory entry's contact as disclosers are given it: {authority id: Contact}, the
    administrator's stored contact where there is one, else the shipped file's (by the entry's
    name; an entry the file does not name has text "")."""
    shipped = shipped_contacts()
    none = Contact("", "", "", "", None, stored=False)
    rows = ctx.db.execute(
        "SELECT a.id, a.name, c.authority_id, c.website, c.email, c.phone, c.checked_on,"
        " c.changed_on FROM authorities a LEFT JOIN authority_contacts c ON c.authority_id = a.id"
    ).fetchall()
    return {
        authority_id: (
            _stored(row[1:], shipped.get(name)) if row[0] is not None else shipped.get(name, none)
        )
        for authority_id, name, *row in rows
    }


def _authority_name(ctx: Context, authority_id: int) -> str | None:
    row = ctx.db.execute("SELECT name FROM authorities WHERE id = ?", [authority_id]).fetchone()
    return row[0] if row else None


def contact_given(ctx: Context, authority_id: int) -> str:
    """The contact text a discloser referred today to directory entry `authority_id` is given (""
    when there is none): sealed into the referral, so that a later change does not reach them."""
    found = contacts(ctx).get(authority_id)
    return found.text if found else ""


def _checked_parts(website: str, email: str, phone: str) -> dict[str, str]:
    given = {"website": website.strip(), "email": email.strip(), "phone": phone.strip()}
    if not any(given.values()):
        raise ContactError(
            "website",
            N_(
                "Give at least one way to contact the authority: its website, an email address or a"
                " phone number."
            ),
        )
    for name, value in given.items():
        if len(value) > LIMITS[name]:
            raise ContactError(name, N_("That is too long: shorten it."))
    site = urlsplit(given["website"])
    if given["website"] and (
        site.scheme != "https"
        or not _HOST.fullmatch(site.hostname or "")
        or site.username
        or site.password
        or " " in given["website"]
    ):
        raise ContactError(
            "website",
            N_(
                "Give the website's address as it starts in the browser, with https:// (for example"
                " https://www.ombudsman.parliament.nz)."
            ),
        )
    if given["email"] and not _EMAIL.fullmatch(given["email"]):
        raise ContactError(
            "email",
            N_(
                "That is not an email address: write it as name@example.govt.nz, or leave it empty."
            ),
        )
    if given["phone"] and not _PHONE.fullmatch(given["phone"]):
        raise ContactError(
            "phone",
            N_(
                "Write the phone number with its digits (spaces, +, brackets and a few words such"
                ' as "non-emergency" are fine), or leave it empty.'
            ),
        )
    return given


def _for_audit(value: str) -> str:
    return value[:100]


def change_contact(
    ctx: Context,
    admin_id: int,
    authority_id: int,
    *,
    website: str,
    email: str,
    phone: str,
    checked: bool,
    submission_token: str | None = None,
) -> Contact:
    """Store an authority's contact (overriding the shipped file for it), checked today against its
    own website when `checked`, else marked never checked. Audited as "authority_contact_change"
    with the authority, each changed part before and after, and whether it was checked. Returns the
    contact now given. Raises ContactError (bad input, or no such entry: field ""),
    submissions.AlreadySubmitted."""
    given = _checked_parts(website, email, phone)
    day = today(ctx.settings.timezone)
    with transaction(ctx.db):
        submissions.claim(ctx.db, submission_token, day)
        authority = _authority_name(ctx, authority_id)
        if authority is None:
            raise ContactError("", N_("That entry is no longer in the directory."))
        before = contacts(ctx)[authority_id]
        ctx.db.execute(
            "INSERT INTO authority_contacts (authority_id, website, email, phone, checked_on,"
            " changed_by, changed_on) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (authority_id)"
            " DO UPDATE SET website = excluded.website, email = excluded.email, phone ="
            " excluded.phone, checked_on = excluded.checked_on, changed_by = excluded.changed_by,"
            " changed_on = excluded.changed_on",
            [authority_id, *given.values(), day if checked else None, admin_id, day],
        )
        changed = [name for name in FIELDS if given[name] != getattr(before, name)]
        detail: dict = {
            "authority_id": authority_id,
            "authority": _for_audit(authority),
            "changed": ", ".join(changed) or "nothing",
            "checked": checked,
        }
        for name in changed:
            detail[f"{name}_before"] = _for_audit(getattr(before, name)) or None
            detail[name] = given[name] or None
        audit.record(ctx, "authority_contact_change", actor=admin_id, detail=detail)
    return contacts(ctx)[authority_id]


def use_shipped_contact(ctx: Context, admin_id: int, authority_id: int) -> bool:
    """Drop an authority's stored contact, so the shipped file's is given again; audited as
    "authority_contact_change" (restored_shipped). Returns False, and records nothing, when it had
    none stored (the same form sent twice)."""
    with transaction(ctx.db):
        authority = _authority_name(ctx, authority_id)
        if (
            authority is None
            or not ctx.db.execute(
                "DELETE FROM authority_contacts WHERE authority_id = ?", [authority_id]
            ).rowcount
        ):
            return False
        audit.record(
            ctx,
            "authority_contact_change",
            actor=admin_id,
            detail={
                "authority_id": authority_id,
                "authority": _for_audit(authority),
                "restored_shipped": True,
            },
        )
    return True


def te_reo_names() -> dict[str, str]:
    """{authority name: its official te reo Māori name} from the shipped file, for the entries that
    have one ("te_reo_name"; "An Ombudsman": "Te Kaitiaki Mana Tangata"). By the shipped English
    name: an entry an administrator renamed has none."""
    return {e["name"]: e["te_reo_name"] for e in _shipped_entries() if e.get("te_reo_name")}

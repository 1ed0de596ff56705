"""Reading the audit log for people: the entries an account may see in the console, a case's entries
for its printed record, plain-language labels, times and the previous sign-in.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from typing import Iterator
from zoneinfo import ZoneInfo

from portal.core.context import Context
from portal.core.words import N_, Sentence

# Plain-language labels for the console; an event without one is shown by its name.
EVENT_LABELS: dict[str, str] = {
    "sign_in": N_("Signed in"),
    "sign_in_failed": N_("Failed sign-in"),
    "sign_in_paused": N_("Sign-in paused after failed attempts"),
    "sign_out": N_("Signed out"),
    "sign_out_everywhere": N_("Signed out on every device"),
    "passphrase_confirmed": N_("Confirmed passphrase"),
    "passphrase_confirm_failed": N_("Wrong passphrase when asked again"),
    "account_add": N_("Account created at the command line"),
    "channel_add": N_("Channel added"),
    "membership_add": N_("Officer added to a channel"),
    "membership_request": N_("Asked for an officer to join a channel"),
    "membership_confirm": N_("Confirmed an officer's membership of a channel"),
    "membership_refuse": N_("Refused an officer's membership of a channel"),
    "membership_remove": N_("Removed an officer from a channel"),
    "membership_withdraw": N_("Withdrew a request for an officer to join a channel"),
    "second_factor_change_started": N_("Started replacing the second factor"),
    "invitation": N_("Enrolment link made"),
    "invitation_revoke": N_("Enrolment link withdrawn"),
    "invitation_resend": N_("Enrolment link made again (the old one withdrawn)"),
    "offboard_request": N_("Asked for an officer to be offboarded"),
    "offboard_withdraw": N_("Withdrew a request to offboard an officer"),
    "enrolment": N_("Officer enrolled"),
    "credentials_replaced": N_("Set-up credentials replaced by the account holder's own"),
    "passphrase_change": N_("Passphrase changed"),
    "second_factor_change": N_("Second factor replaced"),
    "signing_key_made": N_("Signing key made"),
    "signing_key_unusable": N_("Stored signing key did not open: signed in without it"),
    "recovery_code_used": N_("Signed in with a recovery code"),
    "settings_change": N_("Setting changed"),
    "daily_reminder_change": N_("Daily reminder turned on or off"),
    "case_view": N_("Case read"),
    "download": N_("Attachment downloaded"),
    "clean_copy": N_("Clean copy made of a file, its hidden details removed"),
    "original_download": N_("Original of a file, handed over by the discloser, downloaded"),
    "reply": N_("Message sent to the discloser"),
    "disclosure_received": N_("Disclosure received (kept to the day, entered at the day's end)"),
    "discloser_message": N_(
        "Message from the discloser (kept to the day, entered at the day's end)"
    ),
    "consent_answer": (
        N_("Discloser answered a consent question (kept to the day, entered at the day's end)")
    ),
    "oral_receipt_replaced": (
        N_("Discloser replaced the hand-over receipt (kept to the day, entered at the day's end)")
    ),
    "status_change": N_("Status changed"),
    "closed_in_bulk": N_("Closed with other cases as needing no action (s 15)"),
    "step_done": N_("A step of s 13 recorded as done"),
    "extension": N_("Extension under s 13(2) recorded"),
    "progress_update": N_("Progress update given (s 13(2))"),
    "referral": N_("Referred to an appropriate authority (s 16)"),
    "assignment": N_("Case assigned"),
    "note_added": N_("Internal note added"),
    "exclusion": N_("Officers excluded by the discloser"),
    "statistics_view": N_("Statistics viewed"),
    "statistics_export": N_("Statistics exported"),
    "identity_consent_asked": N_("Discloser asked to consent to releasing their identity (s 17)"),
    "identity_release_requested": (
        N_("Release of the discloser's identity asked, awaiting a second officer (s 17)")
    ),
    "identity_release": N_("Discloser's identity released (s 17)"),
    "case_export": N_("Case exported"),
    "oral_disclosure": N_("Oral disclosure recorded by an officer"),
    "oral_record_confirmed": N_("Record of an oral disclosure confirmed"),
    "case_print": N_("Case record printed"),
    "interest_declared": N_("Interest declared"),
    "interest_removed": N_("Interest removed"),
    "authority_change": N_("Appropriate-authority directory changed"),
    "authority_contact_change": N_("Contact of an appropriate authority changed or checked"),
    "audit_export": N_("Audit log exported"),
    "grant": N_("Access to a case given to another officer"),
    "offboard": N_("Officer offboarded: their key copies deleted"),
    "recovery_key_requested": N_(
        "Channel recovery key asked for, awaiting an officer's confirmation"
    ),
    "recovery_key_set": N_("Channel recovery key confirmed by an officer"),
    "recovery_key_refused": N_("Channel recovery key refused by an officer"),
    "recovery_sealed": N_("Earlier cases sealed to the channel's recovery key"),
    "recovery_used": N_("Channel recovery key used to re-seal cases to an officer"),
    "roster_custodians_handover": N_(
        "Roster root handed over by the channel's recovery custodians"
    ),
    "key_rotation_started": N_("Key rotation started"),
    "key_rotated": N_("Key pair replaced and case keys re-sealed"),
    "key_rotation_refused": N_("Key replacement refused: not one the officer began"),
    "roster_statement": N_("Signed roster statement added"),
    "retention_change": N_("Channel's retention period changed"),
    "legal_hold": N_("Legal hold placed"),
    "legal_hold_released": N_("Legal hold lifted"),
    "deletion_requested": N_("Deletion requested (retention period over)"),
    "deletion_withdrawn": N_("Deletion request withdrawn"),
    "case_deleted": N_("Case deleted after its retention period (confirmed by a second officer)"),
    # The service-level audit (portal.service.operator): what a service operator did.
    "organisation_add": N_("Organisation made on the service"),
    "organisation_invitation": N_(
        "Invitation made for an organisation's first administrator or officer"
    ),
    "organisation_host": N_("Host name given to an organisation"),
    "organisation_adopt": N_("Existing installation brought into the service as an organisation"),
    "service_host": N_("Host name given to the service"),
    "organisation_backup": N_("Organisation's archive made, sealed to its own archive key"),
    "organisation_restore": N_("Organisation brought back from its archive"),
    "organisation_erase": N_("Organisation erased from the service"),
    # A channel moved between organisations of a service (portal.service.channel_moves).
    "channel_move_ask": N_("A channel's move to another organisation asked for"),
    "channel_move": N_("A channel's cases moved to another organisation"),
    "channel_move_visitor": N_("Officer of the receiving organisation asked to join the channel"),
    "channel_arrival_ask": N_("A channel of another organisation asked to move into this channel"),
    "channel_arrival_confirm": N_("Move into this channel confirmed, naming the roster head"),
    "case_moved_in": N_("Case moved here from another organisation"),
    "status_moved_in": N_("Status record moved here with its case"),
    "message_moved_in": N_("Message moved here with its case"),
    "case_moved_out": N_("Case moved to another organisation"),
    "channel_arrived": N_("Channel's cases arrived from another organisation"),
    "channel_moved_out": N_("Channel's cases moved to another organisation"),
}


@dataclass(frozen=True)
class Entry:
    seq: int
    at: str
    event: str
    actor_name: str
    subject_name: str
    channel_name: str
    case_ref: str
    detail: dict

    @property
    def label(self) -> str:
        return EVENT_LABELS.get(self.event, self.event.replace("_", " ").capitalize())


_ENTRY_SQL = (
    "SELECT l.seq, l.at, l.event, COALESCE(a.name, ''), COALESCE(s.name, ''), COALESCE(ch.name,"
    " ''), COALESCE(l.case_ref, ''), l.detail FROM audit_log l LEFT JOIN accounts a ON a.id ="
    " l.actor LEFT JOIN accounts s ON s.id = l.subject LEFT JOIN channels ch ON ch.id ="
    " l.channel_id "
)


def _visible_to(account_id: int, role: str) -> tuple[str, list]:
    """Administrators: account and settings entries. Officers: their own account, their channels'
    settings, and the cases they hold a key for."""
    if role == "admin":
        return "WHERE l.case_ref IS NULL", []
    return (
        (
            "WHERE l.actor = ? OR l.subject = ? OR (l.case_ref IS NULL AND l.channel_id IN (SELECT"
            " channel_id FROM channel_officers WHERE account_id = ? AND state = 'confirmed')) OR"
            " l.case_ref IN (SELECT c.ref FROM cases c JOIN case_keys k ON k.case_id = c.id WHERE"
            " k.recipient = ?)"
        ),
        [account_id, account_id, account_id, f"account:{account_id}"],
    )


def entries_for(
    ctx: Context, account_id: int, role: str, *, limit: int = 100, before: int | None = None
) -> list[Entry]:
    """The entries this account may see, newest first, `limit` at a time (`before`: a sequence
    number)."""
    where, params = _visible_to(account_id, role)
    if before is not None:
        where = f"WHERE l.seq < ? AND ({where.removeprefix('WHERE ')})"
        params = [before, *params]
    rows = ctx.db.execute(
        _ENTRY_SQL + where + " ORDER BY l.seq DESC LIMIT ?", [*params, limit]
    ).fetchall()
    return [Entry(*row[:7], json.loads(row[7])) for row in rows]


def entries_for_case(ctx: Context, case_ref: str) -> list[Entry]:
    """Every entry about one case, oldest first (the caller has checked the account may read the
    case)."""
    rows = ctx.db.execute(_ENTRY_SQL + "WHERE l.case_ref = ? ORDER BY l.seq", [case_ref]).fetchall()
    return [Entry(*row[:7], json.loads(row[7])) for row in rows]


def all_entries_for(ctx: Context, account_id: int, role: str) -> Iterator[Entry]:
    """Every entry this account may see, oldest first (for an export)."""
    where, params = _visible_to(account_id, role)
    for row in ctx.db.execute(_ENTRY_SQL + where + " ORDER BY l.seq", params):
        yield Entry(*row[:7], json.loads(row[7]))


def previous_sign_in(ctx: Context, account_id: int) -> tuple[str | None, int]:
    """For the current session: when this account signed in before it (UTC, ISO 8601; None for a
    first sign-in), and how many failed sign-ins for the account came between that one and this."""
    rows = ctx.db.execute(
        "SELECT seq, at FROM audit_log WHERE event = 'sign_in' AND actor = ? "
        "ORDER BY seq DESC LIMIT 2",
        [account_id],
    ).fetchall()
    if not rows:
        return None, 0
    current = rows[0][0]
    previous_seq, previous_at = rows[1] if len(rows) > 1 else (0, None)
    failed = ctx.db.execute(
        "SELECT COUNT(*) FROM audit_log WHERE event = 'sign_in_failed' AND subject = ? "
        "AND seq > ? AND seq < ?",
        [account_id, previous_seq, current],
    ).fetchone()[0]
    return previous_at, failed


def detail_text(detail: dict) -> str:
    """An entry's detail as stored, `key: value` pairs (for the CSV export, read by tools)."""
    return ", ".join(f"{key}: {value}" for key, value in sorted(detail.items()))


# An entry's detail in words for the console's pages: what a key means, or the words of its value,
# each marked for the catalogue (the page translates them, portal.web.languages.translated).
_DETAIL_WORDS: dict[str, dict] = {
    "by_operator": {True: N_("by the server's operator"), False: N_("by an administrator")},
    # A channel made since signed rosters, whose roster its officers may start (not one started).
    "roster": {
        True: N_("its signed roster can be started"),
        False: N_("made before signed rosters"),
    },
    "setup": {True: N_("while setting up"), False: N_("after setting up")},
    "resumed": {True: N_("carried on from where it stopped"), False: N_("from the start")},
    "locked": {True: N_("sign-in paused"), False: N_("sign-in not paused")},
    "identity": {
        True: N_("with the discloser's identity"),
        False: N_("without the discloser's identity"),
    },
    "role": {"admin": N_("as an administrator"), "officer": N_("as an officer")},
    "checked": {
        True: N_("checked against the authority's own website that day"),
        False: N_("not checked against the authority's own website"),
    },
    "restored_shipped": {True: N_("the contact shipped with the portal given again")},
}
# Details that are a count ("channels": how many channels an enrolment link is for): the words for
# one, and for more.
_COUNTED = {
    "channels": (N_("for 1 channel"), N_("for %(count)d channels"), N_("for no channel")),
}
_DETAIL_NAMES = {
    "message_id": N_("message"), "note_id": N_("note"), "attachment_id": N_("file"),
    "interest_id": N_("interest"), "status_seq": N_("status record"), "release_seq": N_("release"),
    "consent_seq": N_("consent question"), "seq": N_("number"), "closed_day": N_("closed on"),
    "received_day": N_("received on"),
    "day": N_("on"), "update_every": N_("update every (working days)"),
    "before": N_("earlier messages, before number"),
    "kind": N_("kind"), "statement": N_("statement"), "answer": N_("answer"),
    "other_sessions_ended": N_("other sessions ended"), "resealed": N_("cases sealed again"),
    "status": N_("status"), "step": N_("step"), "from": N_("from"), "to": N_("to"),
    "setting": N_("setting"), "ground": N_("ground"), "authority": N_("authority"),
    "wanted": N_("wanted"), "sessions_ended": N_("sessions ended"), "sessions": N_("sessions"),
    "sealed_copies_deleted": N_("sealed copies deleted"), "removed": N_("removed"),
    "original_id": N_("original"), "months": N_("months"), "left": N_("left"),
    "keys": N_("keys"), "files": N_("files"), "custodians": N_("custodians"),
    "cases": N_("cases"), "concerns": N_("concerns"), "consultation": N_("consultation"),
}
_YES_NO_NONE = {True: N_("yes"), False: N_("no"), None: N_("none")}
# A status in a detail, as the discloser's label begins (casefiles.STATUSES).
_STATUS_WORDS = {
    "received": N_("received"), "acknowledged": N_("acknowledged"),
    "assessing": N_("being assessed"), "investigating": N_("being investigated"),
    "addressed": N_("addressed"), "referred": N_("referred to another authority"),
    "no_further_action": N_("closed"), "closed": N_("closed"),
}


_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _value_words(value):
    """A detail's value for people: a Sentence where the portal words it, a `date` for a day, a
    list of those for a list, else the value as text (data: a name, a reason, an id)."""
    if isinstance(value, bool) or value is None:
        return Sentence(_YES_NO_NONE[value])
    if isinstance(value, (list, tuple)):
        return [_value_words(v) for v in value] or Sentence(_YES_NO_NONE[None])
    if isinstance(value, dict):
        return "; ".join(str(part) for part in detail_parts(value))
    text = str(value)
    if _DAY.fullmatch(text):
        return dt.date.fromisoformat(text)
    if text in _STATUS_WORDS:
        return Sentence(_STATUS_WORDS[text])
    return text.replace("_", " ") if text.isidentifier() else text


def detail_parts(detail: dict, authorities: dict[int, str] | None = None) -> list:
    """An entry's detail as people read it, part by part: "by the server's operator", "for 1
    channel", never `by_operator: True` (keys in words, yes/no for flags, statuses by their label,
    counts with their noun: an administrator's count of no channel left out, any
    other "for no channel"). Each part is a words.Sentence or a string marked N_, which the page
    says in its language (portal.web.languages.translated); values typed or named by people stay as
    they are. A directory entry is named, never numbered: by the name the entry recorded, else by
    `authorities` ({id: name} of the directory today), else as one since removed."""
    parts = []
    for key, value in sorted(detail.items()):
        if key == "authority_id":
            if "authority" not in detail:
                name = (authorities or {}).get(value)
                parts.append(
                    Sentence(N_("authority: %(name)s"), name=name)
                    if name
                    else N_("an entry since removed")
                )
            continue
        if key in _COUNTED and isinstance(value, int) and not isinstance(value, bool):
            if value == 0 and detail.get("role") == "admin":
                continue  # an administrator joins no channel: "as an administrator" says so
            one, more, none = _COUNTED[key]
            parts.append(
                Sentence(none) if value == 0
                else Sentence(one) if value == 1
                else Sentence(more, count=value)
            )
        elif key in _DETAIL_WORDS and value in _DETAIL_WORDS[key]:
            parts.append(_DETAIL_WORDS[key][value])
        else:
            name = Sentence(_DETAIL_NAMES[key]) if key in _DETAIL_NAMES else key.replace("_", " ")
            parts.append(Sentence(N_("%(name)s: %(value)s"), name=name, value=_value_words(value)))
    return parts


def local_time(at: str, tz: str) -> str:
    """An entry's time for people: 'YYYY-MM-DD HH:MM' in the installation's zone, or the day as
    stored."""
    if "T" not in at:
        return at
    moment = dt.datetime.strptime(at, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.timezone.utc)
    return moment.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M")

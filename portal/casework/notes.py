"""Internal notes on a case: written by its officers, read by its officers, never by the discloser.

Each note is encrypted under the case's officers-only key (internal_keys.open_internal_key), which
is sealed to the officers who read the case and never to the discloser's receipt key. The audit log
records that a note was added, never its text.
"""

from __future__ import annotations

from dataclasses import dataclass

import crypto
from portal.casework.cases import open_case
from portal.core.clock import today
from portal.core.context import Context
from portal.core.words import N_, Sentence
from portal.guard import submissions
from portal.keys.officer_sessions import SignedIn
from portal.records import audit, case_history, casefiles, internal_keys
from portal.store import transaction

MAX_NOTE_CHARS = 20_000


class NoteError(ValueError):
    """A note that cannot be added; the message says why."""


@dataclass
class Note:
    author_name: str
    day: str
    body: str


def _field(note_id: str, account_id: int | None, day: str) -> str:
    # The note's author and day are bound into its associated data, so an edit of either is
    # detected.
    return f"note:{note_id}:{account_id}:{day}"


def internal_key(ctx: Context, who: SignedIn, case_id: str) -> bytes:
    key = internal_keys.open_internal_key(ctx, case_id, who.account.id, who.private_key)
    if key is None:
        raise NoteError(N_("Internal notes of this case were not shared with you yet."))
    return key


def add_note(
    ctx: Context, who: SignedIn, ref: str, text: str, submission_token: str | None = None
) -> None:
    """Add an internal note (officers only). Raises CaseNotFound, NoteError,
    submissions.AlreadySubmitted."""
    text = text.strip()
    if not text:
        raise NoteError(N_("Write the note first."))
    if len(text) > MAX_NOTE_CHARS:
        raise NoteError(Sentence(N_("A note can be at most %(n)d characters."), n=MAX_NOTE_CHARS))
    case, _ = open_case(ctx, who, ref)
    key = internal_key(ctx, who, case.id)
    day, note_id = today(ctx.settings.timezone), casefiles.new_id()
    with transaction(ctx.db):
        submissions.claim(ctx.db, submission_token, day)
        seq = ctx.db.execute(
            "SELECT COALESCE(MAX(seq), 0) + 1 FROM case_notes WHERE case_id = ?", [case.id]
        ).fetchone()[0]
        ctx.db.execute(
            "INSERT INTO case_notes (id, case_id, seq, account_id, day, body_ct) VALUES (?, ?, ?,"
            " ?, ?, ?)",
            [
                note_id,
                case.id,
                seq,
                who.account.id,
                day,
                crypto.encrypt_field(
                    key, case.id, _field(note_id, who.account.id, day), text.encode()
                ),
            ],
        )
        audit.record(
            ctx, "note_added", actor=who.account.id, case_ref=case.ref, detail={"note_id": note_id}
        )


def read_notes(ctx: Context, who: SignedIn, case_id: str) -> list[Note]:
    """The case's notes, oldest first; [] when the officers-only key was not shared with this
    officer."""
    key = internal_keys.open_internal_key(ctx, case_id, who.account.id, who.private_key)
    if key is None:
        return []
    rows = ctx.db.execute(
        "SELECT n.id, n.account_id, COALESCE(a.name, 'A former officer'), n.day, n.body_ct FROM"
        " case_notes n LEFT JOIN accounts a ON a.id = n.account_id WHERE n.case_id = ? ORDER BY"
        " n.seq",
        [case_id],
    ).fetchall()
    notes = []
    for note_id, account_id, name, day, body_ct in rows:
        try:
            body = crypto.decrypt_field(
                key, case_id, _field(note_id, account_id, day), body_ct
            ).decode()
        except crypto.DecryptionError:
            body = case_history.TAMPERED_TEXT
        notes.append(Note(name, day, body))
    return notes

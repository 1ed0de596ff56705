"""The discloser's consent to a release of their identity (s 17(2)(a) of the Protected Disclosures
(Protection of Whistleblowers) Act 2022): the questions put on their status page, their answers
signed with the discloser's own key, and checking each answer against the key the audit log vouches
for (SECURITY.md, "Signed consent answers").

The case key opens and re-encrypts everything of a case, and every reader holds it, so an answer
bound only by the case key could be forged by an officer who can write the database. Each answer is
therefore also signed by the discloser's Ed25519 key, derived from the receipt (crypto.receipt); its
public half is written, at submission, into the chained audit entry (and the acknowledgement), which
a database writer cannot forge. An answer is shown as:
- VERIFIED: signed by the vouched key;
- TAMPERED: it does not verify (never counted as consent);
- UNSIGNED: the case was made before answers were signed (no key vouched for): a release on it
  needs a second officer.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import crypto
from portal.core.clock import today
from portal.core.context import Context
from portal.records import audit
from portal.store import transaction

VERIFIED, UNSIGNED, TAMPERED = "verified", "unsigned", "tampered"
# The audit entries that name the discloser's signing key: the submission, web or oral.
KEY_EVENTS = ("disclosure_received", "oral_disclosure")
KEY_DETAIL = "discloser_signing_key"  # hex of the 32-byte Ed25519 public key


class IdentityError(ValueError):
    """A release that cannot be made or confirmed, or an answer that cannot be recorded; the message
    says why, for the officer or the discloser."""


@dataclass
class ConsentRequest:
    seq: int
    day: str
    answer: str | None
    answer_day: str | None
    recipient: str
    reason: str
    signature: str = ""  # VERIFIED, UNSIGNED or TAMPERED once answered; "" before

    @property
    def consents(self) -> bool:
        """A yes that counts: verified, or unsigned on a case made before signing (never
        tampered)."""
        return self.answer == "yes" and self.signature in (VERIFIED, UNSIGNED)


def detail(case_key: bytes, case_id: str, kind: str, seq: int, day: str, values: dict) -> bytes:
    return crypto.encrypt_field(
        case_key, case_id, f"{kind}:{seq}:{day}", json.dumps(values).encode()
    )


def open_detail(case_key: bytes, case_id: str, kind: str, seq: int, day: str, ct: bytes) -> dict:
    try:
        return json.loads(crypto.decrypt_field(case_key, case_id, f"{kind}:{seq}:{day}", ct))
    except crypto.DecryptionError:
        return {"recipient": "(changed outside the portal)", "reason": ""}


def same_recipient(a: str, b: str) -> bool:
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


def key_detail(public_key: bytes) -> dict[str, str]:
    """The audit detail that vouches for the discloser's signing key: {KEY_DETAIL: hex}."""
    return {KEY_DETAIL: public_key.hex()}


def vouched_signing_key(ctx: Context, case_ref: str) -> bytes | None:
    """The discloser's Ed25519 public key (32 bytes) as the case's latest KEY_EVENTS audit entry
    names it, if that entry's link checks; None for a case made before keys were recorded (or whose
    entry was changed outside the portal)."""
    found = audit.latest_vouched_detail(ctx, case_ref, KEY_EVENTS)
    try:
        key = bytes.fromhex(found[KEY_DETAIL]) if found and found.get(KEY_DETAIL) else None
    except (TypeError, ValueError):
        return None
    return key if key is not None and len(key) == 32 else None


def answer_key(ctx: Context, case_id: str) -> tuple[bytes | None, bool]:
    """(the key answers must verify with, or None when no key is vouched for; whether the case
    row holds a key). An oral disclosure's replaced receipt brings a new key, which counts only with
    the first key's signature over it (crypto.sign_key_change): its replacement is not audited, as
    its time would date the discloser's first visit."""
    ref, stored, endorsement = ctx.db.execute(
        "SELECT ref, discloser_signing_key, discloser_key_endorsement FROM cases WHERE id = ?",
        [case_id],
    ).fetchone()
    vouched = vouched_signing_key(ctx, ref)
    if vouched is not None and stored is not None and stored != vouched:
        if crypto.verify_key_change(vouched, case_id, stored, endorsement):
            return stored, True
    return vouched, stored is not None


def consent_requests(ctx: Context, case_id: str, case_key: bytes) -> list[ConsentRequest]:
    """Every consent question of the case, oldest first, each answer checked (the class doc)."""
    key, has_stored_key = answer_key(ctx, case_id)
    rows = ctx.db.execute(
        "SELECT seq, day, answer, answer_day, detail_ct, answer_signature FROM consent_requests"
        " WHERE case_id = ? ORDER BY seq",
        [case_id],
    ).fetchall()
    found = []
    for seq, day, answer, answer_day, ct, signature in rows:
        values = open_detail(case_key, case_id, "consent", seq, day, ct)
        # The answer counts only if its ciphertext, written with the case key when the discloser
        # answered, says the same: a "yes" written into the database by someone else is no consent.
        if (values.get("answer"), values.get("answer_day")) != (answer, answer_day):
            answer, answer_day = None, None
        state = ""
        if answer is not None:
            if key is not None:
                ok = crypto.verify_consent(key, case_id, seq, answer, answer_day, signature)
                state = VERIFIED if ok else TAMPERED
            else:  # no key vouched for: made before signing, unless someone put a key there
                state = TAMPERED if has_stored_key else UNSIGNED
        found.append(
            ConsentRequest(
                seq, day, answer, answer_day, values["recipient"], values["reason"], state
            )
        )
    return found


def answer_consent(
    ctx: Context,
    case_id: str,
    case_key: bytes,
    seq: int,
    answer: str,
    signing_seed: bytes | None = None,
) -> None:
    """The discloser's answer ('yes' or 'no') to a consent question, kept to the day and signed
    with `signing_seed` (the discloser's Ed25519 seed from their status session; None only for a
    session opened before signing began, whose case has no key). Not audited: its time would tell
    when the discloser was here; the release it allows is. Raises IdentityError."""
    if answer not in ("yes", "no"):
        raise IdentityError("Answer yes or no.")
    row = ctx.db.execute(
        "SELECT day, detail_ct, answer FROM consent_requests WHERE case_id = ? AND seq = ?",
        [case_id, seq],
    ).fetchone()
    if row is None or row[2] is not None:
        raise IdentityError("That question has already been answered.")
    day = today(ctx.settings.timezone)
    values = {
        **open_detail(case_key, case_id, "consent", seq, row[0], row[1]),
        "answer": answer,
        "answer_day": day,
    }
    signature = (
        crypto.sign_consent(signing_seed, case_id, seq, answer, day) if signing_seed else None
    )
    with transaction(ctx.db):
        ctx.db.execute(
            "UPDATE consent_requests SET answer = ?, answer_day = ?, detail_ct = ?,"
            " answer_signature = ? WHERE case_id = ? AND seq = ? AND answer IS NULL",
            [
                answer,
                day,
                detail(case_key, case_id, "consent", seq, row[0], values),
                signature,
                case_id,
                seq,
            ],
        )

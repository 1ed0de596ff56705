"""The discloser's consent to a release of their identity (s 17(2)(a) of the Protected Disclosures
(Protection of Whistleblowers) Act 2022): the questions put on their status page, their answers
signed with the discloser's own key, and checking each answer against the key the case's keyed tag
vouches for (SECURITY.md, "Signed consent answers").

The case key opens and re-encrypts everything of a case, and every reader holds it, so an answer
bound only by the case key could be forged by an officer who can write the database. Each answer is
therefore also signed by the discloser's Ed25519 key, derived from the receipt (crypto.receipt); its
public half is stored with the case at submission beside a tag keyed with a subkey of the
installation's secret (crypto.discloser_key_tag), which a database writer without installation.json
cannot forge, and is named in the signed acknowledgement. An answer is shown as:
- VERIFIED: signed by the vouched key over this answer and the question as it reads now (its
  recipient and reason, which the signed statement names: a question re-encrypted after the answer
  to name someone else does not verify);
- TAMPERED: it does not verify, or the case's key has no good tag (never counted as consent);
- UNSIGNED: the case was made before answers were signed (no key and no tag): a release on it
  needs a second officer.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import crypto
from portal.core.clock import today
from portal.core.context import Context
from portal.core.words import N_
from portal.records import audit
from portal.store import transaction

VERIFIED, UNSIGNED, TAMPERED = "verified", "unsigned", "tampered"
# What open_detail gives for a detail that does not decrypt.
UNREADABLE = {"recipient": "(changed outside the portal)", "reason": ""}


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
        return dict(UNREADABLE)


def same_recipient(a: str, b: str) -> bool:
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


def tag_key(ctx: Context) -> bytes:
    """The key of the discloser key tags: derive_subkey(installation secret_key, "discloser-tag"),
    from installation.json, never stored in the database."""
    return crypto.derive_subkey(ctx.settings.secret_key, "discloser-tag")


def store_signing_key(ctx: Context, case_id: str, public_key: bytes) -> None:
    """In the caller's transaction: the case's discloser signing key (32 bytes, from the receipt)
    and its tag (crypto.discloser_key_tag), which vouches that the portal wrote it."""
    tag = crypto.discloser_key_tag(tag_key(ctx), case_id, public_key)
    ctx.db.execute(
        "UPDATE cases SET discloser_signing_key = ?, discloser_key_tag = ? WHERE id = ?",
        [public_key, tag, case_id],
    )


def restore_signing_key(ctx: Context, case_id: str, public_key: bytes) -> None:
    """In the caller's transaction, when the discloser acts with the key their receipt derives: if
    the case holds a key or tag (made since answers are signed) that is not this key with a good
    tag, a database writer changed it; store the genuine key and its tag again, so that their own
    answers verify. Answers signed with another key stay tampered; a case with neither is left as
    it was (its earlier answers are unsigned)."""
    stored, tag = ctx.db.execute(
        "SELECT discloser_signing_key, discloser_key_tag FROM cases WHERE id = ?", [case_id]
    ).fetchone()
    if stored is None and tag is None:
        return
    if stored != public_key or not crypto.verify_discloser_key_tag(
        tag_key(ctx), case_id, stored, tag
    ):
        store_signing_key(ctx, case_id, public_key)


def answer_key(ctx: Context, case_id: str) -> tuple[bytes | None, bool]:
    """(the key answers must verify with: the case's discloser signing key if its tag verifies,
    else None; whether the case row holds a key or a tag at all). A row with neither is a case made
    before answers were signed; a key without a good tag was written by someone without
    installation.json."""
    stored, tag = ctx.db.execute(
        "SELECT discloser_signing_key, discloser_key_tag FROM cases WHERE id = ?", [case_id]
    ).fetchone()
    if crypto.verify_discloser_key_tag(tag_key(ctx), case_id, stored, tag):
        return stored, True
    return None, stored is not None or tag is not None


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
                # The signature covers the question too, as decrypted now: a recipient or reason
                # re-encrypted after the answer does not verify.
                ok = crypto.verify_consent(
                    key,
                    case_id,
                    seq,
                    answer,
                    answer_day,
                    values.get("recipient"),
                    values.get("reason"),
                    signature,
                )
                state = VERIFIED if ok else TAMPERED
            else:  # no key vouched for: made before signing, unless someone put one there
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
    session opened before signing began, whose case has no key); a key of the case changed outside
    the portal is put right first (restore_signing_key). Audited to the day, at the day's end
    (audit.record_for_the_day): its time would tell when the discloser was here. Raises
    IdentityError."""
    if answer not in ("yes", "no"):
        raise IdentityError(N_("Answer yes or no."))
    row = ctx.db.execute(
        "SELECT day, detail_ct, answer FROM consent_requests WHERE case_id = ? AND seq = ?",
        [case_id, seq],
    ).fetchone()
    if row is None or row[2] is not None:
        raise IdentityError(N_("That question has already been answered."))
    day = today(ctx.settings.timezone)
    question = open_detail(case_key, case_id, "consent", seq, row[0], row[1])
    if question == UNREADABLE:
        raise IdentityError(
            N_("That question was changed outside the portal: it cannot be answered.")
        )
    values = {**question, "answer": answer, "answer_day": day}
    # Signed over the question as it reads now, which is what the status page shows the discloser.
    signature = (
        crypto.sign_consent(
            signing_seed, case_id, seq, answer, day, question["recipient"], question["reason"]
        )
        if signing_seed
        else None
    )
    with transaction(ctx.db):
        if signing_seed:
            restore_signing_key(ctx, case_id, crypto.signing_public_key(signing_seed))
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
        ref = ctx.db.execute("SELECT ref FROM cases WHERE id = ?", [case_id]).fetchone()[0]
        audit.record_for_the_day(
            ctx, "consent_answer", case_ref=ref, detail={"consent_seq": seq, "answer": answer}
        )

"""Proof of disclosure: the signed acknowledgement a discloser downloads once their disclosure has
been acknowledged (s 13(1)(a) of the Protected Disclosures (Protection of Whistleblowers) Act 2022).

The statement says which case, which channel, the day it was received and the day it was
acknowledged, and carries a salted commitment to the disclosure as received (crypto.commit). It
holds nothing that identifies the discloser: no receipt, no contact details, no private key. It
does name the discloser's public signing key (derived from the receipt, it says nothing about who
they are), which their consent answers must verify with: a database writer cannot replace that key
without the acknowledgement the discloser holds showing it (portal.casework.consent). The salt is
derived from the case key (crypto.commitment_salt), so only the case's readers and the discloser can
recompute it; the discloser is shown it on the status page and decides whom to give it to. Format:
SECURITY.md, "Signed acknowledgement".
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import crypto
from portal.casework import consent, workflow
from portal.core.context import Context
from portal.keys import channels
from portal.records import case_attachments, casefiles
from portal.records.casefiles import CaseRecord

FORMAT = "protected-disclosure-acknowledgement/1"
COMMITMENT_FORMAT = "protected-disclosure-text/1"
# The parts of the disclosure the commitment covers, in this order (contact details are left out:
# they identify the discloser, and proving the text must not need them).
COMMITTED_FIELDS = ("category", "summary", "details", "disclosed_elsewhere")
REGIME_ACTS = {
    "nz": "Protected Disclosures (Protection of Whistleblowers) Act 2022 (New Zealand)",
    "eu": "Directive (EU) 2019/1937 on the protection of persons who report breaches of Union law",
}


class NotAcknowledged(Exception):
    """The disclosure has not been acknowledged yet, so there is nothing to sign."""


@dataclass(frozen=True)
class Proof:
    file: bytes  # the signed acknowledgement, as downloaded
    salt_hex: str  # the commitment's salt, for the discloser alone
    filename: str
    opening: str  # opening.json for a checker, everything filled in but the discloser's own words


def commitment_parts(fields: dict[str, str], attachments: list[casefiles.Attachment]) -> list[str]:
    """What the commitment covers, as strings: the format name, the four text fields of the
    disclosure as sent, then each file sent with it as name, type, size in bytes and the SHA-256 of
    its contents (hex; empty for a file stored before digests were kept)."""
    parts = [COMMITMENT_FORMAT] + [fields.get(name, "") for name in COMMITTED_FIELDS]
    for attachment in attachments:
        parts += [attachment.name, attachment.content_type, str(attachment.size), attachment.sha256]
    return parts


def statement(ctx: Context, case: CaseRecord, case_key: bytes) -> dict[str, str]:
    """The statement to sign. Raises NotAcknowledged before the s 13(1)(a) step is recorded."""
    acknowledged = workflow.steps_done(ctx, case.id).get("acknowledge")
    if acknowledged is None:
        raise NotAcknowledged()
    fields = casefiles.read_fields(ctx, case.id, case_key)
    parts = commitment_parts(fields, case_attachments.read_attachments(ctx, case.id, case_key))
    channel = channels.find_channel(ctx, case.channel_name)
    regime = channel.regime if channel else "nz"
    signing_key, _ = consent.answer_key(ctx, case.id)
    # Only a key whose tag verifies is named. Cases made before the discloser's key was recorded
    # have none; their files verify as before.
    vouched = {"discloser_signing_key": signing_key.hex()} if signing_key else {}
    return {
        **vouched,
        "format": FORMAT,
        "case_ref": case.ref,
        "channel": case.channel_name,
        "received_day": case.received_day,
        "acknowledged_day": acknowledged,
        "law": REGIME_ACTS.get(regime, regime),
        "commitment": crypto.commit(crypto.commitment_salt(case_key), parts).hex(),
        "commitment_scheme": (
            "BLAKE2b-256, key = salt, person = ack-commitment, message = lp("
            + COMMITMENT_FORMAT
            + ", category, summary, details, disclosed_elsewhere, "
            "then name, type, size, SHA-256 of each file)"
        ),
    }


def proof(ctx: Context, case: CaseRecord, case_key: bytes) -> Proof:
    """The signed file, the salt and the opening template for this case. Raises NotAcknowledged."""
    signed = crypto.sign_acknowledgement(ctx.settings.signing_seed, statement(ctx, case, case_key))
    opening = opening_template(
        casefiles.read_fields(ctx, case.id, case_key),
        case_attachments.read_attachments(ctx, case.id, case_key),
    )
    return Proof(
        signed, crypto.commitment_salt(case_key).hex(), f"acknowledgement-{case.ref}.json", opening
    )


WORDS_PLACEHOLDERS = {
    "summary": "YOUR TITLE, EXACTLY AS SENT",
    "details": "WHAT HAPPENED, EXACTLY AS SENT",
}


def opening_template(fields: dict[str, str], attachments: list[casefiles.Attachment]) -> str:
    """The opening document `portal verify-ack --opening` reads, as JSON text: the stored codes of
    the kind of wrongdoing and of "raised elsewhere", and each file's name, type, size and SHA-256,
    with placeholders where the discloser's own words go (they add those only if they choose to show
    them)."""
    document = {
        name: WORDS_PLACEHOLDERS.get(name, fields.get(name, "")) for name in COMMITTED_FIELDS
    }
    document["files"] = [
        {"name": a.name, "type": a.content_type, "size": a.size, "sha256": a.sha256}
        for a in attachments
    ]
    return json.dumps(document, indent=2, ensure_ascii=False)


def public_key(ctx: Context) -> str:
    """The installation's public signing key, hex (what `portal signing-key` prints and /signing-key
    shows)."""
    return crypto.signing_public_key(ctx.settings.signing_seed).hex()


def check_opening(statement_: dict[str, str], salt_hex: str, parts: list[str]) -> bool:
    """Whether the given disclosure parts and salt open the statement's commitment (for a
    verifier)."""
    try:
        salt = bytes.fromhex(salt_hex)
        return len(salt) == 32 and crypto.commit(salt, parts).hex() == statement_.get("commitment")
    except ValueError:
        return False


class BadOpening(ValueError):
    """An opening document that cannot be read; the message says what is wrong with it."""


def opening_parts(document: object, base: Path) -> list[str]:
    """The commitment's parts from an opening document, as a verifier writes it
    (docs/proof-of-disclosure.md): a JSON object with the four text fields as strings and `files`, a
    list of objects each with `name` and `type` and either `path` (a copy of the file, relative to
    `base`: size and SHA-256 computed from it) or `size` (bytes) and `sha256` (hex). Raises
    BadOpening."""
    if not isinstance(document, dict):
        raise BadOpening("the opening must be a JSON object")
    fields = {}
    for name in COMMITTED_FIELDS:
        if not isinstance(document.get(name), str):
            raise BadOpening(f'"{name}" must be given, as text')
        fields[name] = document[name]
    files = document.get("files", [])
    if not isinstance(files, list):
        raise BadOpening('"files" must be a list')
    attachments = []
    for number, entry in enumerate(files, 1):
        if not isinstance(entry, dict) or not all(
            isinstance(entry.get(k), str) for k in ("name", "type")
        ):
            raise BadOpening(f'file {number} needs "name" and "type", as text')
        if isinstance(entry.get("path"), str):
            size, digest = _size_and_digest(base / entry["path"], number)
        elif isinstance(entry.get("size"), int) and isinstance(entry.get("sha256"), str):
            size, digest = entry["size"], entry["sha256"].strip().lower()
        else:
            raise BadOpening(f'file {number} needs "path", or "size" and "sha256"')
        attachments.append(casefiles.Attachment("", entry["name"], entry["type"], size, digest))
    return commitment_parts(fields, attachments)


def _size_and_digest(path: Path, number: int) -> tuple[int, str]:
    if not path.is_file():  # a folder, or a device or pipe that would never end
        raise BadOpening(f"file {number} cannot be read: {path} is not a regular file")
    digest, size = hashlib.sha256(), 0
    try:
        with path.open("rb") as f:
            while chunk := f.read(1 << 20):
                digest.update(chunk)
                size += len(chunk)
    except OSError as exc:
        raise BadOpening(f"file {number} cannot be read: {exc.strerror}") from None
    return size, digest.hexdigest()

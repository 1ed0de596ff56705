"""Proof of disclosure: the signed acknowledgement a discloser downloads once their disclosure has been
acknowledged (s 13(1)(a) of the Protected Disclosures (Protection of Whistleblowers) Act 2022).

The statement says which case, which channel, the day it was received and the day it was acknowledged,
and carries a salted commitment to the disclosure as received (crypto.commit). It holds nothing that
identifies the discloser: no receipt, no contact details, no key. The salt is derived from the case key
(crypto.commitment_salt), so only the case's readers and the discloser can recompute it; the discloser is
shown it on the status page and decides whom to give it to. Format: SECURITY.md, "Signed acknowledgement".
"""
from __future__ import annotations

from dataclasses import dataclass

import crypto
from portal import accounts, casefiles, workflow
from portal.casefiles import CaseRecord
from portal.context import Context

FORMAT = "protected-disclosure-acknowledgement/1"
COMMITMENT_FORMAT = "protected-disclosure-text/1"
# The parts of the disclosure the commitment covers, in this order (contact details are left out: they
# identify the discloser, and proving the text must not need them).
COMMITTED_FIELDS = ("category", "summary", "details", "disclosed_elsewhere")
REGIME_ACTS = {
    "nz": "Protected Disclosures (Protection of Whistleblowers) Act 2022 (New Zealand)",
    "eu": "Directive (EU) 2019/1937 on the protection of persons who report breaches of Union law",
}


class NotAcknowledged(Exception):
    """The disclosure has not been acknowledged yet, so there is nothing to sign."""


@dataclass(frozen=True)
class Proof:
    file: bytes          # the signed acknowledgement, as downloaded
    salt_hex: str        # the commitment's salt, for the discloser alone
    filename: str


def commitment_parts(fields: dict[str, str], attachments: list[casefiles.Attachment]) -> list[str]:
    """What the commitment covers, as strings: the format name, the four text fields of the disclosure as
    sent, then each file sent with it as name, type, size in bytes and the SHA-256 of its contents (hex;
    empty for a file stored before digests were kept)."""
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
    parts = commitment_parts(fields, casefiles.read_attachments(ctx, case.id, case_key))
    channel = accounts.find_channel(ctx, case.channel_name)
    regime = channel.regime if channel else "nz"
    return {
        "format": FORMAT,
        "case_ref": case.ref,
        "channel": case.channel_name,
        "received_day": case.received_day,
        "acknowledged_day": acknowledged,
        "law": REGIME_ACTS.get(regime, regime),
        "commitment": crypto.commit(crypto.commitment_salt(case_key), parts).hex(),
        "commitment_scheme": "BLAKE2b-256, key = salt, person = ack-commitment, message = lp(" +
                             COMMITMENT_FORMAT + ", category, summary, details, disclosed_elsewhere, "
                             "then name, type, size, SHA-256 of each file)",
    }


def proof(ctx: Context, case: CaseRecord, case_key: bytes) -> Proof:
    """The signed file and the salt for this case. Raises NotAcknowledged."""
    signed = crypto.sign_acknowledgement(ctx.settings.signing_seed, statement(ctx, case, case_key))
    return Proof(signed, crypto.commitment_salt(case_key).hex(), f"acknowledgement-{case.ref}.json")


def public_key(ctx: Context) -> str:
    """The installation's public signing key, hex (what `portal signing-key` prints and /signing-key shows)."""
    return crypto.signing_public_key(ctx.settings.signing_seed).hex()


def check_opening(statement_: dict[str, str], salt_hex: str, parts: list[str]) -> bool:
    """Whether the given disclosure parts and salt open the statement's commitment (for a verifier)."""
    try:
        salt = bytes.fromhex(salt_hex)
        return len(salt) == 32 and crypto.commit(salt, parts).hex() == statement_.get("commitment")
    except ValueError:
        return False

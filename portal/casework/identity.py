"""The discloser's identity sealed apart (s 17 of the Protected Disclosures (Protection of
Whistleblowers) Act 2022).

The discloser's contact details are sealed apart from the rest of the case: encrypted under a random
per-case **identity key**, sealed (kind 0x02) to each officer who reads the case and never part of
the case key's fields, so that whatever leaves the portal (an export for a referral or an
investigator) leaves them out unless a release was recorded first
(portal.casework.identity_releases).
"""

from __future__ import annotations

import crypto
from portal.core.context import Context
from portal.records import casefiles

CONTACT = "contact"
IDENTIFYING = "identifying"
# The fields sealed apart: the contact details, and anything else the discloser marks as identifying
# them.
IDENTITY_FIELDS = (CONTACT, IDENTIFYING)


def store_identity(
    ctx: Context, case_id: str, readers: list, values: dict[str, str | None]
) -> bytes:
    """Seal a new identity key to each reader (objects with `id` and `public_key`) and store the
    IDENTITY_FIELDS of `values` under it (a missing one as empty); in the caller's transaction.
    Returns the identity key (for the channel's recovery copy)."""
    identity_key = crypto.new_case_key()
    store_sealed_identity(
        ctx,
        case_id,
        {reader.id: crypto.seal_to(reader.public_key, identity_key) for reader in readers},
        {
            name: crypto.encrypt_field(
                identity_key, case_id, f"identity:{name}", (values.get(name) or "").encode()
            )
            for name in IDENTITY_FIELDS
        },
    )
    return identity_key


def store_sealed_identity(
    ctx: Context, case_id: str, sealed_keys: dict[int, bytes], cts: dict[str, bytes]
) -> None:
    """The identity key as sealed to each reader (account id -> sealed secret) and the
    IDENTITY_FIELDS' ciphertexts (field "identity:NAME"), made here or in the discloser's browser
    (portal.intake.sealed); in the caller's transaction."""
    for account_id, sealed in sealed_keys.items():
        ctx.db.execute(
            "INSERT INTO identity_keys (case_id, account_id, sealed_key) VALUES (?, ?, ?)",
            [case_id, account_id, sealed],
        )
    for name in IDENTITY_FIELDS:
        ctx.db.execute(
            "INSERT INTO identity_fields (case_id, name, value_ct) VALUES (?, ?, ?)",
            [case_id, name, cts[name]],
        )


def read_identity(
    ctx: Context, case_id: str, account_id: int, private_key: bytes, fields: dict[str, str]
) -> dict[str, str] | None:
    """The fields that identify the discloser, for this reader: from the identity fields, or (a case
    made before they were sealed apart) the contact from the case's own fields. None when they are
    sealed apart and this officer holds no identity key (an officer granted the case later, until a
    reader shares it).
    """
    rows = ctx.db.execute(
        "SELECT name, value_ct FROM identity_fields WHERE case_id = ?", [case_id]
    ).fetchall()
    if not rows:
        return {CONTACT: fields.get(CONTACT, ""), IDENTIFYING: ""}
    sealed = ctx.db.execute(
        "SELECT sealed_key FROM identity_keys WHERE case_id = ? AND account_id = ?",
        [case_id, account_id],
    ).fetchone()
    if sealed is None:
        return None
    identity_key = crypto.open_sealed(private_key, sealed[0])
    found = {name: "" for name in IDENTITY_FIELDS}
    for name, ct in rows:
        text = casefiles.open_text(identity_key, case_id, f"identity:{name}", ct)
        found[name] = casefiles.UNOPENED_FIELD if text is None else text
    return found

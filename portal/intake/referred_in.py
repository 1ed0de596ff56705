"""A case referred here by another member organisation of the service (ss 16, 25; issue 29;
docs/organisations.md, "Referral between member organisations"): the receiving side.

The referring officer's session sealed it (portal.casework.member_referrals.Package): this
database is given ciphertext and sealed keys only, stored as a new case of the channel, once the
keys are seen to go exactly to the readers this channel's own signed roster verifies now. The
case has no discloser here: its discloser holds no receipt of this organisation and follows the
referral at the one they disclosed to, which tells them where it went. Its `receipt_lookup` is
random and its `discloser_public_key` one whose private half was never kept, so no receipt opens
it and nothing is sealed to anyone but its readers.
"""

from __future__ import annotations

import secrets

import crypto
from portal.casework import identity, workflow
from portal.casework.member_referrals import Package
from portal.core.context import Context
from portal.core.words import N_
from portal.intake import cases
from portal.keys import channels, recovery
from portal.records import audit, case_history


def is_referred_in(ctx: Context, case_id: str) -> bool:
    """Whether the case was referred here by another member (store): it has no discloser here."""
    row = ctx.db.execute("SELECT receipt_lookup FROM cases WHERE id = ?", [case_id]).fetchone()
    return row is not None and row[0].startswith(cases.NO_RECEIPT)


class ReadersChanged(Exception):
    """The package's keys do not go exactly to the channel's verified readers (its roster changed
    since they were read): nothing is stored; the referring officer tries again."""


def verified_readers(ctx: Context, channel_name: str) -> tuple[channels.Channel, list]:
    """The channel and its readers whose keys its signed roster admits (the readers a referred
    case is sealed to). cases.NoReceiver or cases.NoVerifiedReader otherwise."""
    channel = channels.find_channel(ctx, channel_name)
    if channel is None:
        raise cases.NoReceiver(N_("There is no such channel."))
    return channel, cases.verified_readers(ctx, channel, set())


def store(ctx: Context, channel_name: str, package: Package, from_organisation: str) -> str:
    """In the caller's transaction: the referred case, with its first status record, its keys as
    sealed to each verified reader (and the channel's recovery key), its fields and identity
    fields, and its deadlines; audited (`case_referred_in`, the referring organisation's service
    id). Returns its new reference. Raises ReadersChanged, cases.NoReceiver,
    cases.NoVerifiedReader (nothing stored)."""
    channel, readers = verified_readers(ctx, channel_name)
    expected = {reader.id for reader in readers}
    keys = (package.case_keys, package.internal_keys, package.identity_keys)
    if any(set(sealed) != expected for sealed in keys):
        raise ReadersChanged()
    if (recovery.admitted_key(ctx, channel.id) is None) != (not package.recovery):
        raise ReadersChanged()
    _, never_kept = crypto.generate_keypair()  # its private half is dropped here
    ref = cases.insert_case_row(
        ctx, package.case_id, channel.id, package.day, cases.NO_RECEIPT + secrets.token_hex(32),
        never_kept, package.category,
    )
    case_history.insert_sealed_status(ctx, package.case_id, package.day, package.status)
    cases.insert_field_rows(ctx, package.case_id, package.fields)
    cases.insert_case_key_rows(
        ctx, package.case_id, {f"account:{a}": s for a, s in package.case_keys.items()}
    )
    for account_id, sealed in package.internal_keys.items():
        ctx.db.execute(
            "INSERT INTO internal_keys (case_id, account_id, sealed_key) VALUES (?, ?, ?)",
            [package.case_id, account_id, sealed],
        )
    identity.store_sealed_identity(
        ctx, package.case_id, package.identity_keys, package.identity_fields
    )
    if package.recovery:
        recovery.store_copies(ctx, package.case_id, package.recovery)
    workflow.refresh_due(ctx, package.case_id)
    audit.record(
        ctx, "case_referred_in", actor=None, case_ref=ref,
        detail={"from": from_organisation, "identity": package.with_identity},
    )
    return ref

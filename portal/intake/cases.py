"""Storing a disclosure as a case: its reference, encrypted fields and the keys sealed to each
reader and the discloser, all in one transaction; also an oral disclosure recorded by an officer."""

from __future__ import annotations

import secrets

import crypto
from portal.casework import consent, identity, oral, workflow
from portal.casework.categories import known_category
from portal.core.context import Context
from portal.core.words import N_
from portal.guard import flood, submissions, work_queues
from portal.intake import file_cleaning, receipts
from portal.intake.receiving import Intake, begin_disclosure
from portal.keys import accounts, channels, conflicts, recovery, roster
from portal.records import case_attachments, case_history, casefiles, internal_keys
from portal.records.casefiles import Attachment
from portal.store import transaction

REF_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # no I, L, O, U: easy to read out on the phone
# The one example of a case reference every page and message gives (the `example_ref` global).
EXAMPLE_REF = "PD-7K3M9Q2X"


def _new_ref(ctx: Context) -> str:
    """A random case reference for officers; unrelated to the receipt, and never derived from it."""
    while True:
        ref = "PD-" + "".join(secrets.choice(REF_ALPHABET) for _ in range(8))
        if not ctx.db.execute("SELECT 1 FROM cases WHERE ref = ?", [ref]).fetchone():
            return ref


def _insert_case(
    ctx: Context,
    intake: Intake,
    channel_id: int,
    lookup_id: str,
    discloser_public_key: bytes,
    category: str | None,
) -> str:
    ref = insert_case_row(
        ctx, intake.case_id, channel_id, intake.day, lookup_id, discloser_public_key, category
    )
    case_history.insert_status(
        ctx,
        intake.case_id,
        intake.case_key,
        status="received",
        day=intake.day,
        account_id=None,
        event=None,
    )
    return ref


def insert_case_row(
    ctx: Context,
    case_id: str,
    channel_id: int,
    day: str,
    stored_lookup: str,
    discloser_public_key: bytes,
    category: str | None,
    sealed_by: str = "server",
) -> str:
    """The case's row, with a new reference (returned). `stored_lookup`: the receipt's lookup id
    (sealed by the server) or its hash (crypto.lookup_hash, sealed in the browser); `sealed_by`:
    'server' or 'browser' (migration 36). In the caller's transaction."""
    ref = _new_ref(ctx)
    ctx.db.execute(
        "INSERT INTO cases (id, ref, channel_id, status, received_day, receipt_lookup,"
        " discloser_public_key, category, activity_day, sealed_by) VALUES (?, ?, ?, 'received',"
        " ?, ?, ?, ?, ?, ?)",
        [
            case_id,
            ref,
            channel_id,
            day,
            stored_lookup,
            discloser_public_key,
            known_category(category),
            day,
            sealed_by,
        ],
    )
    return ref


def _insert_fields(ctx: Context, intake: Intake, values: dict[str, str | None]) -> None:
    # Contact details are sealed apart, under the identity key (portal.casework.identity, s 17).
    # A field left out of the request is an empty one.
    insert_field_rows(
        ctx,
        intake.case_id,
        {
            name: crypto.encrypt_field(
                intake.case_key, intake.case_id, name, (values.get(name) or "").encode()
            )
            for name in casefiles.CASE_FIELDS
            if name not in identity.IDENTITY_FIELDS
        },
    )


def insert_field_rows(ctx: Context, case_id: str, cts: dict[str, bytes]) -> None:
    """The case's field ciphertexts (name -> ciphertext under the case key), made here or in the
    discloser's browser (portal.intake.sealed); in the caller's transaction."""
    for name, ct in cts.items():
        ctx.db.execute(
            "INSERT INTO case_fields (case_id, name, value_ct) VALUES (?, ?, ?)",
            [case_id, name, ct],
        )


def _insert_case_keys(
    ctx: Context, intake: Intake, readers: list[accounts.Account], discloser_public_key: bytes
) -> None:
    sealed = {
        f"account:{officer.id}": crypto.seal_to(officer.public_key, intake.case_key)
        for officer in readers
    }
    sealed["discloser"] = crypto.seal_to(discloser_public_key, intake.case_key)
    insert_case_key_rows(ctx, intake.case_id, sealed)


def insert_case_key_rows(ctx: Context, case_id: str, sealed: dict[str, bytes]) -> None:
    """The case key as sealed to each recipient ('account:N' or 'discloser' -> sealed secret),
    sealed here or in the discloser's browser; in the caller's transaction."""
    for recipient, sealed_key in sealed.items():
        account_id = int(recipient.split(":", 1)[1]) if recipient.startswith("account:") else None
        ctx.db.execute(
            "INSERT INTO case_keys (case_id, recipient, account_id, sealed_key) VALUES (?, ?,"
            " ?, ?)",
            [case_id, recipient, account_id, sealed_key],
        )


class NoReceiver(ValueError):
    """The chosen channel does not exist or has no integrity officer to receive disclosures."""


class NoVerifiedReader(Exception):
    """The channel has officers, but its signed roster admits none of their keys: a case nobody
    may read is never stored (portal.keys.roster). The officers are warned in the console."""


def verified_readers(
    ctx: Context, channel: channels.Channel, excluded_ids: set[int]
) -> list[accounts.Account]:
    """The channel's readers, less the excluded, whose keys its signed roster admits: those a new
    case's key is sealed to. Raises NoReceiver, NoVerifiedReader or conflicts.ExcludedEveryone."""
    readers = conflicts.readers_without(ctx, channel, excluded_ids)
    if not readers:
        raise NoReceiver(N_("This channel has no integrity officer to receive disclosures."))
    admitted = roster.seal_readers(ctx, channel.id, readers)
    if not admitted:
        raise NoVerifiedReader()
    return admitted


def complete_disclosure(
    ctx: Context,
    intake: Intake,
    values: dict[str, str | None],
    submission_token: str | None = None,
    excluded: list[int] | tuple = (),
    oral_by: int | None = None,
    paid: str | None = None,
) -> str:
    """Store the case whole (or not at all) and return its receipt code, which is never stored.

    `values["channel"]` is a channel's name (the one identifier forms and the CLI use). `excluded`:
    ids of officers the discloser does not want to see it (conflicts of interest); they get no key.
    Raises NoReceiver, NoVerifiedReader, conflicts.ExcludedEveryone (nothing stored), or
    submissions.AlreadySubmitted
    when `submission_token` was used before (nothing is stored then, and no receipt exists to show:
    the first answer was the only one). `oral_by`: the officer recording an oral disclosure
    (portal.casework.oral). `paid`: what the discloser paid with (portal.guard.flood.pay: "proof",
    "ticket", "lane"), counted against the day's budget on new cases in the case's transaction
    (flood.case_stored); None for a disclosure that paid nothing (an oral one, the demo's).
    """
    channel = channels.find_channel(ctx, values.get("channel") or "")
    excluded_ids = set(excluded)
    if channel is None:
        raise NoReceiver(N_("This channel has no integrity officer to receive disclosures."))
    verified_readers(ctx, channel, excluded_ids)
    if submissions.was_claimed(ctx.db, submission_token):  # spare the key derivation on a resend
        raise submissions.AlreadySubmitted()
    receipt = crypto.new_receipt()
    # The discloser has already sent everything: wait longer for a key-derivation slot than a status
    # check.
    discloser = receipts.derive_receipt(
        ctx, receipt, wait=3 * ctx.settings.kdf_wait_seconds, kind=work_queues.SEALING
    )
    # Before anything is kept, and charged to the budget as kept (issue 26).
    file_cleaning.clean_received(intake, bool(values.get("strip_metadata")))
    intake.spend_upload_budget(sum(len(v.encode()) for v in values.values() if isinstance(v, str)))
    attachments = intake.commit_files()
    with transaction(ctx.db):
        submissions.claim(ctx.db, submission_token, intake.day)
        if paid is not None:  # with the case or not at all (issue 22 review)
            flood.case_stored(ctx, paid)
        # Chosen again under the write lock: a membership removed while the receipt's key was
        # derived (seconds, or longer waiting for a slot) must not receive the case.
        readers = verified_readers(ctx, channel, excluded_ids)
        store_case(
            ctx,
            intake,
            channel.id,
            readers,
            values,
            discloser.lookup_id,
            discloser.public_key,
            excluded_ids,
            attachments,
            oral_by,
            discloser.signing_public_key,
        )
        file_cleaning.store_originals(intake, discloser.public_key)
    intake.completed = True
    return receipt


class NotYourChannel(ValueError):
    """An officer may record an oral disclosure only for a channel they are an officer of."""


def record_oral(
    ctx: Context,
    account_id: int,
    values: dict[str, str | None],
    submission_token: str | None = None,
) -> str:
    """An officer records a disclosure made in person or by phone: stored like a web disclosure
    (same encryption, every officer of the channel a reader) and marked oral. Returns the receipt to
    hand over, which the discloser's first visit replaces (open_status). Raises NotYourChannel,
    NoReceiver or submissions.AlreadySubmitted."""
    channel = channels.find_channel(ctx, values.get("channel") or "")
    if channel is None or account_id not in {
        o.id for o in channels.channel_officers(ctx, channel.id)
    }:
        raise NotYourChannel(
            N_("You can record a disclosure only for a channel you are an officer of.")
        )
    with begin_disclosure(ctx) as intake:
        return complete_disclosure(ctx, intake, values, submission_token, oral_by=account_id)


def store_case(
    ctx: Context,
    intake: Intake,
    channel_id: int,
    readers: list[accounts.Account],
    values: dict[str, str | None],
    lookup_id: str,
    discloser_public_key: bytes,
    excluded_ids: set[int] = frozenset(),
    attachments: list[tuple[Attachment, str]] = (),
    oral_by: int | None = None,
    discloser_signing_key: bytes | None = None,
) -> str:
    """Inside the caller's transaction: the case row, its encrypted fields, its key sealed to each
    reader and the discloser, the officers-only key, the copies for the channel's recovery key, the
    exclusions, attachments, the oral record (`oral_by`: the officer who recorded it) and first
    deadline. `discloser_signing_key`: the discloser's Ed25519 public key (32 bytes, from the
    receipt), stored with the case beside its keyed tag (consent.store_signing_key), which vouches
    for it when consent answers are checked; no audit entry (its place would date the disclosure).
    Returns the reference. (complete_disclosure; also the queue benchmark, which builds many cases
    in one transaction.)"""
    ref = _insert_case(
        ctx, intake, channel_id, lookup_id, discloser_public_key, values.get("category")
    )
    if discloser_signing_key is not None:
        consent.store_signing_key(ctx, intake.case_id, discloser_signing_key)
    _insert_fields(ctx, intake, values)
    _insert_case_keys(ctx, intake, readers, discloser_public_key)
    internal_key = crypto.new_case_key()
    internal_keys.insert_internal_keys(ctx, intake.case_id, internal_key, readers)
    identity_key = identity.store_identity(ctx, intake.case_id, readers, values)
    recovery.seal_case(
        ctx,
        channel_id,
        intake.case_id,
        {
            "case_keys": intake.case_key,
            "internal_keys": internal_key,
            "identity_keys": identity_key,
        },
    )
    conflicts.store_exclusions(ctx, intake.case_id, ref, internal_key, excluded_ids)
    case_attachments.insert_attachments(
        ctx, intake.case_id, intake.case_key, None, list(attachments)
    )
    if oral_by is not None:
        oral.mark_recorded(ctx, intake.case_id, ref, oral_by, intake.day)
    workflow.refresh_due(ctx, intake.case_id)
    return ref

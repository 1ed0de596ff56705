"""A disclosure, a status check and a reply sealed in the discloser's browser (issue 27,
docs/sealed-submission.md): the server checks what arrives (portal.intake.sealed_wire), applies the
plaintext form's budgets, proofs and one-time tokens, and stores the ciphertexts as they came, in
the tables and formats of a case it sealed itself, so officers read both alike. It never holds the
case key, the identity key, the receipt or the discloser's private key; it makes the officers-only
key itself (the discloser must never hold it)."""

from __future__ import annotations

import crypto
from portal.casework import consent, identity, oral, workflow
from portal.core.clock import today
from portal.core.context import Context
from portal.guard import flood, submissions
from portal.intake import cases, receipts, receiving, replies, reply_tokens, sealed_uploads
from portal.intake.sealed_wire import Malformed, SealedDisclosure, SealedReply
from portal.keys import channels, conflicts, recovery, roster, sessions
from portal.records import case_attachments, case_history, casefiles, internal_keys, original_files
from portal.store import transaction

BROWSER, SERVER = "browser", "server"  # cases.sealed_by (migration 36)


class RosterChanged(Exception):
    """The envelopes do not go exactly to the channel's verified readers and recovery key (or name
    another key for one of them): nothing stored; the page fetches the setup and seals again."""


class DayChanged(Exception):
    """The record was sealed for another day than the portal's today (`day`)."""

    def __init__(self, day: str) -> None:
        super().__init__(f"today is {day}")
        self.day = day


class NeedsNewReceipt(Exception):
    """An oral disclosure's printed receipt, at its first visit: the officer saw it, so it is
    replaced, which the status form without script does (receipts.open_status)."""


class CaseIdTaken(Exception):
    """The browser's random case id (or its lookup) is already a case's: seal again."""


def portal_day(ctx: Context) -> str:
    """The portal's today (YYYY-MM-DD, its time zone): the day a browser seals its records for."""
    return today(ctx.settings.timezone)


def sealing_setup(ctx: Context) -> dict:
    """What the sealing page needs besides its tokens (docs/sealed-submission.md, section 1): the
    day, the receipt's derivation parameters, and each channel's officers with the keys the
    database holds, its recovery key and its signed roster, which the page verifies itself."""
    settings = ctx.settings
    sealed_uploads.purge_expired(ctx)  # every sealing page asks for this first: uploads expire
    found = []
    for channel in channels.list_channels(ctx, with_officers_only=True):
        recovery_key = recovery.channel_key(ctx, channel.id)
        found.append(
            {
                "name": channel.name,
                "id": channel.id,
                "readers": [
                    {
                        "recipient": f"account:{officer.id}",
                        "officer": officer.id,
                        "name": officer.name,
                        "public_key": officer.public_key,
                        "key_id": crypto.key_fingerprint(officer.public_key),
                    }
                    for officer in channels.channel_officers(ctx, channel.id)
                ],
                "recovery": recovery_key
                and {"public_key": recovery_key, "key_id": crypto.key_fingerprint(recovery_key)},
                "roster": [
                    {"body": body, "signatures": [list(pair) for pair in signatures]}
                    for body, signatures in roster.statements(ctx, channel.id)
                ],
            }
        )
    return {
        "day": portal_day(ctx),
        "receipt": {
            "version": settings.receipt_version,  # new receipts are made at the current version
            "salt": settings.install_salt,
            "params": _kdf_json(settings.receipt_params),
        },
        "channels": found,
        "excludable": [
            {"officer": officer.id, "name": officer.name}
            for officer in conflicts.excludable_officers(ctx)
        ],
    }


def _kdf_json(params: crypto.KdfParams) -> dict:
    return {"opslimit": params.opslimit, "memlimit": params.memlimit}  # memlimit in bytes


def status_receipt_setup(ctx: Context) -> dict:
    """A status check with script's salts and versions (docs/sealed-submission.md, section 3):
    this installation's salt, then those of cases moved here (receipts.salts_for_the_browser),
    and each version opened with its Argon2id cost, current first; tried in this order."""
    return {
        "salt": ctx.settings.install_salt,
        "moved_salts": receipts.salts_for_the_browser(ctx),
        "versions": [
            {"version": version, "params": _kdf_json(params)}
            for version, params in receipts.receipt_versions(ctx.settings)
        ],
    }


def check_sealed_disclosure(ctx: Context, wire: SealedDisclosure, bound: str) -> None:
    """The cheap checks, before the sender pays for the disclosure with its proof of work: the same
    refusals as complete_sealed_disclosure for a channel, day, exclusions or envelopes that are
    wrong now, a token already used, or an upload not finished by this session (`bound`: its
    form token)."""
    channel = channels.find_channel(ctx, wire.channel)
    if channel is None:
        raise cases.NoReceiver("This channel has no integrity officer to receive disclosures.")
    if wire.day != today(ctx.settings.timezone):
        raise DayChanged(today(ctx.settings.timezone))
    officers = {officer.id for officer in conflicts.excludable_officers(ctx)}
    if not wire.excluded <= officers:
        raise Malformed("excluded_officers names someone who is not an officer.")
    readers = cases.verified_readers(ctx, channel, wire.excluded)
    _check_envelopes(wire, readers, recovery.admitted_key(ctx, channel.id))
    if submissions.was_claimed(ctx.db, wire.submission_token):
        raise submissions.AlreadySubmitted()
    try:
        sealed_uploads.finished(ctx, wire.uploads, bound)
    except sealed_uploads.UploadNotFound:
        raise Malformed("attachments: an upload is not finished, or not this page's.") from None


def complete_sealed_disclosure(
    ctx: Context, wire: SealedDisclosure, bound: str, paid: str | None = None
) -> str:
    """Store a disclosure sealed in the browser whole, or nothing; returns its channel's name.
    `paid` (what portal.guard.flood.pay gave) is counted against the day's budget on new cases in
    the case's transaction (flood.case_stored), as for a case the server seals.

    Raises what check_sealed_disclosure raises (cases.NoReceiver, cases.NoVerifiedReader,
    conflicts.ExcludedEveryone, DayChanged, RosterChanged, submissions.AlreadySubmitted,
    Malformed), and receiving.RefusedForNow (the free-space floor), receiving.Throttled (the daily
    byte budget) or CaseIdTaken."""
    check_sealed_disclosure(ctx, wire, bound)
    channel = channels.find_channel(ctx, wire.channel)
    receiving.check_capacity(ctx)
    receiving.spend_bytes(ctx, receiving.text_charge(wire.text_bytes))  # files: at their upload
    uploads = wire.uploads
    blobs = _adopted(ctx, uploads, wire.day)
    try:
        _store_whole(ctx, wire, channel, blobs, paid)
    except BaseException:
        sealed_uploads.give_back(ctx, uploads, blobs)
        raise
    return channel.name


def _adopted(ctx: Context, uploads: list[str], day: str) -> list[str]:
    try:
        return sealed_uploads.adopt(ctx, uploads, day)
    except sealed_uploads.UploadNotFound:
        raise Malformed("attachments: an upload was taken by another request.") from None


def _store_whole(
    ctx: Context, wire: SealedDisclosure, channel, blobs: list[str], paid: str | None
) -> None:
    with transaction(ctx.db):
        submissions.claim(ctx.db, wire.submission_token, wire.day)
        if paid is not None:  # with the case or not at all (issue 22 review)
            flood.case_stored(ctx, paid)
        # Chosen again under the write lock, as for a case the server seals.
        readers = cases.verified_readers(ctx, channel, wire.excluded)
        recovery_key = recovery.admitted_key(ctx, channel.id)
        _check_envelopes(wire, readers, recovery_key)
        stored_lookup = crypto.lookup_hash(wire.lookup_id)
        if ctx.db.execute(
            "SELECT 1 FROM cases WHERE id = ? OR receipt_lookup IN (?, ?)",
            [wire.case_id, stored_lookup, wire.lookup_id],
        ).fetchone() or case_attachments.any_exists(ctx, [a.id for a in wire.attachments]):
            raise CaseIdTaken()
        _store(ctx, wire, channel.id, readers, recovery_key, stored_lookup)
        sealed_uploads.forget(ctx, wire.uploads)
        files = len(wire.attachments)
        case_attachments.insert_sealed_attachments(
            ctx,
            wire.case_id,
            None,
            [(a.id, blob, a.meta) for a, blob in zip(wire.attachments, blobs[:files])],
        )
        # The originals of files the browser cleaned: the discloser's alone, as for the form's.
        original_files.insert_sealed_originals(
            ctx,
            wire.case_id,
            [(o.id, blob, o.sealed_key, o.meta) for o, blob in zip(wire.originals, blobs[files:])],
        )


def _check_envelopes(wire: SealedDisclosure, readers, recovery_key: bytes | None) -> None:
    expected = {f"account:{r.id}": crypto.key_fingerprint(r.public_key) for r in readers}
    if recovery_key is not None:
        expected["recovery"] = crypto.key_fingerprint(recovery_key)
    sealed_to = {recipient: e.key_id for recipient, e in wire.case_keys.items()}
    identity_to = {recipient: e.key_id for recipient, e in wire.identity_keys.items()}
    discloser = {"discloser": crypto.key_fingerprint(wire.public_key)}
    if sealed_to != {**expected, **discloser} or identity_to != expected:
        raise RosterChanged()


def _store(ctx, wire: SealedDisclosure, channel_id: int, readers, recovery_key, stored_lookup):
    """In the caller's transaction: what store_case writes for a case the server seals, from the
    browser's ciphertexts."""
    case_id = wire.case_id
    ref = cases.insert_case_row(
        ctx, case_id, channel_id, wire.day, stored_lookup, wire.public_key, None, BROWSER
    )
    case_history.insert_sealed_status(ctx, case_id, wire.day, wire.status)
    consent.store_signing_key(ctx, case_id, wire.signing_key)
    cases.insert_field_rows(ctx, case_id, wire.fields)
    cases.insert_case_key_rows(
        ctx, case_id, {r: e.sealed for r, e in wire.case_keys.items() if r != "recovery"}
    )
    # The officers-only key is the server's to make: the discloser must never hold it.
    internal_key = crypto.new_case_key()
    internal_keys.insert_internal_keys(ctx, case_id, internal_key, readers)
    identity.store_sealed_identity(
        ctx,
        case_id,
        {r.id: wire.identity_keys[f"account:{r.id}"].sealed for r in readers},
        wire.identity_fields,
    )
    if recovery_key is not None:
        recovery.store_copies(
            ctx,
            case_id,
            {
                "case_keys": wire.case_keys["recovery"].sealed,
                "identity_keys": wire.identity_keys["recovery"].sealed,
            },
        )
        recovery.seal_case(ctx, channel_id, case_id, {"internal_keys": internal_key})
    conflicts.store_exclusions(ctx, case_id, ref, internal_key, wire.excluded)
    workflow.refresh_due(ctx, case_id)


def sealed_by(ctx: Context, case_id: str) -> str:
    """'browser' or 'server': which sealed the case (migration 36)."""
    row = ctx.db.execute("SELECT sealed_by FROM cases WHERE id = ?", [case_id]).fetchone()
    return row[0] if row else SERVER


def open_browser_status(ctx: Context, lookup_id: str, *, replacing: str | None = None) -> str:
    """A status check with script: the browser derived `lookup_id` from the typed receipt, so no
    key derivation is spent here. Returns the cookie of a status session that holds no key;
    receipts.StatusNotFound when the lookup opens nothing (never telling whether a case exists),
    NeedsNewReceipt for an oral disclosure's printed receipt at its first visit."""
    case_id = receipts.case_of_lookup(ctx, lookup_id)
    if case_id is None:
        raise receipts.StatusNotFound()
    if oral.needs_new_receipt(ctx, case_id):
        raise NeedsNewReceipt()
    settings = ctx.settings
    return sessions.start(
        ctx.db,
        receipts.DISCLOSER_SESSION,
        case_id,
        receipts.KEYLESS,  # no key: the session only names its case
        settings.discloser_idle_seconds,
        settings.discloser_session_seconds,
        replacing=replacing,
    )


def resume_browser_status(ctx: Context, cookie: str | None) -> sessions.OpenSession | None:
    return receipts.resume_keyless(ctx, cookie)


def browser_status(ctx: Context, session: sessions.OpenSession) -> dict:
    """The case as the browser opens it (docs/sealed-submission.md, section 3): the discloser's
    sealed case key and every status record and message as ciphertext, nothing decrypted here."""
    case_id = session.subject
    status, day, mode = ctx.db.execute(
        "SELECT status, received_day, sealed_by FROM cases WHERE id = ?", [case_id]
    ).fetchone()
    (sealed_key,) = ctx.db.execute(
        "SELECT sealed_key FROM case_keys WHERE case_id = ? AND recipient = 'discloser'",
        [case_id],
    ).fetchone()
    statuses = ctx.db.execute(
        "SELECT seq, status, day, account_id, reason_ct FROM status_events WHERE case_id = ?"
        " ORDER BY seq",
        [case_id],
    ).fetchall()
    messages = ctx.db.execute(
        "SELECT id, seq, author, account_id, day, body_ct FROM messages WHERE case_id = ?"
        " ORDER BY seq",
        [case_id],
    ).fetchall()
    files = ctx.db.execute(
        "SELECT id, message_id, seq, meta_ct FROM attachments WHERE case_id = ?"
        " ORDER BY message_id IS NOT NULL, message_id, seq",
        [case_id],
    ).fetchall()
    return {
        "case_id": case_id,
        "sealed_by": mode,
        "status": status,
        "day": day,
        "sealed_case_key": sealed_key,
        "statuses": [
            dict(zip(("seq", "status", "day", "account_id", "ct"), row)) for row in statuses
        ],
        "messages": [
            dict(zip(("id", "seq", "author", "account_id", "day", "ct"), row)) for row in messages
        ],
        "attachments": [dict(zip(("id", "message_id", "seq", "meta"), row)) for row in files],
    }


def sealed_blob(ctx: Context, session: sessions.OpenSession, attachment_id: str):
    """(size in bytes, an open file) of one of the case's attachments as stored: the secretstream
    blob, ciphertext, for the browser to open with the case key. casefiles.CaseNotFound for an
    attachment of another case or none; FileNotFoundError when its blob is missing."""
    row = ctx.db.execute(
        "SELECT blob FROM attachments WHERE case_id = ? AND id = ?",
        [session.subject, attachment_id],
    ).fetchone()
    if row is None:
        raise casefiles.CaseNotFound()
    return ctx.blobs.size(row[0]), ctx.blobs.open(row[0])


def complete_sealed_reply(
    ctx: Context, session: sessions.OpenSession, reply: SealedReply, bound: str
) -> None:
    """Store a reply sealed in the browser, and the files it names (uploads finished by the session
    whose form token is `bound`), within a reply's daily limits and the case's quota. Raises
    reply_tokens.AlreadyKept first when a reply with its client token was stored (a resend:
    nothing new is stored), else DayChanged, submissions.AlreadySubmitted, Malformed (an upload
    not finished), receiving.RefusedForNow, receiving.Throttled, replies.QuotaReached or
    CaseIdTaken (the message or an attachment id is taken)."""
    case_id = session.subject
    if reply_tokens.was_kept(ctx, case_id, reply.client_token):
        raise reply_tokens.AlreadyKept()
    if reply.day != today(ctx.settings.timezone):
        raise DayChanged(today(ctx.settings.timezone))
    if submissions.was_claimed(ctx.db, reply.submission_token):
        raise submissions.AlreadySubmitted()
    uploads = [a.upload for a in reply.attachments]
    try:
        finished = sealed_uploads.finished(ctx, uploads, bound)
    except sealed_uploads.UploadNotFound:
        raise Malformed("attachments: an upload is not finished, or not this page's.") from None
    receiving.check_capacity(ctx)
    text = crypto.field_shape(reply.body)  # as sealed (padded), like a server reply's
    size = text + sum(upload.padded for upload in finished)
    replies.check_reply_budgets(ctx, case_id, size, session.id)
    receiving.spend_bytes(ctx, receiving.text_charge(text))  # files: at their upload
    blobs = _adopted(ctx, uploads, reply.day)
    try:
        with transaction(ctx.db):
            reply_tokens.keep(ctx, case_id, reply.client_token, reply.day)
            submissions.claim(ctx.db, reply.submission_token, reply.day)
            if ctx.db.execute(
                "SELECT 1 FROM messages WHERE id = ?", [reply.message_id]
            ).fetchone() or case_attachments.any_exists(ctx, [a.id for a in reply.attachments]):
                raise CaseIdTaken()
            case_history.insert_sealed_message(
                ctx, case_id, reply.message_id, reply.day, reply.body
            )
            sealed_uploads.forget(ctx, uploads)
            case_attachments.insert_sealed_attachments(
                ctx,
                case_id,
                reply.message_id,
                [(a.id, blob, a.meta) for a, blob in zip(reply.attachments, blobs)],
            )
            replies.count_reply(ctx, case_id, size)
    except BaseException:
        sealed_uploads.give_back(ctx, uploads, blobs)
        raise
    replies.spend_reply_limits(ctx, case_id, session.id)


def trusted_roots(ctx: Context) -> dict[str, bytes]:
    """Channel id (as text) -> the 32-byte Ed25519 root its roster is verified from, for the
    sealing page to compare with the signed bundle manifest's (issue 27): the root pinned
    in the operator's roots file, else the one first seen. A channel with no roster is left out,
    so the page seals to nobody on it."""
    found = {}
    for channel in channels.list_channels(ctx, with_officers_only=True):
        root = roster.load(ctx, channel.id).root
        if root is not None:
            found[str(channel.id)] = root
    return found

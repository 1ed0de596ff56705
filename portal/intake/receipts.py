"""The discloser's receipt and the status session it opens: deriving the receipt's key, checking
what was typed, and replacing an oral disclosure's printed receipt at the first visit."""

from __future__ import annotations

import hmac
from dataclasses import dataclass

import crypto
from crypto.kdf import SALT_SIZE
from portal.casework import consent, oral
from portal.core.clock import today
from portal.core.context import Context
from portal.guard import work_queues
from portal.keys import sessions
from portal.records import casefiles
from portal.records.casefiles import CaseNotFound
from portal.store import put_off_briefly, transaction

DISCLOSER_SESSION = "discloser"
# The secret of a status session opened by a lookup from the discloser's browser
# (portal.intake.sealed): it holds no key, so the pages that decrypt never take it for theirs.
KEYLESS = b"keyless: sealed in the browser"


class StatusNotFound(Exception):
    """The receipt opened nothing. Deliberately silent on whether any case exists."""


ReceiptTypo = crypto.ReceiptTypo


def derive_receipt(
    ctx: Context,
    receipt: str,
    wait: float | None = None,
    kind: str = work_queues.RECEIPT,
    params: crypto.KdfParams | None = None,
    salt: bytes | None = None,
) -> crypto.ReceiptIdentity:
    """Argon2id in the queue of its `kind` (portal.guard.work_queues): a receipt check waits only
    behind other receipt checks, a new case's sealing behind other sealing (work_slots.Busy when its
    queue is full or no slot comes free in time). A receipt check's runs at the lowest CPU
    priority. `params`: a receipt version's cost (receipt_versions); by default the current
    version's, which every new receipt is made at. `salt`: the installation salt the case came
    with (receipt_salts); by default this installation's own."""
    settings = ctx.settings
    params = params or settings.receipt_params
    salt = salt or settings.install_salt
    return work_queues.run(
        settings,
        kind,
        lambda: crypto.derive_receipt_identity(receipt, salt, params),
        wait=wait,
    )


def receipt_versions(settings) -> tuple[tuple[int, crypto.KdfParams], ...]:
    """(version, Argon2id cost) of every receipt version the installation opens, the current one
    first, then the older ones it still has receipts of (SECURITY.md, "Argon2id parameters")."""
    return ((settings.receipt_version, settings.receipt_params), *settings.older_receipt_params)


def receipt_salts(ctx: Context) -> tuple[bytes, ...]:
    """This installation's own salt, then each other installation's salt that a case moved here
    came with (migration 44, in byte order): a receipt check derives once per salt and version."""
    rows = ctx.db.execute(
        "SELECT DISTINCT salt FROM case_receipt_salts ORDER BY salt"
    ).fetchall()
    own = ctx.settings.install_salt
    return (own, *[bytes(salt) for (salt,) in rows if bytes(salt) != own])


def salts_for_the_browser(ctx: Context) -> list[bytes]:
    """The salts of cases moved here (receipt_salts, this installation's own left out), padded
    with decoys to the next power of two and sorted in byte order, for a status check with script
    (docs/sealed-submission.md, section 3): 16 bytes each, none when no case moved here. Anyone
    can read them, so their number is shown only as 1, 2, 4, 8, ...; a decoy is an HMAC-SHA256 of
    the installation's secret key, so the list is the same at every request and a decoy cannot
    be told from a real salt by asking twice. A browser derives once per salt it tries."""
    moved = list(receipt_salts(ctx)[1:])
    padded = 1 << (len(moved) - 1).bit_length() if moved else 0
    key = ctx.settings.secret_key
    decoys = (
        hmac.new(key, b"decoy receipt salt %d" % n, "sha256").digest()[:SALT_SIZE]
        for n in range(padded)
    )
    for decoy in decoys:
        if len(moved) == padded:
            break
        if decoy not in moved:
            moved.append(decoy)
    return sorted(moved)


def salt_of_case(ctx: Context, case_id: str) -> bytes:
    """The installation salt the case's receipt was derived under (its sending installation's for
    a case moved here, else this installation's own)."""
    row = ctx.db.execute(
        "SELECT salt FROM case_receipt_salts WHERE case_id = ?", [case_id]
    ).fetchone()
    return bytes(row[0]) if row else ctx.settings.install_salt


def keep_salt_of_moved_case(ctx: Context, case_id: str, salt: bytes) -> None:
    """Inside the caller's transaction (the one that writes a case moved here): keep the
    installation salt its receipt was derived under, so the receipt opens it here. The salt is
    16 bytes (crypto.kdf.SALT_SIZE); this installation's own needs no row. ValueError otherwise."""
    if not isinstance(salt, bytes) or len(salt) != SALT_SIZE:
        raise ValueError("an installation salt is 16 bytes")
    if salt != ctx.settings.install_salt:
        ctx.db.execute(
            "INSERT INTO case_receipt_salts (case_id, salt) VALUES (?, ?)", [case_id, salt]
        )


def _find(ctx: Context, receipt: str, kind: str) -> tuple[str, crypto.ReceiptIdentity] | None:
    """(case id, identity) of the receipt, trying each salt and version (receipt_salts,
    receipt_versions); a lookup found under a salt other than its case's opens nothing."""
    for salt in receipt_salts(ctx):
        # A receipt code carries no version: the current one first, then each older one.
        for _version, params in receipt_versions(ctx.settings):
            identity = derive_receipt(ctx, receipt, kind=kind, params=params, salt=salt)
            case_id = case_of_lookup(ctx, identity.lookup_id)
            if case_id is not None and hmac.compare_digest(salt_of_case(ctx, case_id), salt):
                return case_id, identity
    return None


def check_receipt_typing(receipt_text: str) -> None:
    """Raise ReceiptTypo if the code fails its check character: cheap, before any key derivation."""
    crypto.normalise_receipt(receipt_text)


def receipt_matches(typed: str, expected: str) -> bool:
    """Whether the discloser typed back the receipt they were shown (compared in constant time)."""
    try:
        return hmac.compare_digest(
            crypto.normalise_receipt(typed), crypto.normalise_receipt(expected)
        )
    except ReceiptTypo:
        return False


@dataclass(frozen=True)
class OpenedStatus:
    cookie: str  # the status session's cookie value
    new_receipt: str | None = (
        None  # an oral disclosure's first visit: the receipt that replaces the printed one
    )


def open_status(
    ctx: Context, receipt_text: str, *, replacing: str | None = None, lane: bool = False
) -> OpenedStatus:
    """Check a receipt and open a status session. `replacing`: the browser's earlier status cookie,
    whose session ends; `lane`: the check paid the higher proof (work_queues.LANE). At the first
    visit to an oral disclosure, the receipt the officer saw is replaced by a new one (shown once,
    in `new_receipt`) and stops working.

    A receipt of an older version (receipt_versions) opens too, after one derivation per newer
    version; a replaced receipt is always of the current version.

    Raises crypto.ReceiptTypo (cheap, before any key derivation) or StatusNotFound.
    """
    receipt = crypto.normalise_receipt(receipt_text)
    kind = work_queues.LANE if lane else work_queues.RECEIPT
    found = _find(ctx, receipt, kind)
    if found is None:
        raise StatusNotFound()
    case_id, identity = found
    try:
        case_key = casefiles.open_case_key(ctx, case_id, "discloser", identity.private_key)
    except CaseNotFound as exc:
        raise StatusNotFound() from exc
    new_receipt = None
    if oral.needs_new_receipt(ctx, case_id):
        new_receipt, identity = _replace_receipt(ctx, case_id, identity, case_key)
    cookie = sessions.start(
        ctx.db,
        DISCLOSER_SESSION,
        case_id,
        identity.private_key + identity.signing_seed,
        ctx.settings.discloser_idle_seconds,
        ctx.settings.discloser_session_seconds,
        replacing=replacing,
    )
    return OpenedStatus(cookie, new_receipt)


def case_of_lookup(ctx: Context, lookup_id: str) -> str | None:
    """The case a receipt's lookup id opens, or None. A case the server sealed keeps the lookup id
    itself, one sealed in the browser only its hash (crypto.lookup_hash); found by the index,
    then compared in constant time."""
    hashed = crypto.lookup_hash(lookup_id)
    rows = ctx.db.execute(
        "SELECT id, receipt_lookup FROM cases WHERE receipt_lookup IN (?, ?)", [lookup_id, hashed]
    ).fetchall()
    for case_id, stored in rows:
        if hmac.compare_digest(str(stored), lookup_id) or hmac.compare_digest(str(stored), hashed):
            return case_id
    return None


def _replace_receipt(
    ctx: Context, case_id: str, old: crypto.ReceiptIdentity, case_key: bytes
) -> tuple[str, crypto.ReceiptIdentity]:
    """A new receipt for the case: the lookup id and discloser keys change, the case key is sealed
    to the new key alone, and the new signing key is stored with its own keyed tag
    (consent.store_signing_key; a case made before signing keys keeps none). Not audited: its time
    would date the discloser's first visit. Raises StatusNotFound if someone else replaced it
    meanwhile."""
    receipt = crypto.new_receipt()
    identity = derive_receipt(ctx, receipt)
    with transaction(ctx.db):
        changed = ctx.db.execute(
            "UPDATE cases SET receipt_lookup = ?, discloser_public_key = ?"
            " WHERE id = ? AND receipt_lookup = ?",
            [identity.lookup_id, identity.public_key, case_id, old.lookup_id],
        ).rowcount
        if changed != 1 or not oral.needs_new_receipt(ctx, case_id):
            raise StatusNotFound()
        had_key = ctx.db.execute(
            "SELECT discloser_signing_key IS NOT NULL FROM cases WHERE id = ?", [case_id]
        ).fetchone()[0]
        if had_key:
            consent.store_signing_key(ctx, case_id, identity.signing_public_key)
        ctx.db.execute(
            "UPDATE case_keys SET sealed_key = ? WHERE case_id = ? AND recipient = 'discloser'",
            [crypto.seal_to(identity.public_key, case_key), case_id],
        )
        oral.mark_receipt_replaced(ctx, case_id, today(ctx.settings.timezone))
    return receipt, identity


def discloser_keys(session: sessions.OpenSession) -> tuple[bytes, bytes | None]:
    """(X25519 private key, Ed25519 signing seed) from a status session's secret, which is
    private key || signing seed (32 + 32 bytes); the seed is None for a session opened before
    sessions carried it."""
    secret = session.secret
    return secret[:32], (secret[32:64] if len(secret) == 64 else None)


def resume_status(ctx: Context, cookie: str | None) -> sessions.OpenSession | None:
    """The status session holding the discloser's keys, or None (a keyless one included)."""
    session = sessions.resume(
        ctx.db, DISCLOSER_SESSION, cookie, ctx.settings.discloser_idle_seconds
    )
    return None if session is None or session.secret == KEYLESS else session


def resume_keyless(ctx: Context, cookie: str | None) -> sessions.OpenSession | None:
    """The keyless status session of a lookup from the discloser's browser, or None."""
    session = sessions.resume(
        ctx.db, DISCLOSER_SESSION, cookie, ctx.settings.discloser_idle_seconds
    )
    return session if session is not None and session.secret == KEYLESS else None


def close_status(ctx: Context, cookie: str | None) -> bool:
    """End a status session; False when a full disk or a held lock kept its server half (the caller
    still clears the cookie, which alone holds the session key, so the row opens nothing and ends at
    its idle limit: SECURITY.md, "Sessions")."""
    return put_off_briefly(ctx.db, sessions.end, ctx.db, cookie) is None

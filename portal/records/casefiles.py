"""A case's record: its statuses, the records people see (case, status update, message, attachment),
finding a case, opening its key and reading its encrypted fields. Shared by the discloser's status
page and the officers' console; messages and status records are in case_history.py, attachments in
case_attachments.py, the officers-only key in internal_keys.py."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field

import crypto
from portal.core.context import Context
from portal.core.words import N_
from portal.store import put_off_briefly, transaction

STATUSES: dict[str, str] = {
    "received": N_("Received: waiting for an integrity officer to acknowledge it"),
    "acknowledged": N_("Acknowledged: an integrity officer has your disclosure"),
    "assessing": N_("Being assessed: an officer is considering what to do"),
    "investigating": N_("Being investigated"),
    "addressed": N_("Addressed: action has been taken or recommended"),
    "referred": N_("Referred to another authority"),
    "no_further_action": N_("Closed: no further action will be taken"),
    "closed": N_("Closed: the matter has been dealt with"),
}

# Each status as officers name it, in a few words (the console's rows, panel and history); STATUSES
# above is what the discloser reads, which the case page shows beside it.
OFFICER_STATUSES: dict[str, str] = {
    "received": N_("New: to acknowledge"),
    "acknowledged": N_("Acknowledged"),
    "assessing": N_("Being assessed"),
    "investigating": N_("Being investigated"),
    "addressed": N_("Addressed"),
    "referred": N_("Referred"),
    "no_further_action": N_("No further action"),
    "closed": N_("Closed"),
}

# "language": the code of the language the discloser said they wrote in ("" when they did not
# say), sealed like the rest so that the server never learns it (issue 28).
CASE_FIELDS = ("category", "summary", "details", "disclosed_elsewhere", "contact", "language")
REASON_REQUIRED = ("referred", "no_further_action")


class ReasonRequired(ValueError):
    """A status that needs a reason (REASON_REQUIRED) was given none."""


class CaseNotFound(Exception):
    """No such case, or not one this reader may open: the two are never told apart."""


@dataclass
class Attachment:
    id: str
    name: str
    content_type: str
    size: int | None  # None: a file sealed in a browser that stated no whole number
    sha256: str = ""  # hex digest of the bytes as received ("" for files stored before it was kept)
    # Hidden details (portal.hidden_details): "removed", "none" (none found), "left" (as the
    # discloser chose), "unchecked" (could not be checked), "unknown" (a kind of file not checked),
    # "plain" (a kind not checked that is plain text, with no place for them),
    # "copy" (an officer's clean copy); "" for files stored before it was kept.
    hidden: str = ""
    hidden_kinds: tuple[str, ...] = ()  # the kinds removed, in plain words; never a value


@dataclass
class Message:
    id: str
    author: str  # 'discloser' or 'officer'
    author_name: str  # an officer's display name; empty for the discloser
    day: str
    body: str
    attachments: list[Attachment] = field(default_factory=list)
    verified: bool | None = (
        True  # True: bound and authentic; None: older, unverified; False: tampered
    )
    seq: int = 0  # its place in the case's thread (1, 2, ...)


class HasStatus:
    """Anything with a machine `status`, shown to people by its plain-language label."""

    status: str

    @property
    def status_label(self) -> str:
        return STATUSES.get(self.status, self.status)

    @property
    def officer_status(self) -> str:
        """The status as officers name it (OFFICER_STATUSES), e.g. "Being assessed"."""
        return OFFICER_STATUSES.get(self.status, self.status_label)


@dataclass
class StatusUpdate(HasStatus):
    status: str
    day: str
    reason: str
    expected_timeframe: str
    verified: bool | None = (
        True  # True: bound and authentic; None: older, unverified; False: tampered
    )
    # After an s 16 referral: {"authority": the name the discloser is given, "contact": how to reach
    # it} as given at the referral (None for other records, and for referrals made before it was
    # kept): sealed with the record, so a later change to the directory does not reach them.
    referred_to: dict | None = None


@dataclass
class CaseRecord(HasStatus):
    id: str
    ref: str
    channel_id: int
    channel_name: str
    status: str
    received_day: str
    sealed_by: str = "server"  # 'server' or 'browser': which sealed it (migration 36)


def new_id() -> str:
    return secrets.token_hex(16)


def get_case(ctx: Context, *, case_id: str | None = None, ref: str | None = None) -> CaseRecord:
    column, value = ("c.id", case_id) if case_id is not None else ("c.ref", ref)
    row = ctx.db.execute(
        "SELECT c.id, c.ref, c.channel_id, ch.name, c.status, c.received_day, c.sealed_by"
        " FROM cases c "
        f"JOIN channels ch ON ch.id = c.channel_id WHERE {column} = ?",
        [value],
    ).fetchone()
    if row is None:
        raise CaseNotFound()
    return CaseRecord(*row)


def open_case_key(ctx: Context, case_id: str, recipient: str, private_key: bytes) -> bytes:
    row = ctx.db.execute(
        "SELECT sealed_key FROM case_keys WHERE case_id = ? AND recipient = ?", [case_id, recipient]
    ).fetchone()
    if row is None:
        raise CaseNotFound()
    try:
        return crypto.open_sealed(private_key, row[0])
    except crypto.DecryptionError as exc:
        raise CaseNotFound() from exc


# What a reader is shown for a field whose ciphertext does not open, or opens to bytes that are not
# UTF-8 text: a browser seals fields the server never sees, so each is untrusted input (issue 27,
# the fresh review's H1). field_rules flags it; every page that shows the case still works.
UNOPENED_FIELD = "(This could not be opened: it was changed outside the portal or sealed wrongly.)"


def as_text(plain: bytes | None) -> str | None:
    """`plain` (a record's decrypted bytes) as UTF-8 text; None when it did not open (None) or is
    not UTF-8. The one place a case's sealed text is decoded."""
    try:
        return None if plain is None else plain.decode("utf-8")
    except UnicodeDecodeError:
        return None


def as_object(plain: bytes | None) -> dict | None:
    """`plain` as the JSON object the portal writes (a status record's note, a file's details);
    None when it did not open, or is not UTF-8 JSON text of an object."""
    try:
        value = json.loads(as_text(plain) or "")
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def as_str(value, otherwise: str = "") -> str:
    """A member of such an object that must be text: `otherwise` when it is not."""
    return value if isinstance(value, str) else otherwise


def open_text(key: bytes, case_id: str, name: str, ciphertext: bytes) -> str | None:
    """crypto.decrypt_field's plaintext as text (as_text); None when it does not open or decode."""
    try:
        return as_text(crypto.decrypt_field(key, case_id, name, ciphertext))
    except crypto.DecryptionError:
        return None


def _field_texts(key: bytes, case_id: str, stored: dict[str, bytes]) -> dict[str, str]:
    """Every field of `stored` (name -> ciphertext) opened as text, UNOPENED_FIELD for one that
    does not open or decode. The fields' subkey is worked out once unless one fails."""
    try:
        plains = crypto.decrypt_fields(key, case_id, stored)
        opened = {name: as_text(plain) for name, plain in plains.items()}
    except crypto.DecryptionError:
        opened = {name: open_text(key, case_id, name, ct) for name, ct in stored.items()}
    return {name: UNOPENED_FIELD if text is None else text for name, text in opened.items()}


def read_fields(
    ctx: Context, case_id: str, case_key: bytes, names: tuple[str, ...] | None = None
) -> dict[str, str]:
    """The case's fields decrypted (only `names`, when given): field name -> text, UNOPENED_FIELD
    for one that does not open or is not UTF-8."""
    only = f" AND name IN ({', '.join('?' for _ in names)})" if names is not None else ""
    rows = ctx.db.execute(
        "SELECT name, value_ct FROM case_fields WHERE case_id = ?" + only, [case_id, *(names or ())]
    ).fetchall()
    return _field_texts(case_key, case_id, dict(rows))


def read_fields_of_cases(
    ctx: Context,
    recipient: str,
    private_key: bytes,
    case_ids: list[str],
    names: tuple[str, ...],
    *,
    keep_copies: bool = False,
) -> dict[str, dict[str, str] | None]:
    """For a page of cases at once: each case's `names` fields, opened with this recipient's own
    copy of its key (case id -> fields; None for a case whose key or fields do not open). Two
    queries, and with `keep_copies` one write.

    A case key opens from the recipient's key copy (crypto.open_copy, kind 0x06) when the row has
    one, else from its sealed copy (crypto.open_sealed, one X25519). `keep_copies` (the officer's
    search, which opens every case they read) writes a key copy for each case opened from its
    sealed copy, so that their next session opens it without one; the write is put off, not
    waited for, when the database is busy (portal.store.put_off_briefly)."""
    if not case_ids:
        return {}
    marks = ", ".join("?" for _ in case_ids)
    keys = {
        case_id: (sealed, copy)
        for case_id, sealed, copy in ctx.db.execute(
            "SELECT case_id, sealed_key, key_copy FROM case_keys WHERE recipient = ? AND case_id"
            f" IN ({marks})",
            [recipient, *case_ids],
        ).fetchall()
    }
    stored: dict[str, dict[str, bytes]] = {}
    for case_id, name, ct in ctx.db.execute(
        f"SELECT case_id, name, value_ct FROM case_fields WHERE case_id IN ({marks}) "
        f"AND name IN ({', '.join('?' for _ in names)})",
        [*case_ids, *names],
    ).fetchall():
        stored.setdefault(case_id, {})[name] = ct
    rows = (
        (case_id, *keys.get(case_id, (None, None)), stored.get(case_id, {})) for case_id in case_ids
    )
    return _open_rows(ctx, recipient, private_key, rows, keep_copies)


def read_fields_of_queue(
    ctx: Context, account_id: int, private_key: bytes, names: tuple[str, ...]
) -> dict[str, dict[str, str] | None]:
    """read_fields_of_cases(..., keep_copies=True) for every case in this officer's queue, in one
    query (the first search of a session opens them all)."""
    joins = "".join(
        f" LEFT JOIN case_fields f{i} ON f{i}.case_id = q.case_id AND f{i}.name = ?"
        for i in range(len(names))
    )
    recipient = f"account:{account_id}"
    fields = ", ".join(f"f{i}.value_ct" for i in range(len(names)))
    rows = (
        (case_id, sealed, copy, {n: ct for n, ct in zip(names, cts) if ct is not None})
        for case_id, sealed, copy, *cts in ctx.db.execute(
            f"SELECT q.case_id, k.sealed_key, k.key_copy, {fields} FROM case_queue q"
            " JOIN case_keys k ON k.case_id = q.case_id AND k.recipient = ?"
            # In case id order, the order of case_keys's and case_fields's keys: their lookups then
            # walk each index forwards (a third quicker at 10,000 cases than in the queue's order).
            f"{joins} WHERE q.account_id = ? ORDER BY q.case_id",
            [recipient, *names, account_id],
        ).fetchall()
    )
    return _open_rows(ctx, recipient, private_key, rows, keep_copies=True)


def _open_rows(ctx: Context, recipient: str, private_key: bytes, rows, keep_copies: bool):
    """rows: (case id, sealed key or None, key copy or None, {field name: ciphertext})."""
    rows = list(rows)
    keys = _CaseKeys(private_key, recipient).open_all(rows)
    found: dict[str, dict[str, str] | None] = {}
    for case_id, _, _, stored in rows:
        case_key = keys.opened.get(case_id)
        # None: no key of this recipient, or it does not open
        found[case_id] = None if case_key is None else _field_texts(case_key, case_id, stored)
    if keep_copies and keys.new_copies:
        put_off_briefly(ctx.db, _keep_copies, ctx, recipient, keys.new_copies)
    return found


@dataclass
class _Opened:
    opened: dict[str, bytes]  # case id -> case key, of the keys that opened
    new_copies: list[tuple[bytes, str, bytes]]  # (key copy, case id, sealed key) of those
    # opened from a sealed copy


class _CaseKeys:
    """Opens one recipient's case keys, their key copy first; makes a new copy of each key it
    opened from a sealed copy."""

    def __init__(self, private_key: bytes, recipient: str) -> None:
        self.private_key, self.recipient = private_key, recipient
        self.copy_key = crypto.copy_key_of(private_key)

    def open_all(self, rows) -> _Opened:
        """rows as _open_rows's."""
        opened: dict[str, bytes] = {}
        sealed_only: list[tuple[str, bytes]] = []
        for case_id, sealed, copy, _ in rows:
            if sealed is None:
                continue  # no key of this recipient
            if copy is not None:
                try:
                    opened[case_id] = crypto.open_copy(self.copy_key, copy, case_id, self.recipient)
                    continue
                except crypto.CryptoError:  # altered, or made under a key this reader no longer has
                    pass  # the sealed key decides
            sealed_only.append((case_id, sealed))
        from_sealed = self.open_sealed(sealed_only)
        opened.update(from_sealed.opened)
        return _Opened(opened, from_sealed.new_copies)

    def open_sealed(self, sealed_only: list[tuple[str, bytes]]) -> _Opened:
        """(case id, sealed key) pairs opened all at once (crypto.open_sealed_many: on two threads
        when there are many, an officer's first search or sign-in after many cases arrived), with a
        new key copy of each that opened."""
        if not sealed_only:
            return _Opened({}, [])
        public_key = crypto.public_key_of(self.private_key)  # once, not once a case
        case_keys = crypto.open_sealed_many(
            self.private_key, [sealed for _, sealed in sealed_only], public_key
        )
        opened, new_copies = {}, []
        for (case_id, sealed), case_key in zip(sealed_only, case_keys):
            if case_key is None or len(case_key) != crypto.SECRET_SIZE:
                continue  # does not open, or holds no case key (a row written behind the portal)
            opened[case_id] = case_key
            copy = crypto.copy_secret(self.copy_key, case_key, case_id, self.recipient)
            new_copies.append((copy, case_id, sealed))
        return _Opened(opened, new_copies)


def missing_copies(ctx: Context, account_id: int) -> list[tuple[str, bytes]]:
    """(case id, sealed key) of each case key of this officer that has no key copy yet: the cases
    that arrived (or whose key was sealed again) since their last search or sign-in."""
    return ctx.db.execute(
        "SELECT case_id, sealed_key FROM case_keys WHERE account_id = ? AND recipient = ?"
        " AND key_copy IS NULL ORDER BY case_id",
        [account_id, f"account:{account_id}"],
    ).fetchall()


def keep_copies_of(
    ctx: Context, account_id: int, private_key: bytes, missing: list[tuple[str, bytes]]
) -> int:
    """Open the sealed keys `missing` (missing_copies's rows) with the officer's private key and
    write a key copy of each that opened (put off, not waited for, when the database is busy).
    Returns the copies made."""
    recipient = f"account:{account_id}"
    made = _CaseKeys(private_key, recipient).open_sealed(missing).new_copies
    if made:
        put_off_briefly(ctx.db, _keep_copies, ctx, recipient, made)
    return len(made)


def _keep_copies(ctx: Context, recipient: str, copies: list[tuple[bytes, str, bytes]]) -> None:
    # Only where the sealed key is still the one opened: one sealed again meanwhile (a key rotated)
    # keeps no copy of the key it replaced.
    with transaction(ctx.db):
        ctx.db.conn.executemany(
            "UPDATE case_keys SET key_copy = ? WHERE case_id = ? AND recipient = ?"
            " AND sealed_key = ?",
            [(copy, case_id, recipient, sealed) for copy, case_id, sealed in copies],
        )

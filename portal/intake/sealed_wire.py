"""Reading what a browser sends when it sealed a disclosure or a reply itself
(docs/sealed-submission.md, version 1): strict members, no plaintext part, and every ciphertext and
public key checked for its structure before anything is stored or any work is spent."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import re
from dataclasses import dataclass, field

import crypto

WIRE_VERSION = 1
# What the plaintext forms call the discloser's words: never a member of a sealed body, so that
# nothing in clear is accepted by accident.
PLAINTEXT_NAMES = frozenset(
    {
        "summary",
        "details",
        "category",
        "disclosed_elsewhere",
        "contact",
        "language",
        "identifying",
        "exclude",
        "strip_metadata",
        "message",
        "receipt",
    }
)
# The largest plaintext of each field, in bytes: four per character of the form's limits
# (portal/web/intake/forms.py), the choices' one bucket.
FIELD_LIMITS = {
    "category": 64,
    "summary": 800,
    "details": 800_000,
    "disclosed_elsewhere": 64,
}
# Fields a sealed body may leave out: "language", the language the discloser said they wrote in
# (a language code, as the plaintext form sends it; casefiles.CASE_FIELDS), which an older page
# does not send.
OPTIONAL_FIELD_LIMITS = {"language": 64}
IDENTITY_LIMITS = {"contact": 8000, "identifying": 80_000}
MESSAGE_LIMIT = 800_000
META_LIMIT = 4096
# The first status record's note, as case_history.insert_status writes it.
FIRST_STATUS_NOTE = b'{"reason": "", "expected_timeframe": ""}'
MAX_ATTACHMENTS = 50

_HEX16 = re.compile(r"[0-9a-f]{32}")
_HEX32 = re.compile(r"[0-9a-f]{64}")
_RECIPIENT = re.compile(r"account:[1-9][0-9]{0,18}|recovery|discloser")


class Malformed(ValueError):
    """The body is not a sealed submission of this version; the message says which part."""

    code = "malformed"


class PlaintextPart(Malformed):
    """A member named like a plaintext form field, or a body sent as a form."""

    code = "plaintext"


@dataclass(frozen=True)
class Envelope:
    key_id: str  # crypto.key_fingerprint of the key it says it was sealed to
    sealed: bytes  # 82 bytes: 01 02 | crypto_box_seal(a 32-byte key)


@dataclass(frozen=True)
class SealedAttachment:
    id: str
    upload: str
    meta: bytes


@dataclass(frozen=True)
class SealedOriginal:
    """The original of a file the browser cleaned of its hidden details, kept for the discloser
    alone (portal.records.original_files): `id` is its cleaned attachment's; its blob (in
    `upload`) and `meta` are under a key of its own, and `sealed_key` is that key sealed to the
    discloser's public key (82 bytes), never to the officers."""

    id: str
    upload: str
    sealed_key: bytes
    meta: bytes


@dataclass
class SealedDisclosure:
    """A disclosure sealed in the browser, every ciphertext checked for its shape."""

    submission_token: str
    pow_challenge: str | None
    pow_solution: str | None
    channel: str
    excluded: set[int]
    case_id: str
    day: str
    public_key: bytes
    signing_key: bytes
    lookup_id: str
    case_keys: dict[str, Envelope]
    identity_keys: dict[str, Envelope]
    fields: dict[str, bytes]
    identity_fields: dict[str, bytes]
    status: bytes
    attachments: list[SealedAttachment] = field(default_factory=list)
    originals: list[SealedOriginal] = field(default_factory=list)

    @property
    def uploads(self) -> list[str]:
        """Every upload it names: the attachments', then the originals'."""
        return [a.upload for a in self.attachments] + [o.upload for o in self.originals]

    @property
    def text_bytes(self) -> int:
        """The padded plaintext bytes of its fields: what the daily byte budget counts."""
        return sum(len(ct) - 42 for ct in (*self.fields.values(), *self.identity_fields.values()))


@dataclass(frozen=True)
class SealedReply:
    submission_token: str
    message_id: str
    day: str
    body: bytes
    attachments: tuple[SealedAttachment, ...] = ()
    # 128 random bits the browser made for this reply, as 32 lowercase hex characters: a resend
    # with it stores nothing new (portal.intake.reply_tokens). None from a page that sends none.
    client_token: str | None = None


def refuse_form_body(content_type: str, expected: str = "application/json") -> None:
    """A form body (multipart or urlencoded) is a plaintext form: refused before it is read; any
    other kind than `expected` is Malformed."""
    kind = (content_type or "").split(";", 1)[0].strip().lower()
    if kind in ("multipart/form-data", "application/x-www-form-urlencoded", "text/plain"):
        raise PlaintextPart("A sealed submission is JSON; a form sends plaintext.")
    if kind != expected:
        raise Malformed(f"This is sent as {expected}.")


def members(body, required: set[str], optional: set[str] = frozenset()) -> dict:
    """`body` as a dict with exactly the `required` members and perhaps the `optional` ones."""
    if not isinstance(body, dict):
        raise Malformed("The body must be a JSON object.")
    plain = PLAINTEXT_NAMES.intersection(body) - required - optional
    if plain:
        raise PlaintextPart(f"{min(plain)!r} is a plaintext form field: nothing was stored.")
    unknown = set(body) - required - optional
    if unknown:
        raise Malformed(f"{min(unknown)!r} is not a member of a sealed submission.")
    missing = required - set(body)
    if missing:
        raise Malformed(f"{min(missing)!r} is missing.")
    return body


def _text(value, what: str, limit: int = 200) -> str:
    if not isinstance(value, str) or not value or len(value) > limit:
        raise Malformed(f"{what} must be a short string.")
    return value


def _b64(value, what: str) -> bytes:
    if not isinstance(value, str):
        raise Malformed(f"{what} must be base64 text.")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise Malformed(f"{what} is not base64.") from None


def hex_id(value, what: str, size: int = 16) -> str:
    pattern = _HEX16 if size == 16 else _HEX32
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise Malformed(f"{what} must be {2 * size} lowercase hex characters.")
    return value


def day(value) -> str:
    try:
        return dt.date.fromisoformat(_text(value, "day", 10)).isoformat()
    except ValueError:
        raise Malformed("day must be YYYY-MM-DD.") from None


def field_ct(value, what: str, limit: int) -> bytes:
    """A field ciphertext (kind 0x03, version 2) of a plaintext at most `limit` bytes."""
    ct = _b64(value, what)
    try:
        padded = crypto.field_shape(ct)
    except crypto.CryptoError as exc:  # a wrong kind, size or version
        raise Malformed(f"{what} is not a field ciphertext: {exc}") from None
    if padded > crypto.padded_length(limit):
        raise Malformed(f"{what} is larger than its limit of {limit} bytes.")
    return ct


def _key(value, what: str, check) -> bytes:
    try:
        return check(_b64(value, what), what)
    except crypto.RosterError as exc:
        raise Malformed(str(exc)) from None


def _envelopes(value, what: str) -> dict[str, Envelope]:
    if not isinstance(value, list) or len(value) > 1000:
        raise Malformed(f"{what} must be a list of envelopes.")
    found: dict[str, Envelope] = {}
    for entry in value:
        entry = members(entry, {"recipient", "key_id", "sealed"})
        recipient = entry["recipient"]
        if not isinstance(recipient, str) or not _RECIPIENT.fullmatch(recipient):
            raise Malformed(f"{what}: a recipient is not account:N, recovery or discloser.")
        if recipient in found:
            raise Malformed(f"{what}: {recipient} has two envelopes.")
        sealed = _b64(entry["sealed"], f"{what} for {recipient}")
        try:
            crypto.sealed_shape(sealed)
        except crypto.CryptoError as exc:
            raise Malformed(f"{what} for {recipient}: {exc}") from None
        found[recipient] = Envelope(_text(entry["key_id"], "key_id", 30), sealed)
    return found


def _sealed_fields(
    value, what: str, limits: dict[str, int], optional: dict[str, int] | None = None
) -> dict[str, bytes]:
    """Each field's ciphertext by name: every one of `limits`, and those of `optional` present."""
    optional = optional or {}
    value = members(value, set(limits), set(optional))
    caps = {**limits, **{name: cap for name, cap in optional.items() if name in value}}
    return {name: field_ct(value[name], f"{what} {name!r}", cap) for name, cap in caps.items()}


def _attachments(value) -> list[SealedAttachment]:
    if not isinstance(value, list) or len(value) > MAX_ATTACHMENTS:
        raise Malformed(f"attachments must be a list of at most {MAX_ATTACHMENTS}.")
    found = []
    for entry in value:
        entry = members(entry, {"id", "upload", "meta"})
        found.append(
            SealedAttachment(
                hex_id(entry["id"], "an attachment's id"),
                _text(entry["upload"], "upload", 64),
                field_ct(entry["meta"], "an attachment's meta", META_LIMIT),
            )
        )
    if len({a.id for a in found}) != len(found) or len({a.upload for a in found}) != len(found):
        raise Malformed("two attachments share an id or an upload.")
    return found


def _originals(value, attachments: list[SealedAttachment]) -> list[SealedOriginal]:
    """The originals kept for the discloser, each of one attachment, in uploads of their own."""
    if not isinstance(value, list) or len(value) > MAX_ATTACHMENTS:
        raise Malformed(f"originals must be a list of at most {MAX_ATTACHMENTS}.")
    found = []
    for entry in value:
        entry = members(entry, {"id", "upload", "sealed_key", "meta"})
        sealed_key = _b64(entry["sealed_key"], "an original's sealed_key")
        try:
            crypto.sealed_shape(sealed_key)
        except crypto.CryptoError as exc:
            raise Malformed(f"an original's sealed_key: {exc}") from None
        found.append(
            SealedOriginal(
                hex_id(entry["id"], "an original's id"),
                _text(entry["upload"], "upload", 64),
                sealed_key,
                field_ct(entry["meta"], "an original's meta", META_LIMIT),
            )
        )
    ids = [o.id for o in found]
    uploads = [a.upload for a in attachments] + [o.upload for o in found]
    if len(set(ids)) != len(ids) or not set(ids) <= {a.id for a in attachments}:
        raise Malformed("originals: each must be of one attachment, once.")
    if len(set(uploads)) != len(uploads):
        raise Malformed("originals: an upload is named twice.")
    return found


def _proof(body: dict, name: str) -> str | None:
    value = body.get(name)
    return None if value is None else _text(value, name)


def read_disclosure(body) -> SealedDisclosure:
    """The checked disclosure; Malformed (PlaintextPart for a plaintext part) otherwise."""
    body = members(
        body,
        {
            "v",
            "sealing",
            "submission_token",
            "channel",
            "case_id",
            "day",
            "discloser",
            "case_key",
            "identity_key",
            "fields",
            "identity_fields",
            "status",
        },
        {"pow_challenge", "pow_solution", "excluded_officers", "attachments", "originals"},
    )
    if body["v"] != WIRE_VERSION or body["sealing"] != "browser":
        raise Malformed(f"This portal reads version {WIRE_VERSION}, sealed by the browser.")
    excluded = body.get("excluded_officers", [])
    if not isinstance(excluded, list) or not all(
        type(i) is int and 0 < i < 2**63 for i in excluded
    ):
        raise Malformed("excluded_officers must be a list of officer ids.")
    discloser = members(body["discloser"], {"public_key", "signing_key", "lookup"})
    attachments = _attachments(body.get("attachments", []))
    return SealedDisclosure(
        submission_token=_text(body["submission_token"], "submission_token"),
        pow_challenge=_proof(body, "pow_challenge"),
        pow_solution=_proof(body, "pow_solution"),
        channel=_text(body["channel"], "channel"),
        excluded=set(excluded),
        case_id=hex_id(body["case_id"], "case_id"),
        day=day(body["day"]),
        public_key=_key(discloser["public_key"], "public_key", crypto.check_x25519_public),
        signing_key=_key(discloser["signing_key"], "signing_key", crypto.check_ed25519_public),
        lookup_id=hex_id(discloser["lookup"], "lookup", 32),
        case_keys=_envelopes(body["case_key"], "case_key"),
        identity_keys=_envelopes(body["identity_key"], "identity_key"),
        fields=_sealed_fields(body["fields"], "field", FIELD_LIMITS, OPTIONAL_FIELD_LIMITS),
        identity_fields=_sealed_fields(body["identity_fields"], "identity field", IDENTITY_LIMITS),
        status=_first_status(body["status"]),
        attachments=attachments,
        originals=_originals(body.get("originals", []), attachments),
    )


def _first_status(value) -> bytes:
    ct = field_ct(value, "status", len(FIRST_STATUS_NOTE))
    if len(ct) != 42 + crypto.padded_length(len(FIRST_STATUS_NOTE)):
        raise Malformed("status is not the size of the first status record.")
    return ct


def read_reply(body) -> SealedReply:
    required = {"v", "submission_token", "message_id", "day", "body"}
    body = members(body, required, {"attachments", "client_token"})
    if body["v"] != WIRE_VERSION:
        raise Malformed(f"This portal reads version {WIRE_VERSION}.")
    token = body.get("client_token")
    return SealedReply(
        _text(body["submission_token"], "submission_token"),
        hex_id(body["message_id"], "message_id"),
        day(body["day"]),
        field_ct(body["body"], "body", MESSAGE_LIMIT),
        tuple(_attachments(body.get("attachments", []))),
        None if token is None else hex_id(token, "client_token"),
    )


def read_lookup(body) -> tuple[str, str | None, str | None]:
    """(lookup id, pow_challenge, pow_solution) of a status check with script."""
    body = members(body, {"v", "lookup"}, {"pow_challenge", "pow_solution"})
    if body["v"] != WIRE_VERSION:
        raise Malformed(f"This portal reads version {WIRE_VERSION}.")
    return (
        hex_id(body["lookup"], "lookup", 32),
        _proof(body, "pow_challenge"),
        _proof(body, "pow_solution"),
    )


def read_rebind(body) -> str:
    """The form token an upload was begun under, sent to bind it to this session
    (docs/sealed-submission.md, section 4)."""
    body = members(body, {"v", "form_token"})
    token = body["form_token"]
    if body["v"] != WIRE_VERSION or type(token) is not str or not 0 < len(token) <= 500:
        raise Malformed("form_token must be the token the upload was begun under.")
    return token


def read_upload(body) -> int:
    """The declared size of a new upload (docs/sealed-submission.md, section 4)."""
    body = members(body, {"v", "size"})
    if body["v"] != WIRE_VERSION or type(body["size"]) is not int:
        raise Malformed("size must be a whole number of bytes.")
    return body["size"]

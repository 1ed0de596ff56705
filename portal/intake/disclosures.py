"""The discloser's side of a case: receiving a disclosure or a reply as it streams in, the receipt,
and the status session opened by the receipt."""

from __future__ import annotations

import os
import hashlib
import hmac
import secrets
import shutil
from dataclasses import dataclass, field

import crypto
from portal.keys import accounts, channels, conflicts, recovery, sessions
from portal.casework import acknowledgements, identity as confidentiality, oral, workflow
from portal.records import case_attachments, case_history, casefiles, internal_keys
from portal.guard import submissions, throttle, work_slots
from portal.records.casefiles import Attachment, CaseNotFound
from portal.intake.filenames import clean_filename
from portal.core.clock import day_start_timestamp, today, utc_offset_seconds as clock_offset
from portal.core.context import Context
from portal.store import transaction

# The kinds of serious wrongdoing in s 10 of the Protected Disclosures (Protection of
# Whistleblowers) Act 2022, in its order, and "not sure": a discloser need not classify it to be
# protected.
CATEGORIES: dict[str, str] = {
    "offence": "An offence",
    "health_safety_environment": (
        "A serious risk to public health, public safety, the health or safety of any "
        "individual, or the environment"
    ),
    "maintenance_of_law": (
        "A serious risk to the maintenance of law, including the prevention, investigation and "
        "detection of offences, and the right to a fair trial"
    ),
    "public_funds": "An unlawful, corrupt or irregular use of public funds or public resources",
    "public_sector_conduct": (
        "Oppressive, unlawfully discriminatory or grossly negligent conduct, or gross "
        "mismanagement, by an employee of a public sector organisation or by someone acting "
        "(or claiming to act) for a public sector organisation or the Government"
    ),
    "not_sure": "I am not sure which of these it is",
}

# Values earlier versions of the form offered: still labelled when an old case is read.
FORMER_CATEGORIES: dict[str, str] = {
    "oppressive_conduct": (
        "Oppressive, unlawfully discriminatory or grossly negligent conduct by a public official"
    ),
    "gross_mismanagement": "Gross mismanagement by a public official",
    "other": "Something else I believe is serious wrongdoing",
}

DISCLOSED_ELSEWHERE: dict[str, str] = {
    "no": "No, this is the first time I have raised it",
    "internal": "Yes, inside my organisation",
    "authority": "Yes, with another appropriate authority",
    "unsure": "I would rather not say",
}

DISCLOSER_SESSION = "discloser"


class RefusedForNow(Exception):
    """The portal cannot accept a disclosure right now (too little disk space)."""


class Throttled(Exception):
    def __init__(self, retry_after: int) -> None:
        super().__init__(f"Too many requests; try again in {retry_after} seconds.")
        self.retry_after = retry_after


class StatusNotFound(Exception):
    """The receipt opened nothing. Deliberately silent on whether any case exists."""


# While an upload goes on, the kernel is asked to start writing its ciphertext out (and may then
# drop it from the page cache), so the fsync at commit finds little left to do.
_FLUSH_EVERY = 32 * 1024 * 1024


class _PendingFile:
    """One uploaded file being encrypted into a blob as its bytes arrive."""

    def __init__(self, intake: "Intake", filename: str) -> None:
        self.id = casefiles.new_id()
        self.name = clean_filename(filename)
        self._writer = intake.ctx.blobs.writer()
        self._encryptor = crypto.StreamEncryptor(
            crypto.stream_key(intake.case_key, intake.case_id, self.id),
            self._writer.file,
            crypto.attachment_ad(intake.case_id, self.id),
        )
        self.attachment: Attachment | None = None
        # The file's digest as received, kept (encrypted) so a signed acknowledgement can commit to
        # it.
        self._digest = hashlib.sha256()
        self._unflushed = 0
        self._flushed_to = 0

    def write(self, data: bytes) -> None:
        self._encryptor.write(data)
        self._digest.update(data)
        self._unflushed += len(data)
        if self._unflushed >= _FLUSH_EVERY:
            file = self._writer.file
            file.flush()
            end = file.tell()
            os.posix_fadvise(
                file.fileno(), self._flushed_to, end - self._flushed_to, os.POSIX_FADV_DONTNEED
            )
            self._flushed_to, self._unflushed = end, 0

    def finish(self, content_type: str) -> None:
        size = self._encryptor.close()
        self._writer.close()
        self.attachment = Attachment(
            self.id, self.name, content_type[:100], size, self._digest.hexdigest()
        )

    def commit(self, day_timestamp: float) -> tuple[Attachment, str]:
        if self.attachment is None:
            raise ValueError("file was not finished")
        return self.attachment, self._writer.commit(day_timestamp)

    def discard(self) -> None:
        self._writer.discard()


@dataclass
class Intake:
    """A disclosure or reply on its way in. It owns its blobs until the case is stored whole.

    Use it as a context manager: leaving the block without completing it (an error, a rejected form,
    an exception) deletes every blob it wrote.
    """

    ctx: Context
    case_id: str
    case_key: bytes
    day: str
    files: list[_PendingFile] = field(default_factory=list)
    completed: bool = False

    def __enter__(self) -> "Intake":
        return self

    def __exit__(self, *exc_info) -> None:
        if not self.completed:
            self.discard()

    def open_file(self, filename: str) -> _PendingFile:
        pending = _PendingFile(self, filename)
        self.files.append(pending)
        return pending

    @property
    def file_names(self) -> list[str]:
        """The names of the files received so far, as they would be stored (to say which were
        dropped)."""
        return [pending.name for pending in self.files]

    @property
    def attachment_bytes(self) -> int:
        return sum(p.attachment.size for p in self.files if p.attachment is not None)

    def spend_upload_budget(self, text_bytes: int = 0) -> None:
        """Charge this request's attachments, and its text beyond FREE_TEXT_BYTES, to the
        disclosers'
        daily budget (SECURITY.md, "Budgets"), only once the form has proved valid; Throttled when
        they
        would overdraw it. Text up to FREE_TEXT_BYTES needs none, so a written disclosure always
        goes in.
        """
        size = self.attachment_bytes + max(0, text_bytes - FREE_TEXT_BYTES)
        if not size:
            return
        settings = self.ctx.settings
        if (
            throttle.spent(self.ctx.db, UPLOAD_BUDGET, DAY, _day_offset(self.ctx)) + size
            > settings.upload_bytes_per_day
        ):
            raise Throttled(throttle.seconds_left(DAY, _day_offset(self.ctx)))
        throttle.add(self.ctx.db, UPLOAD_BUDGET, size, DAY, _day_offset(self.ctx))

    def commit_files(self) -> list[tuple[Attachment, str]]:
        stamp = day_start_timestamp(self.day, self.ctx.settings.timezone)
        return [pending.commit(stamp) for pending in self.files]

    def discard(self) -> None:
        for pending in self.files:
            pending.discard()


def _check_capacity(ctx: Context) -> None:
    if shutil.disk_usage(ctx.settings.data_dir).free < ctx.settings.free_space_floor_bytes:
        raise RefusedForNow()


DAY = 86400
# Text up to this much per disclosure or reply is never charged to the daily byte budget: a written
# account, however long a person writes, goes in; text beyond it is stored bytes like a file's.
FREE_TEXT_BYTES = 16 * 1024


def _day_offset(ctx: Context) -> int:
    # Daily budgets start at the installation's midnight: their stored window is the day, nothing
    # finer.
    return clock_offset(ctx.settings.timezone)


UPLOAD_BUDGET = "upload-bytes"


def begin_disclosure(ctx: Context) -> Intake:
    """Start receiving a disclosure: refuse only when the disk is nearly full. No count of requests
    can shut the door: the work is rationed instead (key derivations, attachment bytes per day)."""
    _check_capacity(ctx)
    return Intake(ctx, casefiles.new_id(), crypto.new_case_key(), today(ctx.settings.timezone))


REF_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # no I, L, O, U: easy to read out on the phone


def _new_ref(ctx: Context) -> str:
    """A random case reference for officers; unrelated to the receipt, and never derived from it."""
    while True:
        ref = "PD-" + "".join(secrets.choice(REF_ALPHABET) for _ in range(8))
        if not ctx.db.execute("SELECT 1 FROM cases WHERE ref = ?", [ref]).fetchone():
            return ref


def known_category(value: str | None) -> str | None:
    """The s 10 category as kept in the clear for the queue's filter and statistics: one of the
    listed
    values (current or former), else None. Never free text."""
    return value if value in CATEGORIES or value in FORMER_CATEGORIES else None


def _insert_case(
    ctx: Context,
    intake: Intake,
    channel_id: int,
    lookup_id: str,
    discloser_public_key: bytes,
    category: str | None,
) -> str:
    ref = _new_ref(ctx)
    ctx.db.execute(
        "INSERT INTO cases (id, ref, channel_id, status, received_day, receipt_lookup,"
        " discloser_public_key, category, activity_day) VALUES (?, ?, ?, 'received', ?, ?, ?,"
        " ?, ?)",
        [
            intake.case_id,
            ref,
            channel_id,
            intake.day,
            lookup_id,
            discloser_public_key,
            known_category(category),
            intake.day,
        ],
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


def _insert_fields(ctx: Context, intake: Intake, values: dict[str, str | None]) -> None:
    # Contact details are sealed apart, under the identity key (portal.casework.identity, s 17).
    for name in casefiles.CASE_FIELDS:
        if name in confidentiality.IDENTITY_FIELDS:
            continue
        # A field left out of the request is an empty one.
        ct = crypto.encrypt_field(
            intake.case_key, intake.case_id, name, (values.get(name) or "").encode()
        )
        ctx.db.execute(
            "INSERT INTO case_fields (case_id, name, value_ct) VALUES (?, ?, ?)",
            [intake.case_id, name, ct],
        )


def _insert_case_keys(
    ctx: Context, intake: Intake, readers: list[accounts.Account], discloser_public_key: bytes
) -> None:
    for officer in readers:
        ctx.db.execute(
            "INSERT INTO case_keys (case_id, recipient, account_id, sealed_key) VALUES (?, ?,"
            " ?, ?)",
            [
                intake.case_id,
                f"account:{officer.id}",
                officer.id,
                crypto.seal_to(officer.public_key, intake.case_key),
            ],
        )
    ctx.db.execute(
        "INSERT INTO case_keys (case_id, recipient, sealed_key) VALUES (?, 'discloser', ?)",
        [intake.case_id, crypto.seal_to(discloser_public_key, intake.case_key)],
    )


class NoReceiver(ValueError):
    """The chosen channel does not exist or has no integrity officer to receive disclosures."""


def complete_disclosure(
    ctx: Context,
    intake: Intake,
    values: dict[str, str | None],
    submission_token: str | None = None,
    excluded: list[int] | tuple = (),
    oral_by: int | None = None,
) -> str:
    """Store the case whole (or not at all) and return its receipt code, which is never stored.

    `values["channel"]` is a channel's name (the one identifier forms and the CLI use). `excluded`:
    ids
    of officers the discloser does not want to see it (conflicts of interest); they get no key.
    Raises
    NoReceiver, conflicts.ExcludedEveryone (nothing stored), or submissions.AlreadySubmitted when
    `submission_token` was used before (nothing is stored then, and no receipt exists to show: the
    first
    answer was the only one). `oral_by`: the officer recording an oral disclosure
    (portal.casework.oral).
    """
    channel = channels.find_channel(ctx, values.get("channel") or "")
    excluded_ids = set(excluded)
    readers = conflicts.readers_without(ctx, channel, excluded_ids) if channel else []
    if not readers:
        raise NoReceiver("This channel has no integrity officer to receive disclosures.")
    if submissions.was_claimed(ctx.db, submission_token):  # spare the key derivation on a resend
        raise submissions.AlreadySubmitted()
    receipt = crypto.new_receipt()
    # The discloser has already sent everything: wait longer for a key-derivation slot than a status
    # check.
    identity = _derive_receipt(ctx, receipt, wait=3 * ctx.settings.kdf_wait_seconds)
    intake.spend_upload_budget(sum(len(v.encode()) for v in values.values() if isinstance(v, str)))
    attachments = intake.commit_files()
    with transaction(ctx.db):
        submissions.claim(ctx.db, submission_token, intake.day)
        # Chosen again under the write lock: a membership removed while the receipt's key was
        # derived (seconds, or longer waiting for a slot) must not receive the case.
        readers = conflicts.readers_without(ctx, channel, excluded_ids)
        if not readers:
            raise NoReceiver("This channel has no integrity officer to receive disclosures.")
        store_case(
            ctx,
            intake,
            channel.id,
            readers,
            values,
            identity.lookup_id,
            identity.public_key,
            excluded_ids,
            attachments,
            oral_by,
        )
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
    (same
    encryption, every officer of the channel a reader) and marked oral. Returns the receipt to hand
    over,
    which the discloser's first visit replaces (open_status). Raises NotYourChannel, NoReceiver or
    submissions.AlreadySubmitted."""
    channel = channels.find_channel(ctx, values.get("channel") or "")
    if channel is None or account_id not in {
        o.id for o in channels.channel_officers(ctx, channel.id)
    }:
        raise NotYourChannel(
            "You can record a disclosure only for a channel you are an officer of."
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
) -> str:
    """Inside the caller's transaction: the case row, its encrypted fields, its key sealed to each
    reader and
    the discloser, the officers-only key, the copies for the channel's recovery key, the exclusions,
    attachments, the oral record (`oral_by`: the officer
    who recorded it) and first deadline. Returns the reference.
    (complete_disclosure; also the queue benchmark, which builds many cases in one transaction.)"""
    ref = _insert_case(
        ctx, intake, channel_id, lookup_id, discloser_public_key, values.get("category")
    )
    _insert_fields(ctx, intake, values)
    _insert_case_keys(ctx, intake, readers, discloser_public_key)
    internal_key = crypto.new_case_key()
    internal_keys.insert_internal_keys(ctx, intake.case_id, internal_key, readers)
    identity_key = confidentiality.store_identity(ctx, intake.case_id, readers, values)
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


ReceiptTypo = crypto.ReceiptTypo


def _derive_receipt(
    ctx: Context, receipt: str, wait: float | None = None
) -> crypto.ReceiptIdentity:
    """Argon2id under the process's key-derivation slots: guesses queue behind genuine disclosers
    instead of being counted (work_slots.Busy when no slot comes free in time)."""
    with work_slots.key_derivation(ctx.settings, wait=wait):
        return crypto.derive_receipt_identity(
            receipt, ctx.settings.install_salt, ctx.settings.receipt_params
        )


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


def open_status(ctx: Context, receipt_text: str, *, replacing: str | None = None) -> OpenedStatus:
    """Check a receipt and open a status session. `replacing`: the browser's earlier status cookie,
    whose
    session ends. At the first visit to an oral disclosure, the receipt the officer saw is replaced
    by a new
    one (shown once, in `new_receipt`) and stops working.

    Raises crypto.ReceiptTypo (cheap, before any key derivation) or StatusNotFound.
    """
    receipt = crypto.normalise_receipt(receipt_text)
    identity = _derive_receipt(ctx, receipt)
    row = ctx.db.execute(
        "SELECT id FROM cases WHERE receipt_lookup = ?", [identity.lookup_id]
    ).fetchone()
    if row is None:
        raise StatusNotFound()
    try:
        case_key = casefiles.open_case_key(ctx, row[0], "discloser", identity.private_key)
    except CaseNotFound as exc:
        raise StatusNotFound() from exc
    new_receipt = None
    if oral.needs_new_receipt(ctx, row[0]):
        new_receipt, identity = _replace_receipt(ctx, row[0], identity.lookup_id, case_key)
    cookie = sessions.start(
        ctx.db,
        DISCLOSER_SESSION,
        row[0],
        identity.private_key,
        ctx.settings.discloser_idle_seconds,
        ctx.settings.discloser_session_seconds,
        replacing=replacing,
    )
    return OpenedStatus(cookie, new_receipt)


def _replace_receipt(
    ctx: Context, case_id: str, old_lookup: str, case_key: bytes
) -> tuple[str, crypto.ReceiptIdentity]:
    """A new receipt for the case: the lookup id and discloser key change, the case key is sealed to
    the new
    key alone. Raises StatusNotFound if someone else replaced it meanwhile."""
    receipt = crypto.new_receipt()
    identity = _derive_receipt(ctx, receipt)
    with transaction(ctx.db):
        changed = ctx.db.execute(
            "UPDATE cases SET receipt_lookup = ?, discloser_public_key = ? "
            "WHERE id = ? AND receipt_lookup = ?",
            [identity.lookup_id, identity.public_key, case_id, old_lookup],
        ).rowcount
        if changed != 1 or not oral.needs_new_receipt(ctx, case_id):
            raise StatusNotFound()
        ctx.db.execute(
            "UPDATE case_keys SET sealed_key = ? WHERE case_id = ? AND recipient = 'discloser'",
            [crypto.seal_to(identity.public_key, case_key), case_id],
        )
        oral.mark_receipt_replaced(ctx, case_id, today(ctx.settings.timezone))
    return receipt, identity


@dataclass
class DiscloserView:
    case: casefiles.CaseRecord
    messages: list[casefiles.Message]
    attachments: list[Attachment]
    latest_reason: str = ""
    expected_timeframe: str = ""
    expected_by: str | None = None  # the next day by which the discloser should hear
    steps_done: dict[str, str] = field(default_factory=dict)  # s 13(1) step -> day done
    extension_timeframe: str = ""  # s 13(2): how long the officers expect to take
    identity_releases: list = field(
        default_factory=list
    )  # s 17: completed releases of their identity
    consent_questions: list = field(
        default_factory=list
    )  # releases the officers asked their consent to
    oral: oral.OralRecord | None = None  # an oral disclosure's record state
    record: dict[str, str] = field(
        default_factory=dict
    )  # an oral disclosure's fields, to check and correct
    regime: str = "nz"  # the channel's law: 'nz' (2022 Act) or 'eu' (Directive 2019/1937)


def _case_key_for(
    ctx: Context, session: sessions.OpenSession
) -> tuple[casefiles.CaseRecord, bytes]:
    case = casefiles.get_case(ctx, case_id=session.subject)
    return case, casefiles.open_case_key(ctx, case.id, "discloser", session.secret)


def resume_status(ctx: Context, cookie: str | None) -> sessions.OpenSession | None:
    return sessions.resume(ctx.db, DISCLOSER_SESSION, cookie, ctx.settings.discloser_idle_seconds)


def close_status(ctx: Context, cookie: str | None) -> None:
    sessions.end(ctx.db, cookie)


def discloser_view(ctx: Context, session: sessions.OpenSession) -> DiscloserView:
    case, case_key = _case_key_for(ctx, session)
    # Only what the records vouch for: a status edited in the database is not shown as fact.
    latest, _ = case_history.trusted_status(
        case, case_history.status_history(ctx, case.id, case_key)
    )
    if latest is not None:
        case.status = latest.status
    messages = [
        m for m in case_history.read_messages(ctx, case.id, case_key) if m.verified is not False
    ]
    due = workflow.stored_due(ctx, case.id)
    return DiscloserView(
        case,
        messages,
        case_attachments.read_attachments(ctx, case.id, case_key),
        latest.reason if latest else "",
        latest.expected_timeframe if latest else "",
        expected_by=due.day.isoformat() if due else None,
        steps_done=workflow.steps_done(ctx, case.id),
        extension_timeframe=workflow.expected_timeframe(ctx, case.id, case_key),
        identity_releases=[
            r for r in confidentiality.releases(ctx, case.id, case_key) if r.state == "released"
        ],
        consent_questions=confidentiality.consent_requests(ctx, case.id, case_key),
        oral=(record := oral.record_of(ctx, case.id)),
        record=casefiles.read_fields(ctx, case.id, case_key) if record else {},
        regime=(channel := channels.find_channel(ctx, case.channel_name))
        and channel.regime
        or "nz",
    )


def answer_consent(ctx: Context, session: sessions.OpenSession, seq: int, answer: str) -> None:
    """The discloser answers a consent question (s 17(2)(a)). Raises identity.IdentityError."""
    case, case_key = _case_key_for(ctx, session)
    confidentiality.answer_consent(ctx, case.id, case_key, seq, answer)


def acknowledgement(ctx: Context, session: sessions.OpenSession) -> acknowledgements.Proof:
    """The discloser's signed acknowledgement and its commitment's salt. Raises
    acknowledgements.NotAcknowledged. Not audited: like a discloser's message, its time would tell
    when
    the discloser was here."""
    case, case_key = _case_key_for(ctx, session)
    return acknowledgements.proof(ctx, case, case_key)


def begin_reply(ctx: Context, session: sessions.OpenSession) -> Intake:
    _check_capacity(ctx)
    case, case_key = _case_key_for(ctx, session)
    return Intake(ctx, case.id, case_key, today(ctx.settings.timezone))


class QuotaReached(Exception):
    """This case has used its quota of discloser messages or bytes; officers see it on the case
    page."""


@dataclass(frozen=True)
class CaseQuota:
    messages: int
    bytes: int
    max_messages: int
    max_bytes: int


def case_quota(ctx: Context, case_id: str) -> CaseQuota:
    row = ctx.db.execute(
        "SELECT messages, bytes FROM case_quota WHERE case_id = ?", [case_id]
    ).fetchone()
    messages, size = row if row else (0, 0)
    return CaseQuota(
        messages, size, ctx.settings.case_quota_messages, ctx.settings.case_quota_bytes
    )


def _check_reply_budgets(ctx: Context, intake: Intake, size: int, session_id: str | None) -> None:
    """Per status session and per case, per day (Throttled), and the case's lifetime quota
    (QuotaReached)."""
    quota = case_quota(ctx, intake.case_id)
    if quota.messages + 1 > quota.max_messages or quota.bytes + size > quota.max_bytes:
        raise QuotaReached()
    settings = ctx.settings
    for bucket, limit in (
        (f"reply-session:{session_id}", settings.replies_per_session),
        (f"reply-case:{intake.case_id}", settings.replies_per_case),
    ):
        if session_id is None and bucket.startswith("reply-session:"):
            continue
        if throttle.spent(ctx.db, bucket, DAY, _day_offset(ctx)) >= limit:
            raise Throttled(throttle.seconds_left(DAY, _day_offset(ctx)))


def complete_reply(
    ctx: Context,
    intake: Intake,
    message: str,
    submission_token: str | None = None,
    session_id: str | None = None,
) -> None:
    """Store the discloser's message and its files whole. Raises submissions.AlreadySubmitted on a
    resend,
    Throttled when this status session or case has sent its replies for the day or the disclosers'
    attachment budget is spent, QuotaReached when the case's lifetime quota is used up."""
    size = len(message.encode()) + intake.attachment_bytes
    _check_reply_budgets(ctx, intake, size, session_id)
    intake.spend_upload_budget(len(message.encode()))
    attachments = intake.commit_files()
    with transaction(ctx.db):
        submissions.claim(ctx.db, submission_token, intake.day)
        message_id = case_history.insert_message(
            ctx,
            intake.case_id,
            intake.case_key,
            author="discloser",
            account_id=None,
            day=intake.day,
            body=message,
        )
        case_attachments.insert_attachments(
            ctx, intake.case_id, intake.case_key, message_id, attachments
        )
        ctx.db.execute(
            "INSERT INTO case_quota (case_id, messages, bytes) VALUES (?, 1, ?) ON CONFLICT"
            " (case_id) DO UPDATE SET messages = messages + 1, bytes = bytes + excluded.bytes",
            [intake.case_id, size],
        )
    for bucket in ([f"reply-session:{session_id}"] if session_id else []) + [
        f"reply-case:{intake.case_id}"
    ]:
        throttle.add(ctx.db, bucket, 1, DAY, _day_offset(ctx))
    intake.completed = True

"""The installation's settings, read from its data directory.

Settings come from `installation.json` in the data directory (written by `portal init`,
portal.core.installation_file), then from PORTAL_* environment variables for the knobs an operator
may want to turn without editing files."""

from __future__ import annotations

import dataclasses
import json
import os
import re
from pathlib import Path

from crypto import FAST_TEST_PARAMS, RECEIPT_VERSION, RECEIPT_VERSIONS, KdfParams, new_signing_key
from portal.core.installation_file import INSTALLATION_FILE, installation_lock, write_installation
from portal.core.language_settings import language_settings
from portal.core.words import N_, Sentence

GiB = 1024**3
MiB = 1024**2


class NotInitialised(Exception):
    pass


@dataclasses.dataclass(frozen=True)
class Settings:
    data_dir: Path
    secret_key: bytes
    install_salt: bytes
    receipt_params: KdfParams  # Argon2id cost of `receipt_version`, which new receipts use
    passphrase_params: KdfParams
    # The installation's Ed25519 signing key (its seed), which signs acknowledgements (proof of
    # disclosure).
    signing_seed: bytes = dataclasses.field(default=b"", repr=False)
    # The receipt version new receipts are made at (crypto.RECEIPT_VERSIONS), and the older
    # (version, KdfParams) this installation still has receipts of, newest first: a status check
    # tries each after the current one (a receipt code carries no version).
    receipt_version: int = RECEIPT_VERSION
    older_receipt_params: tuple[tuple[int, KdfParams], ...] = ()
    timezone: str = "Pacific/Auckland"
    calendar: str = "legislation"
    max_attachment_bytes: int = 2 * GiB
    max_submission_bytes: int = 4 * GiB
    max_text_bytes: int = 1 * MiB
    free_space_floor_bytes: int = 2 * GiB
    # Attachment bytes that disclosers together may store per day (text is never rationed).
    upload_bytes_per_day: int = 64 * GiB
    secure_cookies: bool = True
    officer_idle_seconds: int = 15 * 60
    discloser_idle_seconds: int = 10 * 60
    # Absolute session lifetimes, whatever the activity (issue 12).
    officer_session_seconds: int = 8 * 3600
    discloser_session_seconds: int = 3600
    # Shown at /.well-known/security.txt (RFC 9116); empty: that page is not served.
    security_contact: str = ""
    # The installation's Tor onion service ('<56 base32 letters>.onion'); when set, every page
    # carries an Onion-Location header to the same path there (docs/deploy.md). Empty: none.
    onion_address: str = ""
    # The pages' languages (issue 28, docs/translating.md): the fallback, and all a person may
    # choose (a catalogue not yet reviewed stays out until the operator adds it).
    default_language: str = "en"
    languages: tuple[str, ...] = ("en",)
    # Abuse limits (SECURITY.md, "Budgets"). Files per disclosure or reply:
    max_files: int = 50
    # Discloser replies: per status session and per case per day; and a per-case quota over the
    # case's whole life, which officers see on the case page.
    replies_per_session: int = 20
    replies_per_case: int = 50
    case_quota_messages: int = 500
    case_quota_bytes: int = 8 * GiB
    # Slow clients (portal serve; deploy/nginx/portal-proxy.conf carries the same numbers).
    header_timeout_seconds: int = 10
    body_idle_timeout_seconds: int = 30
    min_body_bytes_per_second: int = 1024
    body_rate_grace_seconds: int = 30
    max_concurrent_uploads: int = 4
    # An upload slot is kept only while its body arrives at this rate (bytes a second, on average
    # since it began, judged after the slot grace): below it, it yields its slot to an upload that
    # finds every slot taken (portal/guard/upload_slots.py).
    useful_upload_bytes_per_second: int = 8 * 1024
    upload_slot_grace_seconds: int = 10
    # What the portal reads and throws away of a body it will not keep, so that the client still
    # sending sees the answer instead of a reset connection (portal/guard/slow_clients.py).
    discard_body_bytes: int = 32 * 1024 * 1024
    # Argon2id runs at once in one process, and how long a request waits for one before 503.
    kdf_concurrency: int = 1
    kdf_wait_seconds: int = 10
    # Each kind of derivation has its own queue (portal.guard.work_queues): its slots per process
    # (its share of the cores), and at most `queue_waiting` requests waiting in its line; a new
    # case, whose sender has already sent everything, may wait in a longer one (`sealing_waiting`,
    # as many as a worker has threads).
    sign_in_slots: int = 1
    sealing_slots: int = 1
    receipt_slots: int = 1
    queue_waiting: int = 2
    sealing_waiting: int = 8
    # Receipt checks have no line by default (a full slot answers busy at once) and run at nice
    # `receipt_nice` in threads of their own (0: in the request's thread, at its priority).
    receipt_waiting: int = 0
    receipt_nice: int = 19
    # The reserved lane's derivations (a higher proof paid for each) run at this nice instead, in
    # threads started by the worker's main thread: at the lowest priority a local flood starved
    # them, so the lane gave no turn (bench/bench_flood.py). Still within `receipt_share` places.
    lane_nice: int = 0
    # Receipt checks at once across every server process (half the cores by default; 0: no limit
    # beyond each process's `receipt_slots`).
    receipt_share: int = 0
    file_check_places: int = 1  # files checked at once, all processes together (file_cleaning)
    file_check_wait_seconds: int = 2  # a file's longest wait for one, then it is kept unchecked
    # A file whose check is small (its bytes, a zip package's members' declared bytes, at most
    # this) may also take one place kept for small checks, its child's CPU cut at
    # file_cleaning.SMALL_CPU_SECONDS: bombs cannot keep it waiting (issue 22). 0: no such place.
    file_check_small_bytes: int = 1024 * 1024
    busy_retry_after: int = 5
    organisation_share: int = 0  # % of each queue one organisation holds (service/dispatch.py)
    # Proof of work and no-script tickets (portal.guard.proofs; SECURITY.md, "Proof of work"). Bits
    # of SHA-256 hashcash asked when idle, under load (one more bit each time the proofs spent this
    # minute in this process double past `pow_calm_per_minute`), at most, and for a disclosure past
    # the case budget.
    pow_bits: int = 12
    pow_max_bits: int = 22
    pow_flood_bits: int = 20
    pow_calm_per_minute: int = 60
    # Under load, a receipt check whose proof has this many bits more than the load asks takes the
    # reserved lane (its own receipt slot and short line; 0: no lane), so a flood of cheaper guesses
    # cannot keep it out; a guess there costs 2**pow_lane_bits times as much.
    pow_lane_bits: int = 2
    # The most bits ever asked of, or named for, a page's script (load, flood, lane and size
    # included), whatever the other settings say: what WebCrypto does in about a second on a modest
    # computer. static/proof.js measured 8.6-9.8 us a digest under node 20 here (the review: 5.2),
    # and 2**17 = 131,072 expected digests is 0.7-1.3 s; 2**22 was 20-40 s. Past the cap the
    # queues, the lane's short line and the no-script line ration the flood, not a bigger proof.
    pow_script_max_bits: int = 17
    # A challenge or ticket is good for this long (its expiry is rounded to 10 minutes).
    proof_seconds: int = 1800
    # A no-script ticket waits at least this long, or the line's expected wait (typing pays it);
    # the installation's line gives turns at this rate (counted when used) and places and waits no
    # further ahead than `ticket_line_seconds` (portal.guard.tickets).
    no_script_wait_seconds: int = 3
    tickets_per_minute: int = 30
    ticket_line_seconds: int = 900
    # New cases a day (the installation's day: nothing a discloser does is kept finer), before each
    # further one needs the flood proof (or a ticket from the line).
    cases_per_day: int = 500
    # How long a write waits for SQLite's write lock before the person is told to try again (503).
    busy_timeout_seconds: float = 10.0
    # Notification digests (portal.operations.notifications): off while smtp_host is empty.
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_starttls: bool = True
    smtp_username: str = ""
    smtp_password: str = dataclasses.field(default="", repr=False)
    smtp_from: str = ""
    # The portal's public address, for the link in a digest (empty: no link).
    public_url: str = ""
    # The daily reminder's time of day, "HH:MM" in the installation's zone, and whether it gives
    # counts of what waits (which tells the mail system on which days something came in).
    digest_time: str = "07:30"
    digest_counts: bool = False
    # Each channel's pinned roster root (portal.keys.roster_files). Empty: roster-roots.json in the
    # data directory, which the portal writes itself (a demo, a test). In production a file the
    # serving user can read but not write (docs/deploy.md, "Roster roots").
    roster_roots_file: str = ""
    # The sealing page's release public key (release-key.json), which the page checks the signed
    # bundle with: a file root owns, outside the data directory (portal.operations.release_bundle,
    # release_key_refusal). Empty: the installed static/seal/release-key.json, if any; never the
    # data directory. `release_key_unchecked` serves it even where the portal's user can change it
    # (the demo only: there the bundle's signature protects nothing).
    release_key_file: str = ""
    release_key_unchecked: bool = False

    @property
    def max_request_bytes(self) -> int:
        """The largest request body: a whole submission, plus its text and multipart framing."""
        return self.max_submission_bytes + 4 * MiB

    @property
    def database_path(self) -> Path:
        return self.data_dir / "portal.db"

    @property
    def blob_dir(self) -> Path:
        return self.data_dir / "blobs"

    @property
    def roster_roots_path(self) -> Path:
        if self.roster_roots_file:
            return Path(self.roster_roots_file)
        return self.data_dir / "roster-roots.json"


def _params(raw: dict) -> KdfParams:
    params = KdfParams(opslimit=int(raw["opslimit"]), memlimit=int(raw["memlimit"]))
    params.check()
    return params


def _receipt_versions(document: dict) -> dict:
    """The Settings of the receipt versions an installation file names: "receipt_kdf_v2" is
    version 2's cost (absent in a file made before version 2: the shipped one, or the fast test
    one in an insecure_fast_kdf installation), "receipt_kdf" version 1's, kept only by an
    installation made before version 2, whose older receipts it opens."""
    fast = document.get("insecure_fast_kdf") is True
    raw = document.get("receipt_kdf_v2")
    current = _params(raw) if raw else (FAST_TEST_PARAMS if fast else RECEIPT_VERSIONS[2])
    older = ()
    if document.get("receipt_kdf"):
        version_1 = _params(document["receipt_kdf"])
        # The same cost derives the same identity: trying it again would find nothing new.
        older = () if version_1 == current else ((1, version_1),)
    return {"receipt_version": 2, "receipt_params": current, "older_receipt_params": older}


def onion_address(value: str) -> str:
    """A v3 onion address: 56 base32 letters and '.onion' (rend-spec-v3), lower case; '' turns it
    off. Raises ValueError otherwise."""
    value = value.strip().lower().removeprefix("http://").removeprefix("https://").rstrip("/")
    if value and not re.fullmatch(r"[a-z2-7]{56}\.onion", value):
        raise ValueError(
            "onion_address must be a v3 onion address: 56 letters a-z and digits 2-7, then .onion."
        )
    return value


def _ensure_signing_key(data_dir: Path, document: dict) -> dict:
    """An installation made before acknowledgements were signed gets its signing key at its next
    start."""
    if "signing_key" in document:
        return document
    with installation_lock(data_dir):
        document = json.loads((data_dir / INSTALLATION_FILE).read_text())
        if "signing_key" not in document:
            document["signing_key"] = new_signing_key().hex()
            write_installation(data_dir, document)
    return document


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


# Flood settings (portal.guard.work_queues, portal.guard.proofs): installation.json, then
# PORTAL_<NAME> in capitals (PORTAL_POW_BITS, PORTAL_CASES_PER_HOUR, ...).
_FLOOD_SETTINGS = (
    "pow_bits", "pow_max_bits", "pow_flood_bits", "pow_calm_per_minute", "pow_lane_bits",
    "pow_script_max_bits", "proof_seconds",
    "no_script_wait_seconds", "tickets_per_minute", "ticket_line_seconds", "cases_per_day",
    "queue_waiting", "sealing_waiting", "receipt_waiting", "receipt_nice", "lane_nice",
    "busy_retry_after", "file_check_wait_seconds", "file_check_small_bytes",
)  # fmt: skip


def _flood_settings(document: dict) -> dict:
    kdf, half = _env_int("PORTAL_KDF_CONCURRENCY", 1), max(1, (os.cpu_count() or 2) // 2)
    shares = dict(sign_in_slots=kdf, sealing_slots=kdf, receipt_slots=kdf, receipt_share=half)
    shares["file_check_places"] = half  # sandboxed file checks at once, across processes
    values = {name: _env_int(f"PORTAL_{name.upper()}", n) for name, n in shares.items()}
    defaults = {f.name: f.default for f in dataclasses.fields(Settings)}
    for name in _FLOOD_SETTINGS:
        values[name] = _env_int(f"PORTAL_{name.upper()}", document.get(name, defaults[name]))
    return values


def load_settings(data_dir: Path, **overrides) -> Settings:
    path = data_dir / INSTALLATION_FILE
    if not path.exists():
        raise NotInitialised(
            Sentence(
                N_("%(dir)s is not an initialised data directory; run `portal init` first."),
                dir=str(data_dir),
            )
        )
    document = _ensure_signing_key(data_dir, json.loads(path.read_text()))
    values = dict(
        data_dir=data_dir,
        secret_key=bytes.fromhex(document["secret_key"]),
        install_salt=bytes.fromhex(document["install_salt"]),
        **_receipt_versions(document),
        passphrase_params=_params(document["passphrase_kdf"]),
        signing_seed=bytes.fromhex(document["signing_key"]),
        timezone=os.environ.get("PORTAL_TIMEZONE", document.get("timezone", "Pacific/Auckland")),
        calendar=document.get("calendar", "legislation"),
        max_attachment_bytes=_env_int(
            "PORTAL_MAX_ATTACHMENT_BYTES", document.get("max_attachment_bytes", 2 * GiB)
        ),
        max_submission_bytes=_env_int(
            "PORTAL_MAX_SUBMISSION_BYTES", document.get("max_submission_bytes", 4 * GiB)
        ),
        free_space_floor_bytes=_env_int(
            "PORTAL_FREE_SPACE_FLOOR_BYTES", document.get("free_space_floor_bytes", 2 * GiB)
        ),
        upload_bytes_per_day=_env_int(
            "PORTAL_UPLOAD_BYTES_PER_DAY", document.get("upload_bytes_per_day", 64 * GiB)
        ),
        secure_cookies=os.environ.get("PORTAL_INSECURE_COOKIES") != "1",
        officer_session_seconds=_env_int(
            "PORTAL_OFFICER_SESSION_SECONDS", document.get("officer_session_seconds", 8 * 3600)
        ),
        discloser_session_seconds=_env_int(
            "PORTAL_DISCLOSER_SESSION_SECONDS", document.get("discloser_session_seconds", 3600)
        ),
        security_contact=os.environ.get(
            "PORTAL_SECURITY_CONTACT", document.get("security_contact", "")
        ),
        onion_address=onion_address(
            os.environ.get("PORTAL_ONION_ADDRESS", document.get("onion_address", ""))
        ),
        **language_settings(document),
        max_files=_env_int("PORTAL_MAX_FILES", document.get("max_files", 50)),
        header_timeout_seconds=_env_int("PORTAL_HEADER_TIMEOUT", 10),
        body_idle_timeout_seconds=_env_int("PORTAL_BODY_IDLE_TIMEOUT", 30),
        min_body_bytes_per_second=_env_int("PORTAL_MIN_BODY_RATE", 1024),
        body_rate_grace_seconds=_env_int("PORTAL_BODY_RATE_GRACE", 30),
        max_concurrent_uploads=_env_int("PORTAL_MAX_CONCURRENT_UPLOADS", 4),
        useful_upload_bytes_per_second=_env_int("PORTAL_USEFUL_UPLOAD_RATE", 8 * 1024),
        upload_slot_grace_seconds=_env_int("PORTAL_UPLOAD_SLOT_GRACE", 10),
        discard_body_bytes=_env_int("PORTAL_DISCARD_BODY_BYTES", 32 * 1024 * 1024),
        kdf_concurrency=_env_int("PORTAL_KDF_CONCURRENCY", 1),
        kdf_wait_seconds=_env_int("PORTAL_KDF_WAIT", 10),
        **_flood_settings(document),
        busy_timeout_seconds=float(
            os.environ.get("PORTAL_BUSY_TIMEOUT") or document.get("busy_timeout_seconds", 10.0)
        ),
        smtp_host=os.environ.get("PORTAL_SMTP_HOST", document.get("smtp_host", "")),
        smtp_port=_env_int("PORTAL_SMTP_PORT", document.get("smtp_port", 587)),
        smtp_starttls=bool(document.get("smtp_starttls", True)),
        smtp_username=document.get("smtp_username", ""),
        smtp_password=document.get("smtp_password", ""),
        smtp_from=document.get("smtp_from", ""),
        public_url=os.environ.get("PORTAL_PUBLIC_URL", document.get("public_url", "")),
        digest_time=document.get("digest_time", "07:30"),
        digest_counts=bool(document.get("digest_counts", False)),
        roster_roots_file=os.environ.get("PORTAL_ROSTER_ROOTS", ""),
        # From the environment only (the service unit): the data directory must not choose them.
        release_key_file=os.environ.get("PORTAL_RELEASE_KEY", ""),
        release_key_unchecked=os.environ.get("PORTAL_RELEASE_KEY_UNCHECKED") == "1",
    )
    values.update(overrides)
    return Settings(**values)

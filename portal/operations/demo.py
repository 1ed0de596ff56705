"""The demo installation `make run` serves: one channel with two demo officers, a demo
administrator and a few invented cases at different stages (portal.operations.demo_cases), the
accounts' set-up credentials kept in the data directory (owner only) so every run can print them
again. Every demo account replaces its printed passphrase and second factor at first sign-in: the
printed ones then open nothing, and are no longer kept or printed.

So that what needs a second person can be tried, the demo also leaves waiting: a release of a
discloser's identity asked for by the first officer (the second confirms it, s 17), and a recovery
key asked for as the server's operator would (`portal channel set-recovery`; an officer confirms
it after comparing its fingerprint). Its private half is thrown away when made: in a demo nothing
can be recovered with it. The printed text says what to try, and that the roster, which does not
start by itself in a channel of two, is started by one officer once both have signed in."""

from __future__ import annotations

import datetime as dt
import json
import secrets
from dataclasses import dataclass
from pathlib import Path

import pyotp

import crypto
from crypto import bundle
from portal.core.context import open_context
from portal.core.installation_file import INSTALLATION_FILE, create_installation, write_private_json
from portal.core.words import N_, Sentence
from portal.intake import sealed
from portal.keys import (
    accounts,
    channels,
    credentials,
    provisioning,
    recovery,
    recovery_requests,
    second_factor,
)
from portal.operations import demo_cases, release_bundle
from portal.store import transaction

CREDENTIALS_FILE = "demo-credentials.json"
DEMO_CHANNEL = "Demo integrity team"
DEMO_EMAIL = "officer@demo.example"
DEMO_SECOND_EMAIL = "second.officer@demo.example"
DEMO_ADMIN_EMAIL = "admin@demo.example"
# (key in the credentials file, role, email, display name, printed label) of each demo account, in
# the order they are printed. Two officers, so what needs a second officer can be tried.
DEMO_ACCOUNTS = (
    ("officer", "officer", DEMO_EMAIL, "Demo Officer", N_("Officer")),
    ("second_officer", "officer", DEMO_SECOND_EMAIL, "Second Officer", N_("Second officer")),
    ("admin", "admin", DEMO_ADMIN_EMAIL, "Demo Administrator", N_("Administrator")),
)
RECEIPT_KEY = "discloser_receipt"
RELEASE_KEY = "release_case"  # the case whose identity release waits for the second officer
RECOVERY_KEY = "recovery_fingerprint"  # of the recovery key waiting for an officer
BUNDLE_KEY = "bundle_release_key"  # the demo's release key: a real one is kept off the server


@dataclass(frozen=True)
class DemoCode:
    role: str
    email: str
    code: str
    # How long the portal still accepts `code`: the rest of its 30 s step and the next step.
    seconds_left: int
    # A recovery code not used yet (works once, at any time), for a demo made with them.
    recovery: str | None = None


def _read_credentials(path: Path) -> dict:
    """{'officer': {...}, 'admin': {...}}; a file from before the administrator holds the officer
    only."""
    if not path.exists():
        return {}
    document = json.loads(path.read_text())
    if "email" in document:
        return {"officer": document}
    return document


def _make_account(ctx, key: str, role: str, email: str, name: str, stored: dict) -> None:
    passphrase = secrets.token_urlsafe(18)
    account, totp_secret = provisioning.add_account(
        ctx,
        email=email,
        name=name,
        role=role,
        passphrase=passphrase,
        channels=[DEMO_CHANNEL] if role == "officer" else [],
        must_change_credentials=True,  # its passphrase is printed: every demo account replaces it
    )
    # Recovery codes too, kept like the rest: a person who reads a six-digit code too late, or
    # signs in again within its 30 s, still gets in (each works once, at any time).
    recovery = second_factor.new_recovery_codes()
    with transaction(ctx.db):
        credentials.store_recovery_codes(ctx, account.id, recovery)
    stored[key] = {
        "email": email,
        "passphrase": passphrase,
        "totp": totp_secret,
        "recovery_codes": recovery,
    }


def ensure_demo(data_dir: Path, port: int = 8080) -> list[str]:
    """Create the demo once (and any account a demo made before it lacks, and the cases while the
    demo officer's set-up passphrase, which opens their key, is still kept); return the lines to
    print (every time)."""
    if not (data_dir / INSTALLATION_FILE).exists():
        create_installation(data_dir)
    ctx = open_context(data_dir)
    path = data_dir / CREDENTIALS_FILE
    stored = _read_credentials(path)
    try:
        for key, _, email, _, _ in DEMO_ACCOUNTS:
            if key in stored and not credentials.still_has_setup_credentials(ctx, email):
                # The account has chosen its own passphrase and second factor: the set-up ones
                # open nothing now, and are not kept.
                del stored[key]
                write_private_json(path, stored)
        if channels.find_channel(ctx, DEMO_CHANNEL) is None:
            channels.add_channel(
                ctx, DEMO_CHANNEL, "Demonstration channel: do not send real disclosures."
            )
        for key, role, email, name, _ in DEMO_ACCOUNTS:
            if key not in stored and accounts.get_account_by_email(ctx, email) is None:
                _make_account(ctx, key, role, email, name, stored)
                write_private_json(path, stored)
        officer = accounts.get_account_by_email(ctx, DEMO_EMAIL)
        if "officer" in stored and not demo_cases.has_cases(ctx, DEMO_CHANNEL):
            stored[RECEIPT_KEY], stored[RELEASE_KEY] = demo_cases.add_demo_cases(
                ctx, DEMO_CHANNEL, officer, stored["officer"]["passphrase"]
            )
            write_private_json(path, stored)
        if RECOVERY_KEY not in stored:
            stored[RECOVERY_KEY] = _ask_for_recovery_key(ctx)
            write_private_json(path, stored)
        if BUNDLE_KEY not in stored:
            stored[BUNDLE_KEY] = bundle.release_key_document(bundle.new_release_key()[0])
            write_private_json(path, stored)
        _sign_demo_bundle(ctx, data_dir, stored[BUNDLE_KEY])
    finally:
        ctx.db.conn.close()
    return _lines(data_dir, port, stored)


def _sign_demo_bundle(ctx, data_dir: Path, key_text: str) -> None:
    """Sign the sealing page's bundle into the data directory's seal-bundle/ with the roots the
    portal has now, at every start, so the demo's sealing page works (its roots may have changed
    since). Its release key is served from there only because `make run` says so
    (PORTAL_RELEASE_KEY_UNCHECKED): the signature then protects nothing. A real installation
    signs off the server and installs the key where root alone writes (docs/deploy.md, 7c)."""
    roots = {int(c): root for c, root in sealed.trusted_roots(ctx).items()}
    release_bundle.sign_into_data_dir(data_dir, key_text, roots, "demo")


def _ask_for_recovery_key(ctx) -> str:
    """As the operator would with `portal channel set-recovery`: a key for the demo channel,
    pending until an officer confirms it. Returns its fingerprint, or "" when the channel has a
    recovery key already."""
    channel = channels.find_channel(ctx, DEMO_CHANNEL)
    if recovery.channel_key(ctx, channel.id) is not None:
        return ""
    _, public_key = crypto.generate_keypair()  # the private half is not kept: a demo only
    recovery_requests.request(ctx, DEMO_CHANNEL, public_key.hex())
    return crypto.key_fingerprint(public_key)


def _to_try(base: str, stored: dict) -> list[Sentence]:
    """What needs two people, and where to try it, once each account has replaced its printed
    credentials."""
    lines = [
        Sentence(N_("  To try what needs two people, once each account has signed in and replaced"
                    " its printed credentials:")),
        Sentence(N_("    - The signed roster: a channel of two officers does not start it by"
                    " itself. One officer starts it on %(url)s after comparing the"
                    " fingerprints each officer's account page shows (start it after both have"
                    " signed in, so both are admitted)."), url=f"{base}/console/roster"),
        Sentence(N_("    - Sealing in the browser (%(url)s) needs that"
                    " roster: until it is started the page says it cannot seal to the channel yet."
                    " `make run` signs the page's bundle again at each start; restart it after"
                    " starting the roster."), url=f"{base}/static/seal/disclose.html"),
    ]
    if stored.get(RELEASE_KEY):
        lines.append(Sentence(N_(
            "    - A release of the discloser's identity (s 17): the Officer asked for one in"
            " %(case)s; the Second officer confirms or refuses it (\"What needs you\" in the"
            " inbox). Nobody confirms their own."), case=stored[RELEASE_KEY]))
    if stored.get(RECOVERY_KEY):
        lines.append(Sentence(N_(
            "    - A recovery key for %(channel)s waits for an officer to confirm it on"
            " %(url)s; its fingerprint, as custodians would read it to you:"
            " %(fingerprint)s."), channel=DEMO_CHANNEL, url=f"{base}/console/memberships",
            fingerprint=stored[RECOVERY_KEY]))
    lines.append(Sentence(N_(
        "    - Offboarding: the Administrator asks on %(url)s; an"
        " officer of the channel signs it on the roster page (\"What needs you\" links to it)."
        " Try it last: the offboarded officer can no longer sign in."),
        url=f"{base}/console/admin/offboarding"))
    return lines


def _lines(data_dir: Path, port: int, stored: dict) -> list[str]:
    """What `portal demo` prints: Sentences of the catalogue (portal.cli says them in the
    operator's language), and the credentials' lines as they are, for a person to copy."""
    base = f"http://127.0.0.1:{port}"
    lines: list[str] = [
        Sentence(N_("Demo installation in %(folder)s (demo only: do not send real disclosures)."),
                 folder=str(data_dir)),
        Sentence(N_("  Its roster roots are pinned in the data directory by the portal itself, so"
                    " the signed roster's protection against a database writer is not in force in"
                    " a demo (SECURITY.md, \"Signed roster\").")),
    ]
    for key, _, email, _, label in DEMO_ACCOUNTS:
        creds = stored.get(key)
        if creds is None:
            lines.append(Sentence(N_("  %(label)s %(email)s: has chosen their own passphrase and"
                                     " second factor."), label=Sentence(label), email=email))
            continue
        lines += [
            Sentence(N_("  %(label)s: %(email)s"), label=Sentence(label), email=creds["email"]),
            f"    passphrase:  {creds['passphrase']}",
            f"    totp secret: {creds['totp']}",
        ]
    lines += [
        Sentence(N_("  At first sign-in each demo account chooses a new passphrase and second"
                    " factor; the printed ones then stop working.")),
        Sentence(N_("  Invented cases in %(channel)s: new, acknowledged, being assessed (with a"
                    " conversation), referred (s 16), and closed with no further action (s 15)."),
                 channel=DEMO_CHANNEL),
    ]
    if stored.get(RECEIPT_KEY):
        lines.append(Sentence(N_("  The discloser's receipt of the case with a conversation:"
                                 " %(receipt)s (at %(url)s)"),
                              receipt=stored[RECEIPT_KEY], url=f"{base}/status"))
    lines += _to_try(base, stored)
    lines += [
        Sentence(N_("Six-digit codes: run `%(command)s demo code` (each code works once, then"
                    " wait for the next, or use the recovery code it also gives, once)."),
                 command=_command(data_dir)),
        Sentence(N_("Portal: %(portal)s   Console: %(console)s"), portal=f"{base}/",
                 console=f"{base}/console/login"),
    ]
    return lines


def _command(data_dir: Path) -> str:
    """How to run `portal` against this data directory from where `make run` was started."""
    return f".venv/bin/portal --data {data_dir}"


def current_codes(data_dir: Path, now: dt.datetime | None = None) -> list[DemoCode]:
    """Each demo account's current TOTP code (RFC 6238, 30 s steps), for accounts whose set-up
    credentials are still kept, and a recovery code it has not used. The portal accepts a code in
    its own step and the next, and refuses a code used once already (replay guard), so a second
    sign-in within the same 30 s needs the next code or the recovery code."""
    now = now or dt.datetime.now(dt.timezone.utc)
    stored = _read_credentials(data_dir / CREDENTIALS_FILE)
    if not stored:
        return []
    ctx = open_context(data_dir)
    try:
        codes = []
        for key, role, email, _, _ in DEMO_ACCOUNTS:
            if key in stored:
                totp = pyotp.TOTP(stored[key]["totp"])
                left = totp.interval - int(now.timestamp()) % totp.interval + totp.interval
                account = accounts.get_account_by_email(ctx, email)
                kept = stored[key].get("recovery_codes", []) if account else []
                unused = credentials.unused_recovery_codes(ctx, account.id, kept) if kept else []
                codes.append(
                    DemoCode(role, email, totp.at(now), left, unused[0] if unused else None)
                )
    finally:
        ctx.db.conn.close()
    return codes

"""The demo installation `make run` serves: one channel, a demo officer and a demo administrator,
their set-up credentials kept in the data directory (owner only) so every run can print them
again."""

from __future__ import annotations

import datetime as dt
import json
import secrets
from dataclasses import dataclass
from pathlib import Path

import pyotp

from portal.core.config import INSTALLATION_FILE, create_installation, write_private_json
from portal.core.context import open_context
from portal.keys import accounts, channels, credentials, provisioning, second_factor
from portal.store import transaction

CREDENTIALS_FILE = "demo-credentials.json"
DEMO_CHANNEL = "Demo integrity team"
DEMO_EMAIL = "officer@demo.example"
DEMO_ADMIN_EMAIL = "admin@demo.example"
# (role, email, display name) of each demo account, in the order they are printed.
DEMO_ACCOUNTS = (
    ("officer", DEMO_EMAIL, "Demo Officer"),
    ("admin", DEMO_ADMIN_EMAIL, "Demo Administrator"),
)


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


def ensure_demo(data_dir: Path, port: int = 8080) -> list[str]:
    """Create the demo once (and its administrator, for demos made before there was one); return the
    lines to print (every time)."""
    if not (data_dir / INSTALLATION_FILE).exists():
        create_installation(data_dir)
    ctx = open_context(data_dir)
    path = data_dir / CREDENTIALS_FILE
    stored = _read_credentials(path)
    try:
        if "officer" in stored and not credentials.still_has_setup_credentials(ctx, DEMO_EMAIL):
            # The demo officer has chosen their own passphrase and second factor: the set-up ones
            # open nothing now, and are not kept. (Administrators are not asked to change theirs.)
            del stored["officer"]
            write_private_json(path, stored)
        if channels.find_channel(ctx, DEMO_CHANNEL) is None:
            channels.add_channel(
                ctx, DEMO_CHANNEL, "Demonstration channel: do not send real disclosures."
            )
        for role, email, name in DEMO_ACCOUNTS:
            if role in stored or accounts.get_account_by_email(ctx, email) is not None:
                continue
            passphrase = secrets.token_urlsafe(18)
            account, totp_secret = provisioning.add_account(
                ctx,
                email=email,
                name=name,
                role=role,
                passphrase=passphrase,
                channels=[DEMO_CHANNEL] if role == "officer" else [],
            )
            # Recovery codes too, kept like the rest: a person who reads a six-digit code too late,
            # or signs in again within its 30 s, still gets in (each works once, at any time).
            recovery = second_factor.new_recovery_codes()
            with transaction(ctx.db):
                credentials.store_recovery_codes(ctx, account.id, recovery)
            stored[role] = {
                "email": email,
                "passphrase": passphrase,
                "totp": totp_secret,
                "recovery_codes": recovery,
            }
            write_private_json(path, stored)
    finally:
        ctx.db.conn.close()
    base = f"http://127.0.0.1:{port}"
    lines = [
        "Demo installation in " + str(data_dir) + " (demo only: do not send real disclosures).",
        "  Its roster roots are pinned in the data directory by the portal itself, so the signed"
        " roster's protection against a database writer is not in force in a demo"
        " (SECURITY.md, \"Signed roster\").",
    ]
    for role, email, _ in DEMO_ACCOUNTS:
        creds = stored.get(role)
        label = "Officer" if role == "officer" else "Administrator"
        if creds is None:
            lines.append(f"  {label} {email}: has chosen their own passphrase and second factor.")
            continue
        lines += [
            f"  {label}: {creds['email']}",
            f"    passphrase:  {creds['passphrase']}",
            f"    totp secret: {creds['totp']}",
        ]
        if role == "officer":
            lines.append(
                "    At first sign-in the demo officer chooses a new passphrase and second factor; "
                "these then stop working."
            )
    lines += [
        (
            f"Six-digit codes: run `{_command(data_dir)} demo code` (each code works once, then"
            " wait for the next, or use the recovery code it also gives, once)."
        ),
        f"Portal: {base}/   Console: {base}/console/login",
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
        for role, email, _ in DEMO_ACCOUNTS:
            if role in stored:
                totp = pyotp.TOTP(stored[role]["totp"])
                left = totp.interval - int(now.timestamp()) % totp.interval + totp.interval
                account = accounts.get_account_by_email(ctx, email)
                kept = stored[role].get("recovery_codes", []) if account else []
                unused = credentials.unused_recovery_codes(ctx, account.id, kept) if kept else []
                codes.append(
                    DemoCode(role, email, totp.at(now), left, unused[0] if unused else None)
                )
    finally:
        ctx.db.conn.close()
    return codes

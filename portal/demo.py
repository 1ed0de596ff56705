"""The demo installation `make run` serves: one channel, one officer, credentials kept in the data directory."""
from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

import pyotp

from portal import accounts
from portal.config import INSTALLATION_FILE, create_installation
from portal.context import open_context

CREDENTIALS_FILE = "demo-credentials.json"
DEMO_CHANNEL = "Demo integrity team"
DEMO_EMAIL = "officer@demo.example"


def ensure_demo(data_dir: Path) -> list[str]:
    """Create the demo once; return the lines to print (every time)."""
    if not (data_dir / INSTALLATION_FILE).exists():
        create_installation(data_dir)
    ctx = open_context(data_dir)
    path = data_dir / CREDENTIALS_FILE
    if not path.exists() and accounts.get_account_by_email(ctx, DEMO_EMAIL) is None:
        if accounts.find_channel(ctx, DEMO_CHANNEL) is None:
            accounts.add_channel(ctx, DEMO_CHANNEL, "Demonstration channel: do not send real disclosures.")
        passphrase = secrets.token_urlsafe(18)
        _, totp_secret = accounts.add_account(ctx, email=DEMO_EMAIL, name="Demo Officer", role="officer",
                                              passphrase=passphrase, channels=[DEMO_CHANNEL])
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump({"email": DEMO_EMAIL, "passphrase": passphrase, "totp": totp_secret}, fh)
    if path.exists() and not accounts.still_has_setup_credentials(ctx, DEMO_EMAIL):
        # The demo officer has chosen their own passphrase and second factor: the set-up ones open
        # nothing now, and are not kept.
        path.unlink()
    ctx.db.conn.close()
    if not path.exists():
        return [
            "Demo installation in " + str(data_dir) + " (demo only: do not send real disclosures).",
            f"  officer email: {DEMO_EMAIL}: the demo officer has chosen their own passphrase and second factor.",
            "Portal: http://127.0.0.1:8080/   Console: http://127.0.0.1:8080/console/login",
        ]
    creds = json.loads(path.read_text())
    return [
        "Demo installation in " + str(data_dir) + " (demo only: do not send real disclosures).",
        f"  officer email:      {creds['email']}",
        f"  officer passphrase: {creds['passphrase']}",
        f"  totp secret:        {creds['totp']}  (current code: {pyotp.TOTP(creds['totp']).now()})",
        "  At first sign-in the demo officer chooses a new passphrase and second factor; these then stop working.",
        "Portal: http://127.0.0.1:8080/   Console: http://127.0.0.1:8080/console/login",
    ]

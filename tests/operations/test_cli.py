"""The `portal` command run as a process, as an operator would."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pyotp

from tests.support import database


def portal(data_dir, *args, input=None):
    return subprocess.run([sys.executable, "-m", "portal", "--data", str(data_dir), *args], input=input,
                          capture_output=True, text=True, timeout=120)


def test_init_creates_a_private_data_directory_and_refuses_to_overwrite(tmp_path):
    data = tmp_path / "inst"
    first = portal(data, "init", "--insecure-fast-kdf")
    assert first.returncode == 0, first.stderr
    assert oct(os.stat(data).st_mode & 0o777) == "0o700"
    assert oct(os.stat(data / "installation.json").st_mode & 0o777) == "0o600"
    if database.on_postgres():  # the tables are in the database PORTAL_DATABASE_URL names
        assert not (data / "portal.db").exists() and database.columns(database.connect(data), "cases")
    else:
        assert (data / "portal.db").exists()
    before = (data / "installation.json").read_text()
    second = portal(data, "init")
    assert second.returncode != 0 and "refusing to overwrite" in second.stderr
    assert (data / "installation.json").read_text() == before


def test_shipped_init_uses_the_shipped_key_derivation_defaults(tmp_path):
    import crypto
    data = tmp_path / "inst"
    assert portal(data, "init").returncode == 0
    doc = json.loads((data / "installation.json").read_text())
    assert doc["insecure_fast_kdf"] is False
    # Receipt version 2 only: a new installation has no version-1 receipts ("receipt_kdf").
    assert doc["receipt_kdf_v2"] == {"opslimit": crypto.RECEIPT_V2_PARAMS.opslimit,
                                     "memlimit": crypto.RECEIPT_V2_PARAMS.memlimit} == {"opslimit": 1,
                                                                                       "memlimit": 32 * 2**20}
    assert "receipt_kdf" not in doc
    assert doc["passphrase_kdf"] == {"opslimit": crypto.PASSPHRASE_PARAMS.opslimit,
                                     "memlimit": crypto.PASSPHRASE_PARAMS.memlimit}


def test_channel_officer_and_admin_add(tmp_path):
    data = tmp_path / "inst"
    portal(data, "init", "--insecure-fast-kdf")
    assert portal(data, "channel", "add", "Audit", "--description", "Internal audit").returncode == 0
    dup = portal(data, "channel", "add", "Audit")
    assert dup.returncode != 0 and "already exists" in dup.stderr
    out = portal(data, "officer", "add", "--email", "o@x.govt.nz", "--name", "O Fficer", "--channel", "Audit",
                 "--passphrase-stdin", input="a long enough passphrase\n")
    assert out.returncode == 0, out.stderr
    secret = out.stdout.strip().splitlines()[-1]
    assert re.fullmatch(r"totp: [A-Z2-7]{32}", secret)
    assert len(pyotp.TOTP(secret.split()[1]).now()) == 6
    missing = portal(data, "officer", "add", "--email", "p@x.govt.nz", "--name", "P", "--channel", "Nope",
                     "--passphrase-stdin", input="a long enough passphrase\n")
    assert missing.returncode != 0 and "No such channel: Nope" in missing.stderr
    short = portal(data, "admin", "add", "--email", "a@x.govt.nz", "--name", "A", "--passphrase-stdin", input="short\n")
    assert short.returncode != 0 and "at least 12" in short.stderr
    admin = portal(data, "admin", "add", "--email", "a@x.govt.nz", "--name", "A", "--passphrase-stdin",
                   input="a long enough passphrase\n")
    assert admin.returncode == 0 and admin.stdout.strip().splitlines()[-1].startswith("totp: ")


def test_commands_on_an_uninitialised_directory_say_so(tmp_path):
    result = portal(tmp_path / "none", "channel", "add", "X")
    assert result.returncode != 0 and "portal init" in result.stderr


def test_demo_prints_the_same_credentials_every_time_and_keeps_them_private(tmp_path):
    from tests.support import free_port

    data, port = tmp_path / "demo", str(free_port())
    # The test's key-derivation settings, chosen explicitly: `demo` keeps an installation it finds.
    portal(data, "init", "--insecure-fast-kdf")
    first, second = portal(data, "demo", "--port", port), portal(data, "demo", "--port", port)
    assert first.returncode == 0, first.stderr
    for role, email in (("Officer", "officer@demo.example"), ("Second officer", "second.officer@demo.example"),
                        ("Administrator", "admin@demo.example")):
        passphrase = re.search(rf"{role}: {email}\n\s+passphrase:\s+(\S+)", first.stdout).group(1)
        assert f"passphrase:  {passphrase}" in second.stdout
    assert f"http://127.0.0.1:{port}/console/login" in first.stdout
    assert oct(os.stat(data / "demo-credentials.json").st_mode & 0o777) == "0o600"


def test_demo_code_prints_each_accounts_current_code(tmp_path):
    import pyotp

    data = tmp_path / "demo"
    portal(data, "init", "--insecure-fast-kdf")
    shown = portal(data, "demo", "--port", "0").stdout
    secrets_by_email = dict(re.findall(r": (\S+@demo.example)\n.*\n\s+totp secret: (\S+)", shown))
    assert len(secrets_by_email) == 3, shown
    codes = portal(data, "demo", "code")
    assert codes.returncode == 0, codes.stderr
    printed = dict(re.findall(r"^\w+ (\S+): (\d{6})", codes.stdout, re.M))
    assert printed.keys() == secrets_by_email.keys()
    for email, code in printed.items():
        assert pyotp.TOTP(secrets_by_email[email]).verify(code, valid_window=1)
    # Not a demo: a plain message, no traceback.
    portal(tmp_path / "plain", "init", "--insecure-fast-kdf")
    none = portal(tmp_path / "plain", "demo", "code")
    assert none.returncode == 1 and "No demo set-up credentials" in none.stderr and "Traceback" not in none.stderr

"""Shared fixtures: a fresh installation per test, set up through the `portal` command like an operator would."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pyotp
import pytest
from click.testing import CliRunner

from portal.cli import main as portal_cli

MARKER = "MARKER-7f3a9c-do-not-store-in-clear"


@dataclass
class Officer:
    email: str
    name: str
    passphrase: str
    totp_secret: str

    def code(self) -> str:
        return pyotp.TOTP(self.totp_secret).now()


def run_cli(data_dir: Path, *args: str, input: str | None = None):
    result = CliRunner().invoke(portal_cli, ["--data", str(data_dir), *args], input=input)
    assert result.exit_code == 0, result.output
    return result


def add_account(data_dir: Path, role: str, email: str, name: str, channels=(), passphrase="a long test passphrase"):
    args = [role, "add", "--email", email, "--name", name, "--passphrase-stdin"]
    for ch in channels:
        args += ["--channel", ch]
    out = run_cli(data_dir, *args, input=passphrase + "\n").output
    secret = out.strip().splitlines()[-1].removeprefix("totp: ")
    return Officer(email, name, passphrase, secret)


@pytest.fixture
def no_argon2(monkeypatch):
    """Any Argon2id call fails the test: proves a rejection happens before the expensive work."""
    import nacl.bindings
    import nacl.pwhash.argon2id

    def boom(*args, **kwargs):
        raise AssertionError("Argon2id was called")

    monkeypatch.setattr(nacl.pwhash.argon2id, "kdf", boom)
    monkeypatch.setattr(nacl.bindings, "crypto_pwhash_alg", boom)


@dataclass
class Installation:
    data_dir: Path
    officer: Officer
    other_officer: Officer
    channel: str = "Audit and Risk"
    other_channel: str = "Procurement"


@pytest.fixture
def installation(tmp_path) -> Installation:
    data_dir = tmp_path / "data"
    # Cheap key derivation, chosen explicitly for tests; the shipped defaults are tested elsewhere.
    run_cli(data_dir, "init", "--insecure-fast-kdf")
    run_cli(data_dir, "channel", "add", "Audit and Risk", "--description", "Internal audit")
    run_cli(data_dir, "channel", "add", "Procurement")
    officer = add_account(data_dir, "officer", "ana@agency.govt.nz", "Ana Officer", ["Audit and Risk"])
    other = add_account(data_dir, "officer", "ben@agency.govt.nz", "Ben Other", ["Procurement"])
    return Installation(data_dir, officer, other)


@pytest.fixture
def app(installation):
    from portal.app import create_app
    app = create_app(installation.data_dir)
    app.config["TESTING"] = True
    return app


@pytest.fixture
def client(app):
    return app.test_client()


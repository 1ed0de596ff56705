"""An installation made before the house plan (commit 9156320, the flat `portal/` layout) opens and
upgrades under today's code: same schema, intact audit chain, and its officer reads its disclosure.

The data directory in tests/store/data/made-before-house-plan/ was made by that commit's code with
tests/store/data/make_before_house_plan.py; its secrets are fake."""
from __future__ import annotations

import pytest

import shutil
import sqlite3
from pathlib import Path

from click.testing import CliRunner

from portal.cli import main as portal_cli
from portal.store.migrations import MIGRATIONS
from tests.conftest import Officer
from tests.support.console import case_links, sign_in

pytestmark = pytest.mark.sqlite_only(reason="an SQLite data directory made by an old version (PostgreSQL"
                                 " installations come later, by portal migrate-to: test_migrate_to.py)")

FIXTURE = Path(__file__).parent / "data" / "made-before-house-plan"
SCHEMA_VERSION = 11  # what commit 9156320 left in PRAGMA user_version
LATEST = max(number for number, _ in MIGRATIONS)  # what opening it upgrades it to (issue 21 adds 12 to 15)
DETAILS = "Made before the house plan: the 2024 payroll figures were altered after sign-off."
OFFICER = Officer("ana@agency.govt.nz", "Ana Officer", "a long test passphrase chosen by me",
                  "X3Y73UVV43X544J3JAYIEPSF2OVW7HTP")


def _copy(tmp_path: Path) -> Path:
    """A private copy of the fixture, owner-only as `portal init` leaves a data directory."""
    data_dir = tmp_path / "data"
    shutil.copytree(FIXTURE, data_dir)
    for path in [data_dir, *data_dir.rglob("*")]:
        path.chmod(0o700 if path.is_dir() else 0o600)
    return data_dir


def _schema_version(data_dir: Path) -> int:
    conn = sqlite3.connect(data_dir / "portal.db")
    try:
        return conn.execute("PRAGMA user_version").fetchone()[0]
    finally:
        conn.close()


def test_the_fixture_was_made_at_the_schema_it_claims():
    assert not (FIXTURE / "portal.db-wal").exists()
    assert _schema_version(FIXTURE) == SCHEMA_VERSION <= LATEST


def test_an_installation_from_before_the_house_plan_opens_verifies_and_reads(tmp_path):
    from portal.web.app import create_app

    data_dir = _copy(tmp_path)
    verified = CliRunner().invoke(portal_cli, ["--data", str(data_dir), "audit", "verify"])
    assert verified.exit_code == 0, verified.output
    assert "intact" in verified.output.lower()
    assert _schema_version(data_dir) == LATEST  # upgraded on opening

    app = create_app(data_dir)
    app.config["TESTING"] = True
    officer = app.test_client()
    response = sign_in(officer, OFFICER)
    assert response.status_code == 303 and response.headers["Location"].endswith("/console/")
    [case_url] = case_links(officer.get("/console/").text)
    page = officer.get(case_url)
    assert page.status_code == 200
    assert DETAILS in page.text
    # Opened by today's code, it carries the later migrations; the officer, made before signing
    # keys (migration 12), got one at this sign-in.
    assert _schema_version(data_dir) == LATEST
    conn = sqlite3.connect(data_dir / "portal.db")
    try:
        [(public, wrapped)] = conn.execute(
            "SELECT signing_public_key, wrapped_signing_key FROM accounts WHERE email = ?",
            [OFFICER.email]).fetchall()
    finally:
        conn.close()
    assert public is not None and wrapped is not None

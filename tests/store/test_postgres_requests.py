"""The portal's own requests on PostgreSQL (issue 30, second slice): with PORTAL_DATABASE_URL set
to a fresh database on the test server (tests/store/postgres_server.py), `portal init` and the
conftest's installation (channels, officers) make an installation whose database is PostgreSQL;
through HTTP a discloser makes a disclosure with a file, an officer signs in, reads it, downloads
the file and replies, and the discloser reads the reply by receipt; `portal audit verify` is
intact. The case is in PostgreSQL, and the data directory has no SQLite database at all.
`portal backup`, which copies SQLite's file, refuses rather than copy an empty one.
"""

from __future__ import annotations

import psycopg
import pytest
from click.testing import CliRunner

from portal.cli import main as portal_cli
from tests.conftest import MARKER
from tests.support import csrf_token
from tests.support.console import ATTACHMENT, disclose, open_only_case


@pytest.fixture(autouse=True)
def database_url(server, monkeypatch) -> str:
    """Set before the installation is made (autouse fixtures come first): every connection the
    commands and the app open is PostgreSQL's."""
    url = server.database("requests")
    monkeypatch.setenv("PORTAL_DATABASE_URL", url)
    return url


def test_a_disclosure_is_made_read_and_answered_with_its_rows_in_postgresql(
    app, installation, database_url
):
    discloser = app.test_client()
    receipt = disclose(discloser)

    officer = app.test_client()
    case_url, page, download_url = open_only_case(officer, installation.officer)
    assert page.status_code == 200 and MARKER in page.text
    assert officer.get(download_url).data == ATTACHMENT
    reply = "Thank you. We have started an assessment."
    response = officer.post(
        case_url + "/reply", data={"csrf_token": csrf_token(page.text), "message": reply}
    )
    assert response.status_code == 303

    # A search by a word of the details, which keeps the officer's key copy of the case key
    # (migration 39); replacing the sealed key drops it (the trigger's PL/pgSQL twin).
    searched = officer.post(
        "/console/search", data={"csrf_token": csrf_token(page.text), "words": "7f3a9c"}
    )
    assert searched.status_code == 200 and 'data-ref="' in searched.text
    with psycopg.connect(database_url) as conn:
        copied = "SELECT count(key_copy) FROM case_keys WHERE recipient LIKE 'account:%'"
        assert conn.execute(copied).fetchone()[0] == 1
        conn.execute(
            "UPDATE case_keys SET sealed_key = sealed_key || '\\x00'::bytea"
            " WHERE key_copy IS NOT NULL"
        )
        assert conn.execute(copied).fetchone()[0] == 0

    token = csrf_token(discloser.get("/status").text)
    assert discloser.post("/status", data={"csrf_token": token, "receipt": receipt}).status_code == 303
    assert reply in discloser.get("/status").text

    verified = CliRunner().invoke(
        portal_cli, ["--data", str(installation.data_dir), "audit", "verify"]
    )
    assert verified.exit_code == 0, verified.output

    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT count(*) FROM cases").fetchone()[0] == 1
        assert conn.execute("SELECT count(*) FROM attachments").fetchone()[0] == 1
        authors = [row[0] for row in conn.execute("SELECT author FROM messages ORDER BY seq")]
        assert authors == ["officer"]
        assert conn.execute("SELECT count(*) FROM accounts").fetchone()[0] == 2
    # Nothing of the installation is in an SQLite file: there is none.
    assert not list(installation.data_dir.rglob("*.db*"))


def test_portal_backup_refuses_a_postgresql_installation_rather_than_copy_no_database(
    installation, tmp_path
):
    refused = CliRunner().invoke(
        portal_cli, ["--data", str(installation.data_dir), "backup", str(tmp_path / "copy")]
    )
    assert refused.exit_code == 1 and "PostgreSQL" in refused.output
    assert not (tmp_path / "copy").exists() or not any((tmp_path / "copy").iterdir())
    assert not list(installation.data_dir.rglob("*.db*"))

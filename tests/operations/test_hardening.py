"""Small hardening: security.txt from the settings, no Server header, a data directory readable by its
owner only (checked at start-up), settings changes audited."""
from __future__ import annotations

import os
import re
import stat
import sys

import pytest

from portal.core.installation_file import loose_permissions
from tests.conftest import run_cli
from tests.support import HttpClient, csrf_token, disclosure_fields, raw_request, receipt_from, start_server
from tests.support.audit import events


def test_security_txt_comes_from_the_settings_and_the_change_is_audited(installation):
    from portal.web.app import create_app
    assert create_app(installation.data_dir).test_client().get("/.well-known/security.txt").status_code == 404
    run_cli(installation.data_dir, "setting", "set", "security_contact", "security@agency.govt.nz")
    assert ("settings_change", None, None, None, '{"setting":"security_contact"}') in events(installation.data_dir)
    response = create_app(installation.data_dir).test_client().get("/.well-known/security.txt")
    assert response.status_code == 200 and response.content_type.startswith("text/plain")
    lines = response.text.splitlines()
    assert "Contact: mailto:security@agency.govt.nz" in lines
    [expires] = [line for line in lines if line.startswith("Expires: ")]
    assert re.fullmatch(r"Expires: \d{4}-\d\d-\d\dT00:00:00Z", expires)
    mode = stat.S_IMODE((installation.data_dir / "installation.json").stat().st_mode)
    assert mode == 0o600


def test_unknown_or_bad_settings_are_refused(installation):
    from click.testing import CliRunner
    from portal.cli import main
    for args in (["secret_key", "00"], ["officer_session_seconds", "soon"], ["officer_session_seconds", "5"],
                 ["officer_session_seconds", "99999999999999999999999"], ["discloser_session_seconds", "٣٦٠٠"],
                 ["smtp_port", "99999"]):
        result = CliRunner().invoke(main, ["--data", str(installation.data_dir), "setting", "set", *args])
        assert result.exit_code == 2 and "Traceback" not in result.output, result.output
    # Values the code could not compute with are refused where they are typed, not when they are used.
    for args in (["channel", "retention", "Audit and Risk", "--years", "99999"],
                 ["channel", "retention", "Audit and Risk", "--months", "999999999999999999"],
                 ["serve", "--port", "99999"]):
        result = CliRunner().invoke(main, ["--data", str(installation.data_dir), *args])
        assert result.exit_code == 2 and isinstance(result.exception, (SystemExit, type(None))), result.output
    assert "secret_key" in (installation.data_dir / "installation.json").read_text()


def test_loose_permissions_are_listed(tmp_path):
    (tmp_path / "inner").mkdir()
    os.chmod(tmp_path / "inner", 0o755)
    (tmp_path / "inner" / "f").write_text("x")
    os.chmod(tmp_path / "inner" / "f", 0o644)
    os.chmod(tmp_path, 0o700)
    assert loose_permissions(tmp_path) == [f"{tmp_path / 'inner'} (mode 0755)", f"{tmp_path / 'inner' / 'f'} (mode 0644)"]


@pytest.mark.slow
def test_served_portal_sends_no_server_header_keeps_its_files_private_and_warns_about_loose_ones(installation):
    data_dir = installation.data_dir
    run_cli(data_dir, "setting", "set", "security_contact", "https://agency.govt.nz/security")
    stray = data_dir / "copied-by-hand.json"
    stray.write_text("{}")
    os.chmod(stray, 0o644)
    # A permissive umask, as on many servers: the portal must still keep what it creates to its owner.
    server = start_server(data_dir, argv_prefix=["sh", "-c", 'umask 022; exec "$0" -m portal "$@"', sys.executable])
    try:
        client = HttpClient("127.0.0.1", server.port)
        for path in ("/", "/.well-known/security.txt", "/no-such-page", "/console/login"):
            response = client.get(path)
            assert response.headers.get("Server") is None, path
        assert "Contact: https://agency.govt.nz/security" in client.get("/.well-known/security.txt").text
        malformed = raw_request("127.0.0.1", server.port, b"GET / HTTP/7.3\r\nHost: x\r\n\r\n")
        assert b"gunicorn" not in malformed.lower()
        # Real work: a disclosure with a file, and an officer signing in and reading it.
        token = csrf_token(client.get("/disclose").text)
        response = client.post_multipart("/disclose", disclosure_fields(token, "details"),
                                         [("attachments", "a.txt", b"file")])
        assert response.status == 200 and receipt_from(response.text)
        officer = HttpClient("127.0.0.1", server.port)
        token = csrf_token(officer.get("/console/login").text)
        assert officer.post_form("/console/login", {"csrf_token": token, "email": installation.officer.email,
                                                    "passphrase": installation.officer.passphrase,
                                                    "totp": installation.officer.code()}).status == 303
    finally:
        output = server.stop()
    assert "WARNING" in output and f"{stray} (mode 0644)" in output
    os.chmod(stray, 0o600)
    assert loose_permissions(data_dir) == []
    assert (data_dir / "audit-head.json").exists()

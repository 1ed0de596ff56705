"""The console session against `portal serve` run as its own process: it lives in the database, so every
gunicorn worker finds it and it survives a restart of the server."""
from __future__ import annotations

import re

import pytest

from tests.conftest import MARKER
from tests.support import HttpClient, csrf_token, disclosure_fields, start_server

pytestmark = pytest.mark.slow


def test_officer_session_works_in_every_worker_and_survives_a_restart(installation):
    server = start_server(installation.data_dir, workers=2)
    try:
        discloser = HttpClient("127.0.0.1", server.port)
        token = csrf_token(discloser.get("/disclose").text)
        assert discloser.post_multipart("/disclose", disclosure_fields(token, MARKER)).status == 200

        officer = HttpClient("127.0.0.1", server.port)
        token = csrf_token(officer.get("/console/login").text)
        person = installation.officer
        response = officer.post_form("/console/login", {"csrf_token": token, "email": person.email,
                                                        "passphrase": person.passphrase, "totp": person.code()})
        assert response.status == 303
        [case_url] = re.findall(r'href="(/console/cases/[^"/]+)"', officer.get("/console/").text)
        # Each request is a new connection, handed to whichever worker accepts it.
        for _ in range(8):
            assert MARKER in officer.get(case_url).text
    finally:
        server.stop()

    restarted = start_server(installation.data_dir, workers=2)
    try:
        officer.port = restarted.port
        for _ in range(4):
            page = officer.get(case_url)
            assert page.status == 200 and MARKER in page.text
    finally:
        restarted.stop()

"""Signing out and coming back while the storage cannot be written (issue 24, review N1/N2): another
connection holds the database's write lock past a short busy timeout, through the test client.
Sign-out still clears the cookie and says so plainly; an ended session still gets the receipt form
or the sign-in page, not a 503."""
from __future__ import annotations

import contextlib
import time

import pytest

from tests.support import csrf_token
from tests.support.console import disclose, sign_in
from tests.web.test_fault_pages import app, write_lock_held  # noqa: F401 (the app: a short busy timeout)
from tests.support import database


@pytest.fixture
def clock(monkeypatch):
    """The sessions' clock, moved by hand."""
    now = [int(time.time())]
    monkeypatch.setattr("portal.keys.sessions.epoch", lambda: now[0])
    return now


def session_rows(data_dir, kind: str) -> int:
    with contextlib.closing(database.connect(data_dir)) as conn:
        return conn.execute("SELECT COUNT(*) FROM sessions WHERE kind = ?", [kind]).fetchone()[0]


def cleared(response, name_part: str) -> bool:
    return any(name_part in header and ("Max-Age=0" in header or "1970" in header)
               for header in response.headers.getlist("Set-Cookie"))


def open_status(client) -> None:
    receipt = disclose(client, details="a short disclosure")
    token = csrf_token(client.get("/status").text)
    assert client.post("/status", data={"csrf_token": token, "receipt": receipt}).status_code == 303
    assert 'id="case-status"' in client.get("/status").text


def test_a_discloser_who_signs_out_while_the_database_is_locked_is_signed_out_and_told(app, installation):
    client = app.test_client()
    open_status(client)
    with write_lock_held(installation.data_dir):
        answer = client.post("/status/logout", data={})
        assert answer.status_code == 303 and cleared(answer, "status")
        page = client.get(answer.headers["Location"])
        assert page.status_code == 200
        assert "You are signed out on this computer" in page.text and "10 minutes" in page.text
        assert 'id="case-status"' not in client.get("/status").text
    assert session_rows(installation.data_dir, "discloser") == 1  # the row stayed: the fault was real
    assert 'id="case-status"' not in client.get("/status").text


def test_an_officer_who_signs_out_while_the_database_is_locked_is_signed_out_and_told(app, installation):
    client = app.test_client()
    assert sign_in(client, installation.officer).status_code == 303
    with write_lock_held(installation.data_dir):
        answer = client.post("/console/logout")
        assert answer.status_code == 303 and cleared(answer, "console")
        page = client.get(answer.headers["Location"])
        assert page.status_code == 200 and "You are signed out on this computer" in page.text
        assert client.get("/console/").status_code == 303  # to the sign-in page
    assert session_rows(installation.data_dir, "officer") == 1
    assert client.get("/console/").status_code == 303


def test_an_ended_session_gets_the_receipt_form_and_the_sign_in_page_while_the_database_is_locked(
        app, installation, clock):
    discloser, officer = app.test_client(), app.test_client()
    open_status(discloser)
    assert sign_in(officer, installation.officer).status_code == 303
    clock[0] += 16 * 60  # past both idle limits
    with write_lock_held(installation.data_dir):
        status = discloser.get("/status")
        assert status.status_code == 200 and 'name="receipt"' in status.text
        console = officer.get("/console/")
        assert console.status_code == 303 and "/console/login" in console.headers["Location"]
        assert officer.get(console.headers["Location"]).status_code == 200


def test_under_a_held_lock_a_signed_in_page_and_a_sign_out_wait_only_briefly_for_their_housekeeping(
        installation, monkeypatch):
    # Third review of issue 24, M1: each housekeeping write (extending or ending a session) waited
    # the whole busy timeout for the lock, twice a page and three times a sign-out. Each now waits
    # portal.store.waits.HOUSEKEEPING_WAIT_SECONDS: the timeout in force at every such write is read.
    from portal.keys import officer_sessions, sessions
    from portal.store.waits import HOUSEKEEPING_WAIT_SECONDS

    waits: list[tuple[str, int]] = []

    def watched(name, work, db_of):
        def run(*args):
            waits.append((name, database.lock_wait_ms(db_of(*args))))
            return work(*args)
        monkeypatch.setattr(work.__module__ + "." + work.__name__, run)

    watched("purge", sessions.purge_expired, lambda db: db)
    watched("extend", sessions._extend, lambda db, *_: db)
    watched("sign-out", officer_sessions._end_and_record, lambda ctx, *_: ctx.db)
    from portal.core.config import load_settings
    from portal.web.app import create_app

    # A busy timeout longer than the housekeeping's wait, as the shipped 10 s is.
    app = create_app(settings=load_settings(installation.data_dir, busy_timeout_seconds=2.0))
    app.config["TESTING"] = True
    client = app.test_client()
    assert sign_in(client, installation.officer).status_code == 303
    waits.clear()
    with write_lock_held(installation.data_dir):
        assert client.get("/console/").status_code in (200, 503)
        answer = client.post("/console/logout", data={})
        assert answer.status_code == 303 and cleared(answer, "console")
    kinds = {name for name, _ in waits}
    assert {"purge", "extend", "sign-out"} <= kinds, waits
    assert all(ms == int(HOUSEKEEPING_WAIT_SECONDS * 1000) for _, ms in waits), waits

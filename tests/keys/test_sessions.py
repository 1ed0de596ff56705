"""Sessions that end: absolute lifetime, one session per browser, sign out everywhere, sign-out with a
stale token, and the passphrase asked again before weighty actions. All over HTTP."""
from __future__ import annotations

import re
import time

import pytest

from tests.conftest import add_account
from tests.support.audit import events, account_id
from tests.support.console import disclose, sign_in
from tests.support import csrf_token
from tests.support import database


@pytest.fixture
def clock(monkeypatch):
    """The sessions' clock, moved by hand."""
    now = [int(time.time())]
    monkeypatch.setattr("portal.keys.sessions.epoch", lambda: now[0])
    return now


def signed_in_page(client) -> bool:
    response = client.get("/console/")
    return response.status_code == 200


def session_rows(data_dir) -> int:
    with database.connect(data_dir) as conn:
        return conn.execute("SELECT COUNT(*) FROM sessions WHERE kind = 'officer'").fetchone()[0]


def test_an_officer_session_ends_8_hours_after_sign_in_however_busy(app, installation, clock):
    client = app.test_client()
    assert sign_in(client, installation.officer).status_code == 303
    start = clock[0]
    while clock[0] + 14 * 60 < start + 8 * 3600:
        clock[0] += 14 * 60  # always inside the 15-minute idle limit
        assert signed_in_page(client), f"ended early, after {(clock[0] - start) / 3600:.2f} h"
    clock[0] = start + 8 * 3600 + 1
    response = client.get("/console/")
    assert response.status_code == 303 and "/console/login" in response.headers["Location"]
    assert session_rows(installation.data_dir) == 0  # the server half is gone, not just refused


def test_a_status_session_ends_an_hour_after_opening(app, installation, clock):
    client = app.test_client()
    receipt = disclose(client, details="a short disclosure")
    token = csrf_token(client.get("/status").text)
    assert client.post("/status", data={"csrf_token": token, "receipt": receipt}).status_code == 303
    start = clock[0]
    while clock[0] + 9 * 60 < start + 3600:
        clock[0] += 9 * 60  # inside the 10-minute idle limit
        assert 'id="case-status"' in client.get("/status").text
    clock[0] = start + 3601
    assert 'id="case-status"' not in client.get("/status").text


def test_the_lifetimes_are_configurable(installation, clock, monkeypatch):
    from portal.web.app import create_app
    monkeypatch.setenv("PORTAL_OFFICER_SESSION_SECONDS", "600")
    client = create_app(installation.data_dir).test_client()
    assert sign_in(client, installation.officer).status_code == 303
    clock[0] += 599
    assert signed_in_page(client)
    clock[0] += 2
    assert not signed_in_page(client)


def test_signing_in_again_ends_the_browsers_earlier_session(app, installation):
    client = app.test_client()
    assert sign_in(client, installation.officer).status_code == 303
    earlier = client.get_cookie(app.config["PORTAL_CONSOLE_COOKIE"]).value
    assert sign_in(client, installation.officer).status_code == 303
    assert client.get_cookie(app.config["PORTAL_CONSOLE_COOKIE"]).value != earlier
    assert session_rows(installation.data_dir) == 1
    thief = app.test_client()
    thief.set_cookie(app.config["PORTAL_CONSOLE_COOKIE"], earlier)
    assert not signed_in_page(thief)
    assert signed_in_page(client)


def test_opening_a_status_again_ends_the_earlier_status_session(app, installation):
    client = app.test_client()
    receipt = disclose(client, details="a short disclosure")
    cookies = []
    for _ in range(2):
        token = csrf_token(client.get("/status").text)  # [flood] each form page brings its ticket
        assert client.post("/status", data={"csrf_token": token, "receipt": receipt}).status_code == 303
        cookies.append(client.get_cookie(app.config["PORTAL_STATUS_COOKIE"]).value)
    earlier = app.test_client()
    earlier.set_cookie(app.config["PORTAL_STATUS_COOKIE"], cookies[0])
    assert 'id="case-status"' not in earlier.get("/status").text
    assert 'id="case-status"' in client.get("/status").text
    with database.connect(installation.data_dir) as conn:
        assert conn.execute("SELECT COUNT(*) FROM sessions WHERE kind = 'discloser'").fetchone()[0] == 1


def test_sign_out_works_with_a_stale_form_token(app, installation):
    client = app.test_client()
    assert sign_in(client, installation.officer).status_code == 303
    response = client.post("/console/logout", data={"csrf_token": "a-token-from-yesterday"})
    assert response.status_code == 303
    assert not signed_in_page(client)
    assert session_rows(installation.data_dir) == 0
    assert ("sign_out", account_id(installation.data_dir, installation.officer.email), None, None, "{}") \
        in events(installation.data_dir)
    # The discloser's "Close this disclosure" too.
    discloser = app.test_client()
    receipt = disclose(discloser, details="a short disclosure")
    token = csrf_token(discloser.get("/status").text)
    discloser.post("/status", data={"csrf_token": token, "receipt": receipt})
    assert discloser.post("/status/logout", data={}).status_code == 303
    with database.connect(installation.data_dir) as conn:
        assert conn.execute("SELECT COUNT(*) FROM sessions").fetchone()[0] == 0


def _confirm_page(response) -> bool:
    return 'name="confirm_passphrase"' in response.text


def test_sign_out_everywhere_asks_the_passphrase_then_ends_every_session(app, installation):
    laptop, phone = app.test_client(), app.test_client()
    for client in (laptop, phone):
        assert sign_in(client, installation.officer).status_code == 303
    other = app.test_client()
    assert sign_in(other, installation.other_officer).status_code == 303
    token = csrf_token(laptop.get("/console/audit").text)
    asked = laptop.post("/console/sessions/end-all", data={"csrf_token": token})
    assert asked.status_code == 200 and _confirm_page(asked)
    assert signed_in_page(phone)
    wrong = laptop.post("/console/sessions/end-all", data={"csrf_token": csrf_token(asked.text),
                                                            "confirm_passphrase": "not my passphrase"})
    assert wrong.status_code == 400 and "not your passphrase" in wrong.text and signed_in_page(phone)
    done = laptop.post("/console/sessions/end-all", data={"csrf_token": csrf_token(asked.text),
                                                           "confirm_passphrase": installation.officer.passphrase})
    assert done.status_code == 303 and "ended=everywhere" in done.headers["Location"]
    assert not signed_in_page(laptop) and not signed_in_page(phone)
    assert signed_in_page(other)  # another account's sessions are untouched
    log = events(installation.data_dir)
    ana = account_id(installation.data_dir, installation.officer.email)
    assert ("sign_out_everywhere", ana, None, None, '{"sessions":2}') in log
    assert ("passphrase_confirm_failed", ana, None, None, "{}") in log
    assert ("passphrase_confirmed", ana, None, None, "{}") in log


def test_the_audit_export_asks_the_passphrase_again_and_carries_the_form_through(app, installation):
    client = app.test_client()
    assert sign_in(client, installation.officer).status_code == 303
    token = csrf_token(client.get("/console/audit").text)
    asked = client.post("/console/audit/export", data={"csrf_token": token, "kept": "=value"})
    assert asked.status_code == 200 and _confirm_page(asked) and "text/csv" not in asked.content_type
    assert 'type="hidden" name="kept" value="=value"' in asked.text  # the action's own fields come along
    missing = client.post("/console/audit/export", data={"csrf_token": csrf_token(asked.text),
                                                         "confirm_passphrase": ""})
    assert missing.status_code == 400 and _confirm_page(missing)
    export = client.post("/console/audit/export", data={"csrf_token": csrf_token(asked.text), "kept": "=value",
                                                        "confirm_passphrase": installation.officer.passphrase})
    assert export.status_code == 200 and export.content_type == "text/csv; charset=utf-8"
    assert export.data.startswith(b"\xef\xbb\xbfentry,")  # UTF-8 with a BOM: Excel reads it as written
    assert export.headers["Content-Disposition"].startswith("attachment")
    lines = export.text.splitlines()
    assert lines[0].startswith("\ufeffentry,time_utc,event") and any(",sign_in,Ana Officer" in line for line in lines)
    assert "audit_export" in [e[0] for e in events(installation.data_dir)]


def test_too_many_wrong_passphrases_end_the_session(app, installation):
    client = app.test_client()
    assert sign_in(client, installation.officer).status_code == 303
    token = csrf_token(client.get("/console/audit").text)
    for _ in range(5):
        response = client.post("/console/audit/export", data={"csrf_token": token, "confirm_passphrase": "guess guess"})
        assert response.status_code == 400
    response = client.post("/console/audit/export", data={"csrf_token": token, "confirm_passphrase": "guess guess"})
    assert response.status_code == 303 and "ended=confirm" in response.headers["Location"]
    assert not signed_in_page(client)


def test_the_inbox_says_when_you_last_signed_in_and_what_failed_since(app, installation):
    client = app.test_client()
    assert sign_in(client, installation.officer).status_code == 303
    assert "This is your first sign-in." in client.get("/console/").text
    stranger = app.test_client()
    token = csrf_token(stranger.get("/console/login").text)
    stranger.post("/console/login", data={"csrf_token": token, "email": installation.officer.email,
                                          "passphrase": "a wrong passphrase", "totp": "123456"})
    assert sign_in(client, installation.officer).status_code == 303
    inbox = client.get("/console/").text
    assert re.search(r'You last signed in on <time datetime="20\d\d-\d\d-\d\dT\d\d:\d\d">\d{1,2} [A-Z][a-z]+ 20\d\d, '
                     r'\d\d:\d\d</time>\.', inbox)
    assert "1 failed sign-in attempt for your account since then" in inbox


def test_officers_see_their_cases_and_account_and_administrators_only_accounts_and_settings(app, installation):
    discloser = app.test_client()
    disclose(discloser, details="a short disclosure")
    ana = app.test_client()
    assert sign_in(ana, installation.officer).status_code == 303
    [ref] = [line.split("/console/cases/")[1].split('"')[0] for line in ana.get("/console/").text.splitlines()
             if "/console/cases/" in line]
    assert ana.get(f"/console/cases/{ref}").status_code == 200
    ben = app.test_client()
    assert sign_in(ben, installation.other_officer).status_code == 303
    admin = add_account(installation.data_dir, "admin", "root@agency.govt.nz", "Ada Admin")
    root = app.test_client()
    assert sign_in(root, admin).status_code == 303

    ana_log, ben_log, root_log = (c.get("/console/audit").text for c in (ana, ben, root))
    assert f"Case {ref}" in ana_log and 'data-event="case_view"' in ana_log
    assert ref not in ben_log and 'data-event="case_view"' not in ben_log
    assert "Ana Officer" not in ben_log  # not Ana's sign-ins either
    assert ref not in root_log and 'data-event="case_view"' not in root_log
    assert 'data-event="sign_in"' in root_log and "Ana Officer" in root_log
    assert 'id="audit-head"' in ana_log and "latest link is" in ana_log

"""Every form of the portal, both audiences, sent carelessly (hypothesis): arbitrary text, fields left out
or repeated, odd numbers and odd file names. Never a 500, and nothing stored when the form is refused."""
from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from werkzeug.datastructures import MultiDict

from portal.web.app import create_app
from portal.core.config import load_settings
from portal.core.context import open_context
from tests.conftest import add_account
from tests.support import csrf_token, form_for, multipart, receipt_from
from tests.support import database

TABLES = ("cases", "case_fields", "case_keys", "messages", "attachments", "status_events", "channels",
          "channel_officers", "accounts")

ODD_NUMBERS = st.sampled_from(["²", "٣", "-1", "0", "1_0", " 2", "1e3", "0x10", "99999999999999999999999", "",
                               "1.5", "NaN", "١٢"]) | st.integers().map(str)
TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=40) | ODD_NUMBERS | st.sampled_from(
    ["\r\n\r\n", "a\rb\nc\r\n", "\x00", "\u202e", "%22", "Audit and Risk", "public_funds", "no", "acknowledged"])
FILE_NAMES = st.text(st.characters(exclude_categories=("Cs",), exclude_characters='"\r\n\\'), max_size=300) | \
    st.sampled_from(["", ".", "..", "../x", "a%22b.pdf", "\u202egnp.exe", "x" * 400 + ".pdf"])
SETTINGS = settings(max_examples=15, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def mutate(data, base):
    """The form's own fields, each kept, left out, replaced, repeated, or given an odd number; maybe an extra one."""
    fields = []
    for name, value in base:
        action = data.draw(st.sampled_from(["keep", "keep", "drop", "text", "repeat", "number"]))
        if action == "keep":
            fields.append((name, value))
        elif action == "text":
            fields.append((name, data.draw(TEXT)))
        elif action == "repeat":
            fields += [(name, data.draw(TEXT)), (name, value)]
        elif action == "number":
            fields.append((name, data.draw(ODD_NUMBERS)))
    if data.draw(st.booleans()):
        fields.append((data.draw(st.sampled_from(["page", "officer", "extra", "carried-message", "return_to"])),
                       data.draw(TEXT)))
    return MultiDict(fields)


@pytest.fixture
def portal(installation):
    admin = add_account(installation.data_dir, "admin", "root@agency.govt.nz", "Ada Admin")
    app = create_app(settings=load_settings(installation.data_dir))
    app.config.update(TESTING=True, TEST_ADMIN=admin)
    return app


def stored(installation):
    ctx = open_context(installation.data_dir)
    try:
        counts = {t: ctx.db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in TABLES}
    finally:
        ctx.db.conn.close()
    counts["blobs"] = len(database.blobs(installation.data_dir))
    return counts


def check(installation, send):
    before = stored(installation)
    response = send()
    assert response.status_code < 500, response.text[:2000]
    if response.status_code >= 400:
        assert stored(installation) == before, response.status_code


def signed_in(app, person):
    # Many examples share one installation: start each with the sign-in budgets untouched and the TOTP
    # replay guard wound back, or each sign-in would wait for a fresh 30-second step.
    ctx = open_context(app.config["PORTAL_SETTINGS"].data_dir)
    ctx.db.execute("DELETE FROM sign_in_budgets")
    ctx.db.execute("UPDATE accounts SET totp_last_step = 0 WHERE email = ?", [person.email])
    ctx.db.conn.close()
    person.last_step = 0
    client = app.test_client()
    token = csrf_token(client.get("/console/login").text)
    client.post("/console/login", data={"csrf_token": token, "email": person.email,
                                        "passphrase": person.passphrase, "totp": person.code()})
    return client


def valid_disclosure(client):
    form = form_for(client.get("/disclose").text, "/disclose")
    return list((dict(form["fields"]) | {"channel": "Audit and Risk", "category": "public_funds", "summary": "S",
                                         "details": "D", "disclosed_elsewhere": "no", "contact": ""}).items())


@given(data=st.data())
@SETTINGS
def test_the_discloser_forms_never_fail_and_store_nothing_when_refused(portal, installation, data):
    client = portal.test_client()
    headers = data.draw(st.sampled_from([{}, {"Sec-Fetch-Site": "same-origin"}, {"Sec-Fetch-Site": "cross-site"}]))
    files = [("attachments", name, b"x") for name in data.draw(st.lists(FILE_NAMES, max_size=3))]

    body, content_type = multipart(mutate(data, valid_disclosure(client)).items(multi=True), files)
    check(installation, lambda: client.post("/disclose", data=body, content_type=content_type, headers=headers))

    page = client.get("/status").text
    status_fields = [("csrf_token", csrf_token(page)), ("receipt", data.draw(TEXT))]
    check(installation, lambda: client.post("/status", data=mutate(data, status_fields), headers=headers))
    confirm = [("csrf_token", csrf_token(page)), ("expected", data.draw(TEXT)), ("receipt", data.draw(TEXT))]
    check(installation, lambda: client.post("/disclose/confirm", data=mutate(data, confirm), headers=headers))


@given(data=st.data())
@SETTINGS
def test_a_discloser_reply_never_fails_and_stores_nothing_when_refused(portal, installation, data):
    client = portal.test_client()
    body, content_type = multipart(valid_disclosure(client))
    receipt = receipt_from(client.post("/disclose", data=body, content_type=content_type).text)
    page = client.get("/status").text
    if data.draw(st.booleans()):  # an open session, or one that ended
        client.post("/status", data={"csrf_token": csrf_token(page), "receipt": receipt})
        page = client.get("/status").text
    base = [(k, v) for k, v in form_for(page, "/status/reply")["fields"] if k != "message"] + [("message", "m")] \
        if 'action="/status/reply"' in page else [("csrf_token", csrf_token(page)), ("message", "m")]
    files = [("attachments", name, b"x") for name in data.draw(st.lists(FILE_NAMES, max_size=3))]
    body, content_type = multipart(mutate(data, base).items(multi=True), files)
    check(installation, lambda: client.post("/status/reply", data=body, content_type=content_type,
                                            headers={"Sec-Fetch-Site": "same-origin"}))
    check(installation, lambda: client.post("/status/logout", data=mutate(data, [("csrf_token", csrf_token(page))])))


@given(data=st.data())
@SETTINGS
def test_the_console_and_admin_forms_never_fail_and_store_nothing_when_refused(portal, installation, data):
    discloser = portal.test_client()
    body, content_type = multipart(valid_disclosure(discloser))
    discloser.post("/disclose", data=body, content_type=content_type)
    officer = signed_in(portal, installation.officer)
    inbox = officer.get("/console/", query_string={"page": data.draw(ODD_NUMBERS)})
    assert inbox.status_code == 200
    case_url = re.findall(r'href="(/console/cases/[^"/]+)"', officer.get("/console/").text)[0]
    page = officer.get(case_url).text
    headers = data.draw(st.sampled_from([{}, {"Sec-Fetch-Site": "same-origin"}]))
    if data.draw(st.booleans()):  # the session ended meanwhile
        ctx = open_context(installation.data_dir)
        ctx.db.execute("UPDATE sessions SET expires_at = expires_at - 3600")
        ctx.db.conn.close()
    for action, extra in ((case_url + "/reply", {"message": "m"}),
                          (case_url + "/status", {"status": "acknowledged", "reason": "", "expected_timeframe": ""})):
        base = list((dict(form_for(page, action)["fields"]) | extra).items())
        check(installation, lambda: officer.post(action, data=mutate(data, base), headers=headers))
    login = [("csrf_token", csrf_token(officer.get("/console/login").text)), ("email", installation.officer.email),
             ("passphrase", data.draw(TEXT)), ("totp", data.draw(ODD_NUMBERS))]
    check(installation, lambda: officer.post("/console/login", data=mutate(data, login), headers=headers))


@given(data=st.data())
@SETTINGS
def test_the_administration_forms_never_fail_and_store_nothing_when_refused(portal, installation, data):
    admin = signed_in(portal, portal.config["TEST_ADMIN"])
    page = admin.get("/console/admin/").text
    channel = list((dict(form_for(page, "/console/admin/channels")["fields"]) | {"name": data.draw(TEXT)}).items())
    check(installation, lambda: admin.post("/console/admin/channels", data=mutate(data, channel)))
    officers = admin.get("/console/admin/officers").text
    membership = list((dict(form_for(officers, "/console/admin/memberships")["fields"]) |
                       {"officer": data.draw(ODD_NUMBERS), "channel": data.draw(TEXT)}).items())
    check(installation, lambda: admin.post("/console/admin/memberships", data=mutate(data, membership)))
    check(installation, lambda: admin.post("/console/logout", data=mutate(data, [("csrf_token", csrf_token(page))])))


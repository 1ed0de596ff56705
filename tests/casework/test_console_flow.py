"""The officer console over HTTP (Flask's test client): sign in, read, download, reply, set status."""
from __future__ import annotations

import os
import re

import pytest

from portal.core.context import open_context
from tests.conftest import MARKER, add_account, officer_key
from tests.support import csrf_token, disclosure_fields, post_multipart, receipt_from
from tests.support.console import ATTACHMENT, case_links, disclose, sign_in









@pytest.fixture
def admin(installation):
    return add_account(installation.data_dir, "admin", "root@agency.govt.nz", "Ada Admin")


def test_officer_reads_downloads_replies_and_sets_status_and_discloser_sees_it(app, installation, admin):
    discloser = app.test_client()
    receipt = disclose(discloser)

    officer = app.test_client()
    response = sign_in(officer, installation.officer)
    assert response.status_code == 303 and response.headers["Location"].endswith("/console/")
    inbox = officer.get("/console/")
    [case_url] = case_links(inbox.text)
    page = officer.get(case_url)
    assert page.status_code == 200
    assert MARKER in page.text
    # Readers are named with their email, so a look-alike second account cannot pass unnoticed.
    assert re.search(r'id="readers">(?:(?!</dd>).)*Ana Officer</bdi> &lt;<bdi>ana@agency.govt.nz</bdi>&gt;', page.text, re.S)
    assert "Ben Other" not in page.text
    [download_url] = re.findall(r'href="(/console/cases/[^"]+/attachments/[^"]+)"', page.text)
    download = officer.get(download_url)
    assert download.status_code == 200
    assert download.data == ATTACHMENT
    assert download.headers["Content-Type"] == "application/octet-stream"
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert "report%20%3C1%3E.svg" in download.headers["Content-Disposition"]
    assert download.headers["Content-Security-Policy"] == "sandbox"
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert download.headers["Cache-Control"] == "no-store"

    # An officer of another channel and the administrator get the same 404 as for no case at all.
    for person in (installation.other_officer, admin):
        stranger = app.test_client()
        assert sign_in(stranger, person).status_code == 303
        assert stranger.get(case_url).status_code == 404
        assert stranger.get(download_url).status_code == 404
        assert stranger.get("/console/cases/PD-NOSUCHCASE").status_code == 404
        assert MARKER not in stranger.get("/console/", follow_redirects=True).text
    assert case_links(app.test_client().get("/console/", follow_redirects=True).text) == []

    token = csrf_token(page.text)
    reply = "Thank you. We have started an assessment. " + MARKER[:6]
    assert officer.post(case_url + "/reply", data={"csrf_token": token, "message": reply}).status_code == 303
    response = officer.post(case_url + "/status", data={"csrf_token": token, "status": "referred",
                                                       "reason": "The Auditor-General is better placed.",
                                                       "expected_timeframe": "About six weeks"})
    assert response.status_code == 303
    assert 'data-status="referred"' in officer.get(case_url).text

    token = csrf_token(discloser.get("/status").text)
    assert discloser.post("/status", data={"csrf_token": token, "receipt": receipt}).status_code == 303
    status_page = discloser.get("/status").text
    assert 'data-status="referred"' in status_page
    assert "Referred to another authority" in status_page
    assert "The Auditor-General is better placed." in status_page and "About six weeks" in status_page
    assert reply in status_page
    # The thread names no officer to the discloser.
    assert "Ana Officer" not in status_page


def test_status_values_and_required_reason(app, installation):
    disclose(app.test_client(), files=())
    officer = app.test_client()
    sign_in(officer, installation.officer)
    [case_url] = case_links(officer.get("/console/").text)
    token = csrf_token(officer.get(case_url).text)
    bad = officer.post(case_url + "/status", data={"csrf_token": token, "status": "lost"})
    assert bad.status_code == 400
    no_reason = officer.post(case_url + "/status", data={"csrf_token": token, "status": "no_further_action"})
    assert no_reason.status_code == 400 and "Give the discloser a reason" in no_reason.text
    for status in ("acknowledged", "assessing", "investigating", "closed"):
        assert officer.post(case_url + "/status", data={"csrf_token": token, "status": status}).status_code == 303
        assert f'data-status="{status}"' in officer.get(case_url).text


def test_wrong_credentials_get_one_message_whatever_was_wrong(app, installation):
    officer = installation.officer
    client = app.test_client()
    texts = []
    for email, passphrase, code in ((officer.email, "wrong passphrase!!", officer.code()),
                                    (officer.email, officer.passphrase, "000000" if officer.code() != "000000" else "111111"),
                                    ("nobody@agency.govt.nz", officer.passphrase, officer.code())):
        token = csrf_token(client.get("/console/login").text)
        response = client.post("/console/login", data={"csrf_token": token, "email": email,
                                                       "passphrase": passphrase, "totp": code})
        assert response.status_code == 400
        texts.append(re.search(r'<div class="problem".*?</div>', response.text, re.S).group(0))
    assert len(set(texts)) == 1
    assert client.get("/console/").status_code == 303


def test_console_needs_a_session_and_logout_destroys_its_server_half(app, installation):
    client = app.test_client()
    assert client.get("/console/").headers["Location"].startswith("/console/login")
    sign_in(client, installation.officer)
    ctx = open_context(installation.data_dir)
    assert ctx.db.execute("SELECT COUNT(*) FROM sessions WHERE kind = 'officer'").fetchone()[0] == 1
    token = csrf_token(client.get("/console/").text)
    client.post("/console/logout", data={"csrf_token": token})
    assert ctx.db.execute("SELECT COUNT(*) FROM sessions").fetchone()[0] == 0
    assert client.get("/console/").status_code == 303


def test_idle_officer_session_expires_after_15_minutes(app, installation):
    client = app.test_client()
    sign_in(client, installation.officer)
    ctx = open_context(installation.data_dir)
    assert client.get("/console/").status_code == 200
    ctx.db.execute("UPDATE sessions SET expires_at = expires_at - 14 * 60")
    assert client.get("/console/").status_code == 200  # 14 idle minutes: still open, and extended
    ctx.db.execute("UPDATE sessions SET expires_at = expires_at - 15 * 60 - 1")
    response = client.get("/console/")
    assert response.status_code == 303 and "expired=1" in response.headers["Location"]
    assert ctx.db.execute("SELECT COUNT(*) FROM sessions").fetchone()[0] == 0


def test_neither_half_of_an_officer_session_alone_opens_the_key(app, installation):
    import base64
    import crypto
    from portal.keys import accounts
    client = app.test_client()
    sign_in(client, installation.officer)
    cookie = client.get_cookie(app.config["PORTAL_CONSOLE_COOKIE"]).value
    ctx = open_context(installation.data_dir)
    officer = installation.officer
    _, private_key = officer_key(ctx, officer)
    [(server_half,)] = ctx.db.execute("SELECT server_half FROM sessions").fetchall()
    # The server's half: the key is not in it, and no key but the cookie's opens it.
    assert private_key not in server_half
    with pytest.raises(crypto.DecryptionError):
        crypto.join_secret(os.urandom(32), server_half)
    # The cookie's half: a session id and a random key, neither of which is the private key.
    parts = [base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)) for p in cookie.split(".")]
    assert private_key not in parts
    session_key = parts[1]
    # Together they do: the private key, then the officer's signing seed (issue 21), neither of
    # which is in either half.
    signing_seed = crypto.unwrap_private_key(ctx.db.execute(
        "SELECT wrapped_signing_key FROM accounts WHERE email = ?", [officer.email]).fetchone()[0],
        officer.passphrase)
    assert signing_seed not in server_half and signing_seed not in parts
    assert crypto.join_secret(session_key, server_half) == private_key + signing_seed
    # Without the server half the cookie opens nothing.
    ctx.db.execute("DELETE FROM sessions")
    assert client.get("/console/").status_code == 303


def test_inbox_orders_by_received_day_and_pages_by_keyset(app, installation):
    discloser = app.test_client()
    for i in range(27):
        token = csrf_token(discloser.get("/disclose").text)
        post_multipart(discloser, "/disclose", disclosure_fields(token, f"case {i}"))
    ctx = open_context(installation.data_dir)
    # Spread the cases over days so the order is visible.
    refs = [r[0] for r in ctx.db.execute("SELECT ref FROM cases ORDER BY ref").fetchall()]
    for day, ref in enumerate(refs, start=1):
        ctx.db.execute("UPDATE cases SET received_day = ? WHERE ref = ?", [f"2026-01-{day:02d}", ref])
    officer = app.test_client()
    sign_in(officer, installation.officer)
    first_page = officer.get("/console/?sort=received").text
    [next_url] = re.findall(r'href="([^"]*after=[^"]*)" rel="next"', first_page)
    assert "page=" not in next_url and "OFFSET" not in next_url
    second_page = officer.get(next_url.replace("&amp;", "&")).text
    first, second = case_links(first_page), case_links(second_page)
    assert len(first) == 25 and len(second) == 2
    assert [u.rsplit("/", 1)[1] for u in first + second] == list(reversed(refs))
    assert 'rel="next"' not in second_page and "First page" in second_page


def test_administrator_manages_channels_and_officers_but_reads_nothing(app, installation, admin):
    disclose(app.test_client(), files=())
    client = app.test_client()
    sign_in(client, admin)
    overview = client.get("/console/", follow_redirects=True)
    assert "Administration" in overview.text and "Ana Officer" in client.get("/console/admin/officers").text
    token = csrf_token(overview.text)
    assert client.post("/console/admin/channels", data={"csrf_token": token, "name": "Health and Safety"}).status_code == 303
    ctx = open_context(installation.data_dir)
    ben_id = ctx.db.execute("SELECT id FROM accounts WHERE email = ?", [installation.other_officer.email]).fetchone()[0]
    # A channel's first officer never comes from the web administrator alone.
    refused = client.post("/console/admin/memberships", data={"csrf_token": token, "officer": str(ben_id),
                                                              "channel": "Health and Safety"})
    assert refused.status_code == 400 and "portal officer invite" in refused.text
    assert client.post("/console/admin/memberships", data={"csrf_token": token, "officer": str(ben_id),
                                                           "channel": "Audit and Risk"}).status_code == 303
    assert "Health and Safety" in client.get("/console/admin/").text
    assert "Audit and Risk (waiting for an officer of the channel to confirm)" in client.get("/console/admin/officers").text
    [ref] = [r[0] for r in ctx.db.execute("SELECT ref FROM cases").fetchall()]
    assert client.get(f"/console/cases/{ref}").status_code == 404
    # An officer is refused the administration pages.
    officer = app.test_client()
    sign_in(officer, installation.officer)
    assert officer.get("/console/admin/").status_code == 404


def test_console_pages_send_security_headers_and_load_nothing_from_elsewhere(app, installation):
    disclose(app.test_client(), files=())
    client = app.test_client()
    sign_in(client, installation.officer)
    [case_url] = case_links(client.get("/console/").text)
    for path in ("/console/login", "/console/", case_url):
        response = client.get(path)
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "no-store"
        assert "default-src 'none'" in response.headers["Content-Security-Policy"]
        assert response.headers["X-Frame-Options"] == "DENY"
        assert "<script" not in response.text
        assert not re.search(r'(src|href|action)="(https?:)?//', response.text)


def test_console_posts_need_csrf(app, installation):
    disclose(app.test_client(), files=())
    client = app.test_client()
    sign_in(client, installation.officer)
    [case_url] = case_links(client.get("/console/").text)
    response = client.post(case_url + "/reply", data={"message": "no token"})
    assert response.status_code == 400
    assert "no token" not in client.get(case_url).text

"""The sealing pages as the server serves them (issue 27): their own policy lets them run their
same-origin modules and fetch JSON from this origin, and nothing else; no inline script or style;
no input with a name (nothing can be posted in the clear); the plaintext form only links to them;
the roots they verify rosters from; the choices they offer are the form's."""
from __future__ import annotations

import re

from portal.casework.categories import CATEGORIES, DISCLOSED_ELSEWHERE
from portal.core.context import open_context
from portal.keys import channels, roster
from tests.support import ROOT

PAGES = ("disclose.html", "status.html")


def test_the_sealing_pages_run_only_their_own_modules_and_post_no_form(client):
    for name in PAGES:
        page = client.get(f"/static/seal/{name}")
        assert page.status_code == 200
        policy = page.headers["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "connect-src 'self'" in policy and "form-action 'none'" in policy
        assert "unsafe" not in policy
        html = page.text
        assert [s for s in re.findall(r"<script[^>]*>", html) if "src=" not in s] == []
        assert re.search(r"<style|\sstyle=|\son[a-z]+=", html) is None
        assert re.search(r"<(input|textarea|select)[^>]*\sname=", html) is None
        assert all(f'for="{i}"' in html for i in re.findall(r"<(?:input|textarea|select)[^>]*\sid=\"([^\"]+)\"", html))
    # Other static files and pages keep the strict policy.
    assert "connect-src" not in client.get("/static/seal/disclose.js").headers["Content-Security-Policy"]
    form = client.get("/disclose")
    assert "connect-src" not in form.headers["Content-Security-Policy"]
    assert 'href="/static/seal/disclose.html"' in form.text and "Seal it in your browser instead" in form.text
    status = client.get("/status")
    assert 'href="/static/seal/status.html"' in status.text and "Check it in your browser instead" in status.text


def test_the_page_offers_the_forms_choices():
    html = (ROOT / "static" / "seal" / "disclose.html").read_text()
    category = re.search(r'<select id="category".*?</select>', html, re.S).group(0)
    elsewhere = re.search(r'<select id="disclosed_elsewhere".*?</select>', html, re.S).group(0)
    assert re.findall(r'value="([^"]+)"', category) == list(CATEGORIES)
    assert re.findall(r'value="([^"]+)"', elsewhere) == list(DISCLOSED_ELSEWHERE)


def test_the_roots_the_page_verifies_rosters_from(client, installation):
    import base64
    roots = client.get("/disclose/sealed/roots").get_json()["roots"]
    ctx = open_context(installation.data_dir)
    try:
        expected = {str(c.id): roster.load(ctx, c.id).root for c in channels.list_channels(ctx)}
    finally:
        ctx.db.conn.close()
    assert {c: base64.b64decode(r) for c, r in roots.items()} == expected
    assert len(expected) == 2 and all(len(r) == 32 for r in expected.values())

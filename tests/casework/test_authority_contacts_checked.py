"""The shipped contacts of the appropriate authorities could not be checked when the portal was made
(no internet access): the administrator's directory page says plainly that the operator must check
each against the authority's own website, shows each contact disclosers are given, and beside each the
day it was last checked (portal/data/authorities.json, each entry's field "contact_checked"), or that
it never was."""
from __future__ import annotations

import json
import re

import pytest

from portal.core import resources
from tests.conftest import add_account
from tests.support.console import sign_in


@pytest.fixture
def admin(installation):
    return add_account(installation.data_dir, "admin", "root@agency.govt.nz", "Ada Admin")


def _directory(app, admin) -> str:
    client = app.test_client()
    sign_in(client, admin)
    return client.get("/console/admin/authorities").text


def _entry(page: str, name: str) -> str:
    """The directory's list item of the authority called `name`."""
    # (the official te reo Māori name, where it has one, beside it: issue 28)
    return re.search(rf'<li data-authority="\d+"><h3>{re.escape(name)}(?: \(<span lang="mi">[^<]+</span>\))?'
                     r'</h3>.*?</li>', page, re.S).group(0)


NEVER = '<strong class="contact-never-checked">(never checked against its own website)</strong>'


def test_each_contact_says_when_it_was_last_checked_and_none_shipped_was(app, admin, tmp_path, monkeypatch):
    shipped = json.loads(resources.authorities_file().read_text(encoding="utf-8"))
    assert "contacts_last_checked" not in shipped  # one day per authority now, not one for the file
    # Nobody has checked them against the real sites yet (no internet access when they were entered).
    assert [e["contact_checked"] for e in shipped["authorities"] if "contact" in e] == [None] * 24
    page = _directory(app, admin)
    notice = re.search(r'<div class="notice" id="contacts-checked">(.*?)</div>', page, re.S).group(1)
    assert "The operator must check each one against the authority's own website" in " ".join(notice.split())
    assert "records the day you checked it" in notice
    with_contact = sum(1 for e in shipped["authorities"] if e.get("contact"))
    assert page.count('class="authority-contact"') == with_contact
    assert page.count(NEVER) == with_contact  # said plainly, beside every contact
    ombudsman = _entry(page, "An Ombudsman")
    assert ('Contact shown to disclosers: <span class="authority-contact">ombudsman.parliament.nz, 0800 802 602'
            '</span>\n<span class="contact-checked" data-checked="">' + NEVER) in ombudsman

    entries = [{**e, "contact_checked": "2026-12-01"} if e["name"] == "An Ombudsman" else e
               for e in shipped["authorities"]]
    checked = tmp_path / "authorities.json"
    checked.write_text(json.dumps({**shipped, "authorities": entries}), encoding="utf-8")
    monkeypatch.setattr(resources, "authorities_file", lambda: checked)
    page = _directory(app, admin)
    assert ('(last checked against its own website on <time datetime="2026-12-01">1 December 2026</time>)'
            in _entry(page, "An Ombudsman"))
    assert NEVER not in _entry(page, "An Ombudsman")
    assert NEVER in _entry(page, "Commerce Commission")  # the day is that authority's alone
    assert page.count(NEVER) == with_contact - 1

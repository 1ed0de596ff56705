"""The shipped contacts of the appropriate authorities could not be checked when the portal was made
(no internet access): the administrator's directory page says plainly that the operator must check
each against the authority's own website, shows each contact disclosers are given, and the day they
were last checked (portal/data/authorities.json, field "contacts_last_checked"), or "never"."""
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


def test_the_directory_says_the_contacts_must_be_checked_and_when_they_last_were(app, admin, tmp_path, monkeypatch):
    shipped = json.loads(resources.authorities_file().read_text(encoding="utf-8"))
    assert shipped["contacts_last_checked"] is None  # nobody has checked them against the real sites yet
    page = _directory(app, admin)
    notice = re.search(r'<div class="notice" id="contacts-checked">(.*?)</div>', page, re.S).group(1)
    assert "The operator must check\neach one against the authority's own website" in notice
    assert 'id="contacts-never-checked">never: not yet checked' in notice
    assert "Contact shown to disclosers: <span class=\"authority-contact\">ombudsman.parliament.nz, 0800 802 602</span>" in page
    assert page.count('class="authority-contact"') == sum(1 for e in shipped["authorities"] if e.get("contact"))

    checked = tmp_path / "authorities.json"
    checked.write_text(json.dumps({**shipped, "contacts_last_checked": "2026-12-01"}), encoding="utf-8")
    monkeypatch.setattr(resources, "authorities_file", lambda: checked)
    page = _directory(app, admin)
    assert 'Contacts last checked: <time id="contacts-last-checked" datetime="2026-12-01">1 December 2026</time>.' in page
    assert "contacts-never-checked" not in page

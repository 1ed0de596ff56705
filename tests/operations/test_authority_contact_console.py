"""An administrator changes an appropriate authority's contact in the console and says it was checked
today (portal.casework.authority_contacts, issue 25): officers see it beside the authority when they
refer a case, a discloser referred there is given it, the change is audited, and the shipped file
stays the default the stored contact overrides. Over HTTP."""
from __future__ import annotations

import json
import re

import pytest

from portal.core import resources
from portal.core.context import open_context
from tests.conftest import MARKER
from tests.operations.test_admin_console import admin  # noqa: F401 (a fixture)
from tests.support import csrf_token
from tests.support.console import sign_in
from tests.support.referral import authority_id
from tests.support.workflow import (disclose_to, officer_on_case, open_status, post,
                                    today)  # noqa: F401  (today is a fixture)

SFO = "Director of the Serious Fraud Office"
NEW = "https://www.sfo.govt.nz, info@sfo.govt.nz, 0800 109 800"
CHECKED_TODAY = '(last checked against its own website on <time datetime="2026-12-07">7 December 2026</time>)'
NEVER = '<strong class="contact-never-checked">(never checked against its own website)</strong>'


def _contact_page(admin, name: str = SFO) -> str:
    directory = admin.get("/console/admin/authorities").text
    found = re.search(rf'<li data-authority="(\d+)"><h3>{re.escape(name)}[ <]', directory)
    return f"/console/admin/authorities/{found.group(1)}/contact"


def _referral_entry(page: str, name: str = SFO) -> str:
    """The case page's directory entry (in its referral section) for `name`."""
    # (the official te reo Māori name, where it has one, beside it: issue 28)
    return re.search(rf'<dt>{re.escape(name)}(?: \(<span lang="mi">[^<]+</span>\))?</dt>'
                     r'<dd data-authority="\d+">.*?</dd>', page, re.S).group(0)


def test_an_admin_changes_a_contact_and_officers_and_the_discloser_are_given_it(app, installation, admin, today):
    today.set("2026-12-07")
    shipped_file = resources.authorities_file().read_bytes()
    receipt = disclose_to(discloser := app.test_client())
    officer, case = officer_on_case(app, installation.officer)
    assert '<span class="authority-contact">sfo.govt.nz</span>' in _referral_entry(officer.get(case).text)

    url = _contact_page(admin)
    form = admin.get(url).text
    assert '<label for="website">Website (its address, starting https://)</label>' in form
    assert 'value="https://sfo.govt.nz"' in form  # the shipped contact to start from
    saved = post(admin, url, website="https://www.sfo.govt.nz", email="info@sfo.govt.nz", phone="0800 109 800",
                 checked="y")
    assert saved.status_code == 303 and saved.headers["Location"].endswith("?notice=contact-changed")
    directory = admin.get(saved.headers["Location"]).text
    assert "The contact was saved." in directory
    assert f'<span class="authority-contact">{NEW}</span>' in directory and CHECKED_TODAY in directory

    # The officer about to refer sees it beside the authority, with the day it was checked.
    entry = _referral_entry(officer.get(case).text)
    assert f'The discloser is given: <span class="authority-contact">{NEW}</span>' in entry
    assert CHECKED_TODAY in entry and NEVER not in entry
    assert NEVER in _referral_entry(officer.get(case).text, "Commerce Commission")  # the others as shipped
    page = officer.get(case).text
    assert post(officer, case + "/referral", authority=authority_id(page, SFO), concerns="general",
                consultation="consulted", reason="Bribery.").status_code == 303
    assert f'<span id="authority-contact" lang="en">{NEW}</span>' in open_status(discloser, receipt)

    # Audited: who, which authority, what changed (before and after), that it was checked.
    ctx = open_context(installation.data_dir)
    [(actor, detail)] = ctx.db.execute(
        "SELECT a.name, l.detail FROM audit_log l JOIN accounts a ON a.id = l.actor"
        " WHERE l.event = 'authority_contact_change'").fetchall()
    assert actor == "Ada Admin"
    assert json.loads(detail) == {
        "authority_id": int(url.split("/")[-2]), "authority": SFO, "changed": "website, email, phone",
        "checked": True, "website_before": "https://sfo.govt.nz", "website": "https://www.sfo.govt.nz",
        "email_before": None, "email": "info@sfo.govt.nz", "phone_before": None, "phone": "0800 109 800"}
    assert MARKER not in detail and "Invoices" not in detail and "Bribery" not in detail
    log = admin.get("/console/audit").text
    assert "Contact of an appropriate authority changed or checked" in log
    assert "authority: Director of the Serious Fraud Office" in log
    assert "website before: https://sfo.govt.nz" in log and "website: https://www.sfo.govt.nz" in log
    assert "checked against the authority&#39;s own website that day" in log

    # The shipped file is untouched: it stays the default, given again once the stored one is dropped.
    assert resources.authorities_file().read_bytes() == shipped_file
    token = csrf_token(admin.get(url).text)
    restored = admin.post(url + "/shipped", data={"csrf_token": token})
    assert restored.status_code == 303 and restored.headers["Location"].endswith("?notice=contact-shipped")
    entry = _referral_entry(officer.get(case).text)
    assert '<span class="authority-contact">sfo.govt.nz</span>' in entry and NEVER in entry
    details = [json.loads(d) for (d,) in ctx.db.execute(
        "SELECT detail FROM audit_log WHERE event = 'authority_contact_change' ORDER BY seq").fetchall()]
    assert details[1:] == [{"authority_id": int(url.split("/")[-2]), "authority": SFO, "restored_shipped": True}]


def test_a_contact_changed_without_checking_it_says_never_checked(app, installation, admin, today):
    disclose_to(app.test_client())
    officer, case = officer_on_case(app, installation.officer)
    url = _contact_page(admin, "An Ombudsman")
    assert post(admin, url, website="https://www.ombudsman.parliament.nz", phone="0800 802 602").status_code == 303
    entry = _referral_entry(officer.get(case).text, "An Ombudsman")
    assert "https://www.ombudsman.parliament.nz, 0800 802 602" in entry and NEVER in entry


@pytest.mark.parametrize("typed, field, problem", [
    ({"website": "http://www.sfo.govt.nz"}, "website", "with https://"),
    ({"website": "www.sfo.govt.nz"}, "website", "with https://"),
    ({"website": "https://sfo govt nz"}, "website", "with https://"),
    ({"website": "https://www.sfo.govt.nz", "email": "info at sfo.govt.nz"}, "email",
     "That is not an email address: write it as name@example.govt.nz"),
    ({"website": "https://www.sfo.govt.nz", "email": "info@sfo"}, "email", "That is not an email address"),
    ({"phone": "call them"}, "phone", "Write the phone number with its digits"),
    ({"website": "", "email": "", "phone": ""}, "website", "Give at least one way to contact the authority"),
])
def test_bad_input_is_refused_plainly_and_what_was_typed_comes_back(admin, typed, field, problem):
    url = _contact_page(admin)
    fields = {"website": "", "email": "", "phone": "0800 109 800", "checked": "y", **typed}
    refused = post(admin, url, **fields)
    assert refused.status_code == 400
    assert "The contact was not changed: please see below." in refused.text
    error = re.search(rf'<p class="error" id="{field}-error">(.*?)</p>', refused.text, re.S).group(1)
    assert problem in error
    assert f'aria-describedby="{field}-hint {field}-error"' in refused.text or \
        f'aria-describedby="{field}-error"' in refused.text
    for name, value in fields.items():
        if name != "checked" and value:
            assert f'value="{value}"' in refused.text, name  # kept as typed
    assert re.search(r'<input [^>]*\bchecked id="checked" name="checked" type="checkbox"', refused.text)
    directory = admin.get("/console/admin/authorities").text
    assert '<span class="authority-contact">sfo.govt.nz</span>' in directory  # nothing stored


def test_a_change_needs_the_forms_token(admin):
    url = _contact_page(admin)
    refused = admin.post(url, data={"website": "https://evil.example"})
    assert refused.status_code == 400
    assert "https://evil.example" not in admin.get("/console/admin/authorities").text


def test_an_officer_cannot_reach_the_contact_page(app, installation, admin):
    url = _contact_page(admin)
    officer = app.test_client()
    assert sign_in(officer, installation.officer).status_code == 303
    assert officer.get(url).status_code == 404
    token = csrf_token(officer.get("/console/").text)
    changed = officer.post(url, data={"csrf_token": token, "website": "https://evil.example", "checked": "y"})
    assert changed.status_code == 404
    assert officer.post(url + "/shipped", data={"csrf_token": token}).status_code == 404
    assert "https://evil.example" not in admin.get("/console/admin/authorities").text


SHIPPED_MARK = '<span class="contact-origin" data-origin="shipped">(as shipped with the portal)</span>'
CHANGED_MARK = ('<span class="contact-origin" data-origin="changed"><strong>(changed by an administrator on'
                ' <time datetime="2026-12-07">7 December 2026</time>: not the contact shipped with the portal)'
                '</strong></span>')


def test_an_officer_tells_a_contact_an_administrator_changed_from_the_shipped_one_unchecked_alike(
        app, installation, admin, today):
    # Review N4: both read "(never checked against its own website)" and nothing else.
    today.set("2026-12-07")
    disclose_to(app.test_client())
    officer, case = officer_on_case(app, installation.officer)
    assert SHIPPED_MARK in _referral_entry(officer.get(case).text) and NEVER in _referral_entry(officer.get(case).text)
    url = _contact_page(admin)
    assert post(admin, url, website="https://evil.example", email="", phone="").status_code == 303
    page = officer.get(case).text
    entry = _referral_entry(page)
    assert CHANGED_MARK in entry and NEVER in entry and SHIPPED_MARK not in entry
    assert SHIPPED_MARK in _referral_entry(page, "Commerce Commission")  # the others as shipped
    directory = admin.get("/console/admin/authorities").text
    sfo = re.search(rf"<h3>{SFO}</h3>.*?</li>", directory, re.S).group(0)
    assert CHANGED_MARK in sfo
    # The shipped contact stored again as it was (checked, say) is the shipped one, not a change.
    assert post(admin, url, website="https://sfo.govt.nz", email="", phone="", checked="y").status_code == 303
    entry = _referral_entry(officer.get(case).text)
    assert SHIPPED_MARK in entry and CHECKED_TODAY in entry and "changed by an administrator" not in entry

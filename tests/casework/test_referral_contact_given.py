"""The contact a discloser is given after an s 16 referral is the one of the moment of the referral,
sealed with it (issue 25, review M2), and a referral to "the head of any public sector organisation"
names the organisation and the contact the officer gives (M1). Over HTTP."""
from __future__ import annotations

import re

import pytest

from portal.core.words import head_of
from portal.core.context import open_context
from tests.conftest import MARKER
from tests.operations.test_admin_console import admin  # noqa: F401 (a fixture)
from tests.support import files_containing
from tests.support.console import case_links
from tests.support.referral import authority_id
from tests.support.workflow import disclose_to, officer_on_case, open_status, post

POLICE = "Commissioner of Police"
SHIPPED = "police.govt.nz, 105 (non-emergency)"
HEAD_OF_ANY = "The head of any public sector organisation"


def _contact_given(status_page: str) -> str:
    return re.search(r'<span id="authority-contact" lang="en">(.*?)</span>', status_page).group(1)


def _refer(officer, case: str, name: str, **fields):
    return post(officer, case + "/referral", authority=authority_id(officer.get(case).text, name),
                concerns="general", consultation="consulted", reason="Better placed.", **fields)


def test_a_contact_changed_after_a_referral_does_not_reach_the_discloser_already_referred(
        app, installation, admin):
    receipt = disclose_to(discloser := app.test_client())
    officer, case = officer_on_case(app, installation.officer)
    assert _refer(officer, case, POLICE).status_code == 303
    assert _contact_given(open_status(discloser, receipt)) == SHIPPED

    directory = admin.get("/console/admin/authorities").text
    police = re.search(rf'<li data-authority="(\d+)"><h3>{POLICE}</h3>', directory).group(1)
    assert post(admin, f"/console/admin/authorities/{police}/contact",
                website="https://evil.example").status_code == 303

    # The discloser already referred is still given the contact they were given, and the officer
    # who referred sees which that was.
    assert _contact_given(discloser.get("/status").text) == SHIPPED
    referral = re.search(r'<ul id="referral-list">.*?</ul>', officer.get(case).text, re.S).group(0)
    assert f'The discloser was given this contact: <span class="authority-contact">{SHIPPED}</span>' in referral
    assert "evil.example" not in referral

    # A new referral is given the contact of its day.
    later = disclose_to(second := app.test_client())
    [new_case] = [c for c in case_links(officer.get("/console/").text) if c != case]
    assert _refer(officer, new_case, POLICE).status_code == 303
    assert _contact_given(open_status(second, later)) == "https://evil.example"
    assert _contact_given(discloser.get("/status").text) == SHIPPED


def test_a_referral_to_the_head_of_any_public_sector_organisation_names_it_and_its_contact(
        app, installation):
    receipt = disclose_to(discloser := app.test_client())
    officer, case = officer_on_case(app, installation.officer)
    page = officer.get(case).text
    assert '<label for="referral-organisation">Which organisation, for "The head of any public sector organisation"</label>' in page

    refused = _refer(officer, case, HEAD_OF_ANY)
    assert refused.status_code == 400
    error = re.search(r'<p class="error" id="referral-organisation-error">(.*?)</p>', refused.text, re.S).group(1)
    assert "Name the public sector organisation whose head you are referring it to." in error
    assert 'data-status="referred"' not in open_status(discloser, receipt)

    contact = f"https://www.health.govt.nz, 0800 855 066 {MARKER}"
    assert _refer(officer, case, HEAD_OF_ANY, organisation=f"the Ministry of Health {MARKER}",
                  organisation_contact=contact).status_code == 303
    status = discloser.get("/status").text
    assert f"referred your disclosure to the<strong>head of the Ministry of Health {MARKER}</strong>" in \
        re.sub(r"\s+", " ", status).replace("the <strong>", "the<strong>")
    assert _contact_given(status) == contact
    assert "look up the official website of the head of any public sector organisation" not in status
    page = officer.get(case).text
    assert f"referred to the head of the Ministry of Health {MARKER}" in page
    assert f'The discloser was given this contact: <span class="authority-contact">{contact}</span>' in page
    # Kept sealed, as the referral's other details are.
    assert files_containing(installation.data_dir, MARKER.encode()) == []


def test_an_organisation_typed_for_an_authority_the_directory_names_is_refused_not_dropped(app, installation):
    receipt = disclose_to(discloser := app.test_client())
    officer, case = officer_on_case(app, installation.officer)
    refused = _refer(officer, case, POLICE, organisation="the Ministry of Health")
    assert refused.status_code == 400
    error = re.search(r'<p class="error" id="referral-organisation-error">(.*?)</p>', refused.text, re.S).group(1)
    assert "they are only for" in error
    assert 'value="the Ministry of Health"' in refused.text  # kept as typed
    ctx = open_context(installation.data_dir)
    assert ctx.db.execute("SELECT COUNT(*) FROM referrals").fetchone()[0] == 0
    assert _refer(officer, case, POLICE).status_code == 303
    status = open_status(discloser, receipt)
    assert "Ministry of Health" not in status and _contact_given(status) == SHIPPED


def test_the_head_of_an_organisation_reads_right_whether_or_not_the_officer_typed_the(app, installation):
    # Review N3: "Ministry of Health" typed without its article gave "the head of Ministry of Health".
    receipt = disclose_to(discloser := app.test_client())
    officer, case = officer_on_case(app, installation.officer)
    referred = _refer(officer, case, HEAD_OF_ANY, organisation=" Ministry of  Health.")
    assert referred.status_code == 303
    # Given no contact for it, the confirmation does not say the discloser sees how to contact it.
    page = officer.get(referred.headers["Location"]).text
    notice = " ".join(re.search(r'<p class="notice" role="status" id="notice">(.*?)</p>', page, re.S).group(1).split())
    assert "The case was referred to the head of the Ministry of Health (s 16)." in notice
    assert "but no contact for it: they are told to look up its official website" in notice
    assert "how to contact it" not in notice
    status = re.sub(r"\s+", " ", open_status(discloser, receipt)).replace("the <strong>", "the<strong>")
    assert "referred your disclosure to the<strong>head of the Ministry of Health</strong>" in status
    page = officer.get(case).text
    assert "referred to the head of the Ministry of Health" in page
    assert "head of Ministry" not in page + status
    # An organisation named by nothing but an article is refused, as an empty one is.
    refused = _refer(officer, case, HEAD_OF_ANY, organisation="The head of the")
    assert refused.status_code == 400
    assert "Name the public sector organisation whose head you are referring it to." in refused.text


@pytest.mark.parametrize(("typed", "given"), [
    ("the Ministry of Health", "The head of the Ministry of Health"),
    ("The head of The Ministry of Health", "The head of the Ministry of Health"),
    ("Department of Conservation", "The head of the Department of Conservation"),
    ("Te Whatu Ora", "The head of Te Whatu Ora"),
    ("Oranga Tamariki", "The head of Oranga Tamariki"),
    ("University of Auckland", "The head of the University of Auckland"),
])
def test_the_head_of_an_organisation_takes_the_article_its_name_needs(typed, given):
    assert head_of(typed) == given

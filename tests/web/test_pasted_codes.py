"""Codes pasted with invisible characters are found (portal.core.text.normalise_code), and counts read
in the right number (portal.core.text.count_of)."""
from __future__ import annotations

import pytest

from portal.core.text import count_of, normalise_code
from tests.support import csrf_token, receipt_from
from tests.support.console import case_links
from tests.support.discloser import disclose, open_status
from tests.support.enrolment import sign_in

INVISIBLE = ["\u200b", "\ufeff", "\u00a0", "\u00ad", "\u2060", "\u200e"]


@pytest.mark.parametrize("junk", INVISIBLE)
def test_a_receipt_pasted_with_an_invisible_character_opens_the_disclosure(client, junk):
    receipt = receipt_from(disclose(client, files=()).text)
    pasted = junk + receipt[:4] + junk + receipt[4:] + junk
    assert open_status(client, pasted).status_code == 303
    assert 'id="case-status"' in client.get("/status").text


def test_a_case_reference_pasted_into_the_inbox_search_is_found(app, installation):
    client = app.test_client()
    disclose(client, files=())
    assert sign_in(client, installation.officer).status_code == 303
    [case_url] = case_links(client.get("/console/").text)
    ref = case_url.rsplit("/", 1)[1]
    found = client.get("/console/", query_string={"q": "\ufeff" + ref + "\u200b"})
    assert case_links(found.text) == [case_url]


def test_a_six_digit_code_pasted_with_a_zero_width_space_signs_in(app, installation):
    client = app.test_client()
    officer = installation.officer
    code = officer.code()
    token = csrf_token(client.get("/console/login").text)
    response = client.post("/console/login", data={"csrf_token": token, "email": officer.email,
                                                   "passphrase": officer.passphrase,
                                                   "totp": "\u200b" + code[:3] + "\u00a0" + code[3:] + "\ufeff"})
    assert response.status_code == 303


def test_normalise_code_and_count_of():
    assert normalise_code("\uff11\uff12\u200b3 4\u00ad") == "1234"
    assert [count_of(n, "byte") for n in (0, 1, 2)] == ["0 bytes", "1 byte", "2 bytes"]


def test_a_one_byte_file_reads_1_byte_on_the_status_page(client):
    receipt = receipt_from(disclose(client, files=(("attachments", "a.txt", b"x"),)).text)
    open_status(client, receipt)
    page = client.get("/status").text
    assert "(1 byte)" in page and "1 bytes" not in page


def test_an_enrolment_link_pasted_with_a_zero_width_space_opens(app, installation):
    from urllib.parse import quote

    from tests.support.enrolment import invite
    path = invite(installation.data_dir, "dee@agency.govt.nz", "Dee New", "Audit and Risk")
    pasted = path + quote("\u200b")
    assert app.test_client().get(pasted).status_code == 200

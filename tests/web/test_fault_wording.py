"""The fault page's words fit the form (issue 24 review, L3): a sign-in met by a fault keeps the email to
copy and says nothing of files, which a sign-in has none of; a disclosure met by the same fault still
says its files must be chosen again."""
from __future__ import annotations

import html

from tests.support import csrf_token, database, disclosure_fields, post_multipart

SAME_ORIGIN = {"Sec-Fetch-Site": "same-origin"}
FILES = "any files must be chosen again"


def test_a_sign_in_met_by_a_fault_keeps_the_email_and_speaks_of_no_files(client, installation, monkeypatch):
    token = csrf_token(client.get("/console/login").text)
    database.take_away(installation.data_dir, monkeypatch)
    officer = installation.officer
    answer = client.post("/console/login", headers=SAME_ORIGIN, data={
        "csrf_token": token, "email": officer.email, "passphrase": officer.passphrase, "totp": officer.code()})
    assert answer.status_code == 503 and int(answer.headers["Retry-After"]) > 0
    page = html.unescape(answer.text)
    assert "Nothing was stored. What you wrote is still here. Please try again" in page, page
    assert officer.email in page and officer.passphrase not in page
    assert FILES not in page and "file" not in page.split("Nothing was stored", 1)[1].split("</p>", 1)[0]


def test_a_disclosure_met_by_the_same_fault_says_its_files_must_be_chosen_again(client, installation,
                                                                               monkeypatch):
    token = csrf_token(client.get("/disclose").text)
    database.take_away(installation.data_dir, monkeypatch)
    answer = post_multipart(client, "/disclose", disclosure_fields(token, "Typed before the fault."),
                            [("attachments", "a.txt", b"abc")], headers=SAME_ORIGIN)
    assert answer.status_code == 503
    assert f"What you wrote is still here; {FILES}." in html.unescape(answer.text)

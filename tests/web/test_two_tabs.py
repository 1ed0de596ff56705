"""The two-tab rule (portal.web.page_marks): a form acts on what its page showed, not on whatever the
browser's session holds when it is sent; a refused form does nothing and keeps what was typed."""
from __future__ import annotations

import re

from tests.conftest import MARKER
from tests.support import csrf_token, form_for, post_multipart, receipt_from
from tests.support.console import case_links
from tests.support.discloser import disclose, open_status
from tests.support.enrolment import STRONG, sign_in

SAME_ORIGIN = {"Sec-Fetch-Site": "same-origin"}


def page_for(html: str, action: str) -> str:
    """The `page_for` field of the form posted to `action` on a page."""
    form = re.search(r'<form[^>]*action="%s"[^>]*>(.*?)</form>' % re.escape(action), html, re.S)
    assert form, f"no form for {action}"
    mark = re.search(r'name="page_for" value="([^"]+)"', form.group(1))
    assert mark, f"the form for {action} does not name its page"
    return mark.group(1)


def as_shown(html: str, action: str, **typed: str) -> list[tuple[str, str]]:
    """The form posted to `action` as a browser sends it: each field as its page holds it, the
    `typed` ones filled in. The test adds no mark of its own, so a page naming none fails too."""
    fields = [(k, v) for k, v in form_for(html, action)["fields"] if k not in typed]
    return fields + list(typed.items())


def test_a_reply_written_on_one_disclosures_tab_never_goes_to_the_other(client):
    first = receipt_from(disclose(client, files=()).text)
    second = receipt_from(disclose(client, files=()).text)
    assert open_status(client, first).status_code == 303
    tab_one = client.get("/status").text
    assert open_status(client, second).status_code == 303  # the second tab opens the other one
    text = "Meant for the first disclosure " + MARKER
    refused = post_multipart(client, "/status/reply",
                             as_shown(tab_one, "/status/reply", message=text), headers=SAME_ORIGIN)
    assert refused.status_code == 409
    assert "another disclosure" in refused.text and text in refused.text  # kept, to go back in its box
    assert text not in client.get("/status").text  # nothing reached the second disclosure
    # With the first receipt, the message comes back in the box of the disclosure it was written for.
    page = client.get("/status").text
    back = client.post("/status", data={"csrf_token": csrf_token(page), "receipt": first,
                                        "carried-message": text}, headers=SAME_ORIGIN)
    assert back.status_code == 200 and f"{text}</textarea>" in back.text
    assert text not in client.get("/status").text


def test_the_reply_from_the_current_disclosures_page_is_sent(client):
    receipt = receipt_from(disclose(client, files=()).text)
    open_status(client, receipt)
    page = client.get("/status").text
    sent = post_multipart(client, "/status/reply", [
        ("csrf_token", csrf_token(page)), ("page_for", page_for(page, "/status/reply")),
        ("message", "A reply " + MARKER)])
    assert sent.status_code == 303 and "A reply " + MARKER in client.get("/status").text


def test_an_account_page_open_while_the_passphrase_changes_in_another_tab(app, installation):
    officer = installation.officer
    client = app.test_client()
    assert sign_in(client, officer).status_code == 303
    tab_one = client.get("/console/account").text
    tab_two = client.get("/console/account").text
    changed = client.post("/console/account/passphrase", data={
        "csrf_token": csrf_token(tab_two), "page_for": page_for(tab_two, "/console/account/passphrase"),
        "current_passphrase": officer.passphrase, "passphrase": STRONG, "passphrase_again": STRONG})
    assert changed.status_code == 303
    # The first tab still shows the account as it was: its forms do nothing now.
    stale = client.post("/console/account/second-factor/start", data={
        "csrf_token": csrf_token(tab_one),
        "page_for": page_for(tab_one, "/console/account/second-factor/start"), "passphrase": STRONG})
    assert stale.status_code == 409 and 'id="page-out-of-date"' in stale.text
    assert 'id="totp-secret"' not in client.get("/console/account").text  # no change was begun
    # The page it answers with is current: its form works.
    fresh = client.get("/console/account").text
    assert client.post("/console/account/second-factor/start", data={
        "csrf_token": csrf_token(fresh), "page_for": page_for(fresh, "/console/account/second-factor/start"),
        "passphrase": STRONG}).status_code == 303


def test_a_case_page_shown_to_one_officer_does_nothing_once_another_signs_in_and_keeps_the_text(
        app, installation):
    client = app.test_client()
    disclose(client, files=())
    assert sign_in(client, installation.officer).status_code == 303
    [case_url] = case_links(client.get("/console/").text)
    tab_one = client.get(case_url).text
    assert sign_in(client, installation.other_officer).status_code == 303  # another tab, another account
    text = "Reply drafted as Ana " + MARKER
    refused = client.post(case_url + "/reply", headers=SAME_ORIGIN,
                          data=dict(as_shown(tab_one, case_url + "/reply", message=text)))
    assert refused.status_code == 409 and text in refused.text and 'id="page-out-of-date"' in refused.text
    assert sign_in(client, installation.officer).status_code == 303
    assert text not in client.get(case_url).text.split("<textarea")[0]  # nothing was sent


def test_a_form_from_one_cases_page_is_refused_on_another_case(app, installation):
    client = app.test_client()
    disclose(client, files=())
    disclose(client, files=())
    assert sign_in(client, installation.officer).status_code == 303
    first, second = case_links(client.get("/console/").text)
    tab_one = client.get(first).text
    text = "A note about the first case " + MARKER
    refused = client.post(second + "/notes", data={
        "csrf_token": csrf_token(tab_one), "page_for": page_for(tab_one, first + "/notes"), "note": text},
        headers=SAME_ORIGIN)
    assert refused.status_code == 409 and text in refused.text
    assert text not in client.get(second).text.split("<textarea")[0]
    done = client.post(first + "/notes", data={
        "csrf_token": csrf_token(tab_one), "page_for": page_for(tab_one, first + "/notes"), "note": text})
    assert done.status_code == 303


def test_every_form_of_the_console_and_the_status_page_names_its_page(app, installation):
    client = app.test_client()
    receipt = receipt_from(disclose(client, files=()).text)
    open_status(client, receipt)
    status_page = client.get("/status").text
    assert sign_in(client, installation.officer).status_code == 303
    [case_url] = case_links(client.get("/console/").text)
    for html in (status_page, client.get(case_url).text, client.get("/console/account").text,
                 client.get("/console/").text, client.get("/console/memberships").text):
        forms = re.findall(r"<form[^>]*method=\"post\"[^>]*>(.*?)</form>", html, re.S)
        assert forms
        for body in forms:
            assert 'name="page_for"' in body, body[:200]


def test_the_acknowledgement_link_of_one_disclosures_tab_never_downloads_the_others(client):
    first = receipt_from(disclose(client, files=()).text)
    second = receipt_from(disclose(client, files=()).text)
    open_status(client, first)
    mark_one = page_for(client.get("/status").text, "/status/reply")
    open_status(client, second)
    mark_two = page_for(client.get("/status").text, "/status/reply")
    refused = client.get("/status/acknowledgement", query_string={"page_for": mark_one})
    assert refused.status_code == 409 and "another disclosure" in refused.text
    # From the current disclosure's page the link is judged as before (not acknowledged yet).
    assert client.get("/status/acknowledgement", query_string={"page_for": mark_two}).status_code == 404

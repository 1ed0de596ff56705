"""Careless and unusual input on every form (issue 11): nothing lost, nothing doubled, never a 500.

One section per kind of fault; each example of the issue is a test, and each kind is tried on at
least one more form or on the other audience."""
from __future__ import annotations

import re

import pytest

from portal.keys import accounts
from portal.records import case_attachments, case_history, casefiles
from portal.core.context import open_context
from tests.conftest import MARKER, add_account, officer_key, run_cli
from tests.support import (csrf_token, disclosure_fields, files_containing, form_for, post_multipart,
                           receipt_from)
from tests.support import database

SAME_ORIGIN = {"Sec-Fetch-Site": "same-origin"}


def count(installation, table: str) -> int:
    ctx = open_context(installation.data_dir)
    try:
        return ctx.db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
    finally:
        ctx.db.conn.close()


def blob_count(installation) -> int:
    return len(database.blobs(installation.data_dir))


def disclose_page_fields(client, **overrides):
    """The disclosure form as the page offers it (its one-time token included), filled in."""
    form = form_for(client.get("/disclose").text, "/disclose")
    values = dict(form["fields"])
    values.update({"channel": "Audit and Risk", "category": "public_funds", "summary": "Payments",
                   "details": MARKER, "disclosed_elsewhere": "no", "contact": ""})
    values.update(overrides)
    return [(k, v) for k, v in values.items() if v is not None]


def disclose(client, files=(), **overrides):
    response = post_multipart(client, "/disclose", disclose_page_fields(client, **overrides), files)
    assert response.status_code == 200, response.text
    return receipt_from(response.text)


def open_status(client, receipt):
    token = csrf_token(client.get("/status").text)
    response = client.post("/status", data={"csrf_token": token, "receipt": receipt})
    assert response.status_code == 303
    return client.get("/status").text


def sign_in(client, person, **extra):
    page = client.get("/console/login").text
    return client.post("/console/login", data={"csrf_token": csrf_token(page), "email": person.email,
                                               "passphrase": person.passphrase, "totp": person.code(), **extra})


def officer_case(ctx_dir, officer):
    ctx = open_context(ctx_dir)
    [(case_id,)] = ctx.db.execute("SELECT id FROM cases").fetchall()
    account, private_key = officer_key(ctx, officer)
    return ctx, case_id, casefiles.open_case_key(ctx, case_id, f"account:{account.id}", private_key)


@pytest.fixture
def admin(installation):
    return add_account(installation.data_dir, "admin", "root@agency.govt.nz", "Ada Admin")


@pytest.fixture
def officer_on_case(app, installation):
    """An officer signed in, and the URL of the one case they can read."""
    disclose(app.test_client())
    officer = app.test_client()
    sign_in(officer, installation.officer)
    [case_url] = re.findall(r'href="(/console/cases/[^"/]+)"', officer.get("/console/").text)
    return officer, case_url


# 1. A form sent twice makes one of something.

def test_a_resent_disclosure_makes_one_case_and_never_shows_a_second_receipt(client, installation):
    fields = disclose_page_fields(client)
    files = [("attachments", "evidence.pdf", b"%PDF " + MARKER.encode())]
    first = post_multipart(client, "/disclose", fields, files)
    receipt = receipt_from(first.text)
    again = post_multipart(client, "/disclose", fields, files)  # the receipt page reloaded: the browser resends
    assert again.status_code == 409
    assert "already received" in again.text and 'id="receipt"' not in again.text
    assert receipt not in again.text
    assert count(installation, "cases") == 1 and count(installation, "attachments") == 1
    assert blob_count(installation) == 1  # the resent file's blob was deleted
    # Only a hash of the token is kept, never the token or the receipt.
    token = dict(fields)["submission_token"]
    assert files_containing(installation.data_dir, token.encode()) == []
    assert files_containing(installation.data_dir, receipt.encode()) == []


def test_a_resent_discloser_reply_is_stored_once(client, installation):
    receipt = disclose(client)
    page = open_status(client, receipt)
    fields = [(k, v) for k, v in form_for(page, "/status/reply")["fields"] if k != "message"] + [("message", "Once")]
    for _ in range(2):
        response = post_multipart(client, "/status/reply", fields, [("attachments", "a.txt", b"abc")])
        assert response.status_code == 303
    assert count(installation, "messages") == 1 and count(installation, "attachments") == 1
    assert blob_count(installation) == 1


def test_a_resent_officer_reply_and_status_change_are_made_once(officer_on_case, installation):
    officer, case_url = officer_on_case
    page = officer.get(case_url).text
    reply = dict(form_for(page, case_url + "/reply")["fields"]) | {"message": "We have it."}
    status = dict(form_for(page, case_url + "/status")["fields"]) | {"status": "acknowledged"}
    for _ in range(2):
        assert officer.post(case_url + "/reply", data=reply).status_code == 303
        assert officer.post(case_url + "/status", data=status).status_code == 303
    assert count(installation, "messages") == 1
    assert count(installation, "status_events") == 2  # 'received', then one 'acknowledged'
    assert officer.get(case_url).text.count("We have it.") == 1


def test_a_resent_channel_form_adds_one_channel_without_an_error(app, installation, admin):
    client = app.test_client()
    sign_in(client, admin)
    page = client.get("/console/admin/").text
    fields = dict(form_for(page, "/console/admin/channels")["fields"]) | {"name": "Health"}
    assert client.post("/console/admin/channels", data=fields).status_code == 303
    again = client.post("/console/admin/channels", data=fields)
    assert again.status_code == 303  # not "a channel named 'Health' already exists"
    assert count(installation, "channels") == 3


# 2. An expired session keeps what was typed, in the answer only, for the same browser only.

def _expire_sessions(installation):
    ctx = open_context(installation.data_dir)
    ctx.db.execute("UPDATE sessions SET expires_at = expires_at - 3600")
    ctx.db.conn.close()


def test_a_discloser_reply_after_the_idle_limit_comes_back_in_its_box(client, installation):
    receipt = disclose(client)
    page = open_status(client, receipt)
    reply_fields = dict(form_for(page, "/status/reply")["fields"])
    _expire_sessions(installation)  # ten minutes of writing later
    text = ("A long follow-up. " * 170)[:3000] + MARKER
    response = post_multipart(client, "/status/reply", list((reply_fields | {"message": text}).items()),
                              [("attachments", "scan of the invoice.pdf", b"%PDF scan")], headers=SAME_ORIGIN)
    assert response.status_code == 401
    assert "was not sent" in response.text and MARKER in response.text
    assert "scan of the invoice.pdf" in response.text and "choose them again" in response.text
    assert count(installation, "messages") == 0 and blob_count(installation) == 0
    assert files_containing(installation.data_dir, MARKER.encode()) == []  # never stored

    # The receipt opens the thread with the message back in its box, not yet sent.
    carried = form_for(response.text, "/status")["fields"]
    opened = client.post("/status", data=dict(carried) | {"receipt": receipt}, headers=SAME_ORIGIN)
    assert opened.status_code == 200 and 'id="case-status"' in opened.text
    box = dict(form_for(opened.text, "/status/reply")["fields"])
    assert box["message"] == text and box["submission_token"] == reply_fields["submission_token"]
    assert count(installation, "messages") == 0
    assert post_multipart(client, "/status/reply", list(box.items())).status_code == 303
    assert count(installation, "messages") == 1


@pytest.mark.parametrize("headers", [{"Sec-Fetch-Site": "cross-site"}, {"Sec-Fetch-Site": "same-site"},
                                     {"Origin": "null"}, {"Origin": "https://attacker.example"}, {}])
def test_a_cross_site_post_cannot_plant_text(client, installation, headers):
    token = csrf_token(client.get("/status").text)
    response = post_multipart(client, "/status/reply", [("csrf_token", token), ("message", "Planted " + MARKER)],
                              headers=headers)
    assert response.status_code == 401 and MARKER not in response.text
    # Nor in the disclosure form, refused for its missing form cookie.
    response = post_multipart(app_client := client.application.test_client(), "/disclose",
                              disclosure_fields("", "Planted " + MARKER), headers=headers)
    assert response.status_code == 400 and MARKER not in response.text and app_client


def test_origin_of_the_portal_itself_counts_as_same_origin(client, installation):
    token = csrf_token(client.get("/status").text)
    response = post_multipart(client, "/status/reply", [("csrf_token", token), ("message", MARKER)],
                              headers={"Origin": "http://localhost"})
    assert response.status_code == 401 and MARKER in response.text


def test_an_officer_reply_after_the_idle_limit_comes_back_after_signing_in(officer_on_case, installation):
    officer, case_url = officer_on_case
    fields = dict(form_for(officer.get(case_url).text, case_url + "/reply")["fields"])
    _expire_sessions(installation)
    text = "A long reply\r\n\r\nwith paragraphs " + MARKER
    refused = officer.post(case_url + "/reply", data=fields | {"message": text}, headers=SAME_ORIGIN)
    assert refused.status_code == 401 and "Sign in" in refused.text and MARKER in refused.text
    assert count(installation, "messages") == 0
    login = form_for(refused.text, "/console/login")
    person = installation.officer
    back = officer.post("/console/login", headers=SAME_ORIGIN, data=dict(login["fields"]) | {
        "email": person.email, "passphrase": person.passphrase, "totp": person.code()})
    assert back.status_code == 200
    box = dict(form_for(back.text, case_url + "/reply")["fields"])
    assert box["message"] == "A long reply\n\nwith paragraphs " + MARKER
    assert count(installation, "messages") == 0
    assert files_containing(installation.data_dir, MARKER.encode()) == []
    assert officer.post(case_url + "/reply", data=box).status_code == 303
    assert count(installation, "messages") == 1


def test_an_acknowledgement_after_the_idle_limit_comes_back_in_its_box_after_signing_in(officer_on_case, installation):
    officer, case_url = officer_on_case
    fields = dict(form_for(officer.get(case_url).text, case_url + "/acknowledge")["fields"])
    _expire_sessions(installation)
    refused = officer.post(case_url + "/acknowledge", data=fields | {"message": "We have it. " + MARKER},
                           headers=SAME_ORIGIN)
    assert refused.status_code == 401 and MARKER in refused.text and count(installation, "messages") == 0
    person = installation.officer
    back = officer.post("/console/login", headers=SAME_ORIGIN, data=dict(form_for(refused.text, "/console/login")[
        "fields"]) | {"email": person.email, "passphrase": person.passphrase, "totp": person.code()})
    box = dict(form_for(back.text, case_url + "/acknowledge")["fields"])
    assert back.status_code == 200 and box["message"] == "We have it. " + MARKER
    assert officer.post(case_url + "/acknowledge", data=box).status_code == 303
    assert count(installation, "messages") == 1


def test_an_administrator_form_after_the_idle_limit_comes_back_after_signing_in(app, installation, admin):
    client = app.test_client()
    sign_in(client, admin)
    fields = dict(form_for(client.get("/console/admin/").text, "/console/admin/channels")["fields"])
    _expire_sessions(installation)
    refused = client.post("/console/admin/channels", headers=SAME_ORIGIN,
                          data=fields | {"name": "Health and Safety", "description": "Site safety team"})
    assert refused.status_code == 401 and "Site safety team" in refused.text
    back = client.post("/console/login", headers=SAME_ORIGIN,
                       data=dict(form_for(refused.text, "/console/login")["fields"]) | {
                           "email": admin.email, "passphrase": admin.passphrase, "totp": admin.code()})
    box = dict(form_for(back.text, "/console/admin/channels")["fields"])
    assert box["name"] == "Health and Safety" and box["description"] == "Site safety team"
    assert count(installation, "channels") == 2


def test_an_officer_form_whose_cookie_was_lost_keeps_its_text(officer_on_case, installation):
    officer, case_url = officer_on_case
    fields = dict(form_for(officer.get(case_url).text, case_url + "/reply")["fields"])
    officer.delete_cookie(officer.application.config["SESSION_COOKIE_NAME"])  # the browser restarted
    refused = officer.post(case_url + "/reply", data=fields | {"message": "Kept " + MARKER}, headers=SAME_ORIGIN)
    assert refused.status_code == 400 and MARKER in refused.text
    assert 'name="carried-message"' in refused.text


# 3. Attachment names arrive as the discloser chose them.

NAMES = {
    "a" * 230 + ".pdf": "a" * 230 + ".pdf",                     # 234 bytes: fits, unchanged
    "b" * 300 + ".pdf": "b" * 251 + ".pdf",                     # shortened in the stem, extension kept
    "é" * 200 + ".docx": "é" * 125 + ".docx",                   # 255 bytes of UTF-8, not 200 characters
    "report %22final%22.pdf": 'report "final".pdf',             # a browser-escaped quotation mark
    "\u0915\u094d\u200d\u0937 \U0001F469\u200d\U0001F4BB.txt": "\u0915\u094d\u200d\u0937 \U0001F469\u200d\U0001F4BB.txt",
    "invoice\u202egnp.exe": "invoicegnp.exe",                  # a direction override removed
    "a\tb\x7f.txt": "ab.txt",                                   # control characters removed
    "../../home/minutes.txt": "minutes.txt",                    # a path: its last part only
}


def test_backslashes_and_full_windows_paths():
    from portal.intake.filenames import clean_filename
    assert clean_filename("C:\\Users\\ana\\Desktop\\minutes.txt") == "minutes.txt"
    assert clean_filename("a\\b.txt") == "ab.txt"
    assert clean_filename("..") == clean_filename("") == clean_filename("\u202e") == "attachment"


def stored_names(installation, officer, message=False):
    ctx, case_id, case_key = officer_case(installation.data_dir, officer)
    if message:
        return [a.name for m in case_history.read_messages(ctx, case_id, case_key) for a in m.attachments]
    return [a.name for a in case_attachments.read_attachments(ctx, case_id, case_key)]


def test_attachment_names_keep_their_extension_and_their_joiners(client, installation):
    disclose(client, files=[("attachments", sent, b"x") for sent in NAMES])
    names = stored_names(installation, installation.officer)
    assert names == list(NAMES.values())
    assert all(len(n.encode()) <= 255 for n in names)


def test_attachment_names_of_a_reply_are_kept_the_same_way(app, installation):
    client = app.test_client()
    page = open_status(client, disclose(client))
    fields = [(k, v) for k, v in form_for(page, "/status/reply")["fields"] if k != "message"] + [("message", "m")]
    response = post_multipart(client, "/status/reply", fields,
                              [("attachments", "é" * 200 + ".docx", b"x"), ("attachments", "x%22y.pdf", b"y")])
    assert response.status_code == 303
    assert stored_names(installation, installation.officer, message=True) == ["é" * 125 + ".docx", 'x"y.pdf']
    # The officer downloads it under the same name.
    officer = app.test_client()
    sign_in(officer, installation.officer)
    case_url = re.findall(r'href="(/console/cases/[^"/]+)"', officer.get("/console/").text)[0]
    link = re.findall(r'href="(/console/cases/[^"]+/attachments/[^"]+)"', officer.get(case_url).text)[-1]
    assert "x%22y.pdf" in officer.get(link).headers["Content-Disposition"]


# 4. Numbers and identifiers are parsed strictly.

@pytest.mark.parametrize("page", ["²", "٣", "-1", "0", "1_0", " 2", "1e3", "99999999999999999999999999", ""])
def test_odd_page_numbers_give_the_first_page(officer_on_case, page):
    officer, case_url = officer_on_case
    response = officer.get("/console/", query_string={"page": page})
    assert response.status_code == 200 and case_url in response.text


def test_a_channel_is_chosen_by_its_name_never_by_id(client, installation):
    # A channel named "1", while "Audit and Risk" has the id 1.
    run_cli(installation.data_dir, "channel", "add", "1")
    add_account(installation.data_dir, "officer", "cy@agency.govt.nz", "Cy Third", ["1"])
    disclose(client, channel="1")
    ctx = open_context(installation.data_dir)
    [(channel_name,)] = ctx.db.execute("SELECT ch.name FROM cases c JOIN channels ch ON ch.id = c.channel_id").fetchall()
    assert channel_name == "1"


def test_the_cli_resolves_a_channel_by_its_name_never_by_id(installation):
    run_cli(installation.data_dir, "channel", "add", "2")
    add_account(installation.data_dir, "officer", "cy@agency.govt.nz", "Cy Third", ["2"])
    ctx = open_context(installation.data_dir)
    [(name,)] = ctx.db.execute("SELECT ch.name FROM channels ch JOIN channel_officers co ON co.channel_id = ch.id "
                               "JOIN accounts a ON a.id = co.account_id WHERE a.email = 'cy@agency.govt.nz'").fetchall()
    assert name == "2"  # not "Procurement", whose id is 2


@pytest.mark.parametrize("officer_id", ["²", "٣", "-1", "1.0", "99999999999999999999999999"])
def test_odd_officer_ids_on_the_membership_form_are_refused_plainly(app, installation, admin, officer_id):
    client = app.test_client()
    sign_in(client, admin)
    fields = dict(form_for(client.get("/console/admin/officers").text, "/console/admin/memberships")["fields"])
    response = client.post("/console/admin/memberships", data=fields | {"officer": officer_id, "channel": "Procurement"})
    assert response.status_code == 400


# 5. Line breaks are counted once and paragraphs are kept wherever typed text is shown.

def test_a_full_details_field_with_crlf_line_breaks_is_accepted(client, installation):
    paragraph = "x" * 98 + "\r\n"  # 99 characters as the browser counts them, 100 as sent
    details = paragraph * 2000 + "y" * (200_000 - 99 * 2000)
    assert len(details.replace("\r\n", "\n")) == 200_000
    disclose(client, details=details)
    ctx, case_id, case_key = officer_case(installation.data_dir, installation.officer)
    assert casefiles.read_fields(ctx, case_id, case_key)["details"] == details.replace("\r\n", "\n")


def test_typed_text_keeps_its_paragraphs_on_both_sides(app, installation):
    discloser = app.test_client()
    receipt = disclose(discloser, details="First paragraph.\r\n\r\nSecond <b>paragraph</b>.\r\nSame one.")
    officer = app.test_client()
    sign_in(officer, installation.officer)
    case_url = re.findall(r'href="(/console/cases/[^"/]+)"', officer.get("/console/").text)[0]
    page = officer.get(case_url).text
    assert "<p>First paragraph.</p><p>Second &lt;b&gt;paragraph&lt;/b&gt;.<br>Same one.</p>" in page
    status = dict(form_for(page, case_url + "/status")["fields"]) | {
        "status": "no_further_action", "reason": "One.\r\n\r\nTwo.", "expected_timeframe": ""}
    reply = dict(form_for(page, case_url + "/reply")["fields"]) | {"message": "Hello,\r\n\r\nthanks."}
    assert officer.post(case_url + "/status", data=status).status_code == 303
    assert officer.post(case_url + "/reply", data=reply).status_code == 303
    assert "<p>One.</p><p>Two.</p>" in officer.get(case_url).text  # the history
    thread = open_status(discloser, receipt)
    assert "<p>One.</p><p>Two.</p>" in thread  # the reason shown to the discloser
    assert "<p>Hello,</p><p>thanks.</p>" in thread


def test_a_crlf_reply_is_counted_and_stored_with_single_line_breaks(officer_on_case, installation):
    officer, case_url = officer_on_case
    fields = dict(form_for(officer.get(case_url).text, case_url + "/reply")["fields"])
    message = ("y" * 9 + "\r\n") * 18_182  # 181,820 characters with LF, 200,002 with CR LF
    assert officer.post(case_url + "/reply", data=fields | {"message": message}).status_code == 303
    ctx, case_id, case_key = officer_case(installation.data_dir, installation.officer)
    [stored] = case_history.read_messages(ctx, case_id, case_key)
    assert stored.body == message.replace("\r\n", "\n")


# 6. A missing optional field is an empty one.

def test_a_disclosure_without_a_contact_part_is_received(client, installation):
    receipt = disclose(client, contact=None)
    assert receipt
    ctx, case_id, case_key = officer_case(installation.data_dir, installation.officer)
    # Contact details are sealed apart under the identity key (portal.casework.identity): an empty one here.
    assert "contact" not in casefiles.read_fields(ctx, case_id, case_key)
    assert ctx.db.execute("SELECT name FROM identity_fields WHERE case_id = ? ORDER BY name",
                          [case_id]).fetchall() == [("contact",), ("identifying",)]


def test_status_and_channel_forms_without_their_optional_parts(officer_on_case, app, installation, admin):
    officer, case_url = officer_on_case
    fields = dict(form_for(officer.get(case_url).text, case_url + "/status")["fields"])
    fields = {k: v for k, v in fields.items() if k not in ("reason", "expected_timeframe")} | {"status": "assessing"}
    assert officer.post(case_url + "/status", data=fields).status_code == 303
    client = app.test_client()
    sign_in(client, admin)
    fields = {k: v for k, v in form_for(client.get("/console/admin/").text, "/console/admin/channels")["fields"]
              if k != "description"} | {"name": "Health"}
    assert client.post("/console/admin/channels", data=fields).status_code == 303


# 7. No default answers for the discloser; plain sign-out; dropped files named.

def test_required_choices_start_unselected_and_must_be_picked(client, installation):
    form = form_for(client.get("/disclose").text, "/disclose")
    for name in ("channel", "category", "disclosed_elsewhere"):
        options = form["selects"][name]
        assert options[0] == ("", False) and not any(selected for _, selected in options), name
    response = post_multipart(client, "/disclose", disclose_page_fields(client, category="", disclosed_elsewhere=""))
    assert response.status_code == 400
    assert "Please choose the kind of wrongdoing." in response.text
    assert "Please say whether you have raised it elsewhere." in response.text
    assert count(installation, "cases") == 0


def test_signing_out_of_a_disclosure_says_it_was_not_withdrawn(client, installation):
    page = open_status(client, disclose(client))
    assert "Close this disclosure" not in page and "Sign out of this disclosure" in page
    response = client.post("/status/logout", data={"csrf_token": csrf_token(page)}, follow_redirects=True)
    assert "You are signed out of your disclosure" in response.text and "not</strong> been withdrawn" in response.text
    assert 'id="case-status"' not in client.get("/status").text


def test_a_rejected_disclosure_names_the_files_that_were_dropped(client, installation):
    files = [("attachments", "minutes.pdf", b"a"), ("attachments", "photo 1.jpg", b"b")]
    response = post_multipart(client, "/disclose", disclose_page_fields(client, summary=""), files)
    assert response.status_code == 400
    dropped = re.search(r'id="dropped-files">.*?</div>', response.text, re.S).group(0)
    assert "minutes.pdf" in dropped and "photo 1.jpg" in dropped
    assert blob_count(installation) == 0


def test_a_rejected_reply_names_the_files_that_were_dropped(client, installation):
    page = open_status(client, disclose(client))
    fields = [(k, v) for k, v in form_for(page, "/status/reply")["fields"] if k != "message"] + [("message", "")]
    response = post_multipart(client, "/status/reply", fields, [("attachments", "notes.odt", b"a")])
    assert response.status_code == 400
    assert "notes.odt" in re.search(r'id="dropped-files">.*?</div>', response.text, re.S).group(0)


@pytest.mark.parametrize("form, fields, comes_back_in", [
    ("/extension", {"expected_timeframe": "About three months " + MARKER, "update_every": "20"}, "box"),
    ("/identity", {"recipient": "The investigator", "ground": "investigation", "reason": "Needed " + MARKER,
                   "consultation": "consulted", "consultation_note": ""}, "page"),
])
def test_console_text_after_the_idle_limit_comes_back_in_its_box_or_on_a_page_to_copy(
        officer_on_case, installation, form, fields, comes_back_in):
    """Every console form's text survives an expired session: into its box where the form has a page to
    show it in, else on a page of its own to copy from; never stored, and nothing done."""
    officer, case_url = officer_on_case
    page_fields = dict(form_for(officer.get(case_url).text, case_url + form)["fields"])
    _expire_sessions(installation)
    refused = officer.post(case_url + form, data=page_fields | fields, headers=SAME_ORIGIN)
    assert refused.status_code == 401 and MARKER in refused.text
    login = form_for(refused.text, "/console/login")
    person = installation.officer
    back = officer.post("/console/login", headers=SAME_ORIGIN, data=dict(login["fields"]) | {
        "email": person.email, "passphrase": person.passphrase, "totp": person.code()})
    assert back.status_code == 200 and MARKER in back.text
    if comes_back_in == "box":
        assert MARKER in dict(form_for(back.text, case_url + form)["fields"])["expected_timeframe"]
    else:
        assert 'id="carried"' in back.text and f'href="{case_url}"' in back.text and "readonly" in back.text
    assert files_containing(installation.data_dir, MARKER.encode()) == []


def test_an_oral_disclosure_after_the_idle_limit_comes_back_in_its_form(app, installation):
    officer = app.test_client()
    sign_in(officer, installation.officer)
    page_fields = dict(form_for(officer.get("/console/oral").text, "/console/oral")["fields"])
    _expire_sessions(installation)
    refused = officer.post("/console/oral", headers=SAME_ORIGIN, data=page_fields | {
        "channel": "Audit and Risk", "category": "offence", "summary": "Told by phone",
        "details": "What they said " + MARKER, "disclosed_elsewhere": "no"})
    assert refused.status_code == 401 and MARKER in refused.text
    person = installation.officer
    back = officer.post("/console/login", headers=SAME_ORIGIN, data=dict(form_for(refused.text, "/console/login")[
        "fields"]) | {"email": person.email, "passphrase": person.passphrase, "totp": person.code()})
    assert back.status_code == 200
    assert dict(form_for(back.text, "/console/oral")["fields"])["details"] == "What they said " + MARKER
    assert count(installation, "cases") == 0

"""The discloser's pages put the discloser first (issue 25): what is new, then the conversation, then
their own disclosure; the receipt in groups that never split, with a date to expect an answer; every
action confirmed; the printable proof of disclosure and the page that checks one in the browser."""
from __future__ import annotations

import html
import json
import re

import segno
from click.testing import CliRunner

from portal.cli import main as portal_cli
from tests.support import form_for, post_multipart, receipt_from
from tests.support.discloser import disclose
from tests.support.referral import authority_id
from tests.support.workflow import (disclose_to, expected_by, officer_on_case, open_status, post,
                                    today)  # noqa: F401  (today is a fixture)

REPLY = "Thank you. We are looking at the invoices now."
DETAILS = "The fuel card was used on weekends."


def test_the_receipt_comes_in_groups_that_never_split_with_a_date_to_hear_by(app, today):
    today.set("2026-03-02")
    page = disclose(app.test_client()).text
    code = re.search(r'<code id="receipt">(.+?)</code>', page).group(1)
    groups = re.findall(r'<span class="receipt-group">([^<]+)</span>', code)
    # One copyable code: the same text as ever, each group in an element kept on one line, with a break
    # allowed after each hyphen (<wbr>: a hyphen before a digit is no break opportunity of its own).
    assert "-".join(groups) == receipt_from(page) and len(groups) == 5
    assert re.fullmatch(r'(<span class="receipt-group">[^<]+</span>-<wbr>){4}<span class="receipt-group">[^<]+</span>', code)
    css = app.test_client().get("/static/discloser.css").text
    assert re.search(r"\.receipt-group\s*\{\s*white-space:\s*nowrap", css)
    assert "discloser.css" in page
    # 20 working days after 2 March 2026 (s 13), as people write it, the machine date beside it.
    answer = re.search(r'id="answer-by">.*?<time datetime="([0-9-]{10})">([^<]+)</time>', page, re.S)
    assert answer.groups() == ("2026-03-30", "30 March 2026")


def test_the_status_page_puts_what_is_new_first_then_the_thread_then_the_disclosure(app, installation, today):
    today.set("2026-03-02")
    discloser = app.test_client()
    receipt = disclose_to(discloser, details=DETAILS, summary="Fuel card misuse")
    officer, case = officer_on_case(app, installation.officer)
    assert post(officer, case + "/reply", message=REPLY).status_code == 303
    page = open_status(discloser, receipt)
    order = [page.index(mark) for mark in ('id="whats-new"', 'id="latest-reply"', 'id="case-status"',
                                            'id="expected-by"', 'id="thread"', 'id="your-disclosure"')]
    assert order == sorted(order)
    new = page[page.index('id="whats-new"'):page.index('id="thread"')]
    assert "1 new message" in new and REPLY in new
    assert re.search(r'<time id="expected-by" datetime="2026-03-30">30 March 2026</time>', page)
    assert expected_by(page) == "2026-03-30"
    # Their own disclosure to re-read: its text, below the conversation.
    mine = page[page.index('id="your-disclosure"'):]
    assert DETAILS in mine and "Fuel card misuse" in mine
    # Not acknowledged yet: no proof, and nothing of the proof on the status page.
    assert 'id="proof-link"' not in page and "commitment-salt" not in page

    # The discloser replies: the page it returns to says so (role="status"), and the reply is no longer new.
    fields = [(k, v) for k, v in form_for(page, "/status/reply")["fields"] if k != "message"]
    response = post_multipart(discloser, "/status/reply", fields + [("message", "Here is more.")],
                              [("attachments", "card.txt", b"x" * 2600)])
    assert response.status_code == 303 and response.headers["Location"].endswith("/status?done=sent#notice")
    after = discloser.get(response.headers["Location"]).text
    notice = re.search(r'<p class="notice" role="status" id="notice">([^<]+)</p>', after)
    assert notice and "Your message was sent" in notice.group(1)
    assert 'id="latest-reply"' not in after and "Here is more." in after and "card.txt (3 KB)" in after
    # The notice is the answer to that action only.
    assert 'role="status"' not in discloser.get("/status").text


def test_after_a_referral_the_discloser_sees_the_authority_and_how_to_reach_it_and_no_date(app, installation, today):
    today.set("2026-03-02")
    discloser = app.test_client()
    receipt = disclose_to(discloser)
    officer, case = officer_on_case(app, installation.officer)
    oag = authority_id(officer.get(case).text, "Controller and Auditor-General")
    assert post(officer, case + "/referral", authority=oag, concerns="general", consultation="consulted",
                consultation_note="Agreed.", reason="It concerns public funds.").status_code == 303
    page = open_status(discloser, receipt)
    referred = page[page.index('id="referred-to"'):page.index('id="thread"')]
    assert "<strong>Controller and Auditor-General</strong>" in referred and "s 16" in referred
    assert '<span id="authority-contact" lang="en">oag.parliament.nz</span>' in referred
    assert "s 13(1)(e)" in referred  # the duty to tell them what was done stays
    assert expected_by(page) is None and "You should hear from the integrity officers by" not in page


def _acknowledged(app, installation, today):
    today.set("2026-03-02")
    discloser = app.test_client()
    receipt = disclose_to(discloser, details=DETAILS)
    officer, case = officer_on_case(app, installation.officer)
    assert post(officer, case + "/steps", step="acknowledge").status_code == 303
    open_status(discloser, receipt)
    return discloser


def test_the_printable_proof_carries_the_signed_statement_as_text_and_qr_code(app, installation, today, tmp_path):
    discloser = _acknowledged(app, installation, today)
    status = discloser.get("/status").text
    assert re.search(r'href="/status/proof\?page_for=[^"]+"', status) and "commitment-salt" not in status
    response = discloser.get("/status/proof")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    page = response.text
    signed = discloser.get("/status/acknowledgement").data
    # The signed file itself, as text to retype and as a QR code (inline SVG: nothing fetched).
    assert html.unescape(re.search(r'<pre class="signed-file" id="proof-text">(.*?)</pre>', page, re.S).group(1)) \
        == signed.decode()
    assert re.search(r'id="proof-qr"[^>]*><svg', page)
    # The QR code holds exactly the signed file's bytes (the final new line included), in low error correction.
    qr = segno.make(signed, error="l")
    assert qr.svg_inline(scale=3, border=4) in page and qr.mode == "byte"
    statement = json.loads(signed)["statement"]
    assert f"<dd lang=\"en\">{statement['case_ref']}</dd>" in page and '<time datetime="2026-03-02">2 March 2026</time>' in page
    assert DETAILS not in page and "@media print" in app.test_client().get("/static/discloser.css").text
    assert 'href="/verify"' in page
    # The private checking code is on the screen for the discloser, never on the printed proof.
    salt_section = page[page.rindex("<section", 0, page.index('id="commitment-salt"')):]
    assert salt_section.startswith('<section class="no-print"') and salt_section.index("</section>") > \
        salt_section.index('id="opening"')
    # The file the page carries checks with the command line; one character changed, it does not.
    good, edited = tmp_path / "good.json", tmp_path / "edited.json"
    good.write_bytes(signed)
    edited.write_bytes(signed.replace(b"2026-03-02", b"2026-02-27"))
    key = app.test_client().get("/signing-key").text
    key = re.search(r"[0-9a-f]{64}", key).group(0)
    runner = CliRunner()
    assert runner.invoke(portal_cli, ["verify-ack", str(good), "--key", key]).exit_code == 0
    assert runner.invoke(portal_cli, ["verify-ack", str(edited), "--key", key]).exit_code == 1


def test_the_checking_page_runs_one_same_origin_script_and_comes_as_one_file_to_keep(app, installation):
    client = app.test_client()
    response = client.get("/verify")
    assert response.status_code == 200
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "default-src 'none'" in policy and "unsafe" not in policy
    assert "frame-ancestors 'none'" in policy and response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Cache-Control"] == "no-store"
    page = response.text
    scripts = re.findall(r"<script[^>]*>", page)
    assert scripts == ['<script src="/static/verify.js">']
    assert "portal verify-ack FILE --key KEY" in page.split("<noscript>")[1].split("</noscript>")[0]
    assert '<form' not in page  # nothing is ever sent: the file is read in the page
    key = re.search(r'id="proof-key" name="key" value="([0-9a-f]{64})"', page).group(1)
    assert key in client.get("/keys").text
    # The copy to keep: the script and styles inside it, nothing from anywhere.
    saved = client.get("/verify/checker.html")
    assert saved.headers["Content-Disposition"].startswith("attachment;")
    text = saved.text
    assert client.get("/static/verify.js").text in text and "<script src" not in text
    assert not re.search(r'(src|href)="(https?:)?//', text) and 'rel="stylesheet"' not in text
    assert 'href="/' not in text and 'src="/' not in text  # no link that would break opened from disk
    assert f'value="{key}"' in text


def _ids_and_labels(page: str) -> tuple[list[str], list[str], set[str]]:
    ids = re.findall(r'\sid="([^"]+)"', page)
    return ids, re.findall(r'<label for="([^"]+)"', page), set(ids)


def test_the_discloser_pages_reuse_no_id_and_every_label_names_a_field(app, installation, today):
    discloser = _acknowledged(app, installation, today)
    officer, case = officer_on_case(app, installation.officer)
    assert post(officer, case + "/reply", message=REPLY).status_code == 303
    pages = {"status": discloser.get("/status").text, "proof": discloser.get("/status/proof").text,
             "verify": discloser.get("/verify").text, "saved checker": discloser.get("/verify/checker.html").text,
             "receipt": disclose(app.test_client()).text}
    for name, page in pages.items():
        ids, labels, known = _ids_and_labels(page)
        assert len(ids) == len(known), (name, sorted(i for i in known if ids.count(i) > 1))
        assert all(label in known for label in labels), (name, labels)
        # No Python repr, no internal key shown as words.
        assert not re.search(r"\w+\(id=|<[a-z_.]+ object at 0x", page), name
    # What is new names the reply; the disclosure is there to re-read (its text and no file sizes in bytes).
    assert REPLY in pages["status"].split('id="thread"')[0] and DETAILS in pages["status"]

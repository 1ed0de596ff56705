"""The sealing pages in Debian's chromium (issue 27; the first test run twice): a disclosure with a
5 MiB file (with the JIT and jitless) in 64 KiB parts sealed in the browser (static/seal/disclose.html), one of its parts cut
off on the way and resumed, an officer's reply read and answered on the status page with script
(static/seal/status.html), with the JIT on and again as Tor Browser's "Safer" level runs script
(`--jitless`, no WebAssembly); a planted marker reaches no request body (as the browser sent it
and as the server received it, at the WSGI layer) and no file, and the officer reads it all. A key swapped in the database is refused by the page, in plain words, and
the disclosure still reaches the verified officer. An upload cut off by closing the page resumes
when the same file is chosen again on a new page."""
from __future__ import annotations

import json
import os
from collections import Counter

import pytest

import crypto
from tests.conftest import MARKER, add_account
from tests.support import files_containing
from tests.support.browser import (CHROMIUM, CHROMIUM_ARGS, NARROW, AnswerLost, axe_violations, base_url,  # noqa: F401  (fixtures)
                                   base_url_and_bodies, browser,
                                   describe_violations, horizontal_overflow, keyboard_problems, require_axe,
                                   require_browser)
from tests.intake.test_written_language import WRITTEN_IN
from tests.support.sealing import sign_bundle, swap_officer_key
from tests.support.workflow import officer_on_case, post

pytestmark = [pytest.mark.browser, pytest.mark.slow]

JITLESS = ["--js-flags=--jitless --no-expose-wasm"]
REPLY = "Thank you. We have started looking at the fuel card statements."
# 5 MiB in 64 KiB parts, with the JIT and without it (jitless), as the issue asks (the bench times
# 200 MiB).
FILE_BYTES = {False: 5 * 1024 * 1024, True: 5 * 1024 * 1024}
KEPT_FOR_RESUMING = "Object.keys(localStorage).filter(k => k.startsWith('portal-sealing-resume:'))"
# How many keys the page keeps in IndexedDB to authenticate its resume records.
RESUME_KEYS = """() => new Promise((resolve) => { const o = indexedDB.open('portal-sealing', 1);
    o.onupgradeneeded = () => o.result.createObjectStore('keys');
    o.onsuccess = () => { const c = o.result.transaction('keys').objectStore('keys').count();
                          c.onsuccess = () => { o.result.close(); resolve(c.result); }; }; })"""


@pytest.fixture(autouse=True)
def signed_bundle(app, installation, monkeypatch):
    """The sealing page refuses to seal without a signed bundle whose roots are the portal's."""
    return sign_bundle(app, installation.data_dir, monkeypatch)


@pytest.fixture(params=[False, True], ids=["jit", "jitless"])
def jitless_browser(request):
    require_browser()
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium",
                                             args=CHROMIUM_ARGS + (JITLESS if request.param else []))
        yield request.param, browser
        browser.close()


def _fill_disclosure(page, base_url, values):
    page.goto(base_url + "/disclose")
    page.get_by_role("link", name="Seal it in your browser instead").click()
    page.get_by_label("Who should receive this disclosure?").wait_for()
    page.get_by_label("Who should receive this disclosure?").select_option("Audit and Risk")
    page.get_by_label("What kind of serious wrongdoing is it?").select_option("public_funds")
    page.get_by_label("A short title").fill(values["summary"])
    page.get_by_label("What happened?").fill(values["details"])
    page.get_by_label("Have you raised this anywhere else?").select_option("no")
    if "language" in values:
        page.get_by_label("The language you wrote in").select_option(values.pop("language"))
    page.get_by_label("How to contact you (optional)").fill(values["contact"])
    page.get_by_label("Anything else that could identify you (optional)").fill(values["identifying"])


def _receipt_after_sending(page) -> str:
    page.get_by_role("button", name="Seal and send").click()
    page.locator("#done").wait_for(timeout=240_000)
    assert "sealed in your browser" in page.locator("#sealing-mode").inner_text()
    return page.locator("#receipt").inner_text()


def test_a_disclosure_sealed_in_the_browser_with_a_file_a_reply_and_a_status_check(jitless_browser, base_url_and_bodies,
                                                                                   app, installation):
    jitless, browser = jitless_browser
    base_url, received = base_url_and_bodies
    values = {"summary": f"Fuel cards {MARKER}", "details": f"Used on weekends. {MARKER}",
              "contact": f"Signal {MARKER}", "identifying": f"Night shift {MARKER}"}
    # The language it was written in, sealed with it (issue 28): "I would rather not say" chosen
    # (never the page's language, a guess) until the discloser chooses one.
    written = "mi" if jitless else None
    data = os.urandom(FILE_BYTES[jitless] // 2) + MARKER.encode() + os.urandom(FILE_BYTES[jitless] // 2)
    context = browser.new_context(viewport=NARROW)
    page = context.new_page()
    bodies: list[bytes] = []
    page.on("request", lambda r: bodies.append(r.post_data_buffer or b""))
    cut = []

    def cut_part_three_once(route):
        # The connection drops while the fourth part is on its way: the page carries on from the
        # last part the portal kept.
        if not cut:
            cut.append(route.request.url)
            route.abort()
        else:
            route.continue_()

    page.route("**/parts/3", cut_part_three_once)
    _fill_disclosure(page, base_url, {**values, **({"language": written} if written else {})})
    assert page.locator("#language").input_value() == (written or "")
    assert page.evaluate("typeof WebAssembly") == ("undefined" if jitless else "object")
    # Nothing on the page can be posted in the clear: no input has a name.
    assert page.locator("input[name], textarea[name], select[name]").count() == 0
    page.get_by_label("Files (optional)").set_input_files(
        {"name": f"statement {MARKER}.pdf", "mimeType": "application/pdf", "buffer": data})
    page.evaluate("""() => { window.progressSaid = [];
        new MutationObserver(() => window.progressSaid.push(document.getElementById('progress-words').textContent))
          .observe(document.getElementById('progress-words'), {childList: true, characterData: true, subtree: true}); }""")
    receipt = _receipt_after_sending(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= NARROW["width"]
    parts = -(-crypto.padded_blob_size(len(data)) // crypto.CHUNK_SIZE)
    said = page.evaluate("window.progressSaid")
    # Progress shown part by part, the interruption said in plain words, and every part sent.
    assert f"Sending your file: part {parts} of {parts}." in said and f"Sending your file: part 3 of {parts}." in said
    assert any(s.startswith("The connection was interrupted while sending your file.") for s in said)
    assert cut and sum(1 for b in bodies if len(b) == crypto.CHUNK_SIZE) >= parts - 1

    officer, case = officer_on_case(app, installation.officer)
    shown = officer.get(case).text
    assert 'data-sealed-by="browser"' in shown and "Sealed in the discloser's browser" in " ".join(shown.split())
    for value in values.values():
        assert value in shown
    assert WRITTEN_IN.findall(shown) == (["te reo Māori"] if written else [])
    [attachment] = [line.split("/attachments/")[1].split('"')[0] for line in shown.splitlines()
                    if "/attachments/" in line][:1]
    assert officer.get(f"{case}/attachments/{attachment}").data == data
    assert post(officer, case + "/reply", message=REPLY).status_code == 303

    page.goto(base_url + "/static/seal/status.html")
    page.get_by_label("Receipt code").fill(receipt)
    page.get_by_role("button", name="Open").click()
    page.locator("#case:not([hidden])").wait_for()
    assert "sealed in your browser" in page.locator("#sealing-mode").inner_text()
    assert REPLY in page.locator("#messages").inner_text()
    page.get_by_label("Your message").fill(f"The statements are in the top drawer. {MARKER}")
    page.get_by_role("button", name="Send message").click()
    page.locator("#sent:not([hidden])").wait_for()
    page.get_by_text("The statements are in the top drawer.").wait_for()
    context.close()

    assert f"The statements are in the top drawer. {MARKER}" in officer.get(case).text
    assert len(bodies) > parts
    assert [b[:80] for b in bodies if MARKER.encode() in b] == []
    # And as the server received them, at the WSGI layer: every body the browser sent arrived
    # there but the part cut off on the way, and none holds the marker.
    sent, arrived = Counter(b for b in bodies if b), Counter(b for b in received() if b)
    assert sum(arrived.values()) > parts + 2 and arrived - sent == Counter()
    assert [len(b) for b in (sent - arrived).elements()] == [crypto.CHUNK_SIZE]
    assert [b[:80] for b in received() if MARKER.encode() in b] == []
    assert files_containing(installation.data_dir, MARKER.encode()) == []


def test_a_key_swapped_in_the_database_is_refused_in_plain_words_and_the_verified_officer_receives(
        base_url, app, installation):
    require_browser()
    require_axe()
    from playwright.sync_api import sync_playwright
    cat = add_account(installation.data_dir, "officer", "cat@agency.govt.nz", "Cat Colleague", ["Audit and Risk"])
    swap_officer_key(installation.data_dir, cat.email)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        # bypass_csp only so that axe-core can be injected (tests/support/browser.py).
        page = browser.new_page(viewport=NARROW, bypass_csp=True)
        _fill_disclosure(page, base_url, {"summary": "Fuel cards", "details": "Used on weekends.",
                                          "contact": "", "identifying": ""})
        warning = page.locator("#roster-problem").inner_text()
        assert "will not seal your disclosure to Cat Colleague" in warning and "still reaches Ana Officer" in warning
        assert axe_violations(page) == [], describe_violations("sealing page", axe_violations(page))
        assert horizontal_overflow(page) is None
        assert keyboard_problems(page) == []
        # An officer joins the channel while the page is open: the portal refuses envelopes that miss
        # them, the page says so and seals afresh to the new roster at the next click.
        add_account(installation.data_dir, "officer", "dan@agency.govt.nz", "Dan Newcomer", ["Audit and Risk"])
        page.get_by_role("button", name="Seal and send").click()
        page.locator("#problem:not([hidden])").wait_for()
        assert "Who may read this channel changed while you wrote." in page.locator("#problem").inner_text()
        page.wait_for_function("!document.getElementById('send').disabled")
        # The portal stores the next one but its answer is lost on the way back: the page cannot know,
        # says so, and the next click sends the same sealed disclosure, which the portal already has.
        dropped = AnswerLost()
        page.route("**/disclose/sealed", dropped)
        page.get_by_role("button", name="Seal and send").click()
        page.get_by_text("does not know whether the portal received it").wait_for()
        assert dropped.statuses == [201]
        page.wait_for_function("!document.getElementById('send').disabled")
        receipt = _receipt_after_sending(page)
        assert axe_violations(page) == [], describe_violations("sealed receipt", axe_violations(page))
        page.goto(base_url + "/status")
        page.get_by_role("link", name="Check it in your browser instead").click()
        page.get_by_label("Receipt code").fill(crypto.new_receipt())  # another receipt: it opens nothing
        page.get_by_role("button", name="Open").click()
        page.locator("#problem:not([hidden])").wait_for()
        assert "We could not open a disclosure with that code." in page.locator("#problem").inner_text()
        page.get_by_label("Receipt code").fill(receipt.lower().replace("-", " "))  # as people type it
        page.get_by_role("button", name="Open").click()
        page.locator("#case:not([hidden])").wait_for()
        assert "No messages yet." in page.locator("#messages").inner_text()
        assert axe_violations(page) == [], describe_violations("status with script", axe_violations(page))
        assert horizontal_overflow(page) is None
        browser.close()
    officer, case = officer_on_case(app, installation.officer)
    assert "Used on weekends." in officer.get(case).text


def test_a_photo_sealed_in_the_browser_loses_its_location_and_names_before_it_is_sent(base_url, app, installation):
    """static/seal/hidden-details.js called by the sealing page, under its box ticked by default
    (issue 26 review, M3): the officer gets the photo without its GPS position or the
    photographer's name, the receipt says per file what was removed or not checked, in the
    ordinary form's words, and the original is kept for the discloser alone until handed over."""
    require_browser()
    import io
    import re

    from PIL import Image

    from tests.support import form_for
    from tests.support.discloser import open_status
    from tests.support.console import case_links, sign_in
    from tests.support.hidden_files import PERSON, jpeg_with_gps, pdf
    from playwright.sync_api import sync_playwright
    photo, letter = jpeg_with_gps(), pdf()
    assert PERSON.encode() in photo
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page(viewport=NARROW)
        _fill_disclosure(page, base_url, {"summary": "Fuel cards", "details": "Photo of the card.",
                                          "contact": "", "identifying": ""})
        assert page.get_by_label("Remove hidden details (author, edit history, location) from my files").is_checked()
        assert "cannot check PDFs" in page.locator("#hidden-details").inner_text()
        page.get_by_label("Files (optional)").set_input_files([
            {"name": "card.jpg", "mimeType": "image/jpeg", "buffer": photo},
            {"name": "letter.pdf", "mimeType": "application/pdf", "buffer": letter},
            {"name": "notes.txt", "mimeType": "text/plain", "buffer": b"Minutes of the meeting.\n"}])
        receipt = _receipt_after_sending(page)
        report = " ".join(page.locator("#metadata-report").inner_text().split())
        # Unticked, a second disclosure: the photo goes as chosen, and the receipt says so.
        _fill_disclosure(page, base_url, {"summary": "Fuel cards again", "details": "The card, as it is.",
                                          "contact": "", "identifying": ""})
        page.get_by_label("Remove hidden details (author, edit history, location) from my files").uncheck()
        page.get_by_label("Files (optional)").set_input_files({"name": "as-is.jpg", "mimeType": "image/jpeg",
                                                               "buffer": photo})
        _receipt_after_sending(page)
        left = " ".join(page.locator("#metadata-report").inner_text().split())
        browser.close()
    assert "as-is.jpg: not checked: you chose to leave any hidden details in, so the officers can see them." in left
    assert re.search(r"card\.jpg: removed: [^.]*location \(GPS position\)[^.]*\. Your original is kept sealed to"
                     r" your receipt code alone\.", report), report
    assert "letter.pdf: not checked: your browser cannot check this kind of file" in report
    assert "notes.txt: plain text: it has no place for hidden details" in report
    officer = app.test_client()
    sign_in(officer, installation.officer)
    cases = {}
    for case in case_links(officer.get("/console/").text):
        page_text = officer.get(case).text
        cases["as-is.jpg" in page_text] = case, page_text
    [left_case, left_text] = cases[True]
    assert "hidden details were left in, as the discloser chose" in " ".join(left_text.split())
    [url] = re.findall(r'href="(/console/cases/[^"]+/attachments/[^"]+)"', left_text)
    assert officer.get(url).data == photo
    case, page_text = cases[False]
    shown = " ".join(page_text.split())
    attachments = dict(re.findall(r'<a href="(/console/cases/[^"]+/attachments/[^"]+)">([^<]+)</a>', page_text))
    received = {name: officer.get(url).data for url, name in attachments.items()}
    assert PERSON.encode() not in received["card.jpg"] and b"Exif" not in received["card.jpg"]
    assert Image.open(io.BytesIO(received["card.jpg"])).getexif().get_ifd(0x8825) == {}
    assert received["letter.pdf"] == letter
    assert "removed at the discloser's request" in shown and "location" in shown.lower()
    assert "/originals/" not in page_text
    # The original, sealed to the discloser's receipt in the browser: theirs to hand over.
    discloser = app.test_client()
    assert open_status(discloser, receipt).status_code == 303
    status_page = discloser.get("/status").text
    action = next(a for a in re.findall(r'action="([^"]+)"', status_page) if "/status/originals/" in a)
    form = form_for(status_page, action)
    assert discloser.post(action, data=dict(form["fields"], understood="y")).status_code == 303
    [original] = re.findall(r'href="(/console/cases/[^"]+/originals/[^"]+)"', officer.get(case).text)
    assert officer.get(original).data == photo


def test_a_manifest_whose_roots_are_not_the_portals_makes_the_page_refuse_to_seal(base_url, app, installation,
                                                                                   browser, monkeypatch):
    # Signed with another root for the channel: the portal's roots (its roots file or database)
    # then differ from the signed ones, and the page seals nothing.
    import nacl.signing
    served = app.test_client().get("/disclose/sealed/roots").get_json()["roots"]
    other = {int(c): bytes(nacl.signing.SigningKey.generate().verify_key) for c in served}
    sign_bundle(app, installation.data_dir, monkeypatch, roots=other)
    page = browser.new_page(viewport=NARROW)
    page.goto(base_url + "/static/seal/disclose.html")
    page.locator("#problem:not([hidden])").wait_for()
    assert "will not seal your disclosure" in page.locator("#problem").inner_text()
    assert "other keys for its readers" in page.locator("#problem").inner_text()
    # Unsigned (the signature file gone): refused too, in plain words.
    (installation.data_dir / "seal-bundle" / "bundle-manifest.json.sig").unlink()
    page.reload()
    page.locator("#problem:not([hidden])").wait_for()
    assert "could not be checked" in page.locator("#problem").inner_text()
    # An attacker who can write the data directory only (the fresh review's H1): a root of their
    # own in its roots file, and the bundle signed again with a release key of their own into its
    # seal-bundle/, key file included. The portal still serves the operator's key, so the page
    # refuses the attacker's signature and seals nothing.
    from crypto import bundle
    from portal.keys import roster_files
    from portal.operations import release_bundle
    operators = app.test_client().get("/static/seal/release-key.json").data
    (installation.data_dir / "roster-roots.json").write_text(roster_files.roots_document(other))
    assert {int(c) for c in app.test_client().get("/disclose/sealed/roots").get_json()["roots"]} == set(other)
    release_bundle.sign_into_data_dir(installation.data_dir, bundle.release_key_document(os.urandom(32)), other,
                                      "attacker")
    assert app.test_client().get("/static/seal/release-key.json").data == operators
    page.reload()
    page.locator("#problem:not([hidden])").wait_for()
    assert "signed by another key" in page.locator("#problem").inner_text()
    assert page.locator("#seal-form").is_hidden()
    page.close()


@pytest.mark.parametrize("closed", ["page", "browser"])
def test_an_upload_cut_off_by_closing_the_page_resumes_when_the_same_file_is_chosen_again(closed, base_url, app,
                                                                                          installation, browser):
    """The page (or the whole browser, and with it the session cookie) closes after six parts;
    reopened, with the same file chosen again, it carries on from part seven (the portal's count),
    says so, and the officer reads the whole file. What the browser kept holds no plaintext and no
    key in clear, and goes once the disclosure is sent."""
    data = os.urandom(512 * 1024) + MARKER.encode() + os.urandom(512 * 1024)
    upload = {"name": "statement.pdf", "mimeType": "application/pdf", "buffer": data}
    values = {"summary": "Fuel cards", "details": "Used on weekends.", "contact": "", "identifying": ""}
    parts = -(-crypto.padded_blob_size(len(data)) // crypto.CHUNK_SIZE)
    profile = installation.data_dir.parent / "profile"

    def opened():
        # The whole browser closed and opened again on its profile keeps its storage (IndexedDB
        # with it) but not the session cookie the upload is bound to.
        if closed == "page":
            return browser.new_context()
        return browser.browser_type.launch_persistent_context(str(profile), executable_path=str(CHROMIUM),
                                                              args=CHROMIUM_ARGS)
    context = opened()
    page = context.new_page()
    page.route("**/parts/6", lambda route: route.abort())  # the seventh part never arrives
    _fill_disclosure(page, base_url, values)
    page.get_by_label("Files (optional)").set_input_files(upload)
    page.get_by_role("button", name="Seal and send").click()
    page.get_by_text("The connection was interrupted while sending your file.").wait_for()
    page.close()
    if closed == "browser":
        first_cookies = context.cookies()
        context.close()
        context = opened()

    page = context.new_page()
    sent: list[str] = []
    page.on("request", lambda r: sent.append(r.url))
    _fill_disclosure(page, base_url, values)
    [name] = page.evaluate(KEPT_FOR_RESUMING)
    kept = page.evaluate("k => localStorage.getItem(k)", name)
    record = json.loads(kept)
    assert set(record) == {"v", "day", "salt", "files"} and [set(f) for f in record["files"]] == [
        {"size", "upload", "parts", "sealed"}]
    assert page.evaluate(RESUME_KEYS) == 1
    assert record["files"][0]["parts"] == 6 and MARKER not in kept
    if closed == "browser":  # a new session: its form token is not the one the upload was begun under
        def session_of(cookies):
            return [c["value"] for c in cookies if c["name"].startswith("__Host-pd_form")]
        assert session_of(context.cookies()) and session_of(context.cookies()) != session_of(first_cookies)
    # What the browser kept is only a hint: the portal's count of stored parts decides.
    record["files"][0]["parts"] = 2
    page.evaluate("([k, v]) => localStorage.setItem(k, v)", [name, json.dumps(record)])
    page.get_by_label("Files (optional)").set_input_files(upload)
    page.evaluate("""() => { window.progressSaid = [];
        new MutationObserver(() => window.progressSaid.push(document.getElementById('progress-words').textContent))
          .observe(document.getElementById('progress-words'), {childList: true, characterData: true, subtree: true}); }""")
    _receipt_after_sending(page)
    said = page.evaluate("window.progressSaid")
    assert f"Carrying on with your file from part 7 of {parts}, where sending it stopped." in said
    assert f"Sending your file: part {parts} of {parts}." in said
    put = sorted(int(u.rsplit("/", 1)[1]) for u in sent if "/parts/" in u)
    assert put == list(range(6, parts))  # none of the six stored parts sent again
    assert page.evaluate(KEPT_FOR_RESUMING) == [] and page.evaluate(RESUME_KEYS) == 0
    context.close()

    officer, case = officer_on_case(app, installation.officer)
    shown = officer.get(case).text
    [attachment] = [line.split("/attachments/")[1].split('"')[0] for line in shown.splitlines()
                    if "/attachments/" in line][:1]
    assert officer.get(f"{case}/attachments/{attachment}").data == data


def test_a_resume_record_planted_by_someone_who_knows_the_file_is_refused(base_url, app, installation, browser):
    """Someone who knows the file (the organisation's own document) begins an upload of their own
    and plants a record for it in the discloser's storage, sealed under the file's hash, naming a
    case key and case id of theirs (the fresh review's M1). The record is not sealed under this
    browser's own key, so the page takes no case key from it (the review's L3): the disclosure gets a fresh case, the planted
    upload is never taken into the discloser's session, and the record is gone."""
    data = os.urandom(3 * crypto.CHUNK_SIZE)
    upload = {"name": "statement.pdf", "mimeType": "application/pdf", "buffer": data}
    attacker = browser.new_context()
    spy = attacker.new_page()
    spy.goto(base_url + "/static/seal/disclose.html")
    # The page's own setup first: run at once, it raced this one for the session cookie, and the
    # token below then belonged to the other session (a 403 in one suite run of two).
    spy.locator("#seal-form:not([hidden])").wait_for()
    theirs = spy.evaluate("""async (size) => {
        const setup = await (await fetch('/disclose/sealed/setup')).json();
        const begun = await fetch('/disclose/sealed/uploads', {method: 'POST', body: JSON.stringify({v: 1, size}),
            headers: {'Content-Type': 'application/json', 'X-CSRFToken': setup.csrf_token}});
        const answer = await begun.text();
        return {token: setup.csrf_token, day: setup.day, status: begun.status, answer,
                upload: begun.ok ? JSON.parse(answer).upload : null}; }""",
                          crypto.padded_blob_size(len(data)))
    attacker.close()
    assert theirs["upload"], theirs  # the attacker's own upload was begun
    case_id = os.urandom(16).hex()
    context = browser.new_context()
    page = context.new_page()
    sent: list[str] = []
    page.on("request", lambda r: sent.append(r.url))
    _fill_disclosure(page, base_url, {"summary": "Fuel cards", "details": "Used on weekends.", "contact": "",
                                      "identifying": ""})
    page.evaluate("""async ([bytes, theirs, caseId]) => {
        const pc = await import(new URL('/static/seal/portal-crypto.js', location.href).href);
        const b64 = (b) => btoa(String.fromCharCode(...b));
        const salt = pc.randomBytes(16);
        const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new Uint8Array(bytes)));
        const state = {case_key: b64(pc.newCaseKey()), case_id: caseId, attachment_id: pc.toHex(pc.randomBytes(16)),
                       header: b64(pc.randomBytes(24)), form_token: theirs.token};
        const sealed = b64(pc.encryptField(pc.blake2bKdf(digest, 'portal-resume', salt), 'resume',
                                           `upload:${theirs.upload}`, new TextEncoder().encode(JSON.stringify(state))));
        // Wrapped as the page wraps its own (AES-GCM over the file-keyed state), but under a key of
        // theirs: they cannot have this browser's, which is non-extractable.
        const size = pc.paddedBlobSize(bytes.length);
        const key = await crypto.subtle.generateKey({name: 'AES-GCM', length: 256}, false, ['encrypt']);
        const iv = pc.randomBytes(12);
        const ad = new TextEncoder().encode(JSON.stringify([3, new URL('../../', location.href).href, b64(salt),
                                                            theirs.upload, size]));
        const outer = new Uint8Array(await crypto.subtle.encrypt({name: 'AES-GCM', iv, additionalData: ad}, key,
                                                                 Uint8Array.from(atob(sealed), (c) => c.charCodeAt(0))));
        const record = {v: 3, day: theirs.day, salt: b64(salt), files: [{size, upload: theirs.upload, parts: 0,
                        sealed: b64(new Uint8Array([...iv, ...outer]))}]};
        const name = `portal-sealing-resume:${new URL('../../', location.href).href}`;
        localStorage.setItem(name, JSON.stringify(record));
        // This browser has a key of its own (an earlier upload of its was interrupted): theirs is not it.
        const own = await crypto.subtle.generateKey({name: 'AES-GCM', length: 256}, false, ['encrypt', 'decrypt']);
        await new Promise((resolve) => { const o = indexedDB.open('portal-sealing', 1);
            o.onupgradeneeded = () => o.result.createObjectStore('keys');
            o.onsuccess = () => { const t = o.result.transaction('keys', 'readwrite'); t.objectStore('keys').put(own, name);
                t.oncomplete = () => { o.result.close(); resolve(); }; }; });
    }""", [list(data), theirs, case_id])
    assert page.evaluate(RESUME_KEYS) == 1
    page.get_by_label("Files (optional)").set_input_files(upload)
    _receipt_after_sending(page)
    assert not [u for u in sent if theirs["upload"] in u]  # never rebound, never sent to
    assert page.evaluate(KEPT_FOR_RESUMING) == [] and page.evaluate(RESUME_KEYS) == 0
    context.close()
    assert not files_containing(installation.data_dir, case_id.encode())  # a case of its own
    officer, case = officer_on_case(app, installation.officer)
    shown = officer.get(case).text
    [attachment] = [line.split("/attachments/")[1].split('"')[0] for line in shown.splitlines()
                    if "/attachments/" in line][:1]
    assert officer.get(f"{case}/attachments/{attachment}").data == data


# Counts every write of the page's resume record (localStorage) and of its key (IndexedDB).
COUNT_RESUME_WRITES = """window.resumeWrites = [];
    const setItem = Storage.prototype.setItem;
    Storage.prototype.setItem = function (k, v) {
      if (String(k).startsWith('portal-sealing-resume:')) window.resumeWrites.push('localStorage');
      return setItem.call(this, k, v); };
    for (const how of ['put', 'add']) {
      const write = IDBObjectStore.prototype[how];
      IDBObjectStore.prototype[how] = function (...args) {
        window.resumeWrites.push(`indexedDB ${this.name}`); return write.apply(this, args); }; }"""


def test_an_upload_that_goes_well_writes_no_resume_record_and_one_interrupted_does(base_url, browser):
    """The resume record is written only once an upload is interrupted (the fresh review's L4):
    a file sent in one go leaves nothing ever written, neither the record nor its key; a file one
    of whose parts is lost has both written at that moment, and gone once the disclosure is stored."""
    data = os.urandom(3 * crypto.CHUNK_SIZE)
    upload = {"name": "statement.pdf", "mimeType": "application/pdf", "buffer": data}
    values = {"summary": "Fuel cards", "details": "Used on weekends.", "contact": "", "identifying": ""}
    context = browser.new_context()
    context.add_init_script(COUNT_RESUME_WRITES)
    page = context.new_page()
    _fill_disclosure(page, base_url, dict(values))
    page.get_by_label("Files (optional)").set_input_files(upload)
    _receipt_after_sending(page)
    assert page.evaluate("window.resumeWrites") == []
    assert page.evaluate(KEPT_FOR_RESUMING) == []
    assert page.evaluate("indexedDB.databases()") == []  # not even made

    cut = []
    page.route("**/parts/1", lambda route: route.abort() if not cut.append(1) and len(cut) == 1 else route.continue_())
    _fill_disclosure(page, base_url, dict(values))
    page.get_by_label("Files (optional)").set_input_files(upload)
    _receipt_after_sending(page)
    writes = page.evaluate("window.resumeWrites")
    assert cut and "indexedDB keys" in writes and "localStorage" in writes
    assert page.evaluate(KEPT_FOR_RESUMING) == [] and page.evaluate(RESUME_KEYS) == 0
    context.close()


def test_a_channel_whose_roster_was_never_started_is_named_as_such_before_anything_is_typed(base_url,
                                                                                              installation,
                                                                                              browser):
    """A new installation's channel, or the demo's, before its officers first sign in (the fresh
    review's L2): no signed root, so the page cannot seal to it, and says so in those words when
    the channel is chosen, not that a key was swapped. Then the discloser gives up and follows the
    link to the ordinary form: what was kept for an unfinished upload goes (M2)."""
    from portal.core.context import open_context
    from portal.keys import provisioning
    from tests.conftest import run_cli
    run_cli(installation.data_dir, "channel", "add", "Unsigned channel")
    ctx = open_context(installation.data_dir)
    provisioning.add_account(ctx, email="new@agency.govt.nz", name="New Officer", role="officer",
                             passphrase="correct horse battery staple", channels=["Unsigned channel"])
    ctx.db.conn.close()
    page = browser.new_page()
    page.goto(base_url + "/static/seal/disclose.html")
    page.get_by_label("Who should receive this disclosure?").select_option("Unsigned channel")
    said = page.locator("#roster-problem").inner_text()
    assert "cannot seal to this channel yet: its officers have not yet signed the list" in said
    assert "does not match" not in said
    page.get_by_label("Who should receive this disclosure?").select_option("Audit and Risk")
    assert page.locator("#roster-problem").is_hidden()
    # Choosing the ordinary form gives up an unfinished upload: its record and key go.
    page.evaluate("""async () => {
        localStorage.setItem(`portal-sealing-resume:${new URL('../../', location.href).href}`, '{"v": 2}');
        const key = await crypto.subtle.generateKey({name: 'HMAC', hash: 'SHA-256'}, false, ['sign']);
        await new Promise((resolve) => { const o = indexedDB.open('portal-sealing', 1);
            o.onupgradeneeded = () => o.result.createObjectStore('keys');
            o.onsuccess = () => { const t = o.result.transaction('keys', 'readwrite');
                t.objectStore('keys').put(key, `portal-sealing-resume:${new URL('../../', location.href).href}`);
                t.oncomplete = () => { o.result.close(); resolve(); }; }; }); }""")
    assert page.evaluate(RESUME_KEYS) == 1
    page.get_by_role("link", name="Use the ordinary form instead").click()
    page.wait_for_url("**/disclose")
    assert page.evaluate(KEPT_FOR_RESUMING) == [] and page.evaluate(RESUME_KEYS) == 0
    page.close()


def test_without_script_the_sealing_page_says_only_that_it_needs_script(base_url, browser):
    # The fresh review's L5: without script the page said "Getting the page ready…", which it
    # never would be; a stylesheet loaded only then hides it (no inline style: the page's CSP).
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(base_url + "/static/seal/disclose.html")
    page.locator("noscript, .problem").first.wait_for(state="attached")
    assert page.locator("#loading").is_hidden()
    text = " ".join(page.locator("main").inner_text().split())
    assert "This page needs script to seal your disclosure" in text and "Getting the page ready" not in text
    context.close()


def test_an_upload_lost_to_the_network_says_it_carries_on_and_it_does(base_url, browser):
    # The fresh review's L5: parts lost to the network ended in "Something went wrong in this
    # browser", which was untrue: what the portal kept stays, and sending again carries on.
    data = os.urandom(4 * crypto.CHUNK_SIZE)
    context = browser.new_context()
    page = context.new_page()
    page.route("**/parts/2", lambda route: route.abort())
    _fill_disclosure(page, base_url, {"summary": "Fuel cards", "details": "Used on weekends.", "contact": "",
                                      "identifying": ""})
    page.get_by_label("Files (optional)").set_input_files(
        {"name": "statement.pdf", "mimeType": "application/pdf", "buffer": data})
    page.get_by_role("button", name="Seal and send").click()
    problem = page.locator("#problem")
    problem.wait_for(timeout=120_000)
    said = " ".join(problem.inner_text().split())
    assert "The connection was lost while sending" in said and "part 3 of" in said, said
    assert "Something went wrong" not in said
    page.unroute("**/parts/2")
    _receipt_after_sending(page)  # sent again: it carries on and the disclosure is stored
    context.close()

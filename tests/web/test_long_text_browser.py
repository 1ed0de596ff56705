"""Long unbroken text in narrow places, in a real browser (Debian's chromium, as tests/web/test_browser.py):
an 88-character file name with no spaces and a long e-mail address never make a page wider than a 320 px
screen, on the discloser's status page, the officer's case page and the printable record (on screen and
as printed)."""
from __future__ import annotations

import pytest

from tests.conftest import MARKER
from tests.support import start_server
from tests.support.browser import NARROW, dump, horizontal_overflow, launch, require_browser

pytestmark = [pytest.mark.browser, pytest.mark.slow]

LONG_NAME = "Quarterly_reconciliation_of_the_procurement_ledger_FINAL_v7_signed_and_countersigned.pdf"
LONG_EMAIL = "a.very.long.mailbox.name.for.a.discloser.who.types.it@subdomain.example-organisation.govt.nz"
assert len(LONG_NAME) == 88


def test_an_88_character_file_name_and_a_long_email_fit_320_px_and_the_printed_record(installation):
    require_browser()
    from playwright.sync_api import sync_playwright

    server = start_server(installation.data_dir, workers=1)
    base_url = f"http://127.0.0.1:{server.port}"
    problems: list[str] = []

    def fits(page, name: str) -> None:
        overflow = horizontal_overflow(page)
        if overflow:
            problems.append(f"{name} ({page.url}) is wider than the viewport: {dump(overflow)}")

    try:
        with sync_playwright() as playwright:
            browser = launch(playwright)
            page = browser.new_context(java_script_enabled=False, viewport=NARROW).new_page()
            page.goto(base_url + "/disclose")
            page.get_by_label("Who should receive this disclosure?").select_option(installation.channel)
            page.get_by_label("What kind of serious wrongdoing is it?").select_option("public_funds")
            page.get_by_label("Have you raised this anywhere else?").select_option("no")
            page.get_by_label("A short title").fill("Ledger" + "x" * 60)
            page.get_by_label("What happened?").fill(LONG_NAME + " " + MARKER)
            page.get_by_label("How to contact you (optional)").fill(LONG_EMAIL)
            page.get_by_label("Files (optional)").set_input_files(
                [{"name": LONG_NAME, "mimeType": "application/pdf", "buffer": b"%PDF-1.4 x"}])
            page.get_by_role("button", name="Send disclosure").click()
            receipt = page.locator("#receipt").inner_text().strip()
            fits(page, "receipt")
            page.goto(base_url + "/status")
            page.get_by_label("Receipt code").fill(receipt)
            page.get_by_role("button", name="Open").click()
            page.locator("#case-status").wait_for()
            assert LONG_NAME in page.content()
            fits(page, "status page")

            officer = browser.new_context(java_script_enabled=False, viewport=NARROW).new_page()
            officer.goto(base_url + "/console/login")
            officer.get_by_label("Email address").fill(installation.officer.email)
            officer.get_by_label("Passphrase").fill(installation.officer.passphrase)
            officer.get_by_label("Six-digit code from your authenticator app").fill(installation.officer.code())
            officer.get_by_role("button", name="Sign in").click()
            officer.goto(base_url + "/console/")
            fits(officer, "inbox")
            officer.locator('a[href^="/console/cases/"]').first.click()
            assert LONG_NAME in officer.content() and LONG_EMAIL in officer.content()
            fits(officer, "case page")
            officer.goto(officer.url.rstrip("/") + "/record")
            fits(officer, "printable record")
            officer.emulate_media(media="print")
            fits(officer, "printable record, printed")
            browser.close()
    finally:
        server.stop()
    assert not problems, "\n".join(problems)

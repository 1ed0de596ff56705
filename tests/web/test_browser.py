"""The portal in a real browser: Debian's chromium driven by playwright against `portal serve` in its own process.

1. The main flow with JavaScript turned off, partly by keyboard alone: disclose, keep and re-type the receipt,
   the officer signs in, reads the case and its file, replies and sets a status, and the discloser reads both.
2. Every page through axe-core (WCAG 2.0-2.2 A and AA) and at a 320 px wide viewport without sideways
   scrolling. axe needs JavaScript and the pages forbid scripts by CSP, so that runs in a separate context
   with JavaScript on and `bypass_csp=True`; the pages themselves never need JavaScript (shown by 1)."""
from __future__ import annotations

import re

import pyotp
import pytest

from tests.support.browser import (NARROW, axe_violations, base_url, browser,  # noqa: F401  (fixtures)
                                   describe_violations, dump, horizontal_overflow, keyboard_problems, require_axe,
                                   tab_to)
from tests.conftest import MARKER, add_account

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ATTACHMENT_NAME = "minutes 2024-03.txt"
ATTACHMENT = b"Board minutes, March.\n" + MARKER.encode() + b"\n" + bytes(range(256)) * 64
SUMMARY = "Payments to a director's company"
DETAILS = "Three invoices were paid to a company owned by a director. " + MARKER
REPLY = "Thank you. We have your disclosure and are looking at the invoices."
ACKNOWLEDGED = "Acknowledged: an integrity officer has your disclosure"
DESKTOP = {"width": 1280, "height": 900}


# Pages that run one same-origin script by design: the proof of work on the two forms (none is
# needed: without script they pay with a ticket) and the in-page proof checker.
SCRIPTED = ("/disclose", "/status", "/verify")


def no_scripts(page) -> None:
    scripts = page.locator("script")
    if page.url.split("?")[0].split("#")[0].endswith(SCRIPTED):
        for i in range(scripts.count()):
            src = scripts.nth(i).get_attribute("src") or ""
            assert src.startswith("/static/"), f"{page.url} carries a script not from /static/"
        return
    assert scripts.count() == 0, f"{page.url} carries a script"


def submit_by_enter(page, locator, status: int = 200):
    """Press Enter in `locator` (focused already) and wait for the answer to the form."""
    with page.expect_navigation() as navigation:
        locator.press("Enter")
    response = navigation.value
    assert response is not None and response.status == status, (response and response.status, page.url)
    no_scripts(page)
    return response


def sign_in(page, base_url: str, person) -> None:
    page.goto(base_url + "/console/login")
    page.get_by_label("Email address").fill(person.email)
    page.get_by_label("Passphrase").fill(person.passphrase)
    code = page.get_by_label("Six-digit code from your authenticator app")
    code.fill(person.code())
    submit_by_enter(page, code)


def test_main_flow_with_javascript_disabled(browser, base_url, installation):
    from playwright.sync_api import expect

    # The discloser: from the start page to the form with the keyboard alone.
    discloser = browser.new_context(java_script_enabled=False)
    page = discloser.new_page()
    response = page.goto(base_url + "/")
    assert response.status == 200
    no_scripts(page)
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to main content")).to_be_focused()
    tab_to(page, page.get_by_role("link", name="Make a disclosure").first)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url == base_url + "/disclose"
    no_scripts(page)

    # First attempt without a title: the page comes back with what was typed and says what is missing.
    page.get_by_label("Who should receive this disclosure?").select_option(installation.channel)
    page.get_by_label("What kind of serious wrongdoing is it?").select_option("public_funds")
    page.get_by_label("Have you raised this anywhere else?").select_option("no")
    details = page.get_by_label("What happened?")
    tab_to(page, details)
    page.keyboard.type(DETAILS)
    send = page.get_by_role("button", name="Send disclosure")
    tab_to(page, send)
    submit_by_enter(page, send, status=400)
    expect(page.locator(".error")).to_contain_text("Please give a short title.")
    expect(page.get_by_label("What happened?")).to_have_value(DETAILS)
    expect(page.get_by_label("Who should receive this disclosure?")).to_have_value(installation.channel)
    summary = page.get_by_label("A short title")
    expect(summary).to_have_attribute("aria-describedby", re.compile(r"summary-error"))

    # Second attempt: a file, a title typed from the keyboard, Enter in the title field sends the form.
    page.get_by_label("Files (optional)").set_input_files(
        [{"name": ATTACHMENT_NAME, "mimeType": "text/plain", "buffer": ATTACHMENT}])
    tab_to(page, summary)
    page.keyboard.type(SUMMARY)
    submit_by_enter(page, summary)
    receipt = page.locator("#receipt").inner_text().strip()
    assert len(receipt.replace("-", "")) >= 10, receipt

    # Typing the receipt back, by keyboard: a wrong code is refused, the right one accepted.
    typed = page.get_by_label("Type your receipt code from what you wrote down")
    tab_to(page, typed)
    page.keyboard.type(receipt[:-1] + ("A" if receipt[-1] != "A" else "B"))
    submit_by_enter(page, typed, status=400)
    expect(page.locator(".problem")).to_contain_text("not the same code")
    typed = page.get_by_label("Type your receipt code from what you wrote down")
    tab_to(page, typed)
    page.keyboard.type(receipt.lower())
    submit_by_enter(page, typed)
    expect(page.get_by_role("heading", level=1)).to_have_text("You have your code right")
    discloser.close()

    # The officer, in a browser of their own, also without JavaScript.
    console = browser.new_context(java_script_enabled=False)
    officer = console.new_page()
    sign_in(officer, base_url, installation.officer)
    assert officer.url == base_url + "/console/"
    cookies = {c["name"]: c for c in console.cookies()}
    assert cookies["__Host-pd_console"]["secure"] and cookies["__Host-pd_console"]["httpOnly"]
    case_links = officer.locator("table a[href^='/console/cases/']")
    expect(case_links).to_have_count(1)
    case_links.first.click()
    no_scripts(officer)
    expect(officer.locator("dl.case-fields")).to_contain_text(MARKER)
    expect(officer.locator("dl.case-fields")).to_contain_text(SUMMARY)
    expect(officer.locator("#readers")).to_contain_text(installation.officer.name)
    with officer.expect_download() as download:
        officer.get_by_role("link", name=ATTACHMENT_NAME).click()
    assert download.value.suggested_filename == ATTACHMENT_NAME
    assert open(download.value.path(), "rb").read() == ATTACHMENT

    officer.get_by_label("Your message").fill(REPLY)
    officer.get_by_role("button", name="Send reply").click()
    expect(officer.locator("ol.thread")).to_contain_text(REPLY)
    # A case not yet acknowledged offers "Acknowledge" first; changing the status is folded below it.
    officer.get_by_text("Change the status", exact=True).click()
    status = officer.get_by_label("New status")
    status.select_option("acknowledged")
    tab_to(officer, officer.get_by_role("button", name="Change status"))
    with officer.expect_navigation():
        officer.keyboard.press("Enter")
    expect(officer.locator("#case-status")).to_have_attribute("data-status", "acknowledged")
    console.close()

    # The discloser comes back later, in a fresh browser, with only the receipt code.
    later = browser.new_context(java_script_enabled=False)
    page = later.new_page()
    page.goto(base_url + "/status")
    no_scripts(page)
    code = page.get_by_label("Receipt code")
    tab_to(page, code)
    page.keyboard.type(receipt)
    with page.expect_navigation():
        code.press("Enter")
    page.wait_for_url(base_url + "/status")
    expect(page.locator("#case-status")).to_have_attribute("data-status", "acknowledged")
    expect(page.locator("#case-status")).to_have_text(ACKNOWLEDGED)
    expect(page.locator("ol.thread")).to_contain_text(REPLY)
    expect(page.locator("main")).to_contain_text(ATTACHMENT_NAME)
    assert installation.officer.name not in page.locator("main").inner_text()
    cookies = {c["name"]: c for c in later.cookies()}
    assert cookies["__Host-pd_status"]["secure"] and cookies["__Host-pd_status"]["httpOnly"]
    later.close()


def test_every_page_passes_axe_and_fits_320_px(browser, base_url, installation):
    require_axe()
    admin = add_account(installation.data_dir, "admin", "root@agency.govt.nz", "Ada Admin")
    problems: list[str] = []
    checked: list[str] = []

    def check(page, name: str) -> None:
        if not page.url.endswith("/verify"):  # the one page that runs a (same-origin) script, by design
            no_scripts(page)
        checked.append(name)
        page.set_viewport_size(DESKTOP)
        violations = axe_violations(page)
        if violations:
            problems.append(describe_violations(f"{name} ({page.url}) at 1280 px", violations))
        problems.extend(f"{name} ({page.url}), keyboard: {p}" for p in keyboard_problems(page))
        page.set_viewport_size(NARROW)
        overflow = horizontal_overflow(page)
        if overflow:
            problems.append(f"{name} ({page.url}) scrolls sideways at 320 px: {dump(overflow)}")
        violations = axe_violations(page)
        if violations:
            problems.append(describe_violations(f"{name} ({page.url}) at 320 px", violations))

    def context():
        return browser.new_context(java_script_enabled=True, bypass_csp=True, viewport=DESKTOP)

    discloser = context()
    page = discloser.new_page()
    page.goto(base_url + "/")
    check(page, "landing")
    page.goto(base_url + "/keys")
    check(page, "the portal's keys")
    page.goto(base_url + "/disclose")
    check(page, "disclose")
    page.get_by_role("button", name="Send disclosure").click()
    page.locator(".error").first.wait_for()
    check(page, "disclose with errors")
    page.get_by_label("Who should receive this disclosure?").select_option(installation.channel)
    page.get_by_label("What kind of serious wrongdoing is it?").select_option("public_funds")
    page.get_by_label("Have you raised this anywhere else?").select_option("no")
    page.get_by_label("A short title").fill(SUMMARY)
    page.get_by_label("What happened?").fill(DETAILS)
    page.get_by_label("Files (optional)").set_input_files(
        [{"name": ATTACHMENT_NAME, "mimeType": "text/plain", "buffer": ATTACHMENT}])
    page.get_by_role("button", name="Send disclosure").click()
    receipt = page.locator("#receipt").inner_text().strip()
    check(page, "receipt")
    page.get_by_label("Type your receipt code from what you wrote down").fill("WRONG")
    page.get_by_role("button", name="Check my code").click()
    page.locator(".problem").wait_for()
    check(page, "receipt, code typed wrong")
    page.get_by_label("Type your receipt code from what you wrote down").fill(receipt)
    page.get_by_role("button", name="Check my code").click()
    page.get_by_role("heading", name="You have your code right").wait_for()
    check(page, "receipt confirmed")
    page.goto(base_url + "/status")
    check(page, "status, open")
    page.get_by_label("Receipt code").fill("NOT-A-CODE")
    page.get_by_role("button", name="Open").click()
    page.locator(".problem").wait_for()
    check(page, "status, wrong code")

    officer_context = context()
    officer = officer_context.new_page()
    officer.goto(base_url + "/console/login")
    check(officer, "console login")
    officer.get_by_label("Email address").fill(installation.officer.email)
    officer.get_by_label("Passphrase").fill("not the passphrase at all")
    officer.get_by_label("Six-digit code from your authenticator app").fill("000000")
    officer.get_by_role("button", name="Sign in").click()
    officer.locator(".problem").wait_for()
    check(officer, "console login, refused")
    sign_in(officer, base_url, installation.officer)
    check(officer, "inbox")
    # At 320 px the queue's rows reflow: every cell of a row is shown, labelled, inside the screen.
    cells = officer.locator("tr[data-ref]").first.locator("td")
    assert cells.count() == 6
    for i in range(6):
        box = cells.nth(i).bounding_box()
        assert cells.nth(i).is_visible() and box["x"] >= 0 and box["x"] + box["width"] <= 320, (i, box)
    officer.locator("table a[href^='/console/cases/']").first.click()
    officer.get_by_label("Your message").fill(REPLY)
    officer.get_by_role("button", name="Send reply").click()
    officer.locator("ol.thread", has_text=REPLY).wait_for()
    officer.get_by_text("Change the status", exact=True).click()
    officer.get_by_label("New status").select_option("acknowledged")
    officer.get_by_role("button", name="Change status").click()
    officer.locator("#case-status[data-status=acknowledged]").wait_for()
    check(officer, "case")
    # A desktop's width: the panel of where the case stands beside the disclosure and the conversation; at
    # 320 px below them.
    officer.set_viewport_size(DESKTOP)
    work, panel = officer.locator(".case-main").bounding_box(), officer.locator(".case-panel").bounding_box()
    assert panel["x"] >= work["x"] + work["width"] and panel["y"] < work["y"] + work["height"]
    officer.set_viewport_size(NARROW)
    work, panel = officer.locator(".case-main").bounding_box(), officer.locator(".case-panel").bounding_box()
    assert panel["y"] >= work["y"] + work["height"]
    # The work queue: its filter form by keyboard, a filtered view, and a search that finds nothing.
    officer.goto(base_url + "/console/")
    tab_to(officer, officer.get_by_label("Status", exact=True))
    officer.get_by_label("Status", exact=True).select_option("acknowledged")
    officer.get_by_label("Order", exact=True).select_option("activity")
    show = officer.get_by_role("button", name="Show")
    tab_to(officer, show)
    submit_by_enter(officer, show)
    assert "status=acknowledged" in officer.url and "sort=activity" in officer.url
    officer.locator("tr[data-ref][data-unseen=false]").first.wait_for()
    check(officer, "queue, filtered")
    officer.get_by_role("textbox", name="Find a case by its reference").fill("PD-NOSUCHCA")
    submit_by_enter(officer, officer.get_by_role("textbox", name="Find a case by its reference"))
    officer.locator("#queue-empty").wait_for()
    check(officer, "queue, search finds nothing")
    officer.get_by_role("link", name="Your declared interests").click()
    officer.get_by_label("Declare an interest").fill("My brother works in the Procurement team.")
    officer.get_by_role("button", name="Declare").click()
    officer.locator("#my-interests").wait_for()
    check(officer, "declared interests")
    officer.goto(base_url + "/console/audit")
    check(officer, "audit log")
    officer.get_by_role("button", name="Download these entries as CSV").click()
    officer.get_by_label("Your passphrase").wait_for()
    check(officer, "passphrase asked again")
    officer.goto(base_url + "/console/statistics")
    officer.locator("#cases-received").wait_for()
    check(officer, "statistics")
    officer.goto(base_url + "/console/access/")
    officer.get_by_label("Officer to give access to").wait_for()
    check(officer, "give access")
    officer.goto(base_url + "/console/roster")
    officer.locator("section.roster").first.wait_for()
    check(officer, "signed roster")
    officer.goto(base_url + "/console/account/keys")
    check(officer, "replace my keys")
    officer.goto(base_url + "/console/memberships")
    check(officer, "who reads your channels")
    officer.goto(base_url + "/console/oral")
    check(officer, "oral disclosure form")
    officer.get_by_label("Who should receive this disclosure?").select_option(installation.channel)
    officer.get_by_label("What kind of serious wrongdoing is it?").select_option("offence")
    officer.get_by_label("Has the discloser raised this anywhere else?").select_option("no")
    officer.get_by_label("A short title").fill("Told by phone")
    officer.get_by_label("What happened?").fill(DETAILS)
    officer.get_by_role("button", name="Record the disclosure").click()
    officer.locator("#receipt").wait_for()
    check(officer, "oral receipt")
    officer.goto(base_url + "/console/")
    officer.locator("table a[href^='/console/cases/']").first.click()
    officer.get_by_role("link", name="A printable record of this case").click()
    officer.locator("#printed-by").wait_for()
    check(officer, "printable case record")
    officer.get_by_role("link", name="Retention and legal holds").click()
    officer.get_by_label("Case reference").fill("PD-NOSUCHCS")
    officer.get_by_role("button", name="Place a legal hold").click()
    officer.get_by_role("heading", name="Page not found").wait_for()
    officer.goto(base_url + "/console/retention/")
    officer.get_by_role("button", name="Place a legal hold").click()
    officer.locator(".problem").wait_for()
    check(officer, "retention, refused")

    page.get_by_label("Receipt code").fill(receipt)
    page.get_by_role("button", name="Open").click()
    page.locator("#case-status").wait_for()
    assert REPLY in page.locator("ol.thread").inner_text()
    check(page, "status thread")
    page.get_by_role("link", name="Your proof of disclosure").click()
    assert page.locator("#commitment-salt").inner_text().strip()
    check(page, "proof of disclosure")
    page.goto(base_url + "/verify")
    check(page, "checking a proof")
    page.goto(base_url + "/signing-key")
    check(page, "signing key")
    page.goto(base_url + "/status")
    page.get_by_role("button", name="Sign out of this disclosure").click()
    page.get_by_role("heading", name="You are signed out of your disclosure").wait_for()
    check(page, "signed out of a disclosure")

    admin_context = context()
    admin_page = admin_context.new_page()
    sign_in(admin_page, base_url, admin)
    admin_page.get_by_role("heading", name="Channels").wait_for()
    check(admin_page, "admin overview")
    # The console's pages (issue 25), one after another through its sub-navigation.
    for name in ("Officers", "Offboarding", "Settings", "Appropriate authorities"):
        admin_page.get_by_role("navigation", name="Administration").get_by_role("link", name=name).click()
        admin_page.get_by_role("heading", name=name, exact=True).wait_for()
        check(admin_page, f"admin: {name.lower()}")

    # Officers own their keys: an invitation, the enrolment steps, the membership a reader confirms.
    admin_page.goto(base_url + "/console/admin/invitations")
    admin_page.locator("#invite_email").fill("nell@agency.govt.nz")
    admin_page.locator("#display_name").fill("Nell New")
    admin_page.locator("#invite_channel").select_option(installation.channel)
    admin_page.get_by_role("button", name="Make an invitation link").click()
    admin_page.locator(".problem, #enrolment-link").first.wait_for()
    assert admin_page.locator("#enrolment-link").count() == 1, admin_page.locator("main").inner_text()
    link = admin_page.locator("#enrolment-link").inner_text().strip()
    check(admin_page, "invitation made")
    newcomer_context = context()
    newcomer = newcomer_context.new_page()
    newcomer.goto(link)
    check(newcomer, "enrolment: passphrase")
    newcomer.get_by_label("Choose a passphrase").fill("violet harbour engine quietly 1987")
    newcomer.get_by_label("Type the same passphrase again").fill("violet harbour engine quietly 1987")
    newcomer.get_by_role("button", name="Continue").click()
    secret = newcomer.locator("#totp-secret").inner_text().strip()
    check(newcomer, "enrolment: second factor")
    newcomer.get_by_label("Six-digit code from your authenticator app").fill(pyotp.TOTP(secret).now())
    newcomer.get_by_role("button", name="Confirm and finish").click()
    newcomer.locator("#recovery-codes").wait_for()
    check(newcomer, "enrolment: recovery codes")
    officer.goto(base_url + "/console/")
    officer.locator("#membership-news").wait_for()
    officer.get_by_role("link", name="Review and mark as seen").click()
    officer.get_by_role("button", name="Confirm Nell New for " + installation.channel).wait_for()
    check(officer, "memberships")
    officer.goto(base_url + "/console/account")
    check(officer, "your account")

    for ctx in (discloser, officer_context, admin_context, newcomer_context):
        ctx.close()
    assert len(checked) == 43, checked
    assert not problems, "\n\n".join(problems)

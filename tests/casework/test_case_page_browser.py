"""The case page in Debian's chromium (issue 25; one browser test): on a desktop's first screen (1280 x 800)
the disclosure's first line and the one primary action; a new case acknowledged by that one action, and
the confirmation in the first screen of the page it leads to, with JavaScript off and on; axe-core clean."""
from __future__ import annotations

import pytest

from tests.support.browser import (axe_violations, base_url, browser, describe_violations,  # noqa: F401
                                   require_axe)
from tests.support.workflow import disclose_to

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SCREEN = {"width": 1280, "height": 800}
FIRST_LINE = "The fuel cards were used on weekends by two managers."


def in_first_screen(locator) -> bool:
    box = locator.bounding_box()
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= SCREEN["height"]


def test_a_new_case_is_acknowledged_in_one_action_from_the_top_of_its_page(browser, base_url, app, installation):
    require_axe()
    for _ in range(2):
        disclose_to(app.test_client(), details=FIRST_LINE + "\n\n" + "More about the statements. " * 200)
    signed_in = browser.new_context(java_script_enabled=False, viewport=SCREEN)
    page = signed_in.new_page()
    page.goto(base_url + "/console/login")
    page.get_by_label("Email address").fill(installation.officer.email)
    page.get_by_label("Passphrase").fill(installation.officer.passphrase)
    page.get_by_label("Six-digit code from your authenticator app").fill(installation.officer.code())
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
    cases = page.locator("table a[href^='/console/cases/']")
    hrefs = [cases.nth(i).get_attribute("href") for i in range(cases.count())]
    assert len(hrefs) == 2, page.locator("main").inner_text()
    for scripts, href in zip((False, True), hrefs):
        context = signed_in if not scripts else browser.new_context(
            java_script_enabled=True, bypass_csp=True, viewport=SCREEN, storage_state=signed_in.storage_state())
        page = context.new_page()
        page.goto(base_url + href)
        assert in_first_screen(page.get_by_text(FIRST_LINE)), scripts
        action = page.locator("[data-primary-action]")
        assert action.count() == 1 and action.inner_text().strip() == "Acknowledge"
        assert in_first_screen(action), (scripts, action.bounding_box())
        if scripts:
            violations = axe_violations(page)
            assert not violations, describe_violations("new case", violations)
        with page.expect_navigation():
            action.click()
        notice = page.get_by_role("status")
        assert "The case is acknowledged" in notice.inner_text() and in_first_screen(notice), scripts
        assert page.locator("#case-status").get_attribute("data-status") == "acknowledged"
        assert page.locator("ol.thread").get_by_text("this message acknowledges it").count() == 1
        if scripts:
            violations = axe_violations(page)
            assert not violations, describe_violations("acknowledged case", violations)
        page.close()

"""The discloser's pages in Debian's chromium (issue 25; two browser tests): a new reply in the first
screen of the status page on a phone, with JavaScript off and on, and the reply sent confirmed; and a
proof of disclosure checked in the browser by /verify (genuine, then edited), also in the copy saved
as one file, and by the command line."""
from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner

from portal.cli import main as portal_cli
from tests.support.browser import base_url, browser  # noqa: F401  (fixtures)
from tests.support.workflow import disclose_to, officer_on_case, open_status, post

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PHONE = {"width": 360, "height": 640}
REPLY = "Thank you. We have started looking at the fuel card statements."


def test_a_new_reply_is_in_the_first_screen_on_a_phone_and_a_reply_is_confirmed(browser, base_url, app,
                                                                                installation):
    receipt = disclose_to(app.test_client(), details="The fuel card was used on weekends. " * 40)
    officer, case = officer_on_case(app, installation.officer)
    for scripts in (False, True):
        # A new reply since the discloser last wrote (each round's own message answers the one before).
        assert post(officer, case + "/reply", message=REPLY).status_code == 303
        context = browser.new_context(java_script_enabled=scripts, viewport=PHONE)
        page = context.new_page()
        page.goto(base_url + "/status")
        page.get_by_label("Receipt code").fill(receipt)
        page.get_by_role("button", name="Open").click()
        page.locator("#case-status").wait_for()
        latest = page.locator("#latest-reply")
        assert REPLY in latest.inner_text()
        box = latest.get_by_text(REPLY).bounding_box()
        assert box is not None and box["y"] + box["height"] <= PHONE["height"], (scripts, box)
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        page.get_by_label("Your message").fill(f"More detail (script {'on' if scripts else 'off'}).")
        page.get_by_role("button", name="Send message").click()
        notice = page.get_by_role("status")
        notice.wait_for()
        assert "Your message was sent" in notice.inner_text()
        box = notice.bounding_box()
        assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= PHONE["height"]
        context.close()


def test_a_proof_is_checked_in_the_browser_genuine_and_edited_and_by_the_command_line(browser, base_url, app,
                                                                                     installation, tmp_path):
    discloser = app.test_client()
    receipt = disclose_to(discloser)
    officer, case = officer_on_case(app, installation.officer)
    assert post(officer, case + "/steps", step="acknowledge").status_code == 303
    open_status(discloser, receipt)
    genuine = discloser.get("/status/acknowledgement").data
    edited = genuine.replace(b'"channel":"Audit and Risk"', b'"channel":"Audit and Rizk"')
    assert edited != genuine
    key = re.search(r"[0-9a-f]{64}", discloser.get("/signing-key").text).group(0)
    saved = tmp_path / "check-a-proof.html"
    saved.write_bytes(discloser.get("/verify/checker.html").data)

    def verdict(page, data: bytes) -> str:
        page.get_by_label("The proof file").set_input_files(
            {"name": "acknowledgement.json", "mimeType": "application/json", "buffer": data})
        page.get_by_role("button", name="Check the file").click()
        page.locator("#verdict[data-verdict]").wait_for()
        return page.locator("#verdict").get_attribute("data-verdict") + ": " + page.locator("#verdict").inner_text()

    context = browser.new_context(java_script_enabled=True)
    page = context.new_page()
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.method + " " + request.url))
    for where in (base_url + "/verify", saved.as_uri()):
        page.goto(where)
        assert page.get_by_label("The organisation's public signing key").input_value() == key
        result = verdict(page, genuine)
        assert result.startswith("genuine: Genuine") and "Audit and Risk" in result, (where, result)
        # The signed days as the portal writes dates, the signed value kept in <time> (issue 25 Words).
        assert not re.search(r"\d{4}-\d\d-\d\d", result) and re.search(r"Received on\s+\d{1,2} [A-Z][a-z]+ \d{4}", result)
        assert page.locator("#verdict time").first.get_attribute("datetime") == json.loads(genuine)["statement"]["received_day"]
        page.reload()
        result = verdict(page, edited)
        assert result.startswith("not-genuine: Not genuine"), (where, result)
        assert "changed" in result
    # No request carried the file: only the page itself and its same-origin script were fetched.
    assert all(r.startswith("GET ") for r in requests), requests
    assert {r.split(" ", 1)[1].split("?")[0] for r in requests if r.startswith("GET http")} <= {
        base_url + "/verify", base_url + "/static/verify.js", base_url + "/static/portal.css",
        base_url + "/static/discloser.css"}
    context.close()

    # Without script the page says to use the command line, which agrees.
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(base_url + "/verify")
    assert "portal verify-ack FILE --key KEY" in page.locator("#no-script").inner_text()
    assert not page.locator("#checker").is_visible()
    context.close()
    for name, data, code in (("genuine.json", genuine, 0), ("edited.json", edited, 1)):
        (tmp_path / name).write_bytes(data)
        result = CliRunner().invoke(portal_cli, ["verify-ack", str(tmp_path / name), "--key", key])
        assert result.exit_code == code, result.output

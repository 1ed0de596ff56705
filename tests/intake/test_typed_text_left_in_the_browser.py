"""What a discloser types is not left in the browser's own files (issue 27, the fresh review's
MEDIUM): Chromium keeps each tab's page and form state in its profile (`Default/Sessions/`), to
restore the tab, unless a field says `autocomplete="off"`. Debian's chromium runs on a profile folder
of its own; the discloser types a marker into every field, sends, checks status and replies, leaves
the page and closes the browser as a person would (so it writes its session files), and no file of
the profile holds the marker or the receipt code, in UTF-8 or in the UTF-16 Chromium keeps form
state in. Once with script (the sealing pages); without script (the ordinary form) the fields'
saved state and autofill hold nothing, and what remains is the body of the two posts whose answer
is a page, in the tab's history, which the server cannot keep out (SECURITY.md)."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import MARKER
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, base_url, require_browser  # noqa: F401  (fixture)
from tests.support.sealing import sign_bundle
from tests.support.workflow import officer_on_case, post

pytestmark = [pytest.mark.browser, pytest.mark.slow]

REPLY = "Thank you. We have started looking at the fuel card statements."
TYPED = {"A short title": f"Fuel cards {MARKER}-title", "What happened?": f"Used on weekends. {MARKER}-details",
         "How to contact you (optional)": f"Signal {MARKER}-contact",
         "Anything else that could identify you (optional)": f"Night shift {MARKER}-identifying"}


def _profile_files_holding(profile: Path, secrets: list[str]) -> dict[str, list[str]]:
    """Every file of the profile that holds one of `secrets` (UTF-8 or UTF-16LE), by secret."""
    found: dict[str, list[str]] = {}
    files = [p for p in profile.rglob("*") if p.is_file() and not p.is_symlink()]
    assert files, "the browser wrote no profile at all"
    for path in files:
        data = path.read_bytes()
        for secret in secrets:
            if secret.encode() in data or secret.encode("utf-16-le") in data:
                found.setdefault(secret, []).append(str(path.relative_to(profile)))
    return found


def _sessions_written(profile: Path) -> list[Path]:
    return [p for p in (profile / "Default" / "Sessions").glob("*") if p.is_file() and p.stat().st_size]


@pytest.fixture
def chromium(tmp_path):
    """A browser on a profile folder of its own, as a discloser's own: (launch, profile)."""
    require_browser()
    from playwright.sync_api import sync_playwright
    profile = tmp_path / "profile"
    with sync_playwright() as playwright:
        def launch(**options):
            return playwright.chromium.launch_persistent_context(str(profile), executable_path=str(CHROMIUM),
                                                                 args=CHROMIUM_ARGS, **options)
        yield launch, profile


def _leave_and_close(context, page, base_url):
    # Another page, then a proper close: Chromium writes the tabs' state to Sessions/ as it goes
    # and when it shuts down.
    page.goto(base_url + "/")
    page.wait_for_timeout(3000)  # the session service saves a few seconds after a change
    context.close()


@pytest.fixture
def signed_bundle(app, installation, monkeypatch):
    """The sealing page refuses to seal without a signed bundle (signed before the server starts)."""
    return sign_bundle(app, installation.data_dir, monkeypatch)


def test_what_is_typed_on_the_sealing_pages_is_in_no_file_of_the_browsers_profile(signed_bundle, chromium, base_url,
                                                                                  app, installation):
    launch, profile = chromium
    context = launch()
    page = context.new_page()
    page.goto(base_url + "/static/seal/disclose.html")
    page.get_by_label("Who should receive this disclosure?").select_option("Audit and Risk")
    page.get_by_label("What kind of serious wrongdoing is it?").select_option("public_funds")
    page.get_by_label("Have you raised this anywhere else?").select_option("no")
    for label, value in TYPED.items():
        page.get_by_label(label).fill(value)
    page.get_by_role("button", name="Seal and send").click()
    page.locator("#done").wait_for(timeout=240_000)
    receipt = page.locator("#receipt").inner_text()
    # Once stored, nothing the discloser wrote is left in the form.
    assert page.evaluate("[...document.querySelectorAll('#seal-form input, #seal-form textarea')]"
                         ".filter(e => e.type !== 'checkbox' && e.value).length") == 0

    officer, case = officer_on_case(app, installation.officer)
    shown = officer.get(case).text
    for value in TYPED.values():
        assert value in shown
    assert post(officer, case + "/reply", message=REPLY).status_code == 303

    page.get_by_role("link", name="Check on a disclosure, sealed in your browser").click()
    page.get_by_label("Receipt code").fill(receipt)
    page.get_by_role("button", name="Open").click()
    page.locator("#case:not([hidden])").wait_for()
    assert REPLY in page.locator("#messages").inner_text()
    page.get_by_label("Your message").fill(f"In the top drawer. {MARKER}-reply")
    page.get_by_role("button", name="Send message").click()
    page.locator("#sent:not([hidden])").wait_for()
    assert page.get_by_label("Receipt code").input_value() == ""  # the case is open: the code goes
    _leave_and_close(context, page, base_url)

    assert f"In the top drawer. {MARKER}-reply" in officer.get(case).text
    assert _sessions_written(profile), "Chromium wrote no session: the test would prove nothing"
    assert _profile_files_holding(profile, [MARKER, receipt, receipt.replace("-", "")]) == {}


def test_what_is_typed_on_the_form_without_script_is_kept_only_in_the_tabs_history_of_posts(chromium, base_url,
                                                                                          app, installation):
    launch, profile = chromium
    context = launch(java_script_enabled=False)
    page = context.new_page()
    page.goto(base_url + "/disclose")
    page.get_by_label("Who should receive this disclosure?").select_option(installation.channel)
    page.get_by_label("What kind of serious wrongdoing is it?").select_option("public_funds")
    page.get_by_label("Have you raised this anywhere else?").select_option("no")
    for label, value in TYPED.items():
        page.get_by_label(label).fill(value)
    page.get_by_role("button", name="Send disclosure").click()
    receipt = page.locator("#receipt").inner_text().strip()
    typed = page.get_by_label("Type your receipt code from what you wrote down")
    typed.fill(receipt)
    page.get_by_role("button", name="Check my code").click()
    page.get_by_role("heading", name="You have your code right").wait_for()

    officer, case = officer_on_case(app, installation.officer)
    assert post(officer, case + "/reply", message=REPLY).status_code == 303
    page.goto(base_url + "/status")
    page.get_by_label("Receipt code").fill(receipt)
    page.get_by_role("button", name="Open").click()
    page.get_by_label("Your message").fill(f"In the top drawer. {MARKER}-reply")
    page.get_by_role("button", name="Send message").click()
    page.get_by_text(f"In the top drawer. {MARKER}-reply").wait_for()
    _leave_and_close(context, page, base_url)

    shown = officer.get(case).text
    for value in [*TYPED.values(), f"In the top drawer. {MARKER}-reply"]:
        assert value in shown
    assert _sessions_written(profile), "Chromium wrote no session: the test would prove nothing"
    typed = [v.split()[-1] for v in TYPED.values()]
    found = _profile_files_holding(profile, [*typed, f"{MARKER}-reply", receipt])
    # What the server can do, it does: autocomplete="off" keeps every field out of the saved form
    # state and out of autofill's `Web Data`, and a reply (answered with a 303 redirect) is nowhere.
    # What it cannot: the tab's history keeps the body of a POST whose answer is a page (the
    # disclosure, whose answer is the receipt; the receipt check, which posts the code), and
    # Chromium saves that body in Sessions/ (SECURITY.md, "What the browser keeps of what is typed").
    assert set(found) == {*typed, receipt}
    assert {Path(p).parent.as_posix() for paths in found.values() for p in paths} == {"Default/Sessions"}

"""The sealing pages under an organisation's path (issues 27 and 29): every route and file they use
is relative to the organisation's portal (static/seal/page.js, portalUrl), so a disclosure sealed at
/o/a/static/seal/disclose.html reaches organisation a and nothing of organisation b."""
from __future__ import annotations

import pytest

from portal.service.dispatch import service_app
from portal.service.registry import data_dir_of
from portal.web.app import create_app
from tests.conftest import MARKER
from tests.support import files_containing
from tests.service.test_organisations import make_service, table_counts
from tests.support.browser import browser, served  # noqa: F401  (fixture)
from tests.support.sealing import sign_bundle

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_a_disclosure_sealed_under_an_organisations_path_lands_in_that_organisation_only(tmp_path, browser,
                                                                                       monkeypatch):
    service = make_service(tmp_path)  # `portal service init`, `portal org create a` and `b`
    a_dir, b_dir = data_dir_of(service, "a"), data_dir_of(service, "b")
    a_app = create_app(a_dir)
    sign_bundle(a_app, a_dir, monkeypatch)
    a_before, b_before = table_counts(a_dir), table_counts(b_dir)
    paths: list[str] = []
    with served(service_app(service)) as url:
        page = browser.new_page()
        page.on("request", lambda r: paths.append(r.url.removeprefix(url)))
        page.goto(url + "/o/a/disclose")
        page.get_by_role("link", name="Seal it in your browser instead").click()
        page.get_by_label("Who should receive this disclosure?").select_option("Audit and Risk")
        page.get_by_label("What kind of serious wrongdoing is it?").select_option("public_funds")
        page.get_by_label("A short title").fill("Fuel cards")
        page.get_by_label("What happened?").fill(f"Used on weekends. {MARKER}")
        page.get_by_label("Have you raised this anywhere else?").select_option("no")
        page.get_by_role("button", name="Seal and send").click()
        page.locator("#done").wait_for(timeout=120_000)
        assert "sealed in your browser" in page.locator("#sealing-mode").inner_text()
        # The page's own links lead back to the organisation's portal, not the service's root.
        assert page.get_by_role("link", name="Make a disclosure").get_attribute("href") == "../../disclose"
        assert page.evaluate("new URL(document.querySelector('a.brand').href).pathname") == "/o/a/"
        # The status page with script, from the receipt link, opens it at a's portal too.
        receipt = page.locator("#receipt").inner_text()
        page.get_by_role("link", name="Check on a disclosure, sealed in your browser").click()
        page.get_by_label("Receipt code").fill(receipt)
        page.get_by_role("button", name="Open").click()
        page.locator("#case:not([hidden])").wait_for()
        page.close()
    # Every request the page made, its files and the sealed routes, went under /o/a/.
    assert paths and [p for p in paths if not p.startswith("/o/a/") and p != "/favicon.ico"] == []
    assert {"/o/a/disclose/sealed/setup", "/o/a/disclose/sealed/roots", "/o/a/disclose/sealed",
            "/o/a/static/seal/bundle-manifest.json", "/o/a/status/sealed/setup", "/o/a/status/sealed"} <= set(paths)
    assert table_counts(a_dir)["cases"] == a_before["cases"] + 1
    assert table_counts(b_dir) == b_before
    assert files_containing(service, MARKER.encode()) == []

"""A case sealed in the discloser's browser and then moved here from another organisation (issue
29): its receipt, typed into the status page with script (static/seal/status.html) in Debian's
chromium, is found under the salt it came with (`/status/sealed/setup`'s `receipt.moved_salts`),
and the page opens the case. As in tests/service/test_moved_receipts.py, the installation's salt
is changed after the disclosure, so the case stands exactly as a moved one does."""
from __future__ import annotations

import pytest

import crypto
from portal.core.context import open_context
from portal.intake import receipts
from portal.store import transaction
from tests.conftest import MARKER
from tests.service.test_moved_receipts import _client, _new_salt
from tests.support import start_server
from tests.support.browser import NARROW, browser  # noqa: F401  (fixture)
from tests.support.sealing import disclose_sealed

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_the_status_page_finds_a_moved_case_sealed_in_the_browser_by_its_receipt(browser, installation):  # noqa: F811
    data_dir = installation.data_dir
    sealed, sent = disclose_sealed(_client(data_dir), {"category": "fraud", "summary": "s", "details": MARKER})
    assert sent.status_code == 201, sent.text
    came_with = _new_salt(data_dir)
    ctx = open_context(data_dir)
    with transaction(ctx.db):
        receipts.keep_salt_of_moved_case(ctx, sealed.case_id, came_with)
    ctx.db.conn.close()
    server = start_server(data_dir, workers=1)
    try:
        page = browser.new_context(viewport=NARROW).new_page()
        sent_lookups = []
        page.on("request", lambda r: sent_lookups.append(r.post_data) if r.url.endswith("/status/sealed") else None)
        url = f"http://127.0.0.1:{server.port}/static/seal/status.html"
        # A wrong receipt: tried under both salts, and the page says it opened nothing.
        page.goto(url)
        page.get_by_label("Receipt code").fill(crypto.new_receipt())
        page.get_by_role("button", name="Open").click()
        page.locator("#problem:not([hidden])").wait_for(timeout=120_000)
        assert "could not open" in page.locator("#problem").inner_text()
        assert len(sent_lookups) == 2
        # Its own receipt: not found under this installation's salt, then found under the one it came with.
        sent_lookups.clear()
        page.goto(url)
        page.get_by_label("Receipt code").fill(sealed.receipt)
        page.get_by_role("button", name="Open").click()
        page.locator("#case:not([hidden])").wait_for(timeout=120_000)
        assert "sealed in your browser" in page.locator("#sealing-mode").inner_text()
        assert page.locator("#case-status").get_attribute("data-status") == "received"
        assert len(sent_lookups) == 2 and sealed.identity.lookup_id in sent_lookups[1]
    finally:
        server.stop()

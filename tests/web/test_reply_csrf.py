"""A discloser's reply whose CSRF token is bad or missing (issue 24 review, L1) is answered as the
disclosure form answers one: in plain words (never WTForms' "CSRF Token: The CSRF token is
invalid."), the message back in its box only when the request came from the portal's own page."""
from __future__ import annotations

import html

import pytest

from tests.conftest import MARKER
from tests.support import csrf_token, disclosure_fields, form_for, post_multipart, receipt_from
from tests.support.discloser import open_status

REFRESH = "For your safety the form needed refreshing, so your message was not sent."


def _reply_fields(client) -> list[tuple[str, str]]:
    token = csrf_token(client.get("/disclose").text)
    receipt = receipt_from(post_multipart(client, "/disclose", disclosure_fields(token, "First.")).text)
    assert open_status(client, receipt).status_code == 303
    page = client.get("/status").text
    return [(k, v) for k, v in form_for(page, "/status/reply")["fields"] if k not in ("message", "csrf_token")]


@pytest.mark.parametrize("token", ["not-the-token", None])
@pytest.mark.parametrize("site", ["same-origin", "cross-site"])
def test_a_reply_with_a_bad_csrf_token_says_so_plainly_and_gives_text_back_only_to_its_own_page(
        client, installation, token, site):
    fields = _reply_fields(client) + [("message", MARKER)] + ([("csrf_token", token)] if token else [])
    answer = post_multipart(client, "/status/reply", fields, headers={"Sec-Fetch-Site": site})
    assert answer.status_code == 400
    page = html.unescape(answer.text)
    assert REFRESH in page and "CSRF" not in page, page
    assert (MARKER in page) == (site == "same-origin"), page
    assert 'id="case-status"' in page  # the thread, with an empty box to write again

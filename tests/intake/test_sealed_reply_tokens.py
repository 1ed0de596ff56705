"""A sealed reply resent after its answer was lost is stored once (issue 27): the sealing page sends
128 random bits with each reply (`client_token`), and the portal keeps only a keyed hash of them
(portal.intake.reply_tokens, migration 46)."""
from __future__ import annotations

import hashlib
import secrets

import pytest

from portal.core.context import open_context
from tests.support import files_containing
from tests.support.browser import AnswerLost, browser, served  # noqa: F401  (fixture)
from tests.support.sealing import disclose_sealed, post_json, seal_reply, status_with_script

VALUES = {"category": "public_funds", "summary": "Fuel cards", "details": "Used on weekends.",
          "disclosed_elsewhere": "no", "contact": "", "identifying": ""}


def _messages(data_dir) -> int:
    ctx = open_context(data_dir)
    try:
        return ctx.db.execute("SELECT COUNT(*) FROM messages WHERE author = 'discloser'").fetchone()[0]
    finally:
        ctx.db.conn.close()


def test_a_reply_sent_twice_with_one_token_is_one_message_and_another_token_makes_two(client, installation):
    sealed, response = disclose_sealed(client, VALUES)
    assert response.status_code == 201
    setup, opened = status_with_script(client, sealed.identity.lookup_id)
    before = _messages(installation.data_dir)
    token = secrets.token_hex(16)
    body = {**seal_reply(setup, opened.get_json(), sealed.identity, "The invoices are in the drive."),
            "client_token": token}
    first = post_json(client, "/status/sealed/reply", body, setup["csrf_token"])
    assert first.status_code == 201, first.text
    # The very same request again (its answer was lost): the first answer, nothing new stored.
    again = post_json(client, "/status/sealed/reply", body, setup["csrf_token"])
    assert (again.status_code, again.get_json()) == (first.status_code, first.get_json())
    # Sealed afresh with a new setup (another submission token, message id) but the same token: the same.
    fresh, _ = status_with_script(client, sealed.identity.lookup_id)
    resent = {**seal_reply(fresh, opened.get_json(), sealed.identity, "The invoices are in the drive."),
              "client_token": token}
    assert post_json(client, "/status/sealed/reply", resent, fresh["csrf_token"]).status_code == 201
    assert _messages(installation.data_dir) == before + 1
    # Another reply, another token: a second message.
    other, _ = status_with_script(client, sealed.identity.lookup_id)
    second = {**seal_reply(other, opened.get_json(), sealed.identity, "And the receipts."),
              "client_token": secrets.token_hex(16)}
    assert post_json(client, "/status/sealed/reply", second, other["csrf_token"]).status_code == 201
    assert _messages(installation.data_dir) == before + 2

    # Only a keyed hash is kept, with the day: never the token, nor its plain SHA-256.
    ctx = open_context(installation.data_dir)
    rows = ctx.db.execute("SELECT * FROM sealed_reply_tokens").fetchall()
    ctx.db.conn.close()
    assert len(rows) == 2 and all(len(row) == 2 for row in rows)
    assert hashlib.sha256(token.encode()).hexdigest() not in {row[0] for row in rows}
    assert files_containing(installation.data_dir, token.encode()) == []


def test_a_token_that_is_not_128_bits_of_hex_is_refused(client):
    sealed, _ = disclose_sealed(client, VALUES)
    setup, opened = status_with_script(client, sealed.identity.lookup_id)
    body = {**seal_reply(setup, opened.get_json(), sealed.identity, "Hello."), "client_token": "short"}
    answer = post_json(client, "/status/sealed/reply", body, setup["csrf_token"])
    assert answer.status_code == 400 and answer.get_json()["error"] == "malformed"


@pytest.mark.browser
@pytest.mark.slow
def test_a_reply_whose_answer_is_lost_is_sent_again_by_the_page_and_kept_once(client, installation, browser):
    sealed, response = disclose_sealed(client, VALUES)
    assert response.status_code == 201
    before = _messages(installation.data_dir)
    dropped = AnswerLost()  # the portal stores the reply, but its answer never reaches the page
    with served(client.application) as url:
        page = browser.new_page()
        page.goto(url + "/static/seal/status.html")
        page.get_by_label("Receipt code").fill(sealed.receipt)
        page.get_by_role("button", name="Open").click()
        page.locator("#case:not([hidden])").wait_for()
        page.route("**/status/sealed/reply", dropped)
        page.get_by_label("Your message").fill("The invoices are in the drive.")
        page.get_by_role("button", name="Send message").click()
        page.get_by_text("does not know whether the portal received it").wait_for()
        assert dropped.statuses == [201] and _messages(installation.data_dir) == before + 1
        page.wait_for_function("!document.getElementById('send').disabled")
        page.get_by_role("button", name="Send message").click()
        page.locator("#sent:not([hidden])").wait_for()
        assert page.locator("#messages li").count() == 1
        page.close()
    assert _messages(installation.data_dir) == before + 1

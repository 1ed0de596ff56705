"""An officer's correct sign-in always works under a targeted pause (issue 22): the second factor is
checked first, a key is derived only for a valid unused code, wrong codes are capped per address,
a code is good once, and every failure reads the same. Driven over HTTP (Flask's test client, the
fast test KDF; one test against a served `portal serve`), counting the Argon2id runs done."""
from __future__ import annotations

import re
import time

import nacl.pwhash.argon2id
import pyotp
import pytest

from portal.core.context import open_context
from portal.guard import sign_in_budget
from portal.web.casework.sign_in import SIGN_IN_FAILED
from tests.conftest import totp_seconds
from tests.support import HttpClient, csrf_token, start_server

JUNK = 50
SHIPPED_CODE_WINDOW = sign_in_budget.CODE_WINDOW_SECONDS


@pytest.fixture(autouse=True)
def _one_sign_in_window(monkeypatch):
    """Budgets count in windows aligned to the clock; one long window keeps a test from crossing one."""
    monkeypatch.setattr(sign_in_budget, "WINDOW_SECONDS", 10 ** 9)
    monkeypatch.setattr(sign_in_budget, "CODE_WINDOW_SECONDS", 10 ** 9)


@pytest.fixture
def derivations(monkeypatch):
    """Every Argon2id run in this process, counted (the real, fast test KDF still runs)."""
    calls = []
    real = nacl.pwhash.argon2id.kdf
    monkeypatch.setattr(nacl.pwhash.argon2id, "kdf", lambda *a, **k: calls.append(1) or real(*a, **k))
    return calls


def post_sign_in(client, token, email, passphrase, totp):
    return client.post("/console/login", data={"csrf_token": token, "email": email,
                                               "passphrase": passphrase, "totp": totp})


def new_browser(app):
    browser = app.test_client()
    return browser, csrf_token(browser.get("/console/login").text)


def correct_sign_in_derivations(app, officer, derivations) -> int:
    """Sign in twice from new browsers (the first may finish set-up work); the second's derivations."""
    for _ in range(2):
        before = len(derivations)
        browser, token = new_browser(app)
        assert post_sign_in(browser, token, officer.email, officer.passphrase, officer.code()).status_code == 303
    return len(derivations) - before


def message(html: str) -> str:
    """The words the page says about this sign-in (the one element that carries SIGN_IN_FAILED)."""
    found = re.findall(r">\s*([^<>]*did not work[^<>]*)<", html)
    assert len(found) == 1, html
    return " ".join(found[0].split())


def test_fifty_junk_sign_ins_do_not_stop_the_officers_correct_sign_in_from_a_new_browser(
        client, installation, derivations):
    officer, app = installation.officer, client.application
    idle = correct_sign_in_derivations(app, officer, derivations)  # what it costs on an idle portal
    assert idle >= 1
    derivations.clear()
    junk, token = new_browser(app)
    answers = [post_sign_in(junk, token, officer.email, f"guess number {i}", f"{i:06d}").status_code
               for i in range(JUNK)]
    # The junk is paused after FREE_FAILURES and never cost a key derivation.
    assert answers[:sign_in_budget.FREE_FAILURES] == [400] * sign_in_budget.FREE_FAILURES
    assert set(answers[sign_in_budget.FREE_FAILURES:]) == {429}
    assert derivations == []
    # The officer, from a browser that never signed in before, gets in at once, for what it costs idle.
    browser, token = new_browser(app)
    response = post_sign_in(browser, token, officer.email, officer.passphrase, officer.code())
    assert response.status_code == 303, response.text
    assert len(derivations) == idle
    assert "Disclosures you can read" in browser.get("/console/").text
    # The junk adds one audit entry each only until the pause begins: a flood does not fill the log.
    db = open_context(installation.data_dir).db
    failed = db.execute("SELECT COUNT(*) FROM audit_log WHERE event = 'sign_in_failed'").fetchone()[0]
    assert failed == sign_in_budget.FREE_FAILURES


def test_while_paused_only_a_valid_unused_code_costs_a_derivation_and_it_is_good_once(
        client, installation, derivations):
    officer, app = installation.officer, client.application
    junk, token = new_browser(app)
    for i in range(sign_in_budget.FREE_FAILURES + 2):
        post_sign_in(junk, token, officer.email, "wrong passphrase!", "000000")
    assert derivations == []
    # Someone holding a valid code but not the passphrase: one derivation, refused like any failure.
    code = officer.code()
    stolen, token = new_browser(app)
    refused = post_sign_in(stolen, token, officer.email, "wrong passphrase!", code)
    assert refused.status_code == 429 and len(derivations) == 1
    # The code is used up: even with the right passphrase it is refused, with no derivation.
    replayed = post_sign_in(stolen, token, officer.email, officer.passphrase, code)
    assert replayed.status_code == 429 and len(derivations) == 1
    derivations.clear()
    assert message(replayed.text) == message(refused.text) == " ".join(SIGN_IN_FAILED.split())
    # A code used by a good sign-in is refused when replayed, too (not paused any more: 400).
    browser, token = new_browser(app)
    good_code = officer.code()
    assert post_sign_in(browser, token, officer.email, officer.passphrase, good_code).status_code == 303
    spent = len(derivations)
    again, token = new_browser(app)
    assert post_sign_in(again, token, officer.email, officer.passphrase, good_code).status_code == 400
    assert len(derivations) == spent


def next_steps_code(officer) -> str:
    """A right code the server has not seen (the next time step's, which it accepts), taken without
    spending it: a capped attempt checks no code at all, so it is still good for a later sign-in.
    (Taking fresh codes with officer.code() would wait for new 30 s steps.)"""
    return pyotp.TOTP(officer.totp_secret).at(totp_seconds() + 30)


def test_wrong_codes_are_capped_per_address_so_the_code_cannot_be_guessed(
        client, installation, derivations):
    officer, app = installation.officer, client.application
    # The bound SECURITY.md states: at most CODE_FAILURES guesses a day, each right with a chance of at
    # most 3 in a million (three 30 s steps are accepted).
    assert sign_in_budget.CODE_FAILURES <= 100 and SHIPPED_CODE_WINDOW >= 86400
    device = app.test_client()
    token = csrf_token(device.get("/console/login").text)
    assert post_sign_in(device, token, officer.email, officer.passphrase, officer.code()).status_code == 303
    guesser, token = new_browser(app)
    for i in range(sign_in_budget.CODE_FAILURES):
        post_sign_in(guesser, token, officer.email, officer.passphrase, f"{i:06d}")
    # Past the cap no code is checked for this address, not even the right one: nothing is derived.
    spent = len(derivations)
    capped = post_sign_in(guesser, token, officer.email, officer.passphrase, next_steps_code(officer))
    assert capped.status_code == 429 and len(derivations) == spent
    assert message(capped.text) == " ".join(SIGN_IN_FAILED.split())
    # The browser the officer signed in with before has its own share: it still gets in.
    device.post("/console/logout")
    token = csrf_token(device.get("/console/login").text)
    assert post_sign_in(device, token, officer.email, officer.passphrase, officer.code()).status_code == 303
    # Its success does not reset the guesser's count: a new browser is still capped for the window.
    later, token = new_browser(app)
    assert post_sign_in(later, token, officer.email, officer.passphrase,
                        next_steps_code(officer)).status_code == 429


def test_every_failure_reads_the_same_whichever_part_was_wrong(client, installation):
    officer, app = installation.officer, client.application
    seen = set()
    for email, passphrase, code in [
        ("nobody@agency.govt.nz", officer.passphrase, "123456"),  # no such account
        (officer.email, "wrong passphrase!", officer.code()),  # passphrase wrong, code right
        (officer.email, officer.passphrase, "123456"),  # code wrong
        (officer.email, officer.passphrase, "AAAA-BBBB-CCCC-DDDD"),  # not a recovery code
    ]:
        browser, token = new_browser(app)
        response = post_sign_in(browser, token, email, passphrase, code)
        assert response.status_code == 400
        seen.add(message(response.text))
    assert seen == {" ".join(SIGN_IN_FAILED.split())}
    for word in ("passphrase was", "code was", "no account", "unknown", "locked", "wait"):
        assert word not in SIGN_IN_FAILED.lower()


@pytest.mark.slow
def test_served_portal_lets_the_officer_in_after_fifty_junk_sign_ins(installation):
    officer = installation.officer
    server = start_server(installation.data_dir, workers=1)
    try:
        junk = HttpClient("127.0.0.1", server.port)
        token = csrf_token(junk.get("/console/login").text)
        answers = [junk.post_form("/console/login", {"csrf_token": token, "email": officer.email,
                                                     "passphrase": "junk", "totp": f"{i:06d}"}).status
                   for i in range(JUNK)]
        assert answers.count(429) == JUNK - sign_in_budget.FREE_FAILURES
        browser = HttpClient("127.0.0.1", server.port)
        token = csrf_token(browser.get("/console/login").text)
        response = browser.post_form("/console/login", {"csrf_token": token, "email": officer.email,
                                                        "passphrase": officer.passphrase,
                                                        "totp": officer.code()})
        assert response.status == 303, response.text
        assert "Disclosures you can read" in browser.get("/console/").text
    finally:
        server.stop()

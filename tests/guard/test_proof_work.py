"""The work a proof did is what it pays (portal.guard.proofs.spend_proof): a solution that went past
its challenge's bits still pays after the load rose; one that did only what was asked does not.
Counts of answers; the minute of proofs is held still, so nothing depends on the clock."""
from __future__ import annotations

import crypto
from portal.core.config import load_settings
from portal.guard import proofs
from portal.web.app import create_app
from tests.support import csrf_token
from tests.support.proofs import bits_of, challenge_from, drop_ticket, solved


def test_a_proof_solved_past_its_bits_pays_for_a_load_that_rose_meanwhile(installation,
                                                                         monkeypatch):
    monkeypatch.setattr(proofs, "_process", proofs._Process())
    monkeypatch.setattr(proofs._Process, "_roll", lambda self: None)
    app = create_app(settings=load_settings(installation.data_dir, pow_bits=2,
                                            pow_calm_per_minute=2, pow_max_bits=8))
    app.config["TESTING"] = True
    pages = []
    for _ in range(2):  # two forms fetched at the idle difficulty
        client = app.test_client()
        pages.append((client, client.get("/status").text))
    assert {bits_of(challenge_from(page)) for _, page in pages} == {2}
    for _ in range(4):  # others' checks raise the load meanwhile
        other = app.test_client()
        page = other.get("/status").text
        drop_ticket(other, "status")
        data = {"csrf_token": csrf_token(page), "receipt": crypto.new_receipt()}
        other.post("/status", data=data | dict(solved(page)))
    required = proofs.required_bits(None, app.config["PORTAL_SETTINGS"], "status")
    assert required > 2

    def send(client, page, bits):
        challenge = challenge_from(page)
        solution = next(str(n) for n in range(1 << 22) if proofs.solves(challenge, str(n), bits)
                        and not proofs.solves(challenge, str(n), bits + 1))
        drop_ticket(client, "status")
        data = {"csrf_token": csrf_token(page), "receipt": crypto.new_receipt(),
                "pow_challenge": challenge, "pow_solution": solution}
        return client.post("/status", data=data).status_code

    (asked, asked_page), (further, further_page) = pages
    assert send(asked, asked_page, 2) == 503  # only what was asked: too easy now
    assert send(further, further_page, required) == 400  # paid; the receipt opens nothing

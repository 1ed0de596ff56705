"""The work a proof did is what it pays (portal.guard.proofs.spend_proof): a solution that went past
its challenge's bits still pays after the load rose; one that did only what was asked does not.
Counts of answers; the minute of proofs is held still, so nothing depends on the clock."""
from __future__ import annotations

import crypto
from portal.core.config import load_settings
from portal.guard import proofs
from portal.web.app import create_app
from tests.support import csrf_token
from tests.support.proofs import (
    bits_of,
    challenge_from,
    drop_ticket,
    lane_bits_of,
    size_bits_of,
    solved,
)


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


def size_priced_app(installation, monkeypatch):
    """An app whose proofs start at 4 bits and rise a bit per doubling past 64 KiB (the same code
    as 8 MiB), the minute of proofs held still."""
    monkeypatch.setattr(proofs, "_process", proofs._Process())
    monkeypatch.setattr(proofs._Process, "_roll", lambda self: None)
    monkeypatch.setattr(proofs, "CHECK_FREE_BYTES", 64 * 1024)
    app = create_app(settings=load_settings(installation.data_dir, pow_bits=4, pow_max_bits=12,
                                            pow_calm_per_minute=1000))
    app.config["TESTING"] = True
    return app


def test_a_disclosure_declaring_more_bytes_to_check_pays_a_higher_proof(installation, monkeypatch,
                                                                        tmp_path):
    """A bomb upload costs its sender more: one bit for each doubling of the declared body past
    proofs.CHECK_FREE_BYTES (made small here: the same code as 8 MiB). A small disclosure pays the
    idle price as before."""
    from tests.conftest import MARKER
    from tests.support import disclosure_fields, multipart, receipt_from

    app = size_priced_app(installation, monkeypatch)
    from tests.support import database

    def send(client, page, details, files, below=None):
        drop_ticket(client, "disclose")
        body, kind = multipart(disclosure_fields(csrf_token(page), details) + solved(page, below), files)
        return client.post("/disclose", data=body, content_type=kind), len(body)

    small = app.test_client()
    page = small.get("/disclose").text
    assert bits_of(challenge_from(page)) == 4 and 'data-free-bytes="65536"' in page
    answer, _ = send(small, page, "Small. " + MARKER, [], below=5)  # the idle price, no more
    assert answer.status_code == 200 and receipt_from(answer.text)

    large = app.test_client()
    page = large.get("/disclose").text
    before = database.blobs(installation.data_dir)
    upload = [("attachments", "big.bin", bytes(600 * 1024))]  # about 9.4 times the free bytes
    answer, declared = send(large, page, "Large. " + MARKER, upload, below=5)  # at the idle price
    assert answer.status_code == 503 and "Large." in answer.text  # refused, the text kept
    assert proofs.check_bits(declared) == 4  # 2**3 < 9.4 <= 2**4
    assert size_bits_of(page, declared) == 4 + 4  # what the page tells its script to solve for
    assert bits_of(challenge_from(answer.text)) == 4 + 4  # the bits asked for that body
    assert database.blobs(installation.data_dir) == before
    answer, _ = send(large, answer.text, "Large. " + MARKER, upload)  # paid at the higher bits
    assert answer.status_code == 200 and receipt_from(answer.text)


def test_a_disclosure_sent_chunked_pays_for_the_bytes_it_sent_not_the_length_it_declared(
        installation, monkeypatch):
    """Found in review: a body sent chunked declares no Content-Length, so a large upload paid
    the idle price (declare small, send big). The price is for the bytes the files came to."""
    import io

    from tests.conftest import MARKER
    from tests.support import disclosure_fields, multipart, receipt_from

    app = size_priced_app(installation, monkeypatch)
    client = app.test_client()
    upload = [("attachments", "big.bin", bytes(600 * 1024))]

    def send_chunked(page, details, declared_bytes=0):
        drop_ticket(client, "disclose")
        fields = disclosure_fields(csrf_token(page), details)
        body, kind = multipart(fields + solved(page, below=5 if not declared_bytes else None,
                                               declared_bytes=declared_bytes), upload)
        # As a server passes a chunked body on: no Content-Length, the input ends with the body.
        return client.post("/disclose", input_stream=io.BytesIO(body), content_type=kind,
                           headers={"Transfer-Encoding": "chunked"},
                           environ_overrides={"wsgi.input_terminated": True}), len(body)

    page = client.get("/disclose").text
    answer, sent = send_chunked(page, "Chunked. " + MARKER)  # at the idle price
    assert answer.status_code == 503 and "Chunked." in answer.text  # refused, the text kept
    assert bits_of(challenge_from(answer.text)) == 4 + proofs.check_bits(sent) == 4 + 4
    answer, _ = send_chunked(answer.text, "Chunked. " + MARKER, declared_bytes=sent)
    assert answer.status_code == 200 and receipt_from(answer.text)


def test_the_bits_asked_of_a_script_never_pass_the_cap_and_a_flood_past_it_is_still_rationed(
        installation, monkeypatch):
    """Issue 22 review, H1: WebCrypto takes a browser about a second for 2**17 digests, and the
    load, the flood proof and the lane used to ask 24 bits of it (about 90 s). Past
    `pow_script_max_bits` (7 here) neither the challenge, the lane's bits the page names, nor a
    large upload's size asks more, in the form pages or the status page's setup; the queues ration
    the rest: with the lane's one slot held, guesses paying the cap are answered busy at once and
    start no derivation (counted)."""
    import json
    import threading
    import time

    from portal.guard import work_queues
    from tests.support import disclosure_fields, multipart

    monkeypatch.setattr(proofs, "_process", proofs._Process())
    monkeypatch.setattr(proofs._Process, "_roll", lambda self: None)  # one minute, whatever the clock
    monkeypatch.setattr(work_queues, "_refusals", {"minute": int(time.time()) // 60, "now": 0,
                                                   "before": 0})
    app = create_app(settings=load_settings(
        installation.data_dir, pow_bits=2, pow_calm_per_minute=1, pow_max_bits=20,
        pow_flood_bits=20, pow_lane_bits=2, pow_script_max_bits=7, cases_per_day=0,
        receipt_slots=1, queue_waiting=0, kdf_wait_seconds=30))
    app.config["TESTING"] = True
    settings = app.config["PORTAL_SETTINGS"]
    counts, held, release = {"done": 0, "entered": 0}, set(), threading.Event()
    real = crypto.derive_receipt_identity

    def counted(receipt, *args, **kwargs):
        if receipt in held:
            counts["entered"] += 1
            release.wait(30)
        counts["done"] += 1
        return real(receipt, *args, **kwargs)

    monkeypatch.setattr(crypto, "derive_receipt_identity", counted)

    def asked(client) -> list[int]:
        """Every number of bits the pages tell a script to solve for, now."""
        status = client.get("/status").text
        setup = json.loads(client.get("/status/sealed/setup").text)["proof"]
        disclose = client.get("/disclose").text
        return [bits_of(challenge_from(status)), lane_bits_of(status),
                bits_of(setup["challenge"]), setup.get("lane_bits") or 0,
                bits_of(challenge_from(disclose)), size_bits_of(disclose, 2 << 30)]

    def guess(receipt=None):
        client = app.test_client()
        page = client.get("/status").text
        drop_ticket(client, "status")
        data = {"csrf_token": csrf_token(page), "receipt": receipt or crypto.new_receipt()}
        return client.post("/status", data=data | dict(solved(page))).status_code

    seen = []
    for _ in range(40):  # a flood paying every price asked: 40 doublings of calm would be 7 more
        assert guess() == 400
        seen += asked(app.test_client())
    work_queues._refusals["now"] = 1 << 12  # and the lane turned away thousands this minute
    seen += asked(app.test_client())
    assert max(seen) == 7 and proofs.required_bits(None, settings, "status") == 7 - 3
    assert proofs.lane_bits(None, settings, "status") == 6  # and the page names one spare: 7

    # A disclosure past the day's budget pays the cap for its flood proof and its size, and is stored.
    client = app.test_client()
    page = client.get("/disclose").text
    drop_ticket(client, "disclose")
    body, kind = multipart(disclosure_fields(csrf_token(page), "Past the budget.")
                           + solved(page, declared_bytes=2 << 30))
    assert client.post("/disclose", data=body, content_type=kind).status_code == 200

    # At the cap the flood is still rationed: the lane's one slot held, ten guesses paying the
    # cap are busy at once and derive nothing.
    first = crypto.new_receipt()
    held.add(first)
    answers = []
    holder = threading.Thread(target=lambda: answers.append(guess(first)))
    holder.start()
    deadline = time.monotonic() + 30
    while counts["entered"] == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    done = counts["done"]
    assert [guess() for _ in range(10)] == [503] * 10 and counts["done"] == done
    release.set()
    holder.join()
    assert answers == [400] and counts["done"] == done + 1

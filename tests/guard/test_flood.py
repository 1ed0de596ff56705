"""Open under a flood (issue 22): queues by kind, proofs of work and no-script tickets, the budget on
new cases. Counts, never times: derivations done, queue lengths, threads held, answers given.

A stub derivation of fixed duration stands in for Argon2id where a test needs work to take time (it
blocks until the test lets it go, so nothing depends on the machine's speed)."""
from __future__ import annotations

import hashlib
import os
import re
import threading
import time

import pytest

import crypto
from portal.core.config import load_settings
from portal.guard import proofs, work_queues
from portal.web.app import create_app
from tests.conftest import MARKER
from tests.support import csrf_token, disclosure_fields, post_multipart, receipt_from
from tests.support.console import sign_in
from tests.support.proofs import (
    bits_of,
    challenge_from,
    drop_ticket,
    lane_bits_of,
    solved,
    ticket_cookie,
    ticket_name,
)


def app_with(installation, **overrides):
    app = create_app(settings=load_settings(installation.data_dir, **overrides))
    app.config["TESTING"] = True
    return app


def well_formed_receipt() -> str:
    return crypto.new_receipt()  # passes its check character, opens nothing


def status_post(client, receipt, *, script: bool, below: int | None = None):
    page = client.get("/status").text
    fields = {"csrf_token": csrf_token(page), "receipt": receipt}
    if script:
        drop_ticket(client, "status")
        fields |= dict(solved(page, below))
    return client.post("/status", data=fields)


def disclose(client, details="What I saw. " + MARKER, *, script: bool, page: str | None = None,
             below: int | None = None):
    page = page or client.get("/disclose").text
    fields = disclosure_fields(csrf_token(page), details)
    if script:
        drop_ticket(client, "disclose")
        fields += solved(page, below)
    return post_multipart(client, "/disclose", fields)


@pytest.fixture(autouse=True)
def no_lane_refusals_from_other_tests(monkeypatch):
    """The lane's refusals are counted per process and minute: each test starts with none."""
    monkeypatch.setattr(work_queues, "_refusals", {"minute": int(time.time()) // 60, "now": 0, "before": 0})


@pytest.fixture
def derivations(monkeypatch):
    """Count receipt derivations, and the CPU priority (nice) of the thread each ran in; those of
    receipts in `held` wait for `release`."""
    counts = {"done": 0, "most_held": 0, "held": set(), "nice": [], "entered": 0}
    release = threading.Event()
    real = crypto.derive_receipt_identity
    lock = threading.Lock()

    def stub(receipt, *args, **kwargs):
        if receipt in counts["held"]:
            with lock:
                counts["entered"] += 1
            release.wait(30)  # a derivation of fixed duration: as long as the test holds it
        nice = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
        with lock:
            counts["done"] += 1
            counts["nice"].append(nice)
        return real(receipt, *args, **kwargs)

    monkeypatch.setattr(crypto, "derive_receipt_identity", stub)
    counts["release"] = release
    return counts


# --- queues by kind ------------------------------------------------------------------------------

def test_a_receipt_guess_flood_fills_only_its_own_short_queue(installation, derivations):
    app = app_with(installation, receipt_slots=1, receipt_waiting=2, kdf_wait_seconds=30)
    settings = app.config["PORTAL_SETTINGS"]
    receipts = work_queues.queue(settings, work_queues.RECEIPT)
    answers: list[int] = []

    def guess():
        receipt = well_formed_receipt()
        derivations["held"].add(receipt)
        answers.append(status_post(app.test_client(), receipt, script=False).status_code)

    attackers = [threading.Thread(target=guess, name=f"attacker-{i}") for i in range(12)]
    for thread in attackers:
        thread.start()
    deadline = time.monotonic() + 30
    while len(answers) < 9 and time.monotonic() < deadline:  # all but slots + waiting answered at once
        time.sleep(0.01)
    # Twelve guesses hold three threads: one deriving, two in line; the other nine had 503 at once.
    assert answers.count(503) == 9 and receipts.running() == 1 and receipts.waiting() == 2

    # Meanwhile a genuine discloser and an officer are served: their queues are their own.
    discloser = app.test_client()
    response = disclose(discloser, script=False)
    assert response.status_code == 200
    officer = app.test_client()
    assert sign_in(officer, installation.officer).status_code == 303
    assert derivations["done"] == 1  # the disclosure's sealing; no guess has finished yet

    derivations["release"].set()
    for thread in attackers:
        thread.join()
    assert sorted(answers) == [400] * 3 + [503] * 9
    assert derivations["done"] == 1 + 3
    assert receipts.running() == 0 and receipts.waiting() == 0


def test_a_full_queue_answers_at_once_and_keeps_the_typed_receipt(installation):
    app = app_with(installation, receipt_slots=1)  # receipt checks have no line by default
    client = app.test_client()
    receipt = receipt_from(disclose(client, script=False).text)
    held = work_queues.queue(app.config["PORTAL_SETTINGS"], work_queues.RECEIPT)
    assert held.acquire(0)
    try:
        response = status_post(client, receipt, script=False)
        assert response.status_code == 503 and int(response.headers["Retry-After"]) > 0
    finally:
        held.release()
    assert status_post(client, receipt, script=False).status_code == 303


def test_receipt_checks_derive_at_the_lowest_cpu_priority_and_other_kinds_do_not(installation,
                                                                             derivations):
    app = app_with(installation, receipt_slots=1)
    base = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    client = app.test_client()
    receipt = receipt_from(disclose(client, script=False).text)  # sealing: the caller's priority
    started = work_queues.low_priority_threads()
    lane = proofs.lane_bits(None, app.config["PORTAL_SETTINGS"], "status")
    for _ in range(3):  # not into the reserved lane by luck (its threads are at normal priority)
        assert status_post(app.test_client(), receipt, script=True, below=lane).status_code == 303
    assert derivations["nice"] == [base] + [min(19, base + 19)] * 3
    # Long-lived threads: at most one per receipt slot, whatever the number of checks.
    assert work_queues.low_priority_threads() - started <= 1
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == base  # never lowered


def test_a_receipt_check_with_no_line_is_busy_at_once_and_holds_no_waiting_thread(installation,
                                                                               derivations):
    # Two slots in this process, one place installation-wide (as two workers on two cores have).
    app = app_with(installation, receipt_slots=2, receipt_share=1, kdf_wait_seconds=30)
    receipts = work_queues.queue(app.config["PORTAL_SETTINGS"], work_queues.RECEIPT)
    first = well_formed_receipt()
    derivations["held"].add(first)
    answers: list[int] = []
    holder = threading.Thread(
        target=lambda: answers.append(status_post(app.test_client(), first, script=False).status_code)
    )
    holder.start()
    deadline = time.monotonic() + 30
    while derivations["entered"] == 0 and time.monotonic() < deadline:  # it is deriving
        time.sleep(0.01)
    # While the first derivation is held, ten more guesses are each answered busy: none waits,
    # neither in the process's line nor for the installation-wide place the first one holds.
    later = [status_post(app.test_client(), well_formed_receipt(), script=False) for _ in range(10)]
    assert [r.status_code for r in later] == [503] * 10
    assert all(int(r.headers["Retry-After"]) > 0 for r in later)
    assert receipts.running() == 1 and receipts.waiting() == 0 and not answers
    derivations["release"].set()
    holder.join()
    assert answers == [400] and derivations["done"] == 1


def test_under_load_a_check_with_the_higher_proof_takes_the_reserved_lane(installation, derivations,
                                                                       monkeypatch):
    monkeypatch.setattr(proofs, "_process", proofs._Process())
    monkeypatch.setattr(proofs._Process, "_roll", lambda self: None)  # one minute, whatever the clock
    app = app_with(installation, pow_bits=2, pow_calm_per_minute=2, pow_max_bits=8, pow_lane_bits=3,
                   receipt_slots=1, kdf_wait_seconds=30)
    settings = app.config["PORTAL_SETTINGS"]
    common, lane = (work_queues.queue(settings, kind) for kind in (work_queues.RECEIPT, work_queues.LANE))
    client = app.test_client()
    receipt = receipt_from(disclose(client, script=False).text)
    assert lane_bits_of(client.get("/status").text) == 0  # idle: no lane to offer
    for _ in range(2):  # the load rises past calm
        assert status_post(app.test_client(), well_formed_receipt(), script=True).status_code == 400
    page = client.get("/status").text
    assert lane_bits_of(page) == bits_of(challenge_from(page)) + 3 + 1  # and one spare bit

    # An attacker paying what the load asks, and no more, holds the common receipt slot.
    first = well_formed_receipt()
    derivations["held"].add(first)
    answers: list[int] = []

    def cheap(receipt):
        attacker = app.test_client()
        page = attacker.get("/status").text
        drop_ticket(attacker, "status")
        challenge = challenge_from(page)
        need, lane_bits = bits_of(challenge), lane_bits_of(page) - 1  # the lane's, without the spare
        solution = next(str(n) for n in range(1 << 20) if proofs.solves(challenge, str(n), need)
                        and not proofs.solves(challenge, str(n), lane_bits))  # no further, by luck
        fields = {"csrf_token": csrf_token(page), "receipt": receipt, "pow_challenge": challenge,
                  "pow_solution": solution}
        return attacker.post("/status", data=fields).status_code

    holder = threading.Thread(target=lambda: answers.append(cheap(first)))
    holder.start()
    deadline = time.monotonic() + 30
    while derivations["entered"] == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert cheap(well_formed_receipt()) == 503  # the common slot is taken and has no line
    lane_done = lane.done
    # The genuine discloser's script goes to the lane's bits: its check goes through meanwhile.
    assert status_post(client, receipt, script=True).status_code == 303
    assert lane.done == lane_done + 1 and common.running() == 1 and not answers
    derivations["release"].set()
    holder.join()
    assert answers == [400] and lane.running() == 0 and common.running() == 0


def lane_paid_status_post(app, receipt) -> int:
    """A receipt check paying the reserved lane's price, as the page's script does."""
    client = app.test_client()
    return status_post(client, receipt, script=True).status_code


def test_a_lane_flooded_by_its_own_price_raises_that_price_and_derives_at_normal_priority(
        installation, derivations, monkeypatch):
    """bench/bench_flood.py showed the lane full of attackers paying its price, its derivations
    starved at nice 19, so a genuine check met a busy answer. Now each lane request turned away
    raises the lane's price (doublings past two a minute), and lane derivations run in threads of
    their own at normal priority even when the request's thread is at the lowest."""
    monkeypatch.setattr(proofs, "_process", proofs._Process())
    monkeypatch.setattr(proofs._Process, "_roll", lambda self: None)  # one minute, whatever the clock
    app = app_with(installation, pow_bits=2, pow_calm_per_minute=2, pow_max_bits=8, pow_lane_bits=2,
                   receipt_slots=1, queue_waiting=0, kdf_wait_seconds=0)
    for _ in range(2):  # the load rises past calm: the page offers the lane
        assert status_post(app.test_client(), well_formed_receipt(), script=True).status_code == 400
    before = lane_bits_of(app.test_client().get("/status").text)
    assert before > 0
    first = well_formed_receipt()
    derivations["held"].add(first)
    answers: list[int] = []

    def from_a_low_priority_thread():
        from portal.guard import work_slots
        work_slots.lower_this_thread(19)  # as `portal serve` handles every receipt check
        answers.append(lane_paid_status_post(app, first))

    holder = threading.Thread(target=from_a_low_priority_thread)
    holder.start()
    deadline = time.monotonic() + 30
    while derivations["entered"] == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    # The lane's one slot is held: further checks paying its price are turned away, and counted.
    refused = [lane_paid_status_post(app, well_formed_receipt()) for _ in range(4)]
    assert refused.count(503) >= 3 and work_queues.lane_refusals(app.config["PORTAL_SETTINGS"]) >= 3
    derivations["release"].set()
    holder.join()
    assert answers == [400]
    assert derivations["nice"][-1] == 0  # derived at normal priority, not its request thread's 19
    after = lane_bits_of(app.test_client().get("/status").text)
    assert after >= before + 1  # the lane now costs more


# --- proofs of work ------------------------------------------------------------------------------

def test_a_solved_proof_opens_the_status_page_once_and_a_replay_costs_no_derivation(app, derivations):
    client = app.test_client()
    receipt = receipt_from(disclose(client, script=True).text)
    page = client.get("/status").text
    paid = solved(page)
    drop_ticket(client, "status")
    first = client.post("/status", data={"csrf_token": csrf_token(page), "receipt": receipt} | dict(paid))
    assert first.status_code == 303
    done = derivations["done"]
    # The attacker replays the same pre-solved proof, with a fresh form token.
    attacker = app.test_client()
    token = csrf_token(attacker.get("/status").text)
    for _ in range(5):
        drop_ticket(attacker, "status")  # each answer brings a ticket: this attacker pays none
        replay = attacker.post("/status", data={"csrf_token": token, "receipt": receipt} | dict(paid))
        assert replay.status_code == 503 and replay.headers["Retry-After"]
        assert receipt in replay.text  # what was typed comes back
    assert derivations["done"] == done


def test_spending_an_older_proof_never_forgets_a_newer_one(app, derivations, monkeypatch):
    """Found in review: spending a proof kept only the spent nonces that expire by its own expiry,
    so an old proof (harvested with a GET) made every newer spent proof good once more."""
    from portal.guard import proofs

    clock = [time.time()]
    monkeypatch.setattr(proofs.time, "time", lambda: clock[0])
    harvester = app.test_client()
    old_page = harvester.get("/status").text  # an old challenge, free to collect
    clock[0] += 1750  # 29 minutes later: still valid
    client = app.test_client()
    page = client.get("/disclose").text
    paid = solved(page)
    drop_ticket(client, "disclose")
    fields = disclosure_fields(csrf_token(page), "first")
    assert post_multipart(client, "/disclose", fields + paid).status_code == 200
    drop_ticket(harvester, "status")
    old = {"csrf_token": csrf_token(old_page), "receipt": well_formed_receipt()} | dict(solved(old_page))
    assert harvester.post("/status", data=old).status_code in (303, 400)  # the old proof is spent
    again = app.test_client()
    again_page = again.get("/disclose").text
    drop_ticket(again, "disclose")
    replay = post_multipart(again, "/disclose", disclosure_fields(csrf_token(again_page), "again") + paid)
    assert replay.status_code == 503 and "again" in replay.text


def test_spent_proofs_date_nothing_finer_than_the_retention_window(app, installation, derivations,
                                                                  monkeypatch):
    """Found in review: each spent row carried its expiry's 10-minute step, dating a paid form to it
    for about an hour. Rows now say only which of three retention windows they were spent in."""
    from portal.core.context import open_context
    from tests.support import database

    window = proofs.retention_seconds(load_settings(installation.data_dir))
    start = (int(time.time()) // window + 1) * window
    clock = [start + 10]
    monkeypatch.setattr(proofs.time, "time", lambda: clock[0])
    db = open_context(installation.data_dir).db

    def spend_one(at: int) -> str:
        clock[0] = at
        client = app.test_client()
        page = client.get("/status").text
        nonce = challenge_from(page).split(".")[4]
        assert status_post(client, well_formed_receipt(), script=True).status_code in (303, 400)
        return nonce

    def rows():
        return db.execute("SELECT nonce_hash, generation FROM spent_proofs").fetchall()

    assert database.columns(db, "spent_proofs") == ["nonce_hash", "generation"]
    db.execute("INSERT INTO spent_proofs VALUES ('from before the sets', 7)")  # an old 10-minute step
    first = spend_one(start + 10)
    second = spend_one(start + 1250)  # two 10-minute steps later, the same window
    spent = rows()
    assert len(spent) == 2 and len({row[1] for row in spent}) == 1  # nothing tells them apart
    plain = {hashlib.sha256(nonce.encode()).hexdigest() for nonce in (first, second)}
    assert not plain & {row[0] for row in spent}  # keyed: a nonce seen elsewhere matches no row
    spend_one(start + window + 10)  # the next window: the previous one is kept, for replays
    assert len(rows()) == 3
    spend_one(start + 2 * window + 10)  # the one after: the first window's set goes, wholesale
    assert len(rows()) == 2 and not set(spent) & set(rows())


def test_a_forged_or_expired_proof_is_refused_before_any_derivation(app, derivations, monkeypatch):
    client = app.test_client()
    page = client.get("/status").text
    drop_ticket(client, "status")
    challenge = challenge_from(page)
    head, mac = challenge.rsplit(".", 1)
    easier = head.split(".")
    easier[2] = "0"  # claim no difficulty at all
    for forged in (head + "." + ("0" * len(mac)), ".".join(easier) + "." + mac):
        fields = {"csrf_token": csrf_token(page), "receipt": well_formed_receipt(),
                  "pow_challenge": forged, "pow_solution": "0"}
        assert client.post("/status", data=fields).status_code == 503
        drop_ticket(client, "status")
    later = time.time() + 2 * 3600  # a challenge hoarded for two hours
    monkeypatch.setattr(time, "time", lambda: later)
    fields = {"csrf_token": csrf_token(page), "receipt": well_formed_receipt()} | dict(solved(page))
    assert client.post("/status", data=fields).status_code == 503
    assert derivations["done"] == 0


def test_the_difficulty_rises_with_the_load(installation, monkeypatch):
    # The load is counted per clock minute in this process: a count of its own, on a clock that
    # does not tick over into the next minute half way (a minute in the future would outlive the
    # test in the process's other per-minute counts).
    monkeypatch.setattr(proofs, "_process", proofs._Process())
    frozen = time.time()
    monkeypatch.setattr(time, "time", lambda: frozen)
    app = app_with(installation, pow_bits=2, pow_calm_per_minute=2, pow_max_bits=6)
    client = app.test_client()
    seen = []
    for _ in range(9):
        response = status_post(client, well_formed_receipt(), script=True)
        assert response.status_code == 400  # paid for, derived, opened nothing
        seen.append(bits_of(challenge_from(client.get("/status").text)))
    assert seen[0] == 2 and seen[-1] > seen[0] and seen == sorted(seen)


# --- no-script tickets ---------------------------------------------------------------------------

def test_without_script_a_ticket_becomes_valid_after_a_short_wait_and_keeps_the_text(installation, monkeypatch):
    app = app_with(installation, no_script_wait_seconds=3)
    client = app.test_client()
    page = client.get("/disclose").text
    assert "wait 3 seconds" in page
    too_soon = disclose(client, "Typed in a hurry. " + MARKER, script=False, page=page)
    assert too_soon.status_code == 503 and 1 <= int(too_soon.headers["Retry-After"]) <= 3
    assert "Typed in a hurry." in too_soon.text and "send it again in" in too_soon.text
    kept = ticket_cookie(client, "disclose").value
    later = time.time() + 4
    monkeypatch.setattr(time, "time", lambda: later)
    response = post_multipart(client, "/disclose", disclosure_fields(csrf_token(too_soon.text), "Typed in a hurry."))
    assert response.status_code == 200 and receipt_from(response.text)
    assert kept  # the same ticket, which waited its turn, paid for it


def test_a_ticket_is_single_use_and_bound_to_its_form(installation):
    app = app_with(installation)
    client = app.test_client()
    page = client.get("/disclose").text
    ticket = ticket_cookie(client, "disclose").value
    assert disclose(client, script=False, page=page).status_code == 200
    client.set_cookie(ticket_name("disclose"), ticket)  # replayed
    replay = post_multipart(client, "/disclose", disclosure_fields(csrf_token(page), "again"))
    assert replay.status_code == 503 and "again" in replay.text
    # A ticket taken to another browser (another form token) pays for nothing.
    other = app.test_client()
    other_page = other.get("/disclose").text
    donor = app.test_client()
    donor.get("/disclose")
    other.set_cookie(ticket_name("disclose"), ticket_cookie(donor, "disclose").value)
    moved = post_multipart(other, "/disclose", disclosure_fields(csrf_token(other_page), "moved"))
    assert moved.status_code == 503


def hoard_places(client, count: int) -> list[int]:
    """A no-script client fetching `count` status pages, then coming back with each page's ticket
    (their waits are 0 here, and each was issued before any place was taken): each takes the
    line's next place. Returns the status codes (400: its turn was now, derived, opened nothing;
    503: told when to come back)."""
    pages = []
    for _ in range(count):
        page = client.get("/status").text
        pages.append((csrf_token(page), ticket_cookie(client, "status").value))
    codes = []
    for token, ticket in pages:
        client.set_cookie(ticket_name("status"), ticket)
        codes.append(client.post("/status", data={"csrf_token": token,
                                                  "receipt": well_formed_receipt()}).status_code)
    return codes


def test_when_the_line_is_full_a_no_script_user_is_told_when_to_come_back(installation):
    app = app_with(installation, tickets_per_minute=2, ticket_line_seconds=60, no_script_wait_seconds=0)
    # The line's minute: places now, in thirty seconds and in a minute, then nothing.
    assert hoard_places(app.test_client(), 4) == [400, 503, 503, 503]
    latecomer = app.test_client()
    page = latecomer.get("/status").text
    assert "minutes" in page  # told before typing that the line is long
    typed = well_formed_receipt()
    response = latecomer.post("/status", data={"csrf_token": csrf_token(page), "receipt": typed})
    assert response.status_code == 503 and int(response.headers["Retry-After"]) >= 1
    assert typed in response.text and re.search(r"again (in|at) ", response.text)
    # With script, the same person is not kept waiting.
    assert status_post(latecomer, typed, script=True).status_code == 400


def test_a_client_that_comes_back_later_than_now_gets_a_placed_ticket_for_its_turn(installation,
                                                                                  monkeypatch):
    app = app_with(installation, tickets_per_minute=2, ticket_line_seconds=60, no_script_wait_seconds=0)
    patient = app.test_client()
    page = patient.get("/disclose").text  # fetched while the line was empty: its wait is 0
    assert disclose(app.test_client(), script=False).status_code == 200  # the turn now
    first = ticket_cookie(patient, "disclose").value
    waiting = post_multipart(patient, "/disclose", disclosure_fields(csrf_token(page), "My turn. " + MARKER))
    assert waiting.status_code == 503 and "My turn." in waiting.text
    placed = ticket_cookie(patient, "disclose").value
    assert placed.startswith("t2.") and first.startswith("t1.")  # its place, held by a new ticket
    wait = int(waiting.headers["Retry-After"])
    assert 0 < wait <= 31  # thirty seconds after the first place, rounded up to the second
    # A page's ticket is good for one place: sent again it takes none.
    thief = app.test_client()
    thief_page = thief.get("/disclose").text
    thief.set_cookie(ticket_name("disclose"), first)
    assert post_multipart(thief, "/disclose", disclosure_fields(csrf_token(thief_page), "x")).status_code == 503
    later = time.time() + wait
    monkeypatch.setattr(time, "time", lambda: later)
    again = post_multipart(patient, "/disclose", disclosure_fields(csrf_token(waiting.text), "My turn."))
    assert again.status_code == 200 and receipt_from(again.text)


def test_a_stream_of_plain_gets_takes_no_place_in_the_no_script_line(installation):
    """Found in review: every GET /disclose or /status took a place, so about one GET a second kept
    every no-script discloser on the come-back page. Now a page load takes none."""
    app = app_with(installation, tickets_per_minute=2, ticket_line_seconds=60, no_script_wait_seconds=0)
    for _ in range(20):  # cookieless: a fresh client each time
        app.test_client().get("/disclose")
        app.test_client().get("/status")
    keeper = app.test_client()  # and one that keeps its cookies
    for _ in range(10):
        keeper.get("/disclose")
    discloser = app.test_client()
    page = discloser.get("/disclose").text
    assert "minutes" not in page
    response = post_multipart(discloser, "/disclose", disclosure_fields(csrf_token(page), "No script. " + MARKER))
    assert response.status_code == 200 and receipt_from(response.text)


CHILD_HOARDER = """
import sys
from pathlib import Path
from portal.core.config import load_settings
from portal.web.app import create_app
from tests.guard.test_flood import hoard_places
app = create_app(settings=load_settings(Path(sys.argv[1]), tickets_per_minute=2, ticket_line_seconds=60,
                                        no_script_wait_seconds=0))
app.config["TESTING"] = True
print(hoard_places(app.test_client(), 4))
"""


def test_every_process_of_an_installation_shares_one_line(installation):
    """Two server processes on one data directory (as `portal serve`'s workers are): places one
    takes are gone for the other."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    other = subprocess.run([sys.executable, "-c", CHILD_HOARDER, str(installation.data_dir)],
                           capture_output=True, text=True, cwd=root, timeout=120,
                           env={**os.environ, "PYTHONPATH": str(root)})
    assert other.stdout.strip() == "[400, 503, 503, 503]", other.stderr
    app = app_with(installation, tickets_per_minute=2, ticket_line_seconds=60, no_script_wait_seconds=0)
    assert hoard_places(app.test_client(), 1) == [503]  # this process's first comer waits its turn


# --- the budget on new cases ---------------------------------------------------------------------

def test_disclosures_as_fast_as_a_client_can_get_the_budget_then_need_the_higher_proof(installation):
    app = app_with(installation, cases_per_day=5, pow_bits=3, pow_flood_bits=9, tickets_per_minute=6,
                   no_script_wait_seconds=0)
    # The flooder fetches a dozen forms while the portal is calm, solves their cheap proofs, then
    # sends them all as fast as it can.
    flooders = [app.test_client() for _ in range(12)]
    pages = [flooder.get("/disclose").text for flooder in flooders]
    assert {bits_of(challenge_from(page)) for page in pages} == {3}
    # Each pays the cheap price only (a solution that happened to reach the flood price would pay it).
    answers = [disclose(flooder, f"spam {i}", script=True, page=page, below=9)
               for i, (flooder, page) in enumerate(zip(flooders, pages))]
    codes = [answer.status_code for answer in answers]
    assert codes == [200] * 5 + [503] * 7  # the day's budget at the cheap cost, then no more
    for i, answer in enumerate(answers[5:], start=5):  # each told the higher price, its text kept
        assert answer.headers["Retry-After"] and f"spam {i}" in answer.text
        assert bits_of(challenge_from(answer.text)) == 9
    # Genuine disclosers in the same minute still go in: with script at the higher cost, and
    # without script from the line, nothing typed lost on the way.
    genuine = app.test_client()
    assert disclose(genuine, "A genuine one. " + MARKER, script=True).status_code == 200
    # Without script: the flood's page loads took no place in the line, so this one goes in from
    # the line at once (a page load proves no one is waiting).
    patient = app.test_client()
    assert disclose(patient, "Without script. " + MARKER, script=False).status_code == 200

    officer = app.test_client()
    assert sign_in(officer, installation.officer).status_code == 303
    inbox = officer.get("/console/").text
    banner = re.search(r'<section class="notice" id="flood"[^>]*data-cases="(\d+)" data-budget="(\d+)"', inbox)
    assert banner and banner.groups() == ("7", "5")
    assert "1 sent with the higher proof" in inbox and "1 after waiting in line" in inbox
    assert not re.search(r"\d\d:\d\d", banner.group(0) + inbox[banner.end():inbox.find("</section>", banner.end())])


def test_idle_portal_shows_officers_no_flood(app, installation):
    assert disclose(app.test_client(), script=True).status_code == 200
    # Junk proofs cost the portal next to nothing: they alone raise no banner (review, M1).
    junk = app.test_client()
    page = junk.get("/status").text
    head, mac = challenge_from(page).rsplit(".", 1)
    for _ in range(3):
        drop_ticket(junk, "status")
        answer = junk.post("/status", data={"csrf_token": csrf_token(page), "receipt": well_formed_receipt(),
                                             "pow_challenge": head + "." + "0" * len(mac), "pow_solution": "0"})
        assert answer.status_code == 503, answer.status_code
    officer = app.test_client()
    assert sign_in(officer, installation.officer).status_code == 303
    assert 'id="flood"' not in officer.get("/console/").text


def test_a_no_script_discloser_sent_back_for_the_pages_short_wait_raises_no_flood_banner(
        installation, monkeypatch):
    # The ordinary no-script path (review of issue 25, M3): the form is sent before the page's few
    # seconds are up, is asked to come back, then goes in. That is not load: officers see no flood.
    app = app_with(installation, no_script_wait_seconds=3)
    client = app.test_client()
    too_soon = disclose(client, "Sent at once. " + MARKER, script=False, page=client.get("/disclose").text)
    assert too_soon.status_code == 503
    later = time.time() + 4
    monkeypatch.setattr(time, "time", lambda: later)
    sent = post_multipart(client, "/disclose", disclosure_fields(csrf_token(too_soon.text), "Sent at once."))
    assert sent.status_code == 200
    officer = app.test_client()
    assert sign_in(officer, installation.officer).status_code == 303
    assert 'id="flood"' not in officer.get("/console/").text
    # A full line is load, and is shown.
    full = app_with(installation, tickets_per_minute=2, ticket_line_seconds=60, no_script_wait_seconds=0)
    assert hoard_places(full.test_client(), 4) == [400, 503, 503, 503]
    late = full.test_client()
    page = late.get("/status").text
    assert late.post("/status", data={"csrf_token": csrf_token(page),
                                      "receipt": well_formed_receipt()}).status_code == 503
    officer = full.test_client()
    assert sign_in(officer, installation.officer).status_code == 303
    inbox = officer.get("/console/").text
    counted = re.search(r"Asked to come back a little later: (\d+)\.", inbox)
    assert 'id="flood"' in inbox and counted and int(counted.group(1)) >= 3  # the places taken


def test_the_no_script_line_gives_places_at_a_fixed_rate(installation, monkeypatch):
    app = app_with(installation, tickets_per_minute=60, ticket_line_seconds=5, no_script_wait_seconds=0)
    client = app.test_client()
    frozen = time.time()
    monkeypatch.setattr(time, "time", lambda: frozen)  # everyone comes back in the same instant
    pages = []
    for _ in range(8):  # all fetched before anyone came back: each page's ticket waits 0
        page = client.get("/status").text
        pages.append((csrf_token(page), ticket_cookie(client, "status").value))
    waits = []
    for token, ticket in pages:
        client.set_cookie(ticket_name("status"), ticket)
        answer = client.post("/status", data={"csrf_token": token, "receipt": well_formed_receipt()})
        waits.append(int(answer.headers.get("Retry-After", 0)) if answer.status_code == 503 else 0)
    # One a second: now, then one, two... five seconds ahead (rounded up); then the line is full.
    assert waits[0] == 0 and all(wait >= 1 for wait in waits[1:])
    assert [b - a for a, b in zip(waits[1:], waits[2:6])] == [1, 1, 1, 1]
    assert waits[6] >= 1 and waits[7] >= 1


def test_a_disclosure_spends_the_days_budget_when_its_case_is_stored_not_when_it_pays(installation):
    """Issue 22 review, M3: a disclosure that pays and is then refused (here every officer of the
    channel excluded, refused after its payment) spends none of the day's budget on new cases; a
    stored one spends one, and only then does the next need the flood proof."""
    from portal.core.context import open_context
    from portal.guard import flood
    from tests.support.conflicts import checkbox_value

    app = app_with(installation, cases_per_day=1, pow_bits=3, pow_flood_bits=9)

    def counted() -> int:
        return flood.today(open_context(installation.data_dir)).cases

    for _ in range(3):  # three paid with script, each refused after paying: every reader excluded
        client = app.test_client()
        page = client.get("/disclose").text
        drop_ticket(client, "disclose")
        fields = (disclosure_fields(csrf_token(page), "Excluding everyone. " + MARKER)
                  + [("exclude", checkbox_value(page, "Ana Officer"))] + solved(page, below=9))
        answer = post_multipart(client, "/disclose", fields)
        assert answer.status_code == 400 and "Excluding everyone." in answer.text
    assert counted() == 0
    client = app.test_client()
    page = client.get("/disclose").text
    assert bits_of(challenge_from(page)) == 3  # the budget is untouched: the idle price
    assert disclose(client, script=True, page=page, below=9).status_code == 200
    assert counted() == 1
    assert bits_of(challenge_from(app.test_client().get("/disclose").text)) == 9  # now spent

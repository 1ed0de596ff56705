"""The no-script line (issue 22, portal.guard.tickets): a ticket carries a wait as long as the line
is expected to be; a place is taken only by a ticket that comes back after its wait; a placed
ticket is void soon after its turn, and the wait told to a newcomer comes from how often placed
tickets actually came back. A ticket past its expiry is refused as such, never taken for a new one.

Counts, never the real clock: the time is injected (time.time) and moved by the test."""
from __future__ import annotations

import re
import threading
import time

import pytest

from portal.guard import proofs, spent_marks, tickets
from portal.web import context
from tests.conftest import MARKER
from tests.guard.test_flood import app_with, well_formed_receipt
from tests.support import csrf_token, disclosure_fields, post_multipart, receipt_from
from tests.support.proofs import ticket_cookie, ticket_name


BUSY = "Many people are using the portal just now"  # the notice of a long line (_proof.html)


@pytest.fixture
def clock(monkeypatch):
    now = [float(int(time.time()))]
    monkeypatch.setattr(time, "time", lambda: now[0])
    return now


def page_ticket(client, path: str = "/status") -> tuple[str, str, int]:
    """A form page's CSRF token, its ticket and the wait the ticket carries (seconds)."""
    page = client.get(path).text
    value = ticket_cookie(client, path.strip("/")).value
    valid_from, wait = (int(n) for n in value.split(".")[2:4])
    return csrf_token(page), value, wait


def send_status(client, token: str, ticket: str):
    client.set_cookie(ticket_name("status"), ticket)
    return client.post("/status", data={"csrf_token": token, "receipt": well_formed_receipt()})


def held(client) -> str:
    return ticket_cookie(client, "status").value


def test_one_session_sending_back_a_lines_worth_of_page_tickets_does_not_hold_the_line(installation,
                                                                                    clock):
    """Found in review: one session fetched ~460 pages (the shipped line's 450 places and a few
    more), sent each ticket back once its wait was over, never used the places it got, and every
    no-script discloser was told to come back in 15 minutes for as long as those places lasted.
    The same shape on a line of 90 s (45 places) instead of 900 s: the same code, a tenth of the
    requests."""
    # The shipped rate and wait (30 turns a minute, 3 s), a line of 90 s.
    line = 90
    app = app_with(installation, tickets_per_minute=30, ticket_line_seconds=line, no_script_wait_seconds=3)
    places, past_full = line // 2, 9  # a place every 2 s up to the line's end, and 9 more
    flooder = app.test_client()
    hoard = [page_ticket(flooder, "/disclose") for _ in range(1 + places + past_full)]
    assert {wait for _, _, wait in hoard} == {3}  # the line was empty when each was issued
    clock[0] += 4
    codes, placed, full = [], [], 0
    for i, (token, value, _) in enumerate(hoard):
        flooder.set_cookie(ticket_name("disclose"), value)
        answer = post_multipart(flooder, "/disclose", disclosure_fields(token, f"flood {i}"))
        codes.append(answer.status_code)
        now_held = ticket_cookie(flooder, "disclose").value
        if answer.status_code == 503 and now_held.startswith("t2."):
            placed.append(int(answer.headers["Retry-After"]))
        elif answer.status_code == 503:
            full += now_held == value  # the line full: its ticket kept for later
    assert codes.count(200) == 1 and codes.count(503) == places + past_full  # one turn now: one case
    # 45 placed tickets, two seconds apart up to the line's end; 9 told the line is full.
    assert placed == list(range(2, line + 2, 2)) and full == past_full
    # At once, before any of those places has had its turn, the line is not yet measured: a
    # newcomer is told honestly that it is long (the come-back notice; sending keeps the text).
    early = app.test_client()
    early_page = early.get("/disclose").text
    assert BUSY in early_page and int(ticket_cookie(early, "disclose").value.split(".")[3]) == line
    # The flooder never uses its places. Each is void 30 s after its turn; once four are known
    # void (about 40 s on), the share that came back is 0 and the places left cost no one a wait.
    clock[0] += 60
    # The one told the whole line, sending after a minute of typing, is not held to that forecast.
    sent = post_multipart(early, "/disclose", disclosure_fields(csrf_token(early_page), "Early. " + MARKER))
    assert sent.status_code == 200 and receipt_from(sent.text)
    genuine = app.test_client()
    page = genuine.get("/disclose").text
    wait = int(ticket_cookie(genuine, "disclose").value.split(".")[3])
    assert wait == 3 and BUSY not in page and "wait 3 seconds" in page  # the idle wait
    clock[0] += 3  # typing pays the wait
    response = post_multipart(genuine, "/disclose", disclosure_fields(csrf_token(page), "No script. " + MARKER))
    assert response.status_code == 200 and receipt_from(response.text)  # through at once


def test_a_client_that_uses_its_places_is_served_in_turn_and_newcomers_wait_behind_it(installation,
                                                                                        clock):
    """Not simply dropping reservations: a client that really uses its places keeps them in order,
    and a newcomer is told a wait as long as those places, so it is served after them, not
    starved by them."""
    app = app_with(installation, tickets_per_minute=2, ticket_line_seconds=300, no_script_wait_seconds=0)
    user = app.test_client()
    hoard = [page_ticket(user) for _ in range(4)]
    codes, places = [], []
    for token, value, _ in hoard:
        answer = send_status(user, token, value)
        codes.append(answer.status_code)
        if answer.status_code == 503:
            places.append((int(answer.headers["Retry-After"]), held(user)))
    assert codes == [400, 503, 503, 503] and [turn for turn, _ in places] == [30, 60, 90]
    newcomer = app.test_client()
    token, value, wait = page_ticket(newcomer)
    assert wait == 120  # behind the three places, each expected to be used (none known unused)
    served = 0
    for _, ticket in places:  # the user comes back at each turn with that turn's placed ticket
        clock[0] += 30
        served += send_status(user, hoard[0][0], ticket).status_code == 400
    assert served == 3
    clock[0] += 30
    assert send_status(newcomer, token, value).status_code == 400  # its wait served: through


def test_a_ticket_that_comes_back_early_is_told_to_wait_and_keeps_its_place(installation, clock):
    app = app_with(installation, tickets_per_minute=2, ticket_line_seconds=300, no_script_wait_seconds=0)
    first, second, now = app.test_client(), app.test_client(), app.test_client()
    first_page, second_page, now_page = page_ticket(first), page_ticket(second), page_ticket(now)
    assert send_status(now, *now_page[:2]).status_code == 400  # the turn now
    placed = send_status(first, *first_page[:2])
    assert placed.status_code == 503 and int(placed.headers["Retry-After"]) == 30
    place = held(first)
    assert place.startswith("t2.")
    behind = send_status(second, *second_page[:2])
    assert int(behind.headers["Retry-After"]) == 60  # the place after it
    clock[0] += 10  # twenty seconds early
    typed = well_formed_receipt()
    early = first.post("/status", data={"csrf_token": first_page[0], "receipt": typed})
    assert early.status_code == 503 and int(early.headers["Retry-After"]) == 20
    assert typed in early.text and re.search(r"again (in|at) ", early.text)
    assert held(first) == place  # the same ticket: its place kept
    clock[0] += 20
    assert send_status(first, first_page[0], place).status_code == 400


def test_a_placed_ticket_not_used_is_void_after_its_turn_and_the_next_one_moves_up(installation, clock):
    app = app_with(installation, tickets_per_minute=1, ticket_line_seconds=600, no_script_wait_seconds=0)
    absent, next_one, now = app.test_client(), app.test_client(), app.test_client()
    absent_page, next_page, now_page = page_ticket(absent), page_ticket(next_one), page_ticket(now)
    assert send_status(now, *now_page[:2]).status_code == 400  # the turn now
    assert int(send_status(absent, *absent_page[:2]).headers["Retry-After"]) == 60
    assert int(send_status(next_one, *next_page[:2]).headers["Retry-After"]) == 120
    absent_place, next_place = held(absent), held(next_one)
    clock[0] += 61  # the absent one's turn came and it did not use it
    # The next one, coming back before its own turn, takes the turn nobody used.
    assert send_status(next_one, next_page[0], next_place).status_code == 400
    clock[0] += tickets.TURN_GRACE_SECONDS  # past the absent one's turn and its grace
    typed = well_formed_receipt()
    absent.set_cookie(ticket_name("status"), absent_place)
    late = absent.post("/status", data={"csrf_token": absent_page[0], "receipt": typed})
    assert late.status_code == 503 and typed in late.text and "has run out" in late.text
    assert held(absent).startswith("t1.")  # a new page's ticket, not its place back


def test_an_expired_ticket_is_refused_as_expired_and_never_taken_for_a_new_one(installation, clock):
    """Found in review: an expired ticket was taken for a fresh page's ticket, so once its spent row
    was deleted (an hour or two on) the same ticket paid again, about once an hour."""
    app = app_with(installation, no_script_wait_seconds=3)
    client = app.test_client()
    token, old, _ = page_ticket(client, "/disclose")
    clock[0] += 4
    assert post_multipart(client, "/disclose", disclosure_fields(token, "First. " + MARKER)).status_code == 200
    fresh = []
    for hours in (1, 2, 3):  # past its expiry, and past the retention of its spent row
        clock[0] += 3600
        client.set_cookie(ticket_name("disclose"), old)
        again = post_multipart(client, "/disclose", disclosure_fields(token, f"Typed {hours}. " + MARKER))
        assert again.status_code == 503 and f"Typed {hours}." in again.text and "has run out" in again.text
        fresh.append(ticket_cookie(client, "disclose").value)
    assert old not in fresh and all(value.startswith("t1.") for value in fresh)
    # The fresh ticket given with the last answer pays, after its short wait.
    clock[0] += 4
    done = post_multipart(client, "/disclose", disclosure_fields(csrf_token(again.text), "Fresh. " + MARKER))
    assert done.status_code == 200 and receipt_from(done.text)


def test_a_ticket_sent_again_after_it_was_spent_takes_no_turn_and_no_place(installation, clock):
    """Found in review: a spent ticket sent again took the turn free (or a place) before its nonce
    was found spent, so one ticket replayed every two seconds held every turn, and replayed while
    no turn was free it added a place each time, lengthening every newcomer's wait."""
    app = app_with(installation, tickets_per_minute=2, ticket_line_seconds=300, no_script_wait_seconds=0)
    attacker, genuine = app.test_client(), app.test_client()
    token, spent, _ = page_ticket(attacker)
    assert send_status(attacker, token, spent).status_code == 400  # served: the turn now
    for _ in range(20):  # at once, no turn free: sent again, it is refused and takes no place
        assert send_status(attacker, token, spent).status_code == 503
    assert page_ticket(genuine)[2] == 30  # the next turn's wait, no more: no place was taken
    clock[0] += 30  # a turn is free again; the attacker sends its spent ticket first
    for _ in range(5):
        assert send_status(attacker, token, spent).status_code == 503
    genuine_token, value, _ = page_ticket(genuine)
    assert send_status(genuine, genuine_token, value).status_code == 400  # the turn was still free


def test_a_placed_ticket_back_at_its_turn_is_not_starved_by_page_tickets_sent_first(installation,
                                                                                   clock):
    """Found in review: any ticket took a free turn, so a client sending a page's ticket the moment
    each turn came free (one request a turn) took every turn, and a placed ticket back at its turn
    was moved on, and on, forever. Now a placed ticket back at or after its turn with no turn free
    is given the next turn, held for it: no page's ticket can take that one."""
    app = app_with(installation, tickets_per_minute=2, ticket_line_seconds=300, no_script_wait_seconds=0)
    grabber, genuine = app.test_client(), app.test_client()
    hoard = [page_ticket(grabber) for _ in range(8)]  # free: one page load each
    token, value, _ = hoard.pop()
    assert send_status(grabber, token, value).status_code == 400  # the turn now
    genuine_token, _, wait = page_ticket(genuine)
    assert wait == 30  # the next turn
    tags = []
    while hoard and not (tags and tags[-1] == "served"):
        clock[0] += 30  # a turn comes free; the grabber sends first, as each turn comes free
        token, value, _ = hoard.pop()
        grabbed = send_status(grabber, token, value).status_code == 400
        answer = send_status(genuine, genuine_token, held(genuine))
        if answer.status_code == 400:
            tags.append("served")
        else:
            assert answer.status_code == 503 and "again" in answer.text
            tags.append(("grabbed " if grabbed else "") + held(genuine)[:2])
    # Its wait over, a place (the turn grabbed); at its place's turn (grabbed again) the next
    # turn is held for it; at that one the grabber is refused and it is served.
    assert tags == ["grabbed t2", "grabbed t3", "served"]


@pytest.fixture
def under_the_lock(monkeypatch):
    """The line's lock and the database's statements, watched: what runs under the line's lock
    (`change` in _SharedLine.update, the same for /dev/shm, this process's memory and PostgreSQL's
    row) and every statement each request's connection executes (SQLite or PostgreSQL), with
    those run while the lock was held."""
    held, seen = threading.local(), {"holds": 0, "statements": [], "under_lock": []}
    real_update = tickets._SharedLine.update

    def update(line_self, change):
        def locked(line):
            held.now, seen["holds"] = True, seen["holds"] + 1
            try:
                return change(line)
            finally:
                held.now = False
        return real_update(line_self, locked)

    real_connect = context.connect

    def connect(*args, **kwargs):
        db = real_connect(*args, **kwargs)
        execute = db.execute

        def watched(statement: str, *args, **kwargs):
            seen["statements"].append(statement)
            if getattr(held, "now", False):
                seen["under_lock"].append(statement)
            return execute(statement, *args, **kwargs)
        db.execute = watched
        return db

    monkeypatch.setattr(tickets._SharedLine, "update", update)
    monkeypatch.setattr(context, "connect", connect)
    return seen


def spent_kept(seen) -> int:
    return sum(s.upper().startswith("INSERT INTO SPENT_PROOFS") for s in seen["statements"])


def test_no_database_statement_runs_while_the_line_is_held(installation, clock, under_the_lock):
    """Issue 22 review, L2: a ticket's nonce was kept as spent (a write transaction, waiting for
    SQLite's write lock and the disk) while the line's lock was held, so every process's line,
    and every page that reads it, waited behind that one commit. Served at once, placed, served
    at its place's turn, and sent again: the line is held many times and never for a statement;
    each nonce spent is kept once, after."""
    app = app_with(installation, tickets_per_minute=2, ticket_line_seconds=300, no_script_wait_seconds=0)
    user = app.test_client()
    hoard = [page_ticket(user) for _ in range(3)]
    codes = [send_status(user, token, value).status_code for token, value, _ in hoard]
    assert codes == [400, 503, 503]  # one turn now; two placed tickets
    places = [held(user)]
    assert under_the_lock["holds"] >= 3 and under_the_lock["under_lock"] == []
    assert spent_kept(under_the_lock) == 3  # the turn and both places: each nonce kept once
    clock[0] += 30
    assert send_status(user, hoard[0][0], places[0]).status_code == 400  # its place's turn
    assert spent_kept(under_the_lock) == 4
    for _ in range(3):  # sent again: refused, nothing more kept
        assert send_status(user, hoard[0][0], hoard[0][1]).status_code == 503
    assert spent_kept(under_the_lock) == 4
    assert under_the_lock["holds"] >= 10 and under_the_lock["under_lock"] == []


def copy_session(source, target, app) -> None:
    name = app.config["SESSION_COOKIE_NAME"]
    target.set_cookie(name, source.get_cookie(name).value)


def test_a_ticket_sent_twice_at_once_takes_one_turn_and_no_place(installation, clock, monkeypatch):
    """The replay race, with the nonce kept after the lock: the same ticket sent again while the
    first is between the line and the database (its turn taken, its nonce not yet kept) is
    refused by the line's own mark, takes no place, and is answered without waiting for the
    first's write."""
    app = app_with(installation, tickets_per_minute=2, ticket_line_seconds=300, no_script_wait_seconds=0)
    first, second = app.test_client(), app.test_client()
    token, value, _ = page_ticket(first)
    copy_session(first, second, app)
    keeping, release = threading.Event(), threading.Event()
    real_keep = proofs.spend_nonce

    def slow_keep(*args):
        keeping.set()
        release.wait(30)  # the first's write, as long as the test holds it
        return real_keep(*args)

    monkeypatch.setattr(proofs, "spend_nonce", slow_keep)
    answers: dict[str, int] = {}

    def send(name, client):
        answers[name] = send_status(client, token, value).status_code

    threads = [threading.Thread(target=send, args=("first", first))]
    threads[0].start()
    assert keeping.wait(30)
    threads.append(threading.Thread(target=send, args=("second", second)))
    threads[1].start()
    threads[1].join(10)
    answered_meanwhile = dict(answers)
    release.set()
    for thread in threads:
        thread.join(30)
    assert answered_meanwhile == {"second": 503}  # refused while the first's write waited
    assert answers == {"first": 400, "second": 503}  # the first served: the turn now
    assert page_ticket(app.test_client())[2] == 30  # the next turn's wait: the second took no place


def test_a_spent_tickets_mark_in_the_line_is_forgotten_once_its_ticket_has_expired(installation,
                                                                                   clock):
    """The line keeps a keyed mark of each nonce spent through it (to refuse a second send before
    the database has its row), and only until the ticket's own coarse expiry: after that it
    could not be replayed anyway (Expired), and the line holds nothing of it."""
    app = app_with(installation, tickets_per_minute=2, ticket_line_seconds=300, no_script_wait_seconds=0)
    settings, user = app.config["PORTAL_SETTINGS"], app.test_client()

    def marks() -> int:
        first = tickets._MARKS + 2
        return tickets._SharedLine(settings, "status").update(
            lambda line: sum(1 for mark in line.values[first:first + spent_marks.SLOTS] if mark))

    token, value, _ = page_ticket(user)
    assert send_status(user, token, value).status_code == 400 and marks() == 1
    clock[0] = int(value.split(".")[4]) + 1  # past the ticket's expiry
    assert send_status(user, token, value).status_code == 503  # refused as past its time
    token, fresh, _ = page_ticket(user)
    assert send_status(user, token, fresh).status_code == 400
    assert marks() == 1  # the new ticket's mark alone: the expired one is gone

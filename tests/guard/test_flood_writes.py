"""The flood's own small writes do not each wait for the disk, and a busy receipt check keeps the
receipt (issue 22).

Every attacking request spends a proof and may count a busy answer: each a write transaction. At
synchronous FULL each commit waited for the disk while holding the write lock, and a genuine
request's write slept in SQLite's busy handler behind them (bench/bench_flood.py: 79-144 ms of a
status check's 185 ms under 128 attackers). Spent proofs and the flood's counts are committed at
synchronous NORMAL (WAL: durable at the next ordinary commit or checkpoint); the case itself, with
its count against the day's budget (written in the case's own transaction), and every other write,
still waits for the disk. Read from the statements each connection runs."""
from __future__ import annotations

import re

import pytest

from portal.core.config import load_settings
from portal.guard import proofs, work_queues
from portal.web import context
from portal.web.app import create_app
from tests.support import csrf_token, disclosure_fields, post_multipart, receipt_from
from tests.support.proofs import drop_ticket, solved

_SYNC = re.compile(r"PRAGMA synchronous\s*=\s*(\w+)", re.IGNORECASE)
_LEVELS = {"0": "OFF", "1": "NORMAL", "2": "FULL", "3": "EXTRA"}


def statements_with_their_sync(monkeypatch) -> list[tuple[str, str]]:
    """(the synchronous level in force, the statement) for every statement a request runs."""
    ran = []
    real_connect = context.connect

    def connect(*args, **kwargs):
        db = real_connect(*args, **kwargs)
        level = ["FULL"]  # the store's setting for every connection

        def seen(statement: str) -> None:
            changed = _SYNC.search(statement)
            if changed:
                level[0] = _LEVELS.get(changed.group(1), changed.group(1).upper())
            ran.append((level[0], " ".join(statement.split())))
        db.conn.set_trace_callback(seen)
        return db

    monkeypatch.setattr(context, "connect", connect)
    return ran


def disclose(client):
    page = client.get("/disclose").text
    drop_ticket(client, "disclose")  # paid with the page's proof, as its script does
    return post_multipart(client, "/disclose", disclosure_fields(csrf_token(page), "Seen.") + solved(page))


def levels_of(ran, start: str) -> list[str]:
    return [level for level, statement in ran if statement.upper().startswith(start)]


@pytest.mark.sqlite_only(reason="SQLite's synchronous pragma per statement; PostgreSQL's counterpart is"
                                " tests/store/test_postgres_connection.py::test_housekeeping_waits_briefly"
                                "_and_the_floods_writes_do_not_wait_for_the_disk")
def test_a_spent_proof_and_the_flood_count_do_not_wait_for_the_disk_and_the_case_does(
        client, monkeypatch):
    ran = statements_with_their_sync(monkeypatch)
    page = client.get("/disclose").text
    drop_ticket(client, "disclose")
    paid = solved(page)
    answer = post_multipart(client, "/disclose", disclosure_fields(csrf_token(page), "Seen.") + paid)
    assert answer.status_code == 200 and receipt_from(answer.text)
    assert levels_of(ran, "INSERT INTO SPENT_PROOFS") == ["NORMAL"]
    # Today's count of new cases is written in the case's own transaction, so it waits with it.
    counts = levels_of(ran, "INSERT INTO THROTTLE")
    assert counts and set(counts) == {"FULL"}
    cases = levels_of(ran, "INSERT INTO CASES")
    assert cases and set(cases) == {"FULL"}  # the disclosure itself still waits for the disk
    assert [level for level, statement in ran if _SYNC.search(statement)][-1] == "FULL"  # set back
    # The flood's own counts (here a proof sent again, refused) do not wait for the disk.
    ran.clear()
    page = client.get("/disclose").text
    drop_ticket(client, "disclose")
    again = post_multipart(client, "/disclose", disclosure_fields(csrf_token(page), "Again.") + paid)
    assert again.status_code == 503
    refused = [level for level, statement in ran if "'flood:day:refused'" in statement
               and statement.upper().startswith("INSERT INTO THROTTLE")]
    assert refused and set(refused) == {"NORMAL"}


def test_a_status_check_finding_every_receipt_place_taken_keeps_the_receipt_and_says_when(
        installation, monkeypatch):
    # A calm load in this process (earlier tests raised it): the page's proof asks no reserved lane.
    monkeypatch.setattr(proofs, "_process", proofs._Process())
    # bench/bench_flood.py: a no-script status check under the flood met the bare busy page, its
    # receipt gone. Another server process's check holds the one place (the lock file in /dev/shm).
    # No reserved lane (pow_lane_bits=0): a proof that happened to reach the lane's bits under the
    # load left by earlier tests would take the lane's own place and miss the one held here.
    app = create_app(settings=load_settings(installation.data_dir, receipt_share=1, pow_lane_bits=0))
    app.config["TESTING"] = True
    client = app.test_client()
    receipt = receipt_from(disclose(client).text)
    settings = app.config["PORTAL_SETTINGS"]
    with work_queues.shared_place(settings, work_queues.RECEIPT, 1, deadline=0):
        page = client.get("/status").text
        drop_ticket(client, "status")
        busy = client.post("/status", data={"csrf_token": csrf_token(page), "receipt": receipt}
                           | dict(solved(page)))
    assert busy.status_code == 503 and int(busy.headers["Retry-After"]) > 0
    assert receipt in busy.text and "try again in a few seconds" in busy.text
    page = client.get("/status").text
    drop_ticket(client, "status")
    opened = client.post("/status", data={"csrf_token": csrf_token(page), "receipt": receipt}
                         | dict(solved(page)))
    assert opened.status_code == 303  # the place free again, the same receipt opens

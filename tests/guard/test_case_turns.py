"""Past the day's budget on new cases, a flood gets the budget's rate and no more, with script or
without (issue 22, fresh review H1: the no-script line gave a flooder 30 cases a minute for no work,
and the capped proof was milliseconds of native code). Counts over a simulated span, on the clock
the tests move: no sleeps, no wall-clock ratios."""
from __future__ import annotations

import re
import time

from portal.guard import case_turns
from tests.conftest import MARKER
from tests.guard.test_flood import app_with, disclose
from tests.support import csrf_token, disclosure_fields, post_multipart, receipt_from
from tests.support.proofs import drop_ticket, solved

BUDGET = 48  # a turn past it every half hour (86,400 / 48 seconds)


def test_past_the_budget_a_flood_with_or_without_script_gets_only_the_budgets_rate(
        installation, monkeypatch):
    app = app_with(installation, cases_per_day=BUDGET, tickets_per_minute=30,
                   no_script_wait_seconds=3, pow_bits=3, pow_flood_bits=9)
    step = case_turns.step_seconds(app.config["PORTAL_SETTINGS"])
    assert step == 1800
    now = [time.time()]
    monkeypatch.setattr(time, "time", lambda: now[0])

    # Two flooders, one running no script (the page's ticket, no work at all) and one solving
    # each page's proof, each fetching a form and sending it every 20 s for 10 minutes.
    codes = {"no script": [], "script": []}
    for i in range(30):
        for kind in codes:
            client = app.test_client()
            page = client.get("/disclose").text
            fields = disclosure_fields(csrf_token(page), f"spam {kind} {i} " + MARKER)
            if kind == "script":
                drop_ticket(client, "disclose")
                fields += solved(page)
            else:
                now[0] += 3  # the page's short wait
            codes[kind].append(post_multipart(client, "/disclose", fields).status_code)
        now[0] += 20
    stored = sum(kind.count(200) for kind in codes.values())
    # The day's budget, then BURST turns, then none for the rest of the ten minutes (before the
    # fix each flooder stored all 30 of its forms).
    assert stored == BUDGET + case_turns.BURST
    assert all(set(kind) == {200, 503} for kind in codes.values())

    # A genuine discloser without script in the same window: told when to come back (in about
    # half an hour, at a time with its zone named), nothing typed lost.
    genuine = app.test_client()
    page = genuine.get("/disclose").text
    assert re.search(r"sent in about \d+ minutes", page)  # told before typing
    now[0] += 3
    told = post_multipart(genuine, "/disclose", disclosure_fields(csrf_token(page), "What I saw."))
    assert told.status_code == 503 and "What I saw." in told.text
    wait = int(told.headers["Retry-After"])
    assert 0 < wait <= step
    assert re.search(r"again at \d\d:\d\d \w+, in about \d+ minutes", told.text)
    # Headed as what it is, not as a problem (review, L2), and the files to choose again.
    assert "<h2>Not sent yet</h2>" in told.text and "There is a problem" not in told.text
    assert "Please choose any files again." in told.text
    # A flooder sending meanwhile takes no turn from the one that was told to wait: none is free.
    assert disclose(app.test_client(), "more spam", script=True).status_code == 503

    # Back when told, with the ticket the page gave (good until then): it goes in.
    now[0] += wait
    back = post_multipart(genuine, "/disclose", disclosure_fields(csrf_token(told.text), "What I saw."))
    assert back.status_code == 200 and receipt_from(back.text)
    # And the turn it took is the only one: the next flooder waits again.
    assert disclose(app.test_client(), "spam again", script=False).status_code == 503


def test_status_checks_keep_their_own_turns_past_the_budget(installation, monkeypatch):
    app = app_with(installation, cases_per_day=1, no_script_wait_seconds=0, pow_bits=3,
                   pow_flood_bits=9)
    now = [time.time()]
    monkeypatch.setattr(time, "time", lambda: now[0])
    receipts = []
    for _ in range(1 + case_turns.BURST):  # the budget and the burst
        answer = disclose(app.test_client(), script=True)
        assert answer.status_code == 200
        receipts.append(receipt_from(answer.text))
    assert disclose(app.test_client(), script=True).status_code == 503
    for receipt in receipts:  # each discloser's status check, with script or without
        for script in (True, False):
            client = app.test_client()
            page = client.get("/status").text
            fields = {"csrf_token": csrf_token(page), "receipt": receipt}
            if script:
                drop_ticket(client, "status")
                fields |= dict(solved(page))
            assert client.post("/status", data=fields).status_code == 303
            now[0] += 2  # the no-script line's next turn (30 a minute)

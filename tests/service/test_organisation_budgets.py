"""Budgets per organisation under the process's cap (issue 29): in a process serving many
organisations, one organisation's flood of key derivations or uploads takes at most its share
(Settings.organisation_share, set by the dispatcher) of each queue and of the upload slots, and is
refused at once past it; the other organisations still get a place, through HTTP."""
from __future__ import annotations

import contextlib
import dataclasses
import os
import threading

from werkzeug.test import Client

from portal.core.config import load_settings
from portal.core.context import open_context
from portal.guard import proofs, upload_slots, work_queues
from portal.service.dispatch import ORGANISATION_SHARE, service_app
from portal.service.registry import data_dir_of
from tests.conftest import add_account
from tests.service.test_organisations import make_service, portal
from tests.service.test_service_operator import sign_in
from tests.support import csrf_token, disclosure_fields, post_multipart


def settings_of(wsgi, slug):
    return wsgi.organisation_app(slug).config["PORTAL_SETTINGS"]


def test_one_organisations_sign_in_flood_leaves_the_line_to_the_others(tmp_path):
    service = make_service(tmp_path)
    people = {slug: add_account(data_dir_of(service, slug), "admin", f"ada@{slug}.govt.nz", "Ada Admin")
              for slug in ("a", "b")}
    wsgi = service_app(service)
    a, b = settings_of(wsgi, "a"), settings_of(wsgi, "b")
    assert a.organisation_share == b.organisation_share == ORGANISATION_SHARE
    line = work_queues.queue(a, work_queues.SIGN_IN)
    assert line is work_queues.queue(b, work_queues.SIGN_IN)  # one queue: the process's cap
    # A single installation may fill the whole queue; an organisation of a service its share.
    whole = line.size + line.max_waiting
    assert work_queues.organisation_places(load_settings(data_dir_of(service, "a")), work_queues.SIGN_IN) == whole
    share = work_queues.organisation_places(a, work_queues.SIGN_IN)
    assert share == max(1, whole * ORGANISATION_SHARE // 100) < whole

    def wrong_passphrase(answers, person, code):
        client = Client(wsgi)
        page = client.get("/o/a/console/login")
        answers.append(client.post("/o/a/console/login", data={
            "csrf_token": csrf_token(page.text), "email": person.email,
            "passphrase": "not the passphrase", "totp": code}))

    # Accounts of a's, each sending a wrong passphrase with a valid, unused code, so that each
    # gets as far as a derivation (a code is used up before it, and a later step's use refuses an
    # earlier one's: so one account each).
    flooders = [add_account(data_dir_of(service, "a"), "admin", f"flood{i}@a.govt.nz", f"Flood {i}")
                for i in range(line.max_waiting)]

    with contextlib.ExitStack() as held:
        held.enter_context(work_queues.slot(a, work_queues.SIGN_IN))  # a's derivation running
        for _ in range(share - 1):  # and a's others waiting: all of its places
            held.enter_context(work_queues.organisation_budget(a, work_queues.SIGN_IN))
        # A flood of a's wrong passphrases, all at once: without a budget they would fill the
        # line; with one each is answered busy without taking a place in it.
        flood: list = []
        flooding = [threading.Thread(target=wrong_passphrase, args=(flood, person, person.code()))
                    for person in flooders]
        for thread in flooding:
            thread.start()
        while len(flood) + line.waiting() < len(flooding):
            pass
        assert line.waiting() == 0
        # b's administrator waits in the line a could not fill, and signs in once the slot is free.
        answers = []
        signing_in = threading.Thread(target=lambda: answers.append(sign_in(Client(wsgi), "/o/b", people["b"])))
        signing_in.start()
        while line.waiting() < 1 and not answers:
            pass
        # Refusals past a budget do not raise the reserved lane's price for anyone.
        refusals = work_queues.lane_refusals(a)
        for _ in range(share):
            held.enter_context(work_queues.organisation_budget(a, work_queues.LANE))
        with contextlib.suppress(work_queues.Busy):
            with work_queues.slot(a, work_queues.LANE):
                raise AssertionError("a's lane budget is spent")
        assert work_queues.lane_refusals(a) == refusals
    for thread in (*flooding, signing_in):
        thread.join()
    assert [answer.status_code for answer in flood] == [503] * len(flooding)
    assert all(int(answer.headers["Retry-After"]) > 0 for answer in flood)
    assert answers[0].status_code == 303


def big_disclosure(client, slug):
    form = client.get(f"/o/{slug}/disclose")
    return post_multipart(client, f"/o/{slug}/disclose", disclosure_fields(csrf_token(form.text), "A file."),
                          [("attachments", "big.bin", os.urandom(100 * 1024))])


def test_one_organisations_slow_uploads_leave_upload_slots_to_the_others(tmp_path):
    service = make_service(tmp_path)
    wsgi = service_app(service)
    a = settings_of(wsgi, "a")
    slots = upload_slots.slots_for(a)
    most = max(1, slots.size * ORGANISATION_SHARE // 100)
    assert 1 <= most < slots.size
    a_dir = str(a.data_dir.resolve())
    client = Client(wsgi)
    held = [slots.acquire(a_dir, most) for _ in range(most)]  # a's uploads, arriving within their grace
    try:
        assert all(held) and slots.acquire(a_dir, most) is None
        # a's next upload is refused before its body is read; b's is taken.
        refused = big_disclosure(client, "a")
        assert refused.status_code == 503 and int(refused.headers["Retry-After"]) > 0
        assert big_disclosure(client, "b").status_code == 200
        # Past its share, a may pre-empt only a slow upload of its own, never another's.
        others = [slots.acquire("elsewhere") for _ in range(slots.size - most)]
        assert all(others)
        for holder in others:
            holder.started -= 3600  # long past the grace with nothing received: below the rate
        assert slots.acquire(a_dir, most) is None and not any(h.preempted for h in others)
        held[0].started -= 3600
        taken = slots.acquire(a_dir, most)
        assert taken is not None and held[0].preempted and not any(h.preempted for h in others)
        held[0] = taken
    finally:
        for holder in held + others:
            slots.release(holder)


def test_one_organisations_lane_refusals_raise_its_own_lane_price_and_a_spread_flood_everyones(tmp_path, monkeypatch):
    service = make_service(tmp_path)
    portal("org", "create", "c", "--name", "Council C", "--service", str(service), "--insecure-fast-kdf")
    wsgi = service_app(service)
    shipped = [settings_of(wsgi, slug) for slug in ("a", "b", "c")]
    # The rise is measured below the cap on what a script is asked (pow_script_max_bits), which
    # the last assertion holds on its own.
    a, b, c = (dataclasses.replace(s, pow_script_max_bits=s.pow_script_max_bits + 8) for s in shipped)
    monkeypatch.setattr(work_queues, "_refusals", {"minute": 0, "now": 0, "before": 0})
    monkeypatch.setattr(work_queues, "_organisation_refusals", {})
    databases = {}

    def lane_price(settings):
        if settings.data_dir not in databases:
            databases[settings.data_dir] = open_context(settings.data_dir)
        return proofs.lane_bits(databases[settings.data_dir].db, settings, "status")

    def turned_away(settings, times):
        for _ in range(times):
            with contextlib.suppress(work_queues.Busy):
                with work_queues.slot(settings, work_queues.LANE, wait=0):
                    raise AssertionError("the lane is full")

    calm = {name: lane_price(s) for name, s in (("a", a), ("b", b), ("c", c))}
    assert calm["a"] == calm["b"] == calm["c"]
    lane = work_queues.queue(a, work_queues.LANE)
    taken = 0
    try:
        while lane.acquire(0):  # the lane's every slot running someone's check
            taken += 1
        # a's flood fills the lane: a's lane price rises, by a bit a doubling; b's and c's do not.
        turned_away(a, proofs.LANE_CALM_REFUSALS * 4)
        assert work_queues.lane_refusals(a) == proofs.LANE_CALM_REFUSALS * 4
        assert work_queues.lane_refusals(b) == 0
        assert lane_price(a) == calm["a"] + 3
        assert lane_price(b) == calm["b"] and lane_price(c) == calm["c"]
        # The same flood spread over b and c too: each pays, b as much as a spread of its size.
        turned_away(b, proofs.LANE_CALM_REFUSALS)
        turned_away(c, proofs.LANE_CALM_REFUSALS)
        assert lane_price(a) == calm["a"] + 3
        assert lane_price(b) == lane_price(c) == calm["b"] + 2  # 4 refused elsewhere than at a
        # With the shipped cap the lane never asks a script more than one bit below it.
        assert lane_price(shipped[0]) == shipped[0].pow_script_max_bits - 1 < calm["a"] + 3
    finally:
        for _ in range(taken):
            lane.release()
        for ctx in databases.values():
            ctx.db.conn.close()
